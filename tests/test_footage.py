"""End to end on the real lift clips in ../shared/footage, through the real CLI.

In:  every clip listed in LABELS.tsv, analysed once per session (`footage_runs` in conftest).
Out: exit 0, a report that follows the formcheck.report/1 contract with one frame per decoded
     video frame, the labelled rep count, a per-frame CSV, and an annotated H.264 MP4 with the
     same frames that plays in headless Chromium. Rounding verdicts are checked elsewhere.
"""

from __future__ import annotations

import csv
import functools
import http.server
import json
import math
import threading
from pathlib import Path

import av
import pytest
from conftest import FOOTAGE, read_labels, rep_range

from formcheck import exercises
from formcheck.angles import ANGLE_NAMES
from formcheck.verdict import MEASURED_REASONS

pytestmark = pytest.mark.slow

CLIPS = [row["file"] for row in read_labels()] or [
    pytest.param("none", marks=pytest.mark.skip(reason="../shared/footage not present"))
]
BROWSER_CLIP = "bichraix_good004.mp4"
CHROMIUM = Path("/usr/bin/chromium")
NUMBER = (int, float)


@functools.cache
def decode_stats(path: Path) -> tuple[int, str, str, int, int]:
    """Decoded frame count, codec name, pixel format and size of a video's first stream."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        codec, fmt = stream.codec_context.name, stream.codec_context.format.name
        width, height = stream.codec_context.width, stream.codec_context.height
        count = sum(1 for _ in container.decode(stream))
    return count, codec, fmt, width, height


PHASES = ("setup", "descent", "bottom", "ascent", "lockout")
VERDICTS = {"rounded": True, "flat": False, "not_judged": None}


def assert_verdict(d: dict) -> None:
    """A rep's or a summary's three-state verdict: consistent keys and values."""
    assert d["verdict"] in VERDICTS
    assert d["rounding"] is VERDICTS[d["verdict"]]
    assert is_number(d["confidence"]) and 0.0 <= d["confidence"] <= 1.0
    if d["verdict"] == "not_judged":
        assert isinstance(d["reason"], str) and d["reason"], d
        assert d["confidence"] == 0.0 and d["confidence_level"] is None
    else:
        assert d["reason"] is None
        assert d["confidence_level"] == ("high" if d["confidence"] >= 0.5 else "low"), d


def report_of(footage_runs, clip: str) -> dict:
    run = footage_runs.get(clip)
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.json_path.read_text())


def is_number(v) -> bool:
    return isinstance(v, NUMBER) and not isinstance(v, bool) and math.isfinite(v)


@pytest.mark.parametrize("clip", CLIPS)
def test_analysis_exits_zero(footage_runs, clip):
    run = footage_runs.get(clip)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Traceback" not in run.stderr
    assert clip in run.stdout  # the human summary names the clip
    assert run.json_path.exists() and run.csv_path.exists() and run.video_path.exists()


@pytest.mark.parametrize("clip", CLIPS)
def test_report_follows_the_contract(footage_runs, clip_labels, clip):
    report = report_of(footage_runs, clip)
    json.dumps(report, allow_nan=False)
    assert report["schema"] == "formcheck.report/1"
    assert {"video", "view", "neutral", "frames", "reps", "summary"} <= set(report)

    video = report["video"]
    for key in ("fps", "duration_s"):
        assert is_number(video[key]) and video[key] > 0, key
    for key in ("frames", "width", "height"):
        assert isinstance(video[key], int) and video[key] > 0, key
    decoded = decode_stats(FOOTAGE / clip)[0]
    assert video["frames"] == decoded == len(report["frames"])
    label = clip_labels[clip]
    assert (video["width"], video["height"]) == (int(label["width"]), int(label["height"]))
    assert video["duration_s"] == pytest.approx(float(label["seconds"]), abs=0.2)

    view = report["view"]
    assert view["kind"] in ("side", "oblique", "front")
    assert view["facing"] in ("left", "right")
    assert is_number(view["confidence"]) and 0.0 <= view["confidence"] <= 1.0
    assert view["turned"] in ("front", "back", None)
    if label["view"].startswith("45") and "front" in label["view"]:
        assert view["turned"] == "front"
    assert isinstance(report["neutral"], dict)

    times = []
    for f in report["frames"]:
        assert {"t", "pose", *ANGLE_NAMES} <= set(f)
        assert is_number(f["t"]) and isinstance(f["pose"], bool)
        for name in ANGLE_NAMES:
            assert f[name] is None or is_number(f[name]), (name, f[name])
            if not f["pose"]:
                assert f[name] is None, name
        times.append(f["t"])
    assert times == sorted(times) and len(set(times)) == len(times)
    assert sum(f["pose"] for f in report["frames"]) > 0.5 * len(times)

    assert all(r["index"] == 0 for r in report["partial_reps"])  # bends that made no rep
    for i, r in enumerate([*report["reps"], *report["partial_reps"]], start=1):
        assert r["index"] in (i, 0)
        assert all(is_number(r[k]) for k in ("start_s", "bottom_s", "end_s"))
        assert r["start_s"] <= r["bottom_s"] <= r["end_s"]
        for key in ("max_lumbar_flexion_deg", "max_hip_flexion_deg", "lumbar_share"):
            assert r[key] is None or is_number(r[key]), key
        assert_verdict(r)
        if r["rounding"] is None and r["reason"] not in MEASURED_REASONS:
            assert r["max_lumbar_flexion_deg"] is None  # an untrusted figure is not shown
        if r["max_lumbar_flexion_deg"] is not None:
            lo, hi = r["lumbar_flexion_ci_deg"]
            assert lo < r["max_lumbar_flexion_deg"] < hi
        assert isinstance(r["findings"], list)
        for finding in r["findings"]:
            assert isinstance(finding["code"], str) and isinstance(finding["severity"], str)
            assert is_number(finding["start_s"]) and is_number(finding["end_s"])
            assert isinstance(finding["message"], str) and finding["message"]
            assert finding["phase"] is None or finding["phase"] in PHASES
            assert all(p in PHASES for p in finding["phases"])
        codes = [f["code"] for f in r["findings"]]
        assert ("lumbar_rounding" in codes) is (r["rounding"] is True)

    s = report["summary"]
    assert s["exercise"] in exercises.names()
    assert isinstance(s["rep_count"], int) and s["rep_count"] == len(report["reps"])
    assert isinstance(s["rounded_reps"], int)
    assert s["rounded_reps"] == sum(r["rounding"] is True for r in report["reps"])
    assert s["judged_reps"] == sum(r["rounding"] is not None for r in report["reps"])
    assert_verdict(s)
    if s["rounded_reps"]:
        assert s["rounding"] is True
    assert isinstance(s["messages"], list) and all(isinstance(m, str) for m in s["messages"])
    # Words never contradict the verdict.
    text = " ".join(s["messages"]).lower()
    if s["verdict"] != "flat":
        assert "judged flat" not in text and "judged probably flat" not in text
        assert "stayed neutral" not in text
    # A verdict near the line is told as likely, a clear one plainly.
    key = {"rounded": "rounded in rep(s)", "flat": "flat in"}.get(s["verdict"])
    sentence = next((m.lower() for m in s["messages"] if key and key in m.lower()), None)
    if sentence is not None:
        hedged = f"probably {s['verdict']}" in sentence and "low confidence" in sentence
        assert hedged is (s["confidence_level"] == "low"), sentence
    if s["verdict"] == "not_judged" and s["rep_count"]:
        assert "not judged" in text


@pytest.mark.parametrize("clip", CLIPS)
def test_rep_count_matches_the_labels(footage_runs, clip_labels, clip):
    lo, hi = rep_range(clip_labels[clip]["reps"])
    count = report_of(footage_runs, clip)["summary"]["rep_count"]
    assert lo <= count <= hi, f"{clip}: {count} reps, labelled {lo}-{hi}"


@pytest.mark.parametrize("clip", CLIPS)
def test_annotated_mp4_decodes_with_the_same_frames(footage_runs, clip):
    run = footage_runs.get(clip)
    assert run.returncode == 0, run.stderr[-2000:]
    count, codec, fmt, width, height = decode_stats(run.video_path)
    src_count, _, _, src_w, src_h = decode_stats(FOOTAGE / clip)
    report = json.loads(run.json_path.read_text())
    assert count == src_count
    assert codec == "h264"
    assert fmt == "yuv420p"
    assert (width, height) == (report["video"]["width"], report["video"]["height"])


@pytest.mark.parametrize("clip", CLIPS)
def test_csv_has_one_row_per_frame(footage_runs, clip):
    run = footage_runs.get(clip)
    assert run.returncode == 0, run.stderr[-2000:]
    with run.csv_path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    assert {"t", "pose", *ANGLE_NAMES} <= set(header)
    assert len(rows) - 1 == decode_stats(FOOTAGE / clip)[0]
    assert all(len(row) == len(header) for row in rows[1:])
    t = header.index("t")
    times = [float(row[t]) for row in rows[1:]]
    assert times == sorted(times)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002
        pass


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not installed")
def test_annotated_mp4_plays_in_chromium(footage_runs, clip_labels, tmp_path):
    from playwright.sync_api import sync_playwright

    run = footage_runs.get(BROWSER_CLIP)
    assert run.returncode == 0, run.stderr[-2000:]
    site = tmp_path / "site"
    site.mkdir()
    (site / "clip.mp4").write_bytes(run.video_path.read_bytes())
    (site / "index.html").write_text(
        '<!doctype html><video id="v" src="clip.mp4" muted preload="auto"></video>'
    )
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=str(CHROMIUM),
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--no-first-run",
                ],
            )
            try:
                page = browser.new_page()
                page.goto(f"http://127.0.0.1:{server.server_port}/index.html")
                page.wait_for_function(
                    "() => { const v = document.getElementById('v');"
                    " return v.readyState >= 2 || v.error !== null; }",
                    timeout=30_000,
                )
                state = page.evaluate(
                    "() => { const v = document.getElementById('v');"
                    " return {ready: v.readyState, duration: v.duration,"
                    " error: v.error && v.error.message, w: v.videoWidth, h: v.videoHeight}; }"
                )
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()
    assert state["error"] is None, state
    assert state["ready"] >= 2, state
    expected = float(clip_labels[BROWSER_CLIP]["seconds"])
    assert abs(state["duration"] - expected) <= 0.2, state
    assert (state["w"], state["h"]) == (
        int(clip_labels[BROWSER_CLIP]["width"]),
        int(clip_labels[BROWSER_CLIP]["height"]),
    )
