"""Engines of `formcheck batch`: where the clips are analysed.

In:  `Job`s (one per clip content: the clip's path, its output paths, the analysis options) and
     a callback the driver gives (`on_done(job, Outcome)`), called in the driver's process as
     each clip ends.
Out: `run_local` - a pool of worker processes on this machine ("spawn" start method), each clip
     analysed serially in one worker, which writes its outputs through temporary files itself;
     a worker that dies fails only the clip it was analysing, the pool is restarted and the
     others carry on.
     `run_ray` - one Ray task per clip (`num_cpus=1`) on a local Ray or an existing cluster; the
     task sends the report, the angles CSV and the annotated MP4 back and the driver writes them.
     The clip travels by path (a shared filesystem) or, with `upload`, through Ray's object
     store. Ray is imported only here, and only when asked for.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from .errors import FormcheckError

# A clip in flight when the pool broke but not on the worker that died is tried again, up to
# this many times in all.
MAX_ATTEMPTS = 2
RAY_INSTALL_HINT = (
    "--engine ray needs Ray, which is not installed. Install the extra: "
    "pip install 'formcheck[ray]' (from a checkout: pip install -e \".[ray]\")."
)


@dataclass
class Job:
    """One clip content to analyse: `key` names it (content hash), `path` is the clip,
    `outputs` maps a writer name to its final path (None: not asked), `options` are the
    `AnalysisOptions` fields."""

    key: str
    path: Path
    outputs: dict[str, Path | None]
    options: dict
    attempts: int = 0


@dataclass
class Outcome:
    """How a clip ended: its report (None when it failed) or the reason it failed."""

    report: dict | None = None
    error: str | None = None
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)


OnDone = Callable[[Job, Outcome], None]


def _error_text(exc: BaseException) -> str:
    """The reason a clip failed, in one line."""
    if isinstance(exc, FormcheckError):
        return str(exc)
    if isinstance(exc, OSError):
        name = Path(exc.filename).name if exc.filename else ""
        return f"{exc.strerror or exc}" + (f": {name}" if name else "")
    return f"internal error: {type(exc).__name__}: {exc}"


def analyse_to(path: Path, options: dict, outputs: dict[str, Path | None]) -> Outcome:
    """Analyse one clip serially, writing `outputs` all-or-nothing; errors become an Outcome."""
    from .options import AnalysisOptions
    from .outputs import staged
    from .pipeline import analyze_video

    start = time.perf_counter()
    try:
        with staged(outputs) as temps:
            report = analyze_video(path, AnalysisOptions(workers=1, **options), outputs=temps)
    except Exception as exc:  # one bad clip never stops the batch
        return Outcome(error=_error_text(exc), seconds=time.perf_counter() - start)
    return Outcome(report=report, seconds=time.perf_counter() - start)


# ---------------------------------------------------------------- local engine: process pool

_started: multiprocessing.Queue | None = None


def _die_with_parent() -> None:
    """Linux: a worker whose driver was killed ends too, not analysing clips for nobody."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _worker_init(started, verbose: bool) -> None:
    """In each worker: Ctrl-C is the driver's business; MediaPipe's log lines are dropped."""
    global _started
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    _started = started
    if not verbose:
        from .native_logs import silence_native_logs

        silence_native_logs()


def _worker_task(key: str, path: str, options: dict, outputs: dict[str, str | None]) -> Outcome:
    if _started is not None:
        _started.put((os.getpid(), key))
    paths = {k: (Path(v) if v else None) for k, v in outputs.items()}
    return analyse_to(Path(path), options, paths)


def _dead_worker_pids(processes: dict) -> set[int]:
    """Workers that died on their own: the pool terminates the others with SIGTERM."""
    return {
        pid
        for pid, proc in processes.items()
        if proc.exitcode is not None and proc.exitcode not in (0, -signal.SIGTERM)
    }


def run_local(jobs: list[Job], on_done: OnDone, workers: int, verbose: bool = False) -> None:
    """Analyse `jobs` in a pool of `workers` spawned processes; at most `workers` in flight so
    that a broken pool loses no more than those."""
    ctx = multiprocessing.get_context("spawn")
    started = ctx.Queue()
    todo = deque(jobs)
    while todo:
        pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=ctx,
            initializer=_worker_init,
            initargs=(started, verbose),
        )
        running: dict = {}
        processes: dict = {}
        broken = False
        try:
            while todo or running:
                while todo and len(running) < workers and not broken:
                    job = todo.popleft()
                    job.attempts += 1
                    outs = {k: (str(v) if v else None) for k, v in job.outputs.items()}
                    try:
                        fut = pool.submit(_worker_task, job.key, str(job.path), job.options, outs)
                    except BrokenProcessPool:
                        job.attempts -= 1
                        todo.appendleft(job)
                        broken = True
                        break
                    running[fut] = job
                    processes.update(getattr(pool, "_processes", None) or {})
                if not running:
                    break
                done, _ = wait(list(running), timeout=0.5, return_when=FIRST_COMPLETED)
                for fut in done:
                    if isinstance(fut.exception(), BrokenProcessPool):
                        broken = True  # settled below with the other clips in flight
                        continue
                    _finish(running.pop(fut), fut, on_done)
                if broken:
                    _settle_broken(running, processes, started, todo, on_done)
                    running.clear()
                    break
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            for proc in list(processes.values()):
                if proc.is_alive():
                    proc.terminate()
            raise
        pool.shutdown(wait=True, cancel_futures=True)
        if not broken:
            break


def _finish(job: Job, fut, on_done: OnDone) -> None:
    """Hand a finished future's outcome to the driver."""
    exc = fut.exception()
    on_done(job, Outcome(error=_error_text(exc)) if exc is not None else fut.result())


def _settle_broken(running: dict, processes: dict, started, todo: deque, on_done: OnDone) -> None:
    """The pool broke: the clips on the dead worker fail, the others are tried again."""
    wait(list(running), timeout=10)
    for fut in [
        f for f in running if f.done() and not isinstance(f.exception(), BrokenProcessPool)
    ]:
        _finish(running.pop(fut), fut, on_done)
    time.sleep(0.2)  # let the pool terminate and reap its other workers
    on_worker: dict[int, str] = {}
    while True:
        try:
            pid, key = started.get_nowait()
        except (queue.Empty, OSError, ValueError):
            break
        on_worker[pid] = key
    dead = _dead_worker_pids(processes)
    culprits = {on_worker[pid] for pid in dead if pid in on_worker}
    for job in running.values():
        code = next(
            (processes[p].exitcode for p in dead if on_worker.get(p) == job.key and p in processes),
            None,
        )
        if job.key in culprits or job.attempts >= MAX_ATTEMPTS:
            how = f" (exit code {code})" if code is not None else ""
            on_done(job, Outcome(error=f"the worker process analysing it died{how}"))
        else:
            todo.appendleft(job)


# ---------------------------------------------------------------- Ray engine


def ray_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("ray") is not None


def _ray_analyse(
    path: str | None, data, name: str, options: dict, want: list[str], verbose: bool
) -> dict:
    """The Ray task: analyse one clip (by path, or its bytes written to a temporary file) and
    return what the driver writes: report, angles CSV and annotated MP4 (as bytes)."""
    if not verbose:
        from .native_logs import silence_native_logs

        silence_native_logs()
    from .writers import WRITERS

    with tempfile.TemporaryDirectory(prefix="formcheck-batch-") as tmp:
        folder = Path(tmp)
        if path is None:
            (folder / "clip").mkdir()
            clip = folder / "clip" / Path(name).name  # its own name, for the messages
            clip.write_bytes(data)
        else:
            clip = Path(path)
        outputs = {k: (folder / f"out{WRITERS[k].suffix}" if k in want else None) for k in WRITERS}
        outputs["json"] = None  # the report comes back as a dict
        done = analyse_to(clip, options, outputs)
        result: dict = {"report": done.report, "error": done.error, "seconds": done.seconds}
        if done.report is not None:
            if outputs.get("csv"):
                result["csv"] = outputs["csv"].read_bytes()  # CSV text, line ends kept
            if outputs.get("video"):
                result["video"] = outputs["video"].read_bytes()
        return result


def _write_returned(job: Job, result: dict) -> None:
    """Write what a Ray task sent back under the job's output paths, all-or-nothing."""
    from .outputs import staged
    from .writers import write_json

    with staged(job.outputs) as temps:
        if temps.get("json"):
            write_json(result["report"], temps["json"])
        if temps.get("csv"):
            temps["csv"].write_bytes(result.get("csv", b""))
        if temps.get("video"):
            temps["video"].write_bytes(result.get("video", b""))


def run_ray(
    jobs: list[Job],
    on_done: OnDone,
    workers: int | None,
    address: str | None = None,
    upload: bool = False,
    verbose: bool = False,
) -> None:
    """Analyse `jobs` as Ray tasks; a local Ray (num_cpus=workers) unless `address` is given."""
    if not ray_available():
        raise FormcheckError(RAY_INSTALL_HINT)
    import logging

    import ray

    level = logging.INFO if verbose else logging.ERROR
    we_started = not ray.is_initialized()
    if we_started:
        if address:
            ray.init(address=address, logging_level=level)
        else:
            ray.init(num_cpus=workers, include_dashboard=False, logging_level=level)
    running: dict = {}
    try:
        limit = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        task = ray.remote(num_cpus=1, max_retries=1)(_ray_analyse)
        todo = deque(jobs)
        in_flight = 2 * limit  # queued a little ahead so no CPU waits for the driver
        while todo or running:
            while todo and len(running) < in_flight:
                job = todo.popleft()
                want = [k for k, v in job.outputs.items() if v is not None]
                if upload:
                    data = ray.put(job.path.read_bytes())
                    ref = task.remote(None, data, job.path.name, job.options, want, verbose)
                else:
                    ref = task.remote(
                        str(job.path.absolute()), None, job.path.name, job.options, want, verbose
                    )
                running[ref] = job
            ready, _ = ray.wait(list(running), num_returns=1, timeout=0.5)
            for ref in ready:
                job = running.pop(ref)
                try:
                    result = ray.get(ref)
                except Exception as exc:  # the task or its worker died
                    on_done(job, Outcome(error=f"Ray task failed: {type(exc).__name__}"))
                    continue
                if result["report"] is None:
                    on_done(job, Outcome(error=result["error"], seconds=result["seconds"]))
                    continue
                try:
                    _write_returned(job, result)
                except OSError as exc:
                    on_done(job, Outcome(error=f"cannot write output ({_error_text(exc)})"))
                    continue
                on_done(job, Outcome(report=result["report"], seconds=result["seconds"]))
    except BaseException:
        for ref in list(running):
            ray.cancel(ref, force=True)
        raise
    finally:
        if we_started:
            ray.shutdown()
