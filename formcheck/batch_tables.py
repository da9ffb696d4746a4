"""The tables of `formcheck batch`: summary.csv (one row per clip) and reps.csv (one row per
rep), from the reports' `summary`, `view`, `video` and `reps` keys.

In:  reports (dicts, schema formcheck.report/1) and the batch's clips with their status.
Out: the rows (also kept in each clip's manifest, so skipped clips need not be read again) and
     the two CSV files, each written atomically.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

SUMMARY_COLUMNS = (
    "path",
    "status",
    "error",
    "exercise",
    "rep_count",
    "verdict",
    "confidence",
    "reason",
    "rounded_reps",
    "peak_lumbar_flexion_deg",
    "peak_hip_flexion_deg",
    "form",
    "view",
    "facing",
    "duration_s",
    "frames",
    "sha256",
    "json",
    "csv",
    "video",
)
REP_COLUMNS = (
    "clip",
    "rep",
    "start_s",
    "end_s",
    "side",
    "verdict",
    "confidence",
    "reason",
    "rounding",
    "max_lumbar_flexion_deg",
    "max_hip_flexion_deg",
    "max_thoracic_flexion_deg",
)


def atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        with tmp.open("w", newline="", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _r(value, nd: int = 1):
    return None if value is None else round(float(value), nd)


def summary_fields(report: dict) -> dict:
    """The summary.csv columns a report gives."""
    s = report.get("summary", {})
    reps = report.get("reps") or []
    hips = [r["max_hip_flexion_deg"] for r in reps if r.get("max_hip_flexion_deg") is not None]
    view = report.get("view") or {}
    video = report.get("video") or {}
    return {
        "exercise": s.get("exercise"),
        "rep_count": s.get("rep_count"),
        "verdict": s.get("verdict"),
        "confidence": s.get("confidence"),
        "reason": s.get("reason"),
        "rounded_reps": s.get("rounded_reps"),
        "peak_lumbar_flexion_deg": s.get("peak_lumbar_flexion_deg"),
        "peak_hip_flexion_deg": _r(max(hips)) if hips else None,
        "form": s.get("form"),
        "view": view.get("kind"),
        "facing": view.get("facing"),
        "duration_s": video.get("duration_s"),
        "frames": video.get("frames"),
    }


def rep_rows(report: dict) -> list[dict]:
    """The reps.csv rows of a report (the clip column is filled in later)."""
    return [
        {
            "rep": r.get("index"),
            "start_s": r.get("start_s"),
            "end_s": r.get("end_s"),
            "side": r.get("side"),
            "verdict": r.get("verdict"),
            "confidence": r.get("confidence"),
            "reason": r.get("reason"),
            "rounding": r.get("rounding"),
            "max_lumbar_flexion_deg": r.get("max_lumbar_flexion_deg"),
            "max_hip_flexion_deg": r.get("max_hip_flexion_deg"),
            "max_thoracic_flexion_deg": r.get("max_thoracic_flexion_deg"),
        }
        for r in report.get("reps") or []
    ]


def _csv_text(columns: tuple[str, ...], rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for row in rows:
        w.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in columns})
    return buf.getvalue()


def write_tables(out_dir: Path, clips: list) -> None:
    """summary.csv and reps.csv of the batch's clips (`formcheck.batch.Clip`), in input order."""
    rows, reps = [], []
    for c in clips:
        rows.append({**c.row, "path": str(c.path), "status": c.status, "error": c.error})
        reps += [{**r, "clip": str(c.path)} for r in c.reps]
    atomic_write(out_dir / "summary.csv", _csv_text(SUMMARY_COLUMNS, rows))
    atomic_write(out_dir / "reps.csv", _csv_text(REP_COLUMNS, reps))
