"""Bad input through the real `formcheck analyze` command line.

In:  broken, empty, truncated, missing and person-less videos and unwritable outputs.
Out: each gives exit code 2 and exactly one readable line on stderr, never a traceback; a good
     video next to a bad one still gets its report.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import av
import numpy as np
import pytest
from conftest import FOOTAGE, run_cli, stderr_lines

GOOD_SHORT = FOOTAGE / "kaiakol_squat_correct_016.mp4"
FULL_CLIP = FOOTAGE / "bichraix_bad005.mp4"

needs_footage = pytest.mark.skipif(not FULL_CLIP.exists(), reason="../shared/footage not present")


def assert_one_clear_error(proc, *words: str) -> str:
    """Exit 2, one formcheck line on stderr (mentioning `words`), no traceback anywhere."""
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout, proc.stderr
    lines = stderr_lines(proc.stderr)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert len(lines) == 1, lines
    line = lines[0]
    assert line.startswith("formcheck: ")
    for word in words:
        assert word.lower() in line.lower(), line
    return line


def write_clip(path: Path, seconds: float = 2.0, fps: int = 30, noise: bool = True) -> None:
    """An H.264 clip of a plain coloured background with noise: no person in it."""
    rng = np.random.default_rng(0)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for _ in range(int(seconds * fps)):
            img = np.empty((240, 320, 3), np.uint8)
            img[:] = (40, 120, 60)
            if noise:
                img = np.clip(img + rng.integers(-30, 30, img.shape), 0, 255).astype(np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def test_help_exits_zero():
    proc = run_cli("--help")
    assert proc.returncode == 0
    assert "analyze" in proc.stdout
    proc = run_cli("analyze", "--help")
    assert proc.returncode == 0
    assert "--json" in proc.stdout and "--exercise" in proc.stdout


def test_random_bytes_named_mp4(tmp_path):
    bad = tmp_path / "noise.mp4"
    bad.write_bytes(np.random.default_rng(1).integers(0, 256, 200_000, dtype=np.uint8).tobytes())
    assert_one_clear_error(run_cli("analyze", bad), "noise.mp4")


def test_zero_byte_file(tmp_path):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    assert_one_clear_error(run_cli("analyze", empty), "empty.mp4", "empty")


@needs_footage
def test_truncated_mp4(tmp_path):
    data = FULL_CLIP.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(0.3 * len(data))])
    assert_one_clear_error(run_cli("analyze", cut, "--json", tmp_path / "r.json"), "cut.mp4")
    assert not (tmp_path / "r.json").exists()


def test_missing_file(tmp_path):
    assert_one_clear_error(run_cli("analyze", tmp_path / "nowhere.mp4"), "nowhere.mp4", "not found")


def test_folder_instead_of_a_video(tmp_path):
    assert_one_clear_error(run_cli("analyze", tmp_path), tmp_path.name)


def test_clip_without_a_person(tmp_path):
    clip = tmp_path / "empty_room.mp4"
    write_clip(clip)
    line = assert_one_clear_error(
        run_cli("analyze", clip, "--json", tmp_path / "r.json"), "empty_room.mp4", "person"
    )
    assert "film from the side" in line.lower()  # says what to do
    assert not (tmp_path / "r.json").exists()


def test_clip_without_a_person_is_told_how_to_film_the_exercise_chosen(tmp_path):
    clip = tmp_path / "empty_room.mp4"
    write_clip(clip, seconds=1.0)
    line = assert_one_clear_error(
        run_cli("analyze", clip, "--exercise", "fire-hydrant"), "empty_room.mp4", "person"
    )
    assert "from behind" in line and "from the side" not in line


@needs_footage
def test_output_path_that_cannot_be_written(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    proc = run_cli("analyze", GOOD_SHORT, "--json", blocker / "report.json")
    assert_one_clear_error(proc, GOOD_SHORT.name)


@needs_footage
def test_output_path_is_a_folder(tmp_path):
    folder = tmp_path / "taken"
    folder.mkdir()
    assert_one_clear_error(run_cli("analyze", GOOD_SHORT, "--csv", folder), GOOD_SHORT.name)


@needs_footage
def test_one_bad_video_does_not_stop_the_others(tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00\x01garbage" * 1000)
    out = tmp_path / "reports"
    proc = run_cli("analyze", bad, GOOD_SHORT, "--json", out)
    assert_one_clear_error(proc, "broken.mp4")
    report = json.loads((out / f"{GOOD_SHORT.stem}.json").read_text())
    assert report["schema"] == "formcheck.report/1"
    assert report["summary"]["rep_count"] >= 1
    assert GOOD_SHORT.name in proc.stdout  # its human summary was printed
    assert not (out / "broken.json").exists()


# --- the generated bad-input corpus (tests/corpus.py) -----------------------------------------


@pytest.mark.parametrize(
    ("item", "words"),
    [
        ("audio_only", ["voice memo.mp4", "audio only"]),
        ("still_image", ["photo.mp4", "still image"]),
        ("huge_header", ["huge frames.mp4", "frame size"]),
    ],
)
def test_not_a_video_of_a_lift(tmp_path, item, words):
    import corpus

    if item == "still_image" and not corpus.LIFT_CLIP.exists():
        pytest.skip("../shared/footage not present")
    clip = getattr(corpus, item)(tmp_path)
    assert_one_clear_error(run_cli("analyze", clip, "--json", tmp_path / "r.json"), *words)
    assert not (tmp_path / "r.json").exists()


@needs_footage
def test_one_frame_video(tmp_path):
    import corpus

    line = assert_one_clear_error(
        run_cli("analyze", corpus.one_frame(tmp_path)), "single frame.mp4", "single frame"
    )
    assert "no person" not in line  # the lifter is in that frame; the clip is what is wrong


def _analysed(proc, report_path: Path) -> dict:
    """Exit 0, no formcheck error line, and the report written."""
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and not stderr_lines(proc.stderr), proc.stderr
    return json.loads(report_path.read_text())


@needs_footage
def test_awkward_but_valid_videos_are_analysed(tmp_path):
    """A 4K clip, a clip turned upright by metadata and a non-ASCII name reached through ../."""
    import corpus

    clips = [corpus.four_k(tmp_path), corpus.rotated(tmp_path), corpus.unicode_name(tmp_path)]
    out = tmp_path / "reports"
    proc = run_cli("analyze", *clips, "--json", out)
    reports = {clip.name: _analysed(proc, out / f"{clip.stem}.json") for clip in clips}
    video = reports["lift 4k.mp4"]["video"]
    assert (video["width"], video["height"]) == (3840, 2160)
    video = reports["phone portrait.mp4"]["video"]
    assert (video["width"], video["height"], video["rotation"]) == (640, 360, 90)
    assert reports["phone portrait.mp4"]["view"]["kind"] == "side"  # upright, not lying down
    assert corpus.UNICODE_NAME in proc.stdout


@needs_footage
@pytest.mark.slow
def test_ten_minute_clip_is_analysed_in_bounded_time(tmp_path):
    import corpus

    clip = corpus.ten_minutes(tmp_path)
    proc = run_cli("analyze", clip, "--json", tmp_path / "r.json", timeout=300)
    report = _analysed(proc, tmp_path / "r.json")
    assert report["video"]["duration_s"] == pytest.approx(600, abs=2)
    assert report["summary"]["rep_count"] == 0  # a lifter standing still


@needs_footage
def test_two_people_in_view_are_refused_by_name(tmp_path):
    """Two lifters side by side: one track and one mask cannot follow both, so the clip is
    refused with a line that says why."""
    import corpus

    clip = corpus.two_people(tmp_path)
    proc = run_cli("analyze", clip, "--json", tmp_path / "r.json")
    assert_one_clear_error(proc, "two lifters.mp4", "more than one person", "one person at a time")
    assert not (tmp_path / "r.json").exists()


@needs_footage
def test_pose_rate_option(tmp_path):
    """--pose-hz sets how many frames get pose inference; the report says how many did."""
    proc = run_cli("analyze", GOOD_SHORT, "--json", tmp_path / "r.json", "--pose-hz", "15")
    video = _analysed(proc, tmp_path / "r.json")["video"]
    assert video["fps"] == pytest.approx(30, abs=0.1)
    assert video["pose_frames"] == math.ceil(video["frames"] / 2)
    proc = run_cli("analyze", GOOD_SHORT, "--json", tmp_path / "all.json", "--pose-hz", "0")
    video = _analysed(proc, tmp_path / "all.json")["video"]
    assert video["pose_frames"] == video["frames"]
    proc = run_cli("analyze", GOOD_SHORT, "--pose-hz", "fast")
    assert proc.returncode == 2 and "--pose-hz" in proc.stderr and "Traceback" not in proc.stderr
