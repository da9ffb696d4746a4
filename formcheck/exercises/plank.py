"""Plank (front or forearm plank, filmed from the side): the hold, its body line and its faults.

In:  the clip's frames (`FrameAngles` with landmarks in pixels), their times, the entry's rules.
Out: `HoldResult` (see `holds`): per-frame measures (`body_line_deg`, `hip_sag_deg`,
     `head_drop_deg`), the holds found (start, end, time held, time held in good form, the
     worst sag and pike, findings), for the report; `HoldStream` for live coaching.

Body line: the angle at the hip between hip->shoulder and hip->ankle, 180 when straight.
`hip_sag_deg` is 180 minus that angle, signed: positive when the hips are below the
shoulder-ankle line (toward the floor: the lower back over-extends), negative when above it
(pike). Simple checkers accept a shoulder-hip-ankle angle of about 160-190 deg; here a sag up to
`max_sag_deg` and a pike up to `max_pike_deg` are good form (a pike is the safer fault). The
head line is the same angle at the shoulder between ear and hip: `head_drop_deg` > 0 is the
head hanging below the line. A hold is a run of frames in the plank position (shoulders to
ankles near horizontal, knees straight, not kneeling) lasting at least `min_hold_s`; getting
into and out of it is not holding.
"""

from __future__ import annotations

import numpy as np

from .hold_live import register_hold
from .holds import (
    HOLD_RULES,
    Fault,
    HoldSpec,
    Peak,
    body_tilt,
    knee_bend,
    lying_straight,
    mid,
    signed_bend,
)

RULES = {
    **HOLD_RULES,
    "max_sag_deg": 10.0,
    "max_pike_deg": 20.0,
    "max_head_drop_deg": 25.0,
    "max_body_tilt_deg": 35.0,  # shoulder-ankle line from horizontal, to count as in position
    "max_knee_bend_deg": 40.0,  # knees this bent (kneeling) is not the plank position
}
FINDINGS = {
    "hip_sag": "hips sagging below the shoulder-ankle line: the lower back over-extends",
    "hip_pike": "hips piked above the shoulder-ankle line",
    "head_drop": "head hanging below the line of the back",
}
CUES = {
    "hip_sag": "Hips up — keep a straight line",
    "hip_pike": "Lower your hips — straight line from shoulders to heels",
    "head_drop": "Look at the floor just ahead — head in line",
}
MEASURES = ("body_line_deg", "hip_sag_deg", "head_drop_deg")


def frame_measures(landmarks: np.ndarray | None) -> tuple[float, float, float]:
    """(hip_sag_deg, head_drop_deg, body tilt from horizontal) of one frame; NaN without pose."""
    if landmarks is None:
        return (float("nan"),) * 3
    lm = landmarks
    shoulder, hip, ankle = mid(lm, 11, 12), mid(lm, 23, 24), mid(lm, 27, 28)
    ear = mid(lm, 7, 8)
    sag = signed_bend(shoulder, hip, ankle)
    head = signed_bend(ear, shoulder, hip)
    return sag, head, body_tilt(shoulder, ankle)


def _measure(landmarks: np.ndarray | None) -> dict[str, float]:
    sag, head, tilt = frame_measures(landmarks)
    return {"hip_sag_deg": sag, "head_drop_deg": head, "tilt": tilt, "knees": knee_bend(landmarks)}


def _in_position(m: dict[str, np.ndarray], rules: dict) -> np.ndarray:
    """Shoulders to ankles near horizontal, knees straight (kneeling is getting in)."""
    return lying_straight(m, "hip_sag_deg", rules)


SPEC = HoldSpec(
    measure=_measure,
    in_position=_in_position,
    faults=(
        Fault("hip_sag", "hip_sag_deg", +1, "max_sag_deg", "hips sagging"),
        Fault("hip_pike", "hip_sag_deg", -1, "max_pike_deg", "hips piking"),
        Fault("head_drop", "head_drop_deg", +1, "max_head_drop_deg", "head dropping", False),
    ),
    peaks=(Peak("max_hip_sag_deg", "hip_sag_deg", +1), Peak("max_hip_pike_deg", "hip_sag_deg", -1)),
    report=lambda m: {
        "body_line_deg": 180.0 - np.abs(m["hip_sag_deg"]),
        "hip_sag_deg": m["hip_sag_deg"],
        "head_drop_deg": m["head_drop_deg"],
    },
    live_measure="hip_sag_deg",
    position_words="shoulders to ankles near horizontal",
)


PLANK = register_hold(
    SPEC,
    RULES,
    CUES,
    name="plank",
    label="Plank",
    views=("side",),
    preferred_view="side",
    film_hint="Film from the side at floor or hip height, with your whole body from head to "
    "heels in view.",
    measures=MEASURES,
    findings=FINDINGS,
)
analyse, stream = PLANK.analyse, PLANK.stream
