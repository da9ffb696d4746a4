"""Live frame sources: a still image, a camera, and the choice among camera, image and video.

In:  a camera index, or a path to an image or video file.
Out: a `FrameSource` (see `video`): `ImageSource` gives one upright RGB `Frame`, `CameraSource`
     frames timed by the monotonic clock, `open_source` picks one of them or a `VideoSource`.
Unreadable input raises `InputError` with a one-line message saying what is wrong and what to do.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import cv2

from formcheck.errors import InputError

from .video import Frame, FrameSource, VideoInfo, VideoSource, downscale

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})


class ImageSource:
    """A still image file as a one-frame source."""

    def __init__(self, path: str | Path, *, max_side: int | None = None):
        self.path = Path(path)
        name = self.path.name
        if not self.path.is_file():
            raise InputError(f"{name}: file not found. Check the path and try again.")
        bgr = cv2.imread(str(self.path), cv2.IMREAD_COLOR)  # applies EXIF orientation
        if bgr is None:
            raise InputError(f"{name}: not a readable image. Save it as JPEG or PNG and try again.")
        self._image = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        self.max_side = max_side
        h, w = self._image.shape[:2]
        self.info = VideoInfo(str(self.path), w, h, 1.0, 1, 0.0, 0, "image")
        self.truncated = False

    def __iter__(self) -> Iterator[Frame]:
        image, scale = downscale(self._image, self.max_side)
        yield Frame(0, 0.0, image, scale)

    def close(self) -> None:
        """Nothing to release."""


class CameraSource:
    """A live camera through OpenCV; timestamps come from the monotonic clock."""

    def __init__(self, index: int = 0, *, max_side: int | None = None):
        self.index = index
        self.max_side = max_side
        self.truncated = False
        self._cap = cv2.VideoCapture(index)
        if not self._cap.isOpened():
            self._cap.release()
            raise InputError(
                f"camera {index}: could not be opened. Check that it is connected and not in use "
                f"by another program, or choose another camera index."
            )
        w = int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        h = int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        fps = float(self._cap.get(cv2.CAP_PROP_FPS)) or 30.0
        self.info = VideoInfo(f"camera:{index}", w, h, fps, 0, 0.0, 0, "camera")

    def __iter__(self) -> Iterator[Frame]:
        t0 = time.monotonic()
        index = 0
        while self._cap.isOpened():
            ok, bgr = self._cap.read()
            if not ok or bgr is None:
                break
            t = time.monotonic() - t0
            image, scale = downscale(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), self.max_side)
            yield Frame(index, t, image, scale)
            index += 1

    def close(self) -> None:
        """Release the camera."""
        self._cap.release()


def open_source(spec: str | int | Path, *, max_side: int | None = None) -> FrameSource:
    """Choose a source: an int (or digit string) is a camera, image extensions an image, else video."""
    if isinstance(spec, int) or (isinstance(spec, str) and spec.strip().isdigit()):
        return CameraSource(int(spec), max_side=max_side)
    path = Path(spec)
    if path.suffix.lower() in IMAGE_EXTENSIONS:
        return ImageSource(path, max_side=max_side)
    return VideoSource(path, max_side=max_side)
