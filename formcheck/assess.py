"""Assess stage: findings per rep and per set.

In:  reps (`Rep`), per-frame angles (`FrameAngles`) and depth, a `RoundingRule`, and what the
     camera saw (`Viewing`).
Out: `RepAssessment` per rep (peak lumbar flexion beyond neutral at the bottom and when, hip
     flexion range, lumbar share of the bend, the back's measures at the bottom and per phase,
     the verdict rounded / flat / not judged with its confidence, tempo, load moment arm) and
     set-level findings (form breaking down across reps).

Flags are coaching cues, not diagnoses: there is no validated injury threshold for lumbar
flexion. The verdict (`formcheck.verdict`) is read at the bottom of the rep, the most loaded
part of a hinge, from measures held for `min_duration_s`: flat-back hinges lose some lordosis
too (lumbar flexion of 20-30 degrees is normal in a good lift), so the back's outward bow is
what tells a rounded back from a flat one. Numbers live in formcheck/data/spine.json
(read by `formcheck.params`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .angles import FrameAngles
from .reps import Rep, rep_phases
from .verdict import BackMeasures, Verdict, VerdictModel, Viewing, judge_rep


@dataclass
class RoundingRule:
    threshold_deg: float = 15.0  # lumbar flexion beyond neutral: severity grows above it
    min_duration_s: float = 0.2  # sustained at least this long
    # ... or this long against the clip's first or last frame, where the footage was cut: three
    # frames at 30 fps, still more than the one- and two-frame glitches the filters remove.
    cut_min_duration_s: float = 0.1
    loaded_depth: float = 0.45  # "loaded" = frames of the rep at least this deep
    bottom_fraction: float = 0.85  # "bottom" = frames at least this share of the rep's depth
    thoracic_threshold_deg: float = 20.0
    warn_deg: float = 10.0
    verdict: VerdictModel = field(default_factory=VerdictModel)

    def severity(self, peak: float) -> str:
        if peak >= self.threshold_deg + 15:
            return "high"
        if peak >= self.threshold_deg + 5:
            return "medium"
        return "low"


@dataclass
class Finding:
    code: str
    start_s: float
    end_s: float
    severity: str
    message: str
    # Phases of the rep the finding covers (setup, descent, bottom, ascent, lockout); the first
    # is `phase`.
    phases: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
            "severity": self.severity,
            "message": self.message,
            "phase": self.phases[0] if self.phases else None,
            "phases": list(self.phases),
        }


@dataclass
class RepAssessment:
    rep: Rep
    max_lumbar_flexion_deg: float | None
    max_lumbar_t: float | None
    max_hip_flexion_deg: float | None
    hip_flexion_range_deg: float | None
    max_thoracic_flexion_deg: float | None
    max_back_bend_deg: float | None
    lumbar_share: float | None
    verdict: Verdict
    spine_coverage: float
    descent_s: float
    ascent_s: float
    findings: list[Finding] = field(default_factory=list)
    moment_arm: dict | None = None
    bottom: BackMeasures = field(default_factory=BackMeasures)
    phase_measures: dict[str, BackMeasures] = field(default_factory=dict)

    @property
    def rounding(self) -> bool | None:
        """True rounded, False flat, None not judged."""
        return self.verdict.rounding


def _series(frames: list[FrameAngles], name: str) -> np.ndarray:
    return np.array([np.nan if (v := f.value(name)) is None else v for f in frames], dtype=float)


def _sustained_runs(times: np.ndarray, above: np.ndarray, min_s: float) -> list[tuple[int, int]]:
    """Index ranges [i, j] where `above` holds for at least `min_s` seconds."""
    runs, start = [], None
    for i, flag in enumerate(list(above) + [False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            j = i - 1
            dt = times[j] - times[start] + (times[1] - times[0] if len(times) > 1 else 0)
            if dt >= min_s:
                runs.append((start, j))
            start = None
    return runs


def _sustained_peak(
    times: np.ndarray,
    values: np.ndarray,
    min_s: float,
    cut_min_s: float | None = None,
    cuts: tuple[bool, bool] = (False, False),
) -> tuple[float, float] | None:
    """Highest level the series holds for at least `min_s` seconds (a peak robust to one-frame
    spikes), and when that window starts; None without values. A window starting at frame i
    spans the frames before times[i] + min_s (at least frame i) and counts only if every value
    in it is finite; the earliest window wins a tie. Where the footage was cut at the series'
    first or last frame (`cuts`: the clip starts or ends there), a window against the cut
    counts when it spans `cut_min_s`, as what went before or after the cut was not seen."""
    n = len(times)
    if n == 0:
        return None
    values = np.asarray(values, dtype=float)
    ends = np.maximum(np.searchsorted(times, times + min_s - 1e-9), np.arange(n) + 1)
    lengths = ends - np.arange(n)
    width = int(lengths.max())
    padded = np.concatenate([values, np.full(width, np.nan)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, width)[:n]
    inside = np.arange(width)[None, :] < lengths[:, None]
    valid = np.where(inside, np.isfinite(windows), True).all(axis=1)
    dt = float(np.median(np.diff(times))) if n > 1 else 0.0
    # A window that runs into the last frame is short of `min_s`: only a cut's window counts.
    valid &= times[-1] + dt >= times + min_s - 1e-9
    levels = np.where(inside, windows, np.inf).min(axis=1)
    best = None
    if valid.any():
        i = int(np.argmax(np.where(valid, levels, -np.inf)))
        best = (float(levels[i]), float(times[i]))
    if cut_min_s is not None:
        first = int(np.searchsorted(times, times[0] + cut_min_s - dt - 1e-9)) + 1
        last = int(np.searchsorted(times, times[-1] - cut_min_s + dt + 1e-9)) - 1
        for cut, lo, hi in ((cuts[0], 0, first), (cuts[1], max(last, 0), n)):
            part = values[lo:hi]
            spans = hi > lo and times[hi - 1] - times[lo] + dt >= cut_min_s - 1e-9
            if cut and spans and np.isfinite(part).all() and (best is None or part.min() > best[0]):
                best = (float(part.min()), float(times[lo]))
    return best


def _held_peak(
    t: np.ndarray, values: np.ndarray, rule: RoundingRule, cuts: tuple[bool, bool]
) -> tuple[float, float] | None:
    return _sustained_peak(t, values, rule.min_duration_s, rule.cut_min_duration_s, cuts)


def _nanmax(a: np.ndarray) -> float | None:
    return float(np.nanmax(a)) if np.isfinite(a).any() else None


def _measures(
    t: np.ndarray,
    sel: np.ndarray,
    series: dict[str, np.ndarray],
    rule: RoundingRule,
    standing_bow: float | None,
    cuts: tuple[bool, bool],
) -> BackMeasures:
    """Peaks of the back's measures held for the rule's duration over the frames in `sel`."""

    def held(name: str) -> float | None:
        peak = _held_peak(t, np.where(sel, series[name], np.nan), rule, cuts)
        return None if peak is None else peak[0]

    bow = held("back_bend_deg")
    traced = np.isfinite(series["back_bend_deg"]) & sel
    return BackMeasures(
        lumbar=held("lumbar_flexion_deg"),
        bow=bow,
        bow_change=None if bow is None or standing_bow is None else bow - standing_bow,
        thoracic=held("thoracic_flexion_deg"),
        coverage=float(traced.sum() / max(int(sel.sum()), 1)),
    )


def assess_rep(
    rep: Rep,
    frames: list[FrameAngles],
    depth: np.ndarray,
    rule: RoundingRule,
    viewing: Viewing | None = None,
    whole_clip: bool = True,
) -> RepAssessment:
    """Measure and judge one rep from its frames (those with start_s <= t <= end_s).
    `whole_clip`: `frames` run from the clip's first frame to its last, so a rep that reaches
    either was cut there (False live, where the frames are a window of a running session)."""
    viewing = viewing or Viewing()
    times = np.array([f.t for f in frames])
    sel = (times >= rep.start_s) & (times <= rep.end_s)
    idx = np.flatnonzero(sel)
    t = times[idx]
    # The rep runs into the clip's first or last frame: the clip was cut in the rep.
    cuts = (
        whole_clip and bool(len(idx) and idx[0] == 0),
        whole_clip and bool(len(idx) and idx[-1] == len(frames) - 1),
    )
    series = {
        name: _series(frames, name)[idx]
        for name in (
            "lumbar_flexion_deg",
            "hip_flexion_deg",
            "thoracic_flexion_deg",
            "back_bend_deg",
        )
    }
    lumbar, hip, thor = (
        series["lumbar_flexion_deg"],
        series["hip_flexion_deg"],
        series["thoracic_flexion_deg"],
    )
    d = depth[idx]
    loaded = np.isfinite(d) & (d >= rule.loaded_depth)
    coverage = float(np.isfinite(np.where(loaded, lumbar, np.nan)).sum() / max(loaded.sum(), 1))
    bottom = np.isfinite(d) & (d >= max(rule.loaded_depth, rule.bottom_fraction * rep.peak_depth))

    # The peak is read where the verdict is made (the bottom), so the number and the words agree.
    peak = _held_peak(t, np.where(bottom, lumbar, np.nan), rule, cuts)
    max_lumbar, max_lumbar_t = peak if peak is not None else (None, None)
    max_hip = _nanmax(hip)
    hip_range = float(np.nanmax(hip) - np.nanmin(hip)) if np.isfinite(hip).sum() > 1 else None
    lumbar_range = (
        float(np.nanmax(lumbar) - np.nanmin(lumbar)) if np.isfinite(lumbar).sum() > 1 else None
    )
    share = None
    if hip_range is not None and lumbar_range is not None and hip_range + lumbar_range > 1:
        share = lumbar_range / (hip_range + max(lumbar_range, 0.0))

    standing_bow = viewing.standing_bow
    at_bottom = _measures(t, bottom, series, rule, standing_bow, cuts)
    phase_of = rep_phases(t, d, rep)
    by_phase = {
        name: _measures(t, loaded & (phase_of == name), series, rule, standing_bow, cuts)
        for name in ("setup", "descent", "bottom", "ascent")
    }
    verdict = judge_rep(at_bottom, by_phase, viewing, rule.verdict)
    max_bend = at_bottom.bow

    findings: list[Finding] = []
    if verdict.state == "rounded":
        in_phases = np.isin(phase_of, verdict.phases) & loaded
        span = t[in_phases] if in_phases.any() else t[bottom]
        amount = (
            f"lower back {max_lumbar:.0f} deg beyond neutral"
            if max_lumbar is not None
            else f"back bowed {max_bend:.0f} deg"
        )
        findings.append(
            Finding(
                "lumbar_rounding",
                float(span[0]),
                float(span[-1]),
                rule.severity(max_lumbar if max_lumbar is not None else rule.threshold_deg),
                f"Lower back {verdict.likely}rounded ({', '.join(verdict.phases)}): {amount} - "
                "keep a flat back and push the hips back.",
                phases=list(verdict.phases),
            )
        )
    judged = verdict.measured
    max_thor = _nanmax(np.where(loaded, thor, np.nan)) if judged else None
    if max_thor is not None and max_thor >= rule.thoracic_threshold_deg:
        j = int(np.nanargmax(np.where(loaded, thor, np.nan)))
        findings.append(
            Finding(
                "thoracic_rounding",
                float(t[j]),
                float(t[j]),
                "low",
                f"Upper back rounded {max_thor:.0f} deg ({phase_of[j]}) - chest up, shoulders "
                "back.",
                phases=[str(phase_of[j])],
            )
        )
    if not verdict.measured:
        findings.append(
            Finding(
                "spine_unmeasured",
                rep.start_s,
                rep.end_s,
                "info",
                verdict.message or "The back was not judged in this rep.",
            )
        )
    return RepAssessment(
        rep=rep,
        max_lumbar_flexion_deg=max_lumbar,
        max_lumbar_t=max_lumbar_t,
        max_hip_flexion_deg=max_hip,
        hip_flexion_range_deg=hip_range,
        max_thoracic_flexion_deg=max_thor,
        max_back_bend_deg=max_bend,
        lumbar_share=share,
        verdict=verdict,
        spine_coverage=coverage,
        descent_s=rep.bottom_s - rep.start_s,
        ascent_s=rep.end_s - rep.bottom_s,
        findings=findings,
        bottom=at_bottom,
        phase_measures=by_phase,
    )


def assess_set(reps: list[RepAssessment]) -> list[Finding]:
    """Set-level findings: rounding that begins part-way through (fatigue), and a creeping
    increase of peak lumbar flexion across reps."""
    out: list[Finding] = []
    if not reps:
        return out
    flags = [r.rounding is True for r in reps]
    if any(flags) and not flags[0]:
        first = flags.index(True)
        r = reps[first]
        out.append(
            Finding(
                "fatigue_rounding",
                r.rep.start_s,
                reps[-1].rep.end_s,
                "medium",
                f"Rounding began at rep {first + 1} - form broke down as the set went on; "
                "consider ending the set there or lowering the load.",
            )
        )
    peaks = [r.max_lumbar_flexion_deg for r in reps if r.max_lumbar_flexion_deg is not None]
    if len(peaks) >= 4:
        half = len(peaks) // 2
        rise = float(np.mean(peaks[half:]) - np.mean(peaks[:half]))
        if rise >= 6.0:
            out.append(
                Finding(
                    "lumbar_flexion_creep",
                    reps[half].rep.start_s,
                    reps[-1].rep.end_s,
                    "low",
                    f"Peak lumbar flexion rose by {rise:.0f} deg from the first to the second "
                    "half of the set.",
                )
            )
    return out
