"""`formcheck batch`: analyse many clips, resumably, on this machine or a Ray cluster.

In:  inputs (files, folders searched recursively for videos, glob patterns), an output folder
     and the analysis options of `formcheck analyze`.
Out: per clip, under the output folder, `<stem>-<hash>.json` (report), `.csv` (angles) and
     `.annotated.mp4` (with --video), where <hash> starts the sha256 of the clip's bytes (two
     clips of the same name in different folders do not collide); `summary.csv` (one row per
     clip) and `reps.csv` (one row per rep). A clip is done when its manifest
     `.formcheck-batch/<sha256>-<options hash>.json` exists; it is written, atomically, after
     the outputs, so a run that is killed or interrupted loses only the clips in flight and the
     next run skips what is done. Bad clips are listed with their reason and do not stop the
     batch. The engines (local process pool, Ray) are in `formcheck.batch_engines`, the two
     tables in `formcheck.batch_tables`, the command line in `formcheck.batch_cli`.
"""

from __future__ import annotations

import glob
import hashlib
import json
import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .batch_engines import RAY_INSTALL_HINT, Job, Outcome, ray_available, run_local, run_ray
from .batch_tables import atomic_write, rep_rows, summary_fields, write_tables
from .errors import FormcheckError
from .outputs import check_outputs
from .report import SCHEMA
from .video import duration_hint
from .writers import WRITERS

VIDEO_EXTENSIONS = (".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm")
MANIFESTS = ".formcheck-batch"
MANIFEST_SCHEMA = "formcheck.batch-manifest/1"
HASH_CHARS = 10  # of the sha256 in output names


class BatchError(FormcheckError):
    """The batch cannot start (no input at all, an output folder that is a file...)."""


# ---------------------------------------------------------------- inputs


@dataclass
class Clip:
    """One input clip: as named (`path`), its content hash once read, its row of the summary."""

    path: Path
    sha256: str | None = None
    status: str = "pending"
    error: str | None = None
    row: dict = field(default_factory=dict)
    reps: list[dict] = field(default_factory=list)


def _is_video_name(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_EXTENSIONS


def _videos_under(folder: Path) -> list[Path]:
    """Video files below `folder`, sorted; the batch's own output folder is left out."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d != MANIFESTS)
        found += [Path(root) / f for f in sorted(files) if _is_video_name(Path(f))]
    return found


def collect_inputs(inputs: list[str], out_dir: Path | None = None) -> list[Clip]:
    """Files as given, videos in folders (recursively), glob matches (videos); duplicates once.

    An input that matches nothing becomes a failed clip with its reason.
    """
    clips: list[Clip] = []
    seen: set[str] = set()
    skip_root = out_dir.resolve() if out_dir is not None else None

    def add(path: Path) -> None:
        real = os.path.realpath(path)
        if real in seen:
            return
        if skip_root is not None and Path(real).is_relative_to(skip_root):
            return  # an annotated MP4 of an earlier run is not an input
        seen.add(real)
        clips.append(Clip(path))

    for text in inputs:
        path = Path(text)
        if path.is_dir():
            for video in _videos_under(path):
                add(video)
        elif path.exists():
            add(path)
        elif glob.has_magic(text):
            matches = sorted(glob.glob(text, recursive=True))
            videos = []
            for match in map(Path, matches):
                if match.is_dir():
                    videos += _videos_under(match)
                elif _is_video_name(match):
                    videos.append(match)
            if not videos:
                clips.append(Clip(path, status="failed", error="no video matches this pattern"))
            for video in videos:
                add(video)
        elif text not in seen:
            seen.add(text)
            clips.append(Clip(path, status="failed", error="no such file or folder"))
    return clips


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# ---------------------------------------------------------------- options and manifests


def options_key(options: dict) -> str:
    """Hash of what makes two analyses of the same bytes differ: options, version, schema."""
    text = json.dumps(
        {"options": options, "formcheck": __version__, "schema": SCHEMA}, sort_keys=True
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def output_paths(out_dir: Path, clip: Clip, video: bool) -> dict[str, Path | None]:
    stem = f"{clip.path.stem}-{clip.sha256[:HASH_CHARS]}"
    return {
        name: (out_dir / f"{stem}{w.suffix}" if name != "video" or video else None)
        for name, w in WRITERS.items()
    }


def _manifest_path(out_dir: Path, sha: str, opts_key: str) -> Path:
    return out_dir / MANIFESTS / f"{sha}-{opts_key}.json"


def load_manifest(out_dir: Path, sha: str, opts_key: str, video: bool) -> dict | None:
    """The manifest of a finished analysis of these bytes with these options whose outputs are
    all still there (and include the annotated video when asked), else None."""
    path = _manifest_path(out_dir, sha, opts_key)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    outputs = data.get("outputs") or {}
    if data.get("schema") != MANIFEST_SCHEMA or (video and not outputs.get("video")):
        return None
    if not all((out_dir / name).is_file() for name in outputs.values() if name):
        return None
    return data


# ---------------------------------------------------------------- the run


@dataclass
class BatchOptions:
    out: Path
    engine: str = "local"
    workers: int | None = None
    address: str | None = None
    video: bool = False
    upload: bool = False
    verbose: bool = False
    analysis: dict = field(default_factory=dict)


class _Progress:
    """A rich progress bar over clips on a TTY; nothing otherwise."""

    def __init__(self, total: int):
        self.bar = None
        if sys.stderr.isatty() and total:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(
                TextColumn("clips"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[ok]} ok, {task.fields[failed]} failed"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self.task = self.bar.add_task("batch", total=total, ok=0, failed=0)
            self.bar.start()

    def advance(self, ok: int, failed: int) -> None:
        if self.bar is not None:
            self.bar.update(self.task, advance=1, ok=ok, failed=failed)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _prepare(clips: list[Clip], opts: BatchOptions, opts_key: str) -> dict[str, Job]:
    """Hash each clip; mark done ones skipped; one job per clip content still to analyse."""
    jobs: dict[str, Job] = {}
    for clip in clips:
        if clip.status != "pending":
            continue
        try:
            clip.sha256 = file_sha256(clip.path)
        except OSError as exc:
            clip.status = "failed"
            clip.error = f"cannot read it ({exc.strerror or exc})"
            continue
        done = load_manifest(opts.out, clip.sha256, opts_key, opts.video)
        if done is not None:
            clip.status = "skipped"
            clip.row = {**done["summary"], "sha256": clip.sha256[:HASH_CHARS], **done["outputs"]}
            clip.reps = done["reps"]
            continue
        if clip.sha256 in jobs:
            continue  # the same bytes under another name: analysed once
        outputs = output_paths(opts.out, clip, opts.video)
        try:
            check_outputs(outputs, [clip.path], clip.path)
        except FormcheckError as exc:
            clip.status, clip.error = "failed", str(exc)
            continue
        # The outputs are about to hold these options' results: no other manifest stands for them.
        for stale in (opts.out / MANIFESTS).glob(f"{clip.sha256}-*.json"):
            stale.unlink(missing_ok=True)
        jobs[clip.sha256] = Job(clip.sha256, clip.path, outputs, opts.analysis)
    return jobs


def longest_first(jobs: list[Job]) -> list[Job]:
    """Jobs ordered by clip length (from the header), longest first: the long clips start
    early, so the batch does not end with one core analysing a long clip while the others
    wait. Clips whose header gives no length go first: they usually fail at once."""

    def seconds(job: Job) -> float:
        hint = duration_hint(job.path)
        return math.inf if hint is None else hint

    return sorted(jobs, key=seconds, reverse=True)


def _record(out_dir: Path, opts_key: str, job: Job, outcome: Outcome, options: dict) -> dict:
    """Write the manifest of a finished clip (after its outputs are in place)."""
    report = outcome.report or {}
    names = {k: (p.name if p else None) for k, p in job.outputs.items()}
    data = {
        "schema": MANIFEST_SCHEMA,
        "sha256": job.key,
        "options_key": opts_key,
        "options": options,
        "formcheck": __version__,
        "clip_name": job.path.name,
        "seconds": round(outcome.seconds, 2),
        "outputs": names,
        "summary": summary_fields(report),
        "reps": rep_rows(report),
    }
    (out_dir / MANIFESTS).mkdir(parents=True, exist_ok=True)
    atomic_write(_manifest_path(out_dir, job.key, opts_key), json.dumps(data, indent=1))
    return data


def run_batch(inputs: list[str], opts: BatchOptions) -> tuple[list[Clip], bool]:
    """Run the batch; returns the clips with their status and whether it was interrupted."""
    if opts.out.exists() and not opts.out.is_dir():
        raise BatchError(f"--out {opts.out} is a file, not a folder.")
    if opts.engine == "ray" and not ray_available():
        raise BatchError(RAY_INSTALL_HINT)
    clips = collect_inputs(inputs, opts.out)
    if not clips:
        raise BatchError("no input given")
    opts.out.mkdir(parents=True, exist_ok=True)
    opts_key = options_key(opts.analysis)
    jobs = _prepare(clips, opts, opts_key)
    by_hash: dict[str, list[Clip]] = {}
    for c in clips:
        if c.status == "pending":
            by_hash.setdefault(c.sha256, []).append(c)
    counts = {"ok": 0, "failed": 0}
    bar = _Progress(len(jobs))

    def on_done(job: Job, outcome: Outcome) -> None:
        if outcome.report is not None:
            data = _record(opts.out, opts_key, job, outcome, opts.analysis)
            row = {**data["summary"], "sha256": job.key[:HASH_CHARS], **data["outputs"]}
            status, error, reps = "ok", None, data["reps"]
        else:
            row, status, error, reps = {"sha256": job.key[:HASH_CHARS]}, "failed", outcome.error, []
        for c in by_hash.get(job.key, []):
            c.status, c.error, c.row, c.reps = status, error, row, reps
        counts[status] += 1
        bar.advance(counts["ok"], counts["failed"])

    interrupted = False
    workers = opts.workers or os.cpu_count() or 1
    todo = longest_first(list(jobs.values()))
    try:
        if todo and opts.engine == "ray":
            run_ray(
                todo,
                on_done,
                opts.workers,
                address=opts.address,
                upload=opts.upload,
                verbose=opts.verbose,
            )
        elif todo:
            run_local(todo, on_done, workers, verbose=opts.verbose)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        bar.stop()
    for c in clips:
        if c.status == "pending":
            c.status, c.error = "failed", "interrupted (run the batch again to resume)"
    write_tables(opts.out, clips)
    return clips, interrupted
