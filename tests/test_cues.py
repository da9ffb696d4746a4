"""Cue policy and camera check: one cue at a time, gaps, safety first, no nagging, summaries."""

from __future__ import annotations

import numpy as np
import pytest

from formcheck.assess import Finding, RepAssessment
from formcheck.cues import (
    CuePolicy,
    CueTiming,
    brightness,
    camera_problems,
    make_cue,
    rep_summary,
    rounding_cue,
    set_summary,
)
from formcheck.pose import Pose
from formcheck.reps import Rep
from formcheck.verdict import Verdict, Viewing, not_judged


def run(policy: CuePolicy, offers: dict[float, list], until: float, step: float = 0.1) -> list:
    """Offer cues at the given times, poll every `step` seconds; (time, code) delivered."""
    out = []
    for i in range(int(round(until / step)) + 1):
        t = round(i * step, 3)
        for cue in offers.get(t, []):
            policy.offer(cue, t)
        cue = policy.poll(t)
        if cue is not None:
            out.append((t, cue.code))
    return out


def assessment(
    index: int, rounding: bool | None, peak: float | None = 18.0, confidence: float = 0.8
) -> RepAssessment:
    """A rep assessment with the given verdict (None: not judged, the view off side-on)."""
    rep = Rep(index, index * 3.0, index * 3.0 + 1.0, index * 3.0 + 2.0, 1.0)
    if rounding is None:
        verdict = not_judged("oblique_view", Viewing("oblique", 45.0))
    else:
        verdict = Verdict("rounded" if rounding else "flat", confidence, 0.9 if rounding else 0.1)
    findings = [Finding("lumbar_rounding", 0, 1, "medium", "x")] if rounding else []
    values = dict(
        rep=rep,
        max_lumbar_flexion_deg=peak,
        max_lumbar_t=None,
        max_hip_flexion_deg=90.0,
        hip_flexion_range_deg=80.0,
        max_thoracic_flexion_deg=None,
        max_back_bend_deg=None,
        lumbar_share=0.2,
        verdict=verdict,
        spine_coverage=1.0,
        descent_s=1.0,
        ascent_s=1.0,
        findings=findings,
    )
    return RepAssessment(
        **{k: v for k, v in values.items() if k in RepAssessment.__dataclass_fields__}
    )


def test_one_cue_at_a_time_safety_first() -> None:
    policy = CuePolicy()
    offers = {0.0: [make_cue("camera_ok"), rounding_cue(1, "high"), make_cue("camera_side_on")]}
    said = run(policy, offers, until=1.0)
    assert said == [(0.0, "rounding")]  # the others wait for the gap and then expire


def test_gap_after_a_cue_then_the_waiting_cue() -> None:
    policy = CuePolicy(CueTiming(gap_s=2.0))
    offers = {0.0: [make_cue("camera_ok")], 0.5: [rep_summary(assessment(1, False))]}
    said = run(policy, offers, until=4.0)
    assert said == [(0.0, "camera_ok"), (2.0, "rep_summary")]


def test_safety_cue_may_follow_sooner_than_other_cues() -> None:
    policy = CuePolicy(CueTiming(gap_s=2.0, safety_gap_s=1.0))
    said = run(policy, {0.0: [make_cue("camera_ok")], 0.2: [rounding_cue(1, "medium")]}, 3.0)
    assert said == [(0.0, "camera_ok"), (1.0, "rounding")]


def test_stale_cues_expire() -> None:
    policy = CuePolicy(CueTiming(gap_s=3.0))
    said = run(policy, {0.0: [make_cue("camera_ok")], 0.1: [make_cue("camera_side_on")]}, 5.0)
    assert said == [(0.0, "camera_ok")]  # a camera cue is not said 3 s late


def test_fault_said_once_per_rep_and_again_only_if_it_persists() -> None:
    policy = CuePolicy()
    # the same fault offered on every frame of rep 1, then in rep 2
    offers = {round(t, 1): [rounding_cue(1, "medium")] for t in np.arange(0.0, 2.0, 0.1)}
    offers.update({round(t, 1): [rounding_cue(2, "medium")] for t in np.arange(3.0, 5.0, 0.1)})
    said = run(policy, offers, until=6.0)
    assert said == [(0.0, "rounding"), (3.0, "rounding")]


def test_withdrawn_fault_is_not_said_late() -> None:
    policy = CuePolicy(CueTiming(gap_s=2.0, safety_gap_s=1.0))
    policy.offer(make_cue("camera_ok"), 0.0)
    assert policy.poll(0.0).code == "camera_ok"
    policy.offer(rounding_cue(1, "high"), 0.5)
    policy.withdraw("rounding")  # the rep ended before the gap was over
    assert all(policy.poll(t) is None for t in (1.0, 1.5, 2.5))


def test_camera_problem_repeats_only_after_a_pause() -> None:
    policy = CuePolicy(CueTiming(camera_repeat_s=8.0))
    offers = {round(t, 1): [make_cue("camera_step_back")] for t in np.arange(0.0, 12.0, 0.1)}
    said = run(policy, offers, until=12.0)
    assert said == [(0.0, "camera_step_back"), (8.0, "camera_step_back")]


def test_rep_summary_texts() -> None:
    assert rep_summary(assessment(5, True, 18.4)).text == "Rep 5: back rounded 18° at the bottom"
    assert rep_summary(assessment(5, True, 18.4)).severity == "medium"
    assert rep_summary(assessment(3, False)).text == "Rep 3: flat back"
    # Near the line between flat and rounded, the verdict is told as likely.
    assert rep_summary(assessment(3, False, confidence=0.3)).text == "Rep 3: probably flat back"
    low = rep_summary(assessment(5, True, 18.4, confidence=0.3))
    assert low.text == "Rep 5: back probably rounded 18° at the bottom"
    # A rep the method could not judge is never called flat.
    assert rep_summary(assessment(4, None)).text == "Rep 4: not judged — film side-on"
    # A loose top bows the outline without the lower back flexing: say what to change.
    conflict = assessment(6, None)
    conflict.verdict = not_judged("outline_conflict")
    assert rep_summary(conflict).text == "Rep 6: not judged — a fitted top, please"


def test_set_summary_counts_rounded_reps_and_names_the_worst() -> None:
    reps = [assessment(1, False), assessment(2, True, 17.0), assessment(3, True, 24.0)]
    fatigue = [Finding("fatigue_rounding", 0, 1, "medium", "x")]
    cue = set_summary(reps, fatigue)
    assert cue.text.startswith("Set done: 3 reps, 2 with a rounded back")
    assert "worst rep 3, 24°" in cue.text and "rounding began at rep 2" in cue.text
    assert set_summary([assessment(1, False)]).text == "Set done: 1 rep, back flat on every rep"
    unsure = set_summary([assessment(1, False, confidence=0.3), assessment(2, False)])
    assert unsure.text == "Set done: 2 reps, back probably flat on every rep"
    assert set_summary([]).text == "Set done: no reps counted"
    unjudged = set_summary([assessment(1, None), assessment(2, None)])
    assert unjudged.text == "Set done: 2 reps, back not judged on 2 — film side-on"


def standing_pose(width: int = 360, height: int = 640, shift: float = 0.0) -> Pose:
    """A side-view standing figure filling most of a portrait frame."""
    lm = np.zeros((33, 2))
    ys = {0: 0.12, 7: 0.13, 8: 0.13, 11: 0.25, 12: 0.25, 23: 0.52, 24: 0.52, 25: 0.7, 26: 0.7}
    ys.update({27: 0.86, 28: 0.86, 29: 0.88, 30: 0.88, 31: 0.88, 32: 0.88})
    for i, y in ys.items():
        lm[i] = [(0.5 + shift) * width, y * height]
    return Pose(landmarks=lm, visibility=np.full(33, 0.95), image_size=(width, height))


@pytest.mark.parametrize(
    ("pose", "grey", "yaw", "expected"),
    [
        (standing_pose(), 120.0, 10.0, []),
        (standing_pose(), 20.0, 10.0, []),  # dim, but the lifter is seen well
        (standing_pose(), 5.0, 10.0, ["camera_light"]),
        (standing_pose(shift=0.6), 20.0, 10.0, ["camera_light", "camera_step_back"]),
        (None, 120.0, None, ["camera_no_person"]),
        (None, 10.0, None, ["camera_light", "camera_no_person"]),
        (standing_pose(), 120.0, 55.0, ["camera_side_on"]),
        (standing_pose(shift=0.6), 120.0, 10.0, ["camera_step_back"]),
    ],
)
def test_camera_problems(pose, grey, yaw, expected) -> None:
    assert camera_problems(pose, grey, yaw) == expected


def test_feet_cut_off_means_step_back() -> None:
    pose = standing_pose()
    pose.landmarks[[27, 28, 29, 30, 31, 32], 1] = 700.0  # below the bottom edge
    assert camera_problems(pose, 120.0, 5.0) == ["camera_step_back"]


def test_brightness() -> None:
    assert brightness(np.zeros((64, 64, 3), np.uint8)) == 0.0
    assert brightness(np.full((64, 64, 3), 200, np.uint8)) == pytest.approx(200.0, abs=0.5)
