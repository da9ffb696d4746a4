"""Who may reach the server: loopback by default, an access token for remote clients, no CORS,
same-origin WebSockets, uploads only under generated names, the size cap enforced while streaming.

In:  the real app (in-process through Starlette's test client for the access rules; a real
     uvicorn subprocess on 127.0.0.1 for the token on first start, WebSockets and the upload cap).
Out: assertions on status codes, headers, cookies, the token file and the data folder.
"""

from __future__ import annotations

import os
import re
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest_server import REPO, ServerProcess, footage, free_port
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from server.app import create_app
from server.security import COOKIE_NAME, TOKEN_FILE, load_or_create_token
from server.settings import Settings

EVIL = "http://evil.example"
LIVE_PATH = "/api/live"


def _route_paths(routes) -> list[str]:
    """Every route path of the app, including those of included routers."""
    paths = []
    for route in routes:
        if getattr(route, "path", None) is not None:
            paths.append(route.path)
        sub = getattr(route, "original_router", None)
        if sub is not None:
            paths += _route_paths(sub.routes)
    return paths


def _has_websocket_route(app) -> bool:
    return LIVE_PATH in _route_paths(app.routes)


@pytest.fixture()
def local_client(tmp_path: Path):
    app = create_app(Settings(data_dir=tmp_path / "data"))
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        yield client


@pytest.fixture()
def remote(tmp_path: Path):
    data = tmp_path / "data"
    data.mkdir()
    token, created = load_or_create_token(data)
    assert created
    app = create_app(Settings(data_dir=data, allow_remote=True, access_token=token))
    with TestClient(app, base_url="http://192.168.1.20:8000") as client:
        yield client, token


# --- the token file ---------------------------------------------------------------------------


def test_token_is_created_once_with_private_permissions(tmp_path: Path) -> None:
    token, created = load_or_create_token(tmp_path)
    path = tmp_path / TOKEN_FILE
    assert created and len(token) >= 40
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().strip() == token
    again, created_again = load_or_create_token(tmp_path)
    assert (again, created_again) == (token, False)
    path.chmod(0o644)  # loosened by hand: tightened again, same token
    assert load_or_create_token(tmp_path) == (token, False)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.write_text("short\n")  # damaged: replaced by a fresh one
    fresh, created = load_or_create_token(tmp_path)
    assert created and fresh != token
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def _ws_refused(client: TestClient, headers: dict[str, str]) -> None:
    """The WebSocket handshake is refused (closed with 1008 before it is accepted)."""
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect(LIVE_PATH, headers=headers),
    ):
        pass
    assert refused.value.code == 1008, headers


# --- local mode (default) ---------------------------------------------------------------------


def test_local_mode_refuses_other_hosts_and_origins(local_client: TestClient) -> None:
    assert local_client.get("/api/config").status_code == 200
    # DNS rebinding: a page of evil.example resolved to 127.0.0.1 sends its own Host.
    response = local_client.get("/api/analyses", headers={"Host": "evil.example"})
    assert response.status_code == 403 and "this computer" in response.json()["detail"]
    for headers in ({"Origin": EVIL}, {"Sec-Fetch-Site": "cross-site"}, {"Origin": "null"}):
        assert local_client.get("/api/analyses", headers=headers).status_code == 403, headers
    response = local_client.post("/api/analyses", headers={"Origin": EVIL}, files={"video": b"x"})
    assert response.status_code == 403 and "other sites" in response.json()["detail"]
    # Same machine, other port or scheme: another program's page, refused too.
    for origin in ("http://localhost:5173", "http://127.0.0.1:9999", "https://127.0.0.1:8000"):
        refused = local_client.get("/api/config", headers={"Origin": origin})
        assert refused.status_code == 403, origin
    # The server's own origin is fine.
    allowed = local_client.get("/api/config", headers={"Origin": "http://127.0.0.1:8000"})
    assert allowed.status_code == 200
    # A plain link from another site to the start page still opens it.
    assert local_client.get("/", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 200


def test_no_cors_for_other_origins(local_client: TestClient) -> None:
    preflight = local_client.options(
        "/api/analyses",
        headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    response = local_client.get("/api/config", headers={"Origin": "http://127.0.0.1:9999"})
    assert response.status_code == 403
    assert not any(h.startswith("access-control-") for h in response.headers)
    response = local_client.get("/api/config", headers={"Origin": "http://127.0.0.1:8000"})
    assert response.status_code == 200
    assert not any(h.startswith("access-control-") for h in response.headers)


def test_hardening_headers(local_client: TestClient) -> None:
    for path in ("/", "/api/config", "/static/style.css"):
        headers = local_client.get(path).headers
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["x-frame-options"] == "DENY", path


def test_local_websocket_checks_host_and_origin(local_client: TestClient) -> None:
    for headers in ({"Origin": EVIL}, {"Host": "evil.example"}):
        _ws_refused(local_client, headers)


# --- remote mode: the access token ------------------------------------------------------------


def test_remote_mode_needs_the_token_on_every_api_call(remote) -> None:
    client, token = remote
    bearer = {"Authorization": f"Bearer {token}"}
    for path in ("/api/config", "/api/analyses", f"/api/analyses/{'0' * 32}", "/openapi.json"):
        response = client.get(path)
        assert response.status_code == 401, path
        assert "token" in response.json()["detail"] and token not in response.text
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert client.get("/api/config", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/api/config", headers={"Authorization": f"Basic {token}"}).status_code == 401
    assert client.get("/api/config", headers=bearer).status_code == 200
    assert client.get(f"/api/analyses/{'0' * 32}", headers=bearer).status_code == 404
    assert client.post("/api/analyses", files={"video": ("a.mp4", b"x")}).status_code == 401
    # Any Host is fine remotely, but a page of another origin still may not write.
    cross = client.post(
        "/api/analyses", headers={**bearer, "Origin": EVIL}, files={"video": ("a.mp4", b"x")}
    )
    assert cross.status_code == 403
    same = client.post(
        "/api/analyses",
        headers={**bearer, "Origin": "http://192.168.1.20:8000"},
        files={"video": ("a.mp4", b"not a video")},
    )
    assert same.status_code == 415
    # Static assets carry no data and load without the token (the pages' styles and scripts).
    assert client.get("/static/style.css").status_code == 200


def test_access_link_sets_a_strict_cookie_for_the_pages(remote) -> None:
    client, token = remote
    assert client.get("/").status_code == 401
    assert client.get("/?token=wrong", follow_redirects=False).status_code == 401
    response = client.get(f"/?token={token}", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}={token};")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    client.cookies.set(COOKIE_NAME, token)
    assert client.get("/").status_code == 200
    assert client.get("/api/analyses").status_code == 200
    viewer = client.get(f"/analyses/{'a' * 32}?token={token}&t=3", follow_redirects=False)
    assert viewer.headers["location"] == f"/analyses/{'a' * 32}?t=3"
    client.cookies.clear()
    assert client.get("/api/analyses").status_code == 401


def test_remote_websocket_needs_token_and_same_origin(remote) -> None:
    client, token = remote
    attempts = [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Bearer {token}", "Origin": EVIL},
    ]
    for headers in attempts:
        _ws_refused(client, headers)
    if not _has_websocket_route(client.app):
        pytest.skip("no live WebSocket route in this build")
    for headers in (
        {"Authorization": f"Bearer {token}"},
        {
            "Cookie": f"{COOKIE_NAME}={token}",
            "Host": "192.168.1.20:8000",
            "Origin": "http://192.168.1.20:8000",
        },
    ):
        with client.websocket_connect(LIVE_PATH, headers=headers) as ws:
            ws.close()


# --- paths never come from the request ---------------------------------------------------------


def test_no_route_takes_a_path_from_the_request(local_client: TestClient) -> None:
    paths = _route_paths(local_client.app.routes)
    assert "/api/analyses/{analysis_id}/report.json" in paths  # the walk sees included routers
    params = {p for path in paths for p in re.findall(r"{(\w+)(?::\w+)?}", path)}
    assert params <= {"analysis_id"}, params  # ids are checked against ^[0-9a-f]{32}$
    for path in (
        "/api/analyses/..%2F..%2Fformcheck.sqlite3",
        "/api/analyses/..%2Fformcheck.sqlite3/report.json",
        "/api/analyses/%2e%2e/video",
        "/static/..%2F..%2Fformcheck.sqlite3",
        "/static/%2e%2e/app.py",
    ):
        response = local_client.get(path)
        assert response.status_code == 404, path
        assert b"SQLite" not in response.content and b"create_app" not in response.content


def test_upload_names_are_generated_inside_the_data_folder(tmp_path: Path) -> None:
    data = tmp_path / "deep" / "data"
    app = create_app(Settings(data_dir=data))
    clip = footage("kaiakol_squat_correct_016.mp4")
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        for name in ("../../../escape.mp4", "..\\..\\escape.mp4", "/tmp/escape.mp4"):
            response = client.post(
                "/api/analyses", files={"video": (name, clip.read_bytes(), "video/mp4")}
            )
            assert response.status_code == 202, response.text
            analysis_id = response.json()["id"]
            row = client.get(f"/api/analyses/{analysis_id}").json()
            assert row["filename"] == "escape.mp4"
            folder = data / "analyses" / analysis_id
            assert (folder / "input.mp4").read_bytes() == clip.read_bytes()
            assert client.delete(f"/api/analyses/{analysis_id}").status_code == 204
    escaped = [p for p in tmp_path.rglob("*escape*")]
    assert escaped == [] and not Path("/tmp/escape.mp4").exists()


# --- the real server: token printed once, WebSocket, upload cap --------------------------------


def _serve(data: Path, port: int, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "server", "--port", str(port), "--data-dir", str(data)]
    return subprocess.Popen(
        [*command, "--workers", "1", *extra],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_listening(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"nothing listening on port {port}")


def _stop(proc: subprocess.Popen) -> str:
    proc.terminate()
    out, _ = proc.communicate(timeout=20)
    return out


@pytest.mark.slow
def test_remote_server_prints_token_once_and_requires_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    port = free_port()
    proc = _serve(data, port, "--allow-remote")
    try:
        _wait_listening(port)
        token = (data / TOKEN_FILE).read_text().strip()
        assert stat.S_IMODE((data / TOKEN_FILE).stat().st_mode) == 0o600
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/api/config").status_code == 401
        ok = httpx.get(f"{base}/api/config", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200
        _websocket_refused(f"ws://127.0.0.1:{port}{LIVE_PATH}", {})
        _websocket_refused(
            f"ws://127.0.0.1:{port}{LIVE_PATH}",
            {"Authorization": f"Bearer {token}", "Origin": EVIL},
        )
    finally:
        first = _stop(proc)
    assert f"?token={token}" in first and "only now" in first
    proc = _serve(data, port, "--allow-remote")
    try:
        _wait_listening(port)
    finally:
        second = _stop(proc)
    assert token not in second and TOKEN_FILE in second
    assert (data / TOKEN_FILE).read_text().strip() == token


def _websocket_refused(url: str, headers: dict[str, str]) -> None:
    """A real WebSocket client is refused during the handshake (HTTP 403)."""
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    origin = headers.get("Origin")
    extra = {k: v for k, v in headers.items() if k != "Origin"}
    with pytest.raises(InvalidStatus) as refused:
        connect(url, additional_headers=extra, origin=origin, open_timeout=10).close()
    assert refused.value.response.status_code == 403


@pytest.mark.slow
def test_upload_cap_is_enforced_while_streaming(tmp_path: Path) -> None:
    proc = ServerProcess(tmp_path / "data", max_upload_mb=1).start()
    uploads = proc.data_dir / "uploads"
    seen: list[int] = []
    try:
        boundary = "capboundary"

        def body():
            yield (
                f'--{boundary}\r\nContent-Disposition: form-data; name="video"; '
                f'filename="big.mp4"\r\nContent-Type: video/mp4\r\n\r\n'
            ).encode()
            chunk = b"\0" * (256 * 1024)
            for i in range(160):  # 40 MB, far over the 1 MB cap
                if i % 16 == 15:
                    time.sleep(0.05)
                    seen.append(sum(p.stat().st_size for p in uploads.glob("*.part")))
                yield chunk
            yield f"\r\n--{boundary}--\r\n".encode()

        response = httpx.post(
            f"{proc.url}/api/analyses",
            content=body(),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            timeout=60,
        )
        assert response.status_code == 413 and "1 MB" in response.json()["detail"]
        assert seen and max(seen) <= 2 * 1024 * 1024, seen  # never more than cap + one flush
        assert list(uploads.iterdir()) == []

        # A declared length far beyond the cap is refused before any of the body is read.
        with socket.create_connection(("127.0.0.1", proc.port), timeout=10) as sock:
            sock.sendall(
                b"POST /api/analyses HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: multipart/form-data; boundary=x\r\n"
                b"Content-Length: 100000000000\r\n\r\n"
            )
            reply = sock.recv(4096).decode("latin-1")
        assert reply.startswith("HTTP/1.1 413"), reply
        assert httpx.get(f"{proc.url}/api/analyses").json() == []
    finally:
        proc.stop()


# --- Host parsing and log redaction (fast) ------------------------------------------------------


def test_host_and_origin_are_parsed_strictly() -> None:
    from server.security import parse_host, parse_origin

    assert parse_host("127.0.0.1:8000") == ("127.0.0.1", 8000)
    assert parse_host("LocalHost") == ("localhost", 80)
    assert parse_host("[::1]:8000") == ("::1", 8000)
    for bad in ("127.0.0.1:8000@evil.example", "localhost:8000, evil.example", "a b", "", ":80"):
        assert parse_host(bad) is None, bad
    for bad in ("[::1", "[nope]:80", "host:99999", "host:80:81", "user@host"):
        assert parse_host(bad) is None, bad
    assert parse_origin("http://127.0.0.1:8000") == ("http", "127.0.0.1", 8000)
    assert parse_origin("https://example.org") == ("https", "example.org", 443)
    for bad in ("null", "file://", "http://a:1@b", "http://host/path", "ftp://host"):
        assert parse_origin(bad) is None, bad


def test_log_records_lose_their_secrets() -> None:
    import logging

    from server.logredact import RedactSecrets, redact

    secret = "S3cr3t-token_value-0123456789abcdef0123456789"
    assert redact(f"GET /?token={secret}&next=/live HTTP/1.1") == (
        "GET /?token=<redacted>&next=/live HTTP/1.1"
    )
    assert secret not in redact(f"Authorization: Bearer {secret}")
    assert secret not in redact(f"cookie: {COOKIE_NAME}={secret}; other=1")
    assert redact(f"anything {secret} at all", secret) == "anything <redacted> at all"
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s" %d',
        ("127.0.0.1:5", "GET", f"/?token={secret}", 303),
        None,
    )
    assert RedactSecrets(secret).filter(record)
    assert secret not in record.getMessage() and "token=<redacted>" in record.getMessage()
