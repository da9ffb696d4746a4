"""Pose models side by side: how fast Lite, Full and Heavy run here, and what each does to the
analysis of real clips.

Usage: python benchmarks/models.py [CLIPS...] [--frames N] [--rounds R] [--analyse] [--parts]

Speed: per clip, the first N frames (default 150) decoded once and scaled to 640 px a side as
the analysis does, then BlazePose (legacy graph, segmentation on, as formcheck runs it) over
them with each model, in alternating rounds (this machine is shared: compare the ratios
within one run). Prints frames/s per model and clip and each model's speed over Full's.

`--parts` also prints what each part of pass one's pose work costs per frame, in CPU time (all
threads, one inference thread per graph as the analysis runs it; the best of the rounds): Full
landmarks alone, with the segmentation mask the back outline needs, with the tracking checks
(a fresh person detection every `verify_every` frames), and the person detector alone per call.

`--analyse` also runs the whole analysis per model on each clip (`analyze_video`, one worker)
and prints rep count, clip verdict and peak lumbar flexion, so the models' answers can be
compared clip by clip. Real-clip accuracy per model, cross-validated by group, is
`python benchmarks/realclips.py --model lite|full|heavy`; angle error on renders,
`python benchmarks/accuracy.py --quick --model lite|full|heavy`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import av
import numpy as np

from formcheck import posemodels
from formcheck.estimator import Detector, EstimatorConfig, PoseEstimator
from formcheck.native_logs import silence_native_logs
from formcheck.options import AnalysisOptions
from formcheck.pipeline import analyze_video

ROOT = Path(__file__).resolve().parents[1]
FOOTAGE = ROOT / ".." / "shared" / "footage"
DEFAULT_CLIPS = ("mattiolato_Good_000001.mp4", "tby66_0016r_1.mp4", "bichraix_good004.mp4")
MODELS = ("lite", "full", "heavy")


def frames_of(clip: Path, count: int, max_side: int = 640) -> list[np.ndarray]:
    """The clip's first `count` frames as RGB, scaled so the longer side is `max_side`."""
    out = []
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            scale = max_side / max(frame.width, frame.height)
            if scale < 1:
                frame = frame.reformat(
                    width=round(frame.width * scale) // 2 * 2,
                    height=round(frame.height * scale) // 2 * 2,
                )
            out.append(frame.to_ndarray(format="rgb24"))
            if len(out) >= count:
                break
    return out


def pose_fps(frames: list[np.ndarray], model: str) -> float:
    """Frames per second of BlazePose with `model` over `frames` (model set-up excluded)."""
    with PoseEstimator(EstimatorConfig(model=model)) as est:
        est(frames[0], index=0)
        start = time.perf_counter()
        for i, image in enumerate(frames[1:], start=1):
            est(image, index=i)
        return (len(frames) - 1) / (time.perf_counter() - start)


def cpu_ms(frames: list[np.ndarray], config: EstimatorConfig) -> float:
    """CPU milliseconds (all threads) per frame of a `PoseEstimator` over `frames`, model
    set-up and the first frame excluded."""
    with PoseEstimator(config) as est:
        est(frames[0], index=0)
        start = time.process_time()
        for i, image in enumerate(frames[1:], start=1):
            est(image, index=i)
        return 1000.0 * (time.process_time() - start) / (len(frames) - 1)


def detector_cpu_ms(frames: list[np.ndarray]) -> float:
    """CPU milliseconds per call of the person detector that the tracking checks run."""
    detector = Detector(1, EstimatorConfig.min_detection_confidence)
    try:
        detector(frames[0])
        start = time.process_time()
        for image in frames[1:]:
            detector(image)
        return 1000.0 * (time.process_time() - start) / (len(frames) - 1)
    finally:
        detector.close()


def print_parts(clips: list[Path], count: int, rounds: int) -> None:
    """The CPU cost of each part of pass one's pose work, per frame (see the module doc)."""
    parts = {
        "Full landmarks": EstimatorConfig(segmentation=False, verify_every=0),
        "+ segmentation": EstimatorConfig(verify_every=0),
        "+ tracking checks": EstimatorConfig(),
    }
    print(f"\n{'clip':32s} " + " ".join(f"{p:>18s}" for p in parts) + f" {'detector/call':>14s}")
    for clip in clips:
        frames = frames_of(clip, count)
        best = {p: min(cpu_ms(frames, c) for _ in range(rounds)) for p, c in parts.items()}
        detect = min(detector_cpu_ms(frames) for _ in range(rounds))
        cells = " ".join(f"{best[p]:15.1f} ms" for p in parts)
        print(f"{clip.name:32s} {cells} {detect:11.1f} ms")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("clips", nargs="*", help="video files (default: three footage clips)")
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--analyse", action="store_true", help="also analyse each clip per model")
    ap.add_argument("--parts", action="store_true", help="also the CPU cost of each pose part")
    args = ap.parse_args(argv)
    silence_native_logs()
    installed = [s.name for s in posemodels.status() if s.state == "installed"]
    models = [m for m in MODELS if m in installed]
    if len(models) < len(MODELS):
        print(f"(only {', '.join(models)} installed: `formcheck models install` adds the rest)")
    clips = [Path(c) for c in args.clips] or [FOOTAGE / c for c in DEFAULT_CLIPS]
    rows = []
    for clip in clips:
        frames = frames_of(clip, args.frames)
        runs: dict[str, list[float]] = {m: [] for m in models}
        for _ in range(args.rounds):
            for m in models:
                runs[m].append(pose_fps(frames, m))
        fps = {m: statistics.median(v) for m, v in runs.items()}
        rows.append((clip.name, frames[0].shape, fps))
    print(f"\n{'clip':32s} {'frame':>9s} " + " ".join(f"{m + ' fps':>10s}" for m in models))
    for name, shape, fps in rows:
        size = f"{shape[1]}x{shape[0]}"
        print(f"{name:32s} {size:>9s} " + " ".join(f"{fps[m]:10.1f}" for m in models))
    if "full" in models:
        ratio = {m: statistics.median(r[2][m] / r[2]["full"] for r in rows) for m in models}
        print(
            "speed over Full (median of clips): "
            + ", ".join(f"{m} {ratio[m]:.2f}x" for m in models)
        )
    if args.parts:
        print_parts(clips, args.frames, args.rounds)
    if args.analyse:
        print(f"\n{'clip':32s} {'model':6s} {'reps':>4s} {'verdict':>11s} {'peak lumbar':>11s}")
        for clip in clips:
            for m in models:
                report = analyze_video(clip, AnalysisOptions(model=m, workers=1))
                s = report["summary"]
                peak = s.get("peak_lumbar_flexion_deg")
                print(
                    f"{clip.name:32s} {m:6s} {s['rep_count']:>4d} {s.get('verdict', '-'):>11s} "
                    f"{'n/a' if peak is None else f'{peak:.0f}':>11s}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
