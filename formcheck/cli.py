"""Command line: `formcheck analyze`, `formcheck batch`, `formcheck synth`, `formcheck serve`,
`formcheck live`.

Bad input prints one line on stderr and exits 2; never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import suppress
from importlib.metadata import entry_points
from pathlib import Path

from . import exercises
from .batch_cli import add_batch_parser
from .errors import FormcheckError, InputError
from .keyframes import POSE_HZ
from .live_cli import add_parser as add_live_parser
from .native_logs import silence_native_logs
from .outputs import check_outputs, staged
from .posemodels import CHOICES
from .synth.cli import add_synth_parser
from .writers import WRITERS

COMMANDS_GROUP = "formcheck.commands"


def _outputs(arg: str | None, video: Path, many: bool, suffix: str) -> Path | None:
    """With one video, the path as given; with several, a folder holding <stem><suffix>."""
    if not arg:
        return None
    if not many:
        return Path(arg)
    folder = Path(arg)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{video.stem}{suffix}"


def _check_readable(video: Path) -> None:
    """InputError when the input exists but cannot be opened for reading."""
    if not video.is_file():
        return  # missing files and folders get their own message from the video reader
    try:
        with video.open("rb") as fh:
            fh.read(1)
    except OSError as exc:
        raise InputError(
            f"{video.name}: cannot read it ({exc.strerror or exc}). Check its permissions."
        ) from exc


def _analyze_one(video: Path, args, inputs: list[Path], console) -> int:
    many = len(inputs) > 1
    outputs = {
        name: _outputs(getattr(args, name), video, many, writer.suffix)
        for name, writer in WRITERS.items()
    }
    _check_readable(video)
    check_outputs(outputs, inputs, video)
    with staged(outputs) as temps:
        _run_analysis(video, args, temps, console)
    return 0


def _run_analysis(video: Path, args, temps: dict[str, Path | None], console) -> None:
    from .pipeline import AnalysisOptions, analyze_video
    from .report import human_summary

    opts = AnalysisOptions(
        exercise=args.exercise,
        height_cm=args.height_cm,
        pose_hz=args.pose_hz or None,
        model=args.model,
    )
    if console is None:
        report = analyze_video(video, opts, outputs=temps)
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

            report = analyze_video(video, opts, progress=progress, outputs=temps)
    print(human_summary(video.name, report))


def cmd_analyze(args) -> int:
    console = None
    if sys.stderr.isatty():
        from rich.console import Console

        console = Console(stderr=True)
    videos = [Path(v) for v in args.videos]
    status = 0
    for video in videos:
        try:
            _analyze_one(video, args, videos, console)
        except FormcheckError as exc:
            print(f"formcheck: {exc}", file=sys.stderr)
            status = 2
        except OSError as exc:
            failed = Path(exc.filename) if exc.filename else None
            if failed is not None and failed.absolute() == video.absolute():
                what = "cannot read it"
            else:
                what = "cannot write output"
            reason = f"{exc.strerror or exc}" + (f": {failed.name}" if failed else "")
            print(f"formcheck: {video.name}: {what} ({reason})", file=sys.stderr)
            status = 2
        except KeyboardInterrupt:
            print("formcheck: interrupted", file=sys.stderr)
            return 130
    return status


def cmd_models(args) -> int:
    """`formcheck models status | install`: the pose models and their checksums."""
    from . import posemodels

    if args.action == "install":
        tarball = Path(args.from_file) if args.from_file else None
        for name, state in posemodels.install(tuple(args.only), tarball=tarball):
            print(f"{name}: {state}")
        return 0
    bad = 0
    for s in posemodels.status():
        print(f"{s.name:6s} {s.state:10s} {s.path}")
        bad += s.state == "damaged"
    return 2 if bad else 0


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {text}")
    return value


def add_analysis_options(parser: argparse.ArgumentParser) -> None:
    """The analysis options of `analyze` and `batch`: exercise, height, pose rate, model."""
    parser.add_argument("--exercise", default="auto", choices=exercises.choices())
    parser.add_argument(
        "--height-cm", type=float, default=None, help="lifter's height, for cm read-outs"
    )
    parser.add_argument(
        "--pose-hz",
        type=_non_negative,
        default=POSE_HZ,
        help=f"pose inference rate; faster clips are interpolated between (default {POSE_HZ:g}, "
        "0 = every frame)",
    )
    parser.add_argument(
        "--model",
        default="auto",
        choices=CHOICES,
        help="BlazePose model (default auto: the one measured best for offline analysis, Full "
        "when it is not installed; full ships with mediapipe, lite and heavy need "
        "`formcheck models install`)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="formcheck",
        description="Lift form checker: lumbar flexion separated from hip flexion.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    a = sub.add_parser("analyze", help="analyse lift videos and write a report")
    a.add_argument("videos", nargs="+", metavar="VIDEO")
    for writer in WRITERS.values():
        a.add_argument(
            f"--{writer.name}", metavar="F", help=f"{writer.help} (a folder when several videos)"
        )
    add_analysis_options(a)
    a.set_defaults(func=cmd_analyze)
    add_batch_parser(sub, add_analysis_options)

    m = sub.add_parser(
        "models",
        help="show or install the pose models (lite and heavy come from npm)",
        description="Pose models: `status` lists them with their checksums; `install` fetches "
        "Lite and Heavy with `npm pack @mediapipe/pose`, checks them and puts them beside Full.",
    )
    m.add_argument("action", choices=("status", "install"))
    m.add_argument("--only", nargs="+", default=["lite", "heavy"], choices=("lite", "heavy"))
    m.add_argument(
        "--from", dest="from_file", metavar="TGZ", help="install from this npm package tarball"
    )
    m.set_defaults(func=cmd_models)

    add_synth_parser(sub)
    add_live_parser(sub)
    # Commands of other installed packages (the server's `serve`), declared as entry points in
    # their pyproject.toml: the library never imports them by name.
    for entry in entry_points(group=COMMANDS_GROUP):
        with suppress(ImportError):  # that package's dependencies are not installed
            entry.load()(sub)
    for command in sub.choices.values():
        add_verbose_option(command)
    return parser


def add_verbose_option(parser: argparse.ArgumentParser) -> None:
    """`--verbose`: let MediaPipe's and TensorFlow Lite's own log lines through to stderr."""
    if any("--verbose" in action.option_strings for action in parser._actions):
        return
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="also show the log lines of MediaPipe and TensorFlow Lite (hidden by default)",
    )


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "verbose", False):
        silence_native_logs()
    try:
        return int(args.func(args) or 0)
    except FormcheckError as exc:
        print(f"formcheck: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
