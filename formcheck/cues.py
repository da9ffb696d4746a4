"""Cue stage: what to tell the lifter, and when.

In:  candidate cues built from the live analysis (a rounding rep in progress, a finished rep's
     `RepAssessment`, the set's findings, camera-check problems) and the stream time.
Out: at most one `Cue` to deliver now (code, text, severity), chosen by `CuePolicy`:
     one cue at a time, a gap after each cue, safety first, and no nagging: a fault is said at
     most once per rep, so it comes back only if it persists into the next rep; camera problems
     are repeated only after a long pause.
The camera check (`camera_problems`) tells the lifter to turn side-on (or to face the camera,
for an exercise judged from the front), step back into view or add light before reps are
counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .assess import Finding, RepAssessment
from .pose import Pose
from .verdict import set_verdict
from .view import classify

# Priorities: lower goes first.
SAFETY, CAMERA, SUMMARY, INFO = 0, 1, 2, 3

TEXTS: dict[str, str] = {
    "rounding": "Flat back — push your hips back",
    "camera_light": "More light, please — the picture is too dark",
    "camera_no_person": "I can't see you — step into the picture",
    "camera_step_back": "Step back so your whole body is in view",
    "camera_side_on": "Turn side-on to the camera",
    "camera_face": "Face the camera for this exercise",
    "camera_ok": "Camera looks good. Stand tall for a moment",
    "neutral_set": "Got your neutral. Start when ready",
}
PRIORITY: dict[str, int] = {
    "rounding": SAFETY,
    "camera_light": CAMERA,
    "camera_no_person": CAMERA,
    "camera_step_back": CAMERA,
    "camera_side_on": CAMERA,
    "camera_face": CAMERA,
    "rep_summary": SUMMARY,
    "set_summary": SUMMARY,
    "camera_ok": INFO,
    "neutral_set": INFO,
}
FAULTS = frozenset({"rounding"})
CAMERA_CODES = (
    "camera_light",
    "camera_no_person",
    "camera_step_back",
    "camera_side_on",
    "camera_face",
)


@dataclass(frozen=True)
class Cue:
    """A message for the lifter. `rep` is the rep a fault cue is about (for no-nagging)."""

    code: str
    text: str
    severity: str  # high | medium | low | info
    rep: int | None = None
    # An exercise's own cue says how urgent it is (SAFETY .. INFO); else by code.
    level: int | None = None

    @property
    def priority(self) -> int:
        return self.level if self.level is not None else PRIORITY.get(self.code, INFO)

    def to_dict(self) -> dict:
        return {"code": self.code, "text": self.text, "severity": self.severity}


def make_cue(code: str, severity: str = "info", rep: int | None = None) -> Cue:
    """A cue with its standard text."""
    return Cue(code, TEXTS[code], severity, rep)


@dataclass
class CueTiming:
    """Gaps and lifetimes, in seconds of stream time."""

    gap_s: float = 2.0  # quiet time after any cue
    safety_gap_s: float = 1.0  # a safety cue may follow another cue sooner
    camera_repeat_s: float = 8.0  # the same camera problem is repeated at most this often
    info_repeat_s: float = 30.0
    max_wait_s: dict[int, float] = field(
        default_factory=lambda: {SAFETY: 1.0, CAMERA: 1.0, SUMMARY: 5.0, INFO: 3.0}
    )


class CuePolicy:
    """Chooses which cue to deliver. `offer` candidates, then `poll` once per frame."""

    def __init__(self, timing: CueTiming | None = None) -> None:
        self.timing = timing or CueTiming()
        self._pending: dict[str, tuple[float, Cue]] = {}
        self._last_t: float | None = None
        self._last_by_code: dict[str, float] = {}
        self._fault_reps: set[tuple[str, int | None]] = set()
        self.delivered: list[tuple[float, Cue]] = []

    def offer(self, cue: Cue, t: float) -> None:
        """Propose a cue at time t; it waits (briefly) for its turn or is dropped."""
        if not self._allowed(cue, t):
            return
        if cue.code not in self._pending:
            self._pending[cue.code] = (t, cue)
        else:  # keep when it was first offered, take the newest content
            self._pending[cue.code] = (self._pending[cue.code][0], cue)

    def withdraw(self, code: str) -> None:
        """Drop a waiting cue that no longer applies (a fault cue once its rep is over)."""
        self._pending.pop(code, None)

    def poll(self, t: float) -> Cue | None:
        """The cue to deliver at time t, or None (at most one per call)."""
        timing = self.timing
        for code, (t0, cue) in list(self._pending.items()):
            if t - t0 > timing.max_wait_s.get(cue.priority, 2.0) or not self._allowed(cue, t):
                del self._pending[code]
        if not self._pending:
            return None
        t0, cue = min(self._pending.values(), key=lambda item: (item[1].priority, item[0]))
        if self._last_t is not None:
            gap = timing.safety_gap_s if cue.priority == SAFETY else timing.gap_s
            if t - self._last_t < gap:
                return None
        del self._pending[cue.code]
        self._last_t = t
        self._last_by_code[cue.code] = t
        if cue.code in FAULTS:
            self._fault_reps.add((cue.code, cue.rep))
        self.delivered.append((t, cue))
        return cue

    def _allowed(self, cue: Cue, t: float) -> bool:
        """No nagging: faults once per rep, camera and info cues only after a pause."""
        if cue.code in FAULTS:
            return (cue.code, cue.rep) not in self._fault_reps
        last = self._last_by_code.get(cue.code)
        if last is None:
            return True
        if cue.code in CAMERA_CODES:
            return t - last >= self.timing.camera_repeat_s
        if cue.priority == INFO:
            return t - last >= self.timing.info_repeat_s
        return True


def rounding_cue(rep: int, severity: str) -> Cue:
    """The in-rep safety cue: the lower back is rounding now."""
    return make_cue("rounding", severity if severity in ("high", "medium") else "medium", rep)


# What a rep's cue says when its back was not judged, by reason (else "back not clear").
NOT_JUDGED_HINTS = {
    "oblique_view": "film side-on",
    "ambiguous": "too close to call",
    "outline_conflict": "a fitted top, please",
}


def rep_summary(a: RepAssessment) -> Cue:
    """'Rep 5: back rounded 18° at the bottom', or a short all-clear; 'probably' where the
    verdict's confidence is low."""
    n = a.rep.index
    likely = a.verdict.likely
    if a.rounding:
        if a.max_lumbar_flexion_deg is not None:
            text = f"Rep {n}: back {likely}rounded {a.max_lumbar_flexion_deg:.0f}° at the bottom"
        else:
            text = f"Rep {n}: back {likely}rounded at the bottom"
        severity = next((f.severity for f in a.findings if f.code == "lumbar_rounding"), "medium")
        return Cue("rep_summary", text, severity, n)
    if a.rounding is None:
        hint = NOT_JUDGED_HINTS.get(a.verdict.reason or "", "back not clear")
        return Cue("rep_summary", f"Rep {n}: not judged — {hint}", "low", n)
    return Cue("rep_summary", f"Rep {n}: {likely}flat back", "info", n)


def set_summary(reps: Sequence[RepAssessment], findings: Sequence[Finding] = ()) -> Cue:
    """End of set: rep count, rounded reps, worst rep, and when form broke down."""
    if not reps:
        return Cue("set_summary", "Set done: no reps counted", "info")
    n = len(reps)
    rounded = [a for a in reps if a.rounding]
    head = f"Set done: {n} rep{'s' if n != 1 else ''}"
    if not rounded:
        unjudged = sum(a.rounding is None for a in reps)
        if unjudged:
            return Cue(
                "set_summary", f"{head}, back not judged on {unjudged} — film side-on", "info"
            )
        likely = set_verdict([a.verdict for a in reps]).likely
        return Cue("set_summary", f"{head}, back {likely}flat on every rep", "info")
    parts = [f"{head}, {len(rounded)} with a rounded back"]
    peaks = [a for a in rounded if a.max_lumbar_flexion_deg is not None]
    if peaks:
        worst = max(peaks, key=lambda a: a.max_lumbar_flexion_deg or 0.0)
        parts.append(f"worst rep {worst.rep.index}, {worst.max_lumbar_flexion_deg:.0f}°")
    if any(f.code == "fatigue_rounding" for f in findings) and rounded:
        parts.append(f"rounding began at rep {rounded[0].rep.index}")
    severity = "high" if len(rounded) * 2 >= n else "medium"
    return Cue("set_summary", "; ".join(parts), severity)


@dataclass
class CameraRules:
    """Thresholds of the camera check."""

    # Mean grey level (0..255): below `dark`, light is blamed when the person is not found or
    # not fully seen; below `too_dark`, always.
    dark: float = 45.0
    too_dark: float = 12.0
    max_side_yaw_deg: float = 30.0
    margin: float = 0.02  # landmarks may sit this far (fraction of the frame) outside it
    min_visibility: float = 0.3


def brightness(image: np.ndarray) -> float:
    """Mean grey level (0..255) of an RGB or grey image, from a sparse sample of pixels."""
    sample = np.asarray(image)[::8, ::8]
    if sample.ndim == 3:
        sample = sample[..., :3] @ np.array([0.299, 0.587, 0.114])
    return float(sample.mean()) if sample.size else 0.0


def _best(pose: Pose, a: int, b: int) -> int:
    return a if pose.visibility[a] >= pose.visibility[b] else b


def whole_body_in_view(pose: Pose, rules: CameraRules | None = None) -> bool:
    """Head, hips and feet inside the frame and seen."""
    rules = rules or CameraRules()
    w, h = pose.image_size
    points = [0, _best(pose, 23, 24), _best(pose, 27, 28), _best(pose, 29, 30)]
    lo, hi = -rules.margin, 1.0 + rules.margin
    for i in points:
        x, y = pose.landmarks[i, 0] / w, pose.landmarks[i, 1] / h
        if not (lo <= x <= hi and lo <= y <= hi) or pose.visibility[i] < rules.min_visibility:
            return False
    return True


def camera_problems(
    pose: Pose | None,
    grey_level: float,
    yaw_deg: float | None,
    rules: CameraRules | None = None,
    views: tuple[str, ...] | None = None,
) -> list[str]:
    """Camera-check cue codes for one frame, most basic first (light, person, framing, angle).
    `views`: the views the exercise is judged from (None: a lift, filmed side-on); an exercise
    judged from the front only asks the person to face the camera."""
    rules = rules or CameraRules()
    out: list[str] = []
    in_view = pose is not None and whole_body_in_view(pose, rules)
    if grey_level < rules.too_dark or (grey_level < rules.dark and not in_view):
        out.append("camera_light")
    if pose is None:
        out.append("camera_no_person")
        return out
    if not in_view:
        out.append("camera_step_back")
    if yaw_deg is None or not np.isfinite(yaw_deg):
        return out
    if views is not None and "side" not in views:
        if classify(yaw_deg) not in views:
            out.append("camera_face")
    elif yaw_deg > rules.max_side_yaw_deg:
        out.append("camera_side_on")
    return out
