"""Bounded pool of analysis worker processes.

In:  analysis ids to run (from uploads, and the unfinished ones found at startup).
Out: at most `workers` analyses running at once, each in its own spawned process (`server.worker`);
     a process that dies is started once more, then its analysis is marked failed with the reason;
     deleted analyses are stopped.
A process per analysis costs one library import (a few seconds) but isolates crashes and lets a
deletion or a server shutdown stop exactly the analysis concerned.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
from collections import deque
from multiprocessing.process import BaseProcess

from formcheck.parallel import resolve_workers
from server.storage import Store
from server.worker import JobSpec, run_job

log = logging.getLogger("formcheck.server")
CRASHED = (
    "The analysis process stopped unexpectedly ({how}) {times}; the video may be too demanding "
    "for this computer. Try a shorter or smaller clip, or check the server log."
)
# A run that dies (killed, out of memory) is started once more before it counts as failed.
MAX_ATTEMPTS = 2
_POLL_S = 0.2


class JobRunner:
    """Queue plus scheduler thread; analyses run in separate processes."""

    def __init__(self, store: Store, workers: int, model: str = "auto") -> None:
        self.store = store
        self.workers = max(1, workers)
        self.model = model
        self._context = multiprocessing.get_context("spawn")
        self._queue: deque[str] = deque()
        self._running: dict[str, BaseProcess] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Re-queue unfinished analyses and start scheduling."""
        for row in self.store.unfinished():
            self.submit(row.id)
        self._thread = threading.Thread(target=self._loop, name="formcheck-jobs", daemon=True)
        self._thread.start()

    def submit(self, analysis_id: str) -> None:
        """Queue an analysis (its row must already be 'queued')."""
        with self._lock:
            if analysis_id not in self._queue and analysis_id not in self._running:
                self._queue.append(analysis_id)
        self._wake.set()

    def cancel(self, analysis_id: str) -> None:
        """Drop a queued analysis or stop a running one."""
        with self._lock:
            if analysis_id in self._queue:
                self._queue.remove(analysis_id)
            process = self._running.pop(analysis_id, None)
        if process is not None:
            _terminate(process)

    def active(self) -> dict[str, int]:
        """Counts of queued and running analyses in this server."""
        with self._lock:
            return {"queued": len(self._queue), "running": len(self._running)}

    def stop(self) -> None:
        """Stop scheduling and terminate running analyses (they are re-queued at next start)."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            processes = list(self._running.values())
            self._running.clear()
            self._queue.clear()
        for process in processes:
            _terminate(process)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self._reap()
                self._launch()
            except Exception:
                log.exception("job scheduler error")
            self._wake.wait(_POLL_S)
            self._wake.clear()

    def _reap(self) -> None:
        with self._lock:
            finished = [(i, p) for i, p in self._running.items() if not p.is_alive()]
            for analysis_id, _ in finished:
                del self._running[analysis_id]
        for analysis_id, process in finished:
            process.join(timeout=1)
            code = process.exitcode
            process.close()
            row = self.store.get(analysis_id)
            if row is None or row.status not in ("queued", "running"):
                continue
            how = _exit_description(code)
            if row.attempts < MAX_ATTEMPTS and self.store.requeue(analysis_id):
                log.error("analysis %s: worker %s; starting it again", analysis_id, how)
                self.submit(analysis_id)
                continue
            log.error("analysis %s: worker %s; giving up", analysis_id, how)
            times = "twice" if row.attempts > 1 else "while it ran"
            self.store.mark_failed(analysis_id, CRASHED.format(how=how, times=times))

    def _launch(self) -> None:
        while not self._stopping.is_set():
            with self._lock:
                if len(self._running) >= self.workers or not self._queue:
                    return
                analysis_id = self._queue.popleft()
            row = self.store.get(analysis_id)
            if row is None or row.status != "queued":
                continue
            with self._lock:
                running = len(self._running) + 1
            spec = JobSpec(
                analysis_id=row.id,
                data_dir=str(self.store.data_dir),
                input_path=str(self.store.files(row).input),
                filename=row.filename,
                exercise=row.exercise,
                height_cm=row.height_cm,
                transcode=row.transcode,
                parent_pid=os.getpid(),
                cores=cores_per_job(running),
                model=self.model,
            )
            process = self._context.Process(
                target=run_job, args=(spec,), name=f"formcheck-analysis-{row.id[:8]}"
            )
            with self._lock:
                if self._stopping.is_set():
                    return
                process.start()
                self._running[analysis_id] = process
            log.info("analysis %s started (%s)", analysis_id, row.filename)


def cores_per_job(running: int) -> int:
    """Cores an analysis starting now may use, with `running` analyses (itself included): an
    upload alone uses every core; side by side, each splits its clip less (splitting costs extra
    frames, which pays only on idle cores)."""
    return max(1, resolve_workers("auto") // max(1, running))


def _exit_description(code: int | None) -> str:
    """'killed by SIGKILL' or 'exit code 1'."""
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def _terminate(process: BaseProcess) -> None:
    """SIGTERM, then SIGKILL if the process does not go within a few seconds."""
    if process.is_alive():
        process.terminate()
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join(timeout=5)
