"""Dev-clip table: formcheck on the real clips in ../shared/footage against LABELS.tsv.

Usage: python benchmarks/devclips.py [FOOTAGE_DIR]
Prints, per clip: label, reps (found / labelled), clip-level rounding verdict, peak lumbar
flexion, neutral source, and analysis speed (frames/s).
"""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path

from formcheck.pipeline import analyze_video

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    footage = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "footage"
    with open(footage / "LABELS.tsv") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    print(
        f"{'clip':32s} {'label':11s} {'reps':>9s} {'rounding':>9s} {'peak lumbar':>11s} "
        f"{'neutral':>8s} {'fps':>6s}"
    )
    agree = reps_ok = 0
    for row in rows:
        start = time.perf_counter()
        report = analyze_video(footage / row["file"])
        elapsed = time.perf_counter() - start
        s = report["summary"]
        lo, _, hi = row["reps"].partition("-")
        ok_reps = int(lo) <= s["rep_count"] <= int(hi or lo)
        ok_round = s["rounding"] == (row["label"] == "rounded")
        agree += ok_round
        reps_ok += ok_reps
        peak = s["peak_lumbar_flexion_deg"]
        print(
            f"{row['file']:32s} {row['label']:11s} {s['rep_count']:>4d}/{row['reps']:<5s}"
            f"{'' if ok_reps else '!':1s}{str(s['rounding']):>8s}{'' if ok_round else '!':1s} "
            f"{'n/a' if peak is None else f'{peak:.1f}':>11s} {report['neutral']['source']:>8s} "
            f"{report['video']['frames'] / elapsed:6.1f}"
        )
    print(f"rep counts right: {reps_ok}/{len(rows)}; rounding verdicts agree: {agree}/{len(rows)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
