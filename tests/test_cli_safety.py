"""The real `formcheck analyze` never destroys its input, says truthfully what went wrong and
keeps the native libraries' log lines off the terminal.

In:  real clips from ../shared/footage (copied into a temporary folder), links to them, files
     that are not formcheck outputs, an unreadable clip, a real PNG.
Out: refusals with exit 2 and one line, inputs byte-for-byte unchanged, outputs replaced only
     by whole files, stderr free of MediaPipe / TensorFlow Lite lines unless `--verbose`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import pytest
from conftest import FOOTAGE, LIBRARY_LOG_PREFIXES, REPO, run_as_nobody, run_cli
from test_cli import GOOD_SHORT, assert_one_clear_error, needs_footage, write_clip

RENDER_CLIP = FOOTAGE / "mattiolato_Good_000001.mp4"


def _leftovers(folder: Path) -> list[str]:
    """Temporary output files left behind in a folder."""
    return sorted(p.name for p in folder.iterdir() if ".part" in p.name)


@needs_footage
def test_outputs_never_overwrite_an_input_or_a_foreign_file(tmp_path: Path) -> None:
    clip = tmp_path / "same.mp4"
    shutil.copyfile(GOOD_SHORT, clip)
    original = clip.read_bytes()
    (tmp_path / "link.json").symlink_to(clip)
    os.link(clip, tmp_path / "hard.csv")
    (tmp_path / "notes.json").write_text('{"mine": true}\n')
    (tmp_path / "table.csv").write_text("a,b\n1,2\n")
    (tmp_path / "notes.txt").write_text("shopping list\n")
    cases = [
        ("--json", clip),  # the report over the video it reads
        ("--video", clip),  # the annotated video over the video it reads
        ("--csv", tmp_path / "link.json"),  # through a symbolic link
        ("--json", tmp_path / "hard.csv"),  # through a hard link
        ("--json", tmp_path / "notes.json"),  # JSON, but not a formcheck report
        ("--csv", tmp_path / "table.csv"),  # CSV, but not our columns
        ("--video", tmp_path / "notes.txt"),  # not a video at all
    ]
    for option, target in cases:
        before = target.read_bytes()
        line = assert_one_clear_error(run_cli("analyze", clip, option, target), "refusing")
        assert "same.mp4" in line and option in line, line
        assert target.read_bytes() == before, (option, target.name)
        assert clip.read_bytes() == original, (option, target.name)
    # Two outputs on one file, and an input named twice with one of them as output.
    line = assert_one_clear_error(
        run_cli("analyze", clip, "--json", tmp_path / "r.out", "--csv", tmp_path / "r.out")
    )
    assert "own file" in line
    assert clip.read_bytes() == original
    assert _leftovers(tmp_path) == []


@needs_footage
def test_existing_outputs_of_ours_are_replaced_whole(tmp_path: Path) -> None:
    old_report = tmp_path / "report.json"
    old_report.write_text(json.dumps({"schema": "formcheck.report/1", "old": True}))
    proc = run_cli("analyze", GOOD_SHORT, "--json", old_report, "--csv", tmp_path / "a.csv")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(old_report.read_text())
    assert "old" not in report and report["summary"]["rep_count"] >= 1
    assert _leftovers(tmp_path) == []
    # A failed run (nobody in view) leaves the earlier outputs exactly as they were.
    room = tmp_path / "room.mp4"
    write_clip(room)
    before = old_report.read_bytes(), (tmp_path / "a.csv").read_bytes()
    proc = run_cli("analyze", room, "--json", old_report, "--csv", tmp_path / "a.csv")
    assert_one_clear_error(proc, "room.mp4", "person")
    assert (old_report.read_bytes(), (tmp_path / "a.csv").read_bytes()) == before
    assert _leftovers(tmp_path) == []


def _analyze_as_nobody(*argv: str) -> subprocess.CompletedProcess:
    """The real `formcheck analyze` (cli.main) in a forked child that dropped root, since root
    reads any file; the modules are loaded before the fork (the interpreter's own folder may be
    closed to other users)."""
    import formcheck.cli as cli
    import formcheck.pipeline  # noqa: F401
    import formcheck.report  # noqa: F401

    return run_as_nobody(cli.main, ["analyze", *argv])


@needs_footage
def test_unreadable_input_says_it_cannot_be_read(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    clip = tmp_path / "locked.mp4"
    shutil.copyfile(GOOD_SHORT, clip)
    clip.chmod(0)
    proc = _analyze_as_nobody(str(clip)) if os.geteuid() == 0 else run_cli("analyze", clip)
    line = assert_one_clear_error(proc, "locked.mp4", "cannot read", "permission")
    assert "write" not in line


@needs_footage
def test_real_picture_is_refused_with_advice_that_works(tmp_path: Path) -> None:
    with_person = next(iter(sorted(FOOTAGE.glob("bichraix_good*.mp4"))))
    capture = cv2.VideoCapture(str(with_person))
    ok, frame = capture.read()
    capture.release()
    assert ok
    picture = tmp_path / "photo.png"
    cv2.imwrite(str(picture), frame)
    line = assert_one_clear_error(run_cli("analyze", picture), "photo.png", "still image")
    assert "extension" not in line  # no advice to rename a file that already has one
    assert "video" in line and "film" in line.lower()


def _library_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(LIBRARY_LOG_PREFIXES)]


@needs_footage
def test_library_log_lines_stay_off_stderr(tmp_path: Path) -> None:
    """Raw stderr (no filtering) of a good clip, a clip with nobody in it and a damaged file."""
    proc = run_cli("analyze", GOOD_SHORT, "--json", tmp_path / "r.json")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == "", proc.stderr
    room = tmp_path / "room.mp4"
    write_clip(room)
    proc = run_cli("analyze", room)
    assert proc.returncode == 2
    assert len(proc.stderr.splitlines()) == 1, proc.stderr
    assert proc.stderr.startswith("formcheck: room.mp4"), proc.stderr
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00garbage" * 500)
    proc = run_cli("analyze", broken)
    assert proc.returncode == 2 and _library_lines(proc.stderr) == [], proc.stderr
    # --verbose lets them through (so the test above would see them if they leaked).
    proc = run_cli("analyze", room, "--verbose")
    assert _library_lines(proc.stderr), proc.stderr
    assert proc.stderr.splitlines()[-1].startswith("formcheck: room.mp4")


def test_library_lines_from_a_child_process_are_filtered_but_others_pass() -> None:
    """Native code and child processes write to file descriptor 2, not to sys.stderr."""
    script = (
        "import os, subprocess, sys\n"
        "from formcheck.native_logs import silence_native_logs\n"
        "silence_native_logs()\n"
        "os.write(2, b'W0000 00:00:1700000000.1 42 feedback.cc:114] noise\\n')\n"
        "os.write(2, b'INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\\n')\n"
        "subprocess.run([sys.executable, '-c', 'import sys; print(\"child says hi\", "
        "file=sys.stderr)'])\n"
        "print('formcheck: own line', file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(proc.stderr.splitlines()) == ["child says hi", "formcheck: own line"]


@pytest.mark.parametrize("command", ["live", "serve"])
def test_every_command_has_verbose(command: str) -> None:
    proc = run_cli(command, "--help")
    assert proc.returncode == 0 and "--verbose" in proc.stdout


@needs_footage
def test_interrupted_run_leaves_no_output_behind(tmp_path: Path) -> None:
    """Ctrl-C while the annotated video is being written: neither the report written just before
    nor the half-written video are left; an earlier report stays as it was."""
    report, video = tmp_path / "r.json", tmp_path / "r.mp4"
    report.write_text(json.dumps({"schema": "formcheck.report/1", "old": True}))
    before = report.read_bytes()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    # A clip whose annotated video takes seconds to write (145 frames at 1080p), so the interrupt
    # lands while it is written even on a busy machine.
    command = [sys.executable, "-m", "formcheck", "analyze", str(RENDER_CLIP)]
    proc = subprocess.Popen(
        [*command, "--json", str(report), "--video", str(video)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A runner started in the background ignores Ctrl-C, and its children would inherit that.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        written = [p for p in tmp_path.iterdir() if p.suffix == ".json" and p.name != "r.json"]
        if written or report.read_bytes() != before:
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert report.read_bytes() == before
    assert not video.exists()
    assert _leftovers(tmp_path) == []
