"""Decode stage: video files into frames.

In:  a path to a video file.
Out: `VideoInfo` (size after rotation, fps, frame count, codec) and an iterator of `Frame`
     (index, presentation time in seconds from the first frame, upright RGB uint8 image).
Unreadable input raises `InputError` with a one-line message saying what is wrong and what to do.
`probe` and `VideoSource` refuse a still picture, whatever its extension: analysis needs a clip.
Still images and cameras (live coaching) are in `formcheck.sources`.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import av
import cv2
import numpy as np

from formcheck.errors import InputError

log = logging.getLogger(__name__)

MAX_SIDE_PX = 8192
# Demuxers that hold a single still picture rather than a video.
_STILL_FORMATS = ("_pipe", "image2")
_HINT = "Export the clip as MP4/MOV/WebM and try again."


@dataclass
class VideoInfo:
    """What a source holds. width/height are after rotation; frames is a best estimate."""

    path: str
    width: int
    height: int
    fps: float
    frames: int
    duration_s: float
    rotation: int
    codec: str


@dataclass
class Frame:
    """One upright RGB frame. scale = image pixels per source pixel (below 1 when downscaled).
    image is None for a frame a source decoded but did not convert (see `VideoSource.stride`)."""

    index: int
    t: float
    image: np.ndarray | None
    scale: float = 1.0


class FrameSource(Protocol):
    """Anything that gives `info` and iterates `Frame`s."""

    info: VideoInfo

    def __iter__(self) -> Iterator[Frame]: ...

    def close(self) -> None: ...


def downscale(image: np.ndarray, max_side: int | None) -> tuple[np.ndarray, float]:
    """Shrink so the longer side is at most max_side (INTER_AREA); returns (image, scale)."""
    h, w = image.shape[:2]
    if not max_side or max(h, w) <= max_side:
        return image, 1.0
    scale = max_side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), scale


def _plane(plane: av.video.plane.VideoPlane) -> np.ndarray:
    """One image plane as a (height, width) array, without its row padding."""
    data = np.frombuffer(plane, np.uint8, count=plane.line_size * plane.height)
    return data.reshape(plane.height, plane.line_size)[:, : plane.width]


def _shrink_yuv420(frame: av.VideoFrame, width: int, height: int) -> np.ndarray:
    """A planar 4:2:0 frame shrunk plane by plane (INTER_AREA), then converted to RGB: the
    colour conversion runs on the small frame only (a third of the cost at 1080p)."""
    y, u, v = (_plane(p) for p in frame.planes)
    half = (width // 2, height // 2)
    planar = np.concatenate(
        [
            cv2.resize(y, (width, height), interpolation=cv2.INTER_AREA).ravel(),
            cv2.resize(u, half, interpolation=cv2.INTER_AREA).ravel(),
            cv2.resize(v, half, interpolation=cv2.INTER_AREA).ravel(),
        ]
    )
    return cv2.cvtColor(planar.reshape(height * 3 // 2, width), cv2.COLOR_YUV2RGB_I420)


def _rotate(image: np.ndarray, rotation: int) -> np.ndarray:
    """Apply a display rotation (degrees counter-clockwise, multiple of 90)."""
    k = (rotation // 90) % 4
    return np.ascontiguousarray(np.rot90(image, k)) if k else image


def _norm_rotation(degrees: float | None) -> int:
    if degrees is None or not np.isfinite(degrees):
        return 0
    return int(round(degrees / 90.0)) * 90 % 360


def _looks_like_mp4(path: Path) -> bool:
    with path.open("rb") as fh:
        head = fh.read(12)
    return head[4:8] == b"ftyp"


def _open_container(path: Path) -> av.container.InputContainer:
    """Open with PyAV, turning every failure into an InputError."""
    name = path.name
    if not path.exists():
        raise InputError(f"{name}: file not found. Check the path and try again.")
    if path.is_dir():
        raise InputError(f"{name}: is a folder, not a video file. Pass a video file.")
    if path.stat().st_size == 0:
        raise InputError(f"{name}: the file is empty (0 bytes). Upload or copy it again.")
    try:
        return av.open(str(path), metadata_errors="ignore")
    except av.FFmpegError as exc:
        if _looks_like_mp4(path):
            raise InputError(
                f"{name}: the MP4 is incomplete (its index is missing, the upload or copy was "
                f"probably cut short). Copy the whole file again or re-export it."
            ) from exc
        raise InputError(f"{name}: not a readable video ({exc.strerror or exc}). {_HINT}") from exc


def _fps_of(stream: av.video.stream.VideoStream) -> float:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate and 0 < float(rate) < 1000:
            return float(rate)
    return 30.0


def probe(path: str | Path) -> VideoInfo:
    """Read a video's header and its first frame; raise InputError if it cannot be analysed."""
    path = Path(path)
    container = _open_container(path)
    try:
        return _probe_container(path, container)
    finally:
        container.close()


def duration_hint(path: str | Path) -> float | None:
    """The clip's length in seconds from its header alone (nothing decoded); None when the
    header does not say or the file cannot be opened."""
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            return _header_duration(container, container.streams.video[0]) or None
    except (av.FFmpegError, OSError, IndexError, ValueError):
        return None


def _header_duration(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream
) -> float:
    """Seconds the header gives the video stream (or, failing that, the file); 0 if neither."""
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    return 0.0


def _probe_container(path: Path, container: av.container.InputContainer) -> VideoInfo:
    name = path.name
    if not container.streams.video:
        kind = "audio only" if container.streams.audio else "no video stream found"
        raise InputError(f"{name}: not a readable video ({kind}). {_HINT}")
    if any(container.format.name.endswith(s) for s in _STILL_FORMATS):
        raise InputError(
            f"{name}: this is a still image, not a video; a lift is measured over the whole "
            "movement. Film the set from the side (or export it) as a video clip and try again."
        )
    stream = container.streams.video[0]
    codec = stream.codec_context.name
    w, h = stream.codec_context.width, stream.codec_context.height
    if not (0 < w <= MAX_SIDE_PX and 0 < h <= MAX_SIDE_PX):
        raise InputError(
            f"{name}: unsupported frame size {w}x{h} (must be 1..{MAX_SIDE_PX} px a side). {_HINT}"
        )
    first = second = None
    try:
        decoded = container.decode(stream)
        first = next(decoded, None)
        second = next(decoded, None) if first is not None else None
    except (av.FFmpegError, EOFError, ValueError) as exc:
        log.debug("first frames of %s failed: %s", name, exc)
    if first is None:
        raise InputError(
            f"{name}: no frame could be decoded ({codec}); the file is damaged or incomplete. {_HINT}"
        )
    if second is None:
        raise InputError(
            f"{name}: the video holds a single frame; a lift needs a clip of the whole movement. "
            "Film the set and try again."
        )
    rotation = _norm_rotation(first.rotation)
    fps = _fps_of(stream)
    duration_s = _header_duration(container, stream)
    # stream.frames counts packets, including pre-roll that an edit list hides; prefer duration.
    counted = int(stream.frames or 0)
    timed = round(duration_s * fps) if duration_s else 0
    frames = max(1, min(counted, timed) if counted and timed else counted or timed)
    if not duration_s:
        duration_s = frames / fps
    if rotation in (90, 270):
        w, h = h, w
    return VideoInfo(str(path), w, h, fps, frames, duration_s, rotation, codec)


class VideoSource:
    """A video file. Iterate for `Frame`s; `truncated` says whether decoding ended early."""

    def __init__(
        self,
        path: str | Path,
        *,
        max_side: int | None = None,
        prefetch: int = 8,
        scaler: str = "swscale",
        stride: int = 1,
        info: VideoInfo | None = None,
    ):
        """max_side: downscale while decoding (in the prefetch thread). stride: only frames whose
        index is a multiple of it are converted to RGB; the others come with `image` None (every
        frame must still be decoded, but conversion is most of the cost). scaler: "swscale"
        (FFmpeg's area filter from YUV) or "cv2" (OpenCV INTER_AREA: planar 4:2:0 video is
        shrunk plane by plane and converted to RGB small, the cheapest; other pixel formats are
        converted to RGB at full size first, as `PoseEstimator` does when it downscales).
        info: the file's `probe`, when the caller has it already."""
        if scaler not in ("swscale", "cv2"):
            raise ValueError(f"unknown scaler {scaler!r}")
        self.path = Path(path)
        self.info = info or probe(self.path)
        self.max_side = max_side
        self.prefetch = prefetch
        self.scaler = scaler
        self.stride = max(1, int(stride))
        self.truncated = False
        self.frames_decoded = 0

    def __iter__(self) -> Iterator[Frame]:
        frames = self._decode()
        if self.prefetch > 0:
            frames = _prefetched(frames, self.prefetch)
        yield from frames

    def close(self) -> None:
        """Nothing stays open between iterations; present for the FrameSource protocol."""

    def __enter__(self) -> VideoSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """Shape of the images this source gives (upright, after downscaling)."""
        tw, th, _ = self._target_size(self.info.width, self.info.height)
        return th, tw, 3

    def _target_size(self, w: int, h: int) -> tuple[int, int, float]:
        if not self.max_side or max(w, h) <= self.max_side:
            return w, h, 1.0
        scale = self.max_side / max(w, h)
        return max(2, round(w * scale)), max(2, round(h * scale)), scale

    def _to_rgb(self, frame: av.VideoFrame) -> tuple[np.ndarray, float]:
        """The decoded frame as RGB at the target size, and its scale."""
        tw, th, scale = self._target_size(frame.width, frame.height)
        if scale == 1.0 or self.scaler == "swscale":
            image = frame.to_ndarray(format="rgb24", width=tw, height=th, interpolation="AREA")
            return image, scale
        if frame.format.name == "yuv420p" and not (frame.width | frame.height | tw | th) & 1:
            return _shrink_yuv420(frame, tw, th), scale
        full = frame.to_ndarray(format="rgb24")
        return cv2.resize(full, (tw, th), interpolation=cv2.INTER_AREA), scale

    def _frame(self, frame: av.VideoFrame, index: int, t: float) -> Frame:
        """The `Frame` of a decoded picture: upright RGB, or without image between strides."""
        if index % self.stride:
            return Frame(index, t, None)
        image, scale = self._to_rgb(frame)
        rotation = _norm_rotation(frame.rotation) if frame.rotation else self.info.rotation
        return Frame(index, t, _rotate(image, rotation), scale)

    def _decode(self) -> Iterator[Frame]:
        info = self.info
        self.truncated = False
        self.frames_decoded = 0
        container = _open_container(self.path)
        try:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            t0: float | None = None
            last_t = -1.0
            index = 0
            packets = container.decode(stream)
            while True:
                try:
                    frame = next(packets)
                except StopIteration:
                    break
                except (av.FFmpegError, EOFError, ValueError) as exc:
                    log.warning("%s: decoding stopped at frame %d: %s", self.path.name, index, exc)
                    self.truncated = True
                    break
                t = frame.time
                if t is None:
                    t = index / info.fps
                t0 = t if t0 is None else t0
                t = t - t0
                if t <= last_t:  # missing or repeated timestamps: keep time moving forward
                    t = last_t + 1.0 / info.fps
                last_t = t
                yield self._frame(frame, index, t)
                index += 1
                self.frames_decoded = index
        finally:
            container.close()
        if index < 0.95 * info.frames - 2:
            self.truncated = True
        if self.truncated:
            log.warning(
                "%s: only %d of about %d frames decoded (file truncated?)",
                self.path.name,
                index,
                info.frames,
            )


def _prefetched(frames: Iterator[Frame], size: int) -> Iterator[Frame]:
    """Run `frames` in a background thread through a bounded queue of `size` items."""
    q: queue.Queue = queue.Queue(maxsize=size)
    stop = threading.Event()
    done = object()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def worker() -> None:
        try:
            for item in frames:
                if not put(item):
                    break
        except BaseException as exc:  # handed to the consumer, raised there
            put(exc)
        finally:
            if stop.is_set():
                frames.close()  # type: ignore[attr-defined]
            put(done)

    thread = threading.Thread(target=worker, name="formcheck-decode", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is done:
                break
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        thread.join(timeout=5)


def iter_frames(
    path: str | Path, *, max_side: int | None = None, prefetch: int = 8
) -> Iterator[Frame]:
    """Decode a video file into upright RGB `Frame`s (see `VideoSource`)."""
    yield from VideoSource(path, max_side=max_side, prefetch=prefetch)
