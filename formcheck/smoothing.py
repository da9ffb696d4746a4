"""Smoothing stage: causal filters usable live, plus gap bridging, and the outline's smoothing.

In:  a stream of (t, Pose | None) or (t, value) samples; frames' outline measures.
Out: smoothed landmarks / values; short gaps (<= `max_gap_s`) bridged with the last pose,
     longer gaps left as no-pose. Live, landmarks are smoothed frame by frame (`PoseSmoother`,
     One Euro); offline, a clip known in full is filtered both ways (`smooth_landmarks`), so
     its smoothing does not lag the body (a causal filter trails a fast hinge by several
     degrees). `OutlineSmoother` does the same for the back outline's measures.
The One Euro filter (Casiez et al., 2012) adapts its cut-off to speed: steady when still,
responsive when moving.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from .pose import Pose

# Offline landmark smoothing, zero-phase: jitter above this is taken out, movement below kept.
LANDMARK_CUTOFF_HZ = 3.0


def _alpha(cutoff: float, dt: float) -> float:
    tau = 1.0 / (2.0 * math.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


@dataclass
class OneEuroFilter:
    """One Euro filter over scalars or numpy arrays (element-wise)."""

    min_cutoff: float = 1.5
    beta: float = 0.05
    d_cutoff: float = 1.0

    def __post_init__(self) -> None:
        self._x = None
        self._dx = None
        self._t: float | None = None

    def reset(self) -> None:
        self._x = self._dx = self._t = None

    def __call__(self, t: float, x):
        x = np.asarray(x, dtype=np.float64)
        if self._x is None or self._t is None or t <= self._t:
            self._x, self._dx, self._t = x, np.zeros_like(x), t
            return x
        dt = t - self._t
        dx = (x - self._x) / dt
        a_d = _alpha(self.d_cutoff, dt)
        dx_hat = a_d * dx + (1 - a_d) * self._dx
        cutoff = self.min_cutoff + self.beta * np.abs(dx_hat)
        tau = 1.0 / (2.0 * math.pi * cutoff)
        a = 1.0 / (1.0 + tau / dt)
        x_hat = a * x + (1 - a) * self._x
        self._x, self._dx, self._t = x_hat, dx_hat, t
        return x_hat


@dataclass
class PoseSmoother:
    """Smooths landmark pixels with a One Euro filter and bridges short gaps.

    `update(t, pose)` returns (pose or None, bridged). Landmark speed is measured in trunk
    lengths per second so the filter behaves the same at any resolution.
    """

    min_cutoff: float = 2.0
    beta: float = 0.3
    max_gap_s: float = 0.25
    # False: bridge gaps only (offline, where `smooth_landmarks` smooths the whole clip).
    filtered: bool = True

    def __post_init__(self) -> None:
        self._filter = OneEuroFilter(self.min_cutoff, self.beta)
        self._last: Pose | None = None
        self._last_t: float | None = None
        self._unit: float | None = None

    def update(self, t: float, pose: Pose | None) -> tuple[Pose | None, bool]:
        if pose is None:
            if (
                self._last is not None
                and self._last_t is not None
                and t - self._last_t <= self.max_gap_s
            ):
                return self._last, True
            self._last = None
            self._unit = None
            self._filter.reset()
            return None, False
        if not self.filtered:
            self._last, self._last_t = pose, t
            return pose, False
        if self._unit is None:
            # The speed unit is fixed per track: rescaling by a per-frame length would add noise.
            trunk = np.linalg.norm(
                pose.landmarks[[11, 12]].mean(0) - pose.landmarks[[23, 24]].mean(0)
            )
            self._unit = max(float(trunk), 1.0)
        unit = self._unit
        smoothed = self._filter(t, pose.landmarks / unit) * unit
        out = replace(pose, landmarks=smoothed)
        self._last, self._last_t = out, t
        return out, False


def zero_phase(values: np.ndarray, times: np.ndarray, cutoff_hz: float = 3.0) -> np.ndarray:
    """Offline zero-phase smoothing (forward-backward first-order low-pass) that skips NaNs.

    In: values (1-D, or 2-D with one row per time: a row with any NaN counts as missing) and
    timestamps. Out: smoothed copy; NaN runs stay NaN.
    """
    out = np.array(values, dtype=np.float64)
    rows = out if out.ndim > 1 else out[:, None]
    finite = np.isfinite(rows).all(axis=1)
    if finite.sum() < 3:
        return out
    idx = np.flatnonzero(finite)
    # Smooth each run of consecutive finite samples separately.
    breaks = np.flatnonzero(np.diff(idx) > 1) + 1
    for run in np.split(idx, breaks):
        if len(run) < 3:
            continue
        x = rows[run].copy()
        t = times[run]
        for order in (range(1, len(x)), range(len(x) - 2, -1, -1)):
            step = 1 if order.step > 0 else -1
            for i in order:
                a = _alpha(cutoff_hz, abs(t[i] - t[i - step]) or 1e-3)
                x[i] = a * x[i] + (1 - a) * x[i - step]
        rows[run] = x
    return out


def smooth_landmarks(
    poses: list[Pose | None], times: np.ndarray, cutoff_hz: float = LANDMARK_CUTOFF_HZ
) -> list[Pose | None]:
    """A whole clip's poses with their landmark pixels smoothed zero-phase (`zero_phase`, each
    run of frames with a pose on its own); visibility, world landmarks and masks as given."""
    seen = [p for p in poses if p is not None]
    if len(seen) < 3:
        return list(poses)
    flat = np.full((len(poses), seen[0].landmarks.size), np.nan)
    for i, p in enumerate(poses):
        if p is not None:
            flat[i] = p.landmarks.reshape(-1)
    smooth = zero_phase(flat, np.asarray(times, dtype=np.float64), cutoff_hz)
    return [
        None if p is None else replace(p, landmarks=smooth[i].reshape(p.landmarks.shape))
        for i, p in enumerate(poses)
    ]


class OutlineSmoother:
    """The outline measures (attribute names `fields` of a frame record with a time `t`),
    smoothed: `__call__` frame by frame (causal One Euro; a frame without the measure resets
    its filter), `smooth_clip` over a whole clip in place (zero-phase at `clip_cutoff_hz`)."""

    def __init__(
        self,
        fields: tuple[str, ...],
        min_cutoff: float = 2.0,
        beta: float = 0.02,
        clip_cutoff_hz: float = 4.0,
    ) -> None:
        self.fields = fields
        self.clip_cutoff_hz = clip_cutoff_hz
        self._filters = {n: OneEuroFilter(min_cutoff, beta) for n in fields}

    def __call__(self, frame):
        for name, filt in self._filters.items():
            value = getattr(frame, name)
            if value is None:
                filt.reset()
            else:
                setattr(frame, name, float(filt(frame.t, value)))
        return frame

    def smooth_clip(self, frames: list) -> None:
        times = np.array([f.t for f in frames])
        for name in self.fields:
            vals = np.array([np.nan if (v := getattr(f, name)) is None else v for f in frames])
            sm = zero_phase(vals, times, cutoff_hz=self.clip_cutoff_hz)
            for f, v in zip(frames, sm, strict=True):
                setattr(f, name, None if not np.isfinite(v) else float(v))
