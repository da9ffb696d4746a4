"""Pose stage: RGB frames in, `Pose` out, using MediaPipe's legacy BlazePose (Full model).

In:  RGB uint8 images (any size; downscaled to `max_side` for inference).
Out: `Pose` with landmarks in full-frame pixels and the person mask at inference resolution,
     or None when no person is found.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import cv2
import numpy as np

from .pose import Pose

os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@dataclass
class EstimatorConfig:
    """How BlazePose runs. model_complexity 1 (Full) is the only model shipped in the wheel."""

    max_side: int = 640
    segmentation: bool = True
    tracking: bool = True
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    # Tracking can lock onto a wrong pose (plates over the legs, a deep bend). Every
    # `verify_every` frames a fresh detection checks it; on disagreement the tracker restarts.
    verify_every: int = 6
    max_disagreement: float = 0.2


_CHECK_POINTS = (11, 12, 23, 24, 25, 26)


def disagreement(a: Pose, b: Pose) -> float:
    """Mean distance of shoulders, hips and knees between two poses, in trunk lengths."""
    trunk = np.linalg.norm(a.landmarks[[11, 12]].mean(0) - a.landmarks[[23, 24]].mean(0))
    dist = np.linalg.norm(
        a.landmarks[list(_CHECK_POINTS)] - b.landmarks[list(_CHECK_POINTS)], axis=1
    )
    return float(dist.mean() / max(trunk, 1.0))


class PoseEstimator:
    """Wraps `mp.solutions.pose.Pose`; one instance per video stream (it tracks across frames)."""

    def __init__(self, config: EstimatorConfig | None = None) -> None:
        logging.getLogger("absl").setLevel(logging.ERROR)
        self.config = config or EstimatorConfig()
        self._pose = self._make(static=not self.config.tracking)
        self._detector = None
        if self.config.tracking and self.config.verify_every > 0:
            self._detector = self._make(static=True)
        self._count = 0
        self.restarts = 0

    def _make(self, static: bool):
        import mediapipe as mp

        return mp.solutions.pose.Pose(
            static_image_mode=static,
            model_complexity=1,
            smooth_landmarks=not static,
            enable_segmentation=self.config.segmentation,
            smooth_segmentation=self.config.segmentation and not static,
            min_detection_confidence=self.config.min_detection_confidence,
            min_tracking_confidence=self.config.min_tracking_confidence,
        )

    def __call__(self, image: np.ndarray) -> Pose | None:
        """Detect the pose in one RGB frame."""
        h, w = image.shape[:2]
        small = image
        longest = max(h, w)
        if self.config.max_side and longest > self.config.max_side:
            scale = self.config.max_side / longest
            size = (max(1, round(w * scale)), max(1, round(h * scale)))
            small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        small = np.ascontiguousarray(small)
        pose = Pose.from_mediapipe(self._pose.process(small), (w, h))
        self._count += 1
        if self._detector is not None and self._count % self.config.verify_every == 0:
            fresh = Pose.from_mediapipe(self._detector.process(small), (w, h))
            if fresh is not None and (
                pose is None or disagreement(pose, fresh) > self.config.max_disagreement
            ):
                self._pose.reset()
                self.restarts += 1
                pose = fresh
        return pose

    def close(self) -> None:
        self._pose.close()
        if self._detector is not None:
            self._detector.close()

    def __enter__(self) -> PoseEstimator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
