"""`formcheck batch`: inputs (files, folders, globs, duplicates), bad clips listed with their
reason, summary.csv and reps.csv against `formcheck analyze` clip by clip, resume after a
finished run and after a killed one, a killed worker, and the Ray engine on a real local Ray.

The end-to-end tests share one batch run (module-scoped fixtures) over two rendered clips
(`formcheck synth`, same file name in two folders), one real clip from ../shared/footage and
three bad files.
"""

from __future__ import annotations

import csv
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import FOOTAGE, REPO, read_labels, run_cli, stderr_lines

from formcheck import batch
from formcheck.errors import FormcheckError

REAL_CLIP = "bichraix_good004.mp4"  # 3.5 s, one rep
COMPARED = ("exercise", "rep_count", "verdict", "rounded_reps", "view", "facing", "frames")
PEAKS = ("peak_lumbar_flexion_deg", "peak_hip_flexion_deg")
# `formcheck analyze` runs pass one in parallel chunks (workers "auto"); batch runs each clip
# serially in its worker. Pose tracking restarts at a chunk's start, so peaks may differ a
# little (3.9 deg of peak hip flexion seen on the rendered rounding hinge: the sacral stretch
# starts at the hip joints, where the hip landmark's jitter moves it); counts and verdicts must
# not.
PEAK_TOLERANCE_DEG = 5.0


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def _rows(out: Path) -> dict[str, dict[str, str]]:
    return {row["path"]: row for row in _read_csv(out / "summary.csv")}


def _snapshot(out: Path) -> dict[str, tuple[int, bytes]]:
    """Every per-clip output and manifest: modification time and bytes."""
    files = [p for p in out.rglob("*") if p.is_file() and p.name not in ("summary.csv", "reps.csv")]
    return {str(p.relative_to(out)): (p.stat().st_mtime_ns, p.read_bytes()) for p in files}


def _batch(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "formcheck", "batch", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=cwd,
    )


# ---------------------------------------------------------------- fast tests (no analysis)


def test_collect_inputs_files_folders_globs_duplicates(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "deep").mkdir()
    for name in ("a/x.mp4", "a/deep/y.MOV", "a/notes.txt", "z.webm"):
        (tmp_path / name).write_bytes(b"x")
    clips = batch.collect_inputs(
        [
            str(tmp_path / "a"),
            str(tmp_path / "a" / "x.mp4"),  # again, by name
            str(tmp_path / "**" / "*.mp4"),  # again, by pattern
            str(tmp_path / "*.webm"),
            str(tmp_path / "nothing-*.mp4"),
            str(tmp_path / "missing.mp4"),
        ]
    )
    found = [c.path.relative_to(tmp_path).as_posix() for c in clips if c.status == "pending"]
    assert found == ["a/x.mp4", "a/deep/y.MOV", "z.webm"]
    failed = {c.path.name: c.error for c in clips if c.status == "failed"}
    assert failed == {
        "nothing-*.mp4": "no video matches this pattern",
        "missing.mp4": "no such file or folder",
    }


def test_options_key_changes_with_options() -> None:
    a = batch.options_key({"exercise": "auto", "model": "full", "pose_hz": 15.0})
    assert a == batch.options_key({"model": "full", "pose_hz": 15.0, "exercise": "auto"})
    assert a != batch.options_key({"exercise": "rdl", "model": "full", "pose_hz": 15.0})


def test_longest_clips_start_first(tmp_path: Path) -> None:
    from formcheck.batch_engines import Job

    short, long_ = (FOOTAGE / f for f in ("kaiakol_squat_correct_016.mp4", "tby66_0016r_1.mp4"))
    mid = FOOTAGE / "mattiolato_Good_000001.mp4"
    (tmp_path / "junk.mp4").write_bytes(b"not a video")
    jobs = [Job(p.name, p, {}, {}) for p in (short, long_, tmp_path / "junk.mp4", mid)]
    order = [j.key for j in batch.longest_first(jobs)]
    assert order == ["junk.mp4", long_.name, mid.name, short.name]


def test_ray_engine_without_ray_says_how_to_install(monkeypatch, tmp_path: Path) -> None:
    from formcheck.cli import build_parser

    monkeypatch.setattr(batch, "ray_available", lambda: False)
    args = build_parser().parse_args(
        ["batch", str(tmp_path), "--out", str(tmp_path / "out"), "--engine", "ray"]
    )
    with pytest.raises(FormcheckError, match=r"pip install .*\[ray\]"):
        args.func(args)


# ---------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """in/flat/lift.mp4 and in/round/lift.mp4 (rendered), in/bad/ (a text file named .mp4, an
    empty file, the first half of a real clip) and a copy of a real clip."""
    if not (FOOTAGE / REAL_CLIP).exists():
        pytest.skip(f"no footage at {FOOTAGE}")
    root = tmp_path_factory.mktemp("batch-clips")
    folders = {"flat": "hinge_flat", "round": "hinge_round"}
    procs = []
    for folder, kind in folders.items():
        (root / "in" / folder).mkdir(parents=True)
        out = root / "in" / folder / "lift.mp4"
        cmd = [sys.executable, "-m", "formcheck", "synth", str(out), "--kind", kind]
        procs.append(subprocess.Popen([*cmd, "--reps", "1", "--fps", "15"], cwd=REPO))
    bad = root / "in" / "bad"
    bad.mkdir()
    (bad / "notes.mp4").write_text("not a video\n")
    (bad / "empty.mp4").write_bytes(b"")
    data = (FOOTAGE / REAL_CLIP).read_bytes()
    (bad / "cut.mp4").write_bytes(data[: len(data) // 2])
    shutil.copy(FOOTAGE / REAL_CLIP, root / "in" / REAL_CLIP)
    assert all(p.wait(timeout=300) == 0 for p in procs)
    return root


GOOD = ("in/flat/lift.mp4", "in/round/lift.mp4", f"in/{REAL_CLIP}")
BAD = ("in/bad/notes.mp4", "in/bad/empty.mp4", "in/bad/cut.mp4")


@pytest.fixture(scope="module")
def first_run(clips: Path) -> tuple[subprocess.CompletedProcess, dict]:
    """`formcheck batch in --out out --workers 2`, the outputs it left, its summary rows."""
    proc = _batch("in", "--out", "out", "--workers", "2", cwd=clips)
    return proc, _snapshot(clips / "out"), _rows(clips / "out")


@pytest.fixture(scope="module")
def analyzed(clips: Path) -> dict[str, dict]:
    """`formcheck analyze` of each good clip, summarised as a summary.csv row would be."""
    import json

    out = {}
    folder = clips / "analyze"
    # Two runs: two of the clips have the same file name (their reports would collide).
    proc = run_cli("analyze", *(clips / c for c in GOOD[0::2]), "--json", folder)
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("analyze", clips / GOOD[1], "--json", folder / "second.json")
    assert proc.returncode == 0, proc.stderr
    reports = {c: folder / f"{Path(c).stem}.json" for c in GOOD[0::2]}
    reports[GOOD[1]] = folder / "second.json"
    for clip, path in reports.items():
        fields = batch.summary_fields(json.loads(path.read_text()))
        out[clip] = {k: "" if fields[k] is None else str(fields[k]) for k in (*COMPARED, *PEAKS)}
    return out


def _agree(row: dict[str, str], expected: dict[str, str], clip: str) -> None:
    assert {k: row[k] for k in COMPARED} == {k: expected[k] for k in COMPARED}, clip
    for key in PEAKS:
        assert (row[key] == "") == (expected[key] == ""), (clip, key)
        if row[key]:
            assert abs(float(row[key]) - float(expected[key])) <= PEAK_TOLERANCE_DEG, (clip, key)


@pytest.mark.slow
def test_bad_clips_listed_good_ones_analysed(clips: Path, first_run) -> None:
    proc, _, rows = first_run
    assert proc.returncode == 0, proc.stderr
    assert stderr_lines(proc.stderr) == []  # no MediaPipe log lines from the workers
    assert set(rows) == {*GOOD, *BAD}
    for clip in GOOD:
        row = rows[clip]
        assert row["status"] == "ok" and row["error"] == ""
        assert int(row["rep_count"]) == 1 and int(row["frames"]) > 0
        for kind in ("json", "csv"):
            assert (clips / "out" / row[kind]).is_file()
    # Same file name in two folders: two sets of outputs.
    assert rows[GOOD[0]]["json"] != rows[GOOD[1]]["json"]
    assert rows["in/flat/lift.mp4"]["verdict"] == "flat"
    assert rows["in/round/lift.mp4"]["verdict"] == "rounded"
    for clip in BAD:
        assert rows[clip]["status"] == "failed"
        assert Path(clip).name in rows[clip]["error"]  # the FormcheckError message
    assert "empty" in rows["in/bad/empty.mp4"]["error"]
    for clip in (*GOOD, *BAD):
        assert clip in proc.stdout  # the final table
    manifests = list((clips / "out" / batch.MANIFESTS).glob("*.json"))
    assert len(manifests) == len(GOOD)


@pytest.mark.slow
def test_reps_csv_has_each_rep(clips: Path, first_run) -> None:
    rows = first_run[2]
    reps = _read_csv(clips / "out" / "reps.csv")
    assert sorted(r["clip"] for r in reps) == sorted(GOOD)
    for rep in reps:
        summary = rows[rep["clip"]]
        assert rep["rep"] == "1"
        assert float(rep["start_s"]) < float(rep["end_s"])
        assert rep["verdict"] == summary["verdict"]
        # How sure each verdict is (0-1); a judged one has no reason for not being judged.
        assert 0 <= float(rep["confidence"]) <= 1 and 0 <= float(summary["confidence"]) <= 1
        assert rep["reason"] == summary["reason"] == ""
        assert rep["max_lumbar_flexion_deg"] == summary["peak_lumbar_flexion_deg"]
        assert rep["max_hip_flexion_deg"] == summary["peak_hip_flexion_deg"]


@pytest.mark.slow
def test_local_engine_agrees_with_analyze(clips: Path, first_run, analyzed) -> None:
    rows = first_run[2]
    for clip in GOOD:
        _agree(rows[clip], analyzed[clip], clip)


@pytest.mark.slow
def test_labels_of_the_real_clip(clips: Path, first_run) -> None:
    label = {r["file"]: r for r in read_labels()}[REAL_CLIP]
    row = first_run[2][f"in/{REAL_CLIP}"]
    assert row["rep_count"] == label["reps"]
    assert (row["verdict"] == "rounded") == (label["label"] == "rounded")


@pytest.mark.slow
def test_second_run_skips_everything_and_changes_nothing(clips: Path, first_run) -> None:
    _, before, first_rows = first_run
    proc = _batch("in", "--out", "out", "--workers", "2", cwd=clips)
    assert proc.returncode == 0, proc.stderr
    assert _snapshot(clips / "out") == before
    rows = _rows(clips / "out")
    for clip in GOOD:
        assert rows[clip]["status"] == "skipped"
        assert {**rows[clip], "status": "ok"} == first_rows[clip]
    for clip in BAD:
        assert rows[clip]["status"] == "failed"


@pytest.mark.slow
def test_globs_and_duplicate_inputs(clips: Path, first_run) -> None:
    """A quoted glob, a folder and a file naming the same clips: each clip once (all done
    already: skipped)."""
    proc = _batch("in/**/lift.mp4", "in/flat", "in/flat/lift.mp4", "--out", "out", cwd=clips)
    assert proc.returncode == 0, proc.stderr
    rows = _read_csv(clips / "out" / "summary.csv")
    assert [r["path"] for r in rows] == ["in/flat/lift.mp4", "in/round/lift.mp4"]
    assert {r["status"] for r in rows} == {"skipped"}


@pytest.mark.slow
def test_all_bad_exits_2(clips: Path) -> None:
    proc = _batch("in/bad", "in/no-such.mp4", "--out", "out-bad", cwd=clips)
    assert proc.returncode == 2
    rows = _rows(clips / "out-bad")
    assert {r["status"] for r in rows.values()} == {"failed"}
    assert rows["in/no-such.mp4"]["error"] == "no such file or folder"


def _wait_for(condition, proc: subprocess.Popen, timeout: float = 300) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, "the batch ended before the condition was met"
        assert time.monotonic() < end, "timed out"
        time.sleep(0.1)


@pytest.mark.slow
def test_killed_run_resumes_where_it_stopped(clips: Path) -> None:
    out = clips / "out-killed"
    cmd = [sys.executable, "-m", "formcheck", "batch", *GOOD, "--out", str(out)]
    proc = subprocess.Popen(
        [*cmd, "--workers", "1"],
        cwd=clips,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_for(lambda: any((out / batch.MANIFESTS).glob("*.json")), proc)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the driver and its workers, at once
        proc.wait()
    done = {p.name.split("-")[0][: batch.HASH_CHARS] for p in (out / batch.MANIFESTS).iterdir()}
    assert 1 <= len(done) < len(GOOD)
    assert not (out / "summary.csv").exists()
    rerun = _batch(*GOOD, "--out", out, "--workers", "1", cwd=clips)
    assert rerun.returncode == 0, rerun.stderr
    rows = _rows(out)
    for clip in GOOD:
        expected = "skipped" if rows[clip]["sha256"] in done else "ok"
        assert rows[clip]["status"] == expected, clip
    assert len(list((out / batch.MANIFESTS).glob("*.json"))) == len(GOOD)
    assert not list(out.glob(".*.part*"))  # no temporary file left behind


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_killed_worker_fails_only_its_clip(clips: Path) -> None:
    out = clips / "out-worker"
    proc = subprocess.Popen(
        [sys.executable, "-m", "formcheck", "batch", *GOOD, "--out", str(out), "--workers", "2"],
        cwd=clips,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def workers() -> list[int]:
        found = []
        for kid in _children(proc.pid):
            try:
                if b"spawn_main" in Path(f"/proc/{kid}/cmdline").read_bytes():
                    found.append(kid)
            except OSError:  # it has just ended
                pass
        return found

    def reading_a_clip(pid: int) -> bool:
        """Whether the process has one of the clips open (it is into that clip)."""
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:  # it has just ended
            return False
        for fd in fds:
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.endswith(".mp4") and str(clips / "in") in target:
                return True
        return False

    busy: list[int] = []

    def into_a_clip() -> bool:
        busy[:] = [pid for pid in workers() if reading_a_clip(pid)]
        return bool(busy)

    # A fixed wait raced the clips on a fast machine: kill a worker seen reading its clip.
    _wait_for(into_a_clip, proc)
    os.kill(busy[0], signal.SIGKILL)
    stdout, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 0, stderr
    rows = _rows(out)
    failed = [r for r in rows.values() if r["status"] == "failed"]
    assert len(failed) == 1, failed  # killed while reading its clip: that clip fails
    for row in failed:
        assert "worker process" in row["error"] and "died" in row["error"]
    assert sum(r["status"] == "ok" for r in rows.values()) == len(GOOD) - len(failed)


RAY = importlib.util.find_spec("ray") is not None


@pytest.mark.slow
@pytest.mark.skipif(not RAY, reason="ray is not installed (pip install -e '.[ray]')")
def test_ray_engine_agrees_with_local_and_analyze(clips: Path, first_run, analyzed) -> None:
    proc = _batch("in", "--out", "out-ray", "--engine", "ray", "--workers", "2", cwd=clips)
    assert proc.returncode == 0, proc.stderr
    assert stderr_lines(proc.stderr) == []
    local, ray = first_run[2], _rows(clips / "out-ray")
    assert set(ray) == set(local)
    for clip in GOOD:
        assert ray[clip]["status"] == "ok"
        _agree(ray[clip], analyzed[clip], clip)
        assert ray[clip] == local[clip], clip  # same row, same output names
        for kind in ("json", "csv"):  # the same bytes as the local engine wrote
            mine = (clips / "out-ray" / ray[clip][kind]).read_bytes()
            assert mine == (clips / "out" / local[clip][kind]).read_bytes()
    for clip in BAD:
        assert ray[clip]["status"] == "failed" and ray[clip]["error"] == local[clip]["error"]


@pytest.mark.slow
@pytest.mark.skipif(not RAY, reason="ray is not installed (pip install -e '.[ray]')")
def test_ray_upload_sends_the_clip_through_the_object_store(clips: Path, first_run) -> None:
    clip = GOOD[1]
    proc = _batch(clip, "--out", "out-upload", "--engine", "ray", "--upload", "--video", cwd=clips)
    assert proc.returncode == 0, proc.stderr
    row = _rows(clips / "out-upload")[clip]
    assert row["status"] == "ok"
    assert (clips / "out-upload" / row["video"]).read_bytes()[4:8] == b"ftyp"
    local = first_run[2][clip]
    assert {k: row[k] for k in (*COMPARED, *PEAKS)} == {k: local[k] for k in (*COMPARED, *PEAKS)}
