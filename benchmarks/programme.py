"""Accuracy of the programme exercises (plank, side plank, bird dog) against rendered truth.

Usage: python benchmarks/programme.py [--quick] [--out DIR] [--jobs N] [--fps F]

Holds: renders plank and side-plank holds with scripted faults (`formcheck synth --kind plank
--sag`, `--kind side-plank --drop --side`), over body shapes and both sides, analyses each with
the normal pipeline (`--exercise plank | side-plank`) and prints per clip and pooled: the mean
absolute error of the per-frame fault angle (plank hip sag, side-plank hip drop; also of the
body line) over the frames truly held, with its constant part (mean error) beside it; the error
of the hold's start and end (s); the worst fault angle against the truth's; whether the side
held and the good/broke form verdict match the script (a scripted fault beyond the rule's
tolerance breaks form). Targets: <= 5 deg MAE on body-line angles and hip drop, hold times
within 0.5 s.

Bird dog: renders two or three reps alternating sides (`--kind bird-dog`) with scripted arm and
leg elevation at the top and lumbar extension, and prints per clip: reps found against true,
sides right, the arm and leg elevation at the top of each rep against the truth's (MAE), and
whether the findings the script implies were raised (a leg above the rule's limit: `leg_high`).
Target: reps exact, elevation MAE <= 8 deg.

Pallof press: renders two reps filmed from the front (`--kind pallof-press`) with scripted
trunk rotation or lean towards the anchor (either side) and prints per clip: reps found against
true, the largest trunk rotation and lean of each rep against the script (absolute error), the
side the trunk gave to against the anchor's, and whether the findings match the script.
Target: reps exact, rotation error <= 8 deg.

Nothing here is fitted on renders: the rules are fixed priors, so every render is an evaluation
clip. Renders are cached in --out (a temporary folder by default).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _synthgrid import GridClip, render_cached, run_many  # noqa: E402

from formcheck.exercises import get  # noqa: E402
from formcheck.options import AnalysisOptions  # noqa: E402
from formcheck.pipeline import analyze_video  # noqa: E402
from formcheck.synth import SynthSpec  # noqa: E402

MAE_TARGET_DEG = 5.0
TIME_TARGET_S = 0.5


def make_holds(quick: bool, fps: float) -> list[GridClip]:
    """Plank sag/pike and side-plank drop/hike over bodies and sides (quick: fewer)."""
    bodies = ("slim", "heavy") if quick else ("slim", "average", "heavy")
    plank = (0.0, 15.0) if quick else (0.0, 15.0, -25.0)
    side = (0.0, 15.0) if quick else (0.0, 15.0, -15.0)
    clips = []
    for bi, body in enumerate(bodies):
        for sag in plank:
            spec = SynthSpec(
                kind="plank", body=body, sag_deg=sag, fault_at_s=3.0, hold_seconds=7.0, fps=fps,
                facing=("right", "left")[bi % 2],
            )  # fmt: skip
            clips.append(GridClip(f"plank-{body}-sag{sag:+.0f}", spec))
        for si, drop in enumerate(side):
            which = ("left", "right")[(bi + si) % 2]
            spec = SynthSpec(
                kind="side_plank", body=body, drop_deg=drop, side=which, fault_at_s=3.0,
                hold_seconds=7.0, fps=fps,
            )  # fmt: skip
            clips.append(GridClip(f"side-{body}-{which}-drop{drop:+.0f}", spec))
    return clips


def make_bird_dogs(quick: bool, fps: float) -> list[GridClip]:
    """Bird dogs over bodies and facing: level reach, a leg raised too high with the back
    hollowing, a short reach (quick: fewer)."""
    bodies = ("slim", "heavy") if quick else ("slim", "average", "heavy")
    scripts = (
        ("level", {}),
        ("leg-high", {"leg_deg": 25.0, "lumbar_ext_deg": 12.0}),
        ("short-arm", {"arm_deg": -25.0}),
    )
    clips = []
    for bi, body in enumerate(bodies):
        for si, (name, fault) in enumerate(scripts[:2] if quick else scripts):
            facing = ("right", "left")[(bi + si) % 2]
            side = ("left", "right")[bi % 2]
            spec = SynthSpec(
                kind="bird_dog", body=body, reps=2, side=side, facing=facing, fps=fps, **fault
            )
            clips.append(GridClip(f"birddog-{body}-{name}-{facing}", spec))
    return clips


@dataclass
class RepScore:
    name: str
    reps: int
    true_reps: int
    sides_ok: bool
    arm_mae: float
    leg_mae: float
    findings_ok: bool  # the reach findings are exactly those the script implies, on every rep
    arch: int  # reps with `back_arch`
    arch_expected: bool  # the script hollows the lower back


def score_bird_dog(clip: GridClip, folder: Path) -> RepScore:
    """Render (cached), analyse and score one bird-dog clip."""
    mp4, truth_path = render_cached(clip, folder)
    truth = json.loads(truth_path.read_text())
    report = analyze_video(mp4, AnalysisOptions(exercise="bird-dog", workers=1))
    reps, true = report["reps"], truth["reps"]
    spec = clip.spec
    paired = list(zip(reps, true, strict=False))
    arm = [abs((r["arm_elevation_deg"] or np.nan) - spec.arm_deg) for r, _ in paired]
    leg = [abs((r["leg_elevation_deg"] or np.nan) - spec.leg_deg) for r, _ in paired]
    rules = get("bird-dog").rules
    expect = {
        code
        for code, hit in (
            ("leg_high", spec.leg_deg > rules["max_leg_high_deg"]),
            ("arm_low", spec.arm_deg < rules["min_reach_deg"]),
            ("leg_low", spec.leg_deg < rules["min_reach_deg"]),
        )
        if hit
    }
    reach_codes = {"leg_high", "arm_low", "leg_low"}
    found = [{f["code"] for f in r["findings"]} for r in reps]
    return RepScore(
        name=clip.name,
        reps=len(reps),
        true_reps=len(true),
        sides_ok=[r["side"] for r in reps] == [t["side"] for t in true],
        arm_mae=float(np.nanmean(arm)) if arm else float("nan"),
        leg_mae=float(np.nanmean(leg)) if leg else float("nan"),
        findings_ok=bool(found) and all(f & reach_codes == expect for f in found),
        arch=sum("back_arch" in f for f in found),
        arch_expected=spec.lumbar_ext_deg > 0,
    )


def bird_dog_table(scores: list[RepScore]) -> list[str]:
    lines = [
        f"{'clip':36s} {'reps':>6s} {'sides':>5s} {'arm':>6s} {'leg':>6s} {'findings':>8s} "
        f"{'arch':>5s}"
    ]
    for s in scores:
        lines.append(
            f"{s.name:36s} {s.reps:>2d}/{s.true_reps:<3d} {'yes' if s.sides_ok else 'NO':>5s} "
            f"{s.arm_mae:6.1f} {s.leg_mae:6.1f} {'yes' if s.findings_ok else 'NO':>8s} "
            f"{s.arch:>2d}/{s.reps:<2d}"
        )
    exact = sum(s.reps == s.true_reps for s in scores)
    arm = float(np.nanmean([s.arm_mae for s in scores]))
    leg = float(np.nanmean([s.leg_mae for s in scores]))
    ok = exact == len(scores) and arm <= 8.0 and leg <= 8.0
    lines.append(
        f"bird-dog    reps exact {exact}/{len(scores)}, sides right "
        f"{sum(s.sides_ok for s in scores)}/{len(scores)}, arm elevation MAE {arm:.1f} deg, "
        f"leg elevation MAE {leg:.1f} deg, findings right {sum(s.findings_ok for s in scores)}/"
        f"{len(scores)}  {'PASS' if ok else 'FAIL'}"
    )
    hollow = [s for s in scores if s.arch_expected]
    flat = [s for s in scores if not s.arch_expected]
    lines.append(
        f"            back_arch on reps whose script hollows the lower back: "
        f"{sum(s.arch for s in hollow)}/{sum(s.reps for s in hollow)}; on the others: "
        f"{sum(s.arch for s in flat)}/{sum(s.reps for s in flat)}"
    )
    return lines


def make_pallof(quick: bool, fps: float) -> list[GridClip]:
    """Pallof presses over bodies: still, turned 15 deg, leaning 10 deg (quick: fewer)."""
    bodies = ("slim", "heavy") if quick else ("slim", "average", "heavy")
    scripts = (("still", {}), ("turn15", {"rotation_deg": 15.0}), ("lean10", {"lean_deg": 10.0}))
    clips = []
    for bi, body in enumerate(bodies):
        for si, (name, fault) in enumerate(scripts[:2] if quick else scripts):
            side = ("left", "right")[(bi + si) % 2]
            spec = SynthSpec(kind="pallof_press", body=body, reps=2, side=side, fps=fps, **fault)
            clips.append(GridClip(f"pallof-{body}-{name}-{side}", spec))
    return clips


@dataclass
class PallofScore:
    name: str
    reps: int
    true_reps: int
    rotation_err: float
    lean_err: float
    sides_ok: bool
    findings_ok: bool


def score_pallof(clip: GridClip, folder: Path) -> PallofScore:
    """Render (cached), analyse and score one Pallof-press clip."""
    mp4, truth_path = render_cached(clip, folder)
    truth = json.loads(truth_path.read_text())
    report = analyze_video(mp4, AnalysisOptions(exercise="pallof-press", workers=1))
    spec, reps = clip.spec, report["reps"]
    rules = get("pallof-press").rules
    rot = [abs((r["max_trunk_rotation_deg"] or 0.0) - abs(spec.rotation_deg)) for r in reps]
    lean = [abs((r["max_lateral_lean_deg"] or 0.0) - abs(spec.lean_deg)) for r in reps]
    expect = {
        code
        for code, hit in (
            ("trunk_rotation", abs(spec.rotation_deg) > rules["max_rotation_deg"]),
            ("lateral_lean", abs(spec.lean_deg) > rules["max_lean_deg"]),
        )
        if hit
    }
    faulty = bool(spec.rotation_deg or spec.lean_deg)
    return PallofScore(
        name=clip.name,
        reps=len(reps),
        true_reps=len(truth["reps"]),
        rotation_err=float(np.mean(rot)) if rot else float("nan"),
        lean_err=float(np.mean(lean)) if lean else float("nan"),
        sides_ok=all(r["side"] == (truth["anchor_side"] if faulty else None) for r in reps),
        findings_ok=bool(reps) and all({f["code"] for f in r["findings"]} == expect for r in reps),
    )


def pallof_table(scores: list[PallofScore]) -> list[str]:
    lines = [
        f"{'clip':36s} {'reps':>6s} {'rot err':>7s} {'lean err':>8s} {'side':>5s} {'findings':>8s}"
    ]
    for s in scores:
        lines.append(
            f"{s.name:36s} {s.reps:>2d}/{s.true_reps:<3d} {s.rotation_err:7.1f} {s.lean_err:8.1f} "
            f"{'yes' if s.sides_ok else 'NO':>5s} {'yes' if s.findings_ok else 'NO':>8s}"
        )
    exact = sum(s.reps == s.true_reps for s in scores)
    rot = float(np.nanmean([s.rotation_err for s in scores]))
    lean = float(np.nanmean([s.lean_err for s in scores]))
    ok = exact == len(scores) and rot <= 8.0
    lines.append(
        f"pallof-press reps exact {exact}/{len(scores)}, rotation error {rot:.1f} deg, lean error "
        f"{lean:.1f} deg, side right {sum(s.sides_ok for s in scores)}/{len(scores)}, findings "
        f"right {sum(s.findings_ok for s in scores)}/{len(scores)}  {'PASS' if ok else 'FAIL'}"
    )
    return lines


@dataclass
class HoldScore:
    name: str
    kind: str
    fault_mae: float
    fault_bias: float
    line_mae: float
    start_err: float
    end_err: float
    peak_err: float
    side_ok: bool | None
    form_ok: bool
    frames: int


def score_clip(clip: GridClip, folder: Path) -> HoldScore:
    """Render (cached), analyse and score one hold clip."""
    mp4, truth_path = render_cached(clip, folder)
    truth = json.loads(truth_path.read_text())
    side = clip.spec.kind == "side_plank"
    exercise = "side-plank" if side else "plank"
    key = "hip_drop_deg" if side else "hip_sag_deg"
    report = analyze_video(mp4, AnalysisOptions(exercise=exercise, workers=1))
    rows = [
        (f.get(key), g[key], f.get("body_line_deg"), g["body_line_deg"])
        for f, g in zip(report["frames"], truth["frames"], strict=False)
        if g["holding"]
    ]
    ok = [r for r in rows if r[0] is not None]
    err = np.array([m - t for m, t, _, _ in ok]) if ok else np.array([np.nan])
    line = np.array([m - t for _, _, m, t in ok if m is not None]) if ok else np.array([np.nan])
    holds = report["holds"]
    start = holds[0]["start_s"] if holds else float("nan")
    end = holds[-1]["end_s"] if holds else float("nan")
    reached = float(truth.get("fault_reached_deg") or 0.0)
    rules = get(exercise).rules
    limit = (
        rules["max_drop_deg" if side else "max_sag_deg"]
        if reached >= 0
        else rules["max_hike_deg" if side else "max_pike_deg"]
    )
    expect_broke = abs(reached) > limit
    peak_key = (
        ("max_hip_drop_deg" if side else "max_hip_sag_deg")
        if reached >= 0
        else ("max_hip_hike_deg" if side else "max_hip_pike_deg")
    )
    peak = report["summary"].get(peak_key)
    return HoldScore(
        name=clip.name,
        kind=exercise,
        fault_mae=float(np.nanmean(np.abs(err))),
        fault_bias=float(np.nanmean(err)),
        line_mae=float(np.nanmean(np.abs(line))),
        start_err=start - truth["hold_start_s"],
        end_err=end - truth["hold_end_s"],
        peak_err=(peak if peak is not None else float("nan")) - abs(reached),
        side_ok=(len(holds) == 1 and holds[0]["side"] == clip.spec.side) if side else None,
        form_ok=(report["summary"]["form"] == "broke") == expect_broke and len(holds) == 1,
        frames=len(ok),
    )


def _row(s: HoldScore) -> str:
    side = "" if s.side_ok is None else ("yes" if s.side_ok else "NO")
    return (
        f"{s.name:28s} {s.fault_mae:6.1f} {s.fault_bias:+6.1f} {s.line_mae:6.1f} "
        f"{s.start_err:+6.2f} {s.end_err:+6.2f} {s.peak_err:+6.1f} {side:>5s} "
        f"{'yes' if s.form_ok else 'NO':>5s}"
    )


def summary(kind: str, scores: list[HoldScore]) -> str:
    mine = [s for s in scores if s.kind == kind]
    if not mine:
        return f"{kind}: no clips"
    w = np.array([s.frames for s in mine], float)
    fault = float(np.average([s.fault_mae for s in mine], weights=w))
    line = float(np.average([s.line_mae for s in mine], weights=w))
    times = np.abs([[s.start_err, s.end_err] for s in mine])
    worst_t = float(np.nanmax(times))
    sides = [s.side_ok for s in mine if s.side_ok is not None]
    verdict = (
        "PASS"
        if fault <= MAE_TARGET_DEG and line <= MAE_TARGET_DEG and worst_t <= TIME_TARGET_S
        else "FAIL"
    )
    return (
        f"{kind:11s} fault-angle MAE {fault:.1f} deg, body line MAE {line:.1f} deg, "
        f"worst hold-time error {worst_t:.2f} s, form right {sum(s.form_ok for s in mine)}/"
        f"{len(mine)}"
        + (f", side right {sum(sides)}/{len(sides)}" if sides else "")
        + f"  {verdict}"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer bodies and faults")
    ap.add_argument("--only", choices=("holds", "bird-dog", "pallof-press"), default=None)
    ap.add_argument("--out", type=Path, default=None, help="render cache folder")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--fps", type=float, default=15.0)
    args = ap.parse_args(argv)
    folder = args.out or Path(tempfile.mkdtemp(prefix="formcheck-programme-"))
    t0 = time.time()
    if args.only in (None, "bird-dog"):
        dogs = make_bird_dogs(args.quick, args.fps)
        print(f"{len(dogs)} bird-dog clips, renders in {folder}")
        dog_scores = run_many(partial(score_bird_dog, folder=folder), dogs, args.jobs)
        print()
        print("\n".join(bird_dog_table(dog_scores)))
        print("(arm/leg: MAE of the elevation at the top of each rep against the script)\n")
    if args.only in (None, "pallof-press"):
        presses = make_pallof(args.quick, args.fps)
        print(f"{len(presses)} Pallof-press clips, renders in {folder}")
        press_scores = run_many(partial(score_pallof, folder=folder), presses, args.jobs)
        print()
        print("\n".join(pallof_table(press_scores)))
        print("(rot/lean err: |largest change in the rep - scripted|, degrees, mean over reps)\n")
    if args.only not in (None, "holds"):
        print(f"({time.time() - t0:.0f} s)")
        return 0
    clips = make_holds(args.quick, args.fps)
    print(f"{len(clips)} hold clips, renders in {folder}")
    scores = run_many(partial(score_clip, folder=folder), clips, args.jobs)
    print(
        f"\n{'clip':28s} {'MAE':>6s} {'bias':>6s} {'line':>6s} {'start':>6s} {'end':>6s} "
        f"{'peak':>6s} {'side':>5s} {'form':>5s}"
    )
    for s in scores:
        print(_row(s))
    print("\nfault angle: plank hip sag (+ sag, - pike), side plank hip drop (+ drop, - hike);")
    print("MAE over frames truly held; bias = mean error; start/end/peak = measured - true.\n")
    for kind in ("plank", "side-plank"):
        print(summary(kind, scores))
    print(f"\n({time.time() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
