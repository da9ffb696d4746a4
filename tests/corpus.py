"""A corpus of bad and awkward inputs, generated on the spot (nothing downloaded).

In:  a folder to write into; the real clips in ../shared/footage for the items that need a lifter.
Out: one function per item, each writing a file and returning its path: random bytes, empty file,
     truncated MP4, audio only, still image named .mp4, one-frame video, empty room, two lifters
     side by side, 4K, a header claiming huge frames, a ten-minute clip, a clip rotated by
     metadata, and a file whose name holds `../` and non-ASCII characters.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

FOOTAGE = Path(__file__).resolve().parents[1] / ".." / "shared" / "footage"
LIFT_CLIP = FOOTAGE / "bichraix_good004.mp4"
OTHER_LIFT_CLIP = FOOTAGE / "bichraix_bad005.mp4"
UNICODE_NAME = "Soupl\u00e9 l\u00fcft \u2014 \u0437\u0430\u043f\u0438\u0441\u044c \U0001f3cb.mp4"


def footage_frames(
    clip: Path, size: tuple[int, int], limit: int | None = None
) -> Iterator[np.ndarray]:
    """Upright RGB frames of a clip, resized to size=(width, height)."""
    with av.open(str(clip)) as src:
        for i, frame in enumerate(src.decode(video=0)):
            if limit is not None and i >= limit:
                return
            yield frame.to_ndarray(format="rgb24", width=size[0], height=size[1])


def encode(
    path: Path,
    frames: Iterator[np.ndarray] | list[np.ndarray],
    fps: float = 30,
    rotation: int | None = None,
    preset: str = "ultrafast",
) -> Path:
    """Write RGB frames as an H.264 MP4 (optionally with a display rotation in its metadata)."""
    with av.open(str(path), "w") as out:
        stream = None
        for index, image in enumerate(frames):
            if stream is None:
                stream = out.add_stream("libx264", rate=Fraction(fps).limit_denominator(1000))
                stream.height, stream.width = image.shape[:2]
                stream.pix_fmt = "yuv420p"
                stream.options = {"preset": preset}
                if rotation is not None:
                    stream.set_display_rotation(rotation)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = index
            for packet in stream.encode(frame):
                out.mux(packet)
        if stream is not None:
            for packet in stream.encode():
                out.mux(packet)
    return path


def random_bytes(folder: Path) -> Path:
    path = folder / "noise.mp4"
    path.write_bytes(np.random.default_rng(7).integers(0, 256, 300_000, dtype=np.uint8).tobytes())
    return path


def zero_bytes(folder: Path) -> Path:
    path = folder / "empty.mp4"
    path.write_bytes(b"")
    return path


def truncated(folder: Path) -> Path:
    """The first 30% of a real clip (its index, at the end of the file, is missing)."""
    data = OTHER_LIFT_CLIP.read_bytes()
    path = folder / "cut short.mp4"
    path.write_bytes(data[: int(0.3 * len(data))])
    return path


def audio_only(folder: Path) -> Path:
    """Two seconds of a 440 Hz tone, AAC in MP4, no video stream."""
    path = folder / "voice memo.mp4"
    rate = 44100
    with av.open(str(path), "w") as out:
        stream = out.add_stream("aac", rate=rate)
        stream.layout = "mono"
        t = np.arange(2 * rate) / rate
        samples = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        for start in range(0, len(samples), 1024):
            chunk = samples[start : start + 1024].reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
            frame.sample_rate = rate
            frame.pts = start
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def still_image(folder: Path) -> Path:
    """A JPEG photo of a lifter saved under a .mp4 name."""
    image = next(footage_frames(LIFT_CLIP, (640, 360)))
    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    assert ok
    path = folder / "photo.mp4"
    path.write_bytes(jpeg.tobytes())
    return path


def one_frame(folder: Path) -> Path:
    """A valid H.264 MP4 holding a single frame of a lifter."""
    return encode(folder / "single frame.mp4", list(footage_frames(LIFT_CLIP, (640, 360), 1)))


def empty_room(folder: Path, seconds: float = 2.0) -> Path:
    """Green noisy background, nobody in it."""
    rng = np.random.default_rng(0)
    base = np.full((240, 320, 3), (40, 120, 60), np.int16)
    frames = [
        np.clip(base + rng.integers(-30, 30, base.shape), 0, 255).astype(np.uint8)
        for _ in range(int(seconds * 15))
    ]
    return encode(folder / "empty room.mp4", frames, fps=15)


def two_people(folder: Path) -> Path:
    """Two real lifters side by side: the middle of two clips stacked horizontally (960x720)."""
    left = footage_frames(LIFT_CLIP, (1280, 720))
    right = footage_frames(OTHER_LIFT_CLIP, (1280, 720))
    frames = [np.hstack([a[:, 400:880], b[:, 400:880]]) for a, b in zip(left, right, strict=False)]
    return encode(folder / "two lifters.mp4", frames)


def four_k(folder: Path, seconds: float = 1.5, fps: int = 10) -> Path:
    """A real lift upscaled to 3840x2160, short and at a low frame rate to stay cheap."""
    frames = []
    with av.open(str(LIFT_CLIP)) as src:
        for i, frame in enumerate(src.decode(video=0)):
            if len(frames) >= seconds * fps:
                break
            if i % 3 == 0:  # 30 fps -> 10 fps
                frames.append(frame.to_ndarray(format="rgb24", width=3840, height=2160))
    return encode(folder / "lift 4k.mp4", frames, fps=fps)


def huge_header(folder: Path) -> Path:
    """A Matroska file whose header claims 20000x12000 frames (with one 64-byte packet)."""
    path = folder / "huge frames.mp4"
    with av.open(str(path), "w", format="matroska") as out:
        stream = out.add_stream("rawvideo", rate=1)
        stream.width, stream.height, stream.pix_fmt = 20000, 12000, "gray"
        packet = av.Packet(b"\x00" * 64)
        packet.stream, packet.pts, packet.dts = stream, 0, 0
        out.mux(packet)
    return path


def ten_minutes(folder: Path, seconds: int = 600, fps: float = 1.0) -> Path:
    """A long static clip: one small frame of a standing lifter for ten minutes at 1 fps."""
    image = next(footage_frames(LIFT_CLIP, (320, 180)))
    return encode(folder / "ten minutes.mp4", [image] * int(seconds * fps), fps=fps)


def rotated(folder: Path, seconds: float = 3.5) -> Path:
    """A real lift stored lying on its side, with metadata saying to turn it upright (phones do)."""
    frames = [
        np.ascontiguousarray(np.rot90(img, -1))  # stored turned a quarter clockwise
        for img in footage_frames(LIFT_CLIP, (640, 360), int(seconds * 30))
    ]
    return encode(folder / "phone portrait.mp4", frames, rotation=90)


def unicode_name(folder: Path) -> Path:
    """A short real lift whose file name has non-ASCII characters, reached through `../`."""
    (folder / "sub").mkdir(exist_ok=True)
    target = folder / UNICODE_NAME
    encode(target, footage_frames(LIFT_CLIP, (640, 360), 15))
    return folder / "sub" / ".." / UNICODE_NAME
