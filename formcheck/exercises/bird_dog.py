"""Bird dog (from hands and knees, reach one arm forward and the opposite leg back, hold, return;
filmed from the side): reps per side, how far the arm and leg reach, and how still the trunk
stays.

In:  the clip's frames (`ExerciseFrame`: landmarks in pixels, the back outline's bow for both
     facings), their times, the entry's rules.
Out: `SidedResult`: per-frame measures (arm and leg elevation of the reaching limbs, trunk tilt,
     the back's bow), the reps (side = the leg raised, arm and leg elevation at the top, time
     held at the top, trunk tilt and back-bow change from the start position, findings). Live:
     `stream`, the same measures and rules frame by frame with the rep counter.

Angles, in the picture (side view), against the trunk line (hip centre -> shoulder centre):
`arm_elevation_deg` of a shoulder->wrist line, 0 = level with the trunk reaching forward,
positive above it, -90 = straight down under the shoulder; `leg_elevation_deg` of a hip->ankle
line against the trunk line continued backwards, 0 = level, positive above it (about -45 on
hands and knees). A rep is the reach (the mean of how far the higher arm and the higher leg have
come from the start position towards level) rising past `enter` and returning (the lifts' rep
counter). The trunk should not move: `trunk_tilt_change_deg` is the largest change of the trunk
line's angle from its start-position value during the rep (a weight shift or a hip hike), and
`back_bow_change_deg` the change of the back outline's bow at the top against the start
position (negative: the lower back hollows, the fault when the leg rises too high).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..reps import Rep, RepCounter, RepRules, median_filter, segment_reps
from .registry import Exercise, ExerciseFrame, register

RULES = {
    "min_reach_deg": -20.0,  # arm or leg lower than this below level at the top: not level
    "max_leg_high_deg": 15.0,  # the leg above level by more: the lower back over-extends
    "max_arch_deg": 8.0,  # the back's bow hollowing more than this at the top
    "max_tilt_change_deg": 8.0,  # the trunk line turning more than this during the rep
    "start_leg_deg": -45.0,  # leg elevation on hands and knees
    "start_arm_deg": -90.0,  # arm elevation on hands and knees
    # Reach (0 start position .. 1 level) that starts a rep, ends it, and that a rep must reach.
    "enter": 0.35,
    "lockout": 0.2,
    "min_peak": 0.4,
}
FINDINGS = {
    "arm_low": "the arm did not reach level with the back",
    "leg_low": "the leg did not reach level with the back",
    "leg_high": "the leg rose above the back: the lower back over-extends",
    "back_arch": "the lower back hollowed as the leg rose",
    "trunk_shift": "the trunk moved: the hips or shoulders tipped while reaching",
}
CUES = {
    "arm_low": "Reach the arm out level with your back",
    "leg_low": "Push the heel back until the leg is level",
    "leg_high": "Leg no higher than your back",
    "back_arch": "Keep your back flat — don't arch",
    "trunk_shift": "Keep your trunk still — hips level",
}
SEVERITY = {"arm_low": "low", "leg_low": "low", "leg_high": "medium"}
MEASURES = (
    "arm_elevation_deg",
    "leg_elevation_deg",
    "trunk_tilt_deg",
    "back_bow_deg",
    "reach",
)
SIDES = ("left", "right")
SHOULDER = {"left": 11, "right": 12}
WRIST = {"left": 15, "right": 16}
HIP = {"left": 23, "right": 24}
ANKLE = {"left": 27, "right": 28}


def _deg(y: float, x: float) -> float:
    return float(np.degrees(np.arctan2(y, x)))


def frame_measures(landmarks: np.ndarray | None) -> dict[str, float]:
    """One frame: each side's arm and leg elevation, the trunk line's tilt from horizontal
    (+ shoulders higher) and which way the head points (+1 right, -1 left); NaN without pose."""
    names = [f"{limb}_{s}" for limb in ("arm", "leg") for s in SIDES] + ["trunk_tilt", "head"]
    if landmarks is None:
        return dict.fromkeys(names, float("nan"))
    lm = landmarks[:, :2]
    hip, shoulder = lm[[23, 24]].mean(0), lm[[11, 12]].mean(0)
    axis = shoulder - hip
    length = float(np.linalg.norm(axis))
    if length < 1:
        return dict.fromkeys(names, float("nan"))
    u = axis / length
    n = np.array([u[1], -u[0]]) if u[0] >= 0 else np.array([-u[1], u[0]])  # away from floor
    if n[1] > 0:
        n = -n
    out = {}
    for s in SIDES:
        a = lm[WRIST[s]] - lm[SHOULDER[s]]
        leg = lm[ANKLE[s]] - lm[HIP[s]]
        out[f"arm_{s}"] = _deg(a @ n, a @ u)
        out[f"leg_{s}"] = _deg(leg @ n, -(leg @ u))
    out["trunk_tilt"] = _deg(-axis[1], abs(axis[0]))
    out["head"] = 1.0 if axis[0] >= 0 else -1.0
    return out


def reach_of(m: dict[str, np.ndarray], rules: dict) -> np.ndarray:
    """0 on hands and knees, 1 with the higher arm and the higher leg level with the trunk."""
    arm = np.fmax(m["arm_left"], m["arm_right"])
    leg = np.fmax(m["leg_left"], m["leg_right"])
    arm_f = (arm - rules["start_arm_deg"]) / (0.0 - rules["start_arm_deg"])
    leg_f = (leg - rules["start_leg_deg"]) / (0.0 - rules["start_leg_deg"])
    return np.clip(0.5 * (arm_f + leg_f), -0.5, 1.5)


def _rep_rules(rules: dict) -> RepRules:
    return RepRules(
        enter_bottom=rules["enter"], lockout=rules["lockout"], min_peak=rules["min_peak"]
    )


@dataclass
class SidedFinding:
    code: str
    severity: str
    start_s: float
    end_s: float
    message: str

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "severity": self.severity,
            "start_s": round(self.start_s, 2),
            "end_s": round(self.end_s, 2),
            "message": self.message,
        }


@dataclass
class SidedRep:
    """A rep of a sided exercise, with its measures named for what they are."""

    index: int
    start_s: float
    end_s: float
    side: str | None
    measures: dict[str, float | None] = field(default_factory=dict)
    findings: list[SidedFinding] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "index": self.index,
            "start_s": round(self.start_s, 2),
            "end_s": round(self.end_s, 2),
            "side": self.side,
            **{k: None if v is None else round(float(v), 1) for k, v in self.measures.items()},
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass
class SidedResult:
    """What a sided-reps exercise gives the report: per-frame measures and the reps."""

    measures: dict[str, np.ndarray]
    reps: list[SidedRep]

    def reps_by_side(self) -> dict[str, int]:
        return {s: sum(r.side == s for r in self.reps) for s in SIDES}


def _finite_median(v: np.ndarray) -> float | None:
    v = v[np.isfinite(v)]
    return float(np.median(v)) if v.size else None


def _reference(v: np.ndarray) -> np.ndarray:
    """The median of `v` as a 0-d array (NaN when it has no finite value)."""
    med = _finite_median(v)
    return np.array(np.nan if med is None else med)


def judge_rep(
    index: int, rep: Rep, m: dict[str, np.ndarray], times: np.ndarray, rules: dict
) -> SidedRep:
    """A rep's side, measures at the top and findings; `m` holds the clip's per-frame measures
    (with `reach`, `bow` and the start-position references `tilt0`, `bow0`)."""
    sel = (times >= rep.start_s) & (times <= rep.end_s)
    top = sel & np.isfinite(m["reach"]) & (m["reach"] >= rep.peak_depth - 0.1)
    legs = {s: _finite_median(m[f"leg_{s}"][top]) for s in SIDES}
    arms = {s: _finite_median(m[f"arm_{s}"][top]) for s in SIDES}
    side = max(SIDES, key=lambda s: -np.inf if legs[s] is None else legs[s])
    arm_side = max(SIDES, key=lambda s: -np.inf if arms[s] is None else arms[s])
    tilt = m["trunk_tilt"][sel] - m["tilt0"]
    tilt_change = float(np.nanmax(np.abs(tilt))) if np.isfinite(tilt).any() else None
    bow_top = _finite_median(m["bow"][top])
    bow_change = None if bow_top is None or not np.isfinite(m["bow0"]) else bow_top - m["bow0"]
    t_top = times[top]
    measures = {
        "arm_elevation_deg": arms[arm_side],
        "leg_elevation_deg": legs[side],
        "top_hold_s": float(t_top[-1] - t_top[0]) if t_top.size else 0.0,
        "trunk_tilt_change_deg": tilt_change,
        "back_bow_change_deg": bow_change,
    }
    checks = (
        ("arm_low", arms[arm_side] is not None and arms[arm_side] < rules["min_reach_deg"]),
        ("leg_low", legs[side] is not None and legs[side] < rules["min_reach_deg"]),
        ("leg_high", legs[side] is not None and legs[side] > rules["max_leg_high_deg"]),
        ("back_arch", bow_change is not None and bow_change < -rules["max_arch_deg"]),
        ("trunk_shift", tilt_change is not None and tilt_change > rules["max_tilt_change_deg"]),
    )
    findings = [
        SidedFinding(
            code,
            SEVERITY.get(code, "medium"),
            rep.start_s,
            rep.end_s,
            f"Rep {index} ({side} leg): {FINDINGS[code]}.",
        )
        for code, hit in checks
        if hit
    ]
    return SidedRep(index, rep.start_s, rep.end_s, side, measures, findings)


def _bows(frames: list, heads: np.ndarray) -> np.ndarray:
    """The back's bow per frame, traced on the side the head points to (the back is up)."""
    out = []
    for f, h in zip(frames, heads, strict=True):
        backs = getattr(f, "backs", None) or {}
        back = backs.get(int(h)) if np.isfinite(h) else None
        out.append(np.nan if back is None or back.back_bend is None else back.back_bend)
    return np.array(out, dtype=float)


def clip_measures(frames: list, times: np.ndarray, rules: dict) -> dict[str, np.ndarray]:
    """Every frame's measures (median-filtered), the reach, and the start-position references."""
    rows = [frame_measures(getattr(f, "landmarks", None)) for f in frames]
    m = (
        {k: median_filter(np.array([r[k] for r in rows], float), 7) for k in rows[0]}
        if rows
        else {}
    )
    if not rows:
        return {}
    m["bow"] = median_filter(_bows(frames, np.array([r["head"] for r in rows])), 7)
    m["reach"] = reach_of(m, rules)
    start = np.isfinite(m["reach"]) & (m["reach"] < rules["lockout"])
    m["tilt0"] = _reference(m["trunk_tilt"][start])
    m["bow0"] = _reference(m["bow"][start])
    return m


def analyse(frames: list[ExerciseFrame], times: np.ndarray, rules: dict | None = None):
    """Reps per side, reach and trunk stillness of a bird-dog clip (see the module docstring)."""
    rules = {**RULES, **(rules or {})}
    m = clip_measures(frames, times, rules)
    if not m:
        return SidedResult({}, [])
    reps = segment_reps(times, m["reach"], _rep_rules(rules))
    judged = [judge_rep(i + 1, r, m, times, rules) for i, r in enumerate(reps)]
    arm = np.fmax(m["arm_left"], m["arm_right"])
    leg = np.fmax(m["leg_left"], m["leg_right"])
    per_frame = {
        "arm_elevation_deg": arm,
        "leg_elevation_deg": leg,
        "trunk_tilt_deg": m["trunk_tilt"],
        "back_bow_deg": m["bow"],
        "reach": m["reach"],
    }
    return SidedResult(per_frame, judged)


@dataclass(frozen=True)
class RepCue:
    code: str
    text: str
    severity: str
    urgent: bool = False


class SidedStream:
    """Bird dog frame by frame (live): the same measures, a causal median, the lifts' rep
    counter on the reach; when a rep ends, the same `judge_rep` over its frames, its first
    finding as a cue (or "Good rep, left leg"), and the count per side."""

    def __init__(self, rules: dict | None = None, buffer_s: float = 30.0) -> None:
        self.rules = {**RULES, **(rules or {})}
        self.counter = RepCounter(_rep_rules(self.rules))
        self.buffer_s = buffer_s
        self._rows: list[tuple[float, dict[str, float], float]] = []
        self.reps: list[SidedRep] = []
        self.value: float | None = None

    state_key = "sided"  # where a live frame carries `state()`
    reads_back = True  # the live session traces the back outline for it

    @property
    def phase(self) -> str:
        return self.counter.phase

    @property
    def count(self) -> int:
        return len(self.reps)

    def state(self) -> dict:
        """The running state for a live client: reps per side and the reach now."""
        return {
            "reps": len(self.reps),
            **SidedResult({}, self.reps).reps_by_side(),
            "reach": None if self.value is None else round(self.value, 2),
        }

    def summary(self) -> dict:
        """The session's reps, for the end-of-session record."""
        return {
            "reps": [r.to_dict() for r in self.reps],
            "rep_count": len(self.reps),
            "reps_by_side": SidedResult({}, self.reps).reps_by_side(),
        }

    def update(self, t: float, frame: ExerciseFrame) -> list[RepCue]:
        """One frame; the cues it brings (a rep's finding or its count when it ends)."""
        row = frame_measures(frame.landmarks)
        bow = _bows([frame], np.array([row["head"]]))[0]
        self._rows = [r for r in self._rows if t - r[0] <= self.buffer_s] + [(t, row, bow)]
        recent = self._rows[-7:]
        now = {k: np.array(np.nanmedian([r[1][k] for r in recent])) for k in row}
        reach = float(reach_of(now, self.rules))
        self.value = reach if np.isfinite(reach) else None
        rep = self.counter.update(t, reach if np.isfinite(reach) else None)
        if rep is None:
            return []
        times = np.array([r[0] for r in self._rows])
        m = {k: median_filter(np.array([r[1][k] for r in self._rows]), 7) for k in row}
        m["bow"] = median_filter(np.array([r[2] for r in self._rows]), 7)
        m["reach"] = reach_of(m, self.rules)
        before = (times < rep.start_s) & (m["reach"] < self.rules["lockout"])
        m["tilt0"] = _reference(m["trunk_tilt"][before])
        m["bow0"] = _reference(m["bow"][before])
        judged = judge_rep(len(self.reps) + 1, rep, m, times, self.rules)
        self.reps.append(judged)
        if judged.findings:
            code = judged.findings[0].code
            return [RepCue(code, CUES[code], judged.findings[0].severity, urgent=True)]
        counts = SidedResult({}, self.reps).reps_by_side()
        return [
            RepCue(
                "rep_summary",
                f"Good rep, {judged.side} leg — {counts['left']} left, {counts['right']} right",
                "info",
            )
        ]

    def finish(self) -> list[RepCue]:
        counts = SidedResult({}, self.reps).reps_by_side()
        if not self.reps:
            return []
        text = f"{len(self.reps)} reps: {counts['left']} left, {counts['right']} right"
        return [RepCue("set_summary", text, "info")]


BIRD_DOG = register(
    Exercise(
        name="bird-dog",
        label="Bird dog",
        kind="sided reps",
        views=("side",),
        preferred_view="side",
        film_hint="Film from the side at floor or hip height, with your whole body from hands to "
        "feet in view.",
        measures=MEASURES,
        rules=RULES,
        findings=FINDINGS,
        cues=CUES,
        analyse=analyse,
        stream=lambda rules: SidedStream(rules),
    )
)
