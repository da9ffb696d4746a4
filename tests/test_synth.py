"""Synthetic lifter renderer: true angles, rendered shape, video output and MediaPipe detection."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import av
import numpy as np
import pytest

from formcheck.errors import InputError
from formcheck.synth import SynthSpec, render_clip, render_frame, render_layers, true_angles
from formcheck.synth.birddog import bird_dog_script
from formcheck.synth.body import build_body
from formcheck.synth.cli import add_synth_parser
from formcheck.synth.clip import _pose
from formcheck.synth.hold import hold_script
from formcheck.synth.pallof import pallof_script

ANGLES = (
    "hip_flexion_deg",
    "lumbar_flexion_deg",
    "thoracic_flexion_deg",
    "knee_flexion_deg",
    "trunk_inclination_deg",
)


def bottom_time(spec: SynthSpec, rep: int = 0) -> float:
    return spec.pad_seconds + (rep + 0.5) * spec.rep_seconds


def peaks(spec: SynthSpec) -> dict[str, float]:
    times = np.arange(spec.frame_count) / spec.fps
    frames = [true_angles(spec, float(t)) for t in times]
    return {name: max(f[name] for f in frames) for name in ANGLES}


def test_bad_spec_is_a_clear_error() -> None:
    with pytest.raises(InputError, match="kind"):
        SynthSpec(kind="bench_press")
    with pytest.raises(InputError, match="even"):
        SynthSpec(width=641)
    with pytest.raises(InputError, match="yaw"):
        SynthSpec(yaw_deg=80)


def test_true_angles_are_deterministic_for_a_seed() -> None:
    a = SynthSpec(kind="hinge_round", reps=3, seed=5)
    b = SynthSpec(kind="hinge_round", reps=3, seed=5)
    c = SynthSpec(kind="hinge_round", reps=3, seed=6)
    times = [bottom_time(a, r) for r in range(3)]
    assert [true_angles(a, t) for t in times] == [true_angles(b, t) for t in times]
    assert [true_angles(a, t) for t in times] != [true_angles(c, t) for t in times]


def test_clips_start_and_end_standing() -> None:
    for kind in ("hinge_flat", "hinge_round", "squat"):
        spec = SynthSpec(kind=kind, reps=2)
        for t in (0.0, spec.duration_s):
            angles = true_angles(spec, t)
            for name in ("hip_flexion_deg", "lumbar_flexion_deg", "knee_flexion_deg"):
                assert angles[name] == 0.0, (kind, t, name)
        assert abs(true_angles(spec, 0.0)["trunk_inclination_deg"]) < 5.0


def test_trajectories_follow_their_kind() -> None:
    flat = peaks(SynthSpec(kind="hinge_flat"))
    round_ = peaks(SynthSpec(kind="hinge_round"))
    squat = peaks(SynthSpec(kind="squat"))
    assert 70.0 <= flat["hip_flexion_deg"] <= 90.0
    assert flat["lumbar_flexion_deg"] <= 5.0
    assert 20.0 <= flat["knee_flexion_deg"] <= 40.0
    assert round_["lumbar_flexion_deg"] > flat["lumbar_flexion_deg"] + 15.0
    assert 25.0 <= round_["lumbar_flexion_deg"] <= 45.0
    assert round_["hip_flexion_deg"] < flat["hip_flexion_deg"] - 15.0
    # Both hinges reach a similar depth; a squat keeps the trunk far more upright.
    assert abs(round_["trunk_inclination_deg"] - flat["trunk_inclination_deg"]) < 10.0
    assert squat["knee_flexion_deg"] >= 100.0
    assert squat["hip_flexion_deg"] >= 85.0
    assert squat["lumbar_flexion_deg"] <= 6.0
    assert squat["trunk_inclination_deg"] < flat["trunk_inclination_deg"] - 20.0


def test_the_back_rounds_on_the_way_up_and_a_hollow_back_flattens() -> None:
    """What real lifters do that the two hinges do not: `hinge_round_ascent` keeps the back flat
    down to the bottom and rounds it on the way up; `hinge_hollow` stands with 15 deg more
    lordosis and flattens it in a flat-back hinge."""
    spec = SynthSpec(kind="hinge_round_ascent", reps=1, vary=False)
    times = np.linspace(0.0, spec.duration_s, 400)
    lumbar = np.array([true_angles(spec, t)["lumbar_flexion_deg"] for t in times])
    hip = np.array([true_angles(spec, t)["hip_flexion_deg"] for t in times])
    deepest = int(np.argmax(hip))
    assert lumbar[: deepest + 1].max() <= 1.0  # flat on the way down and at the bottom
    assert 30.0 <= lumbar.max() <= 40.0
    assert int(np.argmax(lumbar)) > deepest
    assert lumbar[-1] == 0.0
    hollow = SynthSpec(kind="hinge_hollow", reps=1, vary=False)
    standing = true_angles(hollow, 0.0)["lumbar_flexion_deg"]
    assert standing == pytest.approx(-15.0)
    assert true_angles(hollow, hollow.duration_s)["lumbar_flexion_deg"] == pytest.approx(-15.0)
    bottom = peaks(hollow)
    assert bottom["lumbar_flexion_deg"] <= 3.0
    assert bottom["lumbar_flexion_deg"] - standing >= 15.0


def test_render_frame_is_deterministic() -> None:
    spec = SynthSpec(kind="hinge_round", width=320, height=180, background="noise", seed=2)
    a = render_frame(spec, 1.0)
    assert a.shape == (180, 320, 3) and a.dtype == np.uint8
    assert np.array_equal(a, render_frame(spec, 1.0))


def dorsal_bulge_px(spec: SynthSpec) -> float:
    """How far the back outline bulges out beyond the sacrum->T1 chord at the bottom (pixels)."""
    layers = render_layers(spec, bottom_time(spec))
    mask = layers.person_mask
    sacrum = np.array(layers.joints_px["sacrum"])
    t1 = np.array(layers.joints_px["t1"])
    knee = np.array(layers.joints_px["knee_mid"])
    chord = t1 - sacrum
    normal = np.array([-chord[1], chord[0]]) / np.linalg.norm(chord)
    if np.dot(knee - sacrum, normal) > 0:
        normal = -normal  # point to the back, away from the thighs
    depth = []
    for s in np.linspace(0.0, 1.0, 21):
        p = sacrum + s * chord
        d = 0.0
        while True:
            x, y = np.round(p + (d + 0.5) * normal).astype(int)
            if not (0 <= y < mask.shape[0] and 0 <= x < mask.shape[1]) or not mask[y, x]:
                break
            d += 0.5
        depth.append(d)
    depth = np.array(depth)
    baseline = np.linspace(depth[0], depth[-1], len(depth))
    return float(np.max(depth - baseline))


def test_rounding_hinge_visibly_rounds_the_back() -> None:
    common = {"width": 960, "height": 540, "distance_m": 2.2, "vary": False}
    flat = dorsal_bulge_px(SynthSpec(kind="hinge_flat", **common))
    round_ = dorsal_bulge_px(SynthSpec(kind="hinge_round", **common))
    # The back between sacrum and T1 spans ~120 px here; rounding doubles its outward arc.
    assert round_ > flat + 4.0, (flat, round_)


def test_render_clip_writes_playable_mp4_and_truth(tmp_path: Path) -> None:
    spec = SynthSpec(kind="squat", width=320, height=180, fps=10, rep_seconds=1.2, pad_seconds=0.2)
    out = tmp_path / "clip.mp4"
    result = render_clip(spec, out, tmp_path / "clip.json")
    assert result.frame_count == spec.frame_count == 16
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert (stream.codec_context.width, stream.codec_context.height) == (320, 180)
        assert sum(1 for _ in container.decode(video=0)) == spec.frame_count
    doc = json.loads((tmp_path / "clip.json").read_text())
    assert doc["schema"] == "formcheck.synth/1"
    assert (doc["fps"], doc["width"], doc["height"]) == (10, 320, 180)
    assert SynthSpec.from_dict(doc["spec"]) == spec
    assert len(doc["frames"]) == 16
    assert set(ANGLES) | {"t"} <= set(doc["frames"][0])
    assert doc["frames"][8] == true_angles(spec, doc["frames"][8]["t"])


def test_render_clip_rejects_bad_output(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        render_clip(SynthSpec(), tmp_path / "clip.avi")
    with pytest.raises(InputError):
        render_clip(SynthSpec(), tmp_path / "missing" / "clip.mp4")


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="formcheck")
    add_synth_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["synth", *argv])
    return args.func(args)


def test_cli_renders_and_reports_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "c.mp4"
    argv = [str(out), "--json", str(tmp_path / "c.json"), "--kind", "hinge_round"]
    small = ["--width", "160", "--height", "90", "--fps", "5", "--rep-seconds", "1"]
    assert run_cli(argv + small) == 0
    assert out.stat().st_size > 0
    assert json.loads((tmp_path / "c.json").read_text())["spec"]["kind"] == "hinge_round"
    assert run_cli([str(out), "--width", "161"]) == 2
    assert "even" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("body", "yaw", "facing"),
    [("average", 0.0, "right"), ("slim", 30.0, "right"), ("heavy", 30.0, "left")],
)
def test_mediapipe_finds_the_mannequin(pose_model, body: str, yaw: float, facing: str) -> None:
    spec = SynthSpec(kind="hinge_round", body=body, yaw_deg=yaw, facing=facing, vary=False)
    near = "r" if facing == "right" else "l"
    landmark = {"hip": 24, "knee": 26} if near == "r" else {"hip": 23, "knee": 25}
    for t in (0.0, bottom_time(spec)):
        layers = render_layers(spec, t)
        result = pose_model.process(layers.rgb)
        assert result.pose_landmarks is not None, (body, yaw, t)
        lm = result.pose_landmarks.landmark
        for joint, index in landmark.items():
            true_x, true_y = layers.joints_px[f"{joint}_{near}"]
            err = np.hypot(lm[index].x * spec.width - true_x, lm[index].y * spec.height - true_y)
            assert err < 15.0, (body, yaw, t, joint, err)
        seg = result.segmentation_mask > 0.5
        torso_covered = (seg & layers.torso_mask).sum() / layers.torso_mask.sum()
        assert torso_covered > 0.9, (body, yaw, t, torso_covered)


# --- holds: plank and side plank --------------------------------------------------------------


def hold_frames(spec: SynthSpec) -> list[dict]:
    return [true_angles(spec, i / spec.fps) for i in range(spec.frame_count)]


def test_plank_is_straight_then_sags_from_the_fault_time() -> None:
    spec = SynthSpec(kind="plank", sag_deg=15.0, fault_at_s=5.0, hold_seconds=8.0, fps=10)
    frames = hold_frames(spec)
    fault_start = spec.hold_start_s + spec.fault_at_s
    for f in frames:
        t = f["t"]
        assert f["holding"] == (spec.hold_start_s - 1e-6 <= t <= spec.hold_end_s + 1e-6), t
        assert f["hip_sag_deg"] == pytest.approx(180.0 - f["body_line_deg"], abs=1e-3)
        if f["holding"] and t <= fault_start:
            assert f["body_line_deg"] == pytest.approx(180.0, abs=0.01), t
    held = [f for f in frames if f["holding"]]
    assert held[-1]["body_line_deg"] == pytest.approx(165.0, abs=0.05)
    assert held[-1]["hip_sag_deg"] == pytest.approx(15.0, abs=0.05)
    # Sag grows monotonically once the fault starts; "form broke" (sag > 5 deg) within the ramp.
    sags = [f["hip_sag_deg"] for f in held]
    assert all(b >= a - 1e-6 for a, b in zip(sags, sags[1:], strict=False))
    broke = next(f["t"] for f in held if f["hip_sag_deg"] > 5.0)
    assert fault_start < broke < fault_start + 1.5
    # Getting in and out is visibly not a hold: knees down, body far from straight.
    for t in (0.0, spec.duration_s):
        f = true_angles(spec, t)
        assert not f["holding"] and f["knee_flexion_deg"] > 60.0 and f["body_line_deg"] < 170.0


def test_plank_sag_is_hip_and_lumbar_extension_and_pike_is_the_opposite() -> None:
    sag = SynthSpec(kind="plank", sag_deg=15.0, fault_at_s=0.0, hold_seconds=3.0)
    pike = SynthSpec(kind="plank", sag_deg=-15.0, fault_at_s=0.0, hold_seconds=3.0)
    straight = true_angles(SynthSpec(kind="plank", hold_seconds=3.0), sag.hold_end_s)
    s, p = true_angles(sag, sag.hold_end_s), true_angles(pike, pike.hold_end_s)
    assert s["hip_sag_deg"] == pytest.approx(15.0, abs=0.05)
    assert p["hip_sag_deg"] == pytest.approx(-15.0, abs=0.05)
    assert p["body_line_deg"] == pytest.approx(165.0, abs=0.05)
    # Sag: hip and lumbar extension by the same angle (negative flexion); pike: flexion.
    d_hip = s["hip_flexion_deg"] - straight["hip_flexion_deg"]
    assert d_hip < -5.0 and s["lumbar_flexion_deg"] == pytest.approx(d_hip, abs=1e-3)
    assert p["hip_flexion_deg"] > straight["hip_flexion_deg"] + 5.0
    assert p["lumbar_flexion_deg"] > 5.0
    # Sign: the hip is below the shoulder-ankle line for sag, above it for a pike.
    for spec, below in ((sag, True), (pike, False)):
        j = hold_script(spec).pose(spec.hold_end_s).skeleton.joints
        sh, hip, an = j["shoulder_mid"], j["hip_mid"], j["ankle_mid"]
        u = (hip[0] - an[0]) / (sh[0] - an[0])
        line_y = an[1] + u * (sh[1] - an[1])
        assert (hip[1] < line_y) == below


def test_side_plank_drop_is_in_the_frontal_plane() -> None:
    spec = SynthSpec(kind="side_plank", drop_deg=12.0, fault_at_s=1.0, hold_seconds=3.0, fps=10)
    frames = hold_frames(spec)
    held = [f for f in frames if f["holding"]]
    assert len(held) == round(spec.hold_seconds * spec.fps) + 1
    assert held[0]["body_line_deg"] == pytest.approx(180.0, abs=0.01)
    assert held[-1]["hip_drop_deg"] == pytest.approx(12.0, abs=0.05)
    assert held[-1]["body_line_deg"] == pytest.approx(168.0, abs=0.05)
    assert "hip_sag_deg" not in held[0]
    # The start position has the hips down towards the floor.
    assert frames[0]["hip_drop_deg"] > 20.0 and not frames[0]["holding"]
    for side in ("left", "right"):
        s = SynthSpec(kind="side_plank", side=side, drop_deg=12.0, fault_at_s=0.0, hold_seconds=2)
        pose = hold_script(s).pose(s.hold_end_s)
        j = pose.skeleton.joints
        down = "l" if side == "left" else "r"
        up = "r" if side == "left" else "l"
        # The named side is on the floor, the chest faces the camera (+z when facing right).
        assert j[f"shoulder_{down}"][1] < j[f"shoulder_{up}"][1] - 0.2
        assert j[f"hip_{down}"][1] < j[f"hip_{up}"][1] - 0.1
        assert j["head"][2] > j["t1"][2]
        # Hip drop: the hip centre is below the shoulder-ankle line; the 3D angle agrees with
        # the frontal-plane one.
        sh, hip, an = j["shoulder_mid"], j["hip_mid"], j["ankle_mid"]
        u = (hip[0] - an[0]) / (sh[0] - an[0])
        assert hip[1] < an[1] + u * (sh[1] - an[1])
        a, b = sh - hip, an - hip
        angle_3d = np.degrees(np.arccos(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b)))
        assert angle_3d == pytest.approx(168.0, abs=0.5)


@pytest.mark.parametrize(
    "spec",
    [
        SynthSpec(kind="plank", sag_deg=20.0, hold_seconds=2.0, fault_at_s=0.0),
        SynthSpec(kind="plank", sag_deg=-25.0, hold_seconds=2.0, fault_at_s=0.0, body="heavy"),
        SynthSpec(kind="side_plank", drop_deg=25.0, hold_seconds=2.0, fault_at_s=0.0),
        SynthSpec(
            kind="side_plank", drop_deg=-15.0, hold_seconds=2.0, fault_at_s=0.5, side="right"
        ),
    ],
    ids=["plank-sag", "plank-pike", "side-drop", "side-high"],
)
def test_hold_rests_on_the_floor(spec: SynthSpec) -> None:
    """Toes (or knees) and forearms touch y = 0; nothing floats or sinks far into the floor;
    the supporting upper arm is vertical and keeps its length."""
    script = hold_script(spec)
    k = spec.shape.height_m / 1.75
    arms = ("l", "r") if spec.kind == "plank" else (spec.side[0],)
    for t in np.linspace(0.0, spec.duration_s, 9):
        pose = script.pose(float(t))
        gap = pose.floor_gap_m
        assert abs(gap["feet"]) < 0.003, (t, gap)
        assert abs(gap["arms"]) < 0.003, (t, gap)
        assert gap["lowest"] > -0.003, (t, gap)
        assert gap["trunk"] > -0.002, (t, gap)
        j = pose.skeleton.joints
        for s in arms:
            upper = j[f"shoulder_{s}"] - j[f"elbow_{s}"]
            assert np.linalg.norm(upper) == pytest.approx(0.30 * k, abs=1e-6)
            assert np.hypot(upper[0], upper[2]) < 1e-6
            fore = j[f"wrist_{s}"] - j[f"elbow_{s}"]
            assert abs(fore[1]) < 0.02 and np.linalg.norm(fore) == pytest.approx(0.26 * k, abs=1e-6)


def test_a_fault_the_floor_stops_is_reported_as_reached() -> None:
    spec = SynthSpec(kind="side_plank", drop_deg=30.0, body="heavy", fault_at_s=0.0)
    script = hold_script(spec)
    assert script.fault_reached_deg < 30.0
    end = script.pose(spec.hold_end_s)
    assert end.record["hip_drop_deg"] == pytest.approx(script.fault_reached_deg, abs=0.01)
    gap = end.floor_gap_m
    assert min(gap["trunk"], gap["feet"]) == pytest.approx(0.0, abs=0.002)


def test_hold_clip_writes_truth(tmp_path: Path) -> None:
    common = {"width": 160, "height": 90, "fps": 5, "hold_seconds": 2.0, "fault_at_s": 1.0}
    for kind, fault in (("plank", {"sag_deg": 10.0}), ("side-plank", {"drop_deg": 10.0})):
        spec = SynthSpec(kind=kind, **common, **fault)
        result = render_clip(spec, tmp_path / "h.mp4", tmp_path / "h.json")
        doc = json.loads((tmp_path / "h.json").read_text())
        assert result.frame_count == len(doc["frames"]) == round(spec.duration_s * 5) == 24
        assert SynthSpec.from_dict(doc["spec"]) == spec
        assert doc["spec"]["kind"] == kind.replace("-", "_")
        assert doc["hold_start_s"] == pytest.approx(spec.pad_seconds + 1.0)
        assert doc["hold_end_s"] == pytest.approx(doc["hold_start_s"] + 2.0)
        assert doc["fault_start_s"] == pytest.approx(doc["hold_start_s"] + 1.0)
        assert doc["fault_reached_deg"] == 10.0
        assert ("side" in doc) == (spec.kind == "side_plank")
        key = "hip_sag_deg" if spec.kind == "plank" else "hip_drop_deg"
        for f in doc["frames"]:
            assert {"t", "body_line_deg", key, "holding", "hip_flexion_deg"} <= set(f)
            inside = doc["hold_start_s"] - 1e-6 <= f["t"] <= doc["hold_end_s"] + 1e-6
            assert f["holding"] == inside
        assert doc["frames"][10] == true_angles(spec, doc["frames"][10]["t"])
        layers = render_layers(spec, spec.hold_start_s + 0.5)
        assert layers.person_mask.sum() > 200
        for name in ("shoulder_mid", "hip_mid", "ankle_mid"):
            x, y = layers.joints_px[name]
            assert 0 <= x < 160 and 0 <= y < 90 and layers.person_mask[int(y), int(x)], name


def test_rep_kinds_keep_their_spec_json() -> None:
    data = SynthSpec(kind="hinge_round").to_dict()
    assert not {"hold_seconds", "sag_deg", "drop_deg", "fault_at_s", "side"} & set(data)
    assert SynthSpec.from_dict(data) == SynthSpec(kind="hinge_round")


def test_a_loose_shirt_bridges_the_hollow_of_the_back() -> None:
    """`shirt="loose"` fills the lordotic hollow between the buttocks and the shoulder blades
    (more body in the picture there, none taken away); a fitted shirt's spec JSON is unchanged,
    so renders made before loose shirts keep their cache keys."""
    hollow = SynthSpec(kind="hinge_hollow", width=1280, height=720)
    fitted = render_layers(hollow, 0.2).person_mask
    loose = render_layers(replace(hollow, shirt="loose"), 0.2).person_mask
    assert not (fitted & ~loose).any()
    added = loose & ~fitted
    assert added.sum() > 200
    layers = render_layers(hollow, 0.2)
    ys = np.flatnonzero(added.any(axis=1))
    hip_y, t1_y = layers.joints_px["hip_mid"][1], layers.joints_px["t1"][1]
    assert t1_y < ys.min() and ys.max() < hip_y + 0.1 * (hip_y - t1_y)  # on the trunk
    assert "shirt" not in SynthSpec(kind="hinge_flat").to_dict()
    assert SynthSpec(kind="hinge_flat", shirt="loose").to_dict()["shirt"] == "loose"
    with pytest.raises(InputError, match="shirt"):
        SynthSpec(shirt="baggy")


def test_bad_hold_spec_is_a_clear_error() -> None:
    for kwargs, word in (
        ({"sag_deg": 31.0}, "sag_deg"),
        ({"sag_deg": -30.5}, "sag_deg"),
        ({"drop_deg": -21.0}, "drop_deg"),
        ({"drop_deg": 30.5}, "drop_deg"),
        ({"hold_seconds": 0.5}, "hold_seconds"),
        ({"hold_seconds": 121.0}, "hold_seconds"),
        ({"side": "up"}, "side"),
        ({"fault_at_s": -1.0}, "fault_at_s"),
        ({"sag_deg": 10.0, "hold_seconds": 3.0, "fault_at_s": 5.0}, "within the hold"),
    ):
        with pytest.raises(InputError, match=word):
            SynthSpec(kind="plank", **kwargs)
    # Without a fault the fault time does not matter.
    SynthSpec(kind="plank", hold_seconds=3.0, fault_at_s=5.0)


def test_cli_renders_a_side_plank(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "s.mp4"
    small = ["--width", "160", "--height", "90", "--fps", "4", "--hold-seconds", "2"]
    argv = [str(out), "--json", str(tmp_path / "s.json"), "--kind", "side-plank", "--drop", "8"]
    assert run_cli(argv + small + ["--fault-at", "0.5", "--side", "right"]) == 0
    doc = json.loads((tmp_path / "s.json").read_text())
    assert (doc["spec"]["kind"], doc["side"], doc["spec"]["drop_deg"]) == ("side_plank", "right", 8)
    assert "hip_drop" in capsys.readouterr().out
    assert run_cli([str(out), "--kind", "plank", "--sag", "40"]) == 2
    assert "sag_deg must be between -30.0 and 30.0" in capsys.readouterr().err
    assert run_cli([str(out), "--kind", "plank", "--hold-seconds", "200"]) == 2
    assert "hold_seconds" in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["plank", "side_plank"])
def test_mediapipe_follows_the_hold(pose_model, kind: str) -> None:
    """The pose model finds the mannequin on the floor, and the shoulder-hip-ankle angle from
    its landmarks moves with the scripted sag / drop. Measured (formcheck.synth.holdcheck,
    average body, 640x360): the plank reads ~5 deg towards a pike throughout (0.3 deg MAE
    after that offset), the side plank within ~1.5 deg."""
    from formcheck.synth.holdcheck import signed_deviation

    fault = {"sag_deg": 15.0} if kind == "plank" else {"drop_deg": 15.0}
    spec = SynthSpec(kind=kind, hold_seconds=4.0, fault_at_s=1.0, **fault)
    key = "hip_sag_deg" if kind == "plank" else "hip_drop_deg"
    seen = {}
    for t in (spec.hold_start_s + 0.5, spec.hold_end_s):
        layers = render_layers(spec, t)
        result = pose_model.process(layers.rgb)
        assert result.pose_landmarks is not None, (kind, t)
        lm = result.pose_landmarks.landmark
        px = np.array([[p.x * spec.width, p.y * spec.height] for p in lm])
        dev = signed_deviation(px[[11, 12]].mean(0), px[[23, 24]].mean(0), px[[27, 28]].mean(0))
        seen[t] = (dev, layers.angles[key])
    (straight, true0), (faulted, true1) = seen.values()
    assert (true0, true1) == (0.0, 15.0)
    assert 11.0 < faulted - straight < 19.0, seen
    offset = 8.0 if kind == "plank" else 4.0
    assert abs(straight) < offset and abs(faulted - 15.0) < offset, seen


# --- bird dog ---------------------------------------------------------------------------------


def bird_dog_top(spec: SynthSpec, rep: int = 0) -> float:
    r = bird_dog_script(spec).reps[rep]
    return 0.5 * (r.top_start_s + r.top_end_s)


def test_bird_dog_top_has_the_scripted_arm_and_leg() -> None:
    spec = SynthSpec(
        kind="bird-dog", side="right", arm_deg=10.0, leg_deg=20.0, lumbar_ext_deg=12.0, reps=2
    )
    assert spec.kind == "bird_dog"
    f = true_angles(spec, bird_dog_top(spec))
    assert (f["rep"], f["reaching_side"], f["at_top"]) == (1, "right", True)
    assert f["arm_elevation_deg"] == pytest.approx(10.0, abs=0.5)
    assert f["leg_elevation_deg"] == pytest.approx(20.0, abs=0.5)
    # Right leg, left arm; the supporting limbs keep their start angles.
    assert f["arm_elevation_left_deg"] == f["arm_elevation_deg"]
    assert f["leg_elevation_right_deg"] == f["leg_elevation_deg"]
    assert f["arm_elevation_right_deg"] < -95.0 and -40.0 < f["leg_elevation_left_deg"] < -25.0
    assert f["lumbar_extension_deg"] == pytest.approx(12.0)
    # The truth is what the rendered joints show: straight arm and knee, in the sagittal plane.
    j = bird_dog_script(spec).pose(bird_dog_top(spec)).skeleton.joints
    for a, b, c in (("shoulder_l", "elbow_l", "wrist_l"), ("hip_r", "knee_r", "ankle_r")):
        u, v = j[b] - j[a], j[c] - j[b]
        assert np.dot(u, v) / np.linalg.norm(u) / np.linalg.norm(v) == pytest.approx(1.0)
    trunk = j["shoulder_mid"] - j["hip_mid"]
    arm = j["wrist_l"] - j["shoulder_l"]
    angle = np.degrees(np.arctan2(arm[1], arm[0]) - np.arctan2(trunk[1], trunk[0]))
    assert angle == pytest.approx(10.0, abs=0.01) and abs(trunk[2]) < 1e-9
    # Start position: hands and knees, thighs and arms vertical, knees bent ~90 deg.
    s = true_angles(spec, 0.0)
    assert (s["rep"], s["reaching_side"], s["at_top"], s["lumbar_extension_deg"]) == (
        None,
        None,
        False,
        0.0,
    )
    assert 5.0 < s["trunk_tilt_deg"] < 20.0
    assert s["arm_elevation_deg"] == pytest.approx(-90.0 - s["trunk_tilt_deg"], abs=0.01)
    j = bird_dog_script(spec).pose(0.0).skeleton.joints
    for side in ("l", "r"):
        thigh, shin = j[f"knee_{side}"] - j[f"hip_{side}"], j[f"ankle_{side}"] - j[f"knee_{side}"]
        assert abs(thigh[0]) < 1e-9 and abs(shin[1]) < 0.02 and shin[0] < 0
        assert abs((j[f"wrist_{side}"] - j[f"shoulder_{side}"])[0]) < 1e-9


def test_bird_dog_reps_alternate_sides() -> None:
    spec = SynthSpec(kind="bird_dog", reps=3, side="left", fps=10, hold_top_s=0.5)
    reps = bird_dog_script(spec).reps
    assert [r.side for r in reps] == ["left", "right", "left"]
    assert reps[0].start_s == pytest.approx(spec.pad_seconds)
    assert reps[-1].end_s == pytest.approx(spec.duration_s - spec.pad_seconds)
    for a, b in zip(reps, reps[1:], strict=False):
        assert b.start_s - a.end_s == pytest.approx(spec.pad_seconds)
    for r in reps:
        assert r.top_start_s - r.start_s == pytest.approx(0.5 * spec.rep_seconds)
        assert r.top_end_s - r.top_start_s == pytest.approx(0.5)
        f = true_angles(spec, 0.5 * (r.top_start_s + r.top_end_s))
        arm = "right" if r.side == "left" else "left"
        assert (f["rep"], f["reaching_side"], f["at_top"]) == (r.index, r.side, True)
        assert f[f"leg_elevation_{r.side}_deg"] == pytest.approx(0.0, abs=0.5)
        assert f[f"arm_elevation_{arm}_deg"] == pytest.approx(0.0, abs=0.5)
    # Between reps: the start position, no rep; limbs reported are the next rep's.
    f = true_angles(spec, 0.5 * (reps[0].end_s + reps[1].start_s))
    assert f["rep"] is None and f["reaching_side"] is None and not f["at_top"]
    assert f["leg_elevation_deg"] == f["leg_elevation_right_deg"] < -25.0
    with pytest.raises(InputError, match="reps"):
        SynthSpec(kind="bird_dog", reps=11)
    for kwargs, word in (
        ({"leg_deg": 41.0}, "leg_deg"),
        ({"leg_deg": -11.0}, "leg_deg"),
        ({"arm_deg": 31.0}, "arm_deg"),
        ({"lumbar_ext_deg": 26.0}, "lumbar_ext_deg"),
        ({"hold_top_s": -0.1}, "hold_top_s"),
    ):
        with pytest.raises(InputError, match=word):
            SynthSpec(kind="bird_dog", **kwargs)


@pytest.mark.parametrize(
    "spec",
    [
        SynthSpec(kind="bird_dog", reps=2, leg_deg=40.0, arm_deg=30.0, lumbar_ext_deg=25.0),
        SynthSpec(kind="bird_dog", reps=2, leg_deg=-10.0, arm_deg=-30.0, body="slim"),
        SynthSpec(kind="bird_dog", reps=2, side="right", body="heavy", lumbar_ext_deg=10.0),
    ],
    ids=["high", "low-slim", "heavy"],
)
def test_bird_dog_rests_on_hands_and_knees(spec: SynthSpec) -> None:
    """Nothing sinks into the floor; the supporting hand and leg touch it throughout, both
    hands and both legs between reps."""
    script = bird_dog_script(spec)
    for t in np.linspace(0.0, spec.duration_s, 41):
        pose = script.pose(float(t))
        gap, f = pose.floor_gap_m, pose.record
        assert gap["lowest"] > -1e-6, (t, gap)
        assert gap["trunk"] > 0.2, (t, gap)
        if f["rep"] is None:
            supports = ["arm_l", "arm_r", "leg_l", "leg_r"]
        else:
            # The raised leg's side supports with its arm; the other side with its leg.
            leg = f["reaching_side"][0]
            supports = [f"arm_{leg}", f"leg_{'r' if leg == 'l' else 'l'}"]
        for name in supports:
            assert -1e-6 < gap[name] < 0.01, (t, name, gap)


def test_bird_dog_cli_renders_and_writes_truth(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out, truth = tmp_path / "b.mp4", tmp_path / "b.json"
    small = ["--width", "160", "--height", "90", "--fps", "10", "--reps", "2"]
    flags = ["--rep-seconds", "1.2", "--hold-top", "0.4", "--leg-deg", "15", "--arm-deg", "5"]
    argv = [str(out), "--json", str(truth), "--kind", "bird-dog", "--side", "right"]
    assert run_cli(argv + small + flags + ["--lumbar-ext", "8"]) == 0
    assert "bird_dog, 2 reps (legs right, left)" in capsys.readouterr().out
    doc = json.loads(truth.read_text())
    spec = SynthSpec.from_dict(doc["spec"])
    assert (spec.kind, spec.hold_top_s, spec.leg_deg, spec.arm_deg) == ("bird_dog", 0.4, 15, 5)
    assert (spec.lumbar_ext_deg, spec.side, spec.rep_seconds) == (8, "right", 1.2)
    assert not {"hold_seconds", "sag_deg", "drop_deg", "fault_at_s"} & set(doc["spec"])
    assert len(doc["frames"]) == spec.frame_count == round(spec.duration_s * 10) == 44
    assert [(r["index"], r["side"]) for r in doc["reps"]] == [(1, "right"), (2, "left")]
    rep = doc["reps"][0]
    assert rep["top_end_s"] - rep["top_start_s"] == pytest.approx(0.4)
    keys = {
        "t",
        "arm_elevation_deg",
        "leg_elevation_deg",
        "arm_elevation_left_deg",
        "arm_elevation_right_deg",
        "leg_elevation_left_deg",
        "leg_elevation_right_deg",
        "lumbar_extension_deg",
        "trunk_tilt_deg",
        "rep",
        "reaching_side",
        "at_top",
    }
    top = [f for f in doc["frames"] if f["at_top"]]
    assert top and keys <= set(top[0])
    assert all(f["leg_elevation_deg"] == pytest.approx(15.0, abs=0.5) for f in top)
    assert all(f["lumbar_extension_deg"] == pytest.approx(8.0) for f in top)
    assert doc["frames"][10] == true_angles(spec, doc["frames"][10]["t"])
    with av.open(str(out)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 44
    layers = render_layers(spec, bird_dog_top(spec))
    for name in ("shoulder_mid", "hip_mid", "wrist_l", "ankle_r"):
        x, y = layers.joints_px[name]
        assert 0 <= x < 160 and 0 <= y < 90, name
    assert run_cli([str(out), "--kind", "bird-dog", "--leg-deg", "50"]) == 2
    assert "leg_deg must be between" in capsys.readouterr().err


# --- Pallof press -----------------------------------------------------------------------------


def pallof_top(spec: SynthSpec, rep: int = 0) -> float:
    r = pallof_script(spec).reps[rep]
    return 0.5 * (r.top_start_s + r.top_end_s)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"rotation_deg": 15.0},
        {"rotation_deg": 30.0, "lean_deg": 20.0, "side": "left", "body": "slim"},
        {"rotation_deg": -20.0, "lean_deg": -10.0, "body": "heavy"},
    ],
    ids=["clean", "rotation", "both-left", "negative-heavy"],
)
def test_pallof_press_top_and_chest_have_the_scripted_pose(kwargs: dict) -> None:
    spec = SynthSpec(kind="pallof-press", reps=2, **kwargs)
    assert spec.kind == "pallof_press" and spec.side == kwargs.get("side", "right")
    f = true_angles(spec, pallof_top(spec))
    assert (f["rep"], f["at_top"], f["press"]) == (1, True, 1.0)
    assert f["elbow_extension_deg"] == pytest.approx(180.0, abs=2.0)
    assert f["trunk_rotation_deg"] == pytest.approx(spec.rotation_deg, abs=0.5)
    assert f["lateral_lean_deg"] == pytest.approx(spec.lean_deg, abs=0.5)
    assert 0.4 < f["hand_distance_m"] < 0.65
    # The truth is what the world joints show.
    j = pallof_script(spec).pose(pallof_top(spec)).skeleton.joints
    sh, hips = j["shoulder_r"] - j["shoulder_l"], j["hip_r"] - j["hip_l"]
    turn = np.degrees(np.arctan2(-sh[0], sh[2]) - np.arctan2(-hips[0], hips[2]))
    assert turn * (1.0 if spec.side == "right" else -1.0) == pytest.approx(spec.rotation_deg)
    # Hands pressed forward (towards the camera), turned with the trunk towards the anchor.
    hands = 0.5 * (j["wrist_l"] + j["wrist_r"]) - j["sternum"]
    assert hands[0] > 0.3
    sideways = np.degrees(np.arctan2(hands[2], hands[0]))
    sign = 1.0 if spec.side == "right" else -1.0
    if spec.lean_deg == 0.0:
        assert sign * sideways == pytest.approx(spec.rotation_deg, abs=2.0)
    else:  # the lean tilts the hands' path too
        assert sign * sideways * spec.rotation_deg > 0.5 * spec.rotation_deg**2
    # At the chest: elbows bent, hands close, trunk square; legs and pelvis never move.
    s = true_angles(spec, 0.0)
    assert (s["rep"], s["at_top"], s["press"]) == (None, False, 0.0)
    assert s["elbow_extension_deg"] < 100.0 and s["hand_distance_m"] < 0.25
    assert s["trunk_rotation_deg"] == 0.0 and s["lateral_lean_deg"] == 0.0
    j0 = pallof_script(spec).pose(0.0).skeleton.joints
    for name in ("hip_l", "hip_r", "knee_l", "knee_r", "ankle_l", "ankle_r", "hip_mid"):
        assert np.allclose(j0[name], j[name]), name
    # Half way out, the faults are half way in.
    r = pallof_script(spec).reps[0]
    m = true_angles(spec, 0.5 * (r.start_s + r.top_start_s))
    assert m["press"] == pytest.approx(0.5) and not m["at_top"]
    assert m["trunk_rotation_deg"] == pytest.approx(0.5 * spec.rotation_deg, abs=0.5)
    assert s["elbow_extension_deg"] < m["elbow_extension_deg"] < f["elbow_extension_deg"]


def test_pallof_press_timeline_and_spec() -> None:
    spec = SynthSpec(kind="pallof_press", reps=3, hold_top_s=0.5, pad_seconds=0.6)
    reps = pallof_script(spec).reps
    assert reps[0].start_s == pytest.approx(0.6)
    assert reps[-1].end_s == pytest.approx(spec.duration_s - 0.6)
    for a, b in zip(reps, reps[1:], strict=False):
        assert b.start_s - a.end_s == pytest.approx(0.6)
    for r in reps:
        assert r.top_end_s - r.top_start_s == pytest.approx(0.5)
        assert true_angles(spec, 0.5 * (r.top_start_s + r.top_end_s))["rep"] == r.index
    data = spec.to_dict()
    assert {"rotation_deg", "lean_deg", "side", "hold_top_s"} <= set(data)
    assert not {"hold_seconds", "sag_deg", "arm_deg", "lumbar_ext_deg"} & set(data)
    assert SynthSpec.from_dict(data) == spec
    # Other kinds keep their spec JSON and their default side.
    assert not {"rotation_deg", "lean_deg"} & set(SynthSpec(kind="bird_dog").to_dict())
    assert not {"rotation_deg", "lean_deg"} & set(SynthSpec(kind="side_plank").to_dict())
    assert SynthSpec(kind="bird_dog").side == SynthSpec(kind="side_plank").side == "left"
    for kwargs, word in (
        ({"rotation_deg": 31.0}, "rotation_deg"),
        ({"rotation_deg": -31.0}, "rotation_deg"),
        ({"lean_deg": 21.0}, "lean_deg"),
        ({"side": "front"}, "side"),
    ):
        with pytest.raises(InputError, match=word):
            SynthSpec(kind="pallof_press", **kwargs)


def test_pallof_press_cli_renders_from_the_front_and_writes_truth(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out, truth = tmp_path / "p.mp4", tmp_path / "p.json"
    small = ["--width", "160", "--height", "90", "--fps", "10", "--reps", "2"]
    flags = ["--rep-seconds", "1.2", "--hold-top", "0.4", "--rotation", "12", "--lean", "6"]
    assert run_cli([str(out), "--json", str(truth), "--kind", "pallof-press"] + small + flags) == 0
    assert "pallof_press, 2 reps (anchor right)" in capsys.readouterr().out
    doc = json.loads(truth.read_text())
    spec = SynthSpec.from_dict(doc["spec"])
    assert (spec.kind, spec.side, spec.rotation_deg, spec.lean_deg) == (
        "pallof_press",
        "right",
        12,
        6,
    )
    assert doc["anchor_side"] == "right"
    assert len(doc["frames"]) == spec.frame_count == round(spec.duration_s * 10) == 44
    assert [r["index"] for r in doc["reps"]] == [1, 2]
    keys = {
        "t",
        "elbow_extension_deg",
        "hand_distance_m",
        "press",
        "trunk_rotation_deg",
        "lateral_lean_deg",
        "rep",
        "at_top",
    }
    top = [f for f in doc["frames"] if f["at_top"]]
    assert top and all(keys <= set(f) for f in doc["frames"])
    assert all(f["trunk_rotation_deg"] == pytest.approx(12.0, abs=0.5) for f in top)
    assert doc["frames"][10] == true_angles(spec, doc["frames"][10]["t"])
    with av.open(str(out)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 44
    # Seen from the front: the lifter's right is on the image's left, the whole body in view.
    layers = render_layers(spec, pallof_top(spec))
    px = layers.joints_px
    assert px["shoulder_r"][0] < px["shoulder_l"][0] and px["hip_r"][0] < px["hip_l"][0]
    for name in ("head", "shoulder_mid", "hip_mid", "wrist_l", "ankle_l", "ankle_r"):
        x, y = px[name]
        assert 0 <= x < 160 and 0 <= y < 90, name
    assert run_cli([str(out), "--kind", "pallof-press", "--lean", "25"]) == 2
    assert "lean_deg must be between" in capsys.readouterr().err


def test_forward_bend_reaches_the_scripted_bottom_with_straight_knees() -> None:
    spec = SynthSpec(
        kind="forward-bend", load="bar", bend_hip_deg=80, bend_lumbar_deg=30, bend_thoracic_deg=10
    )
    assert (spec.kind, spec.load) == ("forward_bend", "none")
    assert SynthSpec.from_dict(spec.to_dict()) == spec
    bottom = true_angles(spec, bottom_time(spec))
    assert bottom["hip_flexion_deg"] == pytest.approx(80.0, abs=0.5)
    assert bottom["lumbar_flexion_deg"] == pytest.approx(30.0, abs=0.5)
    assert bottom["thoracic_flexion_deg"] == pytest.approx(10.0, abs=0.5)
    times = np.arange(spec.frame_count) / spec.fps
    assert all(true_angles(spec, float(t))["knee_flexion_deg"] == 0.0 for t in times)
    for t in (0.0, spec.duration_s):
        assert true_angles(spec, t)["hip_flexion_deg"] == 0.0
    # Arms hang: hands below the knees at the bottom; the deepest bend keeps them off the floor.
    px = render_layers(replace(spec, width=160, height=90), bottom_time(spec)).joints_px
    assert px["wrist_r"][1] > px["knee_r"][1]
    deepest = SynthSpec(
        kind="forward_bend", bend_hip_deg=110, bend_lumbar_deg=60, bend_thoracic_deg=30
    )
    sk, _ = _pose(deepest, bottom_time(deepest), [])
    spheres = build_body(sk, deepest.shape, (0, 0, 0), deepest.load)
    assert (spheres.centres[:, 1] - spheres.radii).min() >= -1e-9
    # Other kinds' spec JSON has no forward-bend fields.
    assert not {"bend_hip_deg", "lumbar_lead"} & set(SynthSpec(kind="hinge_flat").to_dict())
    with pytest.raises(InputError, match="lumbar_lead"):
        SynthSpec(kind="forward_bend", lumbar_lead=3.5)
    with pytest.raises(InputError, match="bend_hip_deg"):
        SynthSpec(kind="forward_bend", bend_hip_deg=120)


def test_forward_bend_lumbar_lead_bends_the_lower_back_first() -> None:
    def lumbar_at_quarter_hip(lead: float) -> float:
        spec = SynthSpec(kind="forward_bend", lumbar_lead=lead)
        times = np.linspace(spec.pad_seconds, bottom_time(spec), 4000)
        for t in times:
            angles = true_angles(spec, float(t))
            if angles["hip_flexion_deg"] >= spec.bend_hip_deg / 4:
                return angles["lumbar_flexion_deg"] / spec.bend_lumbar_deg
        raise AssertionError("hip never reached a quarter of its bottom value")

    assert lumbar_at_quarter_hip(2.0) > 0.5
    assert lumbar_at_quarter_hip(1.0) == pytest.approx(0.25, abs=0.01)


def test_forward_bend_cli_renders_and_writes_truth(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out, truth = tmp_path / "fb.mp4", tmp_path / "fb.json"
    small = ["--width", "160", "--height", "90", "--fps", "10", "--rep-seconds", "1.2"]
    flags = ["--bend-hip", "75", "--bend-lumbar", "35", "--lumbar-lead", "2"]
    assert run_cli([str(out), "--json", str(truth), "--kind", "forward-bend"] + small + flags) == 0
    assert "forward_bend, 1 reps, peak hip flexion 75.0 deg" in capsys.readouterr().out
    doc = json.loads(truth.read_text())
    spec = SynthSpec.from_dict(doc["spec"])
    assert (spec.kind, spec.load, spec.bend_hip_deg, spec.lumbar_lead) == (
        "forward_bend",
        "none",
        75,
        2,
    )
    assert len(doc["frames"]) == spec.frame_count == 20
    assert all(set(ANGLES) | {"t"} <= set(f) for f in doc["frames"])
    assert doc["frames"][10] == true_angles(spec, doc["frames"][10]["t"])
    assert run_cli([str(out), "--kind", "forward-bend", "--bend-lumbar", "70"]) == 2
    assert "bend_lumbar_deg must be between" in capsys.readouterr().err
