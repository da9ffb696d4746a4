"""Synthetic lifters with known angles: an articulated mannequin rendered from a side camera.

In:  a `SynthSpec` (trajectory kind, reps, body shape, camera, size, seed).
Out: frames (`render_frame`), true angles (`true_angles`) and whole clips as H.264 MP4 plus
     per-frame ground-truth JSON (`render_clip`).
"""

from formcheck.synth.clip import FrameLayers, render_clip, render_frame, render_layers, true_angles
from formcheck.synth.spec import BODY_SHAPES, KINDS, SynthResult, SynthSpec

__all__ = [
    "BODY_SHAPES",
    "KINDS",
    "FrameLayers",
    "SynthResult",
    "SynthSpec",
    "render_clip",
    "render_frame",
    "render_layers",
    "true_angles",
]
