"""Frog squat (feet wide and turned out, squat deep with the knees pushed wide apart, elbows
inside the knees; filmed from the front or the side): reps, depth, how wide the knees open and,
from the side, whether the lower back tucks under at the bottom ("butt wink").

In:  the clip's frames (`ExerciseFrame`: landmarks in pixels, world landmarks in metres, the
     lift stages' angles: hip and lumbar flexion, read from a side view only), their times, the
     entry's rules.
Out: `SidedResult` (see `sided`): per-frame `depth`, `hip_flexion_deg`, `lumbar_flexion_deg`,
     `knee_spread_ratio`, `hip_abduction_deg`; the reps (no side; at the bottom: depth, hip
     flexion and the lower back's flexion from standing (side view), knee spread and hip
     abduction (front view), findings); the clip's `hip_abduction_deg`, `knee_spread_ratio`
     and `lumbar_flexion_change_deg` (the largest over its reps). Live: `stream`.

`depth` is read the same from either view: how far the knees have come up to the hips'
height in the picture, 1 - (knee y - hip y) / its standing value (0 standing, 1 thighs level,
over 1 hips below the knees; a camera above hip height reads it low, so depth is judged by hip
flexion, from the side only). `knee_spread_ratio` is the distance between the knees over the
distance between the hips in the picture, read only where the hips are seen wide (a front
view); `hip_abduction_deg` is each thigh's angle out of the pelvis's midplane from MediaPipe's
world landmarks (mean of both sides), read from the front only (from the side the thighs spread
in depth, where MediaPipe's depth read 4-32 deg off on renders). What a view cannot show is left out (None), not guessed.
"""

from __future__ import annotations

import numpy as np

from ..reps import Rep
from .registry import ExerciseFrame
from .sided import (
    REP_RULES,
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
    "min_hip_flexion_deg": 90.0,  # less hip flexion at the bottom (side view): shallow
    "min_knee_spread": 2.0,  # knees less than this many hip widths apart: they caved in
    "max_wink_deg": 15.0,  # the lower back flexing more than this beyond standing at the bottom
}
# Hips seen at least this wide (x trunk length): a front view. How a frame is read, not a rule
# of the exercise, so per-call rule overrides do not apply to it.
FRONTAL_HIP_WIDTH = 0.3
FINDINGS = {
    "shallow": "the squat stayed shallow: the hips bent less than 90 deg",
    "knees_narrow": "the knees came in: push them wide apart",
    "butt_wink": "the lower back tucked under at the bottom",
}
CUES = {
    "shallow": "Sink lower — hips down to your knees",
    "knees_narrow": "Push your knees out wide with your elbows",
    "butt_wink": "Stop just above where your lower back tucks under",
}
SEVERITY = {"shallow": "low", "knees_narrow": "low"}
MEASURES = (
    "depth",
    "knee_spread_ratio",
    "hip_abduction_deg",
    "hip_flexion_deg",
    "lumbar_flexion_deg",
)
_NAMES = ("drop", "hip", "lumbar", "spread", "abduction")


def _abduction(w: np.ndarray) -> float:
    """Mean angle of the thighs out of the pelvis's midplane (world landmarks), degrees."""
    across = w[23] - w[24]
    n = np.linalg.norm(across)
    if n < 1e-6:
        return float("nan")
    lateral = {23: across / n, 24: -across / n}
    out = []
    for hip, knee in ((23, 25), (24, 26)):
        thigh = w[knee] - w[hip]
        length = np.linalg.norm(thigh)
        if length > 1e-6:
            out.append(np.degrees(np.arcsin(np.clip(thigh @ lateral[hip] / length, -1, 1))))
    return float(np.mean(out)) if out else float("nan")


def frame_measures(frame: ExerciseFrame) -> dict[str, float]:
    """One frame: the knees' height below the hips (pixels), hip and lumbar flexion (side view),
    knee spread and hip abduction (front view); NaN where unseen."""
    out = dict.fromkeys(_NAMES, float("nan"))
    a = frame.angles
    if a is not None:
        for name, value in (("hip", a.hip_flexion_deg), ("lumbar", a.lumbar_flexion_deg)):
            out[name] = float("nan") if value is None else float(value)
    if frame.landmarks is None:
        return out
    p = np.asarray(frame.landmarks)[:, :2]
    out["drop"] = float(np.mean(p[[25, 26], 1] - p[[23, 24], 1]))
    trunk = np.linalg.norm(p[[11, 12]].mean(0) - p[[23, 24]].mean(0))
    hips = np.linalg.norm(p[23] - p[24])
    if trunk > 1 and hips / trunk >= FRONTAL_HIP_WIDTH:
        out["spread"] = float(np.linalg.norm(p[25] - p[26]) / hips)
        out["hip"] = out["lumbar"] = float("nan")  # the bend is in depth: not seen from here
        if frame.world is not None:
            out["abduction"] = _abduction(np.asarray(frame.world, dtype=float))
    return out


def standing_drop(m: dict[str, np.ndarray]) -> dict[str, float]:
    """The knees' height below the hips standing: the 90th percentile over the frames."""
    d = m["drop"][np.isfinite(m["drop"])]
    return {"drop_rest": float(np.percentile(d, 90)) if d.size else float("nan")}


def depth_of(m: dict[str, np.ndarray], rules: dict) -> np.ndarray:
    """0 standing, 1 with the knees at the hips' height, more with the hips below them."""
    rest = np.where(m["drop_rest"] > 1.0, m["drop_rest"], np.nan)
    return np.clip(1.0 - m["drop"] / rest, -0.5, 2.0)


def _at_bottom(m: dict[str, np.ndarray], key: str, top: np.ndarray) -> float | None:
    return finite_median(m[key][top])


def judge_rep(
    index: int,
    rep: Rep,
    m: dict[str, np.ndarray],
    times: np.ndarray,
    rest: np.ndarray,
    rules: dict,
) -> SidedRep:
    """A rep's depth, hip flexion, knee spread and abduction at the bottom, the lower back's
    flexion there beyond its standing value, and findings."""
    _sel, bottom = rep_frames(rep, m, times)
    lumbar_rest = finite_median(m["lumbar"][rest])
    lumbar = _at_bottom(m, "lumbar", bottom)
    wink = None if lumbar is None or lumbar_rest is None else lumbar - lumbar_rest
    spread = _at_bottom(m, "spread", bottom)
    hip = _at_bottom(m, "hip", bottom)
    measures = {
        "depth": float(rep.peak_depth),
        "hip_flexion_deg": hip,
        "lumbar_flexion_change_deg": wink,
        "knee_spread_ratio": spread,
        "hip_abduction_deg": _at_bottom(m, "abduction", bottom),
        "bottom_hold_s": float(np.ptp(times[bottom])) if bottom.any() else 0.0,
    }
    checks = (
        ("shallow", hip is not None and hip < rules["min_hip_flexion_deg"]),
        ("knees_narrow", spread is not None and spread < rules["min_knee_spread"]),
        ("butt_wink", wink is not None and wink > rules["max_wink_deg"]),
    )
    findings = rep_findings(checks, rep, f"Rep {index}", FINDINGS, SEVERITY)
    return SidedRep(index, rep.start_s, rep.end_s, None, measures, findings)


def _largest(reps: list[SidedRep], key: str) -> float | None:
    v = [r.measures[key] for r in reps if r.measures.get(key) is not None]
    return round(float(max(v)), 2) if v else None


def summarise(result: SidedResult, m, times, rules) -> SidedResult:
    result.totals = {
        key: _largest(result.reps, key)
        for key in ("hip_abduction_deg", "knee_spread_ratio", "lumbar_flexion_change_deg")
    }
    return result


SPEC = RepSpec(
    measure=frame_measures,
    signal=depth_of,
    judge=judge_rep,
    report=lambda m: {
        "depth": m["signal"],
        "hip_flexion_deg": m["hip"],
        "lumbar_flexion_deg": m["lumbar"],
        "knee_spread_ratio": m["spread"],
        "hip_abduction_deg": m["abduction"],
    },
    cues=CUES,
    references=standing_drop,
    summarise=summarise,
)


FROG_SQUAT = register_sided(
    SPEC,
    RULES,
    name="frog-squat",
    label="Frog squat",
    views=("front", "side", "oblique"),
    preferred_view="front",
    film_hint="Film from the front at hip height for knee width, or from the side for depth "
    "and the lower back; whole body in view.",
    measures=MEASURES,
    findings=FINDINGS,
)
analyse, stream = FROG_SQUAT.analyse, FROG_SQUAT.stream
