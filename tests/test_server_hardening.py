"""The real server (uvicorn on loopback) against hostile or careless clients: pixel bombs and
idle or malformed live sessions, other origins on this computer, crafted Host headers, secrets
in the log, long upload names, a truncated clip, and native library log lines on its console.

In:  `python -m server` subprocesses (tests/conftest_server.py), real WebSocket and HTTP clients,
     real clips from ../shared/footage.
Out: assertions on status and close codes, timings, the server's peak memory and its log.
"""

from __future__ import annotations

import json
import socket
import struct
import time
import zlib
from pathlib import Path

import av
import cv2
import httpx
import numpy as np
import pytest
from conftest import LIBRARY_LOG_PREFIXES
from conftest_server import FOOTAGE, ServerProcess, follow, upload, wait_for
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from server.security import COOKIE_NAME, load_or_create_token

GOOD_SHORT = FOOTAGE / "kaiakol_squat_correct_016.mp4"
LONG_CLIP = FOOTAGE / "tby66_0016r_1.mp4"  # 26.3 s
needs_footage = pytest.mark.skipif(not GOOD_SHORT.exists(), reason="../shared/footage not present")


def _ws(server: ServerProcess, origin: str | None = None):
    url = f"ws://127.0.0.1:{server.port}/api/live"
    origin = origin if origin is not None else server.url
    return connect(url, origin=origin, open_timeout=20, max_size=2**24)


def _closed(ws, timeout: float) -> tuple[list[dict], int, str]:
    """Messages received until the server closes; (messages, close code, close reason)."""
    messages: list[dict] = []
    try:
        while True:
            messages.append(json.loads(ws.recv(timeout=timeout)))
    except ConnectionClosed as exc:
        assert exc.rcvd is not None, "closed without a close frame"
        return messages, exc.rcvd.code, exc.rcvd.reason


def _jpeg(width: int = 320, height: int = 240) -> bytes:
    ok, data = cv2.imencode(".jpg", np.full((height, width, 3), 90, np.uint8))
    assert ok
    return data.tobytes()


def _lift_jpeg() -> bytes:
    with av.open(str(GOOD_SHORT)) as clip:
        frame = next(clip.decode(video=0)).to_ndarray(format="bgr24", width=640, height=360)
    ok, data = cv2.imencode(".jpg", frame)
    assert ok
    return data.tobytes()


def _png_bomb(side: int = 20000) -> bytes:
    """A real greyscale PNG of side x side px, a few hundred KB compressed."""
    zipper = zlib.compressobj(9)
    row = b"\x00" * (side + 1)
    idat = b"".join(zipper.compress(row) for _ in range(side)) + zipper.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def _jpeg_bomb(side: int = 20000) -> bytes:
    """A small real JPEG whose frame header is rewritten to claim side x side px."""
    data = bytearray(_jpeg(16, 16))
    at = data.index(b"\xff\xc0")
    data[at + 5 : at + 9] = struct.pack(">HH", side, side)
    return bytes(data)


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc status")


def _whole_log(server: ServerProcess) -> str:
    """Everything the server printed so far (its console, stdout and stderr)."""
    assert server.log_path is not None
    return server.log_path.read_text(encoding="utf-8", errors="replace")


def _library_lines(text: str) -> list[str]:
    """MediaPipe / TensorFlow Lite lines (uvicorn's own `INFO:     ...` lines are not)."""
    return [
        line
        for line in text.splitlines()
        if line.startswith(LIBRARY_LOG_PREFIXES) and not line.startswith("INFO:    ")
    ]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    data = tmp_path_factory.mktemp("hardening") / "data"
    proc = ServerProcess(data, extra=("--live-idle-seconds", "1.5")).start()
    yield proc
    proc.stop()


# --- live frames: format and pixel limit ------------------------------------------------------


@needs_footage
def test_pixel_bombs_are_refused_from_the_header(server: ServerProcess) -> None:
    png, bomb = _png_bomb(), _jpeg_bomb()
    assert len(png) < 1_000_000 and len(bomb) < 2000
    with _ws(server) as ws:
        ws.send("{}")
        ws.send(_lift_jpeg())  # a real frame first: the pose graph is loaded
        assert "pose" in json.loads(ws.recv(timeout=120))
        before = _peak_rss_mb(server.process.pid)
        started = time.monotonic()
        ws.send(struct.pack(">d", 1.0) + png)  # with a capture time, as the live page sends
        answer = json.loads(ws.recv(timeout=30))
        assert time.monotonic() - started < 2.0
        assert "JPEG or WebP" in answer["error"], answer
        started = time.monotonic()
        ws.send(struct.pack(">d", 1.1) + bomb)
        messages, code, reason = _closed(ws, timeout=30)
        assert time.monotonic() - started < 2.0
    assert code == 1009 and "20000x20000" in reason, (code, reason)
    assert any("too large" in m.get("error", "") for m in messages), messages
    assert _peak_rss_mb(server.process.pid) - before < 100
    assert httpx.get(f"{server.url}/api/config", timeout=5).status_code == 200


def test_webp_frames_are_read(server: ServerProcess) -> None:
    ok, webp = cv2.imencode(".webp", np.full((240, 320, 3), 90, np.uint8))
    assert ok
    with _ws(server) as ws:
        ws.send("{}")
        ws.send(webp.tobytes())
        answer = json.loads(ws.recv(timeout=120))
    assert "error" not in answer and answer["pose"] is False, answer


# --- live sessions: idle, malformed config ----------------------------------------------------


def test_idle_sessions_are_closed_and_free_their_slot(server: ServerProcess) -> None:
    idle = [_ws(server) for _ in range(4)]
    for ws in idle:
        ws.send('{"exercise": "auto"}')
    # Each takes its slot when its config is read (a busy machine needs a moment); none is
    # closed for idling before 1.5 s after its pose model has loaded.
    time.sleep(0.8)
    with _ws(server) as fifth:
        messages, code, _ = _closed(fifth, timeout=10)
    assert code == 1013 and "too many live sessions" in messages[0]["error"]
    started = time.monotonic()
    for ws in idle:
        messages, code, reason = _closed(ws, timeout=60)
        assert code == 4408 and "no frame for 1.5 s" in reason, (code, reason)
        assert messages and "no frame" in messages[-1]["error"]
        ws.close()
    assert time.monotonic() - started < 30
    with _ws(server) as ws:  # the slots are free again
        ws.send("{}")
        ws.send(_jpeg())
        assert "pose" in json.loads(ws.recv(timeout=60))


@pytest.mark.parametrize(
    "config",
    ["[" * 100_000 + "]" * 100_000, '{"exercise": "auto", "pad": "' + "x" * 100_000 + '"}'],
    ids=["deeply-nested", "oversized"],
)
def test_hostile_config_gets_the_bad_config_answer(server: ServerProcess, config: str) -> None:
    with _ws(server) as ws:
        ws.send(config)
        messages, code, reason = _closed(ws, timeout=20)
    assert code == 1003, (code, reason)
    assert messages and "first message must be a JSON config object" in messages[0]["error"]
    assert "first message must be a JSON config" in reason
    with _ws(server) as ws:  # the server is unharmed
        ws.send('{"exercise": "bench"}')
        messages, code, _ = _closed(ws, timeout=20)
    assert code == 1003 and "exercise must be one of" in messages[0]["error"]


# --- origins and hosts ------------------------------------------------------------------------


def test_only_the_servers_own_origin_may_write(server: ServerProcess) -> None:
    others = (
        "http://localhost:9999",  # another program's page on this computer
        "http://127.0.0.1:9999",
        f"https://127.0.0.1:{server.port}",  # other scheme
        f"http://localhost:{server.port}",  # other host name than the request's (127.0.0.1)
    )
    files = {"video": ("a.mp4", b"not a video", "video/mp4")}
    for origin in others:
        post = httpx.post(f"{server.url}/api/analyses", headers={"Origin": origin}, files=files)
        assert post.status_code == 403, (origin, post.text)
        delete = httpx.delete(f"{server.url}/api/analyses/{'0' * 32}", headers={"Origin": origin})
        assert delete.status_code == 403, origin
        with pytest.raises(InvalidStatus) as refused:
            _ws(server, origin=origin).close()
        assert refused.value.response.status_code == 403, origin
    own = httpx.post(f"{server.url}/api/analyses", headers={"Origin": server.url}, files=files)
    assert own.status_code == 415  # let through, then refused as not a video
    with _ws(server) as ws:
        ws.send('{"exercise": "bench"}')
        assert "exercise" in json.loads(ws.recv(timeout=20))["error"]


def _raw_status(port: int, host: str) -> int:
    """Status of a GET sent byte for byte, with exactly this Host header."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            f"GET /api/analyses HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
        )
        reply = sock.recv(4096).decode("latin-1")
    return int(reply.split()[1])


def test_host_header_is_parsed_strictly(server: ServerProcess) -> None:
    port = server.port
    for host in (
        f"127.0.0.1:{port}@evil.example",
        f"localhost:{port}, evil.example",
        "127.0.0.1:x",
    ):
        assert _raw_status(port, host) == 400, host
    assert _raw_status(port, "evil.example") == 403
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "localhost", f"[::1]:{port}"):
        assert _raw_status(port, host) == 200, host


# --- uploads: long names, truncated clips -----------------------------------------------------


@needs_footage
def test_long_upload_name_keeps_its_extension(server: ServerProcess) -> None:
    name = "a very long name " * 15 + ".mp4"  # 259 characters, more than a file name may have
    with GOOD_SHORT.open("rb") as fh:
        files = {"video": (name, fh, "video/mp4")}
        response = httpx.post(f"{server.url}/api/analyses", files=files, timeout=60)
    assert response.status_code == 202, response.text
    analysis_id = response.json()["id"]
    item = next(i for i in httpx.get(f"{server.url}/api/analyses").json() if i["id"] == analysis_id)
    assert item["filename"].endswith(".mp4") and len(item["filename"]) <= 200
    assert [p.name for p in server.data_dir.rglob(f"{analysis_id}/input*")] == ["input.mp4"]
    assert follow(server.url, analysis_id)[-1]["status"] == "done"


def _faststart_cut(target: Path, fraction: float) -> Path:
    """The long clip remuxed with its index at the front, then cut to `fraction` of its bytes."""
    whole = target.with_name("whole.mp4")
    with (
        av.open(str(LONG_CLIP)) as src,
        av.open(str(whole), "w", options={"movflags": "+faststart"}) as out,
    ):
        stream = out.add_stream_from_template(src.streams.video[0])
        for packet in src.demux(src.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                out.mux(packet)
    data = whole.read_bytes()
    target.write_bytes(data[: int(len(data) * fraction)])
    return target


@needs_footage
def test_truncated_clip_history_shows_the_analysed_duration(
    server: ServerProcess, tmp_path: Path
) -> None:
    clip = _faststart_cut(tmp_path / "cut short.mp4", 0.15)
    response = upload(server.url, clip)
    assert response.status_code == 202, response.text
    analysis_id = response.json()["id"]
    assert follow(server.url, analysis_id)[-1]["status"] == "done"
    report = httpx.get(f"{server.url}/api/analyses/{analysis_id}/report.json").json()
    last_t = report["frames"][-1]["t"]
    assert last_t < 10  # the clip was cut well before its announced 26.3 s
    assert report["video"]["duration_s"] == pytest.approx(last_t, abs=0.1)  # what was analysed
    item = next(i for i in httpx.get(f"{server.url}/api/analyses").json() if i["id"] == analysis_id)
    assert item["duration_s"] == pytest.approx(last_t, abs=0.1)
    assert not _library_lines(_whole_log(server)), _library_lines(_whole_log(server))[:3]


# --- the console ------------------------------------------------------------------------------


@needs_footage
def test_server_console_has_no_library_log_lines(server: ServerProcess) -> None:
    with _ws(server) as ws:
        ws.send("{}")
        ws.send(_lift_jpeg())
        assert "pose" in json.loads(ws.recv(timeout=120))
    time.sleep(0.5)
    log = _whole_log(server)
    assert "GET /api/config" in log  # the console is captured
    assert not _library_lines(log), _library_lines(log)[:3]


def test_access_token_never_reaches_the_log(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    token, _ = load_or_create_token(data)  # not created at start: the server does not print it
    proc = ServerProcess(data, extra=("--allow-remote",)).start()
    try:
        link = httpx.get(f"{proc.url}/?token={token}", follow_redirects=False)
        assert link.status_code == 303
        bearer = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{proc.url}/api/config?token={token}", headers=bearer).status_code == 200
        cookies = {COOKIE_NAME: token}
        assert httpx.get(f"{proc.url}/api/analyses", cookies=cookies).status_code == 200
        assert httpx.get(f"{proc.url}/?token=wrong-{token[:8]}").status_code == 401
        wait_for(lambda: proc.log().count("GET /") >= 4, 10, what="access log lines")
    finally:
        proc.stop()
    log = _whole_log(proc)
    assert "token=<redacted>" in log and '"GET /?token=<redacted> HTTP/1.1" 303' in log, log
    assert token not in log and token[:8] not in log
