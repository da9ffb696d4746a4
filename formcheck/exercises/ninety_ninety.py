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

Rotation is read in three dimensions: the picture gives the legs' joints across and up, and
their depth is rebuilt from the segments' lengths (see `rebuild`: MediaPipe's own depth lays a
shin pointing at the camera flat, and read rotations 20-35 deg short on renders). The lengths
are the person's own, read from the clip (`segment_lengths`; live, from the frames so far): in
the 90/90 the front shin and the back thigh lie about in the picture plane, so their longest
picture lengths are their true ones. The pelvis frame is the hip line and the trunk's up
direction (hip centre -> shoulder centre, made square to the hip line; its lean in depth from
the world landmarks, as the lifter may lean back). For a thigh u (hip ->
knee), the shin at zero rotation points the pelvis's "down" made square to u; the hip's
rotation is the angle about u from there to the actual shin (knee -> ankle, square to u),
external when it turns the foot towards the body's midline for a thigh pointing forward
(the seated goniometry of hip rotation). Norms for hip rotation with the hip flexed (adults,
goniometer): internal about 30-40 deg, external about 40-60 deg (AAOS: IR 35, ER 45; Roach &
Miles 1991, Phys Ther 71:656, n = 1683). The leg in front is the one whose thigh points more
forward (against the pelvis upright: the trunk's depth dropped); a switch is the difference of
the thighs' forwardness passing through zero.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import replace
from functools import partial

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
# How long either side of a switch the legs' positions are read to tell that it changed them.
SWITCH_SIDE_S = 0.5
HIP = {"left": 23, "right": 24}
KNEE = {"left": 25, "right": 26}
ANKLE = {"left": 27, "right": 28}
# Right-hand rotation about the thigh axis that is external, per side.
ER_SIGN = {"left": -1.0, "right": 1.0}
# Thigh and shin length over the trunk's (hip centre -> shoulder centre): 0.245 and 0.246 of
# stature against 0.288 (Winter, Biomechanics and Motor Control of Human Movement, 2009).
SEGMENT_TO_TRUNK = 0.85
PRIOR = (SEGMENT_TO_TRUNK, SEGMENT_TO_TRUNK)  # thigh, shin
# The person's own lengths: this percentile of each segment's picture length over the trunk's
# (the front shin and the back thigh lie about in the picture plane), from at least
# `MIN_FRAMES` frames (else the prior); live, over the last `LIVE_FRAMES` frames.
LENGTH_PERCENTILE = 95.0
MIN_FRAMES = 10
LIVE_FRAMES = 900
_NAMES = ("rot_left", "rot_right", "fwd_left", "fwd_right", "lean")


def _unit(v: np.ndarray) -> np.ndarray | None:
    n = float(np.linalg.norm(v))
    return None if n < 1e-6 else v / n


def _square(v: np.ndarray, axis: np.ndarray) -> np.ndarray | None:
    """`v` made square to the unit `axis`, as a unit vector (None when parallel)."""
    return _unit(v - (v @ axis) * axis)


def _trunk(w: np.ndarray) -> np.ndarray:
    """Hip centre -> shoulder centre."""
    return w[[11, 12]].mean(0) - w[[23, 24]].mean(0)


def _pelvis(w: np.ndarray, trunk: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The pelvis's up (`trunk` made square to the hip line) and forward directions."""
    left = _unit(w[HIP["left"]] - w[HIP["right"]])
    up = None if left is None else _square(trunk, left)
    return None if up is None else (up, np.cross(left, up))


def hip_rotation(w: np.ndarray, side: str, down: np.ndarray) -> float:
    """One hip's rotation in degrees, + external (see the module docstring); NaN if degenerate."""
    u = _unit(w[KNEE[side]] - w[HIP[side]])
    if u is None:
        return float("nan")
    neutral, shin = _square(down, u), _square(w[ANKLE[side]] - w[KNEE[side]], u)
    if neutral is None or shin is None:
        return float("nan")
    angle = np.degrees(np.arctan2(np.cross(neutral, shin) @ u, neutral @ shin))
    return float(ER_SIGN[side] * angle)


def _thigh_depth_sign(w: np.ndarray, side: str) -> float:
    """+1 when the knee is further from the camera than the hip (world z), else -1."""
    return 1.0 if w[KNEE[side], 2] > w[HIP[side], 2] else -1.0


def rebuild(
    landmarks: np.ndarray, world: np.ndarray, lengths: tuple[float, float] = PRIOR
) -> np.ndarray | None:
    """Landmarks in three dimensions, in pixels: x, y from the picture, the legs' depth from
    their segment lengths. MediaPipe's world landmarks lay a shin pointing at or away from the
    camera nearly flat in the picture plane, so depth is rebuilt instead: each thigh and shin is
    `lengths` (thigh, shin) trunk lengths long (the trunk, hip centre -> shoulder centre, as
    pictured), and its depth is what the picture leaves of that. The direction in depth: a
    thigh's from the world landmarks (they get it right); a shin's from the position, towards
    the camera for the front leg and away for the back leg. The shoulders lean in depth as the
    world landmarks' trunk does (the hips are at depth 0)."""
    p = np.zeros((33, 3))
    p[:, :2] = np.asarray(landmarks, dtype=float)[:, :2]
    trunk = float(np.linalg.norm(_trunk(p[:, :2])))
    if trunk < 1.0:
        return None
    t = _trunk(world)
    flat = float(np.hypot(t[0], t[1]))
    p[[11, 12], 2] = trunk * t[2] / flat if flat > 1e-6 else 0.0
    thigh, shin = lengths[0] * trunk, lengths[1] * trunk
    forward = {s: -_thigh_depth_sign(world, s) * _in_plane_share(p, s, thigh) for s in SIDES}
    front = max(SIDES, key=lambda s: forward[s])
    for s in SIDES:
        shin_sign = -1.0 if s == front else 1.0
        for a, b, sign, length in (
            (HIP[s], KNEE[s], _thigh_depth_sign(world, s), thigh),
            (KNEE[s], ANKLE[s], shin_sign, shin),
        ):
            flat = float(np.linalg.norm(p[b, :2] - p[a, :2]))
            p[b, 2] = p[a, 2] + sign * np.sqrt(max(length**2 - flat**2, 0.0))
    return p


def _in_plane_share(p: np.ndarray, side: str, length: float) -> float:
    """How much of a thigh's length lies in depth (0 in the picture plane .. 1 end-on)."""
    flat = float(np.linalg.norm(p[KNEE[side], :2] - p[HIP[side], :2]))
    return float(np.sqrt(max(1.0 - (flat / length) ** 2, 0.0)))


def picture_lengths(frame: ExerciseFrame) -> np.ndarray:
    """One frame's thighs' and shins' lengths in the picture over the trunk's: rows thigh,
    shin; columns left, right (NaN where unseen)."""
    out = np.full((2, 2), np.nan)
    if frame.landmarks is None:
        return out
    p = np.asarray(frame.landmarks, dtype=float)[:, :2]
    trunk = float(np.linalg.norm(_trunk(p)))
    if trunk < 1.0:
        return out
    for j, s in enumerate(SIDES):
        out[0, j] = np.linalg.norm(p[KNEE[s]] - p[HIP[s]]) / trunk
        out[1, j] = np.linalg.norm(p[ANKLE[s]] - p[KNEE[s]]) / trunk
    return out


def segment_lengths(pictured: Iterable[np.ndarray]) -> tuple[float, float]:
    """The person's thigh and shin lengths over the trunk's from frames' `picture_lengths`:
    each a high percentile of its picture lengths, both sides pooled (in the 90/90 the front
    shin and the back thigh lie about in the picture plane); the prior where too few frames."""
    a = np.asarray(list(pictured), dtype=float).reshape(-1, 2, 2)
    out = list(PRIOR)
    for k in range(2):
        v = a[:, k].ravel()
        v = v[np.isfinite(v)]
        if v.size >= 2 * MIN_FRAMES:  # both sides of `MIN_FRAMES` frames
            out[k] = float(np.percentile(v, LENGTH_PERCENTILE))
    return out[0], out[1]


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
    trunk = _trunk(w)
    leaned, upright = _pelvis(w, trunk), _pelvis(w, trunk * (1.0, 1.0, 0.0))
    if leaned is None or upright is None:
        return out
    for s in SIDES:
        out[f"rot_{s}"] = hip_rotation(w, s, -leaned[0])
        thigh = _unit(w[KNEE[s]] - w[HIP[s]])
        out[f"fwd_{s}"] = float("nan") if thigh is None else float(thigh @ upright[1])
    # World y points down and z away from the camera the lifter faces: + = leaning back.
    t = _trunk(world)
    out["lean"] = float(np.degrees(np.arctan2(t[2], -t[1])))
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


def position(m: dict[str, np.ndarray], sel: np.ndarray) -> dict[str, float | None]:
    """The leg in front over the frames `sel` and both rotations and the lean there."""
    q = finite_median(_front(m)[sel])
    if q is None:
        return {"side": None, "er": None, "ir": None, "lean": None}
    front = "left" if q > 0 else "right"
    back = "right" if front == "left" else "left"
    ir = finite_median(m[f"rot_{back}"][sel])
    return {
        "side": front,
        "er": finite_median(m[f"rot_{front}"][sel]),
        "ir": None if ir is None else -ir,
        "lean": finite_median(m["lean"][sel]),
    }


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
    return SidedRep(index, rep.start_s, rep.end_s, front, measures, findings)


def summarise(result: SidedResult, m, times, rules) -> SidedResult:
    """Each side's rotations over every held position (before the first switch too)."""
    held = np.isfinite(m["signal"]) & (m["signal"] < rules["lockout"])
    q = _front(m)
    er: dict[str, float | None] = {}
    ir: dict[str, float | None] = {}
    for s, sign in (("left", 1.0), ("right", -1.0)):
        front = held & (sign * q > 0)
        v = finite_median(m[f"rot_{s}"][front])
        er[s] = None if v is None else round(v, 1)
        v = finite_median(m[f"rot_{s}"][held & (sign * q < 0)])
        ir[s] = None if v is None else round(-v, 1)
    result.totals = {"hip_external_rotation_deg": er, "hip_internal_rotation_deg": ir}
    result.notes = range_words(er, ir)
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
