"""Chunked pass one: a long video split into overlapping chunks analysed side by side.

In:  a video path, its `VideoInfo`, the chunk plan (`plan_chunks`), the spine parameters.
Out: the same list of `Observation`s a serial pass one gives (one per decoded frame, in order),
     or None when the file's timestamps do not allow exact chunking (the caller then runs serially).

Each chunk runs in its own thread with its own decoder, pose tracker and smoother (MediaPipe and
the decoder release the GIL while they work, so threads use both cores and share one copy of the
libraries; separate processes would pay 2-3 s of imports and ~150 MB of libraries each). A chunk
starts `overlap_s` before its frames: tracking restarts there and the One Euro smoother warms up.
It runs on `overlap_s / 2` past its end, and the seam with the next chunk is put at the first
frame where both chunks' poses agree. Tracking is verified on the same absolute frame indexes as
in a serial run. Also here: keeping pass-one memory flat (`compact_back`, `limit_heap_growth`).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from .estimator import Detector, EstimatorConfig, PoseEstimator
from .spine import BackShape
from .video import Frame, VideoInfo, VideoSource, _open_container

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]

# A chunk shorter than this does not pay for its overlap and its model set-up.
MIN_CHUNK_S = 1.5
# Tracking locks on at a chunk's first frame and the smoothers settle within ~0.25 s.
OVERLAP_S = 0.3
# Two chunks' poses of one frame closer than this (mean landmark distance in trunk lengths)
# count as the same track.
SEAM_AGREEMENT = 0.03


@dataclass(frozen=True)
class Chunk:
    """Frames [start, end) belong to this chunk; it analyses [warm, stop), warm <= start and
    stop >= end. The seam with the next chunk is chosen inside [next.start, stop)."""

    index: int
    warm: int
    start: int
    end: int
    stop: int

    @property
    def kept(self) -> int:
        return self.end - self.start

    @property
    def analysed(self) -> int:
        return self.stop - self.warm


def compact_back(back: BackShape | None) -> BackShape | None:
    """Shrink what pass one keeps of a back outline (36k frames in 10 minutes at 60 fps): the
    outline and the depth profile in single precision, the profile's positions (the same for
    every frame, `SpineParams.positions()`) dropped."""
    if back is None:
        return None
    back.outline = back.outline.astype(np.float32)
    if back.profile_d is not None:
        back.profile_d = back.profile_d.astype(np.float32)
    back.profile_s = None
    return back


_M_MMAP_THRESHOLD = -3


def _libc():
    try:
        import ctypes

        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def limit_heap_growth(threshold: int = 32 * 1024 * 1024) -> None:
    """Fix glibc's mmap threshold at `threshold` bytes (process-wide; a no-op without glibc).

    By default glibc moves the threshold up as large blocks are freed, and the trim threshold
    with it; frames handed between threads then fragment the heap and resident memory of a long
    analysis crept up by hundreds of MB. A fixed threshold keeps trimming on. It is set high:
    every per-frame buffer (shrunk frame, mask) comes from the heap and is reused, since
    mapping and unmapping each one cost about 8% of an analysis' CPU time."""
    libc = _libc()
    if libc is not None and hasattr(libc, "mallopt"):
        libc.mallopt(_M_MMAP_THRESHOLD, threshold)


def trim_heap() -> None:
    """Return freed heap pages to the system (glibc keeps them per thread otherwise)."""
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


def resolve_workers(workers: int | str) -> int:
    """'auto' is the number of CPU cores; numbers below 1 count as 1."""
    if workers == "auto":
        return max(1, os.cpu_count() or 1)
    try:
        return max(1, int(workers))
    except (TypeError, ValueError):
        raise ValueError(f"workers must be a number or 'auto', not {workers!r}") from None


def plan_chunks(
    frames: int,
    fps: float,
    workers: int,
    *,
    overlap_s: float = OVERLAP_S,
    min_chunk_s: float = MIN_CHUNK_S,
) -> list[Chunk]:
    """Split `frames` into at most `workers` chunks of at least `min_chunk_s` seconds.
    Each chunk but the first warms up on the `overlap_s` seconds before it; each but the last
    runs on for `overlap_s / 2` after it, where the seam is chosen. The chunks analyse equal
    numbers of frames (warm-up and run-on included), so they finish together. One chunk: run
    serially."""
    frames = max(0, int(frames))
    fps = fps if fps and fps > 0 else 30.0
    min_frames = max(1, round(min_chunk_s * fps))
    count = max(1, min(workers, frames // min_frames))
    warm = max(0, round(overlap_s * fps))
    tail = max(0, round(0.5 * overlap_s * fps))
    # Every chunk analyses `share` frames: the first keeps share - tail, the middle ones
    # share - warm - tail, the last share - warm. Each keeps at least a third of an equal split.
    share = (frames + (count - 1) * (warm + tail)) / count
    even = frames / count
    bounds = [0]
    for k in range(1, count):
        balanced = k * share - (k - 1) * warm - k * tail
        bounds.append(round(min(max(balanced, (k - 1 / 3) * even), (k + 1 / 3) * even)))
    bounds.append(frames)
    return [
        Chunk(
            k,
            max(0, bounds[k] - warm),
            bounds[k],
            bounds[k + 1],
            min(frames, bounds[k + 1] + tail) if k < count - 1 else frames,
        )
        for k in range(count)
    ]


def seam(before: list, after: list, offset: int, max_gap: float = SEAM_AGREEMENT) -> int:
    """Where to switch from one chunk to the next inside the frames both analysed.

    `before` and `after` hold observations of the same frames (after[0] is before[offset]). The
    seam is the first frame where both have a pose and agree within `max_gap` trunk lengths
    (mean landmark distance); the end of the shared stretch when they never do. Returns an
    index into `after`."""
    shared = min(len(before) - offset, len(after))
    for i in range(shared):
        a, b = before[offset + i].pose, after[i].pose
        if a is None or b is None:
            continue
        lm = a.landmarks
        trunk = max(float(np.linalg.norm(lm[[11, 12]].mean(0) - lm[[23, 24]].mean(0))), 1.0)
        if float(np.linalg.norm(lm - b.landmarks, axis=1).mean()) / trunk <= max_gap:
            return i
    return max(0, shared)


def frame_table(path: str | Path) -> list[int] | None:
    """Presentation timestamps of the frames a decoder gives, in order (from the packets, no
    decoding); None when they are missing or repeated."""
    with _open_container(Path(path)) as container:
        stream = container.streams.video[0]
        pts = []
        for packet in container.demux(stream):
            if not packet.size or packet.is_discard:
                continue
            if packet.pts is None:
                return None
            pts.append(packet.pts)
    pts.sort()
    if len(pts) < 2 or any(b <= a for a, b in zip(pts, pts[1:], strict=False)):
        return None
    return pts


class ChunkSource(VideoSource):
    """The frames [warm, end) of a video, found by seeking; indexes and times as in a full pass."""

    def __init__(
        self,
        path: str | Path,
        chunk: Chunk,
        table: list[int],
        *,
        max_side: int | None = None,
        stride: int = 1,
        info: VideoInfo | None = None,
    ):
        super().__init__(
            path, max_side=max_side, prefetch=4, scaler="cv2", stride=stride, info=info
        )
        self.chunk = chunk
        self.table = table
        self.mismatch = False

    def _decode(self) -> Iterator[Frame]:
        chunk, table = self.chunk, self.table
        index_of = {p: i for i, p in enumerate(table)}
        expected = chunk.warm
        with _open_container(self.path) as container:
            stream = container.streams.video[0]
            # Chunks already decode side by side: one decoding thread each keeps memory down.
            stream.thread_count = 1
            tb = float(stream.time_base)
            t0 = table[0] * tb
            if chunk.warm > 0:
                container.seek(table[chunk.warm], stream=stream, backward=True)
            try:
                for frame in container.decode(stream):
                    index = index_of.get(frame.pts)
                    if index is None:
                        self.mismatch = True
                        return
                    if index < expected:
                        continue
                    if index != expected:
                        self.mismatch = True  # a frame went missing
                        return
                    yield self._frame(frame, index, frame.pts * tb - t0)
                    expected += 1
                    if expected >= chunk.stop:
                        return
            except (av.FFmpegError, EOFError, ValueError) as exc:
                log.warning("%s: chunk %d stopped: %s", self.path.name, chunk.index, exc)
        if expected < chunk.stop:
            self.mismatch = True


class _SharedProgress:
    """Adds up frames done across chunk threads; reports from whichever thread holds the lock."""

    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress = progress
        self.total = total
        self.done: dict[int, int] = {}
        self.lock = threading.Lock()

    def for_chunk(self, chunk: Chunk) -> Progress | None:
        if self.progress is None:
            return None

        def report(done: int, _total: int) -> None:
            with self.lock:
                self.done[chunk.index] = min(done, chunk.analysed)
                self.progress(sum(self.done.values()), self.total)

        return report


def observe_chunks(
    path: str | Path,
    info: VideoInfo,
    chunks: list[Chunk],
    params,
    *,
    observe: Callable,
    estimator: EstimatorConfig,
    stride: int = 1,
    progress: Progress | None = None,
    total: int | None = None,
) -> list | None:
    """Pass one over `chunks` in parallel threads, each chunk's frames given to `observe`
    (`formcheck.passone.observe`); the stitched observations, or None when the chunks could not
    be decoded exactly (missing timestamps, damaged file)."""
    table = frame_table(path)
    if table is None or len(table) < chunks[-1].end:
        log.info("%s: timestamps do not allow chunking; analysing serially", Path(path).name)
        return None
    last = chunks[-1]
    chunks = [*chunks[:-1], Chunk(last.index, last.warm, last.start, len(table), len(table))]
    work = sum(c.analysed for c in chunks)
    shared = _SharedProgress(progress, total or work)

    # One verification detector for all chunks: it runs on one frame in six, and each graph
    # costs tens of MB.
    detector = None
    if estimator.tracking and estimator.verify_every > 0 and estimator.verify == "detection":
        detector = Detector(estimator.threads, estimator.min_detection_confidence)

    shape = VideoSource(path, max_side=estimator.max_side, info=info).image_shape

    def run(chunk: Chunk) -> tuple[list, bool]:
        source = ChunkSource(
            path, chunk, table, max_side=estimator.max_side, stride=stride, info=info
        )
        with PoseEstimator(estimator, detector) as est:
            est.preload(shape)  # while the decoder seeks to the chunk
            obs = observe(source, est, params, shared.for_chunk(chunk), chunk.analysed)
        return obs, source.mismatch

    try:
        with ThreadPoolExecutor(len(chunks), thread_name_prefix="formcheck-chunk") as pool:
            done = pool.map(run, chunks)
            if detector is not None:
                detector.preload(shape)  # while the chunks start
            results = list(done)
    finally:
        if detector is not None:
            detector.close()
    if any(bad for _, bad in results):
        log.warning("%s: chunked decoding disagreed with the file; analysing serially", path)
        return None
    stitched = stitch(chunks, [obs for obs, _ in results])
    return stitched if len(stitched) == len(table) else None


def stitch(chunks: list[Chunk], results: list[list]) -> list:
    """Join chunk observations (each covering [warm, stop) of its chunk) at the seams."""
    out: list = []
    begin = 0  # first frame (absolute) still to take from the current chunk
    for k, (chunk, obs) in enumerate(zip(chunks, results, strict=True)):
        if k + 1 < len(chunks):
            nxt, after = chunks[k + 1], results[k + 1]
            # after[j] is frame nxt.warm + j; the seam search starts at nxt.start.
            i = seam(obs, after[nxt.start - nxt.warm :], nxt.start - chunk.warm)
            end = nxt.start + i
        else:
            end = chunk.stop
        out.extend(obs[begin - chunk.warm : end - chunk.warm])
        begin = end
    return out
