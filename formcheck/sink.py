"""Browser-playable MP4 writer.

In:  RGB uint8 frames (H, W, 3), optionally with their timestamps in seconds.
Out: an H.264 / yuv420p MP4 with the index at the front (`+faststart`), so a browser can start
     playing it before it has downloaded. Odd frame sizes are padded by one pixel to even.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from formcheck.errors import InputError

# Timestamps are written in this unit, so variable frame timing survives.
_TIME_BASE = Fraction(1, 90000)


class VideoSink:
    """Context manager writing RGB frames to an H.264 MP4."""

    def __init__(
        self,
        path: str | Path,
        width: int,
        height: int,
        fps: float,
        *,
        crf: int = 23,
        preset: str = "veryfast",
    ):
        if width <= 0 or height <= 0:
            raise ValueError(f"frame size must be positive, got {width}x{height}")
        if not fps or fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.path = Path(path)
        self.width, self.height = width, height
        self.out_width, self.out_height = width + width % 2, height + height % 2
        self.fps = float(fps)
        self.frames_written = 0
        self._last_pts = -1
        self._container = av.open(
            str(self.path), mode="w", format="mp4", options={"movflags": "+faststart"}
        )
        rate = Fraction(self.fps).limit_denominator(1001)
        self._stream = self._container.add_stream("libx264", rate=rate)
        self._stream.width = self.out_width
        self._stream.height = self.out_height
        self._stream.pix_fmt = "yuv420p"
        self._stream.time_base = _TIME_BASE
        self._stream.codec_context.time_base = _TIME_BASE
        self._stream.options = {"crf": str(crf), "preset": preset}
        self._closed = False

    def write(self, rgb: np.ndarray, t: float | None = None) -> None:
        """Append one frame; t (seconds) keeps real timing, else frames are spaced 1/fps apart."""
        if self._closed:
            raise RuntimeError("VideoSink is closed")
        if rgb.shape != (self.height, self.width, 3):
            raise ValueError(
                f"frame shape {rgb.shape} does not match the sink ({self.height}, {self.width}, 3)"
            )
        if self.out_width != self.width or self.out_height != self.height:
            pad = ((0, self.out_height - self.height), (0, self.out_width - self.width), (0, 0))
            rgb = np.pad(rgb, pad, mode="edge")
        if rgb.dtype != np.uint8:
            rgb = np.clip(rgb, 0, 255).astype(np.uint8)
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        seconds = self.frames_written / self.fps if t is None else t
        pts = max(round(seconds / _TIME_BASE), self._last_pts + 1)
        frame.pts = self._last_pts = pts
        frame.time_base = _TIME_BASE
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self.frames_written += 1

    def close(self) -> None:
        """Flush the encoder and finish the file."""
        if self._closed:
            return
        self._closed = True
        try:
            for packet in self._stream.encode(None):
                self._container.mux(packet)
        finally:
            self._container.close()

    def __enter__(self) -> VideoSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def transcode_to_h264(src: str | Path, dst: str | Path, *, max_side: int | None = None) -> Path:
    """Write a browser-playable H.264 copy of a video (upright, real timestamps, no audio)."""
    from formcheck.video import VideoSource

    source = VideoSource(src, max_side=max_side)
    sink: VideoSink | None = None
    try:
        for frame in source:
            if sink is None:
                h, w = frame.image.shape[:2]
                sink = VideoSink(dst, w, h, source.info.fps)
            sink.write(frame.image, frame.t)
    finally:
        if sink is not None:
            sink.close()
    if sink is None:
        raise InputError(f"{Path(src).name}: no frame could be decoded, nothing to transcode.")
    return Path(dst)
