"""The legs of a person seated on the floor, in three dimensions, from one front picture (the
90/90 hip switch): the depth of thighs and shins rebuilt from their lengths, the hips'
rotation against the pelvis, and how far the camera looks down on the hips.

In:  one frame's landmarks (pixels) and world landmarks (metres: x to the picture's right, y
     down, z away from the camera), the person's segment lengths over the trunk's.
Out: `rebuild` (landmarks with depth, in pixels), `hip_rotation` (degrees, + external),
     `camera_elevation` (degrees), `picture_lengths` / `segment_lengths` (the person's
     thigh and shin over the trunk).

MediaPipe's own depth lays a shin pointing at the camera flat, and read rotations 20-35 deg
short on renders, so depth is rebuilt from the segments' lengths instead. The lengths are the
person's own, read from the clip (live, from the frames so far): in the 90/90 the front shin
and the back thigh lie about in the picture plane, so their longest picture lengths are their
true ones. The pelvis frame is the hip line and the trunk's up direction (hip centre ->
shoulder centre, made square to the hip line; its lean in depth from the world landmarks, as
the lifter may lean back). For a thigh u (hip -> knee), the shin at zero rotation points the
pelvis's "down" made square to u; the hip's rotation is the angle about u from there to the
actual shin (knee -> ankle, square to u), external when it turns the foot towards the body's
midline for a thigh pointing forward (the seated goniometry of hip rotation).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from .registry import ExerciseFrame
from .sided import SIDES

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
# `MIN_FRAMES` frames (else the prior).
LENGTH_PERCENTILE = 95.0
MIN_FRAMES = 10
# Seated on the floor, the hip joints are about 10 cm up and the ankles of feet lying on their
# sides about 4 cm: the ankles sit this many trunk lengths (~50 cm) below the hip centre.
ANKLE_DROP = 0.12
_ELEVATIONS = np.radians(np.arange(-30.0, 70.5, 0.5))


def unit(v: np.ndarray) -> np.ndarray | None:
    n = float(np.linalg.norm(v))
    return None if n < 1e-6 else v / n


def _square(v: np.ndarray, axis: np.ndarray) -> np.ndarray | None:
    """`v` made square to the unit `axis`, as a unit vector (None when parallel)."""
    return unit(v - (v @ axis) * axis)


def trunk_vector(w: np.ndarray) -> np.ndarray:
    """Hip centre -> shoulder centre."""
    return w[[11, 12]].mean(0) - w[[23, 24]].mean(0)


def pelvis_axes(w: np.ndarray, trunk: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The pelvis's up (`trunk` made square to the hip line) and forward directions."""
    left = unit(w[HIP["left"]] - w[HIP["right"]])
    up = None if left is None else _square(trunk, left)
    return None if up is None else (up, np.cross(left, up))


def hip_rotation(w: np.ndarray, side: str, down: np.ndarray) -> float:
    """One hip's rotation in degrees, + external (see the module docstring); NaN if degenerate."""
    u = unit(w[KNEE[side]] - w[HIP[side]])
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
    trunk = float(np.linalg.norm(trunk_vector(p[:, :2])))
    if trunk < 1.0:
        return None
    t = trunk_vector(world)
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


def camera_elevation(p: np.ndarray) -> float:
    """How far the camera looks down on the hips (degrees, + from above) in one frame, from
    `rebuild`'s landmarks: the elevation for which both ankles sit `ANKLE_DROP` below the hip
    centre (all three rest on the floor), least squares over a grid; NaN if degenerate.
    MediaPipe's world landmarks read the trunk as the body holds it whatever the camera's
    height, so this is the only sign of it. On renders it reads about 5 deg high (more with
    the trunk leaning back): 11-18 deg for a camera 10 deg above the hips, 21-31 for 17 deg."""
    trunk = float(np.linalg.norm(trunk_vector(p[:, :2])))
    if trunk < 1.0:
        return float("nan")
    v = (p[[ANKLE["left"], ANKLE["right"]]] - p[[HIP["left"], HIP["right"]]].mean(0)) / trunk
    # The world's up in the picture's axes (x right, y down, z away): (0, -cos e, -sin e).
    height = -np.outer(np.cos(_ELEVATIONS), v[:, 1]) - np.outer(np.sin(_ELEVATIONS), v[:, 2])
    cost = ((height + ANKLE_DROP) ** 2).sum(1)
    return float(np.degrees(_ELEVATIONS[int(np.argmin(cost))]))


def picture_lengths(frame: ExerciseFrame) -> np.ndarray:
    """One frame's thighs' and shins' lengths in the picture over the trunk's: rows thigh,
    shin; columns left, right (NaN where unseen)."""
    out = np.full((2, 2), np.nan)
    if frame.landmarks is None:
        return out
    p = np.asarray(frame.landmarks, dtype=float)[:, :2]
    trunk = float(np.linalg.norm(trunk_vector(p)))
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
