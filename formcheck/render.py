"""Overlay video stage: the original clip with the analysis drawn on it, as browser-playable MP4.

In:  the source video, an `Analysis`, the rounding rule.
Out: an H.264 yuv420p MP4 with the same frames: skeleton, back outline coloured by lumbar
     flexion, angle read-outs, rep counter and finding banners.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .overlay import OverlayState, annotate
from .sink import VideoSink
from .video import VideoSource


def render_annotated(
    src: str | Path,
    analysis,
    out: str | Path,
    rule,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Second decoding pass; returns the number of frames written."""
    frames = analysis.frames
    findings = [f for a in analysis.reps for f in a.findings if f.severity != "info"]
    findings += [f for f in analysis.set_findings]
    info = analysis.info
    written = 0
    with VideoSink(out, info.width, info.height, info.fps or 30.0) as sink:
        for i, frame in enumerate(VideoSource(src)):
            if i >= len(frames):
                break
            fa = frames[i]
            done = sum(1 for a in analysis.reps if a.rep.start_s <= fa.t)  # current rep's number
            active = [f for f in findings if f.start_s - 0.3 <= fa.t <= f.end_s + 1.0]
            state = OverlayState(
                rep_count=done,
                phase=analysis.phases[i],
                banners=[f.message for f in active][:2],
                rounding=any(f.code == "lumbar_rounding" for f in active),
            )
            img = annotate(
                frame.image,
                fa,
                state,
                lumbar_warn_deg=rule.warn_deg,
                lumbar_bad_deg=rule.threshold_deg,
            )
            sink.write(img, fa.t)
            written += 1
            if progress is not None and i % 10 == 0:
                progress(i + 1, len(frames))
    return written
