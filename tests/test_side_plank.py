"""Side plank: hip drop and hike, the side held, hold detection, time per side, live coaching
and the camera check.

Unit tests on scripted landmarks with known geometry; end-to-end tests on rendered side planks
(`formcheck synth --kind side-plank`, true drop and hold times per frame) through the real CLI
and a real live session with MediaPipe. There are no real side-plank clips in ../shared/footage.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import run_cli, stderr_lines

from formcheck import cues, exercises, report
from formcheck.exercises import side_plank
from formcheck.exercises.registry import ExerciseFrame

FPS = 30.0


def side_plank_pose(drop_deg: float = 0.0, side: str = "left", lying: bool = False) -> np.ndarray:
    """33 landmarks (pixels) of a side plank seen from the front: ankles at (150, 300),
    shoulders at (450, 200), the hips `drop_deg` below that line (negative: above it); the
    `side` side lower in the picture. `lying`: hips down on the floor (a 40 deg drop)."""
    lm = np.zeros((33, 3))
    lm[:, 2] = 1.0
    ankle, shoulder = np.array([150.0, 300.0]), np.array([450.0, 200.0])
    drop = 40.0 if lying else drop_deg
    line = shoulder - ankle
    a = 0.45 * np.linalg.norm(line)  # ankle to the hip's foot on the line
    b = np.linalg.norm(line) - a
    lo, hi = -200.0, 200.0
    for _ in range(60):
        d = 0.5 * (lo + hi)
        angle = math.degrees(math.atan(d / a) + math.atan(d / b))
        lo, hi = (d, hi) if angle < drop else (lo, d)
    along = line / np.linalg.norm(line)
    down = np.array([-along[1], along[0]])  # perpendicular, pointing to larger y
    if down[1] < 0:
        down = -down
    hip = ankle + a * along + d * down
    lower, upper = (0, 1) if side == "left" else (1, 0)  # index into (left, right) pairs
    for pair, point in (((11, 12), shoulder), ((23, 24), hip), ((27, 28), ankle)):
        lm[pair[lower], :2] = point + np.array([0.0, 12.0])
        lm[pair[upper], :2] = point - np.array([0.0, 12.0])
    for k, (h, a_) in ((25, (23, 27)), (26, (24, 28))):
        lm[k, :2] = 0.5 * (lm[h, :2] + lm[a_, :2])  # straight legs
    return lm


def scripted(drop_at, side: str = "left", start: float = 1.0, end: float = 9.0):
    """10 s: lying 0-start, side plank start-end with drop_at(t) degrees, lying after."""
    times = np.arange(0, 10.0, 1 / FPS)
    frames = [
        SimpleNamespace(landmarks=side_plank_pose(drop_at(t), side, lying=not start <= t < end))
        for t in times
    ]
    return frames, times


def test_hip_drop_sign_and_side_from_the_geometry() -> None:
    for drop in (-15.0, 0.0, 8.0, 20.0):
        m = side_plank._measure(side_plank_pose(drop))
        assert m["hip_drop_deg"] == pytest.approx(drop, abs=0.5)
    result = side_plank.analyse(*scripted(lambda t: 0.0, side="right"))
    assert [h.side for h in result.holds] == ["right"]
    result = side_plank.analyse(*scripted(lambda t: 0.0, side="left"))
    assert [h.side for h in result.holds] == ["left"]


def test_a_straight_side_plank_is_held_without_lying_down() -> None:
    result = side_plank.analyse(*scripted(lambda t: 2.0))
    assert len(result.holds) == 1
    hold = result.holds[0]
    assert hold.start_s == pytest.approx(1.0, abs=0.15) and hold.end_s == pytest.approx(
        9.0, abs=0.15
    )
    assert hold.good_form_s == pytest.approx(8.0, abs=0.2)
    assert hold.findings == []
    assert set(result.measures) == {"body_line_deg", "hip_drop_deg"}


def test_dropping_hips_break_form_and_are_reported_with_their_peak() -> None:
    hold = side_plank.analyse(*scripted(lambda t: 0.0 if t < 5.0 else 16.0)).holds[0]
    assert [f.code for f in hold.findings] == ["hip_drop"]
    finding = hold.findings[0]
    assert finding.start_s == pytest.approx(5.0, abs=0.2)
    assert "hips dropping" in finding.message
    assert hold.good_form_s == pytest.approx(4.0, abs=0.3)
    assert hold.peaks["max_hip_drop_deg"] == pytest.approx(16.0, abs=0.5)
    assert hold.peaks["max_hip_hike_deg"] == pytest.approx(0.0, abs=0.1)
    hiked = side_plank.analyse(*scripted(lambda t: -25.0)).holds[0]
    assert [f.code for f in hiked.findings] == ["hip_hike"]


def test_lying_on_the_side_is_not_holding() -> None:
    frames, times = scripted(lambda t: 0.0, start=20.0, end=30.0)  # lying the whole time
    assert side_plank.analyse(frames, times).holds == []


def test_report_gives_time_per_side_and_their_ratio() -> None:
    left, tl = scripted(lambda t: 0.0, side="left", start=1.0, end=7.0)
    right, tr = scripted(lambda t: 0.0, side="right", start=1.0, end=5.0)
    frames, times = left + right, np.concatenate([tl, tr + 10.0])
    result = side_plank.analyse(frames, times)
    assert [h.side for h in result.holds] == ["left", "right"]
    doc = {"summary": {"messages": []}}
    report.add_holds(doc, SimpleNamespace(exercise="side-plank"), result)
    s = doc["summary"]
    assert s["held_s_by_side"]["left"] == pytest.approx(6.0, abs=0.3)
    assert s["held_s_by_side"]["right"] == pytest.approx(4.0, abs=0.3)
    assert s["left_right_ratio"] == pytest.approx(1.5, abs=0.15)
    assert s["form"] == "good" and s["hold_count"] == 2
    assert any("ratio" in m for m in s["messages"])
    assert [h["side"] for h in doc["holds"]] == ["left", "right"]
    assert "max_hip_drop_deg" in doc["holds"][0] and "max_hip_sag_deg" not in doc["holds"][0]


def test_live_stream_cues_a_drop_once_and_names_the_side() -> None:
    stream = side_plank.stream(say_every_s=5.0)
    frames, times = scripted(lambda t: 0.0 if t < 5.0 else 16.0, side="right")
    said: list[tuple[float, str, str]] = []
    for f, t in zip(frames, times, strict=True):
        said += [
            (t, c.code, c.text) for c in stream.update(float(t), ExerciseFrame(t, f.landmarks))
        ]
    said += [(10.0, c.code, c.text) for c in stream.finish()]
    codes = [c for _, c, _ in said]
    assert codes.count("hip_drop") == 1
    drop_t, _, text = next(s for s in said if s[1] == "hip_drop")
    assert 5.9 <= drop_t <= 6.4
    assert text == side_plank.CUES["hip_drop"]
    assert codes[-1] == "hold_summary" and "right side" in said[-1][2]
    hold = stream.holds[0]
    assert hold.side == "right"
    assert hold.start_s == pytest.approx(1.0, abs=0.2) and hold.end_s == pytest.approx(9.0, abs=0.2)


def test_side_plank_is_a_registered_front_view_hold_with_its_camera_check() -> None:
    entry = exercises.get("side-plank")
    assert entry.kind == "hold" and entry.views == ("front", "oblique") and entry.live
    assert "side-plank" in exercises.choices() and "side-plank" in exercises.live_choices()
    # Live camera check: a side plank wants the person facing the camera, a plank side-on.
    pose = SimpleNamespace(
        landmarks=side_plank_pose() * [1, 1, 0] + [0, 0, 1],
        visibility=np.ones(33),
        image_size=(640, 360),
    )
    assert cues.camera_problems(pose, 128.0, 5.0, views=entry.views) == ["camera_face"]
    assert cues.camera_problems(pose, 128.0, 70.0, views=entry.views) == []
    plank = exercises.get("plank")
    assert cues.camera_problems(pose, 128.0, 70.0, views=plank.views) == ["camera_side_on"]
    assert cues.camera_problems(pose, 128.0, 5.0, views=plank.views) == []


# -- rendered side planks, real MediaPipe -------------------------------------------------------
@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict]]:
    """Two rendered side planks at 15 fps: left side down with a 15 deg hip drop from 2 s into
    the hold, and right side down held straight."""
    from dataclasses import replace

    from formcheck.synth.clip import render_clip
    from formcheck.synth.spec import SynthSpec

    out = tmp_path_factory.mktemp("side-plank")
    clips = {}
    for name, spec in (
        ("left-drop", SynthSpec(kind="side_plank", side="left", drop_deg=15.0, fault_at_s=2.0)),
        ("right-straight", SynthSpec(kind="side_plank", side="right", body="heavy")),
    ):
        spec = replace(spec, hold_seconds=5.0, fps=15.0)
        mp4, truth = out / f"{name}.mp4", out / f"{name}.json"
        render_clip(spec, mp4, truth)
        clips[name] = (mp4, json.loads(truth.read_text()))
    return clips


@pytest.mark.slow
def test_rendered_side_planks_are_timed_measured_and_judged(rendered, tmp_path: Path) -> None:
    for name, (mp4, truth) in rendered.items():
        out = tmp_path / f"{name}.json"
        proc = run_cli("analyze", mp4, "--exercise", "side-plank", "--json", out)
        assert proc.returncode == 0, proc.stderr
        doc = json.loads(out.read_text())
        (hold,) = doc["holds"]
        assert hold["start_s"] == pytest.approx(truth["hold_start_s"], abs=0.5), name
        assert hold["end_s"] == pytest.approx(truth["hold_end_s"], abs=0.5), name
        assert hold["side"] == truth["spec"]["side"]
        frames = [
            (f["hip_drop_deg"], g["hip_drop_deg"])
            for f, g in zip(doc["frames"], truth["frames"], strict=False)
            if g["holding"] and f.get("hip_drop_deg") is not None
        ]
        errors = np.array([m - t for m, t in frames])
        assert len(frames) > 0.9 * sum(g["holding"] for g in truth["frames"])
        assert np.mean(np.abs(errors)) <= 5.0, (name, np.mean(np.abs(errors)))
        s = doc["summary"]
        if name == "left-drop":
            assert [f["code"] for f in hold["findings"]] == ["hip_drop"]
            assert s["max_hip_drop_deg"] == pytest.approx(15.0, abs=5.0)
            assert s["form"] == "broke"
        else:
            assert hold["findings"] == [] and s["form"] == "good"
            assert s["held_s_by_side"]["right"] == pytest.approx(hold["held_s"])


@pytest.mark.slow
def test_a_side_plank_named_as_a_plank_is_refused_with_how_to_film(rendered) -> None:
    mp4, _ = rendered["right-straight"]
    proc = run_cli("analyze", mp4, "--exercise", "plank")
    assert proc.returncode == 2
    (line,) = stderr_lines(proc.stderr)
    assert "plank is judged side-on" in line and "Film from the side" in line


@pytest.mark.slow
def test_live_session_coaches_a_rendered_side_plank(rendered) -> None:
    from formcheck.live import LiveConfig, LiveSession
    from formcheck.video import VideoSource

    mp4, truth = rendered["left-drop"]
    codes: list[str] = []
    with LiveSession(LiveConfig(exercise="side-plank")) as session:
        for frame in VideoSource(mp4, max_side=640):
            out = session.process(frame.image, frame.t)
            codes += [c.code for c in out.cues]
            assert "hip_drop_deg" in out.to_dict()["hold"]
        summary = session.finish()
    assert "camera_face" not in codes
    assert "hip_drop" in codes
    (hold,) = summary["holds"]
    assert hold["side"] == "left"
    assert hold["held_s"] == pytest.approx(truth["hold_end_s"] - truth["hold_start_s"], abs=1.0)
