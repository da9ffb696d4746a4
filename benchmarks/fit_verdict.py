"""Fit the back verdict's model on the labelled real clips and write it to the model files.

Usage: python benchmarks/fit_verdict.py [--footage DIR] [--cache DIR] [--unsure P] [--dry-run]

On the side-on rep clips of ../shared/footage, fits a logistic regression of the clip label
(LABELS.tsv) on the back's outward bow at the bottom of every rep (each clip's reps weighted
1/reps, rounded and other clips weighted alike) and writes it as "verdict"
to formcheck/data/spine.json, with its provenance. The fitted model is
in-sample on these clips: `python benchmarks/realclips.py` prints the cross-validated figures.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _realclips import (  # noqa: E402
    CACHE,
    FEATURES,
    FOOTAGE,
    Case,
    analysis_of,
    fit_cases,
    load_clips,
    to_model,
)

from formcheck.params import read_params  # noqa: E402
from formcheck.pipeline import AnalysisOptions  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "formcheck" / "data" / "spine.json"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--footage", type=Path, default=FOOTAGE)
    ap.add_argument("--cache", type=Path, default=CACHE)
    ap.add_argument("--unsure", type=float, default=0.05)
    ap.add_argument("--dry-run", action="store_true")
    args = ap.parse_args(argv)
    opts = AnalysisOptions()
    cases = [
        Case(c, analysis_of(c, opts, args.cache))
        for c in load_clips(args.footage)
        if not c.hold and c.side_on
    ]
    if not cases:
        print(f"no labelled side-on rep clips in {args.footage}")
        return 1
    names = FEATURES
    fit = fit_cases(cases, names, args.unsure)
    if fit is None:
        print("both labels are needed to fit")
        return 1
    model = to_model(fit, names, args.unsure)
    print(f"features {' + '.join(names)}: {asdict(model)}")
    if args.dry_run:
        return 0
    doc = read_params(OUTPUT)
    doc["verdict"] = asdict(model)
    doc.setdefault("fitted", {})["verdict"] = {
        "date": datetime.date.today().isoformat(),
        "command": "python benchmarks/fit_verdict.py",
        "clips": len(cases),
        "groups": len({c.clip.group for c in cases}),
        "rounded_clips": sum(c.clip.rounded for c in cases),
        "note": "in-sample on these clips; benchmarks/realclips.py gives the "
        "leave-one-group-out figures",
    }
    OUTPUT.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
