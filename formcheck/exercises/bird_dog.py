"""Bird dog (from hands and knees, reach one arm forward and the opposite leg back, hold, return;
filmed from the side): reps per side, how far the arm and leg reach, and how still the trunk
stays.

In:  the clip's frames (`ExerciseFrame`: landmarks in pixels, the back outline's bow for both
     facings), their times, the entry's rules.
Out: `SidedResult` (see `sided`): per-frame measures (arm and leg elevation of the reaching
     limbs, trunk tilt, the back's bow, the reach), the reps (side = the leg raised, arm and
     leg elevation at the top, time held at the top, trunk tilt and back-bow change from the
     start position, findings). Live: `stream`, the same measures, rules and judge.

Angles, in the picture (side view), against the trunk line (hip centre -> shoulder centre):
`arm_elevation_deg` of a shoulder->wrist line, 0 = level with the trunk reaching forward,
positive above it, -90 = straight down under the shoulder; `leg_elevation_deg` of a hip->ankle
line against the trunk line continued backwards, 0 = level, positive above it (about -45 on
hands and knees). A rep is the reach (the mean of how far the higher arm and the higher leg have
come from the start position towards level) rising past `enter` and returning (the lifts' rep
counter). The trunk should not move: `trunk_tilt_change_deg` is the largest change of the trunk
line's angle from its start-position value during the rep (a weight shift or a hip hike), and
`back_bow_change_deg` the change of the back outline's bow at the top against the start
position (negative: the lower back hollows, the fault when the leg rises too high).
"""

from __future__ import annotations

import numpy as np

from ..reps import Rep
from .registry import ExerciseFrame
from .sided import (
    REP_RULES,
    SIDES,
    RepSpec,
    SidedRep,
    finite_median,
    register_sided,
    rep_findings,
    rep_frames,
)

RULES = {
    **REP_RULES,
    "min_reach_deg": -20.0,  # arm or leg lower than this below level at the top: not level
    "max_leg_high_deg": 15.0,  # the leg above level by more: the lower back over-extends
    "max_arch_deg": 8.0,  # the back's bow hollowing more than this at the top
    "max_tilt_change_deg": 8.0,  # the trunk line turning more than this during the rep
    "start_leg_deg": -45.0,  # leg elevation on hands and knees
    "start_arm_deg": -90.0,  # arm elevation on hands and knees
}
FINDINGS = {
    "arm_low": "the arm did not reach level with the back",
    "leg_low": "the leg did not reach level with the back",
    "leg_high": "the leg rose above the back: the lower back over-extends",
    "back_arch": "the lower back hollowed as the leg rose",
    "trunk_shift": "the trunk moved: the hips or shoulders tipped while reaching",
}
CUES = {
    "arm_low": "Reach the arm out level with your back",
    "leg_low": "Push the heel back until the leg is level",
    "leg_high": "Leg no higher than your back",
    "back_arch": "Keep your back flat — don't arch",
    "trunk_shift": "Keep your trunk still — hips level",
}
SEVERITY = {"arm_low": "low", "leg_low": "low", "leg_high": "medium"}
MEASURES = (
    "arm_elevation_deg",
    "leg_elevation_deg",
    "trunk_tilt_deg",
    "back_bow_deg",
    "reach",
)
SHOULDER = {"left": 11, "right": 12}
WRIST = {"left": 15, "right": 16}
HIP = {"left": 23, "right": 24}
ANKLE = {"left": 27, "right": 28}
_NAMES = [f"{limb}_{s}" for limb in ("arm", "leg") for s in SIDES] + ["trunk_tilt", "head", "bow"]


def _deg(y: float, x: float) -> float:
    return float(np.degrees(np.arctan2(y, x)))


def frame_measures(landmarks: np.ndarray | None) -> dict[str, float]:
    """One frame: each side's arm and leg elevation, the trunk line's tilt from horizontal
    (+ shoulders higher) and which way the head points (+1 right, -1 left); NaN without pose."""
    nan = dict.fromkeys(_NAMES[:-1], float("nan"))
    if landmarks is None:
        return nan
    lm = np.asarray(landmarks)[:, :2]
    hip, shoulder = lm[[23, 24]].mean(0), lm[[11, 12]].mean(0)
    axis = shoulder - hip
    length = float(np.linalg.norm(axis))
    if length < 1:
        return nan
    u = axis / length
    n = np.array([u[1], -u[0]])  # perpendicular to the trunk, turned away from the floor
    if n[1] > 0:
        n = -n
    out = {}
    for s in SIDES:
        a = lm[WRIST[s]] - lm[SHOULDER[s]]
        leg = lm[ANKLE[s]] - lm[HIP[s]]
        out[f"arm_{s}"] = _deg(a @ n, a @ u)
        out[f"leg_{s}"] = _deg(leg @ n, -(leg @ u))
    out["trunk_tilt"] = _deg(-axis[1], abs(axis[0]))
    out["head"] = 1.0 if axis[0] >= 0 else -1.0
    return out


def _measure(frame: ExerciseFrame) -> dict[str, float]:
    """`frame_measures` plus the back's bow, traced on the side the head points to (the back
    is up on hands and knees)."""
    out = frame_measures(frame.landmarks)
    back = None
    if np.isfinite(out["head"]) and frame.backs:
        back = frame.backs.get(int(out["head"]))
    out["bow"] = np.nan if back is None or back.back_bend is None else float(back.back_bend)
    return out


def reach_of(m: dict[str, np.ndarray], rules: dict) -> np.ndarray:
    """0 on hands and knees, 1 with the higher arm and the higher leg level with the trunk."""
    arm = np.fmax(m["arm_left"], m["arm_right"])
    leg = np.fmax(m["leg_left"], m["leg_right"])
    arm_f = (arm - rules["start_arm_deg"]) / (0.0 - rules["start_arm_deg"])
    leg_f = (leg - rules["start_leg_deg"]) / (0.0 - rules["start_leg_deg"])
    return np.clip(0.5 * (arm_f + leg_f), -0.5, 1.5)


def judge_rep(
    index: int,
    rep: Rep,
    m: dict[str, np.ndarray],
    times: np.ndarray,
    rest: np.ndarray,
    rules: dict,
) -> SidedRep:
    """A rep's side (the leg raised), its measures at the top and its findings; trunk tilt and
    back bow are compared with their values at rest on hands and knees (`rest` frames)."""
    sel, top = rep_frames(rep, m, times)
    legs = {s: finite_median(m[f"leg_{s}"][top]) for s in SIDES}
    arms = {s: finite_median(m[f"arm_{s}"][top]) for s in SIDES}
    side = max(SIDES, key=lambda s: -np.inf if legs[s] is None else legs[s])
    arm_side = max(SIDES, key=lambda s: -np.inf if arms[s] is None else arms[s])
    tilt0, bow0 = finite_median(m["trunk_tilt"][rest]), finite_median(m["bow"][rest])
    tilt = m["trunk_tilt"][sel] - (np.nan if tilt0 is None else tilt0)
    tilt_change = float(np.nanmax(np.abs(tilt))) if np.isfinite(tilt).any() else None
    bow_top = finite_median(m["bow"][top])
    bow_change = None if bow_top is None or bow0 is None else bow_top - bow0
    t_top = times[top]
    measures = {
        "arm_elevation_deg": arms[arm_side],
        "leg_elevation_deg": legs[side],
        "top_hold_s": float(t_top[-1] - t_top[0]) if t_top.size else 0.0,
        "trunk_tilt_change_deg": tilt_change,
        "back_bow_change_deg": bow_change,
    }
    checks = (
        ("arm_low", arms[arm_side] is not None and arms[arm_side] < rules["min_reach_deg"]),
        ("leg_low", legs[side] is not None and legs[side] < rules["min_reach_deg"]),
        ("leg_high", legs[side] is not None and legs[side] > rules["max_leg_high_deg"]),
        ("back_arch", bow_change is not None and bow_change < -rules["max_arch_deg"]),
        ("trunk_shift", tilt_change is not None and tilt_change > rules["max_tilt_change_deg"]),
    )
    findings = rep_findings(checks, rep, f"Rep {index} ({side} leg)", FINDINGS, SEVERITY)
    return SidedRep(index, rep.start_s, rep.end_s, side, measures, findings)


SPEC = RepSpec(
    measure=_measure,
    signal=reach_of,
    judge=judge_rep,
    report=lambda m: {
        "arm_elevation_deg": np.fmax(m["arm_left"], m["arm_right"]),
        "leg_elevation_deg": np.fmax(m["leg_left"], m["leg_right"]),
        "trunk_tilt_deg": m["trunk_tilt"],
        "back_bow_deg": m["bow"],
        "reach": m["signal"],
    },
    cues=CUES,
    side_word="leg",
    reads_back=True,
)


BIRD_DOG = register_sided(
    SPEC,
    RULES,
    name="bird-dog",
    label="Bird dog",
    views=("side",),
    preferred_view="side",
    film_hint="Film from the side at floor or hip height, with your whole body from hands to "
    "feet in view.",
    measures=MEASURES,
    findings=FINDINGS,
)
analyse, stream = BIRD_DOG.analyse, BIRD_DOG.stream
