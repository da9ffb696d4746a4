"""Server settings: where data lives, how many analyses run at once, what uploads are accepted,
and who may connect.

In:  command-line values or test parameters; the environment (`FORMCHECK_DATA_DIR`, `XDG_DATA_HOME`).
Out: a frozen `Settings` value that `server.app.create_app` takes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

MB = 1024 * 1024
# A set rarely lasts more than a few minutes; longer clips tie up a worker for a long time.
DEFAULT_MAX_MINUTES = 15.0
# A live session that sends no frame for this long is closed, so it gives its slot back.
DEFAULT_LIVE_IDLE_S = 30.0


def default_data_dir() -> Path:
    """Per-user data folder: $FORMCHECK_DATA_DIR, else $XDG_DATA_HOME/formcheck, else ~/.local/share."""
    explicit = os.environ.get("FORMCHECK_DATA_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "formcheck"


def default_workers() -> int:
    """One analysis process per CPU core."""
    return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class Settings:
    """What one running server needs to know."""

    data_dir: Path
    workers: int = 1
    max_upload_bytes: int = 500 * MB
    max_duration_s: float = DEFAULT_MAX_MINUTES * 60
    allow_remote: bool = False
    access_token: str | None = None
    live_idle_s: float = DEFAULT_LIVE_IDLE_S
    # BlazePose model for uploads and live sessions: lite | full | heavy | auto (each job's
    # measured default; see formcheck.posemodels.resolve).
    model: str = "auto"

    def __post_init__(self) -> None:
        if self.allow_remote and not self.access_token:
            raise ValueError("a server that accepts remote clients needs an access token")
        if not self.live_idle_s > 0:
            raise ValueError("the live idle limit must be positive")
        if self.model not in ("lite", "full", "heavy", "auto"):
            raise ValueError(f"unknown pose model {self.model!r}: lite, full, heavy or auto")

    @classmethod
    def default(cls) -> Settings:
        """Settings for `formcheck serve` without options."""
        return cls(data_dir=default_data_dir(), workers=default_workers())
