"""Keyframes: the pose stride per frame rate, frames between keyframes filled in, the decoder's
stride, and keyframe analysis against every-frame analysis on a real 60 fps clip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from formcheck.keyframes import fill_between, pose_stride
from formcheck.passone import Observation
from formcheck.pose import Pose
from formcheck.spine import BackShape
from formcheck.video import VideoSource
from formcheck.view import FrameView

FOOTAGE = Path(__file__).resolve().parents[1] / ".." / "shared" / "footage"


def test_pose_stride_by_frame_rate() -> None:
    assert [pose_stride(fps) for fps in (24, 25, 29.97, 30, 40)] == [1, 1, 1, 1, 1]
    assert [pose_stride(fps) for fps in (50, 59.94, 60, 90, 120, 240)] == [2, 2, 2, 3, 4, 8]
    assert pose_stride(60, None) == pose_stride(60, 0) == 1
    assert pose_stride(0.0) == 1  # unknown rate: every frame


def _key(t: float, x: float, lumbar: float, facing: int = 1) -> Observation:
    """A keyframe whose landmarks all sit at (x, 100) with a back at `lumbar` degrees."""
    lm = np.tile([x, 100.0], (33, 1))
    pose = Pose(lm, np.full(33, 0.9), (640, 360))
    back = BackShape(
        outline=np.array([[x, 100.0], [x, 50.0]], dtype=np.float32),
        pelvis_incl=10.0,
        thoracolumbar_incl=10.0 + lumbar,
        upper_thoracic_incl=None,
        confidence=0.8,
        back_bend=lumbar / 2,
    )
    return Observation(t, pose, FrameView(10.0 + x / 10, facing), {1: back, -1: None}, people=1)


def _gap(t: float) -> Observation:
    return Observation(t, None, None, {}, key=False)


def test_frames_between_keyframes_are_interpolated() -> None:
    obs = [_key(0.0, 0.0, 0.0), _gap(0.25), _gap(0.5), _gap(0.75), _key(1.0, 40.0, 20.0)]
    out = fill_between(obs)
    assert [o.t for o in out] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert [o.key for o in out] == [True, False, False, False, True]
    mid = out[2]
    assert np.allclose(mid.pose.landmarks, [20.0, 100.0])
    back = mid.backs[1]
    assert back.lumbar_bend == pytest.approx(10.0)
    assert back.back_bend == pytest.approx(5.0)
    assert back.upper_thoracic_incl is None and mid.backs[-1] is None
    assert mid.view.yaw_deg == pytest.approx(12.0) and mid.view.facing == 1
    # The outline of the nearer keyframe, moved with the hips; checks are not invented.
    assert np.allclose(out[1].backs[1].outline[:, 0], 10.0)
    assert np.allclose(out[3].backs[1].outline[:, 0], 30.0)
    assert all(o.people is None for o in out[1:4])
    assert mid.pose.mask is None and mid.pose.world is None


def test_no_pose_on_either_side_leaves_the_gap_without_pose() -> None:
    obs = [_key(0.0, 0.0, 0.0), _gap(0.5), Observation(1.0, None, None, {})]
    out = fill_between(obs)
    assert out[1].pose is None and out[1].backs == {} and out[1].view is None


def test_frames_outside_the_keyframes_take_the_nearest_one() -> None:
    obs = [_gap(0.0), _key(0.5, 5.0, 8.0), _gap(1.0), _key(1.5, 5.0, 8.0), _gap(2.0)]
    out = fill_between(obs)
    assert [o.t for o in out] == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert np.allclose(out[0].pose.landmarks, out[1].pose.landmarks)
    assert out[4].backs[1].lumbar_bend == pytest.approx(8.0)
    assert fill_between([_gap(0.0), _gap(0.1)])[0].pose is None  # no keyframe at all


def test_decoder_converts_only_every_stride_th_frame(tmp_path: Path) -> None:
    from test_video import make_clip

    clip = make_clip(tmp_path / "c.mp4", n=10, fps=10)
    every = list(VideoSource(clip, max_side=32, stride=1))
    strided = list(VideoSource(clip, max_side=32, stride=3))
    assert [f.index for f in strided] == [f.index for f in every] == list(range(10))
    assert [f.t for f in strided] == [f.t for f in every]
    assert [f.image is not None for f in strided] == [i % 3 == 0 for i in range(10)]
    for a, b in zip(every[::3], strided[::3], strict=True):
        assert np.array_equal(a.image, b.image)


@pytest.mark.slow
def test_keyframes_agree_with_every_frame_on_a_60fps_clip() -> None:
    from formcheck.pipeline import AnalysisOptions, analyze_video

    clip = FOOTAGE / "tby66_0016r_1.mp4"  # 60 fps, 10 reps, rounded
    if not clip.exists():
        pytest.skip(f"{clip} missing")
    keyed = analyze_video(clip, AnalysisOptions())
    every = analyze_video(clip, AnalysisOptions(pose_hz=None))
    assert every["video"]["pose_frames"] == every["video"]["frames"] == 1576
    assert keyed["video"]["pose_frames"] == 788
    k, e = keyed["summary"], every["summary"]
    assert k["rep_count"] == e["rep_count"] == 10
    assert k["rounding"] is e["rounding"] is True
    # Reps start and end at the same moments, within a keyframe gap or two.
    for a, b in zip(keyed["reps"], every["reps"], strict=True):
        assert abs(a["bottom_s"] - b["bottom_s"]) < 0.1
        assert abs(a["max_lumbar_flexion_deg"] - b["max_lumbar_flexion_deg"]) < 5.0
