"""Live sessions: the offline pipeline's stages run frame by frame, with cues.

In:  RGB frames (or JPEG bytes) with their capture time in seconds, one at a time.
Out: per frame a `LiveFrame` (pose, normalised landmarks and back outline, angles, rep count and
     phase, at most one cue); at the end a set summary.

Same stages as `formcheck.pipeline`, in their streaming forms: the pose smoother, `ViewTracker`
(facing vote and yaw over recent frames), the back outline, raw angles, `OutlineSmoother` frame by
frame (offline smooths the whole clip zero-phase), `NeutralTracker` (neutral from the first
upright frames), `BendStream` learning its references, `RepCounter` fed with its signal,
and `assess_rep` on a bounded buffer of recent frames, both while a rep is in progress (the
rounding cue) and when it completes (the rep summary). `formcheck.cues` decides what is said.
`formcheck live --camera N | --source clip.mp4` runs a session from the command line
(`formcheck.live_cli`).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import cv2
import numpy as np

from . import cues as cue_mod
from . import exercises, posemodels
from .angles import ANGLE_NAMES, FrameAngles
from .assess import RepAssessment, RoundingRule, assess_rep, assess_set
from .errors import InputError
from .estimator import EstimatorConfig, PoseEstimator
from .exercises.registry import ExerciseFrame
from .frame_header import check_frame
from .kinematics import SMOOTHED_FIELDS, measure_frame, to_frame_angles
from .neutral import NeutralTracker
from .params import rounding_rule, spine_params
from .pose import Pose
from .reps import BendStream, Rep, RepCounter, RepRules
from .smoothing import OutlineSmoother, PoseSmoother
from .spine import SpineParams, measure_back
from .verdict import Viewing, set_verdict
from .view import ViewTracker, classify, frame_view


@dataclass
class LiveConfig:
    """What a live session needs to know; defaults match the offline analysis."""

    exercise: str = "auto"
    height_cm: float | None = None
    max_side: int = 640
    spine: SpineParams = field(default_factory=spine_params)
    rounding: RoundingRule = field(default_factory=rounding_rule)
    reps: RepRules = field(default_factory=RepRules)
    buffer_s: float = 30.0  # recent frames kept for rep assessment
    ready_s: float = 0.5  # the camera check must pass this long before reps count
    problem_s: float = 2.0  # after that, a camera problem must last this long to be cued
    set_end_s: float = 8.0  # standing this long after the last rep ends the set
    model: str = "auto"  # BlazePose model: lite | full | heavy | auto (posemodels.resolve)

    @property
    def mode(self) -> str:
        """The rep signal: the exercise's own, else a hinge's (the clip is not known ahead)."""
        if self.exercise == exercises.AUTO:
            return "hinge"
        return exercises.get(self.exercise).signal or "hinge"


@dataclass
class LiveFrame:
    """The answer for one frame."""

    t: float
    angles: FrameAngles
    image_size: tuple[int, int]
    rep_count: int
    phase: str
    cues: list[cue_mod.Cue]
    completed: RepAssessment | None = None
    # An exercise coach's state, under its key ("hold" for holds, "sided" for sided reps).
    coach: tuple[str, dict] | None = None

    def to_dict(self) -> dict:
        """The JSON sent to live clients (coordinates normalised to the frame, 0..1)."""
        a = self.angles
        w, h = self.image_size
        landmarks: list = []
        if a.landmarks is not None:
            landmarks = [
                [round(float(x) / w, 4), round(float(y) / h, 4), round(float(v), 2)]
                for x, y, v in a.landmarks
            ]
        outline: list = []
        if a.back_outline is not None:
            outline = [[round(float(x) / w, 4), round(float(y) / h, 4)] for x, y in a.back_outline]
        return {
            "t": round(self.t, 4),
            "pose": bool(a.pose),
            "landmarks": landmarks,
            "back_outline": outline,
            "angles": {n: _round(a.value(n)) for n in ANGLE_NAMES},
            "rep": {"count": self.rep_count, "phase": self.phase},
            "cues": [c.to_dict() for c in self.cues],
            **(dict([self.coach]) if self.coach is not None else {}),
        }


def _round(v: float | None) -> float | None:
    return None if v is None or not math.isfinite(v) else round(float(v), 1)


class LiveSession:
    """One lifter's live stream. Not thread-safe: call `process` from one thread at a time."""

    def __init__(self, config: LiveConfig | None = None, estimator=None) -> None:
        self.config = config or LiveConfig()
        if self.config.exercise not in exercises.live_choices():
            raise InputError(
                f"live coaching is not available for {self.config.exercise!r}; record the set "
                "and analyse the video instead"
            )
        entry = (
            None if self.config.exercise == exercises.AUTO else exercises.get(self.config.exercise)
        )
        # An exercise's own coach (a hold timer, a sided-rep counter) replaces the rep stages.
        self.coach = entry.stream(dict(entry.rules)) if entry and entry.stream else None
        self.views = entry.views if entry else None
        self.estimator = estimator or PoseEstimator(
            EstimatorConfig(
                max_side=self.config.max_side, model=posemodels.resolve(self.config.model, "live")
            )
        )
        self.smoother = PoseSmoother()
        self.view = ViewTracker(facing_window=90, yaw_window=15)
        self.outline = OutlineSmoother(SMOOTHED_FIELDS)
        self.neutral = NeutralTracker()
        self.bend = BendStream(self.config.mode)
        self.counter = RepCounter(self.config.reps)
        self.policy = cue_mod.CuePolicy()
        self.assessments: list[RepAssessment] = []
        self._buffer: deque[tuple[FrameAngles, float]] = deque()
        self._ok_since: float | None = None
        self._problem_since: dict[str, float] = {}
        self.ready = False
        self._said_neutral = False
        self._rep_start: float | None = None
        self._peak = (-math.inf, 0.0)
        self._flagged_rep = 0
        self._set_start = 0  # index into `assessments` where the current set begins
        self._last_rep_end: float | None = None
        self.frames = 0
        self._last_t: float | None = None
        self._yaw: float | None = None

    # -- per frame -------------------------------------------------------------------------
    def process_jpeg(self, data: bytes, t: float) -> LiveFrame:
        """Decode a JPEG (or WebP) frame and process it; InputError if it is not one."""
        image = decode_image(data)
        return self.process(image, t)

    def process(self, image: np.ndarray, t: float) -> LiveFrame:
        """Run every stage on one RGB frame taken at time t (seconds, increasing)."""
        cfg = self.config
        if self._last_t is not None and t <= self._last_t:
            t = self._last_t + 1e-3  # keep time moving forward (repeated or late timestamps)
        self._last_t = t
        self.frames += 1
        h, w = image.shape[:2]
        pose, bridged = self.smoother.update(t, self.estimator(image))
        if pose is not None:
            self.view.update(frame_view(pose))
        facing = self.view.sign
        back = measure_back(pose, facing, cfg.spine) if pose is not None else None
        upright = self.coach is None  # exercises on the floor keep shoulders below the hips
        raw = self.outline(measure_frame(t, pose, back, facing, upright=upright))
        raw.bridged = bridged
        yaw = self.view.yaw
        spine_ok = yaw is not None and classify(yaw) == "side"
        self._yaw = yaw
        if self.ready:
            self.neutral.update(raw)
        angles = to_frame_angles(
            raw,
            self.neutral.neutral,
            spine_ok=spine_ok,
            lumbar_gain=cfg.spine.lumbar_gain,
            thoracic_gain=cfg.spine.thoracic_gain,
        )
        angles.side = "right" if facing > 0 else "left"
        signal = self.bend.update(raw)
        self._camera_check(t, pose, image, yaw)
        completed = None
        if self.ready and self.coach is not None:
            for c in self.coach.update(t, self._coach_frame(t, pose, angles, back, facing)):
                level = cue_mod.SAFETY if c.urgent else cue_mod.SUMMARY
                self.policy.offer(cue_mod.Cue(c.code, c.text, c.severity, level=level), t)
        elif self.ready:
            completed = self._reps(t, angles, signal)
        cue = self.policy.poll(t)
        phase = self.counter.phase if self.coach is None else self.coach.phase
        return LiveFrame(
            t,
            angles,
            (w, h),
            self.counter.count if self.coach is None else self.coach.count,
            phase,
            [cue] if cue else [],
            completed,
            (self.coach.state_key, self.coach.state()) if self.coach is not None else None,
        )

    def _coach_frame(
        self, t: float, pose: Pose | None, angles: FrameAngles, back, facing: int
    ) -> ExerciseFrame:
        """The frame as an exercise coach reads it: landmarks, and the back outline for both
        facings when the coach reads the back (`back`, already traced for `facing`, is reused)."""
        if pose is None:
            return ExerciseFrame(t, angles=angles)
        backs = None
        if getattr(self.coach, "reads_back", False):
            backs = {facing: back, -facing: measure_back(pose, -facing, self.config.spine)}
        return ExerciseFrame(t, pose.landmarks, backs, pose.world, angles)

    def _camera_check(self, t: float, pose: Pose | None, image: np.ndarray, yaw: float | None):
        problems = cue_mod.camera_problems(pose, cue_mod.brightness(image), yaw, views=self.views)
        for code in list(self._problem_since):
            if code not in problems:
                del self._problem_since[code]
        for code in problems:
            self._problem_since.setdefault(code, t)
        if not self.ready:
            if problems:
                self._ok_since = None
                self.policy.offer(cue_mod.make_cue(problems[0], "medium"), t)
            elif self._ok_since is None:
                self._ok_since = t
            elif t - self._ok_since >= self.config.ready_s:
                self.ready = True
                cue = cue_mod.make_cue("camera_ok")
                if self.coach is not None:  # on the floor, not standing tall
                    cue = cue_mod.Cue("camera_ok", "Camera looks good. Get into position", "info")
                self.policy.offer(cue, t)
            return
        standing = self.counter.phase in ("setup", "lockout")
        for code in problems:
            if standing and t - self._problem_since[code] >= self.config.problem_s:
                self.policy.offer(cue_mod.make_cue(code, "medium"), t)
                break

    def _reps(self, t: float, angles: FrameAngles, signal: float | None) -> RepAssessment | None:
        cfg = self.config
        calibrated = self.neutral.calibrated
        self._buffer.append((angles, np.nan if signal is None else signal))
        while self._buffer and t - self._buffer[0][0].t > cfg.buffer_s:
            self._buffer.popleft()
        if calibrated and not self._said_neutral:
            self._said_neutral = True
            self.policy.offer(cue_mod.make_cue("neutral_set"), t)
        rep = self.counter.update(t, signal)
        if signal is not None and signal < cfg.reps.lockout:
            self._rep_start, self._peak = t, (-math.inf, t)
        elif signal is not None and signal > self._peak[0]:
            self._peak = (signal, t)
        if rep is not None:
            self.policy.withdraw("rounding")  # too late to say it now: the summary will
            assessment = self._assess(rep)
            self.assessments.append(assessment)
            self._last_rep_end = t
            self.policy.offer(cue_mod.rep_summary(assessment), t)
            if assessment.rounding:
                self._flagged_rep = max(self._flagged_rep, rep.index)
            return assessment
        self._check_rounding(t, signal)
        self._check_set_end(t)
        return None

    def _check_rounding(self, t: float, signal: float | None) -> None:
        """While a rep is in progress, the same rule as the rep assessment on its frames so far."""
        cfg = self.config
        index = self.counter.count + 1
        if (
            signal is None
            or self._rep_start is None
            or self._flagged_rep >= index
            or signal < cfg.rounding.loaded_depth
            or self._peak[0] < cfg.reps.enter_bottom
        ):
            return
        rep = Rep(index, self._rep_start, self._peak[1], t, self._peak[0])
        assessment = self._assess(rep, since=self._rep_start)
        if assessment.rounding:
            self._flagged_rep = index
            finding = next((f for f in assessment.findings if f.code == "lumbar_rounding"), None)
            self.policy.offer(
                cue_mod.rounding_cue(index, finding.severity if finding else "medium"), t
            )

    def _assess(self, rep: Rep, since: float | None = None) -> RepAssessment:
        start = rep.start_s if since is None else since
        recent = [(f, d) for f, d in self._buffer if f.t >= start - 0.5]
        frames = [f for f, _ in recent]
        depth = np.array([d for _, d in recent], dtype=float)
        return assess_rep(
            rep, frames, depth, self.config.rounding, self.viewing(), whole_clip=False
        )

    def viewing(self) -> Viewing:
        """What the camera sees so far: the view from the recent yaw and which way it is turned,
        the standing bow."""
        yaw = self._yaw if self._yaw is not None else 90.0
        neutral = self.neutral.neutral
        return Viewing(classify(yaw), yaw, neutral.back_bend, self.view.turned)

    def _check_set_end(self, t: float) -> None:
        end = self._last_rep_end
        if (
            end is not None
            and len(self.assessments) > self._set_start
            and self.counter.phase == "lockout"
            and t - end >= self.config.set_end_s
        ):
            self.policy.offer(self._close_set(), t)

    def _close_set(self) -> cue_mod.Cue:
        reps = self.assessments[self._set_start :]
        self._set_start = len(self.assessments)
        return cue_mod.set_summary(reps, assess_set(reps))

    # -- end -------------------------------------------------------------------------------
    def finish(self) -> dict:
        """End the session: the set summary cue (if reps are left unsummarised) and every rep."""
        if self.coach is not None:
            ends = self.coach.finish()
            return {
                **self.coach.summary(),
                "cues": [{"code": c.code, "text": c.text, "severity": c.severity} for c in ends],
                "neutral": self.neutral.neutral.to_dict(),
            }
        cue = self._close_set() if len(self.assessments) > self._set_start else None
        verdict = set_verdict([a.verdict for a in self.assessments])
        return {
            "reps": [rep_record(a) for a in self.assessments],
            "rep_count": len(self.assessments),
            "rounded_reps": sum(1 for a in self.assessments if a.rounding),
            "judged_reps": sum(1 for a in self.assessments if a.rounding is not None),
            "rounding": verdict.rounding,
            **verdict.to_dict(),
            "cues": [cue.to_dict()] if cue else [],
            "neutral": self.neutral.neutral.to_dict(),
        }

    def close(self) -> None:
        close = getattr(self.estimator, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> LiveSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def rep_record(a: RepAssessment) -> dict:
    """A short JSON record of one assessed rep."""
    return {
        "index": a.rep.index,
        "start_s": round(a.rep.start_s, 3),
        "end_s": round(a.rep.end_s, 3),
        "rounding": a.rounding,
        **a.verdict.to_dict(),
        "max_lumbar_flexion_deg": _round(a.max_lumbar_flexion_deg) if a.verdict.measured else None,
        "max_hip_flexion_deg": _round(a.max_hip_flexion_deg),
    }


def decode_image(data: bytes) -> np.ndarray:
    """JPEG/WebP bytes to an RGB array; InputError when they are not a readable image of an
    acceptable size (checked from the header, before decoding: see `frame_header`)."""
    check_frame(data)
    bgr = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if bgr is None or bgr.size == 0:
        raise InputError("the frame is not a readable JPEG image")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
