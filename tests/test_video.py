"""Frame sources: timestamps, rotation, truncation and clear errors for bad input."""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from formcheck.errors import InputError
from formcheck.sink import VideoSink
from formcheck.sources import CameraSource, ImageSource, open_source
from formcheck.video import VideoSource, downscale, iter_frames, probe

FOOTAGE = Path(__file__).resolve().parents[1] / ".." / "shared" / "footage"
needs_footage = pytest.mark.skipif(
    not (FOOTAGE / "LABELS.tsv").exists(), reason="real clips not found in ../shared/footage"
)

W, H = 160, 120


def _image(i: int) -> np.ndarray:
    """Frame i: grey level 10*i, with a white block in the top-left corner."""
    img = np.full((H, W, 3), 10 * i, dtype=np.uint8)
    img[:20, :40] = 255
    return img


def make_clip(
    path: Path,
    n: int = 20,
    fps: int = 10,
    times: list[float] | None = None,
    rotation: int | None = None,
    codec: str = "libx264",
    image: Callable[[int], np.ndarray] = _image,
    options: dict[str, str] | None = None,
) -> Path:
    """Write a small test clip of `image(i)` frames; `times` gives each frame's timestamp in
    seconds (VFR)."""
    tb = Fraction(1, 1000)
    h, w = image(0).shape[:2]
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.codec_context.time_base = tb
        if options:
            stream.options = options
        if rotation is not None:
            stream.set_display_rotation(rotation)
        for i in range(n):
            frame = av.VideoFrame.from_ndarray(image(i), format="rgb24")
            frame.pts = round((times[i] if times else i / fps) / tb)
            frame.time_base = tb
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def test_frame_count_timestamps_and_pixels(tmp_path):
    clip = make_clip(tmp_path / "clip.mp4")
    info = probe(clip)
    assert (info.width, info.height, info.frames, info.rotation) == (W, H, 20, 0)
    assert info.fps == pytest.approx(10.0)
    assert info.codec == "h264"
    frames = list(iter_frames(clip))
    assert [f.index for f in frames] == list(range(20))
    assert [f.t for f in frames] == pytest.approx([i / 10 for i in range(20)], abs=1e-3)
    img = frames[7].image
    assert img.dtype == np.uint8 and img.shape == (H, W, 3)
    assert abs(int(img[80, 120].mean()) - 70) <= 4  # grey level of frame 7
    assert img[5, 5].min() > 240  # white block stays top-left


def test_variable_frame_rate_keeps_real_timestamps(tmp_path):
    times = [0.0, 0.1, 0.15, 0.4, 0.45, 0.5, 1.2, 1.25, 1.3, 2.0]
    clip = make_clip(tmp_path / "vfr.mp4", n=len(times), times=times)
    got = [f.t for f in VideoSource(clip)]
    assert got == pytest.approx(times, abs=2e-3)


@pytest.mark.parametrize("rotation", [90, -90, 180])
def test_rotation_metadata_is_applied(tmp_path, rotation):
    clip = make_clip(tmp_path / "rot.mp4", n=5, rotation=rotation)
    info = probe(clip)
    assert info.rotation == rotation % 360
    expected = np.ascontiguousarray(np.rot90(_image(2), rotation // 90))
    frame = list(iter_frames(clip))[2]
    assert (info.width, info.height) == (expected.shape[1], expected.shape[0])
    assert frame.image.shape == expected.shape
    # The white block moves with the rotation (codec noise aside).
    assert np.abs(frame.image.astype(int) - expected.astype(int)).mean() < 4


def test_max_side_downscales(tmp_path):
    clip = make_clip(tmp_path / "clip.mp4", n=3)
    frames = list(iter_frames(clip, max_side=80))
    assert frames[0].image.shape == (60, 80, 3)
    assert frames[0].scale == pytest.approx(0.5)
    small, scale = downscale(np.zeros((1080, 1920, 3), np.uint8), 640)
    assert small.shape == (360, 640, 3) and scale == pytest.approx(1 / 3)
    same, scale = downscale(np.zeros((100, 50, 3), np.uint8), 640)
    assert same.shape == (100, 50, 3) and scale == 1.0


def _coloured(i: int, w: int = W, h: int = H) -> np.ndarray:
    """A colourful frame: smooth gradients in every channel, shifting with i."""
    y, x = np.mgrid[0:h, 0:w]
    img = np.stack([x * 255 // w, y * 255 // h, (x + y) * 127 // (w + h) + 8 * i], axis=-1)
    return img.astype(np.uint8)


@pytest.mark.parametrize(("size", "small"), [((160, 120), (80, 60)), ((324, 244), (162, 122))])
def test_plane_by_plane_shrink_matches_shrinking_the_rgb_frame(tmp_path, size, small):
    """The cheap 4:2:0 path gives the pixels of an RGB conversion followed by INTER_AREA, also
    for sizes whose chroma planes do not fill whole rows of the frame's width."""
    path = make_clip(
        tmp_path / "colour.mp4", n=5, image=lambda i: _coloured(i, *size), options={"crf": "12"}
    )
    with av.open(str(path)) as container:
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    frames = list(VideoSource(path, max_side=small[0], scaler="cv2"))
    assert len(frames) == len(decoded) == 5
    for frame, full in zip(frames, decoded, strict=True):
        expected = cv2.resize(full, small, interpolation=cv2.INTER_AREA)
        assert frame.image.shape == expected.shape and frame.scale == pytest.approx(0.5)
        diff = np.abs(frame.image.astype(int) - expected.astype(int))
        assert diff.mean() < 3.0 and diff.max() <= 8


def test_prefetch_gives_same_frames_and_stays_bounded(tmp_path):
    clip = make_clip(tmp_path / "clip.mp4", n=40)
    direct = [f.image for f in iter_frames(clip, prefetch=0)]
    threaded = [f.image for f in iter_frames(clip, prefetch=4)]
    assert len(direct) == len(threaded) == 40
    assert all(np.array_equal(a, b) for a, b in zip(direct, threaded, strict=True))

    source = VideoSource(clip, prefetch=4)
    frames = iter(source)
    next(frames)
    time.sleep(0.3)  # let the decoder run ahead as far as the queue allows
    assert source.frames_decoded <= 1 + 4 + 2
    frames.close()  # stopping early must not hang


def test_mid_stream_truncation_ends_gracefully(tmp_path):
    full = tmp_path / "full.mp4"
    rng = np.random.default_rng(0)
    with VideoSink(full, W, H, 10) as sink:  # index at the front, so a cut file still opens
        for _ in range(30):
            sink.write(rng.integers(0, 255, (H, W, 3), dtype=np.uint8))
    data = full.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    source = VideoSource(cut)
    frames = list(source)
    assert 0 < len(frames) < 30
    assert source.truncated


def _expect_input_error(path: Path, *words: str) -> str:
    with pytest.raises(InputError) as err:
        probe(path)
    message = str(err.value)
    assert path.name in message and "\n" not in message
    for word in words:
        assert word in message.lower()
    with pytest.raises(InputError):
        VideoSource(path)
    return message


def test_missing_file(tmp_path):
    _expect_input_error(tmp_path / "nope.mp4", "not found")


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.mp4"
    path.write_bytes(b"")
    _expect_input_error(path, "empty")


def test_random_bytes(tmp_path):
    path = tmp_path / "noise.mp4"
    path.write_bytes(np.random.default_rng(1).bytes(40_000))
    _expect_input_error(path, "not a readable video", "mp4")


def test_audio_only(tmp_path):
    path = tmp_path / "voice.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=44100)
        stream.layout = "mono"
        for i in range(20):
            frame = av.AudioFrame.from_ndarray(
                np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
            )
            frame.sample_rate, frame.pts = 44100, i * 1024
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    _expect_input_error(path, "audio only")


def test_still_image_renamed_mp4_is_refused(tmp_path):
    # Decision: a picture with a video extension is an upload mistake, refused with a clear message;
    # the same picture with an image extension opens as a one-frame ImageSource.
    png = tmp_path / "photo.png"
    cv2.imwrite(str(png), np.full((50, 60, 3), 128, np.uint8))
    renamed = tmp_path / "photo.mp4"
    renamed.write_bytes(png.read_bytes())
    _expect_input_error(renamed, "still image")


def test_absurd_frame_size(tmp_path):
    path = tmp_path / "wide.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 8200, 16, "yuv420p"
        frame = av.VideoFrame.from_ndarray(np.zeros((16, 8200, 3), np.uint8), format="rgb24")
        for packet in [*stream.encode(frame), *stream.encode()]:
            container.mux(packet)
    _expect_input_error(path, "frame size")


@needs_footage
def test_truncated_real_mp4(tmp_path):
    data = (FOOTAGE / "bichraix_bad005.mp4").read_bytes()
    path = tmp_path / "cut.mp4"
    path.write_bytes(data[: int(len(data) * 0.3)])
    _expect_input_error(path, "incomplete")


def test_image_source(tmp_path):
    img = np.zeros((50, 60, 3), np.uint8)
    img[:, :, 0] = 200  # red in RGB
    path = tmp_path / "still.png"
    cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    source = open_source(path)
    assert isinstance(source, ImageSource)
    frames = list(source)
    assert len(frames) == 1 and frames[0].t == 0.0
    assert np.array_equal(frames[0].image, img)
    assert (source.info.width, source.info.height, source.info.frames) == (60, 50, 1)
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not a jpeg")
    with pytest.raises(InputError, match="bad.jpg"):
        ImageSource(bad)


def test_open_source_dispatch(tmp_path):
    clip = make_clip(tmp_path / "clip.mp4", n=2)
    assert isinstance(open_source(str(clip)), VideoSource)
    with pytest.raises(InputError, match="camera 99"):
        open_source(99)
    with pytest.raises(InputError, match="camera"):
        CameraSource(98)


def _labels() -> dict[str, dict[str, str]]:
    with (FOOTAGE / "LABELS.tsv").open() as fh:
        return {row["file"]: row for row in csv.DictReader(fh, delimiter="\t")}


@needs_footage
@pytest.mark.parametrize("name", ["bichraix_bad005.mp4", "mattiolato_Bad_000009.mp4"])
def test_real_clip_frame_count(name):
    row = _labels()[name]
    expected = round(float(row["fps"]) * float(row["seconds"]))
    source = VideoSource(FOOTAGE / name, max_side=320)
    assert abs(source.info.frames - expected) <= 1
    frames = list(source)
    assert abs(len(frames) - expected) <= 1
    assert not source.truncated
    assert source.info.width == int(row["width"]) and source.info.height == int(row["height"])
    assert frames[-1].t == pytest.approx(float(row["seconds"]) - 1 / float(row["fps"]), abs=0.05)
    assert all(b.t > a.t for a, b in zip(frames, frames[1:], strict=False))
