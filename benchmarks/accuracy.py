"""Accuracy of lumbar and hip flexion against synthetic ground truth.

Usage: python benchmarks/accuracy.py [--quick] [--out DIR] [--jobs N] [--unfitted] [--fps F]
                                     [--every-frame]

Renders a grid of synthetic lifters (body shape x camera yaw x flat / rounding hinge, one rep
each, 640x360 30 fps, facing both ways), analyses every clip with the normal pipeline (default
options, fitted parameters as installed) and prints, per |yaw|, body, kind and overall: mean
absolute error of lumbar and hip flexion on frames where both truth and measure exist, the
coverage (share of frames with a value), the same error for the keypoint-only trunk-thigh angle
read as "hip flexion" (what keypoint-only tools report), the clip-level rounding confusion
matrix and PASS/FAIL against the targets (lumbar and hip MAE <= 5 deg for |yaw| <= 15 deg,
<= 8 deg at 30 deg). Renders are cached in --out (a temporary folder by default).
`--fps 60` renders the grid at 60 fps, where pose runs on every second frame by default;
`--every-frame` runs it on every frame, to compare.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _synthgrid import ClipResult, analyse_clip, mae, make_grid, run_many  # noqa: E402

TARGETS = {0: 5.0, 15: 5.0, 30: 8.0}


def _pool(results: list[ClipResult], truth: str, measured: str) -> tuple[np.ndarray, np.ndarray]:
    t = np.concatenate([r.truth[truth] for r in results])
    m = np.concatenate([r.measured[measured] for r in results])
    return t, m


def _fmt(v: float, width: int = 6) -> str:
    return f"{'n/a':>{width}s}" if not math.isfinite(v) else f"{v:{width}.1f}"


BENT_MIN_HIP_DEG = 20.0


def group_row(label: str, results: list[ClipResult], target: float | None) -> str:
    """One table row: errors and coverage pooled over the frames of `results`; "bent" columns
    use only frames where the true hip flexion is at least BENT_MIN_HIP_DEG."""
    hip_t, hip_m = _pool(results, "hip_flexion_deg", "hip_flexion_deg")
    bent = hip_t >= BENT_MIN_HIP_DEG
    cols = {}
    for key, truth, measured in (
        ("lumbar", "lumbar_flexion_deg", "lumbar_flexion_deg"),
        ("hip", "hip_flexion_deg", "hip_flexion_deg"),
        ("naive", "hip_flexion_deg", "trunk_thigh_deg"),
        ("thoracic", "thoracic_flexion_deg", "thoracic_flexion_deg"),
    ):
        t, m = _pool(results, truth, measured)
        cols[key] = mae(t, m)[0]
        cols[key + "_bent"] = mae(t[bent], m[bent])[0]
        cols[key + "_cov"] = float(np.isfinite(m).mean())
    lum, hip = cols["lumbar"], cols["hip"]
    verdict = ""
    if target is not None:
        ok = math.isfinite(lum) and math.isfinite(hip) and lum <= target and hip <= target
        verdict = f"<={target:.0f}  {'PASS' if ok else 'FAIL'}"
    return (
        f"{label:20s} {len(results):>5d} {len(hip_t):>6d} {_fmt(lum)} {_fmt(cols['lumbar_bent'])} "
        f"{cols['lumbar_cov']:>5.0%} {_fmt(hip)} {_fmt(cols['hip_bent'])} {cols['hip_cov']:>5.0%} "
        f"{_fmt(cols['naive'])} {_fmt(cols['naive_bent'])} {_fmt(cols['thoracic'])}   {verdict}"
    )


HEADER = (
    f"{'':20s} {'':>5s} {'':>6s} {'--- lumbar ---':>19s} {'----- hip -----':>19s} "
    f"{'- naive hip -':>13s}\n"
    f"{'group':20s} {'clips':>5s} {'frames':>6s} {'all':>6s} {'bent':>6s} {'cov':>5s} "
    f"{'all':>6s} {'bent':>6s} {'cov':>5s} {'all':>6s} {'bent':>6s} {'thorac':>6s}   target"
)


def print_tables(results: list[ClipResult]) -> bool:
    """Print the per-clip table, the grouped error table and the confusion matrix; return
    whether every |yaw| row met its MAE target."""
    print("\nPer clip (MAE in degrees; peaks are of lumbar flexion; flag = rounding verdict)")
    print(
        f"{'clip':44s} {'lumbar':>6s} {'hip':>6s} {'naive':>6s} {'cov':>5s} "
        f"{'peak true':>9s} {'meas':>6s} {'reps':>4s} {'flag':>5s}"
    )
    for r in results:
        if r.error:
            print(f"{r.name:44s} ERROR {r.error}")
            continue
        lum, _ = mae(r.truth["lumbar_flexion_deg"], r.measured["lumbar_flexion_deg"])
        hip, _ = mae(r.truth["hip_flexion_deg"], r.measured["hip_flexion_deg"])
        naive, _ = mae(r.truth["hip_flexion_deg"], r.measured["trunk_thigh_deg"])
        cov = float(np.isfinite(r.measured["lumbar_flexion_deg"]).mean())
        m = r.measured["lumbar_flexion_deg"]
        peak_m = float(np.nanmax(m)) if np.isfinite(m).any() else float("nan")
        print(
            f"{r.name:44s} {_fmt(lum)} {_fmt(hip)} {_fmt(naive)} {cov:>5.0%} "
            f"{r.truth['lumbar_flexion_deg'].max():>9.1f} {_fmt(peak_m)} {r.reps:>4d} "
            f"{'yes' if r.flagged else 'no':>5s}"
        )

    print("\nMean absolute error (degrees) on frames with both truth and measure;")
    print(
        "all = every frame, bent = frames with true hip flexion >= "
        f"{BENT_MIN_HIP_DEG:.0f} deg; cov = share of frames with a value;"
    )
    print("naive hip = the keypoint-only trunk-thigh angle read as hip flexion.")
    print(HEADER)
    all_ok = True
    for yaw in sorted({abs(r.yaw) for r in results}):
        group = [r for r in results if abs(r.yaw) == yaw]
        target = TARGETS.get(int(yaw))
        row = group_row(f"|yaw| {yaw:.0f}", group, target)
        all_ok &= row.endswith("PASS")
        print(row)
    for body in dict.fromkeys(r.body for r in results):
        print(group_row(f"body {body}", [r for r in results if r.body == body], None))
    for kind in dict.fromkeys(r.kind for r in results):
        print(group_row(f"kind {kind}", [r for r in results if r.kind == kind], None))
    print(group_row("overall", results, None))

    print("\nRounding flag, clip level (truth: hinge_round rounds, hinge_flat does not)")
    tp = sum(r.kind == "hinge_round" and bool(r.flagged) for r in results)
    fn = sum(r.kind == "hinge_round" and not r.flagged for r in results)
    fp = sum(r.kind == "hinge_flat" and bool(r.flagged) for r in results)
    tn = sum(r.kind == "hinge_flat" and not r.flagged for r in results)
    print(f"{'':22s}{'flagged':>9s}{'not flagged':>13s}")
    print(f"{'hinge_round (rounds)':22s}{tp:>9d}{fn:>13d}")
    print(f"{'hinge_flat (flat)':22s}{fp:>9d}{tn:>13d}")
    errors = sum(r.error is not None for r in results)
    if errors:
        print(f"{errors} clip(s) could not be analysed (see ERROR rows).")
    print(f"\nMAE targets met: {all_ok}; rounding verdicts right: {tp + tn}/{len(results)}")
    return all_ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller grid (12 clips)")
    ap.add_argument("--out", type=Path, help="folder for rendered clips (kept; reused)")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (at most 2)")
    ap.add_argument(
        "--unfitted", action="store_true", help="built-in defaults instead of spine.json"
    )
    ap.add_argument("--fps", type=float, default=30.0, help="frame rate of the renders")
    ap.add_argument(
        "--every-frame", action="store_true", help="pose on every frame, whatever the rate"
    )
    args = ap.parse_args(argv)
    start = time.perf_counter()
    clips = make_grid(quick=args.quick, split="eval", fps=args.fps)
    tmp = None
    folder = args.out
    if folder is None:
        tmp = tempfile.TemporaryDirectory(prefix="formcheck-accuracy-")
        folder = Path(tmp.name)
    params = "built-in defaults" if args.unfitted else "shipped spine.json (if any)"
    print(f"{len(clips)} synthetic clips in {folder}, {min(max(args.jobs, 1), 2)} job(s), {params}")
    try:
        results = run_many(
            partial(
                analyse_clip, folder=folder, unfitted=args.unfitted, every_frame=args.every_frame
            ),
            clips,
            args.jobs,
        )
        ok = print_tables(results)
    finally:
        if tmp is not None:
            tmp.cleanup()
    print(f"wall time {time.perf_counter() - start:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
