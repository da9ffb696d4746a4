"""Keep the log lines of MediaPipe, absl and TensorFlow Lite off the terminal.

In:  nothing; called once, early, by the command line and the server (not with `--verbose`).
Out: file descriptor 2 (where the native libraries write) becomes a pipe read by a thread that
     drops their routine log lines (`I0000 ...`, `W0000 ...`, `E0000 ...`, `INFO: ...`, absl's
     "before InitializeLog" notice) and passes every other line through, so crashes and child
     processes' messages still show. Python's `sys.stderr` writes straight to the terminal, as
     before, so formcheck's own messages and progress bar are not delayed. Neither environment
     variables nor absl's level reach these lines in mediapipe 0.10, hence the pipe.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import re
import sys
import threading

# absl's C++ log prefix: severity letter, MMDD, time, thread id, file:line]
_ABSL_LINE = re.compile(rb"^[IWE]\d{4} [\d:.]+\s+\d+ [^\]]*\] ")
_OTHER_NOISE = (b"INFO: ", b"WARNING: All log messages before absl::InitializeLog()")
_state: dict[str, object] = {}


def is_library_noise(line: bytes) -> bool:
    """True for a routine log line of the native libraries."""
    return bool(_ABSL_LINE.match(line)) or line.startswith(_OTHER_NOISE)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _pump(read_fd: int, out_fd: int) -> None:
    """Copy lines from the pipe to the real stderr, leaving out library noise."""
    pending = b""
    with os.fdopen(read_fd, "rb", buffering=0) as pipe:
        while chunk := pipe.read(65536):
            pending += chunk
            *lines, pending = pending.split(b"\n")
            kept = b"".join(line + b"\n" for line in lines if not is_library_noise(line))
            if kept:
                _write_all(out_fd, kept)
    if pending and not is_library_noise(pending):
        _write_all(out_fd, pending)


def _restore() -> None:
    """At exit: give fd 2 back to the terminal and let the thread pass on what is left."""
    saved = _state.get("saved_fd")
    if not isinstance(saved, int):
        return
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
    os.dup2(saved, 2)  # closes this process's end of the pipe
    thread = _state.get("thread")
    if isinstance(thread, threading.Thread):
        thread.join(timeout=0.5)


def silence_native_logs() -> None:
    """Filter the native libraries' log lines out of stderr (idempotent; see the module doc)."""
    if "saved_fd" in _state:
        return
    logging.getLogger("absl").setLevel(logging.ERROR)
    try:
        sys.stderr.flush()
        saved = os.dup(2)
        read_fd, write_fd = os.pipe()
    except (OSError, AttributeError, ValueError):
        return  # no usable stderr: nothing to protect
    encoding = getattr(sys.stderr, "encoding", None) or "utf-8"
    sys.stderr = os.fdopen(
        os.dup(saved), "w", buffering=1, encoding=encoding, errors="backslashreplace"
    )
    os.dup2(write_fd, 2)
    os.close(write_fd)
    os.set_inheritable(2, True)
    thread = threading.Thread(
        target=_pump, args=(read_fd, saved), name="formcheck-stderr", daemon=True
    )
    thread.start()
    _state.update(saved_fd=saved, thread=thread)
    atexit.register(_restore)
