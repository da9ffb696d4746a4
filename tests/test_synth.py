"""Synthetic lifter renderer: true angles, rendered shape, video output and MediaPipe detection."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import av
import numpy as np
import pytest

from formcheck.errors import InputError
from formcheck.synth import SynthSpec, render_clip, render_frame, render_layers, true_angles
from formcheck.synth.cli import add_synth_parser

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


@pytest.fixture(scope="module")
def pose_model():
    mp = pytest.importorskip("mediapipe")
    with mp.solutions.pose.Pose(
        static_image_mode=True, model_complexity=1, enable_segmentation=True
    ) as pose:
        yield pose


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
