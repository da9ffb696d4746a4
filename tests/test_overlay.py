"""Overlay drawing and the MP4 sink."""

from __future__ import annotations

import av
import numpy as np
import pytest

from formcheck.angles import FrameAngles
from formcheck.overlay import (
    AMBER,
    GREEN,
    GREY,
    RED,
    OverlayState,
    annotate,
    format_angle,
    lumbar_colour,
)
from formcheck.sink import VideoSink, transcode_to_h264
from formcheck.video import iter_frames, probe


def _angles(lumbar: float | None, *, size: tuple[int, int] = (640, 360)) -> FrameAngles:
    w, h = size
    outline = np.stack([np.linspace(0.3 * w, 0.7 * w, 30), np.full(30, 0.6 * h)], axis=1)
    landmarks = np.zeros((33, 3))
    landmarks[:, 0] = 0.5 * w
    landmarks[:, 1] = np.linspace(0.2 * h, 0.9 * h, 33)
    landmarks[:, 2] = 1.0
    return FrameAngles(
        t=0.0,
        pose=True,
        hip_flexion_deg=70.0,
        lumbar_flexion_deg=lumbar,
        knee_flexion_deg=12.4,
        back_outline=outline,
        landmarks=landmarks,
    )


def test_lumbar_colour_bands():
    assert lumbar_colour(None, 10, 15) == GREY
    assert lumbar_colour(3.0, 10, 15) == GREEN
    assert lumbar_colour(12.0, 10, 15) == AMBER
    assert lumbar_colour(15.0, 10, 15) == AMBER
    assert lumbar_colour(15.5, 10, 15) == RED
    assert lumbar_colour(12.0, 13, 20) == GREEN  # thresholds are honoured
    assert format_angle(None) == "--" and format_angle(44.6) == "45 deg"


@pytest.mark.parametrize(
    ("lumbar", "colour"), [(4.0, GREEN), (12.0, AMBER), (22.0, RED), (None, GREY)]
)
@pytest.mark.parametrize("size", [(640, 360), (1920, 1080)])
def test_outline_drawn_in_lumbar_colour(lumbar, colour, size):
    w, h = size
    image = np.full((h, w, 3), 60, np.uint8)
    before = image.copy()
    out = annotate(image, _angles(lumbar, size=size), OverlayState())
    assert np.array_equal(image, before), "annotate must not draw on its input"
    assert out.shape == image.shape and out.dtype == np.uint8
    y = round(0.6 * h)
    for x in (round(0.35 * w), round(0.45 * w), round(0.65 * w)):
        assert tuple(int(v) for v in out[y, x]) == colour
    # Off the outline, away from panels, the frame is untouched.
    assert tuple(out[round(0.45 * h), round(0.3 * w)]) == (60, 60, 60)


def test_invisible_landmarks_are_skipped():
    w, h = 640, 360
    image = np.full((h, w, 3), 60, np.uint8)
    angles = _angles(None)
    angles.back_outline = None
    angles.landmarks[:, 2] = 0.1  # nothing visible
    out = annotate(image, angles, OverlayState())
    x, y = round(0.5 * w), round(0.5 * h)
    assert tuple(out[y, x]) == (60, 60, 60)
    angles.landmarks[:, 2] = 1.0
    out = annotate(image, angles, OverlayState())
    assert tuple(out[y, x]) != (60, 60, 60)


def test_banners_rounding_and_no_angles():
    w, h = 640, 360
    image = np.full((h, w, 3), 60, np.uint8)
    plain = annotate(image, None, OverlayState())
    assert np.array_equal(plain[h - 5 :, :], image[h - 5 :, :])
    out = annotate(image, None, OverlayState(rep_count=2, phase="ascent", banners=["Back rounded"]))
    bottom = out[h - 20 : h - 7, 10 : w - 10].reshape(-1, 3).astype(int)
    reddish = (bottom[:, 0] > 150) & (bottom[:, 1] < 80) & (bottom[:, 2] < 80)
    assert reddish.mean() > 0.5
    flagged = annotate(image, None, OverlayState(rounding=True))
    assert tuple(int(v) for v in flagged[h // 2, 1]) == RED


def _decode(path):
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        info = (
            stream.codec_context.name,
            stream.codec_context.pix_fmt,
            stream.width,
            stream.height,
        )
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    return info, frames


@pytest.mark.parametrize(("w", "h"), [(160, 120), (161, 121)])
def test_sink_writes_browser_playable_mp4(tmp_path, w, h):
    path = tmp_path / "out.mp4"
    with VideoSink(path, w, h, 25) as sink:
        for i in range(17):
            sink.write(np.full((h, w, 3), 10 * i, np.uint8))
    (codec, pix_fmt, ow, oh), frames = _decode(path)
    assert (codec, pix_fmt) == ("h264", "yuv420p")
    assert (ow, oh) == (w + w % 2, h + h % 2)
    assert len(frames) == 17
    assert abs(int(frames[9][h // 2, w // 2].mean()) - 90) <= 3
    data = path.read_bytes()
    assert 0 < data.find(b"moov") < data.find(b"mdat"), "index must come first (+faststart)"
    with pytest.raises(ValueError, match="shape"):
        VideoSink(tmp_path / "x.mp4", w, h, 25).write(np.zeros((10, 10, 3), np.uint8))


def test_sink_keeps_timestamps(tmp_path):
    times = [0.0, 0.1, 0.15, 0.6, 0.65]
    path = tmp_path / "vfr.mp4"
    with VideoSink(path, 64, 48, 10) as sink:
        for t in times:
            sink.write(np.zeros((48, 64, 3), np.uint8), t)
    assert [f.t for f in iter_frames(path)] == pytest.approx(times, abs=1e-3)


def test_transcode_rotated_mpeg4_to_upright_h264(tmp_path):
    src = tmp_path / "phone.mp4"
    with av.open(str(src), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 80, 60, "yuv420p"
        stream.set_display_rotation(-90)
        for i in range(6):
            img = np.full((60, 80, 3), 30 * i, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    dst = transcode_to_h264(src, tmp_path / "web.mp4")
    info = probe(dst)
    assert (info.codec, info.width, info.height, info.rotation, info.frames) == (
        "h264",
        60,
        80,
        0,
        6,
    )
