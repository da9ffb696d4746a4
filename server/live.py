"""WebSocket `/api/live`: a live coaching session per connection; the `/live` page.

In:  first message, text JSON config `{"exercise": "auto", "height_cm": 178}` (both optional,
     at most `MAX_CONFIG_BYTES`); then frames as binary messages, each one JPEG (or WebP) image
     within `formcheck.frame_header`'s pixel limits, checked from its header before decoding. A
     frame may be prefixed with its capture time as an 8-byte big-endian float64 (seconds);
     without it the server's receive time is used. A text message `{"stop": true}` ends the set.
Out: per processed frame, JSON `{"t", "pose", "landmarks", "back_outline", "angles", "rep",
     "cues"}` (see `formcheck.live.LiveFrame.to_dict`); on stop, `{"summary": {...}, "cues",
     "stats"}` and the socket closes. Bad input gets `{"error": "..."}`. Close codes: 1003 for
     a bad config, 1009 for a frame with too many pixels, 1013 when all sessions are taken,
     4408 when no frame came for the server's idle limit (`--live-idle-seconds`, default 30 s),
     each with the error message as the close reason.

Back-pressure: at most one frame is processed per client at a time, in a worker thread so the
event loop stays free; a frame that arrives while another is processed waits in a one-frame
slot, and a newer frame replaces it (the stale one is dropped, never queued). All sessions
share one worker (`LIVE_WORKERS`): frames of two clients are processed one after the other.
The server computes nothing itself: `formcheck.live.LiveSession` runs the library's stages.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import struct
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse

from formcheck import exercises
from formcheck.errors import InputError
from formcheck.frame_header import FrameTooLarge, check_frame
from formcheck.parallel import limit_heap_growth, trim_heap
from server.api import HEIGHT_RANGE_CM

log = logging.getLogger(__name__)
router = APIRouter()
PAGE = Path(__file__).parent / "static" / "live.html"
MAX_SESSIONS = 4
MAX_FRAME_BYTES = 4 * 1024 * 1024
MAX_CONFIG_BYTES = 4096
CONFIG_TIMEOUT_S = 10.0
DEFAULT_IDLE_S = 30.0
CLOSE_BAD_CONFIG = 1003
CLOSE_FRAME_TOO_LARGE = 1009
CLOSE_BUSY = 1013
CLOSE_IDLE = 4408
MAX_BAD_FRAMES = 20
LIVE_WORKERS = 1


class LiveConfigError(ValueError):
    """The first message is not a usable config."""


def parse_config(text: str) -> tuple[str, float | None]:
    """Exercise and height from the first message; LiveConfigError with a readable reason."""
    if len(text) > MAX_CONFIG_BYTES:
        raise LiveConfigError(
            f"the first message must be a JSON config object of at most {MAX_CONFIG_BYTES} bytes"
        )
    try:
        data = json.loads(text) if text.strip() else {}
    except (json.JSONDecodeError, RecursionError) as exc:
        raise LiveConfigError("the first message must be a JSON config object") from exc
    if not isinstance(data, dict):
        raise LiveConfigError("the first message must be a JSON config object")
    exercise = str(data.get("exercise") or "auto").strip().lower()
    if exercise not in exercises.live_choices():
        raise LiveConfigError(
            f"exercise must be one of: {', '.join(exercises.live_choices())} (others are "
            "analysed from a recording: upload it)"
        )
    height = data.get("height_cm")
    if height in (None, ""):
        return exercise, None
    try:
        height = float(height)
    except (TypeError, ValueError):
        height = math.nan
    low, high = HEIGHT_RANGE_CM
    if not low <= height <= high:
        raise LiveConfigError(f"height_cm must be a number between {low:g} and {high:g}")
    return exercise, height


def split_frame(data: bytes, received_s: float) -> tuple[float, bytes]:
    """(capture time, image bytes): a JPEG starts with FF D8, a WebP with RIFF; anything else
    carries a time."""
    if data[:2] == b"\xff\xd8" or data[:4] == b"RIFF" or len(data) <= 8:
        return received_s, data
    (t,) = struct.unpack(">d", data[:8])
    return (t if math.isfinite(t) else received_s), data[8:]


@dataclass
class LatestFrame:
    """One-frame mailbox: `put` replaces a waiting frame (counted as dropped)."""

    dropped: int = 0
    received: int = 0
    _item: tuple[float, bytes] | None = None
    _ready: asyncio.Event = field(default_factory=asyncio.Event)

    def put(self, item: tuple[float, bytes]) -> None:
        self.received += 1
        if self._item is not None:
            self.dropped += 1
        self._item = item
        self._ready.set()

    async def get(self) -> tuple[float, bytes]:
        await self._ready.wait()
        item, self._item = self._item, None
        self._ready.clear()
        assert item is not None
        return item


def _is_stop(text: str | None) -> bool:
    if not text or len(text) > MAX_CONFIG_BYTES:
        return False
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return False
    return isinstance(data, dict) and bool(data.get("stop"))


def _stats(times_ms: list[float], frames: LatestFrame) -> dict:
    arr = np.array(times_ms) if times_ms else np.zeros(1)
    return {
        "frames_received": frames.received,
        "frames_processed": len(times_ms),
        "frames_dropped": frames.dropped,
        "process_ms": {
            "p50": round(float(np.percentile(arr, 50)), 1),
            "p95": round(float(np.percentile(arr, 95)), 1),
            "max": round(float(arr.max()), 1),
        },
        "process_ms_all": [round(v, 2) for v in times_ms],
    }


_POOL: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    """The worker that runs every live session's frames, one frame at a time. MediaPipe already
    uses the cores within a frame; running two sessions' frames at once only makes both late."""
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=LIVE_WORKERS, thread_name_prefix="formcheck-live")
    return _POOL


def _timed(fn, *args):
    """fn(*args) and the milliseconds it took (measured in the worker, without queueing)."""
    started = time.perf_counter()
    out = fn(*args)
    return out, (time.perf_counter() - started) * 1000.0


@router.get("/live", include_in_schema=False)
def live_page() -> FileResponse:
    """The live coaching page."""
    return FileResponse(PAGE, headers={"Cache-Control": "no-cache"})


@router.websocket("/api/live")
async def live(ws: WebSocket) -> None:
    """One live session per connection (see the module docstring for the protocol)."""
    await ws.accept()
    active = getattr(ws.app.state, "live_sessions", None)
    if active is None:
        active = ws.app.state.live_sessions = set()
    if len(active) >= MAX_SESSIONS:
        await _close(ws, CLOSE_BUSY, f"too many live sessions (at most {MAX_SESSIONS})")
        return
    try:
        first = await asyncio.wait_for(ws.receive(), CONFIG_TIMEOUT_S)
        if first.get("type") == "websocket.disconnect":
            return
        if first.get("text") is None:
            raise LiveConfigError("the first message must be a JSON config, before any frame")
        exercise, height = parse_config(first["text"])
    except (asyncio.TimeoutError, LiveConfigError) as exc:
        reason = str(exc) or "no config received: send a JSON config first"
        await _close(ws, CLOSE_BAD_CONFIG, reason)
        return
    settings = getattr(ws.app.state, "settings", None)
    idle_s = float(getattr(settings, "live_idle_s", DEFAULT_IDLE_S))
    model = str(getattr(settings, "model", "auto"))
    active.add(ws)
    try:
        await _run(ws, exercise, height, idle_s, model)
    finally:
        active.discard(ws)


async def _close(ws: WebSocket, code: int, reason: str) -> None:
    """Send the reason as an error message, then close with it (close reasons are short)."""
    await ws.send_json({"error": reason})
    await ws.close(code=code, reason=reason.encode()[:120].decode("utf-8", "ignore"))


async def _run(
    ws: WebSocket, exercise: str, height: float | None, idle_s: float, model: str
) -> None:
    from formcheck.live import LiveConfig, LiveSession

    loop = asyncio.get_running_loop()
    pool = _pool()
    limit_heap_growth()  # frames pass between threads: keep them from fragmenting the heap
    config = LiveConfig(exercise=exercise, height_cm=height, model=model)
    # Loading the pose model takes a moment: do it beside the worker, not in its way.
    session = await asyncio.to_thread(LiveSession, config)
    frames = LatestFrame()
    stop = asyncio.Event()
    errors: list[str] = []
    ending: list[tuple[int, str]] = []  # (close code, reason) when the server ends the session
    t0 = time.monotonic()

    async def receive() -> None:
        last_frame = time.monotonic()
        try:
            while True:
                left = last_frame + idle_s - time.monotonic()
                try:
                    message = await asyncio.wait_for(ws.receive(), max(left, 0.0))
                except asyncio.TimeoutError:
                    reason = f"no frame for {idle_s:g} s: the live session was closed"
                    ending.append((CLOSE_IDLE, reason))
                    break
                if message["type"] == "websocket.disconnect":
                    break
                data = message.get("bytes")
                if data is not None:
                    last_frame = time.monotonic()
                    if len(data) > MAX_FRAME_BYTES:
                        errors.append("frame too large: send JPEG frames of at most 4 MB")
                        continue
                    item = split_frame(data, time.monotonic() - t0)
                    try:
                        check_frame(item[1])
                    except FrameTooLarge as exc:
                        ending.append((CLOSE_FRAME_TOO_LARGE, str(exc)))
                        break
                    except InputError:
                        pass  # answered in order by the worker, like any unreadable frame
                    frames.put(item)
                elif _is_stop(message.get("text")):
                    break
        except WebSocketDisconnect:
            pass
        finally:
            stop.set()

    async def process() -> None:
        bad = 0
        while not stop.is_set():
            getter = asyncio.ensure_future(frames.get())
            stopper = asyncio.ensure_future(stop.wait())
            done, _ = await asyncio.wait({getter, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if getter not in done:
                getter.cancel()
                break
            stopper.cancel()
            t, data = getter.result()
            try:
                out, spent = await loop.run_in_executor(pool, _timed, session.process_jpeg, data, t)
            except Exception as exc:
                if not isinstance(exc, InputError):
                    log.exception("live frame failed")
                    exc = "the frame could not be analysed"
                bad += 1
                await ws.send_json({"error": f"frame at {t:.3f} s: {exc}"})
                if bad >= MAX_BAD_FRAMES:
                    break
                continue
            timings.append(spent)
            await ws.send_json(out.to_dict())
            while errors:
                await ws.send_json({"error": errors.pop(0)})

    timings: list[float] = []
    receiver = asyncio.ensure_future(receive())
    try:
        await process()
        for error in errors:
            await ws.send_json({"error": error})
        if ending:
            await _close(ws, *ending[0])
            return
        summary = await loop.run_in_executor(pool, session.finish)
        await ws.send_json(
            {"summary": summary, "cues": summary["cues"], "stats": _stats(timings, frames)}
        )
        await ws.close()
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass  # the client went away
    finally:
        receiver.cancel()
        await asyncio.to_thread(session.close)
        trim_heap()  # the session's pose graph is gone: give its memory back to the system
