"""Streaming multipart upload: the video goes to disk in chunks, with the size cap enforced on the way.

In:  a Starlette `Request` with a multipart/form-data body (file field `video`, small text fields).
Out: `Upload` (path of the received file, original filename, size, text fields), or `UploadError`
     with an HTTP status and a readable message (413 over the cap, 507 when the disk refuses the
     write). Partial files are removed on every failure; an accepted file is synced to disk.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import anyio
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

FILE_FIELD = "video"
MAX_FIELD_BYTES = 1024
# After the cap is exceeded the rest of the body is read and dropped (so the client gets the 413
# instead of a reset connection), but only up to this much.
DRAIN_LIMIT_BYTES = 256 * 1024 * 1024
_FLUSH_BYTES = 1024 * 1024


class UploadError(Exception):
    """An upload that cannot be accepted, with the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Upload:
    """A received upload."""

    path: Path
    filename: str
    size: int
    fields: dict[str, str] = field(default_factory=dict)


class _Collector:
    """Callbacks for the multipart parser; buffers file data for the writer."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.fields: dict[str, str] = {}
        self.filename: str | None = None
        self.file_size = 0
        self.too_big = False
        self.pending: list[bytes] = []
        self._header_field = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._part: str | None = None  # "file", a field name, or None (ignored part)
        self._value = bytearray()
        self._file_done = False

    def callbacks(self) -> dict:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._on_header_field,
            "on_header_value": self._on_header_value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }

    def _part_begin(self) -> None:
        self._headers = {}
        self._part = None
        self._value = bytearray()

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._header_field.lower()] = self._header_value
        self._header_field = b""
        self._header_value = b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in options:
            if name == FILE_FIELD and not self._file_done:
                self._part = "file"
                self.filename = options[b"filename"].decode("utf-8", "replace")
        elif name:
            self._part = name

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._part == "file":
            self.file_size += end - start
            if self.file_size > self.max_bytes:
                self.too_big = True
            if not self.too_big:
                self.pending.append(data[start:end])
        elif self._part is not None and len(self._value) <= MAX_FIELD_BYTES:
            self._value += data[start:end]

    def _part_end(self) -> None:
        if self._part == "file":
            self._file_done = True
        elif self._part is not None:
            self.fields[self._part] = bytes(self._value[:MAX_FIELD_BYTES]).decode(
                "utf-8", "replace"
            )
        self._part = None


async def receive_upload(request: Request, target: Path, max_bytes: int) -> Upload:
    """Stream the request body to `target`; raise UploadError for anything unacceptable."""
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise UploadError(
            415, f"Send the video as multipart/form-data with a file field named '{FILE_FIELD}'."
        )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes + DRAIN_LIMIT_BYTES:
        raise UploadError(413, _too_big(max_bytes))
    collector = _Collector(max_bytes)
    parser = MultipartParser(boundary, collector.callbacks())
    received = 0
    accepted = False
    handle = None
    try:
        handle = await anyio.to_thread.run_sync(lambda: open(target, "wb"))  # noqa: SIM115
        buffered = 0
        async for chunk in request.stream():
            received += len(chunk)
            parser.write(chunk)
            if collector.too_big:
                collector.pending.clear()
                if received > max_bytes + DRAIN_LIMIT_BYTES:
                    break
                continue
            buffered += sum(len(p) for p in collector.pending)
            if buffered >= _FLUSH_BYTES:
                await _flush(handle, collector)
                buffered = 0
        if collector.too_big:
            raise UploadError(413, _too_big(max_bytes))
        parser.finalize()
        await _flush(handle, collector)
        # On disk before the analysis row that points at it is written.
        await anyio.to_thread.run_sync(_sync, handle)
        if collector.filename is None:
            raise UploadError(
                422, f"No video in the upload: add a file field named '{FILE_FIELD}'."
            )
        accepted = True
    except ClientDisconnect as exc:
        raise UploadError(400, "The upload was interrupted.") from exc
    except UploadError:
        raise
    except OSError as exc:
        raise UploadError(507, no_room_message(exc)) from exc
    except Exception as exc:
        raise UploadError(400, f"The upload is not valid multipart/form-data ({exc}).") from exc
    finally:
        if handle is not None:
            with contextlib.suppress(OSError):
                await anyio.to_thread.run_sync(handle.close)
        if not accepted:
            target.unlink(missing_ok=True)
    return Upload(target, collector.filename, collector.file_size, collector.fields)


def _too_big(max_bytes: int) -> str:
    return f"The video is larger than the {max_bytes / (1024 * 1024):.3g} MB upload limit."


def no_room_message(exc: OSError) -> str:
    """Readable answer when the server cannot store something (disk full, quota, read-only)."""
    reason = exc.strerror or exc.__class__.__name__
    return (
        f"The server could not store the video ({reason}). Its disk may be full: free some space "
        "and try again."
    )


def _sync(handle) -> None:
    handle.flush()
    os.fsync(handle.fileno())


async def _flush(handle, collector: _Collector) -> None:
    """Write buffered file data in a worker thread so the event loop stays free."""
    if collector.pending:
        data = b"".join(collector.pending)
        collector.pending.clear()
        await anyio.to_thread.run_sync(handle.write, data)
