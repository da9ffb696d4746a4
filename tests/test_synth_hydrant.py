"""Synthetic fire hydrant (`formcheck synth --kind fire-hydrant`): truth at the top, reps per
side, floor contact, the CLI, and MediaPipe finding the body from behind."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import pytest

from formcheck.errors import InputError
from formcheck.synth import SynthSpec, render_layers, true_angles
from formcheck.synth.cli import add_synth_parser
from formcheck.synth.hydrant import hydrant_script

SIGN = {"left": -1.0, "right": 1.0}


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="formcheck")
    add_synth_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["synth", *argv])
    return args.func(args)


def top_time(spec: SynthSpec, rep: int = 0) -> float:
    r = hydrant_script(spec).reps[rep]
    return 0.5 * (r.top_start_s + r.top_end_s)


def frontal_deg(v: np.ndarray, side: str) -> float:
    """A thigh's angle from straight down in the y-z plane, + = out to `side`."""
    return math.degrees(math.atan2(SIGN[side] * v[2], -v[1]))


def roll_deg(left: np.ndarray, right: np.ndarray, side: str) -> float:
    """A left-right line's angle from level, + = the `side` end higher."""
    d = right - left if side == "right" else left - right
    return math.degrees(math.atan2(d[1], math.hypot(d[0], d[2])))


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"hydrant_hike_deg": 12.0, "hydrant_lean_deg": 9.0},
        {"side": "right", "hydrant_abduction_deg": 70.0, "hydrant_hike_deg": 30.0, "body": "slim"},
        {"hydrant_abduction_deg": 20.0, "hydrant_lean_deg": 30.0, "body": "heavy"},
    ],
    ids=["clean", "faults", "right-high-slim", "lean-heavy"],
)
def test_fire_hydrant_top_has_the_scripted_abduction_tilt_and_lean(kwargs: dict) -> None:
    spec = SynthSpec(kind="fire-hydrant", reps=2, **kwargs)
    assert spec.kind == "fire_hydrant"
    side, other = spec.side, "right" if spec.side == "left" else "left"
    w, o = side[0], other[0]
    f = true_angles(spec, top_time(spec))
    assert (f["rep"], f["working_side"], f["at_top"], f["lift"]) == (1, side, True, 1.0)
    assert f["hip_abduction_deg"][side] == pytest.approx(spec.hydrant_abduction_deg, abs=0.5)
    assert f["hip_abduction_deg"][other] == pytest.approx(0.0, abs=0.5)
    assert f["pelvis_tilt_deg"] == pytest.approx(spec.hydrant_hike_deg, abs=0.5)
    assert f["trunk_lean_deg"] == pytest.approx(spec.hydrant_lean_deg, abs=0.5)
    # The same from the world joints, independently of the script's own measure.
    script = hydrant_script(spec)
    j = script.pose(top_time(spec)).skeleton.joints
    thigh = j[f"knee_{w}"] - j[f"hip_{w}"]
    assert frontal_deg(thigh, side) == pytest.approx(spec.hydrant_abduction_deg, abs=0.01)
    assert abs(thigh[0]) < 1e-9  # the thigh stays in the picture plane from behind
    assert frontal_deg(j[f"knee_{o}"] - j[f"hip_{o}"], other) == pytest.approx(0.0, abs=0.01)
    assert roll_deg(j["hip_l"], j["hip_r"], side) == pytest.approx(spec.hydrant_hike_deg, abs=0.01)
    lean = roll_deg(j["shoulder_l"], j["shoulder_r"], side)
    assert lean == pytest.approx(spec.hydrant_lean_deg, abs=0.01)
    # The lifted knee keeps its bend, the arms keep their length, hands stay where they were.
    j0 = script.pose(0.0).skeleton.joints

    def knee_deg(joints: dict) -> float:
        a, b = joints[f"hip_{w}"] - joints[f"knee_{w}"], joints[f"ankle_{w}"] - joints[f"knee_{w}"]
        return math.degrees(math.acos(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b)))

    assert knee_deg(j) == pytest.approx(knee_deg(j0), abs=1e-6)
    assert 80.0 < knee_deg(j) < 100.0
    for s in "lr":
        up = np.linalg.norm(j[f"elbow_{s}"] - j[f"shoulder_{s}"])
        fore = np.linalg.norm(j[f"wrist_{s}"] - j[f"elbow_{s}"])
        assert up == pytest.approx(np.linalg.norm(j0[f"elbow_{s}"] - j0[f"shoulder_{s}"]))
        assert fore == pytest.approx(np.linalg.norm(j0[f"wrist_{s}"] - j0[f"elbow_{s}"]))
        assert np.allclose(j[f"wrist_{s}"], j0[f"wrist_{s}"])
    # Start position: the bird dog's, level, thighs vertical.
    s0 = true_angles(spec, 0.0)
    assert s0["hip_abduction_deg"] == {"left": 0.0, "right": 0.0}
    assert (s0["pelvis_tilt_deg"], s0["trunk_lean_deg"], s0["rep"], s0["lift"]) == (0, 0, None, 0)


def test_fire_hydrant_reps_per_side_and_timeline() -> None:
    spec = SynthSpec(kind="fire_hydrant", reps=5, side="right", hold_top_s=0.5, rep_seconds=2.0)
    reps = hydrant_script(spec).reps
    assert [r.side for r in reps] == ["right"] * 3 + ["left"] * 2
    assert [r.index for r in reps] == [1, 2, 3, 4, 5]
    assert [r.side for r in hydrant_script(SynthSpec(kind="fire_hydrant", reps=4)).reps] == [
        "left",
        "left",
        "right",
        "right",
    ]
    assert [r.side for r in hydrant_script(SynthSpec(kind="fire_hydrant", reps=1)).reps] == ["left"]
    assert reps[0].start_s == pytest.approx(spec.pad_seconds)
    assert reps[-1].end_s == pytest.approx(spec.duration_s - spec.pad_seconds)
    for a, b in zip(reps, reps[1:], strict=False):
        assert b.start_s - a.end_s == pytest.approx(spec.pad_seconds)
    for r in reps:
        assert r.top_start_s - r.start_s == pytest.approx(1.0)
        assert r.top_end_s - r.top_start_s == pytest.approx(0.5)
        assert r.end_s - r.top_end_s == pytest.approx(1.0)
        f = true_angles(spec, 0.5 * (r.top_start_s + r.top_end_s))
        assert (f["rep"], f["working_side"], f["at_top"]) == (r.index, r.side, True)
        assert f["hip_abduction_deg"][r.side] == pytest.approx(45.0, abs=0.5)
        # Halfway up: part of the way, not at the top.
        g = true_angles(spec, r.start_s + 0.5)
        assert g["lifting"] and not g["at_top"] and 0.0 < g["lift"] < 1.0
        assert 0.0 < g["hip_abduction_deg"][r.side] < 45.0
    # Between the sides: the start position, no rep, the next rep's side.
    f = true_angles(spec, 0.5 * (reps[2].end_s + reps[3].start_s))
    assert (f["rep"], f["lifting"], f["working_side"], f["lift"]) == (None, False, "left", 0.0)
    assert f["hip_abduction_deg"] == {"left": 0.0, "right": 0.0}
    assert spec.to_dict()["hydrant_view"] == "back"
    doc = reps[0].to_dict()
    assert set(doc) == {"index", "side", "start_s", "top_start_s", "top_end_s", "end_s"}


def test_bad_fire_hydrant_spec_is_a_clear_error() -> None:
    for kwargs, word in (
        ({"hydrant_abduction_deg": 81.0}, "hydrant_abduction_deg"),
        ({"hydrant_abduction_deg": -1.0}, "hydrant_abduction_deg"),
        ({"hydrant_hike_deg": 31.0}, "hydrant_hike_deg"),
        ({"hydrant_hike_deg": -5.0}, "hydrant_hike_deg"),
        ({"hydrant_lean_deg": 30.5}, "hydrant_lean_deg"),
        ({"hydrant_lean_deg": -1.0}, "hydrant_lean_deg"),
        ({"hydrant_view": "side"}, "hydrant_view"),
        ({"reps": 21}, "reps"),
        ({"reps": 0}, "reps"),
        ({"side": "up"}, "side"),
        ({"hold_top_s": -0.1}, "hold_top_s"),
    ):
        with pytest.raises(InputError, match=word):
            SynthSpec(kind="fire_hydrant", **kwargs)
    SynthSpec(kind="fire_hydrant", reps=20, hydrant_abduction_deg=80.0)


def test_other_kinds_keep_their_spec_json() -> None:
    for kind in ("hinge_flat", "plank", "bird_dog", "pallof_press", "forward_bend"):
        assert not any(name.startswith("hydrant_") for name in SynthSpec(kind=kind).to_dict())
    data = SynthSpec(kind="fire_hydrant", hydrant_view="front").to_dict()
    assert {"side", "hold_top_s", "hydrant_view", "hydrant_lean_deg"} <= set(data)
    assert not {"arm_deg", "sag_deg", "rotation_deg", "bend_hip_deg"} & set(data)
    assert SynthSpec.from_dict(data) == SynthSpec(kind="fire_hydrant", hydrant_view="front")


@pytest.mark.parametrize(
    "spec",
    [
        SynthSpec(kind="fire_hydrant", reps=2, hydrant_abduction_deg=80.0, hydrant_hike_deg=30.0),
        SynthSpec(kind="fire_hydrant", reps=2, side="right", hydrant_lean_deg=30.0, body="heavy"),
        SynthSpec(kind="fire_hydrant", reps=2, hydrant_abduction_deg=0.0, body="slim"),
    ],
    ids=["high-hike", "lean-heavy", "no-lift-slim"],
)
def test_fire_hydrant_rests_on_hands_and_knees(spec: SynthSpec) -> None:
    """Nothing sinks into the floor; both hands and the supporting knee touch it throughout,
    both knees between reps; the lifted knee comes off it."""
    script = hydrant_script(spec)
    for t in np.linspace(0.0, spec.duration_s, 41):
        pose = script.pose(float(t))
        gap, f = pose.floor_gap_m, pose.record
        assert gap["lowest"] > -1e-6, (t, gap)
        assert gap["trunk"] > 0.2, (t, gap)
        w = f["working_side"][0]
        o = "r" if w == "l" else "l"
        for name in ("arm_l", "arm_r", f"knee_{o}"):
            assert -1e-6 < gap[name] < 1e-6, (t, name, gap)
        if f["rep"] is None:
            assert abs(gap[f"knee_{w}"]) < 1e-6, (t, gap)
    top = script.pose(top_time(spec)).floor_gap_m[f"knee_{spec.side[0]}"]
    assert top > 0.05 if spec.hydrant_abduction_deg > 0 else abs(top) < 1e-6


def test_fire_hydrant_cli_renders_and_writes_truth(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out, truth = tmp_path / "h.mp4", tmp_path / "h.json"
    small = ["--width", "160", "--height", "90", "--fps", "5", "--reps", "3"]
    flags = ["--rep-seconds", "1.2", "--hold-top", "0.4", "--hydrant-abduction", "40"]
    argv = [str(out), "--json", str(truth), "--kind", "fire-hydrant", "--side", "right"]
    faults = ["--hydrant-hike", "6", "--hydrant-lean", "4", "--hydrant-view", "front"]
    assert run_cli(argv + small + flags + faults) == 0
    line = capsys.readouterr().out
    assert "fire_hydrant, 3 reps (1 left, 2 right; from the front)" in line
    assert "top hip abduction 40.0 deg, pelvis tilt 6.0 deg, trunk lean 4.0 deg" in line
    doc = json.loads(truth.read_text())
    spec = SynthSpec.from_dict(doc["spec"])
    assert (spec.kind, spec.side, spec.hydrant_view, spec.hydrant_abduction_deg) == (
        "fire_hydrant",
        "right",
        "front",
        40,
    )
    assert (spec.hydrant_hike_deg, spec.hydrant_lean_deg, spec.hold_top_s) == (6, 4, 0.4)
    assert len(doc["frames"]) == spec.frame_count == round(spec.duration_s * 5)
    assert [(r["index"], r["side"]) for r in doc["reps"]] == [
        (1, "right"),
        (2, "right"),
        (3, "left"),
    ]
    top = [f for f in doc["frames"] if f["at_top"]]
    assert {f["rep"] for f in top} == {1, 2, 3}
    for f in top:
        assert f["hip_abduction_deg"][f["working_side"]] == pytest.approx(40.0, abs=0.5)
        assert f["pelvis_tilt_deg"] == pytest.approx(6.0, abs=0.5)
        assert f["trunk_lean_deg"] == pytest.approx(4.0, abs=0.5)
    assert doc["frames"][7] == true_angles(spec, doc["frames"][7]["t"])
    assert run_cli([str(out), "--kind", "fire-hydrant", "--hydrant-hike", "40"]) == 2
    assert "hydrant_hike_deg must be between" in capsys.readouterr().err


def test_fire_hydrant_views_put_the_lifter_left_on_the_expected_side() -> None:
    """From behind the lifter's left is on the image's left, from the front on its right; the
    lifted thigh's angle in the picture from behind is close to the truth."""
    for view, left_on_left in (("back", True), ("front", False)):
        spec = SynthSpec(
            kind="fire_hydrant", hydrant_view=view, width=320, height=180, side="left", reps=2
        )
        px = render_layers(spec, top_time(spec)).joints_px
        assert (px["hip_l"][0] < px["hip_r"][0]) == left_on_left, view
        assert (px["knee_l"][0] < px["hip_l"][0]) == left_on_left, view  # the knee goes out
        for name in ("hip_l", "hip_r", "knee_l", "knee_r", "shoulder_mid"):
            assert 0 <= px[name][0] < 320 and 0 <= px[name][1] < 180, (view, name)
        if view == "back":
            thigh = np.subtract(px["knee_l"], px["hip_l"])
            angle = math.degrees(math.atan2(-thigh[0], thigh[1]))
            assert angle == pytest.approx(45.0, abs=4.0)


# -- MediaPipe ----------------------------------------------------------------------------------
@pytest.mark.parametrize("side", ["left", "right"])
def test_mediapipe_finds_the_hydrant_from_behind(pose_model, side: str) -> None:
    """At the top, from behind: MediaPipe finds the body, both hips and knees inside the
    picture, labelled the right way round, and the lifted thigh's angle from its landmarks
    (hip -> knee from the picture's down, + = out) near the truth (measured: within ~7 deg)."""
    spec = SynthSpec(kind="fire_hydrant", side=side, reps=2)
    layers = render_layers(spec, top_time(spec))
    result = pose_model.process(layers.rgb)
    assert result.pose_landmarks is not None
    lm = result.pose_landmarks.landmark
    p = {i: np.array([lm[i].x * spec.width, lm[i].y * spec.height]) for i in (23, 24, 25, 26)}
    for i in p:
        assert 0 <= p[i][0] < spec.width and 0 <= p[i][1] < spec.height, i
    true = {k: np.array(layers.joints_px[k]) for k in ("hip_l", "hip_r", "knee_l", "knee_r")}
    assert np.linalg.norm(p[23] - true["hip_l"]) < np.linalg.norm(p[23] - true["hip_r"])
    assert np.linalg.norm(p[24] - true["hip_r"]) < np.linalg.norm(p[24] - true["hip_l"])
    hip, knee = (23, 25) if side == "left" else (24, 26)
    out = -1.0 if side == "left" else 1.0  # the lifter's left is the image's left from behind
    thigh = p[knee] - p[hip]
    seen = math.degrees(math.atan2(out * thigh[0], thigh[1]))
    assert seen == pytest.approx(layers.angles["hip_abduction_deg"][side], abs=10.0)
