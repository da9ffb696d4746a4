"""Command line: `formcheck analyze`, `formcheck synth`, `formcheck serve`, `formcheck live`.

Bad input prints one line on stderr and exits 2; never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import FormcheckError
from .exercise import EXERCISES
from .keyframes import POSE_HZ


def _outputs(arg: str | None, video: Path, many: bool, suffix: str) -> Path | None:
    """With one video, the path as given; with several, a folder holding <stem><suffix>."""
    if not arg:
        return None
    if not many:
        return Path(arg)
    folder = Path(arg)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{video.stem}{suffix}"


def _analyze_one(video: Path, args, many: bool, console) -> int:
    from .pipeline import AnalysisOptions, analyze_video
    from .report import human_summary

    opts = AnalysisOptions(
        exercise=args.exercise, height_cm=args.height_cm, pose_hz=args.pose_hz or None
    )
    paths = {
        "json_path": _outputs(args.json, video, many, ".json"),
        "csv_path": _outputs(args.csv, video, many, ".csv"),
        "video_path": _outputs(args.video, video, many, ".annotated.mp4"),
    }
    if console is None:
        report = analyze_video(video, opts, **paths)
    else:
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} frames"),
            TextColumn("{task.fields[fps]:.0f} fps"),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task(video.name, total=None, fps=0.0)

            def progress(done: int, total: int) -> None:
                elapsed = bar.tasks[0].elapsed or 1e-6
                bar.update(task, completed=done, total=total, fps=done / elapsed)

            report = analyze_video(video, opts, progress=progress, **paths)
    print(human_summary(video.name, report))
    return 0


def cmd_analyze(args) -> int:
    console = None
    if sys.stderr.isatty():
        from rich.console import Console

        console = Console(stderr=True)
    videos = [Path(v) for v in args.videos]
    many = len(videos) > 1
    status = 0
    for video in videos:
        try:
            _analyze_one(video, args, many, console)
        except FormcheckError as exc:
            print(f"formcheck: {exc}", file=sys.stderr)
            status = 2
        except OSError as exc:
            print(f"formcheck: {video.name}: cannot write output: {exc}", file=sys.stderr)
            status = 2
        except KeyboardInterrupt:
            print("formcheck: interrupted", file=sys.stderr)
            return 130
    return status


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="formcheck",
        description="Lift form checker: lumbar flexion separated from hip flexion.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    a = sub.add_parser("analyze", help="analyse lift videos and write a report")
    a.add_argument("videos", nargs="+", metavar="VIDEO")
    a.add_argument("--json", metavar="F", help="report JSON (a folder when several videos)")
    a.add_argument("--csv", metavar="F", help="per-frame angles CSV (a folder when several videos)")
    a.add_argument("--video", metavar="F", help="annotated MP4 (a folder when several videos)")
    a.add_argument("--exercise", default="auto", choices=("auto", *EXERCISES))
    a.add_argument(
        "--height-cm", type=float, default=None, help="lifter's height, for cm read-outs"
    )
    a.add_argument(
        "--pose-hz",
        type=_non_negative,
        default=POSE_HZ,
        help=f"pose inference rate; faster clips are interpolated between (default {POSE_HZ:g}, "
        "0 = every frame)",
    )
    a.set_defaults(func=cmd_analyze)

    try:
        from .synth.cli import add_synth_parser

        add_synth_parser(sub)
    except ImportError:
        pass
    try:
        from server.cli import add_serve_parser

        add_serve_parser(sub)
    except ImportError:
        pass
    try:
        from .live import add_live_parser

        add_live_parser(sub)
    except ImportError:
        pass
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except FormcheckError as exc:
        print(f"formcheck: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
