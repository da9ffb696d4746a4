"""The local server: storage, upload checks, jobs, progress, restart and delete, on real clips."""

from __future__ import annotations

import argparse
import sqlite3
import time
from pathlib import Path

import httpx
import pytest
from conftest_server import (
    NEUTRAL_CLIP,
    ROUNDED_CLIP,
    ServerProcess,
    follow,
    footage,
    labels,
    upload,
    wait_for,
)

from server.api import browser_playable, display_name, download_stem, stored_suffix
from server.cli import add_serve_parser, is_loopback, run_serve
from server.settings import default_data_dir
from server.storage import Store, new_id

# --- storage and helpers (fast) -------------------------------------------------------------


def _store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "data")
    store.initialise()
    return store


def test_store_lifecycle_and_requeue(tmp_path: Path) -> None:
    store = _store(tmp_path)
    first, second = new_id(), new_id()
    store.create(first, "a.mp4", "input.mp4", "auto", None, False)
    time.sleep(0.002)
    store.create(second, "b.mov", "input.mov", "deadlift", 180.0, True)
    assert [row.id for row in store.list()] == [second, first]

    assert store.mark_running(first)
    assert store.set_progress(first, 0.4)
    assert store.get(first).status == "running"
    # A restart finds both: the interrupted one and the queued one, oldest first, reset to queued.
    again = store.unfinished()
    assert [row.id for row in again] == [first, second]
    assert all(row.status == "queued" and row.progress == 0 for row in again)

    assert store.mark_done(second, 3, 1, True, 12.5)
    row = store.get(second)
    assert (row.status, row.rep_count, row.rounded_reps, row.rounding) == ("done", 3, 1, True)
    assert row.transcode is True and row.height_cm == 180.0
    assert [r.id for r in store.unfinished()] == [first]

    store.folder(first).mkdir(parents=True)
    (store.folder(first) / "input.mp4").write_bytes(b"x")
    assert store.delete(first)
    assert store.get(first) is None and not store.folder(first).exists()
    assert not store.delete(first)
    assert not store.set_progress(first, 0.5)


def test_a_data_folder_from_before_confidence_levels_is_migrated(tmp_path: Path) -> None:
    """A database made before the `confidence_level` column gains it on start, rows kept."""
    db_path = tmp_path / "data" / "formcheck.sqlite3"
    db_path.parent.mkdir(parents=True)
    old = sqlite3.connect(db_path)
    old.executescript(
        "CREATE TABLE analyses (id TEXT PRIMARY KEY, status TEXT NOT NULL, progress REAL NOT NULL"
        " DEFAULT 0, error TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, filename"
        " TEXT NOT NULL, input_name TEXT NOT NULL, exercise TEXT NOT NULL, height_cm REAL,"
        " transcode INTEGER NOT NULL DEFAULT 0, rep_count INTEGER, rounded_reps INTEGER,"
        " rounding INTEGER, duration_s REAL, attempts INTEGER NOT NULL DEFAULT 0);"
    )
    kept = new_id()
    old.execute(
        "INSERT INTO analyses (id, status, created_at, updated_at, filename, input_name, exercise,"
        " rep_count, rounded_reps, rounding) VALUES (?, 'done', 'x', 'x', 'a.mp4', 'input.mp4',"
        " 'auto', 2, 0, 0)",
        (kept,),
    )
    old.commit()
    old.close()
    (tmp_path / "data" / "analyses" / kept).mkdir(parents=True)
    store = _store(tmp_path)
    row = store.get(kept)
    assert (row.rep_count, row.rounding, row.confidence_level) == (2, False, None)
    fresh = new_id()
    store.create(fresh, "b.mp4", "input.mp4", "auto", None, False)
    assert store.mark_running(fresh)
    assert store.mark_done(fresh, 1, 0, False, 4.0, confidence_level="low")
    assert store.get(fresh).confidence_level == "low"
    assert store.mark_done(fresh, 1, 0, False, 4.0, confidence_level="bogus")
    assert store.get(fresh).confidence_level is None


def test_store_initialise_removes_leftovers(tmp_path: Path) -> None:
    store = _store(tmp_path)
    kept = new_id()
    store.create(kept, "a.mp4", "input.mp4", "auto", None, False)
    store.folder(kept).mkdir(parents=True)
    orphan = store.folder(new_id())
    orphan.mkdir(parents=True)
    partial = store.new_upload_path()
    partial.write_bytes(b"half an upload")
    store.initialise()
    assert store.folder(kept).exists()
    assert not orphan.exists()
    assert not partial.exists()


def test_upload_name_helpers() -> None:
    assert display_name("C:\\Users\\me\\Videos\\lift 1.MP4") == "lift 1.MP4"
    assert display_name("../../etc/passwd") == "passwd"
    assert display_name("") == "video"
    assert stored_suffix("lift 1.MP4") == ".mp4"
    assert stored_suffix("noext") == ""
    assert stored_suffix("weird.m p4") == ""
    assert download_stem("../my lift (2).mov") == "my_lift_2"
    assert browser_playable("h264", ".mp4")
    assert browser_playable("vp9", ".webm")
    assert not browser_playable("hevc", ".mov")
    assert not browser_playable("h264", ".avi")


def test_data_dir_default_follows_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("FORMCHECK_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_data_dir() == tmp_path / "xdg" / "formcheck"
    monkeypatch.setenv("FORMCHECK_DATA_DIR", str(tmp_path / "explicit"))
    assert default_data_dir() == tmp_path / "explicit"


def _serve_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_serve_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["serve", *argv])


def test_serve_refuses_remote_host_without_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.20")
    args = _serve_args("--host", "0.0.0.0", "--data-dir", str(tmp_path))
    assert run_serve(args) == 2
    assert "--allow-remote" in capsys.readouterr().err
    assert run_serve(_serve_args("--workers", "0", "--data-dir", str(tmp_path))) == 2


# --- the real server (slow) ------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    proc = ServerProcess(tmp_path_factory.mktemp("server") / "data").start()
    yield proc
    proc.stop()


def _expected(clip: str) -> tuple[int, bool]:
    row = labels()[clip]
    return int(row["reps"]), row["label"] == "rounded"


def _analyse(server: ServerProcess, clip: str) -> tuple[str, list[dict]]:
    response = upload(server.url, footage(clip))
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "queued" and len(body["id"]) == 32
    return body["id"], follow(server.url, body["id"])


@pytest.mark.slow
def test_rounded_clip_end_to_end(server: ServerProcess) -> None:
    analysis_id, events = _analyse(server, ROUNDED_CLIP)
    assert events[-1]["status"] == "done", server.log()
    progress = [e["progress"] for e in events if e["status"] == "running"]
    assert progress == sorted(progress)
    assert events[-1]["progress"] == 1.0

    data = httpx.get(f"{server.url}/api/analyses/{analysis_id}").json()
    reps, rounded = _expected(ROUNDED_CLIP)
    report = data["report"]
    assert data["status"] == "done" and data["error"] is None
    assert data["filename"] == ROUNDED_CLIP
    assert report["schema"] == "formcheck.report/1"
    assert report["summary"]["rep_count"] == reps
    assert report["summary"]["rounding"] is rounded
    assert len(report["frames"]) > 50

    history = httpx.get(f"{server.url}/api/analyses").json()
    item = next(h for h in history if h["id"] == analysis_id)
    assert item["rep_count"] == reps and item["rounded_reps"] >= 1

    base = f"{server.url}/api/analyses/{analysis_id}"
    video = httpx.get(f"{base}/video", headers={"Range": "bytes=0-99"})
    assert video.status_code == 206 and len(video.content) == 100
    assert video.headers["content-type"] == "video/mp4"
    annotated = httpx.get(f"{base}/annotated.mp4")
    assert annotated.status_code == 200 and annotated.content[4:8] == b"ftyp"
    assert httpx.get(f"{base}/report.json").json()["summary"]["rep_count"] == reps
    csv_text = httpx.get(f"{base}/report.csv").text
    assert csv_text.splitlines()[0].startswith("t,")
    assert "attachment" in httpx.get(f"{base}/report.csv").headers["content-disposition"]

    folder = server.data_dir / "analyses" / analysis_id
    assert folder.is_dir() and not any(ROUNDED_CLIP in p.name for p in folder.iterdir())
    assert httpx.delete(base).status_code == 204
    assert httpx.get(base).status_code == 404
    assert not folder.exists()
    assert analysis_id not in {h["id"] for h in httpx.get(f"{server.url}/api/analyses").json()}
    assert httpx.delete(base).status_code == 404
    with sqlite3.connect(server.data_dir / "formcheck.sqlite3") as db:
        assert db.execute(
            "SELECT COUNT(*) FROM analyses WHERE id = ?", (analysis_id,)
        ).fetchone() == (0,)


@pytest.mark.slow
def test_neutral_clip_and_api_stays_responsive(server: ServerProcess) -> None:
    response = upload(server.url, footage(NEUTRAL_CLIP), exercise="deadlift")
    assert response.status_code == 202, response.text
    analysis_id = response.json()["id"]

    def running() -> bool:
        state = httpx.get(f"{server.url}/api/analyses/{analysis_id}", timeout=5).json()
        return state["status"] in ("running", "done")

    wait_for(running, 60, what="the analysis to start")
    # While a worker analyses, the API still answers (the handler never runs the analysis).
    assert httpx.get(f"{server.url}/api/analyses", timeout=5).status_code == 200
    assert httpx.get(f"{server.url}/", timeout=5).status_code == 200

    events = follow(server.url, analysis_id)
    assert events[-1]["status"] == "done", server.log()
    report = httpx.get(f"{server.url}/api/analyses/{analysis_id}").json()["report"]
    reps, rounded = _expected(NEUTRAL_CLIP)
    assert report["summary"]["rep_count"] == reps
    assert report["summary"]["rounding"] is rounded
    assert report["summary"]["exercise"] == "deadlift"


@pytest.mark.slow
def test_bad_uploads_are_refused_readably(server: ServerProcess, tmp_path: Path) -> None:
    url = f"{server.url}/api/analyses"
    before = httpx.get(url).json()

    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 100)
    response = upload(server.url, text)
    assert response.status_code == 415
    assert "notes.mp4" in response.json()["detail"] and ".part" not in response.json()["detail"]

    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    assert upload(server.url, empty).status_code == 422

    response = httpx.post(url, data={"exercise": "deadlift"}, files={"other": ("x.txt", b"hi")})
    assert response.status_code == 422 and "video" in response.json()["detail"]
    response = httpx.post(url, json={"video": "x"})
    assert response.status_code == 415 and "multipart" in response.json()["detail"]
    response = upload(server.url, footage(NEUTRAL_CLIP), exercise="bench press")
    assert response.status_code == 422 and "exercise" in response.json()["detail"]
    response = upload(server.url, footage(NEUTRAL_CLIP), height_cm="tall")
    assert response.status_code == 422 and "height_cm" in response.json()["detail"]

    assert httpx.get(url).json() == before
    assert list((server.data_dir / "uploads").iterdir()) == []
    assert httpx.get(f"{url}/{'0' * 32}").status_code == 404
    assert httpx.get(f"{url}/not-an-id/report.json").status_code == 404


@pytest.mark.slow
def test_upload_over_the_cap_gets_413(tmp_path: Path) -> None:
    proc = ServerProcess(tmp_path / "data", max_upload_mb=0.1).start()
    try:
        response = upload(proc.url, footage(ROUNDED_CLIP))
        assert response.status_code == 413
        assert "0.1 MB" in response.json()["detail"]
        assert httpx.get(f"{proc.url}/api/analyses").json() == []
        assert list((proc.data_dir / "uploads").iterdir()) == []
        assert list((proc.data_dir / "analyses").iterdir()) == []
    finally:
        proc.stop()


@pytest.mark.slow
def test_restart_mid_job_finishes_the_job(tmp_path: Path) -> None:
    proc = ServerProcess(tmp_path / "data").start()
    try:
        response = upload(proc.url, footage(ROUNDED_CLIP))
        assert response.status_code == 202
        analysis_id = response.json()["id"]
        status_url = f"{proc.url}/api/analyses/{analysis_id}"

        def analysing() -> dict | None:
            state = httpx.get(status_url, timeout=5).json()
            assert state["status"] != "failed", state
            return state if state["status"] == "running" and state["progress"] > 0 else None

        wait_for(analysing, 90, interval=0.1, what="analysis progress")
    finally:
        assert proc.stop() is not None
    with sqlite3.connect(proc.data_dir / "formcheck.sqlite3") as db:
        (status,) = db.execute(
            "SELECT status FROM analyses WHERE id = ?", (analysis_id,)
        ).fetchone()
    assert status == "running", "the job finished before the restart; the test proved nothing"

    restarted = ServerProcess(proc.data_dir).start()
    try:
        events = follow(restarted.url, analysis_id)
        assert events[-1]["status"] == "done", restarted.log()
        report = httpx.get(f"{restarted.url}/api/analyses/{analysis_id}").json()["report"]
        assert report["summary"]["rep_count"] == _expected(ROUNDED_CLIP)[0]
        leftovers = [p.name for p in (proc.data_dir / "analyses" / analysis_id).iterdir()]
        assert not [name for name in leftovers if name.startswith(".")], leftovers
    finally:
        restarted.stop()


def _write_clip(path: Path, codec: str, seconds: float, source: Path | None = None) -> None:
    """Encode a small clip: frames of `source` (downscaled) or plain grey frames."""
    import av
    import numpy as np

    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=30)
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        frames = []
        if source is not None:
            with av.open(str(source)) as src:
                for i, frame in enumerate(src.decode(video=0)):
                    if i >= seconds * 30:
                        break
                    rgb = frame.reformat(640, 360, "rgb24").to_ndarray()
                    frames.append(av.VideoFrame.from_ndarray(rgb, format="rgb24"))
        else:
            grey = np.full((360, 640, 3), 128, np.uint8)
            frames = [
                av.VideoFrame.from_ndarray(grey, format="rgb24") for _ in range(int(seconds * 30))
            ]
        for index, frame in enumerate(frames):
            frame.pts = index
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


@pytest.mark.slow
def test_video_without_a_person_fails_readably(server: ServerProcess, tmp_path: Path) -> None:
    clip = tmp_path / "empty room.mp4"
    _write_clip(clip, "h264", 1.0)
    response = upload(server.url, clip)
    assert response.status_code == 202, response.text
    events = follow(server.url, response.json()["id"])
    assert events[-1]["status"] == "failed"
    error = events[-1]["error"]
    assert "no person" in error.lower() and "empty room.mp4" in error and "input" not in error
    assert httpx.get(f"{server.url}/api/analyses").status_code == 200


@pytest.mark.slow
def test_unplayable_codec_gets_an_h264_copy(server: ServerProcess, tmp_path: Path) -> None:
    clip = tmp_path / "old camera.avi"
    _write_clip(clip, "mpeg4", 2.5, source=footage(NEUTRAL_CLIP))
    response = upload(server.url, clip)
    assert response.status_code == 202, response.text
    analysis_id = response.json()["id"]
    events = follow(server.url, analysis_id)
    assert events[-1]["status"] == "done", events[-1]
    video = httpx.get(f"{server.url}/api/analyses/{analysis_id}/video")
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    copy = tmp_path / "copy.mp4"
    copy.write_bytes(video.content)
    import av

    with av.open(str(copy)) as container:
        assert container.streams.video[0].codec_context.name == "h264"
        assert abs(float(container.duration / av.time_base) - 2.5) < 0.3


@pytest.mark.slow
def test_other_hosts_and_cross_site_writes_are_refused(server: ServerProcess) -> None:
    # A page on another site must not read (DNS rebinding) or write (CSRF) the local server.
    assert (
        httpx.get(f"{server.url}/api/analyses", headers={"Host": "evil.example"}).status_code == 403
    )
    response = httpx.post(
        f"{server.url}/api/analyses",
        headers={"Origin": "http://evil.example"},
        files={"video": ("a.mp4", b"x")},
    )
    assert response.status_code == 403
    assert (
        httpx.get(f"{server.url}/", headers={"Host": f"localhost:{server.port}"}).status_code == 200
    )
    assert httpx.get(f"{server.url}/docs").status_code == 200


def test_an_upload_alone_uses_every_core_and_side_by_side_they_share() -> None:
    import os

    from server.jobs import cores_per_job

    cores = os.cpu_count() or 1
    assert cores_per_job(1) == cores
    assert cores_per_job(2) == max(1, cores // 2)
    assert cores_per_job(cores + 1) == 1 and cores_per_job(0) == cores
