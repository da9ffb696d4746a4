"""Writers: the files an analysis can be written to, one registry used by the CLI, the server
and batch runs.

In:  a finished analysis (`Written`: the input video, the report dict, the `Analysis`, the
     rounding rule and a progress callback) and, per writer name, the path to write.
Out: the files. Each `Writer` also says what its file looks like (`looks_like`), so an existing
     file that is not ours is never overwritten (`formcheck.outputs`).
json  - the report (schema formcheck.report/1)
csv   - per-frame angles, phase and rep signal
video - the clip with the skeleton, back outline and verdicts drawn on it (a second decode)
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .angles import ANGLE_NAMES
from .report import SCHEMA

# How much of an existing JSON file is read to see whether it is one of our reports.
_REPORT_PROBE_BYTES = 256 * 1024 * 1024
Progress = Callable[[int, int], None]


@dataclass
class Written:
    """What a writer is given."""

    video: Path
    report: dict
    analysis: object
    rounding: object
    progress: Progress | None = None


@dataclass(frozen=True)
class Writer:
    """One kind of output: `name` (CLI option --name), `suffix` of per-clip files in a folder,
    `what` it is in words, `looks_like` (an existing file is one), `write`, and whether it
    decodes the video again (`rereads_video`: counted in progress)."""

    name: str
    suffix: str
    help: str
    what: str
    looks_like: Callable[[Path], bool]
    write: Callable[[Written, Path], None]
    rereads_video: bool = False


def _r(v: float | None, nd: int = 1) -> float | None:
    if v is None or not np.isfinite(v):
        return None
    return round(float(v), nd)


def _is_report(path: Path) -> bool:
    """A JSON file whose top level says it is a formcheck report."""
    if path.stat().st_size > _REPORT_PROBE_BYTES:
        return False
    try:
        with path.open("rb") as fh:
            data = json.load(fh)
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(data, dict) and data.get("schema") == SCHEMA


def _is_angles_csv(path: Path) -> bool:
    """A CSV file whose header row starts with the columns formcheck writes."""
    try:
        with path.open("rb") as fh:
            head = fh.readline(4096)
    except OSError:
        return False
    columns = head.rstrip(b"\r\n").decode("utf-8", "replace").split(",")
    return columns[: len(CSV_COLUMNS)] == list(CSV_COLUMNS)


def _is_mp4(path: Path) -> bool:
    """An MP4/MOV-style file (starts with an `ftyp` box)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(12)
    except OSError:
        return False
    return head[4:8] == b"ftyp"


def write_json(report: dict, path: str | Path) -> None:
    Path(path).write_text(json.dumps(report, separators=(",", ":")))


CSV_COLUMNS = ("t", "pose", *ANGLE_NAMES, "trunk_thigh_deg", "spine_confidence", "phase", "depth")


def write_csv(analysis, path: str | Path) -> None:
    """CSV_COLUMNS for every frame, then an exercise module's own measures (`analysis.own`)."""
    own = getattr(analysis, "own", None)
    extra = dict(own.measures) if own is not None else {}
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([*CSV_COLUMNS, *extra])
        for i, (f, ph, d) in enumerate(
            zip(analysis.frames, analysis.phases, analysis.depth, strict=True)
        ):
            row = [round(f.t, 4), int(f.pose)]
            row += ["" if (v := _r(f.value(n))) is None else v for n in ANGLE_NAMES]
            row += [
                "" if (v := _r(f.trunk_thigh_deg)) is None else v,
                _r(f.spine_confidence, 2),
                ph,
            ]
            row.append("" if not np.isfinite(d) else round(float(d), 3))
            row += ["" if (v := _r(values[i])) is None else v for values in extra.values()]
            w.writerow(row)


def _write_video(done: Written, path: Path) -> None:
    from .render import render_annotated

    render_annotated(done.video, done.analysis, path, done.rounding, done.progress)


WRITERS: dict[str, Writer] = {
    w.name: w
    for w in (
        Writer(
            "json",
            ".json",
            "report JSON",
            "a formcheck report",
            _is_report,
            lambda done, path: write_json(done.report, path),
        ),
        Writer(
            "csv",
            ".csv",
            "per-frame angles CSV",
            "a formcheck angles CSV",
            _is_angles_csv,
            lambda done, path: write_csv(done.analysis, path),
        ),
        Writer(
            "video",
            ".annotated.mp4",
            "annotated MP4",
            "an MP4 video",
            _is_mp4,
            _write_video,
            rereads_video=True,
        ),
    )
}


def write_outputs(outputs: Mapping[str, str | Path | None], done: Written) -> None:
    """Write every output asked for (name -> path; None skips), in registry order."""
    for name, writer in WRITERS.items():
        path = outputs.get(name)
        if path:
            writer.write(done, Path(path))
