"""`formcheck batch` on the command line: its options, its run and the final table.

In:  the parsed arguments (inputs, --out, --engine, --address, --workers, --video, --upload and
     the analysis options shared with `analyze`).
Out: `run_batch` run with them, one line per clip and a count printed; the exit code (0 if any
     clip succeeded or was already done, 2 if none, 130 when interrupted).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from .batch import VIDEO_EXTENSIONS, BatchError, BatchOptions, Clip, run_batch
from .posemodels import resolve


def _print_table(clips: list[Clip], out_dir: Path, seconds: float) -> None:
    width = min(60, max((len(str(c.path)) for c in clips), default=4))
    for c in clips:
        r = c.row
        if c.status == "failed":
            what = c.error or ""
        else:
            peak = r.get("peak_lumbar_flexion_deg")
            what = f"{r.get('exercise')}, {r.get('rep_count')} rep(s), {r.get('verdict')}" + (
                "" if peak is None else f", peak lumbar {peak:.0f} deg"
            )
        print(f"{c.status:8s} {str(c.path):{width}s}  {what}")
    n = {s: sum(c.status == s for c in clips) for s in ("ok", "failed", "skipped")}
    print(
        f"{len(clips)} clip(s): {n['ok']} ok, {n['failed']} failed, {n['skipped']} skipped "
        f"(already done) in {seconds:.0f} s; summary in {out_dir / 'summary.csv'}"
    )


def cmd_batch(args) -> int:
    analysis = {
        "exercise": args.exercise,
        "height_cm": args.height_cm,
        "pose_hz": args.pose_hz or None,
        # The model that runs, not "auto": a later install changes what "auto" means.
        "model": resolve(args.model, "offline"),
    }
    if args.workers is not None and args.workers < 1:
        raise BatchError("--workers must be 1 or more")
    opts = BatchOptions(
        out=Path(args.out),
        engine=args.engine,
        workers=args.workers,
        address=args.address,
        video=args.video,
        upload=args.upload,
        verbose=getattr(args, "verbose", False),
        analysis=analysis,
    )
    start = time.perf_counter()
    clips, interrupted = run_batch(args.inputs, opts)
    _print_table(clips, opts.out, time.perf_counter() - start)
    if interrupted:
        print("formcheck: interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    return 0 if any(c.status in ("ok", "skipped") for c in clips) else 2


def add_batch_parser(sub, common) -> None:
    """`formcheck batch`: `common(parser)` adds the analysis options shared with `analyze`."""
    b = sub.add_parser(
        "batch",
        help="analyse many clips (files, folders, globs) into a folder, resumably",
        description="Analyse every clip of the inputs (files, folders searched recursively for "
        f"{' '.join(e[1:] for e in VIDEO_EXTENSIONS)} files, glob patterns) and write, in --out, "
        "each clip's report JSON and angles CSV (and annotated MP4 with --video), summary.csv "
        "and reps.csv. Clips already analysed with the same options are skipped.",
    )
    b.add_argument("inputs", nargs="+", metavar="INPUT")
    b.add_argument("--out", required=True, metavar="DIR", help="output folder")
    b.add_argument("--engine", choices=("local", "ray"), default="local")
    b.add_argument("--address", default=None, help="Ray cluster to join (HOST:PORT)")
    b.add_argument(
        "--workers",
        type=int,
        default=None,
        help="clips analysed at once (default: the CPU count; with Ray: the cluster's CPUs)",
    )
    b.add_argument("--video", action="store_true", help="also write annotated MP4s")
    b.add_argument(
        "--upload",
        action="store_true",
        help="Ray: send the clips' bytes through the object store (no shared filesystem)",
    )
    common(b)
    b.set_defaults(func=cmd_batch)
