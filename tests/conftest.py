"""Shared test helpers: the real lift clips in ../shared/footage, their labels, and a
session-wide cache of their analyses through the real CLI.

In:  ../shared/footage (clips and LABELS.tsv), next to the project root.
Out: `FOOTAGE`, `read_labels()`, `run_cli()`, `stderr_lines()` and the fixtures `clip_labels`
     and `footage_runs` (each clip analysed at most once per test session, on first use), and
     `pose_model` (BlazePose on still rendered frames).
"""

from __future__ import annotations

import csv
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FOOTAGE = REPO / ".." / "shared" / "footage"
LABELS = FOOTAGE / "LABELS.tsv"

# Log lines MediaPipe, absl and TensorFlow Lite print on their own; not formcheck's output.
LIBRARY_LOG_PREFIXES = (
    "W0000",
    "I0000",
    "E0000",
    "INFO:",
    "WARNING: All log messages before absl::InitializeLog()",
)


def read_labels() -> list[dict[str, str]]:
    """Rows of LABELS.tsv (one per clip) as dicts keyed by the header; [] without footage."""
    if not LABELS.exists():
        return []
    with LABELS.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def rep_range(text: str) -> tuple[int, int]:
    """The `reps` column: "3" means exactly 3, "10-11" means 10 or 11, "0" a clip with no rep
    (it only lowers the bar), "hold" a timed hold such as a plank: no rep either."""
    text = text.strip()
    if text == "hold":
        return 0, 0
    lo, _, hi = text.partition("-")
    return int(lo), int(hi or lo)


def run_cli(*args: str | Path, timeout: float = 600.0) -> subprocess.CompletedProcess:
    """`python -m formcheck ARGS` in a subprocess, output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "formcheck", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
    )


def stderr_lines(stderr: str) -> list[str]:
    """Non-empty stderr lines that formcheck itself wrote (library log noise removed)."""
    return [
        line
        for line in stderr.splitlines()
        if line.strip() and not line.startswith(LIBRARY_LOG_PREFIXES)
    ]


@dataclass
class ClipRun:
    """One clip analysed by `formcheck analyze --json --csv --video`."""

    clip: str
    returncode: int
    stdout: str
    stderr: str
    json_path: Path
    csv_path: Path
    video_path: Path


@dataclass
class FootageRuns:
    """Analyses of footage clips, run on first request and kept for the session."""

    out_dir: Path
    _runs: dict[str, ClipRun] = field(default_factory=dict)

    def get(self, clip: str) -> ClipRun:
        if clip not in self._runs:
            stem = Path(clip).stem
            run = ClipRun(
                clip=clip,
                returncode=-1,
                stdout="",
                stderr="",
                json_path=self.out_dir / f"{stem}.json",
                csv_path=self.out_dir / f"{stem}.csv",
                video_path=self.out_dir / f"{stem}.annotated.mp4",
            )
            proc = run_cli(
                "analyze",
                FOOTAGE / clip,
                "--json",
                run.json_path,
                "--csv",
                run.csv_path,
                "--video",
                run.video_path,
            )
            run.returncode, run.stdout, run.stderr = proc.returncode, proc.stdout, proc.stderr
            self._runs[clip] = run
        return self._runs[clip]


@pytest.fixture(scope="session")
def clip_labels() -> dict[str, dict[str, str]]:
    """LABELS.tsv keyed by clip file name; skips when the footage folder is absent."""
    rows = read_labels()
    if not rows:
        pytest.skip(f"no footage labels at {LABELS}")
    return {row["file"]: row for row in rows}


@pytest.fixture(scope="session")
def footage_runs(tmp_path_factory: pytest.TempPathFactory) -> FootageRuns:
    """Session cache: `footage_runs.get(clip)` analyses a clip once, then reuses the outputs."""
    return FootageRuns(tmp_path_factory.mktemp("footage-runs"))


def run_as_nobody(func, *args) -> subprocess.CompletedProcess:
    """`func(*args)` in a forked child that dropped root to the nobody user (root reads and
    writes any file whatever its mode); its stdout and stderr come back as stderr, its return
    value as the exit code. Load the modules `func` needs before calling: the interpreter's own
    folder may be closed to other users."""
    import os

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never returns into pytest
        code = 99
        try:
            os.close(read_end)
            os.dup2(write_end, 2)
            os.dup2(write_end, 1)
            sys.stderr = sys.stdout = os.fdopen(2, "w", closefd=False)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            code = func(*args)
            sys.stderr.flush()
        except BaseException as exc:  # reported to the parent through stderr
            os.write(2, f"Traceback: {exc!r}\n".encode())
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "r") as pipe:
        stderr = pipe.read()
    _, status = os.waitpid(pid, 0)
    return subprocess.CompletedProcess(
        list(map(str, args)), os.waitstatus_to_exitcode(status), "", stderr
    )


@pytest.fixture(scope="session")
def pose_model():
    """MediaPipe's BlazePose Full on still pictures (rendered frames), segmentation on."""
    mp = pytest.importorskip("mediapipe")
    with mp.solutions.pose.Pose(
        static_image_mode=True, model_complexity=1, enable_segmentation=True
    ) as pose:
        yield pose
