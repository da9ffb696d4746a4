"""Reps stage: split a set into reps from how far the shoulders drop.

In:  per-frame (t, depth) samples; depth = drop of the shoulders below their standing height
     in trunk lengths (0 standing, ~1 at the bottom of a deadlift or squat), NaN without pose.
Out: `Rep` records (start of descent, bottom, lockout) and a phase for every frame
     (setup, descent, bottom, ascent, lockout).

A rep is counted when the lifter comes up to lockout from a bottom deep enough: a clip that
starts at the floor (setup, pull, lower) is one rep, one that starts standing (descend, come up)
too. Hysteresis, a minimum depth and duration, and pose gaps reject ghost reps: walking in,
unracking, a half bend to set up, a clip cut in the middle of a rep.
The rep signal comes from `BendStream` frame by frame: live it learns the floor and the standing
height as the session goes, offline it is given the clip's (`bend_references`).
`RepCounter` is streaming (live); `segment_reps` runs the same counter over a whole clip.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np


@dataclass
class RepRules:
    enter_bottom: float = 0.5  # signal that starts a rep excursion
    lockout: float = 0.3  # signal below which the lifter is at lockout / standing
    min_peak: float = 0.6
    min_duration_s: float = 0.35
    max_duration_s: float = 20.0
    max_gap_s: float = 0.5


@dataclass
class Rep:
    index: int
    start_s: float
    bottom_s: float
    end_s: float
    peak_depth: float


@dataclass
class RepCounter:
    """Streaming rep segmentation. `update` returns a finished `Rep` when one completes."""

    rules: RepRules = field(default_factory=RepRules)

    def __post_init__(self) -> None:
        self.reps: list[Rep] = []
        self._last_top: float | None = None
        self._first_t: float | None = None
        self._in_rep = False
        self._start = 0.0
        self._peak = -math.inf
        self._peak_t = 0.0
        self._last_valid: float | None = None
        self._prev_depth: float | None = None
        self._need_top = False  # after losing the lifter mid-rep, wait for a lockout
        self.phase = "setup"

    @property
    def count(self) -> int:
        return len(self.reps)

    def update(self, t: float, depth: float | None) -> Rep | None:
        r = self.rules
        if self._first_t is None:
            self._first_t = t
        if depth is None or not math.isfinite(depth):
            if self._in_rep and self._last_valid is not None and t - self._last_valid > r.max_gap_s:
                self._in_rep = False  # lost the lifter mid-rep: not a countable rep
                self._need_top = True
                self.phase = "setup"
            return None
        self._last_valid = t
        done = None
        if not self._in_rep:
            if depth < r.lockout:
                self._last_top = t
                self._need_top = False
            elif depth >= r.enter_bottom and not self._need_top:
                self._in_rep = True
                self._start = self._last_top if self._last_top is not None else self._first_t
                self._peak, self._peak_t = depth, t
        else:
            if depth > self._peak:
                self._peak, self._peak_t = depth, t
            if depth < r.lockout:
                self._in_rep = False
                self._last_top = t
                duration = t - self._start
                if self._peak >= r.min_peak and r.min_duration_s <= duration <= r.max_duration_s:
                    done = Rep(len(self.reps) + 1, self._start, self._peak_t, t, self._peak)
                    self.reps.append(done)
        self.phase = self._phase(depth)
        self._prev_depth = depth
        return done

    def _phase(self, depth: float) -> str:
        if self._in_rep:
            if depth >= self._peak - 0.08:
                return "bottom"
            return "ascent" if self._peak_t < self._last_valid else "descent"
        if depth < self.rules.lockout:
            return "lockout" if self.reps else "setup"
        rising = self._prev_depth is not None and depth > self._prev_depth
        return "descent" if rising and self.reps else ("ascent" if self.reps else "setup")


def segment_reps(times: np.ndarray, depth: np.ndarray, rules: RepRules | None = None) -> list[Rep]:
    """Offline: run the streaming counter over a whole clip."""
    counter = RepCounter(rules or RepRules())
    for t, d in zip(times, depth, strict=True):
        counter.update(float(t), float(d) if np.isfinite(d) else None)
    return counter.reps


def rep_phases(times: np.ndarray, depth: np.ndarray, rep: Rep) -> np.ndarray:
    """Phase of each of a rep's frames (`times`, `depth` restricted to the rep): bottom within
    0.08 of the rep's peak depth, descent before it, ascent after it; a rep that starts at the
    bottom (a pull from the floor) spends its first bottom frames in setup."""
    bottom = np.isfinite(depth) & (depth >= rep.peak_depth - 0.08)
    phases = np.where(bottom, "bottom", np.where(times < rep.bottom_s, "descent", "ascent"))
    if len(phases) and bottom[0]:
        lead = int(np.argmin(bottom)) if not bottom.all() else len(bottom)
        phases[:lead] = "setup"
    return phases.astype(object)


def frame_phases(
    times: np.ndarray, depth: np.ndarray, reps: list[Rep], partials: list[Rep] = ()
) -> list[str]:
    """Phase of every frame once the reps (and bends that made no rep, `partials`) are known:
    setup before the first rep, lockout between and after reps, the rep's phases inside."""
    phases = np.array(["setup"] * len(times), dtype=object)
    if reps:
        phases[times > reps[0].end_s] = "lockout"
    for rep in [*reps, *partials]:
        sel = (times >= rep.start_s) & (times <= rep.end_s)
        phases[sel] = rep_phases(times[sel], depth[sel], rep)
    return [str(p) for p in phases]


def partial_bends(
    times: np.ndarray, depth: np.ndarray, reps: list[Rep], rules: RepRules | None = None
) -> list[Rep]:
    """Bends as deep as a rep that did not make one: a clip that only lowers the bar, or ends or
    starts mid-rep. Each comes back as a `Rep` with index 0 (not counted), spanning the frames
    outside every rep where the signal stays above the rep threshold (`enter_bottom`) for at
    least the minimum rep duration. A clip in which the lifter never stands (a plank, a clip
    that starts and ends in the bend) has none: a bend is judged against standing up."""
    rules = rules or RepRules()
    if not (np.isfinite(depth) & (depth < rules.lockout)).any():
        return []
    inside = np.zeros(len(times), dtype=bool)
    for r in reps:
        inside |= (times >= r.start_s) & (times <= r.end_s)
    deep = np.isfinite(depth) & (depth >= rules.enter_bottom) & ~inside
    out: list[Rep] = []
    start = None
    for i, flag in enumerate([*deep, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            j = i - 1
            if times[j] - times[start] >= rules.min_duration_s:
                k = start + int(np.nanargmax(depth[start : j + 1]))
                peak = float(depth[k])
                if peak >= rules.min_peak:
                    out.append(Rep(0, float(times[start]), float(times[k]), float(times[j]), peak))
            start = None
    return out


HINGE_LEAN_DEG = 70.0


def bend_signal(depth: float | None, trunk_incl: float | None, mode: str) -> float | None:
    """How deep in the rep the lifter is, ~0 standing and ~1 at the bottom. Hinges (`mode`
    "hinge") by the trunk's lean, 1.0 at 70 degrees, which stays readable when plates hide the
    legs; squats ("squat") by the shoulders' drop in trunk lengths."""
    if mode == "hinge":
        if trunk_incl is None or not math.isfinite(trunk_incl):
            return None
        return trunk_incl / HINGE_LEAN_DEG
    if depth is None or not math.isfinite(depth):
        return None
    return min(depth, 1.6)


def median_filter(values: np.ndarray, width: int) -> np.ndarray:
    """Centred running median that ignores NaNs (removes one- or two-frame landmark glitches)."""
    half = width // 2
    out = np.full(len(values), np.nan)
    for i in range(len(values)):
        win = values[max(0, i - half) : i + half + 1]
        if np.isfinite(values[i]) and np.isfinite(win).any():
            out[i] = np.nanmedian(win)
    return out


@dataclass
class DepthTracker:
    """Shoulder drop below standing height, in trunk lengths. Heights are measured from the floor
    (lowest foot point). Offline, pass the clip's references; live, they are learned as the
    session goes (highest recent shoulder height, median trunk length)."""

    standing_height: float | None = None
    trunk_length: float | None = None
    window: int = 600

    def __post_init__(self) -> None:
        self._heights: list[float] = []
        self._trunks: list[float] = []
        self._fixed = self.standing_height is not None and self.trunk_length is not None

    def update(self, height: float | None, trunk: float | None) -> float | None:
        """Offline (fixed references) `trunk` is ignored: pass any positive number."""
        if height is None or trunk is None or trunk <= 0:
            return None
        if not self._fixed:
            self._heights = (self._heights + [height])[-self.window :]
            self._trunks = (self._trunks + [trunk])[-self.window :]
            self.standing_height = float(np.percentile(self._heights, 95))
            self.trunk_length = float(np.median(self._trunks))
        return (self.standing_height - height) / self.trunk_length


_FEET = [27, 28, 29, 30, 31, 32]
# A clip whose trunk leans this far in its deepest tenth of frames is counted as a hinge.
HINGE_MIN_LEAN_DEG = 45.0


def bend_mode(leans: np.ndarray) -> str:
    """ "hinge" or "squat" for a clip whose exercise is not named, from its trunk inclinations
    (degrees, NaN without pose): a hinge when the deepest tenth leans HINGE_MIN_LEAN_DEG."""
    if not np.isfinite(leans).any():
        return "hinge"
    return "hinge" if np.nanpercentile(leans, 90) >= HINGE_MIN_LEAN_DEG else "squat"


@dataclass
class BendReferences:
    """Where the floor is (image y, pixels), the shoulders' standing height above it and the
    trunk length (pixels): what turns a shoulder height into a depth."""

    floor_y: float
    standing_height: float
    trunk_length: float


def _shoulder_floor_trunk(pose) -> tuple[float, float, float]:
    lm = pose.landmarks
    trunk = float(np.linalg.norm(lm[[11, 12]].mean(0) - lm[[23, 24]].mean(0)))
    return float(lm[[11, 12], 1].mean()), float(lm[_FEET, 1].max()), trunk


def bend_references(frames: list) -> BendReferences | None:
    """A whole clip's references (frames with `.pose`): median floor, 95th percentile of the
    shoulders' height above it, median trunk length; None without a pose."""
    measured = [_shoulder_floor_trunk(f.pose) for f in frames if f.pose is not None]
    if not measured:
        return None
    shoulders, floors, trunks = (np.array(v) for v in zip(*measured, strict=True))
    floor_y = float(np.median(floors))
    return BendReferences(
        floor_y, float(np.percentile(floor_y - shoulders, 95)), float(np.median(trunks))
    )


class BendStream:
    """The rep signal frame by frame (`bend_signal` of the shoulders' depth or the trunk's lean),
    then a causal running median of `median` frames against landmark glitches. Given
    `references` (offline) they stay fixed; without them (live) the floor, standing height and
    trunk length are learned from the last `window` frames."""

    def __init__(
        self,
        mode: str,
        references: BendReferences | None = None,
        window: int = 600,
        median: int = 3,
    ) -> None:
        self.mode = mode
        self._refs = references
        self._floor: deque[float] = deque(maxlen=window)
        if references is None:
            self._tracker = DepthTracker(window=window)
        else:
            self._tracker = DepthTracker(references.standing_height, references.trunk_length)
        self._recent: deque[float] = deque(maxlen=median)

    def update(self, frame) -> float | None:
        """One frame (`.pose`, `.trunk_incl`); the signal, None when it cannot be read."""
        depth = None
        if frame.pose is not None:
            shoulder, floor, trunk = _shoulder_floor_trunk(frame.pose)
            if self._refs is None:
                self._floor.append(floor)
                floor_y = float(np.median(self._floor))
            else:
                floor_y = self._refs.floor_y
            depth = self._tracker.update(floor_y - shoulder, trunk)
        incl = frame.trunk_incl if frame.pose is not None else None
        signal = bend_signal(depth, incl, self.mode)
        self._recent.append(np.nan if signal is None else signal)
        if signal is None:
            return None
        return float(np.nanmedian(self._recent))


def clip_bend_signal(frames: list, mode: str) -> np.ndarray:
    """Offline: `BendStream` over a whole clip with its references, then a centred 5-frame
    median (a clip known in full needs no causal one); NaN where it cannot be read."""
    refs = bend_references(frames)
    if refs is None:
        return np.full(len(frames), np.nan)
    stream = BendStream(mode, refs, median=1)
    signal = np.array([np.nan if (v := stream.update(f)) is None else v for f in frames])
    return median_filter(signal, 5)
