"""One analysis, run inside its own worker process.

In:  a `JobSpec` (which analysis, where the database and files are, the options).
Out: report JSON, per-frame CSV, annotated MP4 (and a browser-playable copy of the input when needed)
     in the analysis folder; the row's status, progress and summary in SQLite.
Outputs are written under temporary names and renamed at the end, so a job that is stopped halfway
(server restart, deletion) never leaves a half-written result behind. Every database write names
the run (attempt number), so a stale run cannot overwrite a newer one; on Linux the process dies
with the server, so a killed server leaves no analysis running on its own.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path

from formcheck.errors import FormcheckError
from formcheck.progress import session_measures
from server.storage import Store

PROGRESS_INTERVAL_S = 0.5
INTERNAL_ERROR = (
    "The analysis stopped because of an internal error (details are in the server log)."
)
NOT_SAVED = (
    "The results could not be saved ({reason}). The server's disk may be full: free some space "
    "and upload the video again."
)
_PR_SET_PDEATHSIG = 1
WORKER_NICENESS = 10


@dataclass(frozen=True)
class JobSpec:
    """Everything a worker process needs (picklable)."""

    analysis_id: str
    data_dir: str
    input_path: str
    filename: str
    exercise: str
    height_cm: float | None
    transcode: bool
    parent_pid: int
    # Cores this analysis may use (see `jobs.cores_per_job`).
    cores: int = 1
    model: str = "auto"  # BlazePose model (formcheck.posemodels.resolve)


class _Stopped(Exception):
    """The analysis was deleted or the server went away: stop quietly."""


class _Progress:
    """Throttled progress writer that also notices deletion and an orphaned worker."""

    def __init__(self, store: Store, spec: JobSpec, attempt: int, scale: float) -> None:
        self.store = store
        self.spec = spec
        self.attempt = attempt
        self.scale = scale
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last < PROGRESS_INTERVAL_S and done < total:
            return
        self.last = now
        if os.getppid() != self.spec.parent_pid:
            raise _Stopped("server went away")
        fraction = done / total if total else 0.0
        if not self.store.set_progress(
            self.spec.analysis_id, fraction * self.scale, attempt=self.attempt
        ):
            raise _Stopped("analysis deleted or taken over")


def _summary_numbers(report: dict) -> tuple[int | None, int | None, bool | None, float | None]:
    """rep_count, rounded_reps, rounding and duration from a report, tolerating missing keys."""
    summary = report.get("summary") or {}
    reps = report.get("reps") or []
    rep_count = summary.get("rep_count", len(reps))
    rounded = summary.get("rounded_reps")
    if rounded is None:
        rounded = sum(1 for rep in reps if rep.get("rounding"))
    # None when the back was not judged (oblique view, back not traced): history says so.
    rounding = summary.get("rounding") if "rounding" in summary else bool(rounded)
    return (
        rep_count,
        rounded,
        None if rounding is None else bool(rounding),
        analysed_duration(report),
    )


def analysed_duration(report: dict) -> float | None:
    """Seconds of video that were analysed: the container's duration, unless the frames end
    earlier (a truncated file whose header still announces the whole clip)."""
    video = report.get("video") or {}
    duration = video.get("duration_s")
    frames = report.get("frames") or []
    last_t = frames[-1].get("t") if frames and isinstance(frames[-1], dict) else None
    if not isinstance(last_t, (int, float)):
        return duration
    fps = video.get("fps")
    step = 1.0 / fps if isinstance(fps, (int, float)) and fps > 0 else 0.0
    analysed = round(float(last_t) + step, 3)
    return analysed if not isinstance(duration, (int, float)) else min(float(duration), analysed)


def _die_with_parent(parent_pid: int) -> None:
    """Ask Linux to kill this process when the server dies (even by SIGKILL); elsewhere the
    progress callback notices the orphaning instead."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent_pid:  # the server died before the request above took effect
        os._exit(0)


def _yield_to_live() -> None:
    """Run below the server's priority: a lifter waiting for a live cue comes before an upload,
    which only finishes a little later."""
    with contextlib.suppress(OSError, AttributeError):
        os.nice(WORKER_NICENESS)


def run_job(spec: JobSpec) -> None:
    """Analyse one video and record the outcome; never raises."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the server, which stops us
    _die_with_parent(spec.parent_pid)
    _yield_to_live()
    store = Store(Path(spec.data_dir))
    attempt = store.mark_running(spec.analysis_id)
    if not attempt:
        return
    folder = store.folder(spec.analysis_id)
    for leftover in folder.glob(".*.*"):  # from a run that was stopped halfway
        leftover.unlink(missing_ok=True)
    token = uuid.uuid4().hex[:8]
    temp = {
        name: folder / f".{token}.{name}"
        for name in ("report.json", "frames.csv", "annotated.mp4", "playable.mp4")
    }
    try:
        from formcheck.pipeline import AnalysisOptions, analyze_video

        progress = _Progress(store, spec, attempt, 0.9 if spec.transcode else 0.99)
        try:
            options = AnalysisOptions(
                exercise=spec.exercise,
                height_cm=spec.height_cm,
                workers=spec.cores,
                model=spec.model,
            )
            report = analyze_video(
                spec.input_path,
                options,
                progress=progress,
                outputs={
                    "json": temp["report.json"],
                    "csv": temp["frames.csv"],
                    "video": temp["annotated.mp4"],
                },
            )
            if spec.transcode:
                from formcheck.sink import transcode_to_h264

                transcode_to_h264(spec.input_path, temp["playable.mp4"])
        except FormcheckError as exc:
            message = str(exc) or exc.__class__.__name__
            store.mark_failed(
                spec.analysis_id,
                message.replace(Path(spec.input_path).name, spec.filename),
                attempt=attempt,
            )
            return
        if not temp["report.json"].exists():
            import json

            temp["report.json"].write_text(json.dumps(report), encoding="utf-8")
        for name, path in temp.items():
            if path.exists():
                os.replace(path, folder / name)
        level = (report.get("summary") or {}).get("confidence_level")
        numbers = _summary_numbers(report)
        if store.mark_done(spec.analysis_id, *numbers, attempt=attempt, confidence_level=level):
            store.set_measures(spec.analysis_id, [m.to_dict() for m in session_measures(report)])
    except _Stopped:
        pass
    except OSError as exc:
        traceback.print_exc(file=sys.stderr)
        reason = exc.strerror or exc.__class__.__name__
        store.mark_failed(spec.analysis_id, NOT_SAVED.format(reason=reason), attempt=attempt)
    except Exception:
        traceback.print_exc(file=sys.stderr)
        store.mark_failed(spec.analysis_id, INTERNAL_ERROR, attempt=attempt)
    finally:
        for path in temp.values():
            path.unlink(missing_ok=True)
