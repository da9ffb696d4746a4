"""Holds: what every hold exercise shares (plank, side plank): finding the hold, timing it,
its faults, and coaching it live.

In:  a `HoldSpec` (how one frame is measured, when the body is in position, which faults break
     form, which peaks to report), the clip's frames (objects with `landmarks` in pixels, or
     None) and their times, and the exercise's rules (thresholds by name).
Out: offline, `analyse_holds` -> `HoldResult`: per-frame measures and the holds found (start,
     end, time held, time in good form, side, peaks, findings); live, `HoldStream`: the same
     measures and rules frame by frame, with cues (a fault once it has lasted `min_fault_s`,
     the time held every `say_every_s`, a summary when the hold ends).

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
from .registry import Exercise, ExerciseFinding, register

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
            **{k: _r(v) for k, v in self.peaks.items()},
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


def _r(v: float | None) -> float | None:
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


@dataclass(frozen=True)
class HoldCue:
    """What the live tracker wants said: a code, its text, severity and urgency."""

    code: str
    text: str
    severity: str
    urgent: bool = False


class HoldStream:
    """A hold frame by frame (live coaching): the same per-frame measures and rules as
    `analyse_holds`, a causal median instead of a centred one, and cues as the hold goes: a
    form-breaking fault once it has lasted `min_fault_s` (again only after the form came back),
    the time held every `say_every_s`, and a summary when the hold ends."""

    def __init__(
        self,
        spec: HoldSpec,
        rules: dict | None = None,
        cues: dict[str, str] | None = None,
        say_every_s: float = 10.0,
    ) -> None:
        self.spec = spec
        self.rules = {**HOLD_RULES, **(rules or {})}
        self.cue_texts = cues or {}
        self.say_every_s = say_every_s
        self._recent: list[dict[str, float]] = []
        self._track: list[tuple[float, float]] = []  # (t, live measure) over the settle window
        self._drift: tuple[float, float] | None = None  # (sign, since) of a drift in progress
        self._last_drift: tuple[float, float] | None = None  # the drift when last in position
        self._since: float | None = None  # in position since
        self._last_in: float | None = None
        self._last_t: float | None = None
        self._fault: tuple[str, float] | None = None
        self._said_fault = False
        self._said_s = 0.0
        self._sides: list[str] = []
        self._peaks: dict[str, float | None] = {}
        self.holds: list[Hold] = []
        self.good_form_s = 0.0  # of the hold in progress
        self.findings: list[HoldFinding] = []
        self.value: float | None = None  # the spec's live measure now

    @property
    def holding(self) -> bool:
        return (
            self._since is not None
            and self._last_t is not None
            and (self._last_t - self._since >= self.rules["min_hold_s"])
        )

    @property
    def held_s(self) -> float:
        return self._last_t - self._since if self.holding else 0.0

    def _now(self, landmarks: np.ndarray | None) -> dict[str, np.ndarray]:
        self._recent = [*self._recent[-(MEDIAN_FRAMES - 1) :], self.spec.measure(landmarks)]
        out = {}
        for name in self._recent[-1]:
            v = np.array([r[name] for r in self._recent], dtype=float)
            out[name] = np.array(np.nanmedian(v) if np.isfinite(v).any() else np.nan)
        return out

    def _speed(self, t: float, value: float) -> float:
        """The live measure's speed over the last `settle_window_s` (causal)."""
        self._track = [(s, v) for s, v in self._track if t - s <= self.rules["settle_window_s"]]
        self._track.append((t, value))
        (t0, v0), (t1, v1) = self._track[0], self._track[-1]
        return (v1 - v0) / (t1 - t0) if t1 > t0 else float("nan")

    def _follow_drift(self, t: float, speed: float) -> None:
        """Track drifts of the live measure. A drift that was under way when the position was
        reached was the body easing in: when it ends, the hold restarts where the body came to
        rest (the speed window's length ago), without what was gathered while easing in."""
        limit = self.rules["trim_speed_deg_s"]
        window = self.rules["settle_window_s"]
        if not np.isfinite(speed) or abs(speed) <= limit:
            drift, self._drift = self._drift, None
            since = self._since
            if drift is not None and since is not None and drift[1] <= since + window:
                rest = max(since, t - window)
                if rest > since and not self.holding_at(t):
                    self._since = rest
                    self.good_form_s = t - rest
                    self._sides, self._peaks = [], {}
        elif self._drift is None or self._drift[0] != np.sign(speed):
            self._drift = (float(np.sign(speed)), t)

    def holding_at(self, t: float) -> bool:
        """Whether the position has been held long enough by `t` to count as a hold."""
        return self._since is not None and t - self._since >= self.rules["min_hold_s"]

    state_key = "hold"  # where a live frame carries `state()`

    @property
    def phase(self) -> str:
        return "hold" if self.holding else "setup"

    @property
    def count(self) -> int:
        return 0

    def state(self) -> dict:
        """The running state for a live client: holding, seconds held and in good form, the
        main measure now (named for what it is, e.g. `hip_sag_deg`)."""
        return {
            "holding": self.holding,
            "held_s": round(self.held_s, 1),
            "good_form_s": round(self.good_form_s, 1),
            self.spec.live_measure: _r(self.value),
            "holds": len(self.holds),
        }

    def summary(self) -> dict:
        """The session's holds, for the end-of-session record (call after `finish`)."""
        holds = [h.to_dict() for h in self.holds]
        return {
            "holds": holds,
            "reps": [],
            "held_s": round(sum(h["held_s"] for h in holds), 2),
            "good_form_s": round(sum(h["good_form_s"] for h in holds), 2),
            "rep_count": 0,
        }

    def update(self, t: float, frame) -> list[HoldCue]:
        """One frame (an `ExerciseFrame`: its landmarks); the cues it brings."""
        landmarks = frame.landmarks
        r = self.rules
        dt = 0.0 if self._last_t is None else max(0.0, t - self._last_t)
        m = self._now(landmarks)
        live = float(m[self.spec.live_measure])
        self.value = live if np.isfinite(live) else None
        cues: list[HoldCue] = []
        speed = self._speed(t, live)
        self._follow_drift(t, speed)
        if bool(self.spec.in_position(m, r)):
            if self._since is None:
                self._since = t
            self._last_in, self._last_drift = t, self._drift
        elif self._last_in is not None and t - self._last_in > r["max_gap_s"]:
            cues += self._end_hold()
        self._last_t = t
        if self._since is None:
            return cues
        if self.spec.side and (side := self.spec.side({k: v[None] for k, v in m.items()})):
            self._sides.append(side)
        for p in self.spec.peaks:
            v = p.direction * float(m[p.measure])
            if np.isfinite(v):
                self._peaks[p.key] = max(self._peaks.get(p.key) or 0.0, v)
        code = next(
            (f for f in self.spec.faults if f.breaks_form and bool(f.active(m[f.measure], r))),
            None,
        )
        if code is None and t > self._since:
            self.good_form_s += dt  # counted from the start of the position, as offline
        if not self.holding:
            return cues
        if code is None:
            self._fault, self._said_fault = None, False
        elif self._fault is None or self._fault[0] != code.code:
            self._fault, self._said_fault = (code.code, t), False
        elif not self._said_fault and t - self._fault[1] >= r["min_fault_s"]:
            self._said_fault = True
            self.findings.append(
                HoldFinding(
                    code.code,
                    "medium",
                    self._fault[1],
                    t,
                    f"Form broke at {self._fault[1] - self._since:.0f} s: {code.words}.",
                    peak_deg=abs(float(m[code.measure])),
                )
            )
            text = self.cue_texts.get(code.code, code.words.capitalize())
            cues.append(HoldCue(code.code, text, "medium", urgent=True))
        if self.held_s - self._said_s >= self.say_every_s:
            self._said_s += self.say_every_s
            cues.append(HoldCue("hold_time", f"{self._said_s:.0f} seconds", "info"))
        return cues

    def _end_hold(self) -> list[HoldCue]:
        cues = []
        if self.holding:
            side = max(set(self._sides), key=self._sides.count) if self._sides else None
            end = self._last_in
            drift = self._last_drift
            if drift is not None and self._since < drift[1] < end:
                end = drift[1]  # it was easing out of position since then
            hold = Hold(
                len(self.holds) + 1,
                self._since,
                end,
                self.good_form_s,
                side=side,
                peaks={p.key: self._peaks.get(p.key) for p in self.spec.peaks},
                findings=list(self.findings),
            )
            self.holds.append(hold)
            on = f" on the {side} side" if side else ""
            cues.append(
                HoldCue(
                    "hold_summary",
                    f"Held {hold.held_s:.0f} seconds{on}, {hold.good_form_s:.0f} in good form",
                    "info",
                )
            )
        self._since = self._last_in = self._fault = None
        self._said_fault, self._said_s, self.good_form_s, self.findings = False, 0.0, 0.0, []
        self._sides, self._peaks = [], {}
        return cues

    def finish(self) -> list[HoldCue]:
        """End of the session: the hold in progress ends now."""
        return self._end_hold()


def register_hold(spec: HoldSpec, rules: dict, cues: dict[str, str], **entry) -> Exercise:
    """Register a hold exercise: its `analyse` and live `stream` run `spec` with `rules`
    (overridable per call); `entry` gives the rest of the `Exercise` (name, label, views, ...)."""

    def analyse(frames: list, times: np.ndarray, overrides: dict | None = None) -> HoldResult:
        return analyse_holds(spec, frames, times, {**rules, **(overrides or {})})

    def stream(overrides: dict | None = None, say_every_s: float = 10.0) -> HoldStream:
        return HoldStream(spec, {**rules, **(overrides or {})}, cues, say_every_s)

    return register(
        Exercise(kind="hold", rules=rules, cues=cues, analyse=analyse, stream=stream, **entry)
    )
