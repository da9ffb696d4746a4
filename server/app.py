"""FastAPI application factory: API, viewer pages, job runner lifecycle.

In:  `Settings` (data folder, worker count, upload limits, remote access and its token).
Out: a FastAPI app; on startup it prepares the data folder and re-queues unfinished analyses, on
     shutdown it stops running analyses (they resume at the next start).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from formcheck import __version__
from server.api import router
from server.jobs import JobRunner
from server.live import router as live_router
from server.security import AccessGuard
from server.settings import Settings
from server.storage import Store

STATIC_DIR = Path(__file__).parent / "static"
_PAGE_HEADERS = {"Cache-Control": "no-cache"}


def create_app(settings: Settings) -> FastAPI:
    """Build the app for one data folder."""
    store = Store(settings.data_dir)
    runner = JobRunner(store, settings.workers, settings.model)

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
    app.include_router(live_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    def index_page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers=_PAGE_HEADERS)

    @app.get("/progress", include_in_schema=False)
    def progress_page() -> FileResponse:
        return FileResponse(STATIC_DIR / "progress.html", headers=_PAGE_HEADERS)

    @app.get("/analyses/{analysis_id}", include_in_schema=False)
    def viewer_page(analysis_id: str) -> FileResponse:
        return FileResponse(STATIC_DIR / "viewer.html", headers=_PAGE_HEADERS)

    # Applies to every route, WebSocket ones included (loopback or token, same origin).
    app.add_middleware(AccessGuard, allow_remote=settings.allow_remote, token=settings.access_token)
    return app
