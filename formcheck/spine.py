"""Spine stage: the shape of the back from the person mask.

In:  a `Pose` with a segmentation mask, the facing direction (+1 right, -1 left) and `SpineParams`.
Out: `BackShape`: the dorsal outline between pelvis and shoulders (full-frame pixels) and the
     inclination of three stretches of it — sacrum, thoracolumbar junction (T12/L1) and upper
     thoracic spine — measured like trunk inclination (degrees from vertical, forward positive),
     and the back's outward bow from pelvis to mid-back (absolute shape, see `bow`).

BlazePose has no spine points, so the trunk-thigh angle mixes hip and spine flexion. The dorsal
outline separates them: a flat back gives a straight outline, a rounded back an arc; its tangent
over the sacrum gives the pelvis orientation, hence hip flexion = pelvis vs thigh, and the change
of tangent from sacrum to T12/L1 gives lumbar flexion.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import cv2
import numpy as np

from .pose import LM, Pose


@dataclass
class SpineParams:
    """Where along the trunk (fraction of hip->shoulder length) each stretch of the back lies,
    plus gains mapping outline bend to spine flexion. Fitted values are read by
    `formcheck.params.spine_params`."""

    s_start: float = -0.10
    s_end: float = 1.0
    samples: int = 45
    sacrum: tuple[float, float] = (0.0, 0.22)
    thoracolumbar: tuple[float, float] = (0.38, 0.58)
    upper_thoracic: tuple[float, float] = (0.70, 0.92)
    lumbar_gain: float = 1.0
    thoracic_gain: float = 1.0
    ray_back: float = 0.25
    ray_out: float = 0.70
    ray_steps: int = 96
    min_valid_fraction: float = 0.6
    # Stretch over which the back's bow (convexity) is read, pelvis to mid-back.
    back_bend_span: tuple[float, float] = (0.0, 0.8)

    def to_dict(self) -> dict:
        return asdict(self)

    def positions(self) -> np.ndarray:
        """Where along the trunk the outline is sampled (hip = 0, shoulder = 1)."""
        return np.linspace(self.s_start, self.s_end, self.samples)


@dataclass
class BackShape:
    """The back's outline in one frame and the inclinations of its stretches (degrees)."""

    outline: np.ndarray  # (N, 2) full-frame pixels, pelvis -> shoulders, valid samples only
    pelvis_incl: float | None
    thoracolumbar_incl: float | None
    upper_thoracic_incl: float | None
    confidence: float
    # Outline depth profile: positions along the trunk (hip=0, shoulder=1) and the outline's
    # distance from the hip-shoulder line, both in trunk lengths (NaN where not traced).
    profile_s: np.ndarray | None = None
    profile_d: np.ndarray | None = None
    # How far the back bows outward over `back_bend_span` (degrees of tangent change of a
    # quadratic fit; positive = convex, rounded; negative = hollow, lordotic). Absolute shape,
    # independent of neutral.
    back_bend: float | None = None

    @property
    def lumbar_bend(self) -> float | None:
        if self.pelvis_incl is None or self.thoracolumbar_incl is None:
            return None
        return self.thoracolumbar_incl - self.pelvis_incl

    @property
    def thoracic_bend(self) -> float | None:
        if self.thoracolumbar_incl is None or self.upper_thoracic_incl is None:
            return None
        return self.upper_thoracic_incl - self.thoracolumbar_incl


def inclination(vec: np.ndarray, facing: int) -> float:
    """Angle of an upward-pointing image vector from vertical, degrees, positive toward facing."""
    return math.degrees(math.atan2(facing * vec[0], -vec[1]))


def mid_point(pose: Pose, a: int, b: int) -> np.ndarray:
    """Visibility-weighted mean of two landmarks (pixels)."""
    va, vb = pose.visibility[a], pose.visibility[b]
    w = np.array([max(va, 1e-3), max(vb, 1e-3)])
    return (pose.landmarks[a] * w[0] + pose.landmarks[b] * w[1]) / w.sum()


def trunk_axis(pose: Pose) -> tuple[np.ndarray, np.ndarray]:
    """Hip and shoulder centres in pixels (visibility-weighted mean of both sides)."""
    hip = mid_point(pose, LM.LEFT_HIP, LM.RIGHT_HIP)
    shoulder = mid_point(pose, LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER)
    return hip, shoulder


def _dorsal_depths(
    mask: np.ndarray, origins: np.ndarray, dorsal: np.ndarray, r: np.ndarray
) -> np.ndarray:
    """For each origin, distance along `dorsal` (mask pixels) to the dorsal edge of the mask run
    nearest the origin; NaN where the ray finds no body."""
    pts = origins[:, None, :] + r[None, :, None] * dorsal[None, None, :]
    map_x = pts[..., 0].astype(np.float32)
    map_y = pts[..., 1].astype(np.float32)
    vals = cv2.remap(
        mask, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )
    inside = vals >= 0.5
    n = len(r)
    k = np.arange(n)
    zero = int(np.searchsorted(r, 0.0))
    # The run of body nearest the origin (the lower index on a tie) ...
    start = np.argmin(np.where(inside, np.abs(k - zero), n + 1), axis=1)
    # ... and its last pixel: one before the first outside pixel past the start.
    after = ~inside & (k[None, :] >= start[:, None])
    edge = np.argmax(after, axis=1) - 1
    found = inside.any(axis=1) & after.any(axis=1)  # no edge when the body runs off the ray
    rows = np.flatnonzero(found)
    j = edge[rows]
    v0, v1 = vals[rows, j], vals[rows, j + 1]
    frac = (v0 - 0.5) / np.maximum(v0 - v1, 1e-6)
    depths = np.full(len(origins), np.nan)
    depths[rows] = r[j] + frac * (r[j + 1] - r[j])
    return depths


def _stretch_slope(s: np.ndarray, d: np.ndarray, span: tuple[float, float]) -> float | None:
    sel = (s >= span[0]) & (s <= span[1]) & np.isfinite(d)
    if sel.sum() < 3:
        return None
    slope = np.polyfit(s[sel], d[sel], 1)[0]
    return float(slope)


def bow(s: np.ndarray, d: np.ndarray, span: tuple[float, float]) -> float | None:
    """Tangent change (degrees) of a quadratic fit to the outline depth over `span`;
    positive when the outline bulges away from the hip-shoulder line (convex)."""
    sel = (s >= span[0]) & (s <= span[1]) & np.isfinite(d)
    if sel.sum() < 6:
        return None
    curvature = np.polyfit(s[sel], d[sel], 2)[0]
    return float(math.degrees(-2.0 * curvature * (span[1] - span[0])))


def measure_back(pose: Pose, facing: int, params: SpineParams) -> BackShape | None:
    """Trace the dorsal outline and measure the inclination of its stretches; None without a mask."""
    if pose.mask is None:
        return None
    scale = pose.mask_scale
    hip, shoulder = trunk_axis(pose)
    hip_m, shoulder_m = hip / scale, shoulder / scale
    axis = shoulder_m - hip_m
    length = float(np.hypot(*axis))
    if length < 8:
        return None
    a = axis / length
    dorsal = -facing * np.array([-a[1], a[0]])
    s = params.positions()
    origins = hip_m[None, :] + (s * length)[:, None] * a[None, :]
    r = np.linspace(-params.ray_back, params.ray_out, params.ray_steps) * length
    depths = _dorsal_depths(pose.mask, origins, dorsal, r)
    valid = np.isfinite(depths)
    frac_valid = float(valid.mean())
    outline_m = origins[valid] + depths[valid, None] * dorsal[None, :]
    outline = outline_m * scale
    d_norm = depths / length
    incl_trunk = inclination(axis, facing)

    def stretch_incl(span: tuple[float, float]) -> float | None:
        slope = _stretch_slope(s, d_norm, span)
        if slope is None:
            return None
        return incl_trunk - math.degrees(math.atan(slope))

    pelvis = stretch_incl(params.sacrum)
    tl = stretch_incl(params.thoracolumbar)
    ut = stretch_incl(params.upper_thoracic)
    # Confidence: share of the trunk traced, penalised by a jagged outline.
    fin = d_norm[valid]
    jag = float(np.median(np.abs(np.diff(fin, 2)))) if fin.size > 4 else 1.0
    confidence = frac_valid * float(np.clip(1.0 - jag * 20.0, 0.0, 1.0))
    back_bend = bow(s, d_norm, params.back_bend_span)
    if frac_valid < params.min_valid_fraction:
        pelvis = tl = ut = back_bend = None
    return BackShape(outline, pelvis, tl, ut, confidence, s, d_norm, back_bend)
