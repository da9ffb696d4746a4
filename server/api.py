"""JSON API under /api: upload, status, history, progress stream, files, delete.

In:  HTTP requests; the app's `Store`, `JobRunner` and `Settings` (on `request.app.state`).
Out: JSON documents, an SSE stream of status/progress, and the analysis files.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import re
import shutil
import sqlite3
from pathlib import Path, PurePosixPath, PureWindowsPath

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from formcheck import exercises
from formcheck.progress import asymmetric, session_measures
from server.storage import AnalysisRow, Store, is_valid_id, new_id
from server.uploads import FILE_FIELD, UploadError, no_room_message, receive_upload

HEIGHT_RANGE_CM = (50.0, 272.0)
# Containers and codecs Chromium, Firefox and Safari all play (others get an H.264 copy).
_PLAYABLE = {
    ".mp4": {"h264"},
    ".m4v": {"h264"},
    ".mov": {"h264"},
    ".webm": {"vp8", "vp9", "av1"},
}
_SAFE_SUFFIX = re.compile(r"^\.[a-z0-9]{1,5}$")
MAX_NAME_CHARS = 200
_SSE_POLL_S = 0.3
_SSE_KEEPALIVE_S = 15.0

router = APIRouter(prefix="/api")
log = logging.getLogger("formcheck.server")

_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [FILE_FIELD],
                    "properties": {
                        FILE_FIELD: {"type": "string", "format": "binary"},
                        "exercise": {
                            "type": "string",
                            "description": "an exercise name from /api/config, or auto",
                            "default": "auto",
                        },
                        "height_cm": {
                            "type": "number",
                            "description": "Lifter's height (optional)",
                        },
                    },
                }
            }
        },
    }
}


def _store(request: Request) -> Store:
    return request.app.state.store


def _row_or_404(store: Store, analysis_id: str) -> AnalysisRow:
    row = store.get(analysis_id) if is_valid_id(analysis_id) else None
    if row is None:
        raise HTTPException(404, "No analysis with this id.")
    return row


def _status(row: AnalysisRow) -> dict:
    return {
        "id": row.id,
        "status": row.status,
        "progress": round(row.progress, 4),
        "error": row.error,
    }


def _history_item(row: AnalysisRow) -> dict:
    return {
        **_status(row),
        "filename": row.filename,
        "created_at": row.created_at,
        "exercise": row.exercise,
        "rep_count": row.rep_count,
        "rounded_reps": row.rounded_reps,
        "rounding": row.rounding,
        "confidence_level": row.confidence_level,
        "duration_s": row.duration_s,
    }


def display_name(raw: str) -> str:
    """The uploaded file's name without any client path, control characters or excess length."""
    name = PureWindowsPath(PurePosixPath(raw).name).name
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    if len(name) > MAX_NAME_CHARS:
        suffix = Path(name).suffix
        suffix = suffix if _SAFE_SUFFIX.match(suffix.lower()) else ""
        name = name[: MAX_NAME_CHARS - len(suffix)].rstrip() + suffix
    return name or "video"


def download_stem(filename: str) -> str:
    """A safe base name for downloads derived from the uploaded name."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(filename).stem).strip("._")
    return stem[:60] or "lift"


def stored_suffix(filename: str) -> str:
    """Lower-case extension of the upload if it looks like one, else ''."""
    suffix = Path(filename).suffix.lower()
    return suffix if _SAFE_SUFFIX.match(suffix) else ""


def browser_playable(codec: str | None, suffix: str) -> bool:
    """True when browsers play this container/codec pair as it is."""
    return (codec or "").lower() in _PLAYABLE.get(suffix, set())


def _parse_options(fields: dict[str, str]) -> tuple[str, float | None]:
    exercise = (fields.get("exercise") or "auto").strip().lower()
    if exercise not in exercises.choices():
        raise HTTPException(422, f"exercise must be one of: {', '.join(exercises.choices())}.")
    raw_height = (fields.get("height_cm") or "").strip()
    if not raw_height:
        return exercise, None
    try:
        height = float(raw_height)
    except ValueError:
        height = math.nan
    low, high = HEIGHT_RANGE_CM
    if not low <= height <= high:
        raise HTTPException(422, f"height_cm must be a number between {low:g} and {high:g}.")
    return exercise, height


def _probe(path: Path):
    from formcheck.video import probe

    return probe(path)


def _check_duration(filename: str, duration_s: float, limit_s: float) -> None:
    """Refuse clips longer than the server's limit, saying both lengths."""
    if duration_s > limit_s:
        raise HTTPException(
            422,
            f"{filename} is {_minutes(duration_s)} long; this server analyses clips of up to "
            f"{_minutes(limit_s)}. Trim the video to the set and upload it again.",
        )


def _minutes(seconds: float) -> str:
    whole, rest = divmod(round(seconds), 60)
    return f"{whole} min {rest} s" if rest else f"{whole} min"


def _storage_message(exc: Exception) -> str:
    if isinstance(exc, OSError):
        return no_room_message(exc)
    return (
        f"The server could not record the analysis ({exc}). Its disk may be full: free some "
        "space and try again."
    )


@router.get("/config")
def get_config(request: Request) -> dict:
    """Limits and choices the upload page needs."""
    settings = request.app.state.settings
    return {
        "max_upload_bytes": settings.max_upload_bytes,
        "max_duration_s": settings.max_duration_s,
        "exercises": exercises.catalogue(),
        "workers": request.app.state.runner.workers,
    }


@router.post("/analyses", status_code=202, openapi_extra=_UPLOAD_BODY)
async def create_analysis(request: Request) -> JSONResponse:
    """Receive a video (streamed to disk), check it is a video, queue its analysis."""
    store = _store(request)
    settings = request.app.state.settings
    target = store.new_upload_path()
    try:
        upload = await receive_upload(request, target, settings.max_upload_bytes)
    except UploadError as exc:
        raise HTTPException(exc.status, exc.message) from exc
    try:
        exercise, height = _parse_options(upload.fields)
        if upload.size == 0:
            raise HTTPException(422, "The uploaded file is empty.")
        filename = display_name(upload.filename)
        try:
            info = await run_in_threadpool(_probe, upload.path)
        except Exception as exc:
            from formcheck.errors import FormcheckError

            if isinstance(exc, FormcheckError):
                reason = str(exc).replace(upload.path.name, filename)
            else:
                reason = f"{filename}: it could not be decoded."
            raise HTTPException(415, f"Not a video formcheck can read. {reason}") from exc
        _check_duration(filename, info.duration_s, settings.max_duration_s)
        suffix = stored_suffix(filename)
        analysis_id = new_id()
        folder = store.folder(analysis_id)
        try:
            folder.mkdir(parents=True)
            os.replace(upload.path, folder / f"input{suffix}")
            row = await run_in_threadpool(
                store.create,
                analysis_id,
                filename,
                f"input{suffix}",
                exercise,
                height,
                not browser_playable(getattr(info, "codec", None), suffix),
            )
        except (OSError, sqlite3.Error) as exc:
            shutil.rmtree(folder, ignore_errors=True)
            log.error("could not store upload %s: %s", analysis_id, exc)
            raise HTTPException(507, _storage_message(exc)) from exc
    finally:
        upload.path.unlink(missing_ok=True)
    request.app.state.runner.submit(row.id)
    return JSONResponse(
        {"id": row.id, "status": row.status},
        status_code=202,
        headers={"Location": f"/api/analyses/{row.id}"},
    )


@router.get("/analyses")
def list_analyses(request: Request) -> list[dict]:
    """History, newest first."""
    return [_history_item(row) for row in _store(request).list()]


@router.get("/progress")
def get_progress(request: Request) -> dict:
    """Every done session's progress measures over time, grouped into series per exercise,
    measure and side, with the left/right pairs that differ enough to point out."""
    store = _store(request)
    for row in store.done_without_measures():  # analysed before measures were kept
        path = store.files(row).report
        try:
            report = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            report = {}
        store.set_measures(row.id, [m.to_dict() for m in session_measures(report)])
    series: dict[tuple, dict] = {}
    for m in store.measures():
        key = (m["exercise"], m["name"], m["side"])
        item = series.setdefault(
            key,
            {
                "exercise": m["exercise"],
                "name": m["name"],
                "side": m["side"],
                "unit": m["unit"],
                "label": m["label"],
                "points": [],
            },
        )
        item["points"].append(
            {"analysis_id": m["analysis_id"], "t": m["created_at"], "value": m["value"]}
        )
    flags = []
    for (exercise, name, side), left in series.items():
        right = series.get((exercise, name, "right"))
        if side != "left" or right is None:
            continue
        a, b = left["points"][-1]["value"], right["points"][-1]["value"]
        if asymmetric(a, b, left["unit"]):
            flags.append(
                {
                    "exercise": exercise,
                    "name": name,
                    "label": left["label"],
                    "unit": left["unit"],
                    "left": a,
                    "right": b,
                }
            )
    return {"series": list(series.values()), "asymmetry": flags}


@router.get("/analyses/{analysis_id}")
def get_analysis(analysis_id: str, request: Request) -> Response:
    """Status, progress and, once done, the full report."""
    store = _store(request)
    row = _row_or_404(store, analysis_id)
    head = {**_history_item(row), "report": None}
    body = json.dumps(head)
    report_path = store.files(row).report
    if row.status == "done" and report_path.exists():
        # The report file is already JSON: splice it in rather than parse and re-serialise it.
        raw = report_path.read_text(encoding="utf-8").strip()
        body = body[: body.rindex("null")] + raw + "}"
    return Response(body, media_type="application/json")


@router.get("/analyses/{analysis_id}/events")
async def analysis_events(analysis_id: str, request: Request) -> StreamingResponse:
    """Server-sent events: one `status` event per change until done or failed."""
    store = _store(request)
    await run_in_threadpool(_row_or_404, store, analysis_id)

    async def stream():
        yield "retry: 2000\n\n"
        last: dict | None = None
        quiet = 0.0
        while not await request.is_disconnected():
            row = await run_in_threadpool(store.get, analysis_id)
            if row is None:
                yield f"event: gone\ndata: {json.dumps({'id': analysis_id})}\n\n"
                return
            payload = _history_item(row)
            if payload != last:
                yield f"event: status\ndata: {json.dumps(payload)}\n\n"
                last, quiet = payload, 0.0
            elif quiet >= _SSE_KEEPALIVE_S:
                yield ": keep-alive\n\n"
                quiet = 0.0
            if row.status in ("done", "failed"):
                return
            await asyncio.sleep(_SSE_POLL_S)
            quiet += _SSE_POLL_S

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _file(path: Path, media_type: str, download_name: str | None = None) -> FileResponse:
    if not path.exists():
        raise HTTPException(404, "This file is not available (the analysis may not be done).")
    if download_name is None:
        return FileResponse(path, media_type=media_type, content_disposition_type="inline")
    return FileResponse(path, media_type=media_type, filename=download_name)


@router.get("/analyses/{analysis_id}/video")
def get_video(analysis_id: str, request: Request) -> FileResponse:
    """The uploaded video if browsers play it, else its H.264 copy."""
    store = _store(request)
    row = _row_or_404(store, analysis_id)
    files = store.files(row)
    if not row.transcode:
        media = "video/webm" if files.input.suffix == ".webm" else "video/mp4"
        return _file(files.input, media)
    if not files.playable.exists():
        raise HTTPException(409, "The browser-playable copy of this video is not ready yet.")
    return _file(files.playable, "video/mp4")


@router.get("/analyses/{analysis_id}/annotated.mp4")
def get_annotated(analysis_id: str, request: Request, download: bool = False) -> FileResponse:
    """The overlay video rendered by the analysis (H.264 MP4)."""
    store = _store(request)
    row = _row_or_404(store, analysis_id)
    name = f"{download_stem(row.filename)}-formcheck.mp4" if download else None
    return _file(store.files(row).annotated, "video/mp4", name)


@router.get("/analyses/{analysis_id}/report.json")
def get_report_json(analysis_id: str, request: Request) -> FileResponse:
    """The report document."""
    store = _store(request)
    row = _row_or_404(store, analysis_id)
    name = f"{download_stem(row.filename)}-formcheck.json"
    return _file(store.files(row).report, "application/json", name)


@router.get("/analyses/{analysis_id}/report.csv")
def get_report_csv(analysis_id: str, request: Request) -> FileResponse:
    """Per-frame angles as CSV."""
    store = _store(request)
    row = _row_or_404(store, analysis_id)
    name = f"{download_stem(row.filename)}-formcheck.csv"
    return _file(store.files(row).csv, "text/csv", name)


@router.delete("/analyses/{analysis_id}", status_code=204)
def delete_analysis(analysis_id: str, request: Request) -> Response:
    """Stop the analysis if it runs, then remove its row and files."""
    store = _store(request)
    row = _row_or_404(store, analysis_id)
    request.app.state.runner.cancel(row.id)
    store.delete(row.id)
    return Response(status_code=204)
