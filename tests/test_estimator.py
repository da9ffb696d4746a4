"""Pose stage on real frames: a tracking restart detects afresh exactly as a new tracker does,
and preloading the models changes no pose."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from formcheck.estimator import EstimatorConfig, PoseEstimator
from formcheck.video import VideoSource

FOOTAGE = Path(__file__).resolve().parents[1] / ".." / "shared" / "footage"
CLIP = FOOTAGE / "mattiolato_Good_000001.mp4"

pytestmark = pytest.mark.slow


@pytest.mark.skipif(not CLIP.exists(), reason=f"{CLIP} missing")
def test_restart_gives_the_pose_and_mask_of_a_fresh_tracker() -> None:
    frames = [f.image for f in VideoSource(CLIP, max_side=640, scaler="cv2")][:70]
    size = frames[0].shape[1::-1]
    config = EstimatorConfig(verify_every=0)
    with PoseEstimator(config) as tracked, PoseEstimator(config) as fresh:
        for image in frames[:60]:
            tracked(image)
        restarted = tracked._restart(frames[60], size)
        first = fresh(frames[60])
        assert tracked.restarts == 1
        assert np.array_equal(restarted.landmarks, first.landmarks)
        assert np.array_equal(restarted.mask, first.mask)
        # ... and the track goes on as the fresh one does (no smoothing state carried over).
        for image in frames[61:]:
            a, b = tracked(image), fresh(image)
            assert np.array_equal(a.landmarks, b.landmarks)
            assert np.array_equal(a.mask, b.mask)


@pytest.mark.skipif(not CLIP.exists(), reason=f"{CLIP} missing")
def test_preloading_the_models_leaves_the_poses_as_they_were() -> None:
    source = VideoSource(CLIP, max_side=640, scaler="cv2")
    frames = [f.image for f in source][:20]
    assert source.image_shape == frames[0].shape
    with PoseEstimator() as preloaded, PoseEstimator() as plain:
        preloaded.preload(source.image_shape)
        for index, image in enumerate(frames):  # a tracking check on frame 5 (and 11, 17)
            a, b = preloaded(image, None, index), plain(image, None, index)
            assert np.array_equal(a.landmarks, b.landmarks)
            assert np.array_equal(a.mask, b.mask)
        assert preloaded.restarts == plain.restarts
