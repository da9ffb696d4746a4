"""Pass one: every frame of a video through pose, smoothing, view and back outline.

In:  a video path and `AnalysisOptions` (frame size, model, workers, pose rate, spine params).
Out: `PassOne`: the clip's `VideoInfo` and one `Observation` per decoded frame (pose, view,
     back outline for both facings; no image or mask, so memory stays flat), and whether the
     file ended early. Long clips run in chunks side by side (`formcheck.parallel`), short ones
     in one piece; both call `observe` on their frames.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .estimator import EstimatorConfig, PoseEstimator
from .keyframes import fill_between, pose_stride
from .options import AnalysisOptions
from .parallel import compact_back, limit_heap_growth, observe_chunks, plan_chunks, resolve_workers
from .pose import Pose
from .posemodels import resolve
from .smoothing import PoseSmoother, smooth_landmarks
from .spine import BackShape, SpineParams, measure_back
from .video import VideoInfo, VideoSource, probe
from .view import FrameView, frame_view

Progress = Callable[[int, int], None]
# XNNPACK threads for a clip analysed in one piece (more than two gain little on one frame).
MAX_INFERENCE_THREADS = 2


@dataclass
class Observation:
    """What pass one keeps of a frame (no image, no mask: memory stays flat)."""

    t: float
    pose: Pose | None
    view: FrameView | None
    backs: dict[int, BackShape | None]
    # People of comparable size in view, on frames where the tracking was checked (else None).
    people: int | None = None
    # False for a frame between keyframes: no pose inference, filled in by interpolation.
    key: bool = True


def observe(
    source, estimator: PoseEstimator, params: SpineParams, progress: Progress | None, total: int
) -> list[Observation]:
    """Pass one: pose, smoothing, view and back outline (both facings) for every keyframe; the
    frames between keyframes (given without image, see `VideoSource.stride`) interpolated.

    Frames may come downscaled by the decoder (`Frame.scale` < 1): landmarks stay in pixels of
    the full frame, `source.info` gives its size."""
    return observe_many(source, estimator, [params], progress, total)[0]


def observe_many(
    source,
    estimator: PoseEstimator,
    params: Sequence[SpineParams],
    progress: Progress | None,
    total: int,
) -> list[list[Observation]]:
    """`observe` with the back outline measured by each of `params`: one list of observations
    per parameter set, from one pose pass (poses and views are shared between the lists).
    The view and the outline are measured on landmarks smoothed as they come (One Euro, as
    live: the outline's rays start from a steady hip-shoulder line, and the mask is not kept
    for later); the landmarks kept are as detected, short gaps bridged, for `smoothed` to
    smooth over the whole clip without lag."""
    tracer, bridge = PoseSmoother(), PoseSmoother(filtered=False)
    full = (source.info.width, source.info.height)
    stride = getattr(source, "stride", 1)
    outs: list[list[Observation]] = [[] for _ in params]
    for i, frame in enumerate(source):
        if frame.image is None:
            for out in outs:
                out.append(Observation(frame.t, None, None, {}, key=False))
            continue
        size = full if frame.scale != 1.0 else None
        # Tracking checks count keyframes, so chunks and a serial run check the same frames.
        detected = estimator(frame.image, size, frame.index // stride)
        pose, _bridged = tracer.update(frame.t, detected)
        raw, _bridged = bridge.update(frame.t, detected)
        people = getattr(estimator, "people", None)
        if pose is None or raw is None:
            for out in outs:
                out.append(Observation(frame.t, None, None, {}, people))
        else:
            # The view is measured now and the mask is not kept; world landmarks are, in half
            # precision (0.2 KB a frame), for exercises measured in depth (the Pallof press).
            world = None if raw.world is None else raw.world.astype(np.float16)
            kept, view = replace(raw, mask=None, world=world), frame_view(pose)
            for out, p in zip(outs, params, strict=True):
                backs = {f: compact_back(measure_back(pose, f, p)) for f in (1, -1)}
                out.append(Observation(frame.t, kept, view, backs, people))
        if progress is not None and (i % 10 == 0):
            progress(i + 1, max(total, i + 1))
    return [fill_between(out) for out in outs]


def smoothed(observations: list[Observation]) -> list[Observation]:
    """The clip's observations with their landmarks smoothed zero-phase (`smooth_landmarks`):
    the last step of pass one, after the chunks are stitched, so no chunk edge shows."""
    times = np.array([o.t for o in observations])
    poses = smooth_landmarks([o.pose for o in observations], times)
    return [
        o if p is o.pose else replace(o, pose=p) for o, p in zip(observations, poses, strict=True)
    ]


@dataclass
class PassOne:
    """What pass one gives: the clip's `VideoInfo`, one `Observation` per decoded frame, and
    whether the file ended early (truncated)."""

    info: VideoInfo
    observations: list[Observation]
    truncated: bool = False


def observe_video(
    path: str | Path,
    opts: AnalysisOptions,
    progress: Progress | None = None,
    total: int | None = None,
    info: VideoInfo | None = None,
) -> PassOne:
    """Pass one over a video file (pose, view, back outline per frame), in chunks side by side
    when the clip is long enough, else in one piece; `info` is the clip's probe when the caller
    has it. Raises `InputError` for unreadable files."""
    info = info or probe(path)
    total = total or info.frames
    limit_heap_growth()
    workers = resolve_workers(opts.workers)
    chunks = plan_chunks(info.frames, info.fps, workers)
    config = EstimatorConfig(max_side=opts.max_side, model=resolve(opts.model, "offline"))
    stride = pose_stride(info.fps, opts.pose_hz)
    if len(chunks) > 1:
        obs = observe_chunks(
            path,
            info,
            chunks,
            opts.spine,
            observe=observe,
            estimator=config,
            stride=stride,
            progress=progress,
            total=total,
        )
        if obs is not None:
            return PassOne(info, smoothed(obs))
    # In one piece, the cores that chunks would use side by side work inside each frame.
    serial = replace(config, threads=min(workers, MAX_INFERENCE_THREADS))
    with PoseEstimator(serial) as est:
        source = VideoSource(path, max_side=opts.max_side, scaler="cv2", stride=stride, info=info)
        est.preload(source.image_shape)  # while the decoder opens the file
        obs = observe(source, est, opts.spine, progress, total)
    return PassOne(info, smoothed(obs), source.truncated)
