"""90/90 hip switch (seated on the floor, one leg in front and one to the side, both knees bent
about 90 deg; the knees swing over to the other side and back; filmed from the front): hip
external rotation of the front leg and internal rotation of the back leg, per side, the trunk's
lean, and the switches counted as reps.

In:  the clip's frames (`ExerciseFrame`: world landmarks in metres, landmarks in pixels), their
     times, the entry's rules.
Out: `SidedResult` (see `sided`): per-frame `hip_external_rotation_deg` (the front leg),
     `hip_internal_rotation_deg` (the back leg), `trunk_lean_deg` and `switch`; the reps (one
     per switch; side = the leg in front after it; both rotations and the lean in the position
     reached, findings); the clip's `hip_external_rotation_deg` and `hip_internal_rotation_deg`
     per side (median over every position held, the first included). Live: `stream`.

Rotation is read in three dimensions (`ninety_legs`: the seated goniometry of hip rotation).
Norms for hip rotation with the hip flexed (adults, goniometer): internal about 30-40 deg,
external about 40-60 deg (AAOS: IR 35, ER 45; Roach & Miles 1991, Phys Ther 71:656,
n = 1683). The leg in front is the one whose thigh points more forward (against the pelvis
upright: the trunk's depth dropped); a switch is the difference of the thighs' forwardness
passing through zero. A position is not judged (its rotations null, with the reason) when the
camera looks down on the hips too steeply (`camera_elevation`), or when most of its frames
read a hip turned the wrong way for a 90/90 (MediaPipe lost or swapped a leg).
"""

from __future__ import annotations

from collections import deque
from dataclasses import replace
from functools import partial

import numpy as np

from ..reps import Rep
from .ninety_legs import (
    HIP,
    KNEE,
    PRIOR,
    camera_elevation,
    hip_rotation,
    pelvis_axes,
    picture_lengths,
    rebuild,
    segment_lengths,
    trunk_vector,
    unit,
)
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
)

RULES = {
    **REP_RULES,
    "min_external_deg": 40.0,  # the front leg's ER under this: below the usual range
    "min_internal_deg": 30.0,  # the back leg's IR under this: below the usual range
    "max_lean_back_deg": 25.0,  # leaning back more than this props the range up
    "position_s": 2.0,  # a rep's position: the held frames up to this long after it
    # Rotation reads within about this much on renders (benchmarks/drills.py): a range is
    # called low only when it is below the usual one by more.
    "uncertainty_deg": 15.0,
    # Rotation is not judged when the camera looks down on the hips by more than this, as read
    # by `camera_elevation` (which reads about 5 deg high: see there).
    "max_camera_elevation_deg": 20.0,
}
FINDINGS = {
    "low_external": "the front hip turned out clearly less than usual (under 25 deg; usual 40-60)",
    "low_internal": "the back hip turned in clearly less than usual (under 15 deg; usual 30-40)",
    "lean_back": "the trunk leaned far back to reach the position",
}
CUES = {
    "low_external": "Let the front knee sink towards the floor",
    "low_internal": "Let the back knee drop — turn the back hip in",
    "lean_back": "Sit tall — chest up over your hips",
}
SEVERITY = {"low_external": "low", "low_internal": "low"}
MEASURES = ("hip_external_rotation_deg", "hip_internal_rotation_deg", "trunk_lean_deg", "switch")
CAMERA_HIGH = (
    "rotation not judged: the camera looks down on you from too high. Film with it level at "
    "about chair-seat height (40-60 cm), 2-3 m away"
)
LEGS_UNCLEAR = (
    "rotation not judged: the legs were not read clearly (the front hip read as turned in or "
    "the back hip as turned out). Film from straight in front with both knees and feet in view"
)
# A front hip read as turned in, or a back hip as turned out, by more than this is not a 90/90
# position as read (MediaPipe lost or swapped a leg): such frames are left out, and a position
# with fewer than half its frames left is not judged.
WRONG_WAY_DEG = 10.0
# How long either side of a switch the legs' positions are read to tell that it changed them.
SWITCH_SIDE_S = 0.5
LIVE_FRAMES = 900
_NAMES = ("rot_left", "rot_right", "fwd_left", "fwd_right", "lean", "elev")


def frame_measures(frame: ExerciseFrame, lengths: tuple[float, float] = PRIOR) -> dict[str, float]:
    """One frame: each hip's rotation (+ external; `lengths`: thigh and shin over the trunk, see
    `rebuild`), each thigh's forwardness (its share along the upright pelvis's forward
    direction) and the trunk's lean back from vertical (world landmarks); NaN where unseen."""
    out = dict.fromkeys(_NAMES, float("nan"))
    if frame.world is None:
        return out
    world = np.asarray(frame.world, dtype=float)
    w = world if frame.landmarks is None else rebuild(frame.landmarks, world, lengths)
    if w is None:
        return out
    # Rotation about the pelvis as it leans; forwardness about it upright (the trunk's depth
    # dropped), so that the read lean's jitter does not sway which leg is in front.
    trunk = trunk_vector(w)
    leaned, upright = pelvis_axes(w, trunk), pelvis_axes(w, trunk * (1.0, 1.0, 0.0))
    if leaned is None or upright is None:
        return out
    for s in SIDES:
        out[f"rot_{s}"] = hip_rotation(w, s, -leaned[0])
        thigh = unit(w[KNEE[s]] - w[HIP[s]])
        out[f"fwd_{s}"] = float("nan") if thigh is None else float(thigh @ upright[1])
    # World y points down and z away from the camera the lifter faces: + = leaning back.
    t = trunk_vector(world)
    out["lean"] = float(np.degrees(np.arctan2(t[2], -t[1])))
    if frame.landmarks is not None:
        out["elev"] = camera_elevation(w)
    return out


def _front(m: dict[str, np.ndarray]) -> np.ndarray:
    return m["fwd_left"] - m["fwd_right"]


def held_front(m: dict[str, np.ndarray]) -> dict[str, float]:
    """How far apart the thighs' forwardness is in a held position, with each leg in front
    (75th percentile of each sign: the two positions need not read alike)."""
    q = _front(m)
    q = q[np.isfinite(q)]
    out = {}
    for name, part in (("front_left", q[q > 0]), ("front_right", -q[q < 0])):
        out[name] = float(np.percentile(part, 75)) if part.size else float("nan")
    return out


def switch_of(m: dict[str, np.ndarray], rules: dict) -> np.ndarray:
    """0 in a held position, 1 halfway through a switch (both thighs equally forward)."""
    q = _front(m)
    ref = np.where(q > 0, m["front_left"], m["front_right"])
    ref = np.where(ref > 0.05, ref, np.nan)
    return np.clip(1.0 - np.abs(q) / ref, -0.5, 1.5)


def switched(rep: Rep, m: dict[str, np.ndarray], times: np.ndarray) -> bool:
    """A switch counts when the leg in front after it is not the one in front before it (the
    thighs' forwardness changed sign): the positions `SWITCH_SIDE_S` either side of the rep,
    the rep's own first frames where the clip starts in it. True where either is unseen."""
    q = _front(m)
    before = (times >= rep.start_s - SWITCH_SIDE_S) & (times <= rep.start_s + 0.1)
    after = (times >= rep.end_s) & (times <= rep.end_s + SWITCH_SIDE_S)
    signs = [finite_median(np.sign(q[sel])) for sel in (before, after)]
    if any(v is None or v == 0 for v in signs):
        return True
    return signs[0] != signs[1]


def plausible(er: np.ndarray, ir: np.ndarray) -> tuple[np.ndarray, bool]:
    """Which frames of a position read as a 90/90 (neither hip turned the wrong way by more
    than `WRONG_WAY_DEG`), and whether enough do (half of those with a hip read) for it to be
    judged; a position with no hip read is not unclear, just unseen."""
    wrong = (er < -WRONG_WAY_DEG) | (ir < -WRONG_WAY_DEG)
    read = np.isfinite(er) | np.isfinite(ir)
    return ~wrong, 2 * int(wrong.sum()) <= int(read.sum())


def position(m: dict[str, np.ndarray], sel: np.ndarray) -> dict[str, float | None]:
    """The leg in front over the frames `sel`, both rotations there (over the frames that read
    as a 90/90; None when too few do: `clear` False), the lean and the camera's elevation."""
    q = finite_median(_front(m)[sel])
    if q is None:
        return {"side": None, "er": None, "ir": None, "lean": None, "elev": None, "clear": True}
    front = "left" if q > 0 else "right"
    back = "right" if front == "left" else "left"
    er, ir = m[f"rot_{front}"][sel], -m[f"rot_{back}"][sel]
    ok, clear = plausible(er, ir)
    return {
        "side": front,
        "er": finite_median(er[ok]) if clear else None,
        "ir": finite_median(ir[ok]) if clear else None,
        "lean": finite_median(m["lean"][sel]),
        "elev": finite_median(m["elev"][sel]),
        "clear": clear,
    }


def camera_too_high(elevation: float | None, rules: dict) -> bool:
    """Whether the camera looks down on the hips too steeply for rotation to be judged."""
    return elevation is not None and elevation > rules["max_camera_elevation_deg"]


def _below(value: float | None, usual: float, rules: dict) -> bool:
    """Clearly below the usual range: by more than the reading's uncertainty."""
    return value is not None and value < usual - rules["uncertainty_deg"]


def judge_rep(
    index: int,
    rep: Rep,
    m: dict[str, np.ndarray],
    times: np.ndarray,
    rest: np.ndarray,
    rules: dict,
) -> SidedRep:
    """A switch: the position it reached (the held frames after its midpoint, up to
    `position_s` past its end), the rotations and lean there, and findings."""
    s = m["signal"]
    after = (times > rep.bottom_s) & (times <= rep.end_s + rules["position_s"])
    held = after & np.isfinite(s) & (s < rules["enter"])
    pos = position(m, held)
    high = camera_too_high(pos["elev"], rules)
    if high:
        pos = {**pos, "er": None, "ir": None}
    measures = {
        "hip_external_rotation_deg": pos["er"],
        "hip_internal_rotation_deg": pos["ir"],
        "trunk_lean_deg": pos["lean"],
    }
    checks = (
        ("low_external", _below(pos["er"], rules["min_external_deg"], rules)),
        ("low_internal", _below(pos["ir"], rules["min_internal_deg"], rules)),
        ("lean_back", pos["lean"] is not None and pos["lean"] > rules["max_lean_back_deg"]),
    )
    front = pos["side"]
    label = f"Switch {index} ({front} leg in front)"
    findings = rep_findings(checks, rep, label, FINDINGS, SEVERITY)
    note = CAMERA_HIGH if high else (None if pos["clear"] else LEGS_UNCLEAR)
    return SidedRep(index, rep.start_s, rep.end_s, front, measures, findings, note)


def summarise(result: SidedResult, m, times, rules) -> SidedResult:
    """Each side's rotations over every held position (before the first switch too), from the
    frames that read as a 90/90 (`plausible`); none for a side whose positions mostly do not,
    and none at all (nor per frame), with why, when the camera looks down on the hips too
    steeply."""
    held = np.isfinite(m["signal"]) & (m["signal"] < rules["lockout"])
    q = _front(m)
    high = camera_too_high(finite_median(m["elev"][held]), rules)
    er: dict[str, float | None] = dict.fromkeys(SIDES)
    ir: dict[str, float | None] = dict.fromkeys(SIDES)
    left_front = held & (q > 0)
    right_front = held & (q < 0)
    for front, back, sel in (("left", "right", left_front), ("right", "left", right_front)):
        f, b = m[f"rot_{front}"][sel], -m[f"rot_{back}"][sel]
        ok, clear = plausible(f, b)
        v = finite_median(f[ok]) if clear and not high else None
        er[front] = None if v is None else round(v, 1)
        v = finite_median(b[ok]) if clear and not high else None
        ir[back] = None if v is None else round(v, 1)
    result.totals = {"hip_external_rotation_deg": er, "hip_internal_rotation_deg": ir}
    if high:  # the frames' readings are not shown either
        for key in result.totals:
            result.measures[key] = np.full(len(times), np.nan)
    result.notes = [f"Hip {CAMERA_HIGH}."] if high else range_words(er, ir)
    if not high and any(r.note == LEGS_UNCLEAR for r in result.reps):
        result.notes.append(f"Some switches: {LEGS_UNCLEAR}.")
    return result


def range_words(er: dict[str, float | None], ir: dict[str, float | None]) -> list[str]:
    """The per-side ranges in words, against the usual ones, with how far to trust them."""
    parts = []
    for name, values, usual in (("out", er, "40-60"), ("in", ir, "30-40")):
        seen = [f"{s} {v:.0f}" for s, v in values.items() if v is not None]
        if seen:
            parts.append(f"turned {name}: {', '.join(seen)} degrees (usual {usual})")
    if not parts:
        return []
    return [
        f"Hip rotation, {'; '.join(parts)}. An estimate: about 9 degrees off on average with "
        "the camera level at chair-seat height in front of you, more for a back hip that turns "
        "in little; a camera higher up, tilted down, reads the front hip's turn out lower and "
        "the back hip's turn in higher."
    ]


def _report(m: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    left_front = _front(m) > 0
    return {
        "hip_external_rotation_deg": np.where(left_front, m["rot_left"], m["rot_right"]),
        "hip_internal_rotation_deg": -np.where(left_front, m["rot_right"], m["rot_left"]),
        "trunk_lean_deg": m["lean"],
        "switch": m["signal"],
    }


def _switch_words(rep: SidedRep, counts: dict[str, int]) -> str:
    er = rep.measures.get("hip_external_rotation_deg")
    ir = rep.measures.get("hip_internal_rotation_deg")
    if rep.note is not None:
        return f"Switch {rep.index}: {rep.note}"
    if er is None or ir is None:
        return f"Switch {rep.index}"
    return f"Switch {rep.index}: out {er:.0f}, in {ir:.0f} degrees"


SPEC = RepSpec(
    measure=frame_measures,
    signal=switch_of,
    judge=judge_rep,
    report=_report,
    cues=CUES,
    side_word="leg in front",
    references=held_front,
    summarise=summarise,
    rep_words=_switch_words,
    nouns="switches",
    settle="position_s",
    counts=switched,
)


class LearntLengths:
    """Live: the segment lengths learnt from the frames so far (`segment_lengths` over the last
    `LIVE_FRAMES`), each frame measured with them (`measure`)."""

    def __init__(self) -> None:
        self.pictured: deque[np.ndarray] = deque(maxlen=LIVE_FRAMES)

    def measure(self, frame: ExerciseFrame) -> dict[str, float]:
        self.pictured.append(picture_lengths(frame))
        return frame_measures(frame, segment_lengths(self.pictured))


def clip_spec(frames: list) -> RepSpec:
    """The spec for a whole clip: frames measured with the segment lengths read from it."""
    lengths = segment_lengths(picture_lengths(f) for f in frames)
    return replace(SPEC, measure=partial(frame_measures, lengths=lengths))


def live_spec() -> RepSpec:
    """The spec for a live session: the segment lengths learnt as frames come."""
    return replace(SPEC, measure=LearntLengths().measure)


NINETY_NINETY = register_sided(
    SPEC,
    RULES,
    clip_spec=clip_spec,
    live_spec=live_spec,
    name="90-90",
    label="90/90 hip switch",
    views=("front",),
    preferred_view="front",
    film_hint="Film from the front with the camera level at about chair-seat height (40-60 cm, "
    "not tilted down), 2-3 m away, seated on the floor with both knees and feet in view.",
    measures=MEASURES,
    findings=FINDINGS,
)
analyse, stream = NINETY_NINETY.analyse, NINETY_NINETY.stream
