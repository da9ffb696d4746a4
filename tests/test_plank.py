"""Plank: body line, hip sag and pike, hold detection and time in good form.

Unit tests on scripted landmarks with known geometry, and the real plank clips of
../shared/footage through the CLI (`--exercise plank`)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import FOOTAGE, read_labels, run_cli

from formcheck import exercises
from formcheck.exercises import plank
from formcheck.exercises.registry import ExerciseFrame

FPS = 30.0


def plank_pose(sag_deg: float = 0.0, upright: bool = False) -> np.ndarray:
    """33 landmarks (pixels) of a body lying along y = 300, facing right, with the hips
    `sag_deg` below the shoulder-ankle line (negative: pike); `upright` kneels up instead."""
    lm = np.zeros((33, 3))
    lm[:, 2] = 1.0
    shoulder, ankle = np.array([450.0, 300.0]), np.array([150.0, 300.0])
    if upright:
        shoulder = np.array([300.0, 120.0])
    # Hip 180 px behind the shoulders; its drop d gives atan(d/180) + atan(d/120) = sag.
    a, b = 180.0, 120.0
    lo, hi = -200.0, 200.0
    for _ in range(60):
        d = 0.5 * (lo + hi)
        angle = math.degrees(math.atan(d / a) + math.atan(d / b))
        lo, hi = (d, hi) if angle < sag_deg else (lo, d)
    hip = np.array([shoulder[0] - a, shoulder[1] + d]) if not upright else np.array([300.0, 300.0])
    for i in (11, 12):
        lm[i, :2] = shoulder
    for i in (23, 24):
        lm[i, :2] = hip
    for i in (27, 28):
        lm[i, :2] = ankle
    for i in (25, 26):
        lm[i, :2] = 0.5 * (hip + ankle)  # straight legs
    along = (shoulder - hip) / np.linalg.norm(shoulder - hip)
    for i in (7, 8):
        lm[i, :2] = shoulder + 60.0 * along  # head in line with the trunk
    return lm


def scripted_hold(sag_at) -> tuple[list, np.ndarray]:
    """10 s: kneeling 0-1 s, plank 1-9 s with sag_at(t) degrees, kneeling 9-10 s."""
    times = np.arange(0, 10.0, 1 / FPS)
    frames = [
        SimpleNamespace(landmarks=plank_pose(sag_at(t), upright=not 1.0 <= t < 9.0)) for t in times
    ]
    return frames, times


def test_body_line_and_sag_sign_from_the_geometry() -> None:
    for sag in (-20.0, -5.0, 0.0, 8.0, 15.0):
        measured, head, tilt = plank.frame_measures(plank_pose(sag))
        assert measured == pytest.approx(sag, abs=0.05)
        assert head == pytest.approx(0.0, abs=0.05) and tilt == pytest.approx(0.0, abs=0.05)


def test_a_straight_hold_is_found_without_getting_in_and_out() -> None:
    frames, times = scripted_hold(lambda t: 0.0)
    result = plank.analyse(frames, times)
    assert len(result.holds) == 1
    hold = result.holds[0]
    assert hold.start_s == pytest.approx(1.0, abs=0.15)
    assert hold.end_s == pytest.approx(9.0, abs=0.15)
    assert hold.good_form_s == pytest.approx(8.0, abs=0.2)
    assert hold.findings == []
    assert np.nanmax(np.abs(result.measures["body_line_deg"][40:260] - 180.0)) < 0.1


def test_sagging_hips_break_form_at_the_right_time() -> None:
    # Straight until 5 s, then the hips sag 15 deg (over the 10 deg tolerance) to the end.
    frames, times = scripted_hold(lambda t: 0.0 if t < 5.0 else 15.0)
    hold = plank.analyse(frames, times).holds[0]
    assert [f.code for f in hold.findings] == ["hip_sag"]
    finding = hold.findings[0]
    assert finding.start_s == pytest.approx(5.0, abs=0.2)
    assert finding.peak_deg == pytest.approx(15.0, abs=0.5)
    assert "Form broke at 5 s: hips sagging" in finding.message
    assert hold.good_form_s == pytest.approx(4.0, abs=0.25)
    assert hold.peaks["max_hip_sag_deg"] == pytest.approx(15.0, abs=0.5)


def test_pike_within_tolerance_is_good_form_and_beyond_it_is_a_finding() -> None:
    frames, times = scripted_hold(lambda t: -12.0)
    assert plank.analyse(frames, times).holds[0].findings == []
    frames, times = scripted_hold(lambda t: -12.0 if t < 6.0 else -30.0)
    hold = plank.analyse(frames, times).holds[0]
    assert [f.code for f in hold.findings] == ["hip_pike"]
    assert hold.peaks["max_hip_pike_deg"] == pytest.approx(30.0, abs=0.5)


def test_a_short_fault_does_not_break_form() -> None:
    frames, times = scripted_hold(lambda t: 18.0 if 4.0 <= t < 4.5 else 0.0)
    assert plank.analyse(frames, times).holds[0].findings == []


def test_no_plank_position_means_no_hold() -> None:
    times = np.arange(0, 3.0, 1 / FPS)
    frames = [SimpleNamespace(landmarks=plank_pose(upright=True)) for _ in times]
    assert plank.analyse(frames, times).holds == []
    none = [SimpleNamespace(landmarks=None) for _ in times]
    assert plank.analyse(none, times).holds == []


def test_plank_is_a_registered_side_view_hold() -> None:
    entry = exercises.get("plank")
    assert entry.kind == "hold" and entry.views == ("side",) and entry.analyse is plank.analyse
    assert "hip_sag" in entry.findings and "hip_sag" in entry.cues


# -- the real plank clips ----------------------------------------------------------------------
def _plank_rows() -> list[dict[str, str]]:
    return [r for r in read_labels() if r["exercise"] == "plank"] if FOOTAGE.exists() else []


@pytest.fixture(scope="module")
def plank_reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    rows = _plank_rows()
    if not rows:
        pytest.skip("no plank clips in ../shared/footage")
    out = tmp_path_factory.mktemp("planks")
    clips = [FOOTAGE / r["file"] for r in rows]
    proc = run_cli("analyze", *clips, "--exercise", "plank", "--json", out, "--csv", out)
    assert proc.returncode == 0, proc.stderr
    return {r["file"]: json.loads((out / f"{Path(r['file']).stem}.json").read_text()) for r in rows}


@pytest.mark.slow
def test_real_planks_are_held_for_their_length_in_good_form(plank_reports) -> None:
    for row in _plank_rows():
        report = plank_reports[row["file"]]
        s = report["summary"]
        assert s["exercise"] == "plank" and s["hold_count"] == 1, row["file"]
        # These clips hold from the first frame to the last: held time = clip length.
        assert s["held_s"] == pytest.approx(float(row["seconds"]), abs=0.5), row["file"]
        # Labelled correct (straight or slightly piked): no sag, the whole hold in good form.
        assert s["form"] == "good" and s["max_hip_sag_deg"] < 10.0, (row["file"], s)
        assert s["good_form_s"] == pytest.approx(s["held_s"], abs=0.5)
        assert all(f["hip_sag_deg"] is None or f["hip_sag_deg"] < 10 for f in report["frames"])
        assert report["holds"][0]["findings"] == []


# -- live --------------------------------------------------------------------------------------
def test_live_hold_stream_cues_a_sag_once_says_the_time_and_sums_up() -> None:
    stream = plank.stream(say_every_s=5.0)
    frames, times = scripted_hold(lambda t: 0.0 if t < 5.0 else 15.0)
    said: list[tuple[float, str]] = []
    for f, t in zip(frames, times, strict=True):
        said += [(t, c.code) for c in stream.update(float(t), ExerciseFrame(t, f.landmarks))]
    said += [(10.0, c.code) for c in stream.finish()]
    codes = [c for _, c in said]
    assert codes.count("hip_sag") == 1
    sag_t = next(t for t, c in said if c == "hip_sag")
    assert 5.9 <= sag_t <= 6.4  # after the fault has lasted a second (plus the causal median)
    assert [round(t) for t, c in said if c == "hold_time"] == [6]  # 5 s into the hold
    assert codes[-1] == "hold_summary"
    assert len(stream.holds) == 1
    hold = stream.holds[0]
    assert hold.start_s == pytest.approx(1.0, abs=0.15) and hold.end_s == pytest.approx(
        9.0, abs=0.2
    )
    assert hold.good_form_s == pytest.approx(4.0, abs=0.3)
    assert [f.code for f in hold.findings] == ["hip_sag"]


@pytest.mark.slow
def test_live_session_times_a_real_plank() -> None:
    """The real 6.5 s straight plank replayed frame by frame through a live session (real
    MediaPipe): a hold is timed, no fault is cued, the summary gives the hold."""
    from formcheck.live import LiveConfig, LiveSession
    from formcheck.video import VideoSource

    clip = FOOTAGE / "kaiakol_plank_correct_005.mp4"
    if not clip.exists():
        pytest.skip("no plank clip")
    codes: list[str] = []
    with LiveSession(LiveConfig(exercise="plank")) as session:
        for frame in VideoSource(clip, max_side=640):
            out = session.process(frame.image, frame.t)
            codes += [c.code for c in out.cues]
            assert out.to_dict()["hold"]["held_s"] >= 0
        summary = session.finish()
    assert "hip_sag" not in codes and "hip_pike" not in codes
    assert len(summary["holds"]) == 1
    # The camera check takes its half second first; the rest of the clip is held.
    assert 4.5 <= summary["held_s"] <= 6.5
    assert summary["good_form_s"] == pytest.approx(summary["held_s"], abs=0.3)
    assert summary["cues"][0]["code"] == "hold_summary"


def test_a_plank_analysed_as_a_lift_is_told_to_name_it() -> None:
    from formcheck.pipeline import _exercise_hints

    frames, times = scripted_hold(lambda t: 0.0)
    hints = _exercise_hints(None, [], frames, times)
    assert len(hints) == 1 and "--exercise plank" in hints[0]
    assert _exercise_hints(exercises.get("plank"), [], frames, times) == []
    standing = [SimpleNamespace(landmarks=plank_pose(upright=True)) for _ in times]
    assert _exercise_hints(None, [], standing, times) == []


def test_kneeling_on_the_forearms_is_not_holding() -> None:
    times = np.arange(0, 4.0, 1 / FPS)
    kneel = plank_pose()
    kneel[[25, 26], :2] = kneel[[27, 28], :2] + np.array([60.0, 0.0])  # knees down, shins up
    kneel[[27, 28], 1] -= 120.0
    kneel[[27, 28], 0] = kneel[[25, 26], 0]
    assert plank.knee_bend(kneel) > 60
    assert plank.analyse([SimpleNamespace(landmarks=kneel) for _ in times], times).holds == []
