"""Fire hydrant (on hands and knees, lift one bent leg out to the side, hold, lower; filmed from
behind or from the front): reps per side, hip abduction at the top and how level the trunk
stays.

In:  the clip's frames (`ExerciseFrame`: landmarks in pixels), their times, the entry's rules.
Out: `SidedResult` (see `sided`): per-frame `hip_abduction_deg` (the higher thigh),
     `trunk_lean_deg` and `lift`; the reps (side = the leg lifted, hip abduction at the top,
     time held there, the trunk's lean from the start position,
     findings); the clip's `hip_abduction_deg: {"left", "right"}` (mean over each side's reps).
     Live: `stream`, the same measures, rules and judge.

Angles, in the picture (the camera looks along the lifter's back, so the picture plane is the
frontal plane): a thigh's `hip_abduction_deg` is the hip -> knee line's angle from straight
down, + when the knee moves out (away from the other hip); on hands and knees it is about 0.
`trunk_lean_deg` is the shoulder line's angle from level, + when the lifted leg's shoulder is
higher (the trunk rolls away from the leg), judged as a change from the start position. A hip
hike (the pelvis rolling to fake the range) is **not judged**: on renders MediaPipe's hip points
did not follow the pelvis (a scripted 22 deg roll read 4-10 deg, a still pelvis up to 13).
Normal hip abduction is
about 45 deg (AAOS, Greene & Heckman 1994); from hands and knees, with the hip flexed, most
people reach 30-45 deg.
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
    SidedResult,
    finite_median,
    register_sided,
    rep_findings,
    rep_frames,
)

RULES = {
    **REP_RULES,
    "abduction_range_deg": 30.0,  # a thigh this far out from its resting angle is a full lift
    "min_abduction_deg": 30.0,  # less at the top: the knee did not come out far enough
    "max_lean_deg": 10.0,  # the shoulder line rolling more than this: the trunk leaned away
}
FINDINGS = {
    "low_range": "the knee did not come out far: hip abduction under 30 deg",
    "trunk_lean": "the trunk leaned away from the leg",
}
CUES = {
    "low_range": "Lift the knee further out to the side",
    "trunk_lean": "Keep your shoulders level — don't lean away",
}
SEVERITY = {"low_range": "low"}
MEASURES = ("hip_abduction_deg", "trunk_lean_deg", "lift")
HIP = {"left": 23, "right": 24}
KNEE = {"left": 25, "right": 26}
SHOULDER = {"left": 11, "right": 12}
_NAMES = ("abd_left", "abd_right", "shoulder_roll")


def _roll(left: np.ndarray, right: np.ndarray) -> float:
    """A left-right line's angle from level in the picture, + when the left point is higher."""
    d = right - left
    return float(np.degrees(np.arctan2(d[1], abs(d[0]))))


def frame_measures(frame: ExerciseFrame) -> dict[str, float]:
    """One frame: each thigh's abduction and the shoulder line's roll (+ = the left side
    higher); NaN without pose."""
    out = dict.fromkeys(_NAMES, float("nan"))
    if frame.landmarks is None:
        return out
    p = np.asarray(frame.landmarks)[:, :2]
    width = p[HIP["left"]] - p[HIP["right"]]
    if abs(width[0]) < 1.0:
        return out
    for s, sign in (("left", 1.0), ("right", -1.0)):
        thigh = p[KNEE[s]] - p[HIP[s]]
        out_x = sign * np.sign(width[0]) * thigh[0]  # + = away from the other hip
        out[f"abd_{s}"] = float(np.degrees(np.arctan2(out_x, thigh[1])))
    out["shoulder_roll"] = _roll(p[SHOULDER["left"]], p[SHOULDER["right"]])
    return out


def resting_abduction(m: dict[str, np.ndarray]) -> dict[str, float]:
    """Each thigh's resting abduction, read where both legs rest: the median of its reading
    over the frames where the higher thigh is within the rep counter's lockout of its 10th
    percentile (the two legs rest at different picture angles, e.g. one partly hidden from the
    front, and a hip hike on one side moves the other thigh's reading)."""
    high = np.fmax(m["abd_left"], m["abd_right"])
    seen = np.isfinite(high)
    if not seen.any():
        return {"rest_left": float("nan"), "rest_right": float("nan")}
    band = RULES["lockout"] * RULES["abduction_range_deg"]
    resting = seen & (high <= np.percentile(high[seen], 10) + band)
    rests = {s: finite_median(m[f"abd_{s}"][resting]) for s in SIDES}
    return {f"rest_{s}": float("nan") if v is None else v for s, v in rests.items()}


def lift_of(m: dict[str, np.ndarray], rules: dict) -> np.ndarray:
    """0 with both thighs at rest, 1 with one `abduction_range_deg` out from its own rest."""
    a = np.fmax(m["abd_left"] - m["rest_left"], m["abd_right"] - m["rest_right"])
    return np.clip(a / rules["abduction_range_deg"], -0.5, 3.0)


def _change(values: np.ndarray, rest: np.ndarray) -> np.ndarray:
    ref = finite_median(values[rest])
    return values - (np.nan if ref is None else ref)


def _largest(v: np.ndarray) -> float | None:
    """The change furthest in the faulty (+) direction, or None."""
    v = v[np.isfinite(v)]
    return float(v.max()) if v.size else None


def judge_rep(
    index: int,
    rep: Rep,
    m: dict[str, np.ndarray],
    times: np.ndarray,
    rest: np.ndarray,
    rules: dict,
) -> SidedRep:
    """A rep's side (the thigh lifted), its abduction at the top, the time held there, and the
    shoulders' roll towards the lifted side from the start position."""
    sel, top = rep_frames(rep, m, times)
    tops = {s: finite_median(m[f"abd_{s}"][top]) for s in SIDES}
    side = max(SIDES, key=lambda s: -np.inf if tops[s] is None else tops[s])
    towards = 1.0 if side == "left" else -1.0  # the rolls are + with the left side higher
    lean = _largest(towards * _change(m["shoulder_roll"], rest)[sel])
    t_top = times[top]
    abduction = tops[side]
    measures = {
        "hip_abduction_deg": abduction,
        "top_hold_s": float(t_top[-1] - t_top[0]) if t_top.size else 0.0,
        "trunk_lean_deg": lean,
    }
    checks = (
        ("low_range", abduction is not None and abduction < rules["min_abduction_deg"]),
        ("trunk_lean", lean is not None and lean > rules["max_lean_deg"]),
    )
    findings = rep_findings(checks, rep, f"Rep {index} ({side} leg)", FINDINGS, SEVERITY)
    return SidedRep(index, rep.start_s, rep.end_s, side, measures, findings)


def per_side(reps: list[SidedRep], key: str) -> dict[str, float | None]:
    """The mean of a rep measure over each side's reps (None for a side without one)."""
    out: dict[str, float | None] = {}
    for s in SIDES:
        v = [r.measures[key] for r in reps if r.side == s and r.measures.get(key) is not None]
        out[s] = round(float(np.mean(v)), 1) if v else None
    return out


def summarise(result: SidedResult, m, times, rules) -> SidedResult:
    result.totals = {"hip_abduction_deg": per_side(result.reps, "hip_abduction_deg")}
    return result


def _report(m: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    left_up = m["abd_left"] >= m["abd_right"]
    towards = np.where(left_up, 1.0, -1.0)
    return {
        "hip_abduction_deg": np.fmax(m["abd_left"], m["abd_right"]),
        "trunk_lean_deg": towards * m["shoulder_roll"],
        "lift": m["signal"],
    }


SPEC = RepSpec(
    measure=frame_measures,
    signal=lift_of,
    judge=judge_rep,
    report=_report,
    cues=CUES,
    side_word="leg",
    references=resting_abduction,
    summarise=summarise,
)


FIRE_HYDRANT = register_sided(
    SPEC,
    RULES,
    name="fire-hydrant",
    label="Fire hydrant",
    views=("front",),
    preferred_view="front",
    film_hint="Film from behind with the camera above your back, looking down on it (about "
    "shoulder height of a standing adult, 2-3 m away), or from in front with it low and level; on "
    "hands and knees with both hips and knees in view.",
    measures=MEASURES,
    findings=FINDINGS,
)
analyse, stream = FIRE_HYDRANT.analyse, FIRE_HYDRANT.stream
