"""Storage of analyses: one SQLite database plus one folder of files per analysis.

In:  a data folder path; analysis ids (uuid4 hex) and state changes from the API and the workers.
Out: `AnalysisRow` records and the file paths of an analysis (input, report, CSV, videos).

Layout of the data folder:
    formcheck.sqlite3          the analyses table (WAL mode, safe for several processes)
    uploads/<uuid>.part        uploads being received (removed at startup if left behind)
    analyses/<id>/input<.ext>  the uploaded video, under a generated name
    analyses/<id>/report.json, frames.csv, annotated.mp4, playable.mp4 (when transcoded)
Every connection is short-lived, so the API threads and the worker processes can share the file.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

STATUSES = ("queued", "running", "done", "failed")
_ID_RE = re.compile(r"^[0-9a-f]{32}$")
_SCHEMA_VERSION = 2
_WRITE_CHECK_BYTES = 64 * 1024
NO_MEASURES = "-"  # the measures row of a session that has nothing to follow
_SCHEMA = """
CREATE TABLE IF NOT EXISTS analyses (
    id           TEXT PRIMARY KEY,
    status       TEXT NOT NULL,
    progress     REAL NOT NULL DEFAULT 0,
    error        TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    filename     TEXT NOT NULL,
    input_name   TEXT NOT NULL,
    exercise     TEXT NOT NULL,
    height_cm    REAL,
    transcode    INTEGER NOT NULL DEFAULT 0,
    rep_count    INTEGER,
    rounded_reps INTEGER,
    rounding     INTEGER,
    duration_s   REAL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    confidence_level TEXT
);
CREATE INDEX IF NOT EXISTS analyses_created ON analyses (created_at);
CREATE TABLE IF NOT EXISTS measures (
    analysis_id  TEXT NOT NULL,
    name         TEXT NOT NULL,
    side         TEXT NOT NULL DEFAULT '',
    value        REAL NOT NULL,
    unit         TEXT NOT NULL,
    label        TEXT NOT NULL,
    PRIMARY KEY (analysis_id, name, side)
);
"""


def now_iso() -> str:
    """Current UTC time as ISO 8601 with a Z suffix."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_id() -> str:
    """A fresh analysis id (uuid4, 32 hex characters)."""
    return uuid.uuid4().hex


def is_valid_id(analysis_id: str) -> bool:
    """True if the string has the shape of an analysis id (guards paths built from it)."""
    return bool(_ID_RE.match(analysis_id))


def _owned(analysis_id: str, attempt: int | None) -> tuple[str, tuple]:
    """WHERE clause for a row, limited to one run of it when `attempt` is given."""
    if attempt is None:
        return "id = ?", (analysis_id,)
    return "id = ? AND attempts = ? AND status = 'running'", (analysis_id, attempt)


@dataclass(frozen=True)
class AnalysisRow:
    """One analysis as stored."""

    id: str
    status: str
    progress: float
    error: str | None
    created_at: str
    updated_at: str
    filename: str
    input_name: str
    exercise: str
    height_cm: float | None
    transcode: bool
    rep_count: int | None
    rounded_reps: int | None
    rounding: bool | None
    duration_s: float | None
    attempts: int
    confidence_level: str | None = None  # of the back verdict: "high", "low" or None

    @classmethod
    def from_sql(cls, row: sqlite3.Row) -> AnalysisRow:
        """Build from a database row."""
        data = dict(row)
        data["transcode"] = bool(data["transcode"])
        if data["rounding"] is not None:
            data["rounding"] = bool(data["rounding"])
        return cls(**data)


@dataclass(frozen=True)
class AnalysisFiles:
    """Paths of one analysis' files."""

    folder: Path
    input_name: str

    @property
    def input(self) -> Path:
        return self.folder / self.input_name

    @property
    def report(self) -> Path:
        return self.folder / "report.json"

    @property
    def csv(self) -> Path:
        return self.folder / "frames.csv"

    @property
    def annotated(self) -> Path:
        return self.folder / "annotated.mp4"

    @property
    def playable(self) -> Path:
        return self.folder / "playable.mp4"


class Store:
    """The analyses table and the files beside it."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.db_path = self.data_dir / "formcheck.sqlite3"
        self.analyses_dir = self.data_dir / "analyses"
        self.uploads_dir = self.data_dir / "uploads"

    def initialise(self) -> None:
        """Create folders and schema; drop leftovers of interrupted uploads and deletions.

        Raises OSError or sqlite3.Error when the folder cannot be written (read-only, disk full).
        """
        self.analyses_dir.mkdir(parents=True, exist_ok=True)
        self.uploads_dir.mkdir(parents=True, exist_ok=True)
        self._check_writable()
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
            columns = {row["name"] for row in db.execute("PRAGMA table_info(analyses)")}
            if "confidence_level" not in columns:  # a folder from before the column
                db.execute("ALTER TABLE analyses ADD COLUMN confidence_level TEXT")
            db.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")
            known = {row["id"] for row in db.execute("SELECT id FROM analyses")}
        for part in self.uploads_dir.glob("*.part"):
            part.unlink(missing_ok=True)
        for folder in self.analyses_dir.iterdir():
            if folder.is_dir() and is_valid_id(folder.name) and folder.name not in known:
                shutil.rmtree(folder, ignore_errors=True)

    def _check_writable(self) -> None:
        """Write, sync and remove a small file, so a full or read-only disk shows up now."""
        probe = self.uploads_dir / f".write-check-{new_id()}"
        try:
            with probe.open("wb") as fh:
                fh.write(b"\0" * _WRITE_CHECK_BYTES)
                fh.flush()
                os.fsync(fh.fileno())
        finally:
            probe.unlink(missing_ok=True)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.db_path, timeout=30.0, isolation_level=None)
        db.row_factory = sqlite3.Row
        try:
            db.execute("PRAGMA busy_timeout=30000")
            yield db
        finally:
            db.close()

    def files(self, row: AnalysisRow) -> AnalysisFiles:
        """File paths of an analysis."""
        return AnalysisFiles(self.analyses_dir / row.id, row.input_name)

    def folder(self, analysis_id: str) -> Path:
        """Folder of an analysis (may not exist yet)."""
        return self.analyses_dir / analysis_id

    def new_upload_path(self) -> Path:
        """A fresh path for an upload being received."""
        return self.uploads_dir / f"{new_id()}.part"

    def create(
        self,
        analysis_id: str,
        filename: str,
        input_name: str,
        exercise: str,
        height_cm: float | None,
        transcode: bool,
    ) -> AnalysisRow:
        """Insert a queued analysis."""
        stamp = now_iso()
        with self._connect() as db:
            db.execute(
                "INSERT INTO analyses (id, status, progress, created_at, updated_at, filename,"
                " input_name, exercise, height_cm, transcode) VALUES (?, 'queued', 0, ?, ?, ?, ?, ?, ?, ?)",
                (
                    analysis_id,
                    stamp,
                    stamp,
                    filename,
                    input_name,
                    exercise,
                    height_cm,
                    int(transcode),
                ),
            )
        row = self.get(analysis_id)
        assert row is not None
        return row

    def get(self, analysis_id: str) -> AnalysisRow | None:
        """One analysis, or None."""
        with self._connect() as db:
            row = db.execute("SELECT * FROM analyses WHERE id = ?", (analysis_id,)).fetchone()
        return AnalysisRow.from_sql(row) if row else None

    def list(self, limit: int = 500) -> list[AnalysisRow]:
        """Analyses, newest first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT * FROM analyses ORDER BY created_at DESC, rowid DESC LIMIT ?", (limit,)
            ).fetchall()
        return [AnalysisRow.from_sql(r) for r in rows]

    def unfinished(self) -> list[AnalysisRow]:
        """Queued or interrupted analyses, oldest first, all reset to queued."""
        with self._connect() as db:
            db.execute(
                "UPDATE analyses SET status = 'queued', progress = 0, updated_at = ?"
                " WHERE status IN ('queued', 'running')",
                (now_iso(),),
            )
            rows = db.execute(
                "SELECT * FROM analyses WHERE status = 'queued' ORDER BY created_at, rowid"
            ).fetchall()
        return [AnalysisRow.from_sql(r) for r in rows]

    def mark_running(self, analysis_id: str) -> int | None:
        """Queued -> running; returns the attempt number (1, 2, ...), None if the analysis is gone.

        Later writes of that run pass `attempt`, so a stale run can never overwrite a newer one.
        """
        with self._connect() as db:
            row = db.execute(
                "UPDATE analyses SET status = 'running', progress = 0, error = NULL,"
                " attempts = attempts + 1, updated_at = ? WHERE id = ? RETURNING attempts",
                (now_iso(), analysis_id),
            ).fetchone()
        return int(row["attempts"]) if row else None

    def requeue(self, analysis_id: str) -> bool:
        """Running -> queued (for a retry); False if the analysis is gone or not running."""
        with self._connect() as db:
            cur = db.execute(
                "UPDATE analyses SET status = 'queued', progress = 0, updated_at = ?"
                " WHERE id = ? AND status = 'running'",
                (now_iso(), analysis_id),
            )
        return cur.rowcount == 1

    def set_progress(self, analysis_id: str, progress: float, attempt: int | None = None) -> bool:
        """Store progress of a running analysis; False if it is gone (or taken over)."""
        where, args = _owned(analysis_id, attempt)
        with self._connect() as db:
            cur = db.execute(
                f"UPDATE analyses SET progress = ?, updated_at = ? WHERE {where}",
                (min(max(progress, 0.0), 1.0), now_iso(), *args),
            )
        return cur.rowcount == 1

    def mark_done(
        self,
        analysis_id: str,
        rep_count: int | None,
        rounded_reps: int | None,
        rounding: bool | None,
        duration_s: float | None,
        attempt: int | None = None,
        confidence_level: str | None = None,
    ) -> bool:
        """Running -> done with the summary columns the history shows."""
        where, args = _owned(analysis_id, attempt)
        with self._connect() as db:
            cur = db.execute(
                "UPDATE analyses SET status = 'done', progress = 1, error = NULL, rep_count = ?,"
                " rounded_reps = ?, rounding = ?, duration_s = ?, confidence_level = ?,"
                f" updated_at = ? WHERE {where}",
                (
                    rep_count,
                    rounded_reps,
                    None if rounding is None else int(rounding),
                    duration_s,
                    confidence_level if confidence_level in ("high", "low") else None,
                    now_iso(),
                    *args,
                ),
            )
        return cur.rowcount == 1

    def mark_failed(self, analysis_id: str, error: str, attempt: int | None = None) -> bool:
        """Any state (or the given run) -> failed with a readable reason."""
        where, args = _owned(analysis_id, attempt)
        with self._connect() as db:
            cur = db.execute(
                f"UPDATE analyses SET status = 'failed', error = ?, updated_at = ? WHERE {where}",
                (error, now_iso(), *args),
            )
        return cur.rowcount == 1

    def set_measures(self, analysis_id: str, measures: list[dict]) -> None:
        """Replace a session's progress measures (`formcheck.progress.Measure` dicts); a session
        with none keeps a row named NO_MEASURES, so it is known to have been looked at."""
        rows = [
            (analysis_id, m["name"], m["side"] or "", m["value"], m["unit"], m["label"])
            for m in measures
        ] or [(analysis_id, NO_MEASURES, "", 0.0, "", "")]
        with self._connect() as db:
            db.execute("DELETE FROM measures WHERE analysis_id = ?", (analysis_id,))
            db.executemany(
                "INSERT INTO measures (analysis_id, name, side, value, unit, label)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )

    def measures(self) -> list[dict]:
        """Every done session's measures, oldest first: analysis id, filename, exercise, time,
        name, side (None for none), value, unit, label."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT a.id, a.filename, a.exercise, a.created_at, m.name, m.side, m.value,"
                " m.unit, m.label FROM measures m JOIN analyses a ON a.id = m.analysis_id"
                " WHERE a.status = 'done' AND m.name != ? ORDER BY a.created_at, m.name, m.side",
                (NO_MEASURES,),
            ).fetchall()
        keys = ("analysis_id", "filename", "exercise", "created_at", "name", "side", "value")
        out = []
        for r in rows:
            item = dict(zip(keys, tuple(r)[:7], strict=True))
            item["side"] = item["side"] or None
            out.append({**item, "unit": r[7], "label": r[8]})
        return out

    def done_without_measures(self) -> list[AnalysisRow]:
        """Done analyses whose measures were never stored (analysed before progress existed)."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT * FROM analyses WHERE status = 'done' AND id NOT IN"
                " (SELECT analysis_id FROM measures) ORDER BY created_at"
            ).fetchall()
        return [AnalysisRow.from_sql(r) for r in rows]

    def delete(self, analysis_id: str) -> bool:
        """Remove the row, its measures and the files; False if there was no such analysis."""
        with self._connect() as db:
            db.execute("DELETE FROM measures WHERE analysis_id = ?", (analysis_id,))
            cur = db.execute("DELETE FROM analyses WHERE id = ?", (analysis_id,))
        shutil.rmtree(self.folder(analysis_id), ignore_errors=True)
        return cur.rowcount == 1
