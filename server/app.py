"""FastAPI application factory: API, viewer pages, job runner lifecycle.

In:  `Settings` (data folder, worker count, upload cap, whether remote clients are allowed).
Out: a FastAPI app; on startup it prepares the data folder and re-queues unfinished analyses, on
     shutdown it stops running analyses (they resume at the next start).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from formcheck import __version__
from server.api import router
from server.jobs import JobRunner
from server.settings import Settings
from server.storage import Store

STATIC_DIR = Path(__file__).parent / "static"
LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1"}
_PAGE_HEADERS = {"Cache-Control": "no-cache"}


def _host_name(value: str) -> str:
    """Host name of a Host header or an origin URL, without port or IPv6 brackets."""
    if "://" in value:
        return urlsplit(value).hostname or ""
    if value.startswith("["):
        return value[1 : value.find("]")]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class LocalOnly:
    """Refuse requests that name another host, and cross-site writes (DNS rebinding, CSRF)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            host = _host_name(headers.get("host", "127.0.0.1")).lower()
            origin = headers.get("origin")
            unsafe = scope["method"] not in ("GET", "HEAD", "OPTIONS")
            if host not in LOOPBACK_NAMES or (
                unsafe and origin and _host_name(origin).lower() not in LOOPBACK_NAMES
            ):
                await _refuse(send)
                return
        await self.app(scope, receive, send)


async def _refuse(send: Send) -> None:
    body = b'{"detail":"This formcheck server only answers pages served from this computer."}'
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


def create_app(settings: Settings) -> FastAPI:
    """Build the app for one data folder."""
    store = Store(settings.data_dir)
    runner = JobRunner(store, settings.workers)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store.initialise()
        runner.start()
        try:
            yield
        finally:
            runner.stop()

    app = FastAPI(
        title="formcheck",
        version=__version__,
        description="Upload a lift video, follow its analysis, watch it back with the spine drawn on it.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.runner = runner
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    def index_page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers=_PAGE_HEADERS)

    @app.get("/analyses/{analysis_id}", include_in_schema=False)
    def viewer_page(analysis_id: str) -> FileResponse:
        return FileResponse(STATIC_DIR / "viewer.html", headers=_PAGE_HEADERS)

    if not settings.allow_remote:
        app.add_middleware(LocalOnly)
    return app
