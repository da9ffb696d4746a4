"""Bad input, crashes and full disks through the real server: nothing lost, nothing stuck.

In:  the generated bad-input corpus (tests/corpus.py), real clips from ../shared/footage, and a
     real `python -m server` on 127.0.0.1 that the tests kill, restart and starve of disk.
Out: every bad upload gets a readable 4xx or a failed job with a reason while other requests keep
     being answered; a SIGKILLed server finishes every analysis after a restart without losing or
     duplicating a file or row; a killed worker is retried once, then failed with a reason; an
     unwritable or full data folder gives one clear line at start and no half-written rows.
"""

from __future__ import annotations

import os
import resource
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import corpus
import httpx
import pytest
from conftest import run_as_nobody
from conftest_server import (
    REPO,
    ServerProcess,
    follow,
    footage,
    free_port,
    upload,
    wait_for,
)

from server.storage import Store, new_id

pytestmark = pytest.mark.skipif(
    not corpus.LIFT_CLIP.exists(), reason="../shared/footage not present"
)
LONG_CLIPS = ("tby66_0016c_1.mp4", "tby66_0016h_1.mp4")
SHORT_CLIP = "bichraix_good004.mp4"


# --- helpers ------------------------------------------------------------------------------------


@dataclass
class Server(ServerProcess):
    """`ServerProcess` with extra options and, optionally, a per-file size limit (a full disk)."""

    extra_args: list[str] = field(default_factory=list)
    file_size_limit: int | None = None

    def start(self, timeout: float = 30.0) -> Server:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.data_dir.parent / f"server-{self.port}.log"
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        command = [
            *(sys.executable, "-m", "server", "--port", str(self.port)),
            *("--data-dir", str(self.data_dir), "--workers", str(self.workers)),
            *("--max-upload-mb", str(self.max_upload_mb), *self.extra_args),
        ]
        limit = self.file_size_limit

        def limits() -> None:
            if limit is not None:
                resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=limits
            )
        wait_for(self._answers, timeout, what="the server to start")
        return self

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{self.log()}")
        try:
            return httpx.get(f"{self.url}/api/config", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False


class Heartbeat:
    """Background GETs of /api/config while something else happens; records any failure."""

    def __init__(self, base_url: str, interval: float = 0.25) -> None:
        self.base_url = base_url
        self.interval = interval
        self.ok = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=15) as client:
            while not self._stop.is_set():
                try:
                    response = client.get(f"{self.base_url}/api/config")
                    if response.status_code == 200:
                        self.ok += 1
                    else:
                        self.failures.append(f"status {response.status_code}")
                except httpx.HTTPError as exc:
                    self.failures.append(repr(exc))
                self._stop.wait(self.interval)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=20)


def _rows(data_dir: Path) -> list[tuple]:
    with sqlite3.connect(data_dir / "formcheck.sqlite3") as db:
        return db.execute("SELECT id, status, error FROM analyses ORDER BY created_at").fetchall()


def _children(pid: int) -> list[int]:
    """Analysis worker processes of a server (spawned multiprocessing children)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat_fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat_fields[1]) == pid and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return found


def _state(base_url: str, analysis_id: str) -> dict:
    return httpx.get(f"{base_url}/api/analyses/{analysis_id}", timeout=10).json()


def _progressing(base_url: str, analysis_id: str) -> dict | None:
    state = _state(base_url, analysis_id)
    assert state["status"] != "failed", state
    return state if state["status"] == "running" and state["progress"] > 0 else None


# --- bad input through the API ------------------------------------------------------------------

# Corpus item -> (HTTP status, words the detail must contain); 202 means accepted for analysis.
REFUSED = {
    "random_bytes": (415, ["noise.mp4", "not a readable video"]),
    "zero_bytes": (422, ["empty"]),
    "truncated": (415, ["cut short.mp4", "incomplete"]),
    "audio_only": (415, ["voice memo.mp4", "audio only"]),
    "still_image": (415, ["photo.mp4", "still image"]),
    "one_frame": (415, ["single frame.mp4", "single frame"]),
    "huge_header": (415, ["huge frames.mp4", "20000x12000"]),
    "ten_minutes": (422, ["ten minutes.mp4", "10 min", "5 min"]),
}


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("corpus")


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory: pytest.TempPathFactory):
    """A server accepting clips of up to five minutes, two workers."""
    data = tmp_path_factory.mktemp("strict") / "data"
    proc = Server(data, workers=2, extra_args=["--max-minutes", "5"]).start()
    yield proc
    proc.stop()


@pytest.mark.slow
def test_bad_uploads_get_readable_refusals(strict_server: ServerProcess, corpus_dir: Path) -> None:
    base = strict_server.url
    with Heartbeat(base) as beat:
        for item, (status, words) in REFUSED.items():
            clip = getattr(corpus, item)(corpus_dir)
            response = upload(base, clip)
            assert response.status_code == status, (item, response.text)
            detail = response.json()["detail"]
            assert isinstance(detail, str) and "Traceback" not in detail
            for word in words:
                assert word.lower() in detail.lower(), (item, detail)
            assert ".part" not in detail and str(strict_server.data_dir) not in detail

        # The request itself is wrong: no multipart body, a form without the file, a broken body.
        raw = corpus.LIFT_CLIP.read_bytes()
        wrong_type = httpx.post(
            f"{base}/api/analyses", content=raw, headers={"Content-Type": "video/mp4"}
        )
        assert wrong_type.status_code == 415 and "multipart" in wrong_type.json()["detail"]
        no_file = httpx.post(f"{base}/api/analyses", data={"exercise": "deadlift"})
        assert no_file.status_code in (415, 422) and "video" in no_file.json()["detail"]
        broken = httpx.post(
            f"{base}/api/analyses",
            content=b'--x\r\nContent-Disposition: form-data; name="video"; filename="a.mp4"\r\n',
            headers={"Content-Type": "multipart/form-data; boundary=x"},
        )
        assert broken.status_code in (400, 422), broken.text
    assert beat.failures == [] and beat.ok >= 3
    assert httpx.get(f"{base}/api/analyses").json() == []
    assert list((strict_server.data_dir / "uploads").iterdir()) == []
    assert list((strict_server.data_dir / "analyses").iterdir()) == []


# Accepted items -> what the finished job must show.
@pytest.mark.slow
def test_awkward_videos_are_analysed_or_fail_with_a_reason(
    strict_server: ServerProcess, corpus_dir: Path
) -> None:
    base = strict_server.url
    with Heartbeat(base) as beat:
        ids = {}
        for item in ("empty_room", "two_people", "four_k", "rotated"):
            response = upload(base, getattr(corpus, item)(corpus_dir))
            assert response.status_code == 202, (item, response.text)
            ids[item] = response.json()["id"]
        # A hostile client-side name (../ and non-ASCII), sent with a wrong part content-type.
        clip = corpus.unicode_name(corpus_dir)
        response = httpx.post(
            f"{base}/api/analyses",
            files={"video": (f"../../{corpus.UNICODE_NAME}", clip.read_bytes(), "text/plain")},
            timeout=60,
        )
        assert response.status_code == 202, response.text
        ids["unicode_name"] = response.json()["id"]
        final = {item: follow(base, analysis_id)[-1] for item, analysis_id in ids.items()}
    assert beat.failures == [] and beat.ok >= 3

    room = final["empty_room"]
    assert room["status"] == "failed" and "no person" in room["error"].lower()
    assert "empty room.mp4" in room["error"]
    pair = final["two_people"]
    assert pair["status"] == "failed" and "more than one person" in pair["error"], pair
    for item in ("four_k", "rotated", "unicode_name"):
        assert final[item]["status"] == "done", (item, final[item])
    video = _state(base, ids["four_k"])["report"]["video"]
    assert (video["width"], video["height"]) == (3840, 2160)
    video = _state(base, ids["rotated"])["report"]["video"]
    assert (video["width"], video["height"], video["rotation"]) == (640, 360, 90)
    named = _state(base, ids["unicode_name"])
    assert named["filename"] == corpus.UNICODE_NAME
    folder = strict_server.data_dir / "analyses" / ids["unicode_name"]
    assert (folder / "input.mp4").exists()
    assert not list(strict_server.data_dir.parent.rglob("*запись*"))


# --- faults -------------------------------------------------------------------------------------


@pytest.mark.slow
def test_sigkilled_server_finishes_every_analysis_after_restart(tmp_path: Path) -> None:
    # Two 8-second lifts (long enough to be caught mid-analysis) and a short one queued behind.
    clips = [
        corpus.encode(
            tmp_path / f"part {i}.mp4", corpus.footage_frames(footage(c), (360, 640), 480), 60
        )
        for i, c in enumerate(LONG_CLIPS)
    ]
    proc = ServerProcess(tmp_path / "data", workers=2).start()
    try:
        ids = []
        for clip in (*clips, footage(SHORT_CLIP)):
            response = upload(proc.url, clip)
            assert response.status_code == 202, response.text
            ids.append(response.json()["id"])
        for analysis_id in ids[:2]:
            wait_for(lambda a=analysis_id: _progressing(proc.url, a), 120, what="two analyses")
        assert _state(proc.url, ids[2])["status"] == "queued"
        workers = _children(proc.process.pid)
        assert len(workers) == 2, workers
    finally:
        proc.stop(signal.SIGKILL)
    # Workers go with the server: none keeps writing behind the next server's back.
    wait_for(lambda: not any(Path(f"/proc/{pid}").exists() for pid in workers), 10, what="workers")
    assert [status for _, status, _ in _rows(proc.data_dir)] == ["running", "running", "queued"]

    restarted = ServerProcess(proc.data_dir, workers=2).start()
    try:
        finals = [follow(restarted.url, analysis_id, timeout=300)[-1] for analysis_id in ids]
        assert [f["status"] for f in finals] == ["done"] * 3, (finals, restarted.log())
        for analysis_id in ids:
            report = _state(restarted.url, analysis_id)["report"]
            assert report["summary"]["rep_count"] is not None and len(report["frames"]) > 50
        history = httpx.get(f"{restarted.url}/api/analyses").json()
        assert sorted(h["id"] for h in history) == sorted(ids)
    finally:
        restarted.stop()
    assert len(_rows(proc.data_dir)) == 3
    folders = sorted(p.name for p in (proc.data_dir / "analyses").iterdir())
    assert folders == sorted(ids)
    for analysis_id in ids:
        names = sorted(p.name for p in (proc.data_dir / "analyses" / analysis_id).iterdir())
        assert names == ["annotated.mp4", "frames.csv", "input.mp4", "report.json"], names
    assert list((proc.data_dir / "uploads").iterdir()) == []


@pytest.mark.slow
def test_killed_worker_is_retried_once_then_failed_and_the_pool_goes_on(tmp_path: Path) -> None:
    proc = ServerProcess(tmp_path / "data", workers=1).start()
    try:
        response = upload(proc.url, footage(LONG_CLIPS[0]))
        analysis_id = response.json()["id"]
        for _ in range(2):
            wait_for(lambda: _progressing(proc.url, analysis_id), 120, what="analysis progress")
            (worker,) = _children(proc.process.pid)
            os.kill(worker, signal.SIGKILL)
            wait_for(lambda w=worker: not Path(f"/proc/{w}").exists(), 10, what="worker exit")
            if _state(proc.url, analysis_id)["status"] != "failed":
                time.sleep(0.5)
        final = follow(proc.url, analysis_id, timeout=60)[-1]
        assert final["status"] == "failed", final
        assert "stopped unexpectedly" in final["error"] and "SIGKILL" in final["error"]
        with sqlite3.connect(proc.data_dir / "formcheck.sqlite3") as db:
            (attempts,) = db.execute(
                "SELECT attempts FROM analyses WHERE id = ?", (analysis_id,)
            ).fetchone()
        assert attempts == 2
        # The pool still works: the next upload is analysed.
        response = upload(proc.url, footage(SHORT_CLIP))
        assert follow(proc.url, response.json()["id"])[-1]["status"] == "done", proc.log()
    finally:
        proc.stop()


def test_stale_run_cannot_overwrite_a_newer_one(tmp_path: Path) -> None:
    store = Store(tmp_path / "data")
    store.initialise()
    analysis_id = new_id()
    store.create(analysis_id, "a.mp4", "input.mp4", "auto", None, False)
    first = store.mark_running(analysis_id)
    assert store.requeue(analysis_id)
    second = store.mark_running(analysis_id)
    assert (first, second) == (1, 2)
    assert not store.set_progress(analysis_id, 0.5, attempt=first)
    assert not store.mark_done(analysis_id, 1, 0, False, 3.0, attempt=first)
    assert not store.mark_failed(analysis_id, "stale", attempt=first)
    assert store.set_progress(analysis_id, 0.5, attempt=second)
    assert store.mark_done(analysis_id, 1, 0, False, 3.0, attempt=second)
    row = store.get(analysis_id)
    assert (row.status, row.error, row.attempts) == ("done", None, 2)
    assert store.mark_running(new_id()) is None


def _serve_once(data_dir: Path, limit_bytes: int | None = None):
    """Run `python -m server` expecting it to refuse to start; returns the finished process."""

    def limits() -> None:
        if limit_bytes is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-m", "server", "--port", str(free_port())]
    command += ["--data-dir", str(data_dir)]
    return subprocess.run(
        command,
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=limits,
    )


def _one_line(proc, *words: str) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def _serve_as_nobody(data_dir: Path) -> subprocess.CompletedProcess:
    """`formcheck serve` in a forked child that dropped root (root ignores file modes); the
    interpreter is not readable by other users here, so the modules are loaded before the fork."""
    import uvicorn  # noqa: F401

    import server.app  # noqa: F401
    import server.logredact  # noqa: F401
    from server.cli import add_serve_parser, run_serve

    parser = __import__("argparse").ArgumentParser()
    add_serve_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["serve", "--port", str(free_port()), "--data-dir", str(data_dir)])
    return run_as_nobody(run_serve, args)


def test_unwritable_data_folder_is_refused_at_start(tmp_path: Path) -> None:
    base = tmp_path / "world"
    base.mkdir()
    data = base / "data"
    data.mkdir(mode=0o555)
    data.chmod(0o555)
    try:
        if os.geteuid() == 0:
            for folder in (base, *base.parents):  # let the unprivileged child reach the folder
                if folder.is_relative_to(tmp_path.parents[2]):
                    folder.chmod(folder.stat().st_mode | 0o011)
            proc = _serve_as_nobody(data)
        else:
            proc = _serve_once(data)
        _one_line(proc, "cannot use data folder", str(data))
        assert list(data.iterdir()) == []
    finally:
        data.chmod(0o755)


def test_full_disk_at_start_is_refused_without_half_written_rows(tmp_path: Path) -> None:
    # RLIMIT_FSIZE makes any write past the limit fail with EFBIG, as a full disk would.
    data = tmp_path / "data"
    proc = _serve_once(data, limit_bytes=4096)
    _one_line(proc, "cannot use data folder", "disk")
    database = data / "formcheck.sqlite3"
    if database.exists() and database.stat().st_size:
        with sqlite3.connect(database) as db:
            tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master")]
            if "analyses" in tables:
                assert db.execute("SELECT COUNT(*) FROM analyses").fetchone() == (0,)


@pytest.mark.slow
def test_disk_full_during_upload_loses_nothing(tmp_path: Path) -> None:
    # 2 MB per file (the limit also applies to the workers): the 2.8 MB clip cannot be stored.
    proc = Server(tmp_path / "data", workers=1, file_size_limit=2 * 1024 * 1024).start()
    try:
        big = footage("mattiolato_Good_000001.mp4")
        assert big.stat().st_size > proc.file_size_limit
        with Heartbeat(proc.url) as beat:
            response = upload(proc.url, big)
        assert response.status_code == 507, response.text
        detail = response.json()["detail"]
        assert "could not store" in detail and "disk" in detail
        assert beat.failures == []
        assert httpx.get(f"{proc.url}/api/analyses").json() == []
        assert list((proc.data_dir / "uploads").iterdir()) == []
        assert list((proc.data_dir / "analyses").iterdir()) == []
        # Smaller files still fit: the server goes on working.
        response = upload(proc.url, footage(SHORT_CLIP))
        assert response.status_code == 202, response.text
        final = follow(proc.url, response.json()["id"])[-1]
        if final["status"] == "failed":
            assert "could not be saved" in final["error"], final
        else:
            assert final["status"] == "done"
    finally:
        proc.stop()
