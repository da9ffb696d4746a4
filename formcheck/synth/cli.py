"""`formcheck synth`: render a synthetic lifter clip (reps, a plank hold, a bird dog, a Pallof
press or a standing forward bend) with its true angles.

In:  command-line arguments (added to the main parser by `add_synth_parser`).
Out: an MP4 and optionally a JSON of per-frame true angles; exit code 0, or 2 on bad input.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from formcheck.errors import FormcheckError
from formcheck.synth.clip import render_clip
from formcheck.synth.spec import (
    BACKGROUNDS,
    BODY_SHAPES,
    CLOTHING_COLOURS,
    FACINGS,
    HYDRANT_VIEWS,
    KINDS,
    LOADS,
    NINETY_ALIASES,
    SHIRTS,
    SIDES,
    SynthSpec,
)


def _kind(value: str) -> str:
    """Kinds are spelt with underscores; hyphens are accepted too (side-plank, bird-dog,
    pallof-press, forward-bend, frog-squat)."""
    value = value.replace("-", "_")
    return NINETY_ALIASES.get(value, value)  # 90-90 / 90_90 -> ninety_ninety


def add_synth_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the `synth` subcommand on the main CLI's subparsers."""
    d = SynthSpec()
    p = subparsers.add_parser(
        "synth",
        help="render a synthetic lifter clip with known angles",
        description="Render a mannequin lifting, seen from the side, as an H.264 MP4, "
        "with the true hip, lumbar, thoracic and knee flexion of every frame as JSON. "
        "Holds: --kind plank (seen from the side) or side-plank (seen from the front): get in, "
        "hold, get out, with a scripted hip sag / drop and its true body line per frame. "
        "--kind bird-dog (seen from the side): on hands and knees, reps alternately reaching "
        "one leg back and the other arm forward, with the true arm and leg elevation per frame. "
        "--kind pallof-press (seen from the front): standing, pressing a cable handle forward "
        "from the chest against a side anchor, with the true elbow extension, hand distance, "
        "trunk rotation and lateral lean per frame. "
        "--kind forward-bend (seen from the side): unloaded standing forward bend with straight "
        "knees and hanging arms, scripted by --bend-hip, --bend-lumbar, --bend-thoracic and "
        "--lumbar-lead. "
        "--kind frog-squat (side view; --yaw 90 = front view): bodyweight deep squat, feet wide "
        "and turned out, knees out, hands together at the chest, scripted by --frog-depth, "
        "--frog-abduction, --frog-wink and --hold-top (the pause at the bottom).",
    )
    p.add_argument("out", type=Path, help="output video (.mp4)")
    p.add_argument("--json", type=Path, default=None, help="write per-frame true angles here")
    p.add_argument(
        "--kind", type=_kind, choices=KINDS, default=d.kind, help="movement (default %(default)s)"
    )
    p.add_argument("--reps", type=int, default=d.reps, help="number of reps (default %(default)s)")
    p.add_argument("--rep-seconds", type=float, default=d.rep_seconds, help="seconds per rep")
    p.add_argument("--pad-seconds", type=float, default=d.pad_seconds, help="standing before/after")
    p.add_argument("--body", choices=tuple(BODY_SHAPES), default=d.body, help="body shape")
    p.add_argument("--clothing", choices=tuple(CLOTHING_COLOURS), default=d.clothing)
    p.add_argument(
        "--shirt",
        choices=SHIRTS,
        default=d.shirt,
        help="loose: a shirt draped over the back, bridging its hollows (lifts)",
    )
    p.add_argument("--load", choices=LOADS, default=d.load, help="what the hands hold (hinges)")
    p.add_argument("--background", choices=BACKGROUNDS, default=d.background)
    p.add_argument(
        "--yaw",
        type=float,
        default=d.yaw_deg,
        help="camera yaw, 0 = true side view (Pallof press: 0 = front view)",
    )
    p.add_argument("--pitch", type=float, default=d.pitch_deg, help="camera pitch, + = from above")
    p.add_argument("--distance", type=float, default=d.distance_m, help="camera distance (m)")
    p.add_argument("--facing", choices=FACINGS, default=d.facing, help="lifter faces this way")
    p.add_argument("--width", type=int, default=d.width)
    p.add_argument("--height", type=int, default=d.height)
    p.add_argument("--fps", type=float, default=d.fps)
    p.add_argument("--seed", type=int, default=d.seed, help="seed for per-rep variation")
    p.add_argument("--no-vary", action="store_true", help="identical reps, exact peak angles")
    hold = p.add_argument_group("holds (plank, side-plank)")
    hold.add_argument(
        "--hold-seconds", type=float, default=d.hold_seconds, help="seconds of hold (1-120)"
    )
    hold.add_argument(
        "--sag",
        type=float,
        default=d.sag_deg,
        help="plank: hips this far below the shoulder-ankle line (deg, -30..30; - = pike)",
    )
    hold.add_argument(
        "--drop",
        type=float,
        default=d.drop_deg,
        help="side plank: hips this far towards the floor (deg, -20..30)",
    )
    hold.add_argument(
        "--fault-at",
        type=float,
        default=d.fault_at_s,
        help="seconds into the hold the sag/drop starts ramping in (default %(default)s)",
    )
    hold.add_argument(
        "--side",
        choices=SIDES,
        default=None,
        help="side plank: the side on the floor; bird dog: the leg raised on the first rep "
        "(default left); Pallof press: the cable anchor's side (default right)",
    )
    dog = p.add_argument_group("bird dog (also --reps, --rep-seconds, --side)")
    dog.add_argument(
        "--hold-top",
        type=float,
        default=d.hold_top_s,
        help="bird dog, Pallof press: seconds held at the top of each rep (0-10, default "
        "%(default)s)",
    )
    dog.add_argument(
        "--arm-deg",
        type=float,
        default=d.arm_deg,
        help="arm above the trunk line at the top (deg, -30..30, default %(default)s = level)",
    )
    dog.add_argument(
        "--leg-deg",
        type=float,
        default=d.leg_deg,
        help="leg above the trunk line at the top (deg, -10..40, default %(default)s = level)",
    )
    dog.add_argument(
        "--lumbar-ext",
        type=float,
        default=d.lumbar_ext_deg,
        help="fault: lumbar extension reached at the top (deg, 0..25, default %(default)s)",
    )
    pallof = p.add_argument_group(
        "Pallof press (also --reps, --rep-seconds, --hold-top, --side = anchor side)"
    )
    pallof.add_argument(
        "--rotation",
        type=float,
        default=d.rotation_deg,
        help="fault: trunk rotation towards the anchor at full press (deg, -30..30, default "
        "%(default)s)",
    )
    pallof.add_argument(
        "--lean",
        type=float,
        default=d.lean_deg,
        help="fault: lateral lean towards the anchor at full press (deg, -20..20, default "
        "%(default)s)",
    )
    bend = p.add_argument_group("forward bend (also --reps, --rep-seconds; no load)")
    bend.add_argument(
        "--bend-hip",
        type=float,
        default=d.bend_hip_deg,
        help="hip flexion at the bottom (deg, 0..110, default %(default)s)",
    )
    bend.add_argument(
        "--bend-lumbar",
        type=float,
        default=d.bend_lumbar_deg,
        help="lumbar flexion at the bottom (deg, -10..60, default %(default)s)",
    )
    bend.add_argument(
        "--bend-thoracic",
        type=float,
        default=d.bend_thoracic_deg,
        help="thoracic flexion at the bottom (deg, 0..30, default %(default)s)",
    )
    bend.add_argument(
        "--lumbar-lead",
        type=float,
        default=d.lumbar_lead,
        help="lumbar flexion follows depth ** (1 / this) while the hip follows depth: > 1 = the "
        "lower back bends early, the hips late (0.3..3, default %(default)s)",
    )
    frog = p.add_argument_group(
        "frog squat (also --reps, --rep-seconds, --hold-top = pause at the bottom, --yaw 90 = "
        "front view)"
    )
    frog.add_argument(
        "--frog-depth",
        type=float,
        default=d.frog_depth_deg,
        help="hip flexion at the bottom (deg, 20..140, default %(default)s)",
    )
    frog.add_argument(
        "--frog-abduction",
        type=float,
        default=d.frog_abduction_deg,
        help="hip abduction of each thigh at the bottom (deg, 0..60, default %(default)s)",
    )
    frog.add_argument(
        "--frog-wink",
        type=float,
        default=d.frog_wink_deg,
        help="fault: extra lumbar flexion at the bottom, ramping in over the last 30%% of the "
        "depth (deg, 0..30, default %(default)s)",
    )
    hydrant = p.add_argument_group(
        "fire hydrant, on hands and knees, filmed from behind (also --reps, --rep-seconds, "
        "--hold-top, --side = the leg lifted in the first ceil(reps / 2) reps)"
    )
    hydrant.add_argument(
        "--hydrant-view",
        choices=HYDRANT_VIEWS,
        default=d.hydrant_view,
        help="camera behind the lifter (looking down 20 deg more than --pitch) or in front "
        "(--yaw counted from it; default %(default)s)",
    )
    hydrant.add_argument(
        "--hydrant-abduction",
        type=float,
        default=d.hydrant_abduction_deg,
        help="thigh out from vertical at the top (deg, 0..80, default %(default)s)",
    )
    hydrant.add_argument(
        "--hydrant-hike",
        type=float,
        default=d.hydrant_hike_deg,
        help="fault: pelvis roll lifting the working hip at the top (deg, 0..30, default "
        "%(default)s)",
    )
    hydrant.add_argument(
        "--hydrant-lean",
        type=float,
        default=d.hydrant_lean_deg,
        help="fault: shoulder-line roll away from the leg at the top (deg, 0..30, default "
        "%(default)s)",
    )
    ninety = p.add_argument_group(
        "90/90 hip switch (--kind 90-90 / ninety-ninety), sitting on the floor, filmed from the "
        "front (--yaw 0 = front view); also --reps (switches, 1..10), --rep-seconds (one "
        "switch), --hold-top (settled after each switch), --side = the leg in front at the start"
    )
    ninety.add_argument(
        "--ninety-er",
        type=float,
        default=d.ninety_er_deg,
        help="external rotation of the front hip (deg, 0..90, default %(default)s)",
    )
    ninety.add_argument(
        "--ninety-ir",
        type=float,
        default=d.ninety_ir_deg,
        help="internal rotation of the back hip (deg, 0..90, default %(default)s)",
    )
    ninety.add_argument(
        "--ninety-lean",
        type=float,
        default=d.ninety_lean_deg,
        help="trunk leaning back from vertical (deg, 0..30, default %(default)s)",
    )
    p.set_defaults(func=run_synth)
    return p


def spec_from_args(args: argparse.Namespace) -> SynthSpec:
    """Build a validated SynthSpec from parsed arguments."""
    return SynthSpec(
        kind=args.kind,
        reps=args.reps,
        rep_seconds=args.rep_seconds,
        pad_seconds=args.pad_seconds,
        body=args.body,
        clothing=args.clothing,
        shirt=args.shirt,
        load=args.load,
        background=args.background,
        yaw_deg=args.yaw,
        pitch_deg=args.pitch,
        distance_m=args.distance,
        facing=args.facing,
        width=args.width,
        height=args.height,
        fps=args.fps,
        seed=args.seed,
        vary=not args.no_vary,
        hold_seconds=args.hold_seconds,
        sag_deg=args.sag,
        drop_deg=args.drop,
        fault_at_s=args.fault_at,
        side=args.side,
        hold_top_s=args.hold_top,
        arm_deg=args.arm_deg,
        leg_deg=args.leg_deg,
        lumbar_ext_deg=args.lumbar_ext,
        rotation_deg=args.rotation,
        lean_deg=args.lean,
        bend_hip_deg=args.bend_hip,
        bend_lumbar_deg=args.bend_lumbar,
        bend_thoracic_deg=args.bend_thoracic,
        lumbar_lead=args.lumbar_lead,
        ninety_er_deg=args.ninety_er,
        ninety_ir_deg=args.ninety_ir,
        ninety_lean_deg=args.ninety_lean,
        hydrant_view=args.hydrant_view,
        hydrant_abduction_deg=args.hydrant_abduction,
        hydrant_hike_deg=args.hydrant_hike,
        hydrant_lean_deg=args.hydrant_lean,
        frog_depth_deg=args.frog_depth,
        frog_abduction_deg=args.frog_abduction,
        frog_wink_deg=args.frog_wink,
    )


def run_synth(args: argparse.Namespace) -> int:
    """Render the clip described by args; print a one-line summary."""
    try:
        spec = spec_from_args(args)
        start = time.perf_counter()
        result = render_clip(spec, args.out, args.json)
    except FormcheckError as exc:
        print(f"formcheck synth: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"formcheck synth: cannot write output: {exc}", file=sys.stderr)
        return 2
    took = time.perf_counter() - start
    if spec.is_hold:
        key = "hip_drop_deg" if spec.kind == "side_plank" else "hip_sag_deg"
        held = [f for f in result.frames if f["holding"]]
        worst = max(held, key=lambda f: abs(f[key])) if held else result.frames[0]
        print(
            f"{result.mp4}: {result.frame_count} frames, {spec.kind}, hold "
            f"{spec.hold_start_s:.1f}-{spec.hold_end_s:.1f} s, largest {key[:-4]} "
            f"{worst[key]:.1f} deg (body line {worst['body_line_deg']:.1f} deg) ({took:.1f} s)"
        )
        return 0
    if spec.is_bird_dog:
        top = [f for f in result.frames if f["at_top"]] or result.frames
        reps = {f["rep"]: f["reaching_side"] for f in top if f["rep"]}
        sides = ", ".join(reps.values()) if reps else "-"
        print(
            f"{result.mp4}: {result.frame_count} frames, {spec.kind}, {spec.reps} reps "
            f"(legs {sides}), top arm elevation {top[0]['arm_elevation_deg'] + 0.0:.1f} deg, leg "
            f"elevation {top[0]['leg_elevation_deg'] + 0.0:.1f} deg, lumbar extension "
            f"{max(f['lumbar_extension_deg'] for f in result.frames):.1f} deg ({took:.1f} s)"
        )
        return 0
    if spec.is_pallof_press:
        top = [f for f in result.frames if f["at_top"]] or result.frames
        print(
            f"{result.mp4}: {result.frame_count} frames, {spec.kind}, {spec.reps} reps (anchor "
            f"{spec.side}), top elbow extension {top[0]['elbow_extension_deg']:.1f} deg, hands "
            f"{top[0]['hand_distance_m']:.2f} m from the sternum, trunk rotation "
            f"{top[0]['trunk_rotation_deg'] + 0.0:.1f} deg, lateral lean "
            f"{top[0]['lateral_lean_deg'] + 0.0:.1f} deg ({took:.1f} s)"
        )
        return 0
    if spec.is_frog_squat:
        low = [f for f in result.frames if f["at_bottom"]] or result.frames
        deep = max(low, key=lambda f: f["hip_flexion_deg"])
        print(
            f"{result.mp4}: {result.frame_count} frames, {spec.kind}, {spec.reps} reps (yaw "
            f"{spec.yaw_deg:g}), bottom hip flexion {deep['hip_flexion_deg']:.1f} deg, abduction "
            f"{deep['hip_abduction_deg']['right']:.1f} deg, knee spread "
            f"{deep['knee_spread_ratio']:.2f} x hip width, lumbar flexion "
            f"{deep['lumbar_flexion_deg']:.1f} deg ({took:.1f} s)"
        )
        return 0
    if spec.is_fire_hydrant:
        top = [f for f in result.frames if f["at_top"]] or result.frames
        counts = {s: len({f["rep"] for f in top if f["working_side"] == s}) for s in SIDES}
        first = top[0]
        print(
            f"{result.mp4}: {result.frame_count} frames, {spec.kind}, {spec.reps} reps "
            f"({counts['left']} left, {counts['right']} right; from the {spec.hydrant_view}), "
            f"top hip abduction {first['hip_abduction_deg'][first['working_side']]:.1f} deg, "
            f"pelvis tilt {first['pelvis_tilt_deg'] + 0.0:.1f} deg, trunk lean "
            f"{first['trunk_lean_deg'] + 0.0:.1f} deg ({took:.1f} s)"
        )
        return 0
    if spec.is_ninety_ninety:
        settled = [f for f in result.frames if not f["switching"]] or result.frames
        fronts = [f["front_side"] for f in settled]
        order = [s for i, s in enumerate(fronts) if i == 0 or s != fronts[i - 1]]
        first = settled[0]
        front, back = first["front_side"], "right" if first["front_side"] == "left" else "left"
        switches = f"{spec.reps} switch" + ("es" if spec.reps > 1 else "")
        print(
            f"{result.mp4}: {result.frame_count} frames, {spec.kind}, {switches} "
            f"(front leg {' -> '.join(order)}), front hip rotation "
            f"{first['hip_rotation_deg'][front] + 0.0:.1f} deg, back hip rotation "
            f"{first['hip_rotation_deg'][back] + 0.0:.1f} deg (+ = external), trunk lean "
            f"{first['trunk_lean_deg'] + 0.0:.1f} deg ({took:.1f} s)"
        )
        return 0
    if spec.is_forward_bend:
        print(
            f"{result.mp4}: {result.frame_count} frames, {spec.kind}, {spec.reps} reps, peak hip "
            f"flexion {result.peak('hip_flexion_deg'):.1f} deg, lumbar flexion "
            f"{result.peak('lumbar_flexion_deg'):.1f} deg (lead {spec.lumbar_lead:g}), trunk "
            f"inclination {result.peak('trunk_inclination_deg'):.1f} deg ({took:.1f} s)"
        )
        return 0
    print(
        f"{result.mp4}: {result.frame_count} frames, {spec.kind}, peak hip flexion "
        f"{result.peak('hip_flexion_deg'):.1f} deg, peak lumbar flexion "
        f"{result.peak('lumbar_flexion_deg'):.1f} deg ({took:.1f} s)"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry: `python -m formcheck.synth.cli OUT.mp4 ...`."""
    parser = argparse.ArgumentParser(prog="formcheck")
    sub = parser.add_subparsers(dest="command", required=True)
    add_synth_parser(sub)
    args = parser.parse_args(["synth", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
