"""Plank (front or forearm plank, filmed from the side): the hold, its body line and its faults.

In:  the clip's frames (`FrameAngles` with landmarks in pixels), their times, the entry's rules.
Out: `HoldResult`: per-frame measures (`body_line_deg`, `hip_sag_deg`, `head_drop_deg`), the
     holds found (start, end, time held, time held in good form, findings), for the report.

Body line: the angle at the hip between hip->shoulder and hip->ankle, 180 when straight.
`hip_sag_deg` is 180 minus that angle, signed: positive when the hips are below the
shoulder-ankle line (toward the floor: the lower back over-extends), negative when above it
(pike). Simple checkers accept a shoulder-hip-ankle angle of about 160-190 deg; here a sag up to
`max_sag_deg` and a pike up to `max_pike_deg` are good form (a pike is the safer fault). The
head line is the same angle at the shoulder between ear and hip: `head_drop_deg` > 0 is the
head hanging below the line. A hold is a run of frames in the plank position (shoulders to
ankles near horizontal, knees straight, not kneeling) lasting at least `min_hold_s`; getting into and out of it is
not holding.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..reps import median_filter
from .registry import Exercise, register

RULES = {
    "max_sag_deg": 10.0,
    "max_pike_deg": 20.0,
    "max_head_drop_deg": 25.0,
    "max_body_tilt_deg": 35.0,  # shoulder-ankle line from horizontal, to count as in position
    "max_knee_bend_deg": 40.0,  # knees this bent (kneeling) is not the plank position
    "min_hold_s": 1.0,
    "max_gap_s": 0.5,  # frames out of position bridged inside a hold
    "min_fault_s": 1.0,  # a fault must last this long to break form
}
FINDINGS = {
    "hip_sag": "hips sagging below the shoulder-ankle line: the lower back over-extends",
    "hip_pike": "hips piked above the shoulder-ankle line",
    "head_drop": "head hanging below the line of the back",
}
CUES = {
    "hip_sag": "Hips up — keep a straight line",
    "hip_pike": "Lower your hips — straight line from shoulders to heels",
    "head_drop": "Look at the floor just ahead — head in line",
}
MEASURES = ("body_line_deg", "hip_sag_deg", "head_drop_deg")


@dataclass
class HoldFinding:
    code: str
    severity: str
    start_s: float
    end_s: float
    peak_deg: float
    message: str

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "severity": self.severity,
            "start_s": round(self.start_s, 2),
            "end_s": round(self.end_s, 2),
            "peak_deg": round(self.peak_deg, 1),
            "message": self.message,
        }


@dataclass
class Hold:
    index: int
    start_s: float
    end_s: float
    good_form_s: float
    side: str | None = None
    max_hip_sag_deg: float | None = None
    max_hip_pike_deg: float | None = None
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
            "max_hip_sag_deg": _r(self.max_hip_sag_deg),
            "max_hip_pike_deg": _r(self.max_hip_pike_deg),
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass
class HoldResult:
    """What a hold exercise's analysis gives the report: per-frame measures and the holds."""

    measures: dict[str, np.ndarray]
    holds: list[Hold]
    in_position: np.ndarray

    @property
    def held_s(self) -> float:
        return sum(h.held_s for h in self.holds)

    @property
    def good_form_s(self) -> float:
        return sum(h.good_form_s for h in self.holds)


def _r(v: float | None) -> float | None:
    return None if v is None or not np.isfinite(v) else round(float(v), 1)


def _mid(lm: np.ndarray, a: int, b: int) -> np.ndarray:
    return lm[[a, b], :2].mean(0)


def _signed_bend(a: np.ndarray, joint: np.ndarray, b: np.ndarray) -> float:
    """180 minus the angle a-joint-b, positive when `joint` lies below (image y down) the line
    a->b."""
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


def frame_measures(landmarks: np.ndarray | None) -> tuple[float, float, float]:
    """(hip_sag_deg, head_drop_deg, body tilt from horizontal) of one frame; NaN without pose."""
    if landmarks is None:
        return (float("nan"),) * 3
    lm = landmarks
    shoulder, hip, ankle = _mid(lm, 11, 12), _mid(lm, 23, 24), _mid(lm, 27, 28)
    ear = _mid(lm, 7, 8)
    sag = _signed_bend(shoulder, hip, ankle)
    head = _signed_bend(ear, shoulder, hip)
    line = ankle - shoulder
    tilt = float(np.degrees(np.arctan2(abs(line[1]), abs(line[0]) + 1e-6)))
    return sag, head, tilt


def knee_bend(landmarks: np.ndarray | None) -> float:
    """How far the knees bend from straight (degrees, 0 = straight); NaN without pose."""
    if landmarks is None:
        return float("nan")
    lm = landmarks
    return abs(_signed_bend(_mid(lm, 23, 24), _mid(lm, 25, 26), _mid(lm, 27, 28)))


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) index runs where mask is True."""
    out, start = [], None
    for i, m in enumerate([*mask, False]):
        if m and start is None:
            start = i
        elif not m and start is not None:
            out.append((start, i))
            start = None
    return out


def _bridge(mask: np.ndarray, times: np.ndarray, max_gap_s: float) -> np.ndarray:
    """Fill False gaps shorter than max_gap_s between True runs."""
    out = mask.copy()
    runs = _runs(mask)
    for (_, a_end), (b_start, _) in zip(runs, runs[1:], strict=False):
        if times[b_start] - times[a_end - 1] <= max_gap_s:
            out[a_end:b_start] = True
    return out


def _dt(times: np.ndarray) -> np.ndarray:
    if len(times) < 2:
        return np.zeros(len(times))
    step = float(np.median(np.diff(times)))
    return np.append(np.diff(times), step)


def _faults(
    code: str, bad: np.ndarray, values: np.ndarray, times: np.ndarray, limit: float, rules: dict
) -> list[HoldFinding]:
    out = []
    for a, b in _runs(_bridge(bad, times, 0.3)):
        if times[b - 1] - times[a] + _dt(times)[b - 1] < rules["min_fault_s"]:
            continue
        peak = float(np.nanmax(np.abs(values[a:b])))
        severity = "high" if peak >= 2 * limit else "medium"
        what = {"hip_sag": "hips sagging", "hip_pike": "hips piking", "head_drop": "head dropping"}
        out.append(
            HoldFinding(
                code,
                severity,
                float(times[a]),
                float(times[b - 1]),
                peak,
                f"Form broke at {times[a]:.0f} s: {what[code]} (up to {peak:.0f} deg).",
            )
        )
    return out


def analyse(frames: list, times: np.ndarray, rules: dict | None = None) -> HoldResult:
    """Holds and body-line measures of a plank clip (see the module docstring)."""
    rules = {**RULES, **(rules or {})}
    measured = np.array([frame_measures(getattr(f, "landmarks", None)) for f in frames])
    if len(measured) == 0:
        measured = np.zeros((0, 3))
    sag, head, tilt = (median_filter(measured[:, k], 7) for k in range(3))
    knees = median_filter(np.array([knee_bend(getattr(f, "landmarks", None)) for f in frames]), 7)
    ok = np.isfinite(sag) & np.isfinite(tilt)
    straight = ~(np.isfinite(knees) & (knees > rules["max_knee_bend_deg"]))
    in_position = ok & (tilt <= rules["max_body_tilt_deg"]) & straight
    in_position = _bridge(in_position, times, rules["max_gap_s"])
    dt = _dt(times)
    holds: list[Hold] = []
    for a, b in _runs(in_position):
        if times[b - 1] - times[a] + dt[b - 1] < rules["min_hold_s"]:
            continue
        s, h = sag[a:b], head[a:b]
        t = times[a:b]
        sagging = np.isfinite(s) & (s > rules["max_sag_deg"])
        piking = np.isfinite(s) & (s < -rules["max_pike_deg"])
        drop = np.isfinite(h) & (h > rules["max_head_drop_deg"])
        good = np.isfinite(s) & ~sagging & ~piking
        findings = [
            *_faults("hip_sag", sagging, s, t, rules["max_sag_deg"], rules),
            *_faults("hip_pike", piking, s, t, rules["max_pike_deg"], rules),
            *_faults("head_drop", drop, h, t, rules["max_head_drop_deg"], rules),
        ]
        findings.sort(key=lambda f: f.start_s)
        holds.append(
            Hold(
                index=len(holds) + 1,
                start_s=float(times[a]),
                end_s=float(times[b - 1] + dt[b - 1]),
                good_form_s=float(dt[a:b][good].sum()),
                max_hip_sag_deg=float(max(0.0, np.nanmax(s))) if np.isfinite(s).any() else None,
                max_hip_pike_deg=float(max(0.0, -np.nanmin(s))) if np.isfinite(s).any() else None,
                findings=findings,
            )
        )
    return HoldResult(
        {"body_line_deg": 180.0 - np.abs(sag), "hip_sag_deg": sag, "head_drop_deg": head},
        holds,
        in_position,
    )


@dataclass(frozen=True)
class HoldCue:
    """What the live tracker wants said: a code, its text, severity and urgency."""

    code: str
    text: str
    severity: str
    urgent: bool = False


class HoldStream:
    """A plank frame by frame (live coaching): the same per-frame measures and rules as
    `analyse`, a causal median instead of a centred one, and cues as the hold goes: a fault
    once it has lasted `min_fault_s` (again only after the form came back), the time held every
    `say_every_s`, and a summary when the hold ends."""

    def __init__(self, rules: dict | None = None, say_every_s: float = 10.0) -> None:
        self.rules = {**RULES, **(rules or {})}
        self.say_every_s = say_every_s
        self._recent: list[tuple[float, float, float]] = []
        self._since: float | None = None  # in position since
        self._last_in: float | None = None
        self._last_t: float | None = None
        self._fault: tuple[str, float] | None = None
        self._said_fault = False
        self._said_s = 0.0
        self.holds: list[Hold] = []
        self.good_form_s = 0.0  # of the hold in progress
        self.findings: list[HoldFinding] = []
        self.sag: float | None = None

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

    def update(self, t: float, landmarks: np.ndarray | None) -> list[HoldCue]:
        """One frame; the cues it brings."""
        r = self.rules
        dt = 0.0 if self._last_t is None else max(0.0, t - self._last_t)
        self._recent = [*self._recent[-6:], (*frame_measures(landmarks), knee_bend(landmarks))]
        sag, _head, tilt, knees = (
            float(np.nanmedian(v)) if np.isfinite(v).any() else np.nan
            for v in np.array(self._recent).T
        )
        self.sag = None if not np.isfinite(sag) else sag
        cues: list[HoldCue] = []
        kneeling = np.isfinite(knees) and knees > r["max_knee_bend_deg"]
        if np.isfinite(tilt) and tilt <= r["max_body_tilt_deg"] and not kneeling:
            if self._since is None:
                self._since = t
            self._last_in = t
        elif self._last_in is not None and t - self._last_in > r["max_gap_s"]:
            cues += self._end_hold()
        self._last_t = t
        if self._since is None:
            return cues
        code = None
        if np.isfinite(sag) and sag > r["max_sag_deg"]:
            code = "hip_sag"
        elif np.isfinite(sag) and sag < -r["max_pike_deg"]:
            code = "hip_pike"
        if code is None and t > self._since:
            self.good_form_s += dt  # counted from the start of the position, as offline
        if not self.holding:
            return cues
        if code is None:
            self._fault, self._said_fault = None, False
        elif self._fault is None or self._fault[0] != code:
            self._fault, self._said_fault = (code, t), False
        elif not self._said_fault and t - self._fault[1] >= r["min_fault_s"]:
            self._said_fault = True
            self.findings.append(
                HoldFinding(
                    code,
                    "medium",
                    self._fault[1],
                    t,
                    abs(sag),
                    f"Form broke at {self._fault[1] - self._since:.0f} s: {FINDINGS[code]}.",
                )
            )
            cues.append(HoldCue(code, CUES[code], "medium", urgent=True))
        if self.held_s - self._said_s >= self.say_every_s:
            self._said_s += self.say_every_s
            cues.append(HoldCue("hold_time", f"{self._said_s:.0f} seconds", "info"))
        return cues

    def _end_hold(self) -> list[HoldCue]:
        cues = []
        if self.holding:
            hold = Hold(
                len(self.holds) + 1,
                self._since,
                self._last_in,
                self.good_form_s,
                findings=list(self.findings),
            )
            self.holds.append(hold)
            cues.append(
                HoldCue(
                    "hold_summary",
                    f"Held {hold.held_s:.0f} seconds, {hold.good_form_s:.0f} in good form",
                    "info",
                )
            )
        self._since = self._last_in = self._fault = None
        self._said_fault, self._said_s, self.good_form_s, self.findings = False, 0.0, 0.0, []
        return cues

    def finish(self) -> list[HoldCue]:
        """End of the session: the hold in progress ends now."""
        return self._end_hold()


PLANK = register(
    Exercise(
        name="plank",
        label="Plank",
        kind="hold",
        views=("side",),
        preferred_view="side",
        film_hint="Film from the side at floor or hip height, with your whole body from head to "
        "heels in view.",
        measures=MEASURES,
        rules=RULES,
        findings=FINDINGS,
        cues=CUES,
        analyse=analyse,
        stream=lambda rules: HoldStream(rules),
    )
)
