"""Throughput and memory of `formcheck analyze` against the usual MediaPipe loop.

Usage: python benchmarks/throughput.py [CLIP ...] [--rounds N] [--workers W] [--long-minutes M]
                                       [--loop-minutes M] [--no-floor]

For each clip, in one run and alternating round by round, two fresh child processes:
- the yardstick: cv2.VideoCapture -> RGB -> mp.solutions.pose.Pose(model_complexity=1, no
  segmentation) frame by frame, a couple of joint angles, landmarks drawn with cv2;
- formcheck: `analyze_video` with a JSON report only (no annotated video).
Each child times its own work from opening the clip (model construction included, imports
excluded) and reports its own peak RSS (all its threads). The table gives the median
frames/s of each, their ratio, peak RSS, the rep count and rounding verdict of formcheck (and of a
serial formcheck run, `workers=1`, which must agree), and the bare-inference floor: BlazePose
Full without segmentation on frames decoded beforehand (first 300 frames).

Default clips: the 1080p clip, the 26 s 60 fps clip and a 720p clip from ../shared/footage, plus
a 1-minute 1080p clip made by looping the 1080p one (--loop-minutes). `--long-minutes M` adds the
memory check: analyses 1-minute and M-minute looped 1080p clips and reports peak RSS of each
(target <= 600 MB, and no growth with length).
The machine's other load (CPU used by processes outside this benchmark) is printed per clip.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOOTAGE = ROOT / ".." / "shared" / "footage"
CLIP_1080 = "mattiolato_Good_000001.mp4"
DEFAULT_CLIPS = (CLIP_1080, "tby66_0016r_1.mp4", "bichraix_good004.mp4")
FLOOR_FRAMES = 300
RSS_LIMIT_MB = 600.0


# ---------------------------------------------------------------- child processes


def _peak_rss_mb() -> float:
    """Peak resident set of this process, threads included (MB). Children are left out: a
    fork that execs a helper program reports its parent's pages as its own."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _child_yardstick(path: str) -> dict:
    """The common loop: cv2 read, RGB, BlazePose Full, two angles, landmarks drawn."""
    import cv2
    import mediapipe as mp
    import numpy as np

    def angle(a, b, c) -> float:
        v1, v2 = a - b, c - b
        cos = float(np.dot(v1, v2) / (np.linalg.norm(v1) * np.linalg.norm(v2) + 1e-9))
        return math.degrees(math.acos(max(-1.0, min(1.0, cos))))

    drawing = mp.solutions.drawing_utils
    connections = mp.solutions.pose.POSE_CONNECTIONS
    t0 = time.perf_counter()
    cap = cv2.VideoCapture(path)
    n = 0
    with mp.solutions.pose.Pose(model_complexity=1, enable_segmentation=False) as pose:
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            res = pose.process(rgb)
            if res.pose_landmarks is not None:
                h, w = bgr.shape[:2]
                lm = np.array([[p.x * w, p.y * h] for p in res.pose_landmarks.landmark])
                hip = angle(lm[11], lm[23], lm[25])
                knee = angle(lm[23], lm[25], lm[27])
                drawing.draw_landmarks(bgr, res.pose_landmarks, connections)
                cv2.putText(
                    bgr, f"hip {hip:.0f} knee {knee:.0f}", (20, 40), 0, 1.0, (255, 255, 255), 2
                )
            n += 1
    cap.release()
    return {"frames": n, "seconds": time.perf_counter() - t0}


def _child_formcheck(path: str, workers: str) -> dict:
    """`analyze_video` with a JSON report only."""
    import mediapipe  # noqa: F401  (imported before the clock starts, as in the yardstick)

    from formcheck.pipeline import AnalysisOptions, analyze_video

    w: int | str = workers if workers == "auto" else int(workers)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        report = analyze_video(path, AnalysisOptions(workers=w), json_path=Path(tmp) / "r.json")
        seconds = time.perf_counter() - t0
    summary = report["summary"]
    return {
        "frames": len(report.get("frames") or []) or report["video"].get("frames", 0),
        "seconds": seconds,
        "reps": summary["rep_count"],
        "rounded": summary["rounded_reps"],
        "rounding": summary["rounding"],
    }


def _child_floor(path: str) -> dict:
    """BlazePose Full, no segmentation, on frames decoded beforehand."""
    import av
    import mediapipe as mp

    with av.open(path) as container:
        frames = []
        for frame in container.decode(video=0):
            frames.append(frame.to_ndarray(format="rgb24"))
            if len(frames) >= FLOOR_FRAMES:
                break
    with mp.solutions.pose.Pose(model_complexity=1, enable_segmentation=False) as pose:
        pose.process(frames[0])
        t0 = time.perf_counter()
        for image in frames:
            pose.process(image)
        seconds = time.perf_counter() - t0
    return {"frames": len(frames), "seconds": seconds}


def child_main(kind: str, path: str, workers: str) -> None:
    os.environ.setdefault("GLOG_minloglevel", "2")
    sys.path.insert(0, str(ROOT))
    wall0 = time.perf_counter()
    cpu0 = time.process_time()
    if kind == "yardstick":
        out = _child_yardstick(path)
    elif kind == "formcheck":
        out = _child_formcheck(path, workers)
    else:
        out = _child_floor(path)
    import resource

    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    out["cpu_s"] = time.process_time() - cpu0 + kids.ru_utime + kids.ru_stime
    out["work_wall_s"] = time.perf_counter() - wall0
    out["rss_mb"] = _peak_rss_mb()
    print("RESULT " + json.dumps(out))


# ---------------------------------------------------------------- parent


def _cpu_busy_s() -> float:
    """Seconds of CPU used by the whole machine so far (all cores, from /proc/stat)."""
    with open("/proc/stat") as fh:
        parts = fh.readline().split()[1:]
    ticks = [int(p) for p in parts]
    idle = ticks[3] + ticks[4]
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    kind: str
    frames: int
    seconds: float
    rss_mb: float
    proc_s: float
    cpu_s: float
    extra: dict = field(default_factory=dict)

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds else 0.0


def run_child(kind: str, clip: Path, workers: str = "auto") -> tuple[Run, float]:
    """One fresh child process; returns the run and the CPU seconds others used meanwhile."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", kind, str(clip)]
    cmd += ["--workers", workers]
    busy0, t0 = _cpu_busy_s(), time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    proc_s = time.perf_counter() - t0
    busy = _cpu_busy_s() - busy0
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{kind} on {clip.name} failed:\n{proc.stderr[-2000:]}")
    data = json.loads(lines[-1][len("RESULT ") :])
    run = Run(
        kind,
        int(data.pop("frames")),
        float(data.pop("seconds")),
        float(data.pop("rss_mb")),
        proc_s,
        float(data.pop("cpu_s")),
        data,
    )
    others = max(
        0.0, busy - run.cpu_s - 0.3
    )  # our interpreter start-up is not counted by the child
    return run, others / proc_s


def loop_clip(src: Path, minutes: float, out: Path) -> Path:
    """Write `src` repeated for `minutes` (packets copied, timestamps shifted; no re-encoding)."""
    import av

    with av.open(str(src)) as inp:
        ist = inp.streams.video[0]
        packets = [p for p in inp.demux(ist) if p.dts is not None and p.size]
        tb = ist.time_base
        rate = ist.average_rate
        with av.open(str(out), "w") as dst:
            ost = dst.add_stream_from_template(ist)
            first = min(p.pts for p in packets if p.pts is not None)
            span = max(p.pts for p in packets if p.pts is not None) - first
            span += round(1 / (rate * tb)) if rate else 1
            target = minutes * 60.0
            loops = max(1, math.ceil(target / float(span * tb)))
            for k in range(loops):
                for p in packets:
                    q = av.Packet(bytes(p))
                    q.pts = p.pts - first + k * span if p.pts is not None else None
                    q.dts = p.dts - first + k * span
                    q.is_keyframe = p.is_keyframe
                    q.time_base = tb
                    q.stream = ost
                    dst.mux(q)
    return out


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def bench_clip(clip: Path, rounds: int, workers: str, floor: bool) -> dict:
    """Alternate yardstick and formcheck rounds on one clip; one serial check; the floor."""
    yard, fc, others = [], [], []
    for _ in range(rounds):
        for kind, runs in (("yardstick", yard), ("formcheck", fc)):
            run, other = run_child(kind, clip, workers)
            runs.append(run)
            others.append(other)
    serial, other = run_child("formcheck", clip, "1")
    others.append(other)
    floor_run = run_child("floor", clip)[0] if floor else None
    return {
        "clip": clip.name,
        "frames": fc[0].frames,
        "yard_fps": _median([r.fps for r in yard]),
        "fc_fps": _median([r.fps for r in fc]),
        "yard_rss": max(r.rss_mb for r in yard),
        "fc_rss": max(r.rss_mb for r in fc),
        "yard_cores": _median([r.cpu_s / r.seconds for r in yard]),
        "fc_cores": _median([r.cpu_s / r.seconds for r in fc]),
        "fc_proc_s": _median([r.proc_s for r in fc]),
        "yard_proc_s": _median([r.proc_s for r in yard]),
        "verdict": f"{fc[0].extra['reps']}/{fc[0].extra['rounded']}",
        "serial": f"{serial.extra['reps']}/{serial.extra['rounded']}",
        "serial_fps": serial.fps,
        "same": all(
            (r.extra["reps"], r.extra["rounding"])
            == (serial.extra["reps"], serial.extra["rounding"])
            for r in fc
        ),
        "floor_fps": floor_run.fps if floor_run else float("nan"),
        "others": _median(others),
    }


def print_table(rows: list[dict]) -> None:
    head = (
        f"{'clip':28} {'frames':>6} {'yard fps':>8} {'fc fps':>7} {'ratio':>5} "
        f"{'serial':>6} {'floor':>5} {'cores y/f':>9} {'RSS y/f MB':>11} "
        f"{'reps/rnd':>8} {'same':>4} {'other':>5}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        ratio = r["fc_fps"] / r["yard_fps"] if r["yard_fps"] else float("nan")
        print(
            f"{r['clip'][:28]:28} {r['frames']:6d} {r['yard_fps']:8.1f} {r['fc_fps']:7.1f} "
            f"{ratio:5.2f} {r['serial_fps']:6.1f} {r['floor_fps']:5.0f} "
            f"{r['yard_cores']:4.2f}/{r['fc_cores']:4.2f} "
            f"{r['yard_rss']:5.0f}/{r['fc_rss']:5.0f} {r['verdict']:>8} "
            f"{'yes' if r['same'] else 'NO':>4} {r['others']:5.2f}"
        )
    print(
        "fps: frames / seconds of work in a fresh process (model set-up included, imports not); "
        "serial: formcheck with workers=1; floor: bare BlazePose Full on pre-decoded frames; "
        "reps/rnd: formcheck rep count / rounded reps; same: equal to the serial run; "
        "other: cores busy with other processes meanwhile."
    )


def memory_check(src: Path, minutes: float, tmp: Path, workers: str) -> None:
    """Peak RSS of formcheck on a 1-minute and an M-minute looped clip."""
    print(f"\nmemory: looping {src.name} to 1 and {minutes:g} minutes")
    rows = []
    for m in sorted({1.0, minutes}):
        clip = loop_clip(src, m, tmp / f"loop_{m:g}min.mp4")
        run, other = run_child("formcheck", clip, workers)
        rows.append((m, run, other))
        print(
            f"  {m:5g} min  {run.frames:6d} frames  {run.fps:6.1f} fps  peak RSS {run.rss_mb:6.0f} MB"
            f"  reps {run.extra['reps']}  other load {other:.2f}"
        )
    peak = max(r.rss_mb for _, r, _ in rows)
    growth = rows[-1][1].rss_mb - rows[0][1].rss_mb
    verdict = "PASS" if peak <= RSS_LIMIT_MB else "FAIL"
    print(
        f"  peak {peak:.0f} MB (limit {RSS_LIMIT_MB:.0f}: {verdict}); growth 1->{minutes:g} min "
        f"{growth:+.0f} MB"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", nargs="*", help="video files (default: footage clips)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per clip")
    parser.add_argument("--workers", default="auto", help="formcheck workers (auto or a number)")
    parser.add_argument(
        "--loop-minutes",
        type=float,
        default=1.0,
        help="length of the looped 1080p clip added to the defaults (0: none)",
    )
    parser.add_argument(
        "--long-minutes",
        type=float,
        default=0.0,
        help="memory check on an M-minute looped 1080p clip",
    )
    parser.add_argument("--no-floor", action="store_true", help="skip the bare-inference floor")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child_main(args.child[0], args.child[1], args.workers)
        return 0
    with tempfile.TemporaryDirectory(prefix="formcheck-bench-") as tmp_name:
        tmp = Path(tmp_name)
        clips = [Path(c) for c in args.clips] or [FOOTAGE / c for c in DEFAULT_CLIPS]
        if not args.clips and args.loop_minutes > 0:
            looped = tmp / f"{Path(CLIP_1080).stem}_loop{args.loop_minutes:g}min.mp4"
            clips.append(loop_clip(FOOTAGE / CLIP_1080, args.loop_minutes, looped))
        print(
            f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}; "
            f"rounds {args.rounds}; workers {args.workers}\n"
        )
        rows = []
        for clip in clips:
            rows.append(bench_clip(clip, args.rounds, args.workers, not args.no_floor))
            print(f"  done {clip.name}", file=sys.stderr)
        print_table(rows)
        if args.long_minutes > 0:
            memory_check(FOOTAGE / CLIP_1080, args.long_minutes, tmp, args.workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
