"""Helpers for the server and browser tests: run the real app under uvicorn in a subprocess.

In:  a data folder and server options.
Out: `ServerProcess` (start, URL, stop with a real signal), status following over SSE, the
     footage labels.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
FOOTAGE = REPO / ".." / "shared" / "footage"
ARTIFACTS = REPO / "test-artifacts"
ROUNDED_CLIP = "bichraix_bad005.mp4"
NEUTRAL_CLIP = "bichraix_good004.mp4"


def footage(name: str) -> Path:
    """Path of a clip in the shared footage folder."""
    return FOOTAGE / name


def labels() -> dict[str, dict[str, str]]:
    """LABELS.tsv rows keyed by file name."""
    with (FOOTAGE / "LABELS.tsv").open(newline="", encoding="utf-8") as fh:
        return {row["file"]: row for row in csv.DictReader(fh, delimiter="\t")}


def free_port() -> int:
    """A TCP port that is free on the loopback interface right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ServerProcess:
    """`python -m server` on a free loopback port, one analysis worker by default."""

    data_dir: Path
    max_upload_mb: float = 500
    workers: int = 1
    port: int = field(default_factory=free_port)
    extra: tuple[str, ...] = ()  # more `formcheck serve` options
    env: dict[str, str] = field(default_factory=dict)  # more environment variables
    process: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> ServerProcess:
        """Start and wait until the API answers."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.data_dir.parent / f"server-{self.port}.log"
        env = {**os.environ, "PYTHONPATH": str(REPO), **self.env}
        command = [
            sys.executable,
            "-m",
            "server",
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
            "--workers",
            str(self.workers),
            "--max-upload-mb",
            str(self.max_upload_mb),
            *self.extra,
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            try:
                # 401: a server with --allow-remote answers, without its token
                if httpx.get(f"{self.url}/api/config", timeout=1).status_code in (200, 401):
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server did not start within {timeout} s:\n{self.log()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int | None:
        """Send a signal and wait for the process to end (killing it if it hangs)."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=10)

    def log(self) -> str:
        """The server's output so far (for failure messages)."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-4000:]


def upload(base_url: str, clip: Path, **fields: str) -> httpx.Response:
    """POST a clip to /api/analyses."""
    with clip.open("rb") as fh:
        files = {"video": (clip.name, fh, "video/mp4")}
        return httpx.post(f"{base_url}/api/analyses", files=files, data=fields, timeout=60)


def follow(base_url: str, analysis_id: str, timeout: float = 240.0) -> list[dict]:
    """Read the SSE stream until done/failed; returns every status event received."""
    events: list[dict] = []
    deadline = time.monotonic() + timeout
    url = f"{base_url}/api/analyses/{analysis_id}/events"
    while time.monotonic() < deadline:
        with httpx.stream("GET", url, timeout=httpx.Timeout(10, read=60)) as response:
            response.raise_for_status()
            event = None
            for line in response.iter_lines():
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and event == "status":
                    events.append(json.loads(line.split(":", 1)[1]))
                    if events[-1]["status"] in ("done", "failed"):
                        return events
                if time.monotonic() > deadline:
                    break
    raise AssertionError(f"analysis {analysis_id} did not finish in {timeout} s: {events[-3:]}")


def wait_for(predicate, timeout: float, interval: float = 0.2, what: str = "condition"):
    """Poll until predicate() returns something truthy; return it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
