"""Accuracy of the hip-mobility drills (90/90, frog squat, fire hydrant) against rendered truth.

Usage: python benchmarks/drills.py [--quick] [--only 90-90|frog-squat|fire-hydrant]
                                   [--out DIR] [--jobs N] [--fps F] [--pitch DEG]

Each drill is rendered with `formcheck synth` over body shapes, sides and scripted ranges or
faults, from the views it is filmed in, analysed with the normal pipeline (`--exercise NAME`)
and scored per clip against the script:
- 90/90 (front view): switches found against true, the leg in front after each switch, and
  the front hip's external and the back hip's internal rotation in each position (rep
  measures and the clip's per-side totals) against the scripted angles. Target: switches
  exact, rotation MAE <= 8 deg.
- Frog squat (side and front views): reps found against true; from the side the hip flexion
  at the bottom and the lower back's flexion beyond standing ("butt wink") against the script;
  from the front the hip abduction (world landmarks) and the knees' spread against the
  truth's. Target: reps exact, hip flexion MAE <= 5 deg.
- Fire hydrant (behind and in front): reps found against true, the leg lifted, the hip
  abduction at the top against the script, and whether the findings match the script (a range
  under the rule's minimum, a lean over the rule's limit; a hip hike is scripted too and must
  raise nothing: it is not judged). Target: reps exact, abduction MAE <= 8 deg.

`--pitch DEG` raises every camera by DEG more degrees (looking down at the person from higher
up): how the readings hold when the phone is not where the filming advice puts it.

Nothing here is fitted on renders: the rules are fixed priors, so every render is an
evaluation clip. Renders are cached in --out (a temporary folder by default).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _synthgrid import GridClip, render_cached, run_many, tilted  # noqa: E402

from formcheck.errors import FormcheckError  # noqa: E402
from formcheck.exercises import get  # noqa: E402
from formcheck.options import AnalysisOptions  # noqa: E402
from formcheck.pipeline import analyze_video  # noqa: E402
from formcheck.synth import SynthSpec  # noqa: E402

BODIES = ("slim", "average", "heavy")
QUICK_BODIES = ("slim", "heavy")


@dataclass
class DrillScore:
    name: str
    reps: int
    true_reps: int
    sides_ok: bool | None
    errors: dict[str, float] = field(default_factory=dict)  # measure -> mean |error|
    findings_ok: bool | None = None
    error: str | None = None
    bias: dict[str, float] = field(default_factory=dict)  # measure -> mean signed error
    # Reps whose measures the report left null and said why (e.g. the camera too high).
    not_judged: int = 0


def _err(measured: float | None, truth: float) -> float:
    return float("nan") if measured is None else abs(measured - truth)


def _signed(measured: float | None, truth: float) -> float:
    return float("nan") if measured is None else measured - truth


def _analyse(clip: GridClip, folder: Path, exercise: str) -> tuple[dict, dict]:
    mp4, truth_path = render_cached(clip, folder)
    truth = json.loads(truth_path.read_text())
    report = analyze_video(mp4, AnalysisOptions(exercise=exercise, workers=1))
    return report, truth


def _scored(score: Callable[[GridClip, Path], DrillScore], clip: GridClip, folder: Path):
    try:
        return score(clip, folder)
    except FormcheckError as exc:
        return DrillScore(clip.name, 0, -1, None, error=str(exc))


# --- fire hydrant ----------------------------------------------------------------------------


def make_hydrants(quick: bool, fps: float) -> list[GridClip]:
    """Fire hydrants from behind and in front: a full lift, a short one, a hip hike, a lean."""
    scripts = (
        ("full", {}),
        ("short", {"hydrant_abduction_deg": 22.0}),
        ("hike", {"hydrant_hike_deg": 22.0}),
        ("lean", {"hydrant_lean_deg": 22.0}),
    )
    clips = []
    for bi, body in enumerate(QUICK_BODIES if quick else BODIES):
        for si, (name, fault) in enumerate(scripts[:2] if quick else scripts):
            view = ("back", "front")[(bi + si) % 2] if si else "back"
            side = ("left", "right")[(bi + si) % 2]
            spec = SynthSpec(
                kind="fire_hydrant", body=body, reps=2, side=side, hydrant_view=view, fps=fps,
                **fault,
            )  # fmt: skip
            clips.append(GridClip(f"hydrant-{body}-{name}-{view}", spec))
    return clips


def score_hydrant(clip: GridClip, folder: Path) -> DrillScore:
    report, truth = _analyse(clip, folder, "fire-hydrant")
    reps, true = report["reps"], truth["reps"]
    spec = clip.spec
    rules = get("fire-hydrant").rules
    expect = {
        code
        for code, hit in (
            ("low_range", spec.hydrant_abduction_deg < rules["min_abduction_deg"]),
            ("trunk_lean", spec.hydrant_lean_deg > rules["max_lean_deg"]),
        )
        if hit
    }
    found = [{f["code"] for f in r["findings"]} for r in reps]
    abd = [_err(r["hip_abduction_deg"], spec.hydrant_abduction_deg) for r in reps]
    return DrillScore(
        clip.name,
        len(reps),
        len(true),
        [r["side"] for r in reps] == [t["side"] for t in true],
        {"abduction": _mean(abd)},
        bool(found) and all(f == expect for f in found),
    )


# --- 90/90 ----------------------------------------------------------------------------------


def make_ninety(quick: bool, fps: float) -> list[GridClip]:
    """90/90 switches from the front: typical, mobile and stiff hips, a lean back."""
    scripts = (
        ("typical", {}),
        ("mobile", {"ninety_er_deg": 65.0, "ninety_ir_deg": 45.0}),
        ("stiff", {"ninety_er_deg": 20.0, "ninety_ir_deg": 10.0}),
        ("lean", {"ninety_lean_deg": 20.0}),
    )
    clips = []
    for bi, body in enumerate(QUICK_BODIES if quick else BODIES):
        for si, (name, script) in enumerate(scripts[:2] if quick else scripts):
            side = ("left", "right")[(bi + si) % 2]
            spec = SynthSpec(kind="ninety_ninety", body=body, reps=2, side=side, fps=fps, **script)
            clips.append(GridClip(f"ninety-{body}-{name}-{side}", spec))
    return clips


def score_ninety(clip: GridClip, folder: Path) -> DrillScore:
    report, truth = _analyse(clip, folder, "90-90")
    reps, true = report["reps"], truth["reps"]
    spec = clip.spec
    er = [_signed(r["hip_external_rotation_deg"], spec.ninety_er_deg) for r in reps]
    ir = [_signed(r["hip_internal_rotation_deg"], spec.ninety_ir_deg) for r in reps]
    s = report["summary"]
    totals = [
        _err(v, want)
        for key, want in (
            ("hip_external_rotation_deg", spec.ninety_er_deg),
            ("hip_internal_rotation_deg", spec.ninety_ir_deg),
        )
        for v in (s.get(key) or {}).values()
    ]
    rules = get("90-90").rules
    unsure = rules["uncertainty_deg"]
    expect = {
        code
        for code, hit in (
            ("low_external", spec.ninety_er_deg < rules["min_external_deg"] - unsure),
            ("low_internal", spec.ninety_ir_deg < rules["min_internal_deg"] - unsure),
            ("lean_back", spec.ninety_lean_deg > rules["max_lean_back_deg"]),
        )
        if hit
    }
    found = [{f["code"] for f in r["findings"]} for r in reps]
    return DrillScore(
        clip.name,
        len(reps),
        len(true),
        [r["side"] for r in reps] == [t["front_after"] for t in true],
        {
            "ER": _mean(np.abs(er)),
            "IR": _mean(np.abs(ir)),
            "per-side": _mean(totals),
        },
        bool(found) and all(f == expect for f in found),
        bias={
            "ER": _mean(er),
            "IR": _mean(ir),
        },
        not_judged=sum(r.get("note") is not None for r in reps),
    )


# --- frog squat ------------------------------------------------------------------------------


def make_frogs(quick: bool, fps: float) -> list[GridClip]:
    """Frog squats from the side and the front: typical, a butt wink, knees kept narrow."""
    scripts = (
        ("typical", {}),
        ("wink", {"frog_wink_deg": 25.0}),
        ("narrow", {"frog_abduction_deg": 15.0, "frog_depth_deg": 95.0}),
    )
    clips = []
    for bi, body in enumerate(QUICK_BODIES if quick else BODIES):
        for si, (name, script) in enumerate(scripts[:2] if quick else scripts):
            for view, yaw in (("side", 0.0), ("front", 90.0)):
                facing = ("right", "left")[(bi + si) % 2]
                spec = SynthSpec(
                    kind="frog_squat", body=body, reps=2, yaw_deg=yaw, facing=facing, fps=fps,
                    **script,
                )  # fmt: skip
                clips.append(GridClip(f"frog-{body}-{name}-{view}", spec))
    return clips


def score_frog(clip: GridClip, folder: Path) -> DrillScore:
    report, truth = _analyse(clip, folder, "frog-squat")
    reps, true = report["reps"], truth["reps"]
    spec = clip.spec
    frames = truth["frames"]
    spread = max(f["knee_spread_ratio"] for f in frames)
    errors = {
        "hip": [_err(r["hip_flexion_deg"], spec.frog_depth_deg) for r in reps],
        "wink": [_err(r["lumbar_flexion_change_deg"], spec.frog_wink_deg) for r in reps],
        "abduction": [_err(r["hip_abduction_deg"], spec.frog_abduction_deg) for r in reps],
        "spread": [_err(r["knee_spread_ratio"], spread) for r in reps],
    }
    rules = get("frog-squat").rules
    side_view = abs(spec.yaw_deg) < 45
    expect = {"butt_wink"} if side_view and spec.frog_wink_deg > rules["max_wink_deg"] else set()
    found = [{f["code"] for f in r["findings"]} & {"butt_wink"} for r in reps]
    return DrillScore(
        clip.name,
        len(reps),
        len(true),
        None,
        {k: _mean(v) for k, v in errors.items()},
        bool(found) and all(f == expect for f in found),
    )


# --- table -----------------------------------------------------------------------------------


def table(drill: str, scores: list[DrillScore], targets: dict[str, float]) -> list[str]:
    """Per clip and pooled: reps, sides, each measure's MAE, findings; PASS/FAIL on targets."""
    names = list(targets)
    head = f"{'clip':40s} {'reps':>6s} {'sides':>5s} " + " ".join(f"{n:>10s}" for n in names)
    lines = [head + f" {'findings':>8s}"]
    for s in scores:
        if s.error:
            lines.append(f"{s.name:40s} ERROR {s.error}")
            continue
        sides = "-" if s.sides_ok is None else ("yes" if s.sides_ok else "NO")
        vals = " ".join(f"{s.errors.get(n, float('nan')):10.1f}" for n in names)
        found = "-" if s.findings_ok is None else ("yes" if s.findings_ok else "NO")
        found = f"not judged {s.not_judged}/{s.reps}" if s.not_judged else f"{found:>8s}"
        lines.append(f"{s.name:40s} {s.reps:>2d}/{s.true_reps:<3d} {sides:>5s} {vals} {found}")
    exact = sum(s.reps == s.true_reps for s in scores)
    pooled = {n: _mean([s.errors.get(n, np.nan) for s in scores]) for n in names}
    ok = exact == len(scores) and all(pooled[n] <= t for n, t in targets.items())
    sided = [s for s in scores if s.sides_ok is not None]
    judged = [s for s in scores if s.findings_ok is not None and not s.not_judged]
    unjudged = sum(bool(s.not_judged) for s in scores)
    parts = [f"reps exact {exact}/{len(scores)}"]
    if sided:
        parts.append(f"sides right {sum(bool(s.sides_ok) for s in sided)}/{len(sided)}")
    parts += [f"{n} MAE {pooled[n]:.1f} (target <= {targets[n]:g})" for n in names]
    if judged:
        parts.append(f"findings right {sum(bool(s.findings_ok) for s in judged)}/{len(judged)}")
    if unjudged:
        parts.append(f"clips with reps not judged {unjudged}/{len(scores)}")
    lines.append(f"{drill:12s} " + ", ".join(parts) + f"  {'PASS' if ok else 'FAIL'}")
    biased = list(dict.fromkeys(n for s in scores for n in s.bias))
    if biased:
        signed = [f"{n} {_mean([s.bias.get(n, np.nan) for s in scores]):+.1f}" for n in biased]
        lines.append(f"{'':12s} mean signed error (measured - scripted): " + ", ".join(signed))
    return lines


DRILLS: dict[str, tuple[Callable, Callable, dict[str, float], str]] = {
    "90-90": (
        make_ninety,
        score_ninety,
        {"ER": 8.0, "IR": 8.0, "per-side": 8.0},
        "ER/IR: |rotation in the position each switch reached - scripted|, degrees, mean over "
        "switches; per-side: the clip's per-side figures against the script",
    ),
    "frog-squat": (
        make_frogs,
        score_frog,
        {"hip": 5.0, "wink": 8.0, "abduction": 8.0, "spread": 0.5},
        "at the bottom of each rep, |measured - scripted|: hip flexion and wink (side view), "
        "hip abduction and knee spread ratio (front view; the truth's widest spread)",
    ),
    "fire-hydrant": (
        make_hydrants,
        score_hydrant,
        {"abduction": 8.0},
        "abduction: |hip abduction at the top - scripted|, degrees, mean over reps",
    ),
}


def _mean(values: list[float]) -> float:
    """The mean of the finite values; NaN (quietly) when there are none."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    return float(v.mean()) if v.size else float("nan")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer bodies and scripts")
    ap.add_argument("--only", choices=tuple(DRILLS), default=None)
    ap.add_argument("--out", type=Path, default=None, help="render cache folder")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--fps", type=float, default=15.0)
    ap.add_argument(
        "--pitch", type=float, default=0.0, help="degrees added to every camera's downward tilt"
    )
    args = ap.parse_args(argv)
    folder = args.out or Path(tempfile.mkdtemp(prefix="formcheck-drills-"))
    t0 = time.time()
    for drill, (make, score, targets, legend) in DRILLS.items():
        if args.only not in (None, drill):
            continue
        clips = [tilted(c, args.pitch) for c in make(args.quick, args.fps)]
        print(f"{len(clips)} {drill} clips, renders in {folder}")
        scores = run_many(partial(_scored, score, folder=folder), clips, args.jobs)
        print()
        print("\n".join(table(drill, scores, targets)))
        print(f"({legend})\n")
    print(f"({time.time() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
