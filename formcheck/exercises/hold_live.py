"""Live coaching of holds, and the registry entry of a hold exercise.

In:  a `HoldSpec` and the exercise's rules (see `holds`); live, one frame's landmarks (pixels,
     or None) and its time at a time.
Out: `HoldStream`: the same per-frame measures and rules as `holds.analyse_holds`, with
     `HoldCue`s as the hold goes; `register_hold` puts an exercise's offline analysis and live
     stream in the registry.
"""

from __future__ import annotations

import numpy as np

from .holds import (
    HOLD_RULES,
    MEDIAN_FRAMES,
    Hold,
    HoldFinding,
    HoldResult,
    HoldSpec,
    analyse_holds,
    tenth,
)
from .registry import Exercise, ExerciseCue, register

HoldCue = ExerciseCue


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
            self.spec.live_measure: tenth(self.value),
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
