"""Holds: what every hold exercise shares (plank, side plank): finding the hold, timing it,
its faults, and coaching it live.

In:  a `HoldSpec` (how one frame is measured, when the body is in position, which faults break
     form, which peaks to report), the clip's frames (objects with `landmarks` in pixels, or
     None) and their times, and the exercise's rules (thresholds by name).
Out: offline, `analyse_holds` -> `HoldResult`: per-frame measures and the holds found (start,
     end, time held, time in good form, side, peaks, findings); live, `hold_live.HoldStream`:
     the same measures and rules frame by frame, with cues (a fault once it has lasted
     `min_fault_s`, the time held every `say_every_s`, a summary when the hold ends).

A hold is a run of frames in position lasting at least `min_hold_s`, with gaps shorter than
`max_gap_s` bridged, its ends trimmed back while the body was still easing into or out of
position (the main measure drifting one way faster than `trim_speed_deg_s`): getting into and
out of position is not holding. Live, a hold starts once the body is in position and still. Good form
is time in position with no form-breaking fault; a fault counts once it lasts `min_fault_s`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..reps import median_filter
from .registry import ExerciseFinding

# Rules every hold has (an exercise's RULES add its own thresholds and may override these).
HOLD_RULES = {
    "min_hold_s": 1.0,
    "max_gap_s": 0.5,  # frames out of position bridged inside a hold
    "min_fault_s": 1.0,  # a fault must last this long to break form
    # A hold's ends are trimmed back over a drift into or out of position: the main measure
    # moving one way faster than this (deg/s, over `settle_window_s`) up to the hold's edge.
    "trim_speed_deg_s": 5.0,
    "settle_window_s": 0.3,
}
MEDIAN_FRAMES = 7  # per-frame measures are median-filtered over this many frames


@dataclass(frozen=True)
class Fault:
    """A fault of a hold: `measure` beyond `limit` (a rules key) in `direction` (+1: above
    +limit, -1: below -limit). `words` finish "Form broke at N s: ..."; `breaks_form` False
    for faults that are reported but do not stop the good-form clock (the head's line)."""

    code: str
    measure: str
    direction: int
    limit: str
    words: str
    breaks_form: bool = True

    def active(self, values: np.ndarray, rules: dict) -> np.ndarray:
        v = np.asarray(values, dtype=float)
        with np.errstate(invalid="ignore"):
            return np.isfinite(v) & (self.direction * v > rules[self.limit])


@dataclass(frozen=True)
class Peak:
    """A hold's worst value of `measure` in `direction` (+1 largest, -1 most negative, as a
    positive number; 0 when it never went that way), reported as `key`."""

    key: str
    measure: str
    direction: int


@dataclass(frozen=True)
class HoldSpec:
    """How an exercise's holds are measured and judged.

    `measure(landmarks)` gives one frame's raw measures by name (NaN where unseen);
    `in_position(measures, rules)` says, element-wise over arrays of them, whether the body is
    in the hold's position; `report(measures)` gives the per-frame measures the report, CSV and
    viewer show; `side(measures)` which side a hold is on (None: no sides); `live_measure` the
    measure a live session shows; `position_words` what "in position" means, for the message
    when no hold is found."""

    measure: Callable[[np.ndarray | None], dict[str, float]]
    in_position: Callable[[dict[str, np.ndarray], dict], np.ndarray]
    faults: tuple[Fault, ...]
    peaks: tuple[Peak, ...]
    report: Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]
    live_measure: str
    position_words: str
    side: Callable[[dict[str, np.ndarray]], str | None] | None = None


HoldFinding = ExerciseFinding  # a hold's finding has its worst angle, `peak_deg`


@dataclass
class Hold:
    index: int
    start_s: float
    end_s: float
    good_form_s: float
    side: str | None = None
    peaks: dict[str, float | None] = field(default_factory=dict)
    findings: list[HoldFinding] = field(default_factory=list)

    @property
    def held_s(self) -> float:
        return self.end_s - self.start_s

    def to_dict(self) -> dict:
        return {
            "index": self.index,
            "side": self.side,
            "start_s": round(self.start_s, 2),
            "end_s": round(self.end_s, 2),
            "held_s": round(self.held_s, 2),
            "good_form_s": round(self.good_form_s, 2),
            **{k: tenth(v) for k, v in self.peaks.items()},
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass
class HoldResult:
    """What a hold exercise's analysis gives the report: per-frame measures and the holds."""

    measures: dict[str, np.ndarray]
    holds: list[Hold]
    in_position: np.ndarray
    position_words: str = "in position"

    @property
    def held_s(self) -> float:
        return sum(h.held_s for h in self.holds)

    @property
    def good_form_s(self) -> float:
        return sum(h.good_form_s for h in self.holds)

    def held_by_side(self) -> dict[str, float] | None:
        """Seconds held per side ("left", "right"), or None for a hold without sides."""
        if not any(h.side for h in self.holds):
            return None
        return {s: sum(h.held_s for h in self.holds if h.side == s) for s in ("left", "right")}


def mid(lm: np.ndarray, a: int, b: int) -> np.ndarray:
    """Mean image point of two landmarks (pixels)."""
    return lm[[a, b], :2].mean(0)


def signed_bend(a: np.ndarray, joint: np.ndarray, b: np.ndarray) -> float:
    """180 minus the angle a-joint-b (degrees), positive when `joint` lies below (image y down)
    the line a->b; NaN when two points coincide."""
    u, v = a - joint, b - joint
    nu, nv = np.linalg.norm(u), np.linalg.norm(v)
    if nu < 1 or nv < 1:
        return float("nan")
    angle = np.degrees(np.arccos(np.clip(np.dot(u, v) / (nu * nv), -1.0, 1.0)))
    # Where the line a->b passes at the joint's x: the joint is below it when its y is larger.
    t = np.dot(joint - a, b - a) / max(np.dot(b - a, b - a), 1e-6)
    on_line = a + t * (b - a)
    sign = 1.0 if joint[1] >= on_line[1] else -1.0
    return float(sign * (180.0 - angle))


def knee_bend(landmarks: np.ndarray | None) -> float:
    """How far the knees bend from straight (degrees, 0 = straight); NaN without pose."""
    if landmarks is None:
        return float("nan")
    lm = landmarks
    return abs(signed_bend(mid(lm, 23, 24), mid(lm, 25, 26), mid(lm, 27, 28)))


def body_tilt(shoulder: np.ndarray, ankle: np.ndarray) -> float:
    """The shoulder-ankle line's angle from horizontal in the picture (degrees, 0..90)."""
    line = ankle - shoulder
    return float(np.degrees(np.arctan2(abs(line[1]), abs(line[0]) + 1e-6)))


def lying_straight(m: dict[str, np.ndarray], line: str, rules: dict) -> np.ndarray:
    """Element-wise: the body-line measure `line` is known, the body lies within
    `max_body_tilt_deg` of horizontal (`m["tilt"]`) and the knees are straight (`m["knees"]`
    within `max_knee_bend_deg`: kneeling is getting in, not holding)."""
    tilt, knees = m["tilt"], m["knees"]
    with np.errstate(invalid="ignore"):
        straight = ~(np.isfinite(knees) & (knees > rules["max_knee_bend_deg"]))
        return (
            np.isfinite(m[line])
            & np.isfinite(tilt)
            & (tilt <= rules["max_body_tilt_deg"])
            & straight
        )


def tenth(v: float | None) -> float | None:
    """A finite value rounded to 0.1, else None."""
    return None if v is None or not np.isfinite(v) else round(float(v), 1)


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) index runs where mask is True."""
    out, start = [], None
    for i, m in enumerate([*mask, False]):
        if m and start is None:
            start = i
        elif not m and start is not None:
            out.append((start, i))
            start = None
    return out


def bridge(mask: np.ndarray, times: np.ndarray, max_gap_s: float) -> np.ndarray:
    """Fill False gaps shorter than max_gap_s between True runs."""
    out = mask.copy()
    found = runs(mask)
    for (_, a_end), (b_start, _) in zip(found, found[1:], strict=False):
        if times[b_start] - times[a_end - 1] <= max_gap_s:
            out[a_end:b_start] = True
    return out


def frame_steps(times: np.ndarray) -> np.ndarray:
    """Each frame's duration (the last one gets the median step)."""
    if len(times) < 2:
        return np.zeros(len(times))
    step = float(np.median(np.diff(times)))
    return np.append(np.diff(times), step)


def _findings(
    fault: Fault, values: np.ndarray, times: np.ndarray, rules: dict
) -> list[HoldFinding]:
    """The fault's runs lasting `min_fault_s` (gaps under 0.3 s bridged); times are the clip's."""
    bad = fault.active(values, rules)
    out = []
    dt = frame_steps(times)
    for a, b in runs(bridge(bad, times, 0.3)):
        if times[b - 1] - times[a] + dt[b - 1] < rules["min_fault_s"]:
            continue
        peak = float(np.nanmax(np.abs(values[a:b])))
        severity = "high" if peak >= 2 * rules[fault.limit] else "medium"
        out.append(
            HoldFinding(
                fault.code,
                severity,
                float(times[a]),
                float(times[b - 1]),
                f"Form broke at {times[a]:.0f} s: {fault.words} (up to {peak:.0f} deg).",
                peak_deg=peak,
            )
        )
    return out


def _peaks(spec: HoldSpec, m: dict[str, np.ndarray]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for p in spec.peaks:
        v = m[p.measure]
        out[p.key] = float(max(0.0, np.nanmax(p.direction * v))) if np.isfinite(v).any() else None
    return out


def drift_speeds(
    values: np.ndarray, times: np.ndarray, window_s: float
) -> tuple[np.ndarray, np.ndarray]:
    """How fast a measure changes (deg/s) over the `window_s` before and after each frame
    (backward, forward); NaN where unknown."""
    v = np.asarray(values, dtype=float)
    t = np.asarray(times, dtype=float)
    if len(t) < 2:
        return np.full(len(t), np.nan), np.full(len(t), np.nan)
    idx = np.arange(len(t))
    lo = np.clip(np.searchsorted(t, t - window_s), 0, len(t) - 1)
    hi = np.clip(np.searchsorted(t, t + window_s, side="right") - 1, 0, len(t) - 1)

    def rate(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        span = t[b] - t[a]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(span > 0, (v[b] - v[a]) / np.where(span > 0, span, 1.0), np.nan)

    return rate(lo, idx), rate(idx, hi)


def trim_drift(
    a: int, b: int, backward: np.ndarray, forward: np.ndarray, limit: float
) -> tuple[int, int]:
    """[a, b) without the frames at the end that the measure reached drifting one way faster
    than `limit` (`backward` speeds), nor those at the start it left that way (`forward`)."""

    def drifting(speed: np.ndarray, i: int, sign: float) -> bool:
        return bool(np.isfinite(speed[i]) and sign * speed[i] > limit)

    if b - a > 1 and drifting(backward, b - 1, sign := float(np.sign(backward[b - 1]))):
        while b - a > 1 and drifting(backward, b - 1, sign):
            b -= 1
    if b - a > 1 and drifting(forward, a, sign := float(np.sign(forward[a]))):
        while b - a > 1 and drifting(forward, a, sign):
            a += 1
    return a, b


def measure_frames(spec: HoldSpec, frames: list) -> dict[str, np.ndarray]:
    """Every frame's measures (median-filtered over `MEDIAN_FRAMES`), by name."""
    rows = [spec.measure(getattr(f, "landmarks", None)) for f in frames]
    names = list(spec.measure(None))
    return {
        n: median_filter(np.array([r[n] for r in rows], dtype=float), MEDIAN_FRAMES) for n in names
    }


def analyse_holds(
    spec: HoldSpec, frames: list, times: np.ndarray, rules: dict | None = None
) -> HoldResult:
    """The holds of a clip and its per-frame measures (see the module docstring)."""
    rules = {**HOLD_RULES, **(rules or {})}
    m = measure_frames(spec, frames)
    backward, forward = drift_speeds(m[spec.live_measure], times, rules["settle_window_s"])
    in_position = bridge(np.asarray(spec.in_position(m, rules), bool), times, rules["max_gap_s"])
    dt = frame_steps(times)
    holds: list[Hold] = []
    for a, b in runs(in_position):
        a, b = trim_drift(a, b, backward, forward, rules["trim_speed_deg_s"])
        if times[b - 1] - times[a] + dt[b - 1] < rules["min_hold_s"]:
            continue
        part = {n: v[a:b] for n, v in m.items()}
        t = times[a:b]
        good = np.ones(b - a, bool)
        for f in spec.faults:
            if f.breaks_form:
                good &= np.isfinite(part[f.measure]) & ~f.active(part[f.measure], rules)
        findings = [x for f in spec.faults for x in _findings(f, part[f.measure], t, rules)]
        findings.sort(key=lambda f: f.start_s)
        holds.append(
            Hold(
                index=len(holds) + 1,
                start_s=float(times[a]),
                end_s=float(times[b - 1] + dt[b - 1]),
                good_form_s=float(dt[a:b][good].sum()),
                side=spec.side(part) if spec.side else None,
                peaks=_peaks(spec, part),
                findings=findings,
            )
        )
    return HoldResult(spec.report(m), holds, in_position, spec.position_words)
