"""Bird dog: arm and leg elevation against the trunk, reps per side, trunk stillness, live
coaching.

Unit tests on scripted landmarks with known geometry (a side view facing right); end-to-end
tests on rendered bird dogs (`formcheck synth --kind bird-dog`, true angles per frame) through
the real CLI and a real live session with MediaPipe. There are no real bird-dog clips in
../shared/footage.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli

from formcheck import exercises, report
from formcheck.exercises import bird_dog
from formcheck.exercises.registry import ExerciseFrame

FPS = 30.0
HIP, SHOULDER = np.array([250.0, 200.0]), np.array([420.0, 200.0])
ARM, LEG = 150.0, 240.0


def quadruped(
    reach: float = 0.0,
    leg_side: str = "left",
    arm_deg: float = 0.0,
    leg_deg: float = 0.0,
    tilt_deg: float = 0.0,
) -> np.ndarray:
    """33 landmarks (pixels) of a person on hands and knees facing right, trunk horizontal
    (tilted `tilt_deg`, shoulders up); `reach` 0..1 moves the `leg_side` leg and the opposite
    arm from the start position to `leg_deg` / `arm_deg` of elevation."""
    lm = np.zeros((33, 3))
    lm[:, 2] = 1.0
    a = math.radians(tilt_deg)
    u = np.array([math.cos(a), -math.sin(a)])  # trunk direction, hip -> shoulder
    n = np.array([-math.sin(a), -math.cos(a)])  # away from the floor
    hip, shoulder = HIP, HIP + 170.0 * u
    arm_side = "right" if leg_side == "left" else "left"
    for side in ("left", "right"):
        s = 0 if side == "left" else 1
        lm[11 + s, :2], lm[23 + s, :2] = shoulder, hip
        arm = -90.0 + reach * (arm_deg + 90.0) if side == arm_side else -90.0
        e = math.radians(arm)
        lm[13 + s, :2] = shoulder + 0.5 * ARM * (math.cos(e) * u + math.sin(e) * n)
        lm[15 + s, :2] = shoulder + ARM * (math.cos(e) * u + math.sin(e) * n)
        leg = -45.0 + reach * (leg_deg + 45.0) if side == leg_side else -45.0
        e = math.radians(leg)
        ankle = hip + LEG * (-math.cos(e) * u + math.sin(e) * n)
        lm[27 + s, :2] = ankle
        lm[25 + s, :2] = hip + 0.5 * LEG * (-math.cos(e) * u + math.sin(e) * n)
    lm[0, :2] = shoulder + 60 * u
    return lm


def script(reps, hold=1.0, move=1.0, rest=1.0, arm_deg=0.0, leg_deg=0.0, tilt_deg=0.0):
    """Reps alternating from `reps[0]` (the leg side): rest, reach (move), hold, return."""
    times = np.arange(0, rest + len(reps) * (2 * move + hold + rest), 1 / FPS)
    frames = []
    cycle = 2 * move + hold + rest
    for t in times:
        k, u = divmod(t - rest, cycle)
        if t < rest or k >= len(reps):
            r = 0.0
        elif u < move:
            r = u / move
        elif u < move + hold:
            r = 1.0
        elif u < 2 * move + hold:
            r = 1.0 - (u - move - hold) / move
        else:
            r = 0.0
        side = reps[int(min(k, len(reps) - 1))] if t >= rest else reps[0]
        frames.append(
            ExerciseFrame(
                float(t), quadruped(r, side, arm_deg, leg_deg, tilt_deg if r > 0.5 else 0.0)
            )
        )
    return frames, times


def test_arm_and_leg_elevation_from_the_geometry() -> None:
    m = bird_dog.frame_measures(quadruped(0.0))
    assert m["arm_left"] == pytest.approx(-90.0, abs=0.1)
    assert m["leg_right"] == pytest.approx(-45.0, abs=0.1)
    m = bird_dog.frame_measures(quadruped(1.0, "left", arm_deg=10.0, leg_deg=20.0, tilt_deg=5))
    assert m["leg_left"] == pytest.approx(20.0, abs=0.1)
    assert m["arm_right"] == pytest.approx(10.0, abs=0.1)
    assert m["trunk_tilt"] == pytest.approx(5.0, abs=0.1)
    # The same pose facing left (mirrored) reads the same.
    mirrored = quadruped(1.0, "left", arm_deg=10.0, leg_deg=20.0)
    mirrored[:, 0] = 640.0 - mirrored[:, 0]
    m = bird_dog.frame_measures(mirrored)
    assert m["leg_left"] == pytest.approx(20.0, abs=0.1) and m["head"] == -1.0


def test_reps_alternate_sides_and_reach_level_is_good_form() -> None:
    result = bird_dog.analyse(*script(["left", "right", "left"]))
    assert [r.side for r in result.reps] == ["left", "right", "left"]
    assert result.reps_by_side() == {"left": 2, "right": 1}
    for r in result.reps:
        assert r.measures["arm_elevation_deg"] == pytest.approx(0.0, abs=1.0)
        assert r.measures["leg_elevation_deg"] == pytest.approx(0.0, abs=1.0)
        assert r.measures["top_hold_s"] == pytest.approx(1.0, abs=0.35)
        assert r.findings == []


def test_a_leg_raised_too_high_and_a_short_reach_are_findings() -> None:
    high = bird_dog.analyse(*script(["left"], leg_deg=25.0)).reps[0]
    assert [f.code for f in high.findings] == ["leg_high"]
    short = bird_dog.analyse(*script(["right"], arm_deg=-35.0, leg_deg=-30.0)).reps[0]
    assert {f.code for f in short.findings} == {"arm_low", "leg_low"}


def test_a_trunk_that_tips_while_reaching_is_a_finding() -> None:
    rep = bird_dog.analyse(*script(["left"], tilt_deg=12.0)).reps[0]
    assert rep.measures["trunk_tilt_change_deg"] == pytest.approx(12.0, abs=1.0)
    assert [f.code for f in rep.findings] == ["trunk_shift"]


def test_no_reach_is_no_rep_and_the_report_says_so() -> None:
    times = np.arange(0, 4.0, 1 / FPS)
    result = bird_dog.analyse([ExerciseFrame(t, quadruped()) for t in times], times)
    assert result.reps == []
    doc = {"summary": {"messages": []}}
    report.add_sided_reps(doc, result)
    assert doc["summary"]["rep_count"] == 0 and doc["summary"]["form"] == "not_judged"
    assert doc["summary"]["messages"][0].startswith("No rep found")


def test_report_keys_of_sided_reps() -> None:
    result = bird_dog.analyse(*script(["right", "left"], leg_deg=25.0))
    doc = {"summary": {"messages": []}}
    report.add_sided_reps(doc, result)
    rep = doc["reps"][0]
    assert rep["side"] == "right"
    for key in (
        "arm_elevation_deg",
        "leg_elevation_deg",
        "top_hold_s",
        "trunk_tilt_change_deg",
        "findings",
    ):
        assert key in rep
    assert doc["summary"]["reps_by_side"] == {"left": 1, "right": 1}
    assert doc["summary"]["form"] == "broke"
    text = report.human_summary(
        "bd.mp4", {**doc, "view": {"kind": "side", "facing": "right"}, "summary": {
            **doc["summary"], "exercise": "bird-dog"}}
    )  # fmt: skip
    assert "2 rep(s) (1 left, 1 right)" in text


def test_live_stream_counts_reps_per_side_and_cues_a_fault() -> None:
    stream = bird_dog.stream()
    frames, times = script(["left", "right"], leg_deg=25.0)
    said = []
    for f in frames:
        said += [c.code for c in stream.update(f.t, f)]
    said += [c.code for c in stream.finish()]
    assert said.count("leg_high") == 2 and said[-1] == "set_summary"
    assert [r.side for r in stream.reps] == ["left", "right"]
    assert stream.summary()["reps_by_side"] == {"left": 1, "right": 1}


def test_bird_dog_is_a_registered_side_view_sided_exercise() -> None:
    entry = exercises.get("bird-dog")
    assert entry.kind == "sided reps" and entry.views == ("side",) and entry.live
    assert entry.analyse is bird_dog.analyse
    assert "bird-dog" in exercises.live_choices()


# -- rendered bird dogs, real MediaPipe ----------------------------------------------------------
@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A rendered bird dog at 15 fps: two reps, left leg first, arm and leg level."""
    from formcheck.synth.clip import render_clip
    from formcheck.synth.spec import SynthSpec

    out = tmp_path_factory.mktemp("bird-dog")
    mp4, truth = out / "bird-dog.mp4", out / "bird-dog.json"
    render_clip(SynthSpec(kind="bird_dog", reps=2, side="left", fps=15.0), mp4, truth)
    return mp4, json.loads(truth.read_text())


@pytest.mark.slow
def test_a_rendered_bird_dog_is_counted_per_side_and_measured(rendered, tmp_path: Path) -> None:
    mp4, truth = rendered
    out = tmp_path / "bd.json"
    proc = run_cli(
        "analyze", mp4, "--exercise", "bird-dog", "--json", out, "--csv", tmp_path / "a.csv"
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    assert [r["side"] for r in doc["reps"]] == [r["side"] for r in truth["reps"]]
    for rep, true in zip(doc["reps"], truth["reps"], strict=True):
        assert rep["start_s"] <= true["top_start_s"] and rep["end_s"] >= true["top_end_s"]
        assert rep["arm_elevation_deg"] == pytest.approx(0.0, abs=8.0)
        assert rep["leg_elevation_deg"] == pytest.approx(0.0, abs=8.0)
    assert doc["summary"]["reps_by_side"] == {"left": 1, "right": 1}
    assert "leg_elevation_deg" in (tmp_path / "a.csv").read_text().splitlines()[0]


@pytest.mark.slow
def test_live_session_counts_a_rendered_bird_dog(rendered) -> None:
    from formcheck.live import LiveConfig, LiveSession
    from formcheck.video import VideoSource

    mp4, truth = rendered
    with LiveSession(LiveConfig(exercise="bird-dog")) as session:
        for frame in VideoSource(mp4, max_side=640):
            out = session.process(frame.image, frame.t)
            assert "sided" in out.to_dict()
        summary = session.finish()
    assert [r["side"] for r in summary["reps"]] == [r["side"] for r in truth["reps"]]
    assert summary["cues"][0]["code"] == "set_summary"
