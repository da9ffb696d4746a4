"""`formcheck live`: a live session from a camera, or a video file replayed as if live.

In:  --camera N or --source FILE, --exercise, --height-cm, --no-window, --realtime.
Out: cues printed as they are given (time, severity, text), the overlay in an OpenCV window
     unless --no-window, and at the end the set summary and one line per rep. Exit code 0; bad
     input raises `FormcheckError`, which the CLI prints as one line (exit 2).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from . import exercises
from .cues import Cue
from .errors import InputError
from .live import LiveConfig, LiveFrame, LiveSession
from .overlay import OverlayState, annotate
from .sources import open_source

BANNER_S = 2.5  # how long a cue stays on the overlay


def add_parser(subparsers) -> None:
    """Add `formcheck live --camera N | --source FILE [--no-window] [--exercise E]`."""
    p = subparsers.add_parser(
        "live",
        help="coach a lift live from a camera (or replay a file as if live)",
        description="Live coaching: overlay in a window and cues printed as they are given.",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--camera", type=int, metavar="N", help="camera index (0 = first camera)")
    src.add_argument("--source", metavar="FILE", help="a video file replayed as if live")
    p.add_argument("--no-window", action="store_true", help="print cues only, no overlay window")
    p.add_argument("--exercise", default="auto", choices=exercises.live_choices())
    p.add_argument("--height-cm", type=float, default=None)
    p.add_argument(
        "--model",
        default="auto",
        choices=("lite", "full", "heavy", "auto"),
        help="BlazePose model (default auto: the one measured best for live coaching)",
    )
    p.add_argument(
        "--realtime",
        action="store_true",
        help="replay a file at its own speed (default with a window)",
    )
    p.set_defaults(func=run_live)


def run_live(args) -> int:
    """Run a session over a camera or a file, print cues, show the overlay unless --no-window."""
    window = not args.no_window
    if window and sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
        raise InputError("no display for the overlay window; add --no-window to print cues only")
    spec = args.camera if args.camera is not None else Path(args.source)
    source = open_source(spec, max_side=1280)
    pace = args.camera is None and (window or args.realtime)
    config = LiveConfig(exercise=args.exercise, height_cm=args.height_cm, model=args.model)
    print(f"formcheck live: {source.info.path} (Ctrl-C stops)", flush=True)
    t0 = time.monotonic()
    shown: tuple[float, Cue] | None = None
    try:
        with LiveSession(config) as session:
            try:
                for frame in source:
                    if pace and (ahead := frame.t - (time.monotonic() - t0)) > 0:
                        time.sleep(ahead)
                    out = session.process(frame.image, frame.t)
                    for cue in out.cues:
                        print(f"{out.t:7.2f} s  [{cue.severity}] {cue.text}", flush=True)
                        shown = (out.t, cue)
                    if window and not _show(frame.image, out, shown):
                        break
            except KeyboardInterrupt:
                pass
            summary = session.finish()
    finally:
        source.close()
        if window:
            cv2.destroyAllWindows()
    for cue in summary["cues"]:
        print(f"[{cue['severity']}] {cue['text']}")
    for hold in summary.get("holds", []):
        print(
            f"  hold {hold['index']}{' (' + hold['side'] + ' side)' if hold['side'] else ''}: "
            f"{hold['start_s']:.1f}-{hold['end_s']:.1f} s  held "
            f"{hold['held_s']:.1f} s, {hold['good_form_s']:.1f} s in good form"
        )
    for rep in summary["reps"]:
        state = "ROUNDED" if rep["rounding"] else "ok"
        lumbar = rep["max_lumbar_flexion_deg"]
        text = "--" if lumbar is None else f"{lumbar:.0f} deg"
        print(
            f"  rep {rep['index']}: {rep['start_s']:.1f}-{rep['end_s']:.1f} s  lumbar {text}  {state}"
        )
    return 0


def _show(image: np.ndarray, out: LiveFrame, shown: tuple[float, Cue] | None) -> bool:
    """Draw the overlay in a window; False when the user closes it (q or Esc)."""
    cue = shown[1] if shown is not None and out.t - shown[0] <= BANNER_S else None
    state = OverlayState(
        rep_count=out.rep_count,
        phase=out.phase,
        banners=[cue.text.replace("—", "-").replace("°", " deg")] if cue else [],
        rounding=cue is not None and cue.code == "rounding",
    )
    drawn = annotate(image, out.angles, state)
    try:
        cv2.imshow("formcheck live", cv2.cvtColor(drawn, cv2.COLOR_RGB2BGR))
    except cv2.error as exc:
        raise InputError(
            "cannot open the overlay window; add --no-window to print cues only"
        ) from exc
    return cv2.waitKey(1) & 0xFF not in (ord("q"), 27)
