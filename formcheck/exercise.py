"""Exercise stage: hinge or squat, and which hinge, from the reps' bottom positions.

In:  per-rep bottom frames (`FrameAngles`) and whether the clip's first rep starts at the floor.
Out: one of deadlift | rdl | good-morning | pickup | squat, plus the Stoop-Squat Index
     (0 = pure squat, 100 = pure stoop: trunk lean against knee bend).
"""

from __future__ import annotations

import numpy as np

from .angles import FrameAngles

EXERCISES = ("deadlift", "rdl", "good-morning", "pickup", "squat")
SQUAT_MAX_SSI = 25.0


def stoop_squat_index(bottom: FrameAngles) -> float | None:
    if bottom.trunk_inclination_deg is None or bottom.knee_flexion_deg is None:
        return None
    trunk = max(bottom.trunk_inclination_deg, 0.0)
    knee = max(bottom.knee_flexion_deg, 0.0)
    if trunk + knee < 1:
        return None
    return 100.0 * trunk / (trunk + knee)


def _wrist_height(bottom: FrameAngles) -> float | None:
    """Wrists' height above the ankles at the bottom, in trunk lengths (bar near the floor ~0.3)."""
    lm = bottom.landmarks
    if lm is None:
        return None
    wrist = lm[[15, 16], 1].mean()
    ankle = lm[[27, 28], 1].mean()
    trunk = np.linalg.norm(lm[[11, 12], :2].mean(0) - lm[[23, 24], :2].mean(0))
    shoulder = lm[[11, 12], 1].mean()
    if trunk < 1:
        return None
    if abs(wrist - shoulder) < 0.25 * trunk:
        return float("inf")  # hands at the shoulders: bar on the back
    return float((ankle - wrist) / trunk)


def detect_exercise(bottoms: list[FrameAngles]) -> tuple[str, float | None]:
    """Auto-detected exercise and the median Stoop-Squat Index over reps."""
    ssis = [s for b in bottoms if (s := stoop_squat_index(b)) is not None]
    ssi = float(np.median(ssis)) if ssis else None
    if ssi is None:
        return "deadlift", None
    if ssi < SQUAT_MAX_SSI:
        return "squat", ssi
    heights = [h for b in bottoms if (h := _wrist_height(b)) is not None]
    height = float(np.median(heights)) if heights else 0.0
    if height == float("inf"):
        return "good-morning", ssi
    if height > 1.0:
        return "rdl", ssi
    return "deadlift", ssi
