"""Per-frame angle record shared by kinematics, reps, findings, report and overlays.

In:  produced by `formcheck.kinematics` from a smoothed `Pose`.
Out: `FrameAngles`, plain data: angles in degrees relative to the lifter's neutral
     (None where there is no pose or the measurement is not trustworthy).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

ANGLE_NAMES: tuple[str, ...] = (
    "hip_flexion_deg",
    "lumbar_flexion_deg",
    "thoracic_flexion_deg",
    "trunk_inclination_deg",
    "knee_flexion_deg",
)


@dataclass
class FrameAngles:
    """Angles of one frame. Positive flexion = bending forward."""

    t: float
    pose: bool
    hip_flexion_deg: float | None = None
    lumbar_flexion_deg: float | None = None
    thoracic_flexion_deg: float | None = None
    trunk_inclination_deg: float | None = None
    knee_flexion_deg: float | None = None
    trunk_thigh_deg: float | None = None
    # Absolute bow of the back, pelvis to mid-back (positive = convex): see spine.BackShape.
    back_bend_deg: float | None = None
    spine_confidence: float = 0.0
    side: str | None = None
    # Dorsal outline of the back, pelvis to shoulders, in full-frame pixels: (N, 2) or None.
    back_outline: np.ndarray | None = field(default=None, repr=False)
    # Landmarks as (33, 3): x, y in full-frame pixels, visibility; None without pose.
    landmarks: np.ndarray | None = field(default=None, repr=False)

    def value(self, name: str) -> float | None:
        return getattr(self, name)
