"""Pose data model: one person's 33 body landmarks in one frame.

In:  a pose backend's output (MediaPipe today, via `Pose.from_mediapipe`).
Out: `Pose` with landmarks in pixels of the full-resolution frame, world landmarks in metres,
     per-landmark visibility and an optional person segmentation mask.
Stages after this one only see `Pose`, so another backend needs only a converter.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np


class LM(IntEnum):
    """BlazePose landmark indices."""

    NOSE = 0
    LEFT_EYE = 2
    RIGHT_EYE = 5
    LEFT_EAR = 7
    RIGHT_EAR = 8
    LEFT_SHOULDER = 11
    RIGHT_SHOULDER = 12
    LEFT_ELBOW = 13
    RIGHT_ELBOW = 14
    LEFT_WRIST = 15
    RIGHT_WRIST = 16
    LEFT_HIP = 23
    RIGHT_HIP = 24
    LEFT_KNEE = 25
    RIGHT_KNEE = 26
    LEFT_ANKLE = 27
    RIGHT_ANKLE = 28
    LEFT_HEEL = 29
    RIGHT_HEEL = 30
    LEFT_FOOT_INDEX = 31
    RIGHT_FOOT_INDEX = 32


NUM_LANDMARKS = 33

# Landmark pairs drawn as the skeleton.
SKELETON_EDGES: tuple[tuple[int, int], ...] = (
    (11, 12), (11, 13), (13, 15), (12, 14), (14, 16),
    (11, 23), (12, 24), (23, 24),
    (23, 25), (25, 27), (27, 29), (29, 31), (27, 31),
    (24, 26), (26, 28), (28, 30), (30, 32), (28, 32),
    (0, 7), (0, 8),
)  # fmt: skip

# Near-side joint chains: (shoulder, elbow, wrist, hip, knee, ankle, heel, foot_index, ear)
SIDE_CHAINS: dict[str, tuple[int, ...]] = {
    "left": (11, 13, 15, 23, 25, 27, 29, 31, 7),
    "right": (12, 14, 16, 24, 26, 28, 30, 32, 8),
}


@dataclass
class Pose:
    """One detected person in one frame.

    landmarks: (33, 2) float, x/y in pixels of the full-resolution frame.
    visibility: (33,) float in 0..1.
    world: (33, 3) float metres, hip-centred (MediaPipe world landmarks), or None.
    mask: (h, w) float32 person probability at inference resolution, or None.
    image_size: (width, height) of the full-resolution frame.
    """

    landmarks: np.ndarray
    visibility: np.ndarray
    image_size: tuple[int, int]
    world: np.ndarray | None = None
    mask: np.ndarray | None = None

    @property
    def mask_scale(self) -> float:
        """Full-frame pixels per mask pixel (1.0 when there is no mask)."""
        if self.mask is None:
            return 1.0
        return self.image_size[0] / self.mask.shape[1]

    def point(self, index: int) -> np.ndarray:
        return self.landmarks[index]

    def normalized(self) -> np.ndarray:
        """(33, 3) array of x/width, y/height, visibility (for JSON and the viewers)."""
        w, h = self.image_size
        out = np.empty((NUM_LANDMARKS, 3), dtype=np.float64)
        out[:, 0] = self.landmarks[:, 0] / w
        out[:, 1] = self.landmarks[:, 1] / h
        out[:, 2] = self.visibility
        return out

    @classmethod
    def from_mediapipe(cls, result, image_size: tuple[int, int]) -> Pose | None:
        """Convert a `mp.solutions.pose` result; None when no person was found."""
        if result is None or result.pose_landmarks is None:
            return None
        w, h = image_size
        lms = result.pose_landmarks.landmark
        landmarks = np.array([[p.x * w, p.y * h] for p in lms], dtype=np.float64)
        visibility = np.array([p.visibility for p in lms], dtype=np.float64)
        world = None
        if result.pose_world_landmarks is not None:
            world = np.array(
                [[p.x, p.y, p.z] for p in result.pose_world_landmarks.landmark], dtype=np.float64
            )
        mask = getattr(result, "segmentation_mask", None)
        if mask is not None:
            mask = np.asarray(mask, dtype=np.float32)
        return cls(
            landmarks=landmarks,
            visibility=visibility,
            image_size=image_size,
            world=world,
            mask=mask,
        )
