"""Pallof press (standing, a cable or band anchored to one side at chest height: press the handle
straight out from the chest, hold, bring it back, without letting the trunk turn or lean;
filmed from the front): reps, how far the arms press out, trunk rotation and lateral lean.

In:  the clip's frames (`ExerciseFrame`: landmarks in pixels and world landmarks in metres),
     their times, the entry's rules.
Out: `SidedResult` (see `sided`): per-frame `trunk_rotation_deg`, `lateral_lean_deg` and
     `press`; the reps (side = the side the trunk was pulled to, null when it stayed still;
     time held at the top, the largest trunk rotation and lean from the standing start,
     findings). Live: `stream`, the same measures, rules and judge.

The press goes towards the camera, so it is read in depth, from MediaPipe's world landmarks,
and only as a change: on rendered lifters MediaPipe reads straight arms pointing at the camera
as 134-151 deg at the elbow and hands at the chest as about 90, so how far the arms straighten
is not judged. `press` is how far the elbows have opened from their resting angle (the clip's
10th percentile; live, of the last 30 s) over `press_range_deg`. `trunk_rotation_deg` is the
angle about the vertical between the shoulder line and the
hip line (world landmarks, horizontal plane), + when the chest turns towards the lifter's
right; `lateral_lean_deg` the hip->shoulder line's tilt from vertical in the picture, + towards
the lifter's right. Both are judged as changes from the lifter's own standing start (rest
frames), so a habitual stance is not a fault. The anchor's side is not seen: a rep's `side` is
where the trunk gave way (rotation, else lean, beyond `side_min_deg`), which is the anchor's
side when the cable won; None when the trunk held.
"""

from __future__ import annotations

import numpy as np

from ..reps import Rep
from .registry import ExerciseFrame
from .sided import (
    REP_RULES,
    RepSpec,
    SidedRep,
    finite_median,
    register_sided,
    rep_findings,
    rep_frames,
)

RULES = {
    **REP_RULES,
    "max_rotation_deg": 10.0,  # trunk rotation from the start beyond this: the cable turned you
    "max_lean_deg": 8.0,  # lateral lean from the start beyond this
    "side_min_deg": 4.0,  # a rotation or lean this large names the side the trunk gave to
    "press_range_deg": 40.0,  # the elbows opening this much from rest is a full press
}
FINDINGS = {
    "trunk_rotation": "the trunk turned: the cable pulled the shoulders round",
    "lateral_lean": "the trunk leaned sideways",
}
CUES = {
    "trunk_rotation": "Don't let the cable turn you — chest square to the front",
    "lateral_lean": "Stand tall — don't lean",
}
MEASURES = ("trunk_rotation_deg", "lateral_lean_deg", "press")
_NAMES = ("elbow", "rotation", "lean")


def _angle(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> float:
    u, v = a - b, c - b
    nu, nv = np.linalg.norm(u), np.linalg.norm(v)
    if nu < 1e-6 or nv < 1e-6:
        return float("nan")
    return float(np.degrees(np.arccos(np.clip(u @ v / (nu * nv), -1.0, 1.0))))


def _heading(v: np.ndarray) -> float:
    """Direction of a world vector in the horizontal plane (x right, z away), degrees."""
    return float(np.degrees(np.arctan2(v[2], v[0])))


def frame_measures(frame: ExerciseFrame) -> dict[str, float]:
    """One frame: mean elbow angle and trunk rotation (world landmarks), the lean (picture);
    NaN where unseen."""
    out = dict.fromkeys(_NAMES, float("nan"))
    lm, w = frame.landmarks, frame.world
    if lm is not None:
        p = np.asarray(lm)[:, :2]
        v = p[[11, 12]].mean(0) - p[[23, 24]].mean(0)
        # Facing the camera, the lifter's right is the picture's left.
        out["lean"] = float(np.degrees(np.arctan2(-v[0], -v[1])))
    if w is not None:
        w = np.asarray(w, dtype=float)
        out["elbow"] = float(np.nanmean([_angle(w[11], w[13], w[15]), _angle(w[12], w[14], w[16])]))
        turn = _heading(w[11] - w[12]) - _heading(w[23] - w[24])
        out["rotation"] = float(-((turn + 180.0) % 360.0 - 180.0))
    return out


def resting_elbow(m: dict[str, np.ndarray]) -> dict[str, float]:
    """The elbows' resting angle: the 10th percentile of the frames given."""
    e = m["elbow"][np.isfinite(m["elbow"])]
    return {"elbow_rest": float(np.percentile(e, 10)) if e.size else float("nan")}


def press_of(m: dict[str, np.ndarray], rules: dict) -> np.ndarray:
    """0 with the elbows at their resting angle, 1 opened by `press_range_deg`."""
    return np.clip((m["elbow"] - m["elbow_rest"]) / rules["press_range_deg"], -0.5, 10.0)


def _side_of(value: float | None, rules: dict) -> str | None:
    if value is None or abs(value) < rules["side_min_deg"]:
        return None
    return "right" if value > 0 else "left"


def _worst(values: np.ndarray) -> float | None:
    """The change of largest size (signed), or None."""
    v = values[np.isfinite(values)]
    return float(v[np.argmax(np.abs(v))]) if v.size else None


def judge_rep(
    index: int,
    rep: Rep,
    m: dict[str, np.ndarray],
    times: np.ndarray,
    rest: np.ndarray,
    rules: dict,
) -> SidedRep:
    """A rep's press at the top, its largest trunk rotation and lean from the standing start
    (`rest` frames), the side the trunk gave to, and findings."""
    sel, top = rep_frames(rep, m, times)
    refs = {k: finite_median(m[k][rest]) for k in ("rotation", "lean")}
    change = {
        k: _worst(m[k][sel] - (np.nan if refs[k] is None else refs[k]))
        for k in ("rotation", "lean")
    }
    side = _side_of(change["rotation"], rules) or _side_of(change["lean"], rules)
    t_top = times[top]
    rotation = None if change["rotation"] is None else abs(change["rotation"])
    lean = None if change["lean"] is None else abs(change["lean"])
    measures = {
        "top_hold_s": float(t_top[-1] - t_top[0]) if t_top.size else 0.0,
        "max_trunk_rotation_deg": rotation,
        "max_lateral_lean_deg": lean,
    }
    checks = (
        ("trunk_rotation", rotation is not None and rotation > rules["max_rotation_deg"]),
        ("lateral_lean", lean is not None and lean > rules["max_lean_deg"]),
    )
    towards = f" towards the {side}" if side else ""
    findings = rep_findings(checks, rep, f"Rep {index}", FINDINGS, suffix=towards)
    return SidedRep(index, rep.start_s, rep.end_s, side, measures, findings)


SPEC = RepSpec(
    measure=frame_measures,
    signal=press_of,
    judge=judge_rep,
    report=lambda m: {
        "trunk_rotation_deg": m["rotation"],
        "lateral_lean_deg": m["lean"],
        "press": m["signal"],
    },
    cues=CUES,
    side_word="side",
    references=resting_elbow,
)


PALLOF_PRESS = register_sided(
    SPEC,
    RULES,
    name="pallof-press",
    label="Pallof press",
    views=("front",),
    preferred_view="front",
    film_hint="Face the camera, standing, with the cable or band to your side and your whole "
    "body in view.",
    measures=MEASURES,
    findings=FINDINGS,
)
analyse, stream = PALLOF_PRESS.analyse, PALLOF_PRESS.stream
