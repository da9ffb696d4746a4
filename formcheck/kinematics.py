"""Kinematics stage: raw per-frame angles from a pose and its back shape.

In:  a smoothed `Pose` (or None), its `BackShape`, the facing sign.
Out: `RawFrame`: absolute segment inclinations and joint angles in degrees, before the lifter's
     neutral is subtracted (see `formcheck.neutral`), plus points the later stages need.

Sagittal-plane conventions: an inclination is the angle of a segment, pointing up the body,
from vertical, positive toward where the lifter faces. Then
  trunk-thigh (the keypoint-only "hip" angle peers report) = trunk - thigh inclination,
  hip flexion   = pelvis (sacral outline) - thigh inclination,
  lumbar bend   = T12/L1 outline - pelvis inclination,
  thoracic bend = upper thoracic outline - T12/L1 inclination,
so hip + lumbar + thoracic add up to the bend from thigh to upper back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .angles import FrameAngles
from .pose import LM, Pose
from .spine import BackShape, inclination, trunk_axis
from .spine import mid_point as _mid

# Outline-derived measures that are smoothed over time: zero-phase offline, causally live.
SMOOTHED_FIELDS: tuple[str, ...] = (
    "pelvis_incl",
    "thoracolumbar_incl",
    "upper_thoracic_incl",
    "back_bend",
    "thigh_incl",
)


@dataclass
class RawFrame:
    t: float
    pose: Pose | None
    bridged: bool = False
    trunk_incl: float | None = None
    thigh_incl: float | None = None
    knee_flexion: float | None = None
    pelvis_incl: float | None = None
    thoracolumbar_incl: float | None = None
    upper_thoracic_incl: float | None = None
    back_bend: float | None = None
    spine_confidence: float = 0.0
    back: BackShape | None = None

    @property
    def trunk_thigh(self) -> float | None:
        if self.trunk_incl is None or self.thigh_incl is None:
            return None
        return self.trunk_incl - self.thigh_incl

    @property
    def hip_raw(self) -> float | None:
        if self.pelvis_incl is None or self.thigh_incl is None:
            return None
        return self.pelvis_incl - self.thigh_incl

    @property
    def lumbar_raw(self) -> float | None:
        if self.pelvis_incl is None or self.thoracolumbar_incl is None:
            return None
        return self.thoracolumbar_incl - self.pelvis_incl

    @property
    def thoracic_raw(self) -> float | None:
        if self.thoracolumbar_incl is None or self.upper_thoracic_incl is None:
            return None
        return self.upper_thoracic_incl - self.thoracolumbar_incl


def joint_angle(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> float:
    """Interior angle at b (degrees) of the polyline a-b-c."""
    u, v = a - b, c - b
    cos = float(np.dot(u, v) / max(np.linalg.norm(u) * np.linalg.norm(v), 1e-9))
    return math.degrees(math.acos(max(-1.0, min(1.0, cos))))


def measure_frame(
    t: float, pose: Pose | None, back: BackShape | None, facing: int, upright: bool = True
) -> RawFrame:
    """Raw angles of one frame. Left and right landmarks are averaged (weighted by visibility),
    which in a side view resists left/right swaps and occluded far-side limbs. `upright`: the
    exercise keeps the shoulders above the hips (lifts), so a frame where they are not is a
    landmark glitch and dropped; holds on the floor pass False."""
    if pose is None:
        return RawFrame(t=t, pose=None)
    hip, shoulder = trunk_axis(pose)
    knee = _mid(pose, LM.LEFT_KNEE, LM.RIGHT_KNEE)
    ankle = _mid(pose, LM.LEFT_ANKLE, LM.RIGHT_ANKLE)
    trunk = inclination(shoulder - hip, facing)
    if upright and not -60.0 <= trunk <= 120.0:
        return RawFrame(t=t, pose=None)  # shoulders below the hips: a landmark glitch
    frame = RawFrame(
        t=t,
        pose=pose,
        trunk_incl=trunk,
        thigh_incl=inclination(hip - knee, facing),
        knee_flexion=180.0 - joint_angle(hip, knee, ankle),
    )
    if back is not None:
        frame.back = back
        frame.pelvis_incl = back.pelvis_incl
        frame.thoracolumbar_incl = back.thoracolumbar_incl
        frame.upper_thoracic_incl = back.upper_thoracic_incl
        frame.back_bend = back.back_bend
        frame.spine_confidence = back.confidence
    return frame


def to_frame_angles(
    raw: RawFrame,
    neutral,
    *,
    spine_ok: bool,
    lumbar_gain: float = 1.0,
    thoracic_gain: float = 1.0,
    min_confidence: float = 0.5,
) -> FrameAngles:
    """Angles relative to the lifter's neutral (hip, lumbar, thoracic); trunk inclination and knee
    flexion stay absolute. Spine values are None when the back outline is not trustworthy."""
    if raw.pose is None:
        return FrameAngles(t=raw.t, pose=False)
    lms = np.column_stack([raw.pose.landmarks, raw.pose.visibility])
    trusted = spine_ok and raw.spine_confidence >= min_confidence
    hip = lumbar = thoracic = None
    if trusted and raw.hip_raw is not None:
        hip = raw.hip_raw - neutral.hip
    if trusted and raw.lumbar_raw is not None:
        lumbar = lumbar_gain * (raw.lumbar_raw - neutral.lumbar)
    if trusted and raw.thoracic_raw is not None:
        thoracic = thoracic_gain * (raw.thoracic_raw - neutral.thoracic)
    tt = raw.trunk_thigh
    return FrameAngles(
        t=raw.t,
        pose=True,
        hip_flexion_deg=hip,
        lumbar_flexion_deg=lumbar,
        thoracic_flexion_deg=thoracic,
        trunk_inclination_deg=raw.trunk_incl,
        knee_flexion_deg=raw.knee_flexion,
        trunk_thigh_deg=None if tt is None else tt - neutral.trunk_thigh,
        back_bend_deg=raw.back_bend if trusted else None,
        spine_confidence=raw.spine_confidence,
        back_outline=raw.back.outline if (raw.back is not None and trusted) else None,
        landmarks=lms,
    )


def _round(v: float, nd: int) -> float | None:
    return round(float(v), nd) if math.isfinite(v) else None


def moment_arm(
    bottom: FrameAngles, stature_px: float | None, height_cm: float | None
) -> dict | None:
    """Horizontal distance from the hands (the load) to the hip and to the low back at the bottom
    of a rep, in body heights, and in cm when the lifter's height is known."""
    lm = bottom.landmarks
    if lm is None or stature_px is None or stature_px <= 0:
        return None
    hands = lm[[15, 16], 0].mean()
    hip = lm[[23, 24], 0].mean()
    out = {"hip_bh": _round(abs(hands - hip) / stature_px, 3)}
    if bottom.back_outline is not None and len(bottom.back_outline) > 4:
        low_back = bottom.back_outline[int(0.3 * len(bottom.back_outline))]
        out["low_back_bh"] = _round(abs(hands - low_back[0]) / stature_px, 3)
    if height_cm:
        out.update(
            {
                k.replace("_bh", "_cm"): _round(v * height_cm, 1)
                for k, v in list(out.items())
                if v is not None
            }
        )
    return out
