"""Batch throughput: `formcheck batch` (local engine, and Ray when installed) against the naive
serial MediaPipe loop over the same dev clips.

Usage: python benchmarks/batch.py [CLIP ...] [--clips N] [--workers W] [--no-ray]

Clips: the first N (default 12) clips of ../shared/footage/LABELS.tsv, or the ones given.
- yardstick: one child process runs the loop of benchmarks/throughput.py (cv2 read -> RGB ->
  BlazePose Full -> two joint angles -> landmarks drawn) over every clip in turn, serially;
  timed from the first clip opened to the last closed (imports excluded).
- batch local / batch ray: the whole `formcheck batch CLIPS --out DIR` command into an empty
  folder (nothing skipped), timed from start to exit: interpreter start, worker processes (or
  the local Ray instance) and model loading included.
Prints, for each: clips analysed, total frames, seconds, frames/s, and the ratio of its frames/s
to the yardstick's. Frames are the clips' frames (the yardstick's reads; batch's summary.csv).
Targets on a 2-core machine: local >= 1.8x the yardstick; ray within 10% of local. Also
printed: the CPU seconds each run used (Ray's workers are not counted: nan) and the CPU seconds
the rest of the machine used meanwhile ("others", nan for Ray), with the load average before and
after: other work on the machine slows every line.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOOTAGE = ROOT / ".." / "shared" / "footage"


def _yardstick_loop():
    """`_child_yardstick` of benchmarks/throughput.py (the one loop, not a copy of it)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import throughput

    return throughput._child_yardstick


def child_yardstick(paths: list[str]) -> None:
    """In a child process: the yardstick over every clip, serially; prints RESULT json."""
    os.environ.setdefault("GLOG_minloglevel", "2")
    loop = _yardstick_loop()
    import cv2  # noqa: F401  (imports before the clock starts)
    import mediapipe  # noqa: F401

    frames = 0
    t0 = time.perf_counter()
    for path in paths:
        frames += loop(path)["frames"]
    print("RESULT " + json.dumps({"frames": frames, "seconds": time.perf_counter() - t0}))


def _machine_busy_s() -> float:
    """CPU seconds used by the whole machine so far (all cores, from /proc/stat)."""
    with open("/proc/stat") as fh:
        ticks = [int(p) for p in fh.readline().split()[1:]]
    return (sum(ticks[:8]) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def _children_cpu_s() -> float:
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return kids.ru_utime + kids.ru_stime


def _measured(cmd: list[str]) -> tuple[subprocess.CompletedProcess, float, float, float]:
    """Run `cmd`; its wall seconds, its CPU seconds (with the children it waited for) and the
    CPU seconds the rest of the machine used meanwhile."""
    busy0, cpu0, t0 = _machine_busy_s(), _children_cpu_s(), time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    wall, cpu = time.perf_counter() - t0, _children_cpu_s() - cpu0
    return proc, wall, cpu, max(0.0, _machine_busy_s() - busy0 - cpu)


def run_yardstick(clips: list[Path]) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--yardstick-child", *map(str, clips)]
    proc, _, cpu, others = _measured(cmd)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"yardstick failed:\n{proc.stderr[-2000:]}")
    data = json.loads(lines[-1][len("RESULT ") :])
    out = {"clips": len(clips), "frames": data["frames"], "seconds": data["seconds"]}
    return {**out, "cpu": cpu, "others": others}


def run_batch(clips: list[Path], out: Path, engine: str, workers: str | None) -> dict:
    cmd = [sys.executable, "-m", "formcheck", "batch", *map(str, clips), "--out", str(out)]
    cmd += ["--engine", engine] + (["--workers", workers] if workers else [])
    proc, seconds, cpu, others = _measured(cmd)
    if proc.returncode != 0:
        raise RuntimeError(f"batch --engine {engine} failed:\n{proc.stderr[-2000:]}")
    with (out / "summary.csv").open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["status"] == "ok"]
    frames = sum(int(r["frames"]) for r in rows)
    # Ray's workers are not the command's children: their CPU is counted as the machine's.
    if engine == "ray":
        cpu, others = float("nan"), float("nan")
    return {"clips": len(rows), "frames": frames, "seconds": seconds, "cpu": cpu, "others": others}


def default_clips(n: int) -> list[Path]:
    with (FOOTAGE / "LABELS.tsv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [FOOTAGE / r["file"] for r in rows[:n]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", nargs="*", help="video files (default: footage dev clips)")
    parser.add_argument("--clips", dest="count", type=int, default=12, help="dev clips to use")
    parser.add_argument("--workers", default=None, help="batch --workers (default: CPU count)")
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray engine")
    parser.add_argument("--yardstick-child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.yardstick_child:
        child_yardstick(args.yardstick_child)
        return 0
    clips = [Path(c) for c in args.clips] or default_clips(args.count)
    ray = not args.no_ray and importlib.util.find_spec("ray") is not None
    print(
        f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}; {len(clips)} clips; "
        f"batch workers {args.workers or 'CPU count'}"
    )
    results = {"yardstick (serial loop)": run_yardstick(clips)}
    with tempfile.TemporaryDirectory(prefix="formcheck-batch-bench-") as tmp:
        results["formcheck batch local"] = run_batch(
            clips, Path(tmp) / "local", "local", args.workers
        )
        if ray:
            results["formcheck batch ray"] = run_batch(
                clips, Path(tmp) / "ray", "ray", args.workers
            )
    base = results["yardstick (serial loop)"]
    base_fps = base["frames"] / base["seconds"]
    print(
        f"\n{'run':26s} {'clips':>5s} {'frames':>7s} {'seconds':>8s} {'frames/s':>9s} "
        f"{'ratio':>6s} {'cpu s':>7s} {'others cpu s':>12s}"
    )
    for name, r in results.items():
        fps = r["frames"] / r["seconds"]
        print(
            f"{name:26s} {r['clips']:5d} {r['frames']:7d} {r['seconds']:8.1f} {fps:9.1f} "
            f"{fps / base_fps:5.2f}x {r['cpu']:7.1f} {r['others']:12.1f}"
        )
    if not ray:
        print("(ray not installed or --no-ray: no Ray line)")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
