"""Side plank (side bridge, on the forearm or the hand, filmed from the front or the back): the
hold, its frontal body line, the hip drop, and the time on each side.

In:  the clip's frames (objects with `landmarks` in pixels), their times, the entry's rules.
Out: `HoldResult` (see `holds`): per-frame `body_line_deg` and `hip_drop_deg`, the holds found
     (start, end, side down, time held, time in good form, the worst drop and hike, findings);
     the report adds the time per side and the left/right ratio. `stream` for live coaching.

Seen from the front, the body is a line from the shoulders down to the feet. `hip_drop_deg` is
180 minus the angle at the hips between shoulders and ankles, positive when the hips sit below
the shoulder-ankle line (towards the floor), negative when they are pushed above it (a hike).
The side a hold is on is the side whose shoulder and hip are lower in the picture (the
supporting side). In position: shoulders to ankles within `max_body_tilt_deg` of horizontal,
knees straight, and the hips off the floor (a drop under `max_position_drop_deg`: resting on
the hip reads 29-33 deg on rendered bodies, so a drop beyond 25 deg ends the hold). McGill's side-bridge norms: left and right about equal; the report gives
their ratio.
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
    "max_drop_deg": 10.0,
    "max_hike_deg": 20.0,
    "max_body_tilt_deg": 45.0,  # shoulder-ankle line from horizontal, to count as in position
    "max_position_drop_deg": 25.0,  # hips this far down rest on the floor: not holding
    "max_knee_bend_deg": 40.0,
}
FINDINGS = {
    "hip_drop": "hips dropping towards the floor: the trunk bends sideways",
    "hip_hike": "hips pushed up above the shoulder-ankle line",
}
CUES = {
    "hip_drop": "Hips up — keep your body in one straight line",
    "hip_hike": "Lower your hips a little — straight line from head to feet",
}
MEASURES = ("body_line_deg", "hip_drop_deg")
LEFT, RIGHT = (11, 23), (12, 24)  # shoulder and hip of each side


def _measure(landmarks: np.ndarray | None) -> dict[str, float]:
    """One frame: hip drop, the body's tilt from horizontal, knee bend, and how much lower (in
    pixels, image y down) the left side's shoulder and hip sit than the right side's."""
    if landmarks is None:
        nan = float("nan")
        return {"hip_drop_deg": nan, "tilt": nan, "knees": nan, "left_lower_px": nan}
    lm = landmarks
    shoulder, hip, ankle = mid(lm, 11, 12), mid(lm, 23, 24), mid(lm, 27, 28)
    return {
        "hip_drop_deg": signed_bend(shoulder, hip, ankle),
        "tilt": body_tilt(shoulder, ankle),
        "knees": knee_bend(lm),
        "left_lower_px": float(lm[list(LEFT), 1].mean() - lm[list(RIGHT), 1].mean()),
    }


def _in_position(m: dict[str, np.ndarray], rules: dict) -> np.ndarray:
    """Lying straight (see `holds.lying_straight`) with the hips off the floor."""
    with np.errstate(invalid="ignore"):
        lifted = m["hip_drop_deg"] < rules["max_position_drop_deg"]
    return lying_straight(m, "hip_drop_deg", rules) & lifted


def _side(m: dict[str, np.ndarray]) -> str | None:
    """The supporting side: the one whose shoulder and hip sit lower over the hold."""
    lower = m["left_lower_px"]
    if not np.isfinite(lower).any():
        return None
    return "left" if float(np.nanmedian(lower)) > 0 else "right"


SPEC = HoldSpec(
    measure=_measure,
    in_position=_in_position,
    faults=(
        Fault("hip_drop", "hip_drop_deg", +1, "max_drop_deg", "hips dropping"),
        Fault("hip_hike", "hip_drop_deg", -1, "max_hike_deg", "hips pushed up"),
    ),
    peaks=(
        Peak("max_hip_drop_deg", "hip_drop_deg", +1),
        Peak("max_hip_hike_deg", "hip_drop_deg", -1),
    ),
    report=lambda m: {
        "body_line_deg": 180.0 - np.abs(m["hip_drop_deg"]),
        "hip_drop_deg": m["hip_drop_deg"],
    },
    live_measure="hip_drop_deg",
    position_words="on one forearm or hand, shoulders to feet in a line, hips off the floor",
    side=_side,
)


SIDE_PLANK = register_hold(
    SPEC,
    RULES,
    CUES,
    name="side-plank",
    label="Side plank",
    # A body lying on its side reads 53-63 deg of yaw when filmed from the front (the view
    # stage measures shoulder breadth against an upright trunk), so oblique is accepted too.
    views=("front", "oblique"),
    preferred_view="front",
    film_hint="Face the camera (or turn your back to it) at hip height, with your whole "
    "body from head to feet in view.",
    measures=MEASURES,
    findings=FINDINGS,
)
analyse, stream = SIDE_PLANK.analyse, SIDE_PLANK.stream
