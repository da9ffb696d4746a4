"""Sided reps: what every rep exercise with a side shares (bird dog, Pallof press): the rep
signal through the lifts' rep counter, each rep judged over its frames, the count per side,
and live coaching.

In:  a `RepSpec` (how one frame is measured, the rep signal 0 at rest .. 1 at the top, how a
     rep is judged), the clip's frames (`ExerciseFrame`s) and their times, the exercise's rules.
Out: offline, `analyse_reps` -> `SidedResult`: per-frame measures and the reps (side, measures
     named for what they are, findings); live, `RepStream`: the same measures, signal and judge
     frame by frame, a cue when a rep ends (its first finding, or the count per side).

A rep is the signal rising past `enter` to at least `min_peak` and falling back under `lockout`
(`reps.RepCounter`, the lifts' counter). A rep's "top" is its frames within 0.1 of its peak;
"rest" frames (signal under `lockout`) give the references a rep's changes are measured from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..reps import Rep, RepCounter, RepRules, median_filter, segment_reps
from .registry import Exercise, ExerciseCue, ExerciseFinding, ExerciseFrame, register

SIDES = ("left", "right")
MEDIAN_FRAMES = 7
REP_RULES = {"enter": 0.35, "lockout": 0.2, "min_peak": 0.4}


SidedFinding = ExerciseFinding


@dataclass
class SidedRep:
    """A rep of a sided exercise, with its measures named for what they are."""

    index: int
    start_s: float
    end_s: float
    side: str | None
    measures: dict[str, float | None] = field(default_factory=dict)
    findings: list[SidedFinding] = field(default_factory=list)
    # Why measures the rep should have are null (e.g. "not judged: ..."); None when they are not.
    note: str | None = None

    def to_dict(self) -> dict:
        out = {
            "index": self.index,
            "start_s": round(self.start_s, 2),
            "end_s": round(self.end_s, 2),
            "side": self.side,
            **{k: None if v is None else round(float(v), 1) for k, v in self.measures.items()},
            "findings": [f.to_dict() for f in self.findings],
        }
        return out if self.note is None else {**out, "note": self.note}


@dataclass
class SidedResult:
    """What a sided-reps exercise gives the report: per-frame measures and the reps."""

    measures: dict[str, np.ndarray]
    reps: list[SidedRep]
    # What a rep's side names, for the report's sentences ("leg": the leg raised).
    side_word: str = "side"
    # The clip's own figures, named for the measure, for the report's summary (e.g.
    # `hip_abduction_deg: {"left": 41.0, "right": 35.5}`).
    totals: dict = field(default_factory=dict)
    # Sentences about the clip's own figures, said after the count (e.g. the ranges per side).
    notes: list[str] = field(default_factory=list)

    def reps_by_side(self) -> dict[str, int]:
        return {s: sum(r.side == s for r in self.reps) for s in SIDES}

    def count_words(self, noun: str = "rep(s)") -> str:
        """The count, per side when reps have one: "3 rep(s): 2 left, 1 right." or "3 rep(s)."."""
        by = self.reps_by_side()
        if not any(by.values()):
            return f"{len(self.reps)} {noun}."
        return f"{len(self.reps)} {noun}: {by['left']} left, {by['right']} right."


Judge = Callable[[int, Rep, dict[str, np.ndarray], np.ndarray, np.ndarray, dict], SidedRep]


@dataclass(frozen=True)
class RepSpec:
    """How an exercise's reps are measured and judged.

    `measure(frame)` gives one frame's raw measures by name (NaN where unseen); `references(m)`
    (optional) values the signal is read against, from the raw measures of the whole clip
    (offline) or of the frames kept (live), added to `m` by name; `signal(m, rules)` the rep
    signal over arrays of them (0 at rest, 1 at the top); `judge(index, rep, m,
    times, rest, rules)` a `SidedRep` from the measures (`m` also holds "signal"; `rest` marks
    frames at rest before or between reps); `report(m)` the per-frame measures the report, CSV
    and viewer show; `reads_back`: whether `measure` needs the back outlines (live traces them
    only then); `side_word` what a rep's side names; `summarise` what the clip adds."""

    measure: Callable[[ExerciseFrame], dict[str, float]]
    signal: Callable[[dict[str, np.ndarray], dict], np.ndarray]
    judge: Judge
    report: Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]
    cues: dict[str, str]
    side_word: str = "side"
    reads_back: bool = False
    references: Callable[[dict[str, np.ndarray]], dict[str, float]] | None = None
    # Offline only: the clip's result, its measures, times and rules -> the result to report
    # (e.g. with a verdict over the whole clip).
    summarise: Callable[..., SidedResult] | None = None
    # Live: what is said when a rep ends without a finding (default: the count per side).
    rep_words: Callable[[SidedRep, dict[str, int]], str] | None = None
    # What one rep is called when the set is summed up live ("3 bends: ...").
    nouns: str = "reps"
    # The rules key of how long after a rep ends its `judge` reads the frames (a position held
    # after a switch); live then judges the rep that much later. None: judged as it ends.
    settle: str | None = None
    # Whether a rep found on the signal counts, from the measures around it (`counts(rep, m,
    # times)`; e.g. a 90/90 "switch" that ends with the same leg in front does not). None: all.
    counts: Callable[[Rep, dict[str, np.ndarray], np.ndarray], bool] | None = None


def rep_findings(
    checks: tuple[tuple[str, bool], ...],
    rep: Rep,
    label: str,
    texts: dict[str, str],
    severity: dict[str, str] | None = None,
    suffix: str = "",
) -> list[SidedFinding]:
    """The findings of the `checks` (code, hit) that hit, over the rep's span, each worded
    "<label>: <text><suffix>." ("medium" severity unless `severity` names another)."""
    return [
        SidedFinding(
            code,
            (severity or {}).get(code, "medium"),
            rep.start_s,
            rep.end_s,
            f"{label}: {texts[code]}{suffix}.",
        )
        for code, hit in checks
        if hit
    ]


def finite_median(v: np.ndarray) -> float | None:
    v = np.asarray(v, dtype=float)
    v = v[np.isfinite(v)]
    return float(np.median(v)) if v.size else None


def _median_now(values: list[float]) -> np.ndarray:
    med = finite_median(np.array(values, dtype=float))
    return np.array(np.nan if med is None else med)


def rep_rules(rules: dict) -> RepRules:
    return RepRules(
        enter_bottom=rules["enter"], lockout=rules["lockout"], min_peak=rules["min_peak"]
    )


def rep_frames(rep: Rep, m: dict[str, np.ndarray], times: np.ndarray) -> tuple[np.ndarray, ...]:
    """Masks of a rep's frames and of its top (signal within 0.1 of the rep's peak)."""
    sel = (times >= rep.start_s) & (times <= rep.end_s)
    s = m["signal"]
    top = sel & np.isfinite(s) & (s >= rep.peak_depth - 0.1)
    return sel, top


def measure_all(spec: RepSpec, frames: list, rules: dict) -> dict[str, np.ndarray]:
    """Every frame's measures, median-filtered, and the rep signal."""
    rows = [spec.measure(f) for f in frames]
    names = list(spec.measure(ExerciseFrame(0.0)))
    m = {n: median_filter(np.array([r[n] for r in rows], float), MEDIAN_FRAMES) for n in names}
    if spec.references is not None:
        m.update({k: np.array(v) for k, v in spec.references(m).items()})
    m["signal"] = spec.signal(m, rules)
    return m


def analyse_reps(
    spec: RepSpec, frames: list, times: np.ndarray, rules: dict | None = None
) -> SidedResult:
    """The reps of a clip, judged, and its per-frame measures (see the module docstring)."""
    rules = {**REP_RULES, **(rules or {})}
    if not frames:
        return SidedResult({}, [], spec.side_word)
    m = measure_all(spec, frames, rules)
    reps = segment_reps(times, m["signal"], rep_rules(rules))
    if spec.counts is not None:
        reps = [r for r in reps if spec.counts(r, m, times)]
    rest = np.isfinite(m["signal"]) & (m["signal"] < rules["lockout"])
    judged = [spec.judge(i + 1, r, m, times, rest, rules) for i, r in enumerate(reps)]
    result = SidedResult(spec.report(m), judged, spec.side_word)
    return spec.summarise(result, m, times, rules) if spec.summarise else result


RepCue = ExerciseCue


class RepStream:
    """A sided-rep exercise frame by frame (live): the same measures with a causal median, the
    lifts' rep counter on the signal, and when a rep ends the same `judge` over the frames kept
    (the last `buffer_s`), its first finding as a cue or "Good rep" with the count per side."""

    state_key = "sided"  # where a live frame carries `state()`

    def __init__(self, spec: RepSpec, rules: dict | None = None, buffer_s: float = 30.0) -> None:
        self.spec = spec
        self.rules = {**REP_RULES, **(rules or {})}
        self.counter = RepCounter(rep_rules(self.rules))
        self.buffer_s = buffer_s
        self.reads_back = spec.reads_back
        self._rows: list[tuple[float, dict[str, float]]] = []
        self.reps: list[SidedRep] = []
        self.value: float | None = None
        self._pending: tuple[Rep, float] | None = None  # a rep to judge once it has settled

    @property
    def phase(self) -> str:
        return self.counter.phase

    @property
    def count(self) -> int:
        return len(self.reps)

    def _by_side(self) -> dict[str, int]:
        return SidedResult({}, self.reps).reps_by_side()

    def state(self) -> dict:
        """The running state for a live client: reps per side and the rep signal now."""
        return {
            "reps": len(self.reps),
            **self._by_side(),
            "signal": None if self.value is None else round(self.value, 2),
        }

    def summary(self) -> dict:
        """The session's reps, for the end-of-session record."""
        return {
            "reps": [r.to_dict() for r in self.reps],
            "rep_count": len(self.reps),
            "reps_by_side": self._by_side(),
        }

    def update(self, t: float, frame: ExerciseFrame) -> list[RepCue]:
        """One frame; the cues it brings (a rep's finding or its count when it is judged: as it
        ends, or `spec.settle` later)."""
        row = self.spec.measure(frame)
        self._rows = [r for r in self._rows if t - r[0] <= self.buffer_s] + [(t, row)]
        recent = self._rows[-MEDIAN_FRAMES:]
        now = {k: _median_now([r[1][k] for r in recent]) for k in row}
        refs = self._references()
        now.update(refs)
        signal = float(self.spec.signal(now, self.rules))
        self.value = signal if np.isfinite(signal) else None
        rep = self.counter.update(t, self.value)
        cues: list[RepCue] = []
        if self._pending is not None and (rep is not None or t >= self._pending[1]):
            cues += self._judge(self._pending[0], refs)
            self._pending = None
        if rep is not None:
            if self.spec.settle is None:
                cues += self._judge(rep, refs)
            else:
                self._pending = (rep, rep.end_s + self.rules[self.spec.settle])
        return cues

    def _references(self) -> dict[str, np.ndarray]:
        """The spec's references over the frames kept ({} without)."""
        if self.spec.references is None or not self._rows:
            return {}
        keys = self._rows[-1][1]
        kept = {k: np.array([r[1][k] for r in self._rows], float) for k in keys}
        return {k: np.array(v) for k, v in self.spec.references(kept).items()}

    def _judge(self, rep: Rep, refs: dict[str, np.ndarray]) -> list[RepCue]:
        """Judge a finished rep over the frames kept (`refs`: the spec's references over
        them); its cue."""
        times = np.array([r[0] for r in self._rows])
        keys = self._rows[-1][1]
        m = {k: median_filter(np.array([r[1][k] for r in self._rows]), MEDIAN_FRAMES) for k in keys}
        m.update(refs)
        m["signal"] = self.spec.signal(m, self.rules)
        if self.spec.counts is not None and not self.spec.counts(rep, m, times):
            return []
        rest = (
            (times < rep.start_s) & np.isfinite(m["signal"]) & (m["signal"] < self.rules["lockout"])
        )
        judged = self.spec.judge(len(self.reps) + 1, rep, m, times, rest, self.rules)
        self.reps.append(judged)
        if judged.findings:
            first = judged.findings[0]
            text = self.spec.cues.get(first.code, first.message)
            return [RepCue(first.code, text, first.severity, urgent=True)]
        counts = self._by_side()
        if self.spec.rep_words is not None:
            return [RepCue("rep_summary", self.spec.rep_words(judged, counts), "info")]
        if not any(counts.values()):
            return [RepCue("rep_summary", f"Good rep — {len(self.reps)}", "info")]
        side = f", {judged.side} {self.spec.side_word}" if judged.side else ""
        return [
            RepCue(
                "rep_summary",
                f"Good rep{side} — {counts['left']} left, {counts['right']} right",
                "info",
            )
        ]

    def finish(self) -> list[RepCue]:
        cues: list[RepCue] = []
        if self._pending is not None:
            cues += self._judge(self._pending[0], self._references())
            self._pending = None
        if not self.reps:
            return cues
        text = SidedResult({}, self.reps).count_words(self.spec.nouns).rstrip(".")
        return [*cues, RepCue("set_summary", text, "info")]


def register_sided(
    spec: RepSpec,
    rules: dict,
    kind: str = "sided reps",
    clip_spec: Callable[[list], RepSpec] | None = None,
    live_spec: Callable[[], RepSpec] | None = None,
    **entry,
) -> Exercise:
    """Register an exercise counted by `spec`'s reps (sided reps, or the bends of a screen): its
    `analyse` and live `stream` run `spec` with `rules` (overridable per call); `entry` gives
    the rest of the `Exercise` (name, label, views, ...). An exercise that learns about the
    person first (e.g. their segment lengths) gives `clip_spec(frames)`, the spec for a whole
    clip, and `live_spec()`, a fresh spec for a live session."""

    def analyse(frames: list, times: np.ndarray, overrides: dict | None = None) -> SidedResult:
        used = clip_spec(frames) if clip_spec is not None else spec
        return analyse_reps(used, frames, times, {**rules, **(overrides or {})})

    def stream(overrides: dict | None = None) -> RepStream:
        used = live_spec() if live_spec is not None else spec
        return RepStream(used, {**rules, **(overrides or {})})

    return register(
        Exercise(kind=kind, rules=rules, cues=spec.cues, analyse=analyse, stream=stream, **entry)
    )
