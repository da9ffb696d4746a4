"""Live coaching: the session's stream helpers, the WebSocket protocol on a real server with real
clips, back-pressure, bad input, and `formcheck live --source ... --no-window`.
"""

from __future__ import annotations

import asyncio
import json
import struct
import time

import cv2
import numpy as np
import pytest
from conftest import rep_range, run_cli, stderr_lines
from conftest_server import ServerProcess, footage, labels

from formcheck.errors import InputError
from formcheck.kinematics import SMOOTHED_FIELDS, RawFrame
from formcheck.live import decode_image
from formcheck.smoothing import OutlineSmoother
from formcheck.view import FrameView, ViewTracker
from server.live import LatestFrame, LiveConfigError, parse_config, split_frame

ROUNDED = "tby66_0016r_1.mp4"
NEUTRAL = "tby66_0016c_1.mp4"
FRAME_KEYS = {"t", "pose", "landmarks", "back_outline", "angles", "rep", "cues"}
ANGLE_KEYS = {
    "hip_flexion_deg",
    "lumbar_flexion_deg",
    "thoracic_flexion_deg",
    "trunk_inclination_deg",
    "knee_flexion_deg",
}


# -- small parts -------------------------------------------------------------------------------
def test_decode_image_refuses_non_images() -> None:
    with pytest.raises(InputError):
        decode_image(b"")
    with pytest.raises(InputError):
        decode_image(b"\xff\xd8 not really a jpeg")
    ok, jpeg = cv2.imencode(".jpg", np.full((48, 64, 3), (0, 0, 255), np.uint8))
    image = decode_image(jpeg.tobytes())
    assert image.shape == (48, 64, 3)
    assert image[0, 0, 0] > 200 and image[0, 0, 2] < 50  # BGR red in, RGB red out


def test_parse_config_checks_exercise_and_height() -> None:
    assert parse_config('{"exercise": "squat", "height_cm": 180}') == ("squat", 180.0)
    assert parse_config("{}") == ("auto", None)
    for bad in ("not json", "[1]", '{"exercise": "bench"}', '{"height_cm": 9000}'):
        with pytest.raises(LiveConfigError):
            parse_config(bad)


def test_split_frame_reads_an_optional_time_prefix() -> None:
    jpeg = b"\xff\xd8\xff\xe0rest"
    assert split_frame(jpeg, 5.0) == (5.0, jpeg)
    assert split_frame(struct.pack(">d", 1.25) + jpeg, 5.0) == (1.25, jpeg)


def test_latest_frame_keeps_only_the_newest() -> None:
    async def scenario() -> tuple[tuple[float, bytes], LatestFrame]:
        slot = LatestFrame()
        for i in range(5):
            slot.put((float(i), b"x"))
        return await slot.get(), slot

    newest, slot = asyncio.run(scenario())
    assert newest == (4.0, b"x")
    assert slot.dropped == 4 and slot.received == 5


def test_facing_vote_follows_the_majority() -> None:
    vote = ViewTracker(facing_window=5, yaw_window=3)
    assert [vote.update(FrameView(10.0, v)) for v in (-1, -1, 1, 0, -1)][-1] == -1
    for yaw in (40.0, 50.0, 60.0, 70.0, 80.0):
        vote.update(FrameView(yaw, 1))
    assert vote.sign == 1
    assert vote.yaw == 70.0  # median of the last three


def test_spine_filter_is_causal_and_smooths() -> None:
    filt = OutlineSmoother(SMOOTHED_FIELDS)
    rng = np.random.default_rng(0)
    out = []
    for i in range(120):
        raw = RawFrame(t=i / 30, pose=None, pelvis_incl=30.0 + rng.normal(0, 4))
        out.append(filt(raw).pelvis_incl)
    assert np.std(out[30:]) < 0.6 * 4
    gap = filt(RawFrame(t=5.0, pose=None))  # a frame without outline resets the filter
    assert gap.pelvis_incl is None


# -- the WebSocket on a real server ------------------------------------------------------------
def encode_clip(clip: str, step: int = 1, limit: int | None = None) -> list[tuple[float, bytes]]:
    """(time, time-prefixed JPEG) of every `step`-th frame, 640 px on the long side."""
    from formcheck.video import VideoSource

    frames = []
    for i, frame in enumerate(VideoSource(footage(clip), max_side=640)):
        if i % step:
            continue
        bgr = cv2.cvtColor(frame.image, cv2.COLOR_RGB2BGR)
        ok, jpeg = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 80])
        frames.append((frame.t, struct.pack(">d", frame.t) + jpeg.tobytes()))
        if limit and len(frames) >= limit:
            break
    return frames


async def stream(url: str, frames, config: dict, wait: bool = True) -> tuple[list[dict], dict]:
    """Send frames (waiting for each answer when `wait`), then stop; (answers, final message)."""
    import websockets

    answers: list[dict] = []
    async with websockets.connect(url, max_size=2**24) as ws:
        await ws.send(json.dumps(config))
        for _, data in frames:
            await ws.send(data)
            if wait:
                answers.append(json.loads(await ws.recv()))
        await ws.send(json.dumps({"stop": True}))
        final = None
        async for message in ws:
            doc = json.loads(message)
            if "summary" in doc:
                final = doc
                break
            answers.append(doc)
    assert final is not None
    return answers, final


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    proc = ServerProcess(tmp_path_factory.mktemp("live") / "data").start()
    yield proc
    proc.stop()


def ws_url(server: ServerProcess) -> str:
    return server.url.replace("http://", "ws://") + "/api/live"


def rounding_cues(answers: list[dict]) -> list[tuple[float, dict]]:
    return [(a["t"], c) for a in answers for c in a.get("cues", []) if c["code"] == "rounding"]


@pytest.fixture(scope="module")
def rounded_run(server: ServerProcess):
    frames = encode_clip(ROUNDED, step=2)  # 60 fps clip sent at 30 fps
    return asyncio.run(stream(ws_url(server), frames, {"exercise": "deadlift", "height_cm": 175}))


@pytest.mark.slow
def test_rounded_clip_gets_a_rounding_cue_during_the_reps(rounded_run) -> None:
    answers, final = rounded_run
    for a in answers:
        assert set(a) == FRAME_KEYS
        assert set(a["angles"]) == ANGLE_KEYS
        assert set(a["rep"]) == {"count", "phase"}
    with_pose = [a for a in answers if a["pose"]]
    assert len(with_pose) > 0.9 * len(answers)
    lm = np.array([a["landmarks"] for a in with_pose])
    assert lm.shape[1:] == (33, 3)
    assert 0.0 <= np.median(lm[:, :, :2]) <= 1.0
    assert any(len(a["back_outline"]) > 5 for a in with_pose)

    reps = final["summary"]["reps"]
    lo, hi = rep_range(labels()[ROUNDED]["reps"])
    assert lo <= final["summary"]["rep_count"] <= hi
    assert answers[-1]["rep"]["count"] == final["summary"]["rep_count"]
    cues = rounding_cues(answers)
    assert cues, "no rounding cue"
    inside = [t for t, _ in cues if any(r["start_s"] <= t <= r["end_s"] + 1.0 for r in reps)]
    assert inside, f"rounding cues {cues} fall outside the reps {reps}"
    assert final["summary"]["rounded_reps"] >= len(reps) // 2
    assert final["summary"]["rounding"] is True and final["summary"]["verdict"] == "rounded"
    texts = [c["text"] for a in answers for c in a["cues"]]
    assert any(t.startswith("Rep ") and "rounded" in t for t in texts), texts
    assert final["cues"] and final["cues"][0]["code"] == "set_summary"


@pytest.mark.slow
def test_cues_come_one_at_a_time_and_never_nag(rounded_run) -> None:
    answers, _ = rounded_run
    assert all(len(a["cues"]) <= 1 for a in answers)
    said = [(a["t"], c) for a in answers for c in a["cues"]]
    times = [t for t, _ in said]
    assert all(b - a >= 0.99 for a, b in zip(times, times[1:], strict=False))
    # a rounding cue at most once per rep: never two without a rep count change between them
    counts = {a["t"]: a["rep"]["count"] for a in answers}
    rounding = [counts[t] for t, c in said if c["code"] == "rounding"]
    assert len(rounding) == len(set(rounding))


@pytest.mark.slow
def test_neutral_clip_gets_no_rounding_cue(server: ServerProcess) -> None:
    frames = encode_clip(NEUTRAL, step=2)
    answers, final = asyncio.run(stream(ws_url(server), frames, {"exercise": "auto"}))
    lo, hi = rep_range(labels()[NEUTRAL]["reps"])
    assert lo <= final["summary"]["rep_count"] <= hi
    assert rounding_cues(answers) == []
    summary = final["summary"]
    assert summary["rounded_reps"] == 0
    # The set's verdict in all its forms agrees: never "rounded" here, and `rounding` matches.
    assert summary["verdict"] in ("flat", "not_judged")
    assert summary["rounding"] is {"flat": False, "not_judged": None}[summary["verdict"]]


@pytest.mark.slow
def test_stale_frames_are_dropped_not_queued(server: ServerProcess) -> None:
    frames = encode_clip(ROUNDED, step=1, limit=60)
    started = time.monotonic()
    answers, final = asyncio.run(stream(ws_url(server), frames, {}, wait=False))
    stats = final["stats"]
    assert stats["frames_received"] == 60
    assert stats["frames_dropped"] > 0
    assert len(answers) == stats["frames_processed"] < 60
    ts = [a["t"] for a in answers]
    assert ts == sorted(ts)
    assert time.monotonic() - started < 60


@pytest.mark.slow
def test_bad_input_gets_clear_errors(server: ServerProcess) -> None:
    import websockets

    async def scenario() -> tuple[dict, dict, dict, dict]:
        async with websockets.connect(ws_url(server)) as ws:
            await ws.send('{"exercise": "bench"}')
            refused = json.loads(await ws.recv())
        async with websockets.connect(ws_url(server)) as ws:
            await ws.send(b"\xff\xd8 a frame before any config")
            no_config = json.loads(await ws.recv())
        async with websockets.connect(ws_url(server)) as ws:
            await ws.send("{}")
            await ws.send(b"\xff\xd8 broken")
            bad = json.loads(await ws.recv())
            await ws.send(encode_clip(NEUTRAL, limit=1)[0][1])
            good = json.loads(await ws.recv())
        return refused, no_config, bad, good

    refused, no_config, bad, good = asyncio.run(scenario())
    assert "exercise must be one of" in refused["error"]
    assert "first message must be a JSON config" in no_config["error"]
    assert "not a readable JPEG" in bad["error"]
    assert set(good) == FRAME_KEYS


@pytest.mark.slow
def test_live_page_is_served(server: ServerProcess) -> None:
    import httpx

    page = httpx.get(server.url + "/live", timeout=10)
    assert page.status_code == 200 and "live.js" in page.text
    assert 'href="/live"' in httpx.get(server.url + "/", timeout=10).text


# -- the command line --------------------------------------------------------------------------
@pytest.mark.slow
def test_cli_live_replays_a_file_and_prints_cues() -> None:
    proc = run_cli("live", "--source", footage(ROUNDED), "--no-window", timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Flat back" in proc.stdout
    assert "Set done:" in proc.stdout
    assert not [line for line in stderr_lines(proc.stderr) if "Traceback" in line]


def test_cli_live_bad_source_is_one_clear_line() -> None:
    proc = run_cli("live", "--source", "no-such-clip.mp4", "--no-window", timeout=120)
    assert proc.returncode == 2
    lines = stderr_lines(proc.stderr)
    assert lines and "file not found" in lines[-1] and "Traceback" not in proc.stderr


def test_frame_header_gives_format_and_size_without_decoding() -> None:
    from formcheck.frame_header import FrameTooLarge, check_frame, frame_size

    image = np.full((48, 64, 3), 90, np.uint8)
    _, jpeg = cv2.imencode(".jpg", image)
    _, progressive = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])
    _, lossy = cv2.imencode(".webp", image, [cv2.IMWRITE_WEBP_QUALITY, 80])
    _, lossless = cv2.imencode(".webp", image, [cv2.IMWRITE_WEBP_QUALITY, 101])
    assert frame_size(jpeg.tobytes()) == ("jpeg", 64, 48)
    assert frame_size(progressive.tobytes()) == ("jpeg", 64, 48)
    assert frame_size(lossy.tobytes()) == ("webp", 64, 48)
    assert frame_size(lossless.tobytes()) == ("webp", 64, 48)
    extended = b"RIFF\x00\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00" + b"\x00" * 4
    extended += (4999).to_bytes(3, "little") + (2999).to_bytes(3, "little")
    assert frame_size(extended) == ("webp", 5000, 3000)
    with pytest.raises(FrameTooLarge, match="5000x3000"):
        check_frame(extended)
    _, png = cv2.imencode(".png", image)
    for data in (png.tobytes(), b"GIF89a" + b"\x00" * 20, jpeg.tobytes()[:40]):
        with pytest.raises(InputError, match="JPEG or WebP"):
            check_frame(data)
    with pytest.raises(InputError):
        decode_image(png.tobytes())  # the decoder would read PNG; live frames are JPEG/WebP
    assert decode_image(lossy.tobytes()).shape == (48, 64, 3)


def test_parse_config_survives_hostile_text() -> None:
    for text in ("[" * 100_000 + "]" * 100_000, '{"a": "' + "x" * 10_000 + '"}'):
        with pytest.raises(LiveConfigError, match="JSON config object"):
            parse_config(text)


OBLIQUE = "bichraix_good002.mp4"  # 45 deg front-oblique


def test_cli_live_on_an_oblique_clip_asks_for_side_on_and_never_calls_the_back_flat() -> None:
    proc = run_cli("live", "--source", footage(OBLIQUE), "--no-window", timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Turn side-on to the camera" in proc.stdout
    assert "flat back" not in proc.stdout.lower().replace("flat back — push", "")
    assert "Rep 1:" not in proc.stdout  # no rep is counted, so none is judged
