"""Who may talk to the server: loopback-only by default, an access token when remote clients are allowed.

In:  every HTTP and WebSocket connection (ASGI scope); the settings' `allow_remote` and token.
Out: the request passed on to the app, or refused (400 for a malformed Host header, 403 for
     other hosts and cross-site requests, 401 without the token; a WebSocket is closed before its handshake completes, which clients
     see as HTTP 403). A `/?token=...` link sets an HttpOnly cookie so the browser pages work.

Both modes: the Host header must be exactly a host name or address with an optional port, and a
request that carries an Origin may touch the API or a WebSocket only when that origin is the
server's own (same scheme, host and port as the request was sent to): stops CSRF and cross-site
reads, also from other programs' pages on this computer.
Local mode (default): the Host must be a loopback name (stops DNS rebinding).
Remote mode (`--allow-remote`): the Host may be anything, and every API call, page and
WebSocket needs `Authorization: Bearer <token>` or the cookie.
Static assets (/static/...) carry no data and are served to anyone who may connect at all.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import re
import secrets
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Receive, Scope, Send

LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1"}
TOKEN_FILE = "access-token"
COOKIE_NAME = "formcheck_token"
_COOKIE_MAX_AGE_S = 365 * 24 * 3600
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
_OTHER_HOST = "This formcheck server only answers pages served from this computer."
_BAD_HOST = "The Host header is not a valid host name (name or address, optionally :port)."
_CROSS_SITE = "Requests from pages of other sites are not accepted."
_NEED_TOKEN = (
    "This formcheck server needs its access token: open the link printed when it was first "
    "started, or send 'Authorization: Bearer <token>' (the token is in the file "
    f"'{TOKEN_FILE}' in the server's data folder)."
)


def load_or_create_token(data_dir: Path) -> tuple[str, bool]:
    """The access token stored in the data folder (mode 0600); creates one if there is none.

    Returns (token, created). Raises OSError if the folder cannot be written.
    """
    path = Path(data_dir) / TOKEN_FILE
    if path.exists():
        token = path.read_text(encoding="ascii", errors="replace").strip()
        if len(token) >= 32 and token.replace("-", "").replace("_", "").isalnum():
            if path.stat().st_mode & 0o077:
                path.chmod(0o600)
            return token, False
    token = secrets.token_urlsafe(32)
    temp = path.with_name(f".{TOKEN_FILE}.{secrets.token_hex(4)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, token.encode("ascii") + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temp, path)
    return token, True


_HOST = re.compile(
    r"(?:\[(?P<ipv6>[0-9A-Fa-f:.]+)\]|(?P<name>[A-Za-z0-9][A-Za-z0-9.-]*))(?::(?P<port>\d{1,5}))?"
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def parse_host(value: str, scheme: str = "http") -> tuple[str, int] | None:
    """(host name in lower case, port) of a Host header value, or None when it is not exactly
    `name[:port]`, `IPv4[:port]` or `[IPv6][:port]`; anything else (`a:1@b`, `a, b`) is refused
    rather than guessed at. The port defaults to the scheme's."""
    match = _HOST.fullmatch(value.strip())
    if match is None:
        return None
    port = int(match["port"]) if match["port"] else _DEFAULT_PORTS.get(scheme, 80)
    if not 0 < port < 65536:
        return None
    if match["ipv6"] is not None:
        try:
            return str(ipaddress.IPv6Address(match["ipv6"])), port
        except ValueError:
            return None
    name = match["name"].lower().rstrip(".")
    return (name, port) if name and ".." not in name else None


def parse_origin(origin: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of a browser Origin (`scheme://host[:port]`), None if malformed."""
    scheme, sep, rest = origin.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in _DEFAULT_PORTS:
        return None
    host = parse_host(rest, scheme)
    return None if host is None else (scheme, *host)


def host_name(value: str) -> str:
    """Host name of a Host header or an origin URL (no port or brackets, lower case); '' when
    the value is malformed."""
    if "://" in value:
        origin = parse_origin(value)
        return origin[1] if origin else ""
    host = parse_host(value)
    return host[0] if host else ""


def _own_origin(scope: Scope, host_header: str) -> tuple[str, str, int] | None:
    """The origin of the pages this server serves, as the request addressed it."""
    scheme = {"ws": "http", "wss": "https"}.get(scope.get("scheme", "http"), scope.get("scheme"))
    scheme = scheme if scheme in _DEFAULT_PORTS else "http"
    host = parse_host(host_header, scheme)
    return None if host is None else (scheme, *host)


def token_matches(candidate: str | None, token: str) -> bool:
    """Constant-time comparison."""
    return bool(candidate) and hmac.compare_digest(candidate.encode(), token.encode())


class AccessGuard:
    """ASGI middleware applying the rules in the module docstring to HTTP and WebSocket."""

    def __init__(self, app: ASGIApp, allow_remote: bool = False, token: str | None = None) -> None:
        if allow_remote and not token:
            raise ValueError("remote access needs a token")
        self.app = app
        self.allow_remote = allow_remote
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        path: str = scope.get("path", "/")
        websocket = scope["type"] == "websocket"
        host_header = headers.get("host", "127.0.0.1")
        if parse_host(host_header) is None:
            await _refuse(scope, receive, send, 400, _BAD_HOST)
            return
        if not self.allow_remote and host_name(host_header) not in LOOPBACK_NAMES:
            await _refuse(scope, receive, send, 403, _OTHER_HOST)
            return
        if self._cross_site(scope, headers, path, host_header):
            await _refuse(scope, receive, send, 403, _CROSS_SITE)
            return
        if not websocket:
            send = _with_headers(send)
        if self.token is None or path.startswith("/static/"):
            await self.app(scope, receive, send)
            return
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        if not websocket and "token" in query and not path.startswith("/api/"):
            await self._login(scope, receive, send, query)
            return
        if self._authorised(headers):
            await self.app(scope, receive, send)
            return
        await _refuse(scope, receive, send, 401, _NEED_TOKEN)

    def _cross_site(self, scope: Scope, headers: dict[str, str], path: str, host: str) -> bool:
        """A request that a page of another origin made (or that the browser says is cross-site)."""
        sensitive = (
            scope["type"] == "websocket"
            or path.startswith("/api/")
            or scope.get("method", "GET") not in _SAFE_METHODS
        )
        if not sensitive:
            return False
        if headers.get("sec-fetch-site") == "cross-site":
            return True
        origin = headers.get("origin")
        if not origin:
            return False
        # Only the server's own origin: scheme, host and port, in local and remote mode alike.
        theirs = parse_origin(origin.strip())
        return theirs is None or theirs != _own_origin(scope, host)

    def _authorised(self, headers: dict[str, str]) -> bool:
        assert self.token is not None
        scheme, _, credential = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token_matches(credential.strip(), self.token):
            return True
        cookies = SimpleCookie()
        try:
            cookies.load(headers.get("cookie", ""))
        except Exception:
            return False
        morsel = cookies.get(COOKIE_NAME)
        return morsel is not None and token_matches(morsel.value, self.token)

    async def _login(self, scope: Scope, receive: Receive, send: Send, query: dict) -> None:
        """`?token=` on a page: set the cookie and redirect to the same page without it."""
        assert self.token is not None
        if not token_matches(query.get("token"), self.token):
            await _refuse(scope, receive, send, 401, "This access link is not valid (wrong token).")
            return
        rest = urlencode({k: v for k, v in query.items() if k != "token"})
        location = scope.get("path", "/") + (f"?{rest}" if rest else "")
        cookie = (
            f"{COOKIE_NAME}={self.token}; Path=/; HttpOnly; SameSite=Strict; "
            f"Max-Age={_COOKIE_MAX_AGE_S}"
        )
        await send(
            {
                "type": "http.response.start",
                "status": 303,
                "headers": [
                    (b"location", location.encode("latin-1", "replace")),
                    (b"set-cookie", cookie.encode("latin-1")),
                    (b"cache-control", b"no-store"),
                    (b"content-length", b"0"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})


_EXTRA_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]


def _with_headers(send: Send) -> Send:
    """Add headers that stop MIME sniffing, framing by other sites and leaking the URL."""

    async def wrapped(message: dict) -> None:
        if message["type"] == "http.response.start":
            present = {k.lower() for k, _ in message.get("headers", [])}
            extra = [(k, v) for k, v in _EXTRA_HEADERS if k not in present]
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return wrapped


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, detail: str) -> None:
    """Answer with a JSON error (HTTP), or close a WebSocket before accepting it."""
    if scope["type"] == "websocket":
        await receive()  # websocket.connect
        await send({"type": "websocket.close", "code": 1008, "reason": detail[:120]})
        return
    import json

    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="formcheck"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
