"""Keyframes stage: which frames get pose inference, and the frames between them filled in.

In:  the clip's frame rate and the pose rate wanted (`pose_stride`); pass one's observations,
     where frames between keyframes carry no pose yet (`fill_between`).
Out: the keyframe stride; the observations with every frame between two keyframes linearly
     interpolated (landmarks, view, back inclinations; the outline moves with the hips).

Every later measurement is low-passed at a few hertz (lifts have little motion above 4 Hz), so
pose inference at 30 Hz loses nothing a 60 fps clip adds but frames; it halves the work.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .pose import Pose
from .spine import BackShape
from .view import FrameView

# Pose inference rate for recorded clips; a clip at up to ~1.5x this runs on every frame.
POSE_HZ = 30.0


def pose_stride(fps: float, pose_hz: float | None = POSE_HZ) -> int:
    """Every how many frames pose runs: 1 up to ~1.5x `pose_hz`, 2 at 60 fps, 4 at 120 fps.
    None or 0 means every frame."""
    if not pose_hz or not fps or fps <= 0:
        return 1
    return max(1, round(fps / pose_hz))


def _lerp(a: float | None, b: float | None, w: float) -> float | None:
    if a is None or b is None:
        return None
    return (1.0 - w) * a + w * b


def _pose(a: Pose | None, b: Pose | None, w: float) -> Pose | None:
    if a is None or b is None:
        return None
    return replace(
        a,
        landmarks=(1.0 - w) * a.landmarks + w * b.landmarks,
        visibility=(1.0 - w) * a.visibility + w * b.visibility,
        world=None
        if a.world is None or b.world is None
        else ((1.0 - w) * a.world + w * b.world).astype(a.world.dtype),
        mask=None,
    )


def _hips(pose: Pose) -> np.ndarray:
    return pose.landmarks[[23, 24]].mean(0)


def _back(
    a: BackShape | None, b: BackShape | None, w: float, shift: np.ndarray
) -> BackShape | None:
    """Inclinations interpolated; the outline of the nearer keyframe, moved by `shift` pixels."""
    if a is None or b is None:
        return None
    near = a if w < 0.5 else b
    return replace(
        near,
        outline=(near.outline + shift).astype(near.outline.dtype),
        pelvis_incl=_lerp(a.pelvis_incl, b.pelvis_incl, w),
        thoracolumbar_incl=_lerp(a.thoracolumbar_incl, b.thoracolumbar_incl, w),
        upper_thoracic_incl=_lerp(a.upper_thoracic_incl, b.upper_thoracic_incl, w),
        confidence=min(a.confidence, b.confidence),
        back_bend=_lerp(a.back_bend, b.back_bend, w),
    )


def _between(a, b, t: float):
    """The observation at time t between keyframe observations a and b."""
    span = b.t - a.t
    w = 0.0 if span <= 0 else min(1.0, max(0.0, (t - a.t) / span))
    pose = _pose(a.pose, b.pose, w)
    if pose is None:
        return replace(a, t=t, pose=None, view=None, backs={}, people=None, key=False)
    near = a if w < 0.5 else b
    shift = _hips(pose) - _hips(near.pose)
    view = None
    if a.view is not None and b.view is not None:
        yaw = float(_lerp(a.view.yaw_deg, b.view.yaw_deg, w))
        view = FrameView(yaw, near.view.facing, near.view.turn_deg)
    backs = {
        f: _back(a.backs.get(f), b.backs.get(f), w, shift) for f in set(a.backs) | set(b.backs)
    }
    return replace(a, t=t, pose=pose, view=view, backs=backs, people=None, key=False)


def fill_between(obs: list) -> list:
    """Fill the observations marked `key=False` from the keyframes around them (in place; also
    returned). Frames before the first keyframe or after the last take the nearest one."""
    keys = [i for i, o in enumerate(obs) if o.key]
    if not keys:
        return obs
    for i in range(keys[0]):
        obs[i] = replace(obs[keys[0]], t=obs[i].t, people=None, key=False)
    for i0, i1 in zip(keys, keys[1:], strict=False):
        for i in range(i0 + 1, i1):
            obs[i] = _between(obs[i0], obs[i1], obs[i].t)
    for i in range(keys[-1] + 1, len(obs)):
        obs[i] = replace(obs[keys[-1]], t=obs[i].t, people=None, key=False)
    return obs
