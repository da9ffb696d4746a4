"""The mannequin's surface as many overlapping spheres.

In:  a `Skeleton`, a `BodyShape`, clothing colour and load.
Out: `Spheres` (centres in metres, radii, RGB albedo, part ids). Limbs are densely sampled
     capsules whose radii blend across joints; the torso follows a smoothed spine curve with
     its cross-section pushed forward so the spine runs close to the back surface.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from formcheck.synth.skeleton import Skeleton, rotate, to3d
from formcheck.synth.spec import BodyShape

HAIR = (52, 38, 28)
SHORTS = (44, 46, 58)
SHOES = (36, 36, 40)
METAL = (150, 152, 158)
IRON = (52, 52, 56)
EYES = (30, 24, 22)

# Part ids, so tests can ask where the torso is.
TORSO, PELVIS, LEG, ARM, HEAD, PROP = range(6)

# Torso profile along the spine from S1 (u = 0) to T1 (u = 1), metres for a 1.75 m body:
# front-to-back half depth, spine-to-back-skin depth and half width.
PROFILE_U = np.array([0.0, 0.2, 0.4, 0.55, 0.7, 0.85, 1.0])
PROFILE_HALF_DEPTH = np.array([0.105, 0.097, 0.098, 0.108, 0.114, 0.108, 0.085])
PROFILE_BACK = np.array([0.062, 0.062, 0.062, 0.056, 0.05, 0.048, 0.045])
PROFILE_HALF_WIDTH = np.array([0.16, 0.145, 0.145, 0.15, 0.155, 0.16, 0.15])


@dataclass
class Spheres:
    """Sphere soup: centres (N, 3), radii (N,), albedo (N, 3) in 0..1, part ids (N,)."""

    centres: np.ndarray
    radii: np.ndarray
    albedo: np.ndarray
    part: np.ndarray


class _Builder:
    def __init__(self) -> None:
        self.c: list[np.ndarray] = []
        self.r: list[float] = []
        self.a: list[tuple[int, int, int]] = []
        self.p: list[int] = []

    def sphere(self, c: np.ndarray, r: float, rgb: tuple[int, int, int], part: int) -> None:
        self.c.append(np.asarray(c, dtype=float))
        self.r.append(float(r))
        self.a.append(rgb)
        self.p.append(part)

    def capsule(
        self,
        p0: np.ndarray,
        p1: np.ndarray,
        r0: float,
        r1: float,
        rgb: tuple[int, int, int] | list[tuple[int, int, int]],
        part: int,
    ) -> None:
        """Spheres from p0 to p1 with linearly blended radius; rgb may vary along the way."""
        length = float(np.linalg.norm(p1 - p0))
        step = max(0.003, 0.1 * min(r0, r1))
        n = max(2, int(np.ceil(length / step)) + 1)
        colours = rgb if isinstance(rgb, list) else [rgb]
        for i, s in enumerate(np.linspace(0.0, 1.0, n)):
            colour = colours[min(len(colours) - 1, int(i * len(colours) / n))]
            self.sphere(p0 + s * (p1 - p0), r0 + s * (r1 - r0), colour, part)

    def build(self) -> Spheres:
        return Spheres(
            centres=np.array(self.c),
            radii=np.array(self.r),
            albedo=np.array(self.a, dtype=float) / 255.0,
            part=np.array(self.p, dtype=np.int8),
        )


def smooth_curve(points: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Chaikin-smooth a 2D polyline, resample it every `step` metres; return points, tangents."""
    pts = points
    for _ in range(3):
        q = 0.75 * pts[:-1] + 0.25 * pts[1:]
        r = 0.25 * pts[:-1] + 0.75 * pts[1:]
        mid = np.empty((2 * len(q), 2))
        mid[0::2], mid[1::2] = q, r
        pts = np.vstack([pts[:1], mid, pts[-1:]])
    seg = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    samples = np.linspace(0.0, s[-1], max(2, int(np.ceil(s[-1] / step)) + 1))
    out = np.stack([np.interp(samples, s, pts[:, i]) for i in range(2)], axis=1)
    tangent = np.gradient(out, axis=0)
    tangent /= np.linalg.norm(tangent, axis=1, keepdims=True)
    return out, tangent


def build_body(
    sk: Skeleton,
    shape: BodyShape,
    clothing: tuple[int, int, int],
    load: str,
    shirt: str = "fitted",
) -> Spheres:
    """All spheres of the mannequin for one pose; a "loose" shirt bridges the hollows of the
    back (see `_loose_shirt`)."""
    b = _Builder()
    k, g = sk.scale, shape.girth
    skin = shape.skin_rgb
    j = sk.joints
    _torso(b, sk, shape, clothing)
    _pelvis(b, sk, shape)
    if shirt == "loose":
        _loose_shirt(b, sk, clothing)

    for side in ("l", "r"):
        hip, knee, ankle = j[f"hip_{side}"], j[f"knee_{side}"], j[f"ankle_{side}"]
        b.capsule(hip, knee, 0.084 * k * g, 0.056 * k * g, [SHORTS, SHORTS, skin], LEG)
        b.capsule(knee, ankle, 0.052 * k * g, 0.036 * k * g**0.5, skin, LEG)
        shank = (ankle - knee) / np.linalg.norm(ankle - knee)
        back = np.array([-shank[1], shank[0], 0.0]) * -1.0
        calf = knee + 0.12 * k * shank + 0.012 * k * back
        b.capsule(calf, calf + 0.16 * k * shank, 0.052 * k * g, 0.036 * k * g**0.5, skin, LEG)
        heel = np.array([ankle[0] - 0.05 * k, 0.037 * k, ankle[2]])
        toe = np.array([ankle[0] + 0.17 * k, 0.028 * k, ankle[2]])
        b.capsule(ankle, heel, 0.04 * k, 0.037 * k, SHOES, LEG)
        b.capsule(heel, toe, 0.037 * k, 0.028 * k, SHOES, LEG)

        sh, el, wr = j[f"shoulder_{side}"], j[f"elbow_{side}"], j[f"wrist_{side}"]
        b.sphere(sh, 0.056 * k * g, clothing, ARM)
        b.capsule(sh, el, 0.048 * k * g, 0.037 * k * g, [clothing, skin], ARM)
        b.capsule(el, wr, 0.037 * k * g, 0.027 * k * g**0.5, skin, ARM)
        fore = (wr - el) / np.linalg.norm(wr - el)
        b.capsule(wr, wr + 0.07 * k * fore, 0.032 * k, 0.03 * k, skin, ARM)
        trap = j["t1"] + np.array([0.0, 0.0, np.sign(sh[2]) * 0.05 * k])
        b.capsule(trap, sh, 0.05 * k * g, 0.05 * k * g, clothing, TORSO)

    _head(b, sk, shape)
    _load(b, sk, load)
    return b.build()


def _torso(b: _Builder, sk: Skeleton, shape: BodyShape, clothing: tuple[int, int, int]) -> None:
    k, g = sk.scale, shape.girth
    pts, tan = smooth_curve(sk.spine, 0.004 * k)
    normal = np.stack([tan[:, 1], -tan[:, 0]], axis=1)
    u = np.linspace(0.0, 1.0, len(pts))
    half_depth = np.interp(u, PROFILE_U, PROFILE_HALF_DEPTH) * k * g
    back = np.interp(u, PROFILE_U, PROFILE_BACK) * k * g**0.5
    half_width = np.interp(u, PROFILE_U, PROFILE_HALF_WIDTH) * k * g
    belly = shape.belly * 0.045 * k * np.clip(1.0 - np.abs(u - 0.25) / 0.25, 0.0, 1.0)
    for i in range(len(pts)):
        centre = pts[i] + normal[i] * (half_depth[i] - back[i])
        lateral = max(0.0, half_width[i] - half_depth[i])
        for z in (-lateral, 0.0, lateral):
            b.sphere(to3d(centre, z), half_depth[i], clothing, TORSO)
        if belly[i] > 0.003:
            b.sphere(to3d(centre + normal[i] * belly[i], 0.0), half_depth[i], clothing, TORSO)


def _pelvis(b: _Builder, sk: Skeleton, shape: BodyShape) -> None:
    k, g = sk.scale, shape.girth
    hip = sk.joints["hip_mid"][:2]

    def at(x: float, y: float, z: float = 0.0) -> np.ndarray:
        return to3d(hip + k * rotate((x, y), sk.pelvis_deg), z * k)

    core_r = 0.105 * k * g
    for z in (-0.055 * g, 0.0, 0.055 * g):
        b.capsule(at(-0.005, 0.10, z), at(0.01, -0.01, z), core_r, 0.095 * k * g, SHORTS, PELVIS)
    sacral_r = 0.075 * k * g
    for z in (-0.04, 0.04):
        b.capsule(at(-0.035, 0.09, z), at(-0.045, 0.01, z), sacral_r, sacral_r, SHORTS, PELVIS)
    glute_r = 0.08 * k * g * shape.glutes
    for z in (-0.07, 0.07):
        b.capsule(
            at(-0.05, 0.035, z), at(-0.045, -0.05, z), glute_r, glute_r * 0.95, SHORTS, PELVIS
        )


# A loose shirt hangs from the shoulder blades (this share of the way from the hip joints to
# T1) to the buttocks, taut over the highest points of the back between them.
SHIRT_TOP = 0.7


def _loose_shirt(b: _Builder, sk: Skeleton, clothing: tuple[int, int, int]) -> None:
    """Fill the back's hollows between the buttocks and the shoulder blades up to their upper
    hull in the sagittal plane, in the shirt's colour: from the side, the outline is then the
    shirt's, straight over a lordotic lower back, as a loose shirt draped over the back is."""
    hip = sk.joints["hip_mid"][:2]
    axis = sk.joints["t1"][:2] - hip
    length = float(np.linalg.norm(axis))
    axis /= length
    dorsal = np.array([-axis[1], axis[0]])
    centres = np.array(b.c)[:, :2] - hip
    radii = np.array(b.r)
    along, out = centres @ axis, centres @ dorsal
    s = np.linspace(0.0, SHIRT_TOP * length, 120)
    gap = radii[None, :] ** 2 - (s[:, None] - along[None, :]) ** 2
    surface = np.where(gap > 0, out[None, :] + np.sqrt(np.clip(gap, 0, None)), -np.inf).max(1)
    hull = _upper_hull(s, surface)
    k = sk.scale
    for si, top, bottom in zip(s, hull, surface, strict=True):
        depth = top - bottom
        if depth < 0.002 * k:
            continue
        r = 0.5 * depth + 0.01 * k
        c = hip + axis * si + dorsal * (top - r)
        for z in (-0.06 * k, 0.0, 0.06 * k):
            b.sphere(to3d(c, z), r, clothing, TORSO)


def _upper_hull(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The upper concave hull of the points (x, y) (x increasing), evaluated at x."""
    keep: list[int] = []
    for i in range(len(x)):
        while len(keep) >= 2:
            a, m = keep[-2], keep[-1]
            # m lies on or below the chord from a to i: not on the upper hull.
            if (y[m] - y[a]) * (x[i] - x[a]) <= (y[i] - y[a]) * (x[m] - x[a]):
                keep.pop()
            else:
                break
        keep.append(i)
    return np.interp(x, x[keep], y[keep])


def _head(b: _Builder, sk: Skeleton, shape: BodyShape) -> None:
    k = sk.scale
    skin = shape.skin_rgb
    head = sk.joints["head"][:2]

    def at(x: float, y: float, z: float = 0.0) -> np.ndarray:
        return to3d(head + k * rotate((x, y), sk.head_deg), z * k)

    b.capsule(sk.joints["t1"], sk.joints["neck_top"], 0.056 * k, 0.05 * k, skin, HEAD)
    b.sphere(at(-0.012, 0.014), 0.096 * k, HAIR, HEAD)
    b.sphere(at(0.0, 0.0), 0.095 * k, skin, HEAD)
    b.sphere(at(0.035, -0.04), 0.068 * k, skin, HEAD)
    b.sphere(at(0.05, -0.075), 0.045 * k, skin, HEAD)
    b.sphere(at(0.097, -0.012), 0.02 * k, skin, HEAD)
    for z in (-0.032, 0.032):
        b.sphere(at(0.084, 0.012, z), 0.013 * k, EYES, HEAD)
    for z in (-0.092, 0.092):
        b.sphere(at(-0.005, -0.005, z), 0.022 * k, skin, HEAD)


def _load(b: _Builder, sk: Skeleton, load: str) -> None:
    if sk.arms_forward or load == "none":
        return
    k = sk.scale
    grip = 0.5 * (sk.joints["wrist_l"] + sk.joints["wrist_r"]) + np.array([0.0, -0.045 * k, 0.0])
    if load == "bar":
        half = np.array([0.0, 0.0, 0.62 * k])
        b.capsule(grip - half, grip + half, 0.016 * k, 0.016 * k, METAL, PROP)
    else:
        ball = grip + np.array([0.0, -0.15 * k, 0.0])
        b.sphere(ball, 0.11 * k, IRON, PROP)
        b.capsule(grip, ball, 0.02 * k, 0.03 * k, IRON, PROP)
