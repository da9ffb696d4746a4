"""Annotated frames: skeleton, back outline, angle read-outs, rep counter and finding banners.

In:  an RGB uint8 frame, the frame's `FrameAngles` (or None) and an `OverlayState`.
Out: a new RGB uint8 frame with the annotations drawn (the input is not modified).
Sizes scale with the frame, so the overlay reads on 360p and 1080p alike. Text is ASCII only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from formcheck.angles import FrameAngles
from formcheck.pose import SKELETON_EDGES

RGB = tuple[int, int, int]

GREEN: RGB = (40, 200, 70)
AMBER: RGB = (255, 176, 0)
RED: RGB = (230, 40, 40)
GREY: RGB = (150, 150, 150)
WHITE: RGB = (255, 255, 255)
DARK: RGB = (20, 20, 20)
SKELETON: RGB = (120, 200, 255)

VISIBLE = 0.5
FONT = cv2.FONT_HERSHEY_SIMPLEX

READOUTS: tuple[tuple[str, str], ...] = (
    ("Hip flexion", "hip_flexion_deg"),
    ("Lumbar flexion", "lumbar_flexion_deg"),
    ("Thoracic flexion", "thoracic_flexion_deg"),
    ("Knee flexion", "knee_flexion_deg"),
)


@dataclass
class OverlayState:
    """What the overlay shows besides the angles of the frame."""

    rep_count: int = 0
    phase: str | None = None
    banners: list[str] = field(default_factory=list)
    rounding: bool = False


def lumbar_colour(value: float | None, warn: float = 10.0, bad: float = 15.0) -> RGB:
    """Traffic-light colour (RGB) for a lumbar flexion value: green, amber, red; grey for None."""
    if value is None or not np.isfinite(value):
        return GREY
    if value < warn:
        return GREEN
    if value <= bad:
        return AMBER
    return RED


def format_angle(value: float | None) -> str:
    """Rounded whole degrees, '--' when unknown."""
    if value is None or not np.isfinite(value):
        return "--"
    return f"{round(value):d} deg"


@dataclass
class _Scale:
    """Line widths and font sizes for one frame size (unit = 1 at 720 px short side)."""

    unit: float

    @classmethod
    def for_image(cls, image: np.ndarray) -> _Scale:
        return cls(max(0.4, min(image.shape[:2]) / 720.0))

    def px(self, value: float) -> int:
        return max(1, round(value * self.unit))

    @property
    def font(self) -> float:
        return 0.7 * self.unit

    @property
    def text_thickness(self) -> int:
        return max(1, round(1.6 * self.unit))


def annotate(
    image: np.ndarray,
    angles: FrameAngles | None,
    state: OverlayState,
    *,
    lumbar_warn_deg: float = 10.0,
    lumbar_bad_deg: float = 15.0,
) -> np.ndarray:
    """Draw the overlay on a copy of `image` (RGB uint8) and return it."""
    out = np.ascontiguousarray(image, dtype=np.uint8).copy()
    scale = _Scale.for_image(out)
    lumbar = angles.lumbar_flexion_deg if angles is not None else None
    colour = lumbar_colour(lumbar, lumbar_warn_deg, lumbar_bad_deg)
    if angles is not None and angles.landmarks is not None:
        _draw_skeleton(out, np.asarray(angles.landmarks, dtype=np.float64), scale)
    if angles is not None and angles.back_outline is not None:
        _draw_outline(out, np.asarray(angles.back_outline, dtype=np.float64), colour, scale)
    _draw_panel(out, angles, colour, scale)
    _draw_rep(out, state, scale)
    if state.rounding:
        cv2.rectangle(out, (0, 0), (out.shape[1] - 1, out.shape[0] - 1), RED, scale.px(8))
    _draw_banners(out, state.banners, scale)
    return out


def _draw_skeleton(out: np.ndarray, landmarks: np.ndarray, scale: _Scale) -> None:
    if landmarks.ndim != 2 or landmarks.shape[1] < 2:
        return
    vis = landmarks[:, 2] if landmarks.shape[1] > 2 else np.ones(len(landmarks))
    ok = (vis >= VISIBLE) & np.isfinite(landmarks[:, :2]).all(axis=1)
    pts = np.round(np.nan_to_num(landmarks[:, :2])).astype(np.int32)
    width = scale.px(3)
    for a, b in SKELETON_EDGES:
        if a < len(pts) and b < len(pts) and ok[a] and ok[b]:
            cv2.line(out, tuple(pts[a]), tuple(pts[b]), SKELETON, width, cv2.LINE_AA)
    for i in np.flatnonzero(ok):
        cv2.circle(out, tuple(pts[i]), scale.px(5), WHITE, -1, cv2.LINE_AA)
        cv2.circle(out, tuple(pts[i]), scale.px(5), DARK, max(1, scale.px(1)), cv2.LINE_AA)


def _draw_outline(out: np.ndarray, outline: np.ndarray, colour: RGB, scale: _Scale) -> None:
    if outline.ndim != 2 or outline.shape[0] < 2:
        return
    outline = outline[np.isfinite(outline[:, :2]).all(axis=1), :2]
    if len(outline) < 2:
        return
    pts = np.round(outline).astype(np.int32).reshape(-1, 1, 2)
    width = scale.px(8)
    # A dark edge under the coloured stroke keeps it readable on any background.
    cv2.polylines(out, [pts], False, DARK, width + scale.px(4), cv2.LINE_AA)
    cv2.polylines(out, [pts], False, colour, width, cv2.LINE_AA)


def _blend_rect(out: np.ndarray, x0: int, y0: int, x1: int, y1: int, alpha: float) -> None:
    """Darken a rectangle: a semi-transparent panel behind text."""
    h, w = out.shape[:2]
    x0, x1 = max(0, x0), min(w, x1)
    y0, y1 = max(0, y0), min(h, y1)
    if x1 > x0 and y1 > y0:
        region = out[y0:y1, x0:x1]
        region[:] = (region.astype(np.float32) * (1.0 - alpha)).astype(np.uint8)


def _text(out: np.ndarray, text: str, org: tuple[int, int], colour: RGB, scale: _Scale) -> None:
    cv2.putText(out, text, org, FONT, scale.font, colour, scale.text_thickness, cv2.LINE_AA)


def _draw_panel(out: np.ndarray, angles: FrameAngles | None, lumbar: RGB, scale: _Scale) -> None:
    pad = scale.px(10)
    (_, th), _ = cv2.getTextSize("Hg", FONT, scale.font, scale.text_thickness)
    line = int(th * 1.9)
    label_w = max(
        cv2.getTextSize(name, FONT, scale.font, scale.text_thickness)[0][0] for name, _ in READOUTS
    )
    value_w = cv2.getTextSize("-180 deg", FONT, scale.font, scale.text_thickness)[0][0]
    width = pad * 3 + label_w + value_w
    height = pad * 2 + line * len(READOUTS)
    _blend_rect(out, pad, pad, pad + width, pad + height, 0.6)
    for i, (name, attr) in enumerate(READOUTS):
        value = angles.value(attr) if angles is not None else None
        y = pad * 2 + th + i * line
        _text(out, name, (pad * 2, y), WHITE, scale)
        colour = lumbar if attr == "lumbar_flexion_deg" else WHITE
        _text(out, format_angle(value), (pad * 3 + label_w, y), colour, scale)


def _draw_rep(out: np.ndarray, state: OverlayState, scale: _Scale) -> None:
    lines = [f"Rep {state.rep_count}"]
    if state.phase:
        lines.append(state.phase.upper())
    pad = scale.px(10)
    sizes = [cv2.getTextSize(s, FONT, scale.font * 1.3, scale.text_thickness)[0] for s in lines]
    width = max(w for w, _ in sizes) + 2 * pad
    line = int(sizes[0][1] * 1.8)
    x0 = out.shape[1] - pad - width
    _blend_rect(out, x0, pad, x0 + width, pad + 2 * pad + line * len(lines), 0.6)
    for i, text in enumerate(lines):
        y = pad * 2 + sizes[0][1] + i * line
        cv2.putText(
            out,
            text,
            (x0 + pad, y),
            FONT,
            scale.font * 1.3,
            WHITE,
            scale.text_thickness,
            cv2.LINE_AA,
        )


def _fit(text: str, max_width: int, scale: _Scale) -> str:
    """Shorten text with '...' until it fits in max_width pixels."""
    text = text.encode("ascii", "replace").decode("ascii")
    while text and cv2.getTextSize(text, FONT, scale.font, scale.text_thickness)[0][0] > max_width:
        text = text[:-4] + "..." if len(text) > 4 else ""
    return text


def _draw_banners(out: np.ndarray, banners: list[str], scale: _Scale) -> None:
    h, w = out.shape[:2]
    pad = scale.px(10)
    (_, th), _ = cv2.getTextSize("Hg", FONT, scale.font, scale.text_thickness)
    bar = th + 2 * pad
    for i, text in enumerate(reversed(banners)):
        y1 = h - pad - i * (bar + pad // 2)
        y0 = y1 - bar
        if y0 < 0:
            break
        cv2.rectangle(out, (pad, y0), (w - pad, y1), (200, 30, 30), -1)
        _text(out, _fit(text, w - 4 * pad, scale), (2 * pad, y1 - pad), WHITE, scale)
