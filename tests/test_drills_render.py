"""Hip-mobility drills end to end on renders (`formcheck synth`, true angles per frame) through
the real CLI, MediaPipe and a live session: fire hydrant from behind, 90/90 from the front,
frog squat from the side and the front. There are no real clips of these drills in
../shared/footage; `benchmarks/drills.py` scores the wider grid of renders.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from conftest import run_cli

from formcheck.progress import session_measures

pytestmark = pytest.mark.slow


def _render(tmp_path_factory: pytest.TempPathFactory, name: str, **spec) -> tuple[Path, dict]:
    from formcheck.synth.clip import render_clip
    from formcheck.synth.spec import SynthSpec

    out = tmp_path_factory.mktemp(name)
    mp4, truth = out / f"{name}.mp4", out / f"{name}.json"
    render_clip(SynthSpec(fps=10.0, **spec), mp4, truth)
    return mp4, json.loads(truth.read_text())


def _analyse(mp4: Path, exercise: str, tmp_path: Path) -> tuple[dict, list[dict]]:
    out, table = tmp_path / "r.json", tmp_path / "r.csv"
    proc = run_cli("analyze", mp4, "--exercise", exercise, "--json", out, "--csv", table)
    assert proc.returncode == 0, proc.stderr
    with table.open() as fh:
        rows = list(csv.DictReader(fh))
    return json.loads(out.read_text()), rows


@pytest.fixture(scope="module")
def hydrant(tmp_path_factory) -> tuple[Path, dict]:
    """Fire hydrants from behind: two reps, left leg then right, 45 deg, the second with a
    14 deg hip hike."""
    return _render(
        tmp_path_factory, "hydrant", kind="fire_hydrant", reps=2, side="left", hold_top_s=0.6
    )


def test_fire_hydrant_reps_per_side_and_abduction(hydrant, tmp_path: Path) -> None:
    mp4, truth = hydrant
    doc, rows = _analyse(mp4, "fire-hydrant", tmp_path)
    assert [r["side"] for r in doc["reps"]] == [t["side"] for t in truth["reps"]]
    for rep in doc["reps"]:
        assert rep["hip_abduction_deg"] == pytest.approx(45.0, abs=8.0)
        assert rep["top_hold_s"] > 0.3
        assert not rep["findings"]
    s = doc["summary"]
    assert s["reps_by_side"] == {"left": 1, "right": 1}
    assert s["hip_abduction_deg"]["left"] == pytest.approx(45.0, abs=8.0)
    assert s["form"] == "good"
    assert "hip_abduction_deg" in rows[0] and "trunk_lean_deg" in rows[0]
    sides = {(m.name, m.side) for m in session_measures(doc)}
    assert sides == {("hip_abduction_deg", "left"), ("hip_abduction_deg", "right")}


def test_a_short_fire_hydrant_is_a_finding(tmp_path_factory, tmp_path: Path) -> None:
    mp4, _ = _render(
        tmp_path_factory,
        "hydrant-short",
        kind="fire_hydrant",
        reps=1,
        side="right",
        hydrant_abduction_deg=20.0,
        hydrant_view="front",
    )
    doc, _ = _analyse(mp4, "fire-hydrant", tmp_path)
    (rep,) = doc["reps"]
    assert rep["side"] == "right"
    assert rep["hip_abduction_deg"] == pytest.approx(20.0, abs=8.0)
    assert [f["code"] for f in rep["findings"]] == ["low_range"]
    assert doc["summary"]["form"] == "broke"


def test_live_session_counts_a_rendered_fire_hydrant(hydrant) -> None:
    from formcheck.live import LiveConfig, LiveSession
    from formcheck.video import VideoSource

    mp4, truth = hydrant
    with LiveSession(LiveConfig(exercise="fire-hydrant")) as session:
        for frame in VideoSource(mp4, max_side=640):
            session.process(frame.image, frame.t)
        summary = session.finish()
    assert [r["side"] for r in summary["reps"]] == [t["side"] for t in truth["reps"]]


@pytest.fixture(scope="module")
def ninety(tmp_path_factory) -> tuple[Path, dict]:
    """90/90 from the front: two switches, ER 45 and IR 35 deg scripted."""
    return _render(tmp_path_factory, "ninety", kind="ninety_ninety", reps=2, side="left")


def test_ninety_ninety_switches_and_rotation_per_side(ninety, tmp_path: Path) -> None:
    mp4, truth = ninety
    doc, rows = _analyse(mp4, "90-90", tmp_path)
    assert [r["side"] for r in doc["reps"]] == [t["front_after"] for t in truth["reps"]]
    s = doc["summary"]
    assert s["rep_count"] == 2
    for key, true in (("hip_external_rotation_deg", 45.0), ("hip_internal_rotation_deg", 35.0)):
        assert set(s[key]) == {"left", "right"}
        for side, value in s[key].items():
            assert value == pytest.approx(true, abs=20.0), (key, side)
    # The ranges in words say the summary's numbers, and how far to trust them.
    (words,) = [m for m in s["messages"] if m.startswith("Hip rotation")]
    er, ir = s["hip_external_rotation_deg"], s["hip_internal_rotation_deg"]
    assert f"turned out: left {er['left']:.0f}, right {er['right']:.0f} degrees" in words
    assert f"turned in: left {ir['left']:.0f}, right {ir['right']:.0f} degrees" in words
    assert "camera level at chair-seat height" in words
    assert s["messages"][0] == "2 rep(s): 1 left, 1 right."
    assert "hip_external_rotation_deg" in rows[0]
    names = {m.name for m in session_measures(doc)}
    assert names == {"hip_external_rotation_deg", "hip_internal_rotation_deg"}


def test_ninety_ninety_filmed_from_high_up_is_not_judged(tmp_path_factory, tmp_path) -> None:
    # A camera 1.7 m up, tilted 25 deg down: rotations would read 20-25 deg off (README).
    mp4, _ = _render(
        tmp_path_factory, "ninety-high", kind="ninety_ninety", reps=1, side="left", pitch_deg=25.0
    )
    doc, rows = _analyse(mp4, "90-90", tmp_path)
    (rep,) = doc["reps"]
    assert rep["hip_external_rotation_deg"] is None and rep["hip_internal_rotation_deg"] is None
    assert all(f["hip_external_rotation_deg"] is None for f in doc["frames"])
    assert all(r["hip_internal_rotation_deg"] == "" for r in rows)
    assert rep["note"].startswith("rotation not judged") and not rep["findings"]
    s = doc["summary"]
    assert s["hip_external_rotation_deg"] == {"left": None, "right": None}
    assert s["hip_internal_rotation_deg"] == {"left": None, "right": None}
    assert any(m.startswith("Hip rotation not judged") and "chair-seat" in m for m in s["messages"])
    assert not any(m.startswith("Hip rotation, turned") for m in s["messages"])
    assert session_measures(doc) == []  # nothing unjudged reaches the progress page


def test_live_ninety_ninety_reads_each_position_as_offline_does(ninety, tmp_path: Path) -> None:
    """Live judges a switch once the position after it is held: the same rotations as the
    offline analysis, not the ones read mid-switch."""
    from formcheck.live import LiveConfig, LiveSession
    from formcheck.video import VideoSource

    mp4, _ = ninety
    doc, _ = _analyse(mp4, "90-90", tmp_path)
    with LiveSession(LiveConfig(exercise="90-90")) as session:
        for frame in VideoSource(mp4, max_side=640):
            session.process(frame.image, frame.t)
        summary = session.finish()
    assert [r["side"] for r in summary["reps"]] == [r["side"] for r in doc["reps"]]
    for live, offline in zip(summary["reps"], doc["reps"], strict=True):
        for key in ("hip_external_rotation_deg", "hip_internal_rotation_deg"):
            assert live[key] == pytest.approx(offline[key], abs=6.0), key


def test_frog_squat_from_the_side_reads_depth_and_the_butt_wink(
    tmp_path_factory, tmp_path: Path
) -> None:
    mp4, truth = _render(
        tmp_path_factory, "frog-side", kind="frog_squat", reps=2, frog_wink_deg=25.0
    )
    doc, rows = _analyse(mp4, "frog-squat", tmp_path)
    assert len(doc["reps"]) == len(truth["reps"]) == 2
    for rep in doc["reps"]:
        assert rep["side"] is None
        assert rep["hip_flexion_deg"] == pytest.approx(110.0, abs=15.0)
        assert rep["lumbar_flexion_change_deg"] == pytest.approx(25.0, abs=10.0)
        assert [f["code"] for f in rep["findings"]] == ["butt_wink"]
        assert rep["knee_spread_ratio"] is None  # the side view does not show it
    assert doc["summary"]["messages"][0] == "2 rep(s)."
    assert "lumbar_flexion_deg" in rows[0]


def test_frog_squat_from_the_front_reads_knee_spread_not_the_back(
    tmp_path_factory, tmp_path: Path
) -> None:
    mp4, _ = _render(tmp_path_factory, "frog-front", kind="frog_squat", reps=1, yaw_deg=90.0)
    doc, _ = _analyse(mp4, "frog-squat", tmp_path)
    (rep,) = doc["reps"]
    assert rep["knee_spread_ratio"] == pytest.approx(4.0, abs=1.0)
    assert rep["hip_abduction_deg"] == pytest.approx(40.0, abs=10.0)
    assert rep["hip_flexion_deg"] is None and rep["lumbar_flexion_change_deg"] is None
    assert rep["findings"] == []
    s = doc["summary"]
    assert s["knee_spread_ratio"] == pytest.approx(4.0, abs=1.0)
    assert s["lumbar_flexion_change_deg"] is None
