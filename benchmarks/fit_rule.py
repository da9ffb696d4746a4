"""Fit the rounding rule's shape threshold on the dev clips and the synthetic grid.

Usage: python benchmarks/fit_rule.py [--footage DIR] [--synth DIR] [--dry-run]

For every clip it runs the normal analysis and takes, per rep, the back's outward bow held at
the bottom for the rule's minimum duration (`max_back_bend_deg` in the report). A clip counts
as rounded when any rep is (real clips by LABELS.tsv; synthetic hinge_round rounds, hinge_flat
does not). The threshold is the middle of the widest gap between neighbouring clip values among
the thresholds with the fewest wrong verdicts; it is written to models/spine.json and
formcheck/data/spine.json with its margin and error count.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

from formcheck.pipeline import analyze_video

ROOT = Path(__file__).resolve().parents[1]
OUTPUTS = (ROOT / "models" / "spine.json", ROOT / "formcheck" / "data" / "spine.json")


def clip_bend(path: Path) -> float | None:
    report = analyze_video(path)
    bends = [r["max_back_bend_deg"] for r in report["reps"] if r["max_back_bend_deg"] is not None]
    return max(bends) if bends else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--footage", type=Path, default=ROOT.parent / "shared" / "footage")
    ap.add_argument(
        "--synth", type=Path, help="folder of rendered grid clips (from accuracy.py --out)"
    )
    ap.add_argument("--dry-run", action="store_true")
    args = ap.parse_args(argv)
    samples: list[tuple[str, bool, float]] = []
    with open(args.footage / "LABELS.tsv") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            bend = clip_bend(args.footage / row["file"])
            if bend is not None:
                samples.append((row["file"], row["label"] == "rounded", bend))
    if args.synth:
        for mp4 in sorted(args.synth.glob("eval-*hinge_*.mp4")):
            bend = clip_bend(mp4)
            if bend is not None:
                samples.append((mp4.name, "hinge_round" in mp4.name, bend))
    samples.sort(key=lambda s: s[2])
    for name, rounded, bend in samples:
        print(f"{name:60s} {'rounded' if rounded else 'not rounded':12s} {bend:6.1f}")
    values = [b for _, _, b in samples]
    best: tuple[int, float, float] | None = None  # (errors, -gap, threshold)
    for lo, hi in zip(values, values[1:], strict=False):
        threshold = (lo + hi) / 2
        errors = sum((b >= threshold) != rounded for _, rounded, b in samples)
        key = (errors, -(hi - lo), threshold)
        if best is None or key < best:
            best = key
    if best is None:
        print("not enough clips")
        return 1
    errors, neg_gap, threshold = best
    threshold = round(threshold, 1)
    margin = round(-neg_gap / 2, 1)
    wrong = [n for n, r, b in samples if (b >= threshold) != r]
    print(
        f"back_bend_deg threshold {threshold} (margin {margin} each side); wrong: {wrong or 'none'}"
    )
    if not args.dry_run:
        doc = json.loads(OUTPUTS[0].read_text())
        doc["rule"]["back_bend_deg"] = threshold
        doc.setdefault("fitted", {})["rule_command"] = "python benchmarks/fit_rule.py" + (
            " --synth DIR" if args.synth else ""
        )
        doc["fitted"]["rule_margin_deg"] = margin
        doc["fitted"]["rule_wrong_clips"] = wrong
        text = json.dumps(doc, indent=2) + "\n"
        for path in OUTPUTS:
            path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
