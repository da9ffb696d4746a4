"""The offline pipeline: a video file in, a report out.

frames (video) -> poses (estimator) -> smoothing -> view -> back shape (spine) -> raw angles
(kinematics) -> neutral -> angles -> depth -> reps -> findings (assess) -> report / overlay.

`analyze_video` is the one call the CLI and the server use. Live sessions run the same stages
frame by frame (see `formcheck.live`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from . import exercises
from . import report as report_mod
from .angles import FrameAngles
from .assess import RepAssessment, assess_rep, assess_set
from .errors import CrowdError, FormcheckError, NoPersonError, ViewError
from .exercises.lifts import detect_exercise
from .exercises.registry import ExerciseFrame
from .kinematics import SMOOTHED_FIELDS, measure_frame, moment_arm, to_frame_angles
from .neutral import Neutral, estimate_neutral, stature_px
from .options import AnalysisOptions
from .parallel import trim_heap
from .passone import Observation, PassOne, Progress, observe_video
from .posemodels import missing_retry, resolve, retry_model
from .reps import (
    Rep,
    bend_mode,
    clip_bend_signal,
    frame_phases,
    partial_bends,
    segment_reps,
)
from .smoothing import OutlineSmoother
from .verdict import Viewing
from .video import VideoInfo, probe
from .view import ViewEstimate, estimate_view
from .writers import WRITERS, Written, write_outputs

log = logging.getLogger(__name__)
MIN_POSE_FRACTION = 0.2
# Two people of comparable size in more than this share of the checked frames: the clip is
# refused, since one track and one mask cannot be kept on one lifter.
CROWDED_FRACTION = 0.5
MIN_CROWD_CHECKS = 3
# A clip whose set was not judged because the back was not traced is read again with the
# retry model (`posemodels.retry_model`) up to this length: Heavy takes about three times as
# long as Full.
RETRY_MAX_S = 180.0


@dataclass
class Analysis:
    info: VideoInfo
    view: ViewEstimate
    neutral: Neutral
    frames: list[FrameAngles]
    depth: np.ndarray
    phases: list[str]
    reps: list[RepAssessment]
    set_findings: list
    exercise: str
    ssi: float | None
    body_height_px: float | None
    height_cm: float | None
    # Frames that had pose inference; the others were interpolated between them.
    pose_frames: int | None = None
    # Bends as deep as a rep that made no rep (lowering only, a clip cut mid-rep): judged too.
    partials: list[RepAssessment] = field(default_factory=list)
    # An exercise module's own result (its `analyse`: per-frame `measures` and `holds` for a
    # hold, or `reps` for sided reps), else None (lifts).
    own: object | None = None
    # What the analysis noticed about the clip that the summary should say (e.g. "name it").
    notes: list[str] = field(default_factory=list)
    # The BlazePose model that read the clip: lite | full | heavy.
    pose_model: str = "full"

    @property
    def judged_parts(self) -> int:
        """Reps and bends whose back was judged."""
        return sum(a.verdict.state != "not_judged" for a in [*self.reps, *self.partials])

    def improves_on(self, first: Analysis) -> bool:
        """This reading of a clip (another pose model's) is kept over `first`: it judged more
        reps and bends."""
        return self.judged_parts > first.judged_parts

    def wants_retry(self) -> bool:
        """The set was not judged because the back's outline was not traced, and the clip is
        short enough to read again with another pose model."""
        return (
            self.info.duration_s <= RETRY_MAX_S
            and report_mod.clip_verdict(self).reason == "back_not_traced"
        )


def analyze_observations(
    info: VideoInfo, obs: list[Observation], opts: AnalysisOptions
) -> Analysis:
    """Everything after pass one: view, raw angles, neutral, angles, reps, findings."""
    with_pose = [o for o in obs if o.pose is not None]
    named = None if opts.exercise == exercises.AUTO else exercises.get(opts.exercise)
    if len(with_pose) < max(3, MIN_POSE_FRACTION * len(obs)):
        raise NoPersonError(
            f"{Path(info.path).name}: no person found in {len(obs) - len(with_pose)} of {len(obs)} "
            f"frames. {exercises.film_hint(named)} Film in good light and try again."
        )
    checked = [o.people for o in obs if o.people is not None]
    crowded = sum(1 for n in checked if n >= 2)
    if len(checked) >= MIN_CROWD_CHECKS and crowded > CROWDED_FRACTION * len(checked):
        raise CrowdError(
            f"{Path(info.path).name}: more than one person is in view for most of the clip "
            f"({crowded} of {len(checked)} checked frames); formcheck follows one lifter. Film "
            "one person at a time, or crop the video to the lifter, and try again."
        )
    view = estimate_view([o.view for o in with_pose if o.view is not None])
    refusal = exercises.view_refusal(named, view.kind, view.yaw_deg)
    if refusal:
        raise ViewError(f"{Path(info.path).name}: {refusal}")
    facing = view.facing_sign
    upright = not (named and named.analyse)  # exercises on the floor: shoulders below hips
    raws = [measure_frame(o.t, o.pose, o.backs.get(facing), facing, upright) for o in obs]
    OutlineSmoother(SMOOTHED_FIELDS).smooth_clip(raws)
    neutral = estimate_neutral(raws)
    spine_ok = view.kind == "side"
    p = opts.spine
    frames = [
        to_frame_angles(
            r, neutral, spine_ok=spine_ok, lumbar_gain=p.lumbar_gain, thoracic_gain=p.thoracic_gain
        )
        for r in raws
    ]
    for f in frames:
        f.side = view.facing
    leans = np.array([np.nan if r.trunk_incl is None else r.trunk_incl for r in raws])
    depth = clip_bend_signal(raws, named.signal if named and named.signal else bend_mode(leans))
    stature = stature_px(raws)
    times = np.array([f.t for f in frames])
    # An exercise module of its own reads the poses and outlines itself.
    poses = [o.pose for o in obs]
    own = None
    if named and named.analyse:
        inputs = [
            ExerciseFrame(o.t, o.pose.landmarks, o.backs, o.pose.world, f)
            if o.pose is not None
            else ExerciseFrame(o.t, angles=f)
            for o, f in zip(obs, frames, strict=True)
        ]
        own = named.analyse(inputs, times, dict(named.rules))
    # The lifts' reps come from the bend signal; an exercise with its own analysis has its own.
    reps: list[Rep] = [] if own is not None else segment_reps(times, depth, opts.reps)
    partials = [] if own is not None else partial_bends(times, depth, reps, opts.reps)
    viewing = Viewing(view.kind, view.yaw_deg, neutral.back_bend, view.turned)
    assessed = [assess_rep(r, frames, depth, opts.rounding, viewing) for r in reps]
    bends = [assess_rep(r, frames, depth, opts.rounding, viewing) for r in partials]
    bottoms = [frames[int(np.argmin(np.abs(times - r.bottom_s)))] for r in reps]
    exercise, ssi = detect_exercise(bottoms)
    if opts.exercise != "auto":
        exercise = opts.exercise
    for a, b in zip(assessed, bottoms, strict=True):
        a.moment_arm = moment_arm(b, stature, opts.height_cm)
    return Analysis(
        info=info,
        view=view,
        neutral=neutral,
        frames=frames,
        depth=depth,
        phases=frame_phases(times, depth, reps, partials),
        reps=assessed,
        partials=bends,
        set_findings=assess_set(assessed),
        exercise=exercise,
        ssi=ssi,
        body_height_px=stature,
        height_cm=opts.height_cm,
        pose_frames=sum(1 for o in obs if o.key),
        own=own,
        notes=_exercise_hints(named, reps, poses, times),
        pose_model=resolve(opts.model, "offline"),
    )


def _exercise_hints(named, reps: list[Rep], frames: list, times) -> list[str]:
    """A clip analysed as a lift (auto) that made no rep but is mostly a hold: say which
    exercise to name. Holds are not recognised automatically (a plank must be named)."""
    if named is not None or reps:
        return []
    found = exercises.get("plank").analyse(frames, times)
    held = sum(h.held_s for h in found.holds)
    duration = float(times[-1] - times[0]) if len(times) > 1 else 0.0
    if duration > 0 and held >= 0.5 * duration:
        return [
            f"The body stays near horizontal for {held:.0f} of {duration:.0f} s: if this is a "
            "plank, analyse it as one (exercise plank, `--exercise plank`)."
        ]
    return []


def _read_again(
    path: str | Path,
    info: VideoInfo,
    opts: AnalysisOptions,
    progress: Progress | None,
    done: int,
    total: int,
) -> tuple[PassOne, Analysis] | None:
    """Pass one and the analysis again with `opts` (another pose model); None when that model
    finds no person, a crowd or a wrong view where the first did not."""

    def step(n: int, _total: int) -> None:
        if progress is not None:
            progress(done + n, total)

    again = observe_video(path, opts, step, info.frames, info)
    trim_heap()
    try:
        analysis = analyze_observations(info, again.observations, opts)
    except FormcheckError:
        return None
    again.observations = []
    return again, analysis


def analyze_video(
    path: str | Path,
    opts: AnalysisOptions | None = None,
    progress: Progress | None = None,
    json_path: str | Path | None = None,
    csv_path: str | Path | None = None,
    video_path: str | Path | None = None,
    outputs: Mapping[str, str | Path | None] | None = None,
) -> dict:
    """Analyse one video file; write the requested outputs; return the report dict.

    Raises `FormcheckError` subclasses with a readable message for bad input.
    """
    opts = opts or AnalysisOptions()
    if opts.exercise != exercises.AUTO:
        exercises.get(opts.exercise)  # InputError naming the choices
    asked = {"json": json_path, "csv": csv_path, "video": video_path, **(outputs or {})}
    asked = {name: Path(out) for name, out in asked.items() if out}
    unknown = set(asked) - set(WRITERS)
    if unknown:
        raise ValueError(f"unknown outputs {sorted(unknown)}; writers: {', '.join(WRITERS)}")
    info = probe(path)
    for out in asked.values():
        out.parent.mkdir(parents=True, exist_ok=True)
    rereads = sum(1 for name in asked if WRITERS[name].rereads_video)
    total = info.frames * (1 + rereads)
    first = observe_video(path, opts, progress, total, info)
    trim_heap()  # the pose graphs are closed: give their memory back before the report peak
    analysis = analyze_observations(info, first.observations, opts)
    first.observations = []
    done = info.frames
    first_model = analysis.pose_model
    # Which model may read the clip again is only asked (it checksums the model's file) of a
    # clip that needs it.
    wants_retry = analysis.wants_retry()
    retry = retry_model(opts.model, "offline") if wants_retry else None
    if retry is not None:
        total += info.frames
        again = _read_again(path, info, replace(opts, model=retry), progress, done, total)
        done += info.frames
        if again is not None and again[1].improves_on(analysis):
            first, analysis = again
    report = report_mod.build_report(analysis)
    report["video"]["pose_model"] = analysis.pose_model
    if retry is not None and analysis.pose_model == retry:
        report["summary"]["messages"].append(
            f"The back's outline was not traced with the {first_model.title()} pose model, so "
            f"the clip was read again with the {retry.title()} pose model."
        )
    elif retry is not None:
        report["summary"]["messages"].append(
            f"The back's outline was not traced with the {first_model.title()} pose model, nor "
            f"when the clip was read again with the {retry.title()} pose model."
        )
    elif wants_retry:
        missing = missing_retry(opts.model, "offline")
        if missing is not None:
            report["summary"]["messages"].append(
                f"The {missing.title()} pose model traces some backs that "
                f"{first_model.title()} loses: install it with `formcheck models install` "
                "and analyse the clip again."
            )
    if first.truncated:
        # The container announces the whole clip; the report gives what was analysed.
        last = analysis.frames[-1].t if analysis.frames else 0.0
        report["video"]["duration_s"] = round(last + 1.0 / info.fps, 3)
        report["summary"]["messages"].append(
            "The video file ends early (truncated); frames after the damage were not analysed."
        )

    def sub_progress(step: int, _total: int) -> None:
        if progress is not None:
            progress(done + step, total)

    write_outputs(asked, Written(Path(path), report, analysis, opts.rounding, sub_progress))
    if progress is not None:
        progress(total, total)
    return report
