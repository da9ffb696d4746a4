"""Lifts: deadlift, Romanian deadlift, good morning, pick-up and squat (rep exercises, side view),
their registry entries, and which of them a clip shows.

In:  per-rep bottom frames (`FrameAngles`).
Out: one of deadlift | rdl | good-morning | pickup | squat, plus the Stoop-Squat Index
     (0 = pure squat, 100 = pure stoop: trunk lean against knee bend).
The measures, findings and verdict of a lift are `formcheck.assess` and `formcheck.verdict`.
"""

from __future__ import annotations

import numpy as np

from ..angles import FrameAngles
from .registry import Exercise, register

SIDE_ON = "Film from the side, at hip height, with the whole body in view."
MEASURES = (
    "hip_flexion_deg",
    "lumbar_flexion_deg",
    "thoracic_flexion_deg",
    "trunk_inclination_deg",
    "knee_flexion_deg",
)
FINDINGS = {
    "lumbar_rounding": "the lower back rounded beyond neutral at the bottom of the rep",
    "thoracic_rounding": "the upper back rounded",
    "spine_unmeasured": "the back could not be traced in this rep",
    "fatigue_rounding": "the back rounded more in the later reps of the set",
    "lumbar_flexion_creep": "lumbar flexion crept up from rep to rep",
}
CUES = {"rounding": "Flat back — push your hips back"}
# The rep signal of a hinge is left to the clip (None): a kettlebell or a low-handle deadlift
# leans too little for the trunk-lean signal, and the offline analysis then reads the
# shoulders' drop instead (`formcheck.reps.bend_mode`). Live, where the clip is not known
# ahead, a hinge is read by its lean.
LIFTS = {
    "deadlift": ("Deadlift", None),
    "rdl": ("Romanian deadlift", None),
    "good-morning": ("Good morning", None),
    "pickup": ("Pick-up", None),
    "squat": ("Squat", "squat"),
}
for _name, (_label, _signal) in LIFTS.items():
    register(
        Exercise(
            name=_name,
            label=_label,
            kind="reps",
            views=("side", "oblique"),
            preferred_view="side",
            film_hint=SIDE_ON,
            measures=MEASURES,
            findings=FINDINGS,
            cues=CUES,
            signal=_signal,
        )
    )
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
