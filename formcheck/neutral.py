"""Neutral stage: the lifter's own standing posture, the zero of hip, lumbar and thoracic flexion.

In:  raw frames (`RawFrame`) from kinematics.
Out: `Neutral`: median raw angles over upright frames; when the clip never shows the lifter
     standing with a traceable back, documented defaults (typical standing values of the raw
     outline measures, see models/README.md) with `source="default"`.
`NeutralTracker` is the streaming form used live: neutral from the first upright frames.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .kinematics import RawFrame

UPRIGHT_MAX_TRUNK_DEG = 20.0
UPRIGHT_MAX_KNEE_DEG = 30.0
MIN_UPRIGHT_FRAMES = 5
MIN_SPINE_CONFIDENCE = 0.5

# Typical raw values of a standing lifter (dorsal outline of a standing adult: lumbar lordosis
# reads as a negative bend, the upper back's kyphosis as a positive one).
DEFAULTS = {"hip": 25.0, "lumbar": -15.0, "thoracic": 8.0, "trunk_thigh": 0.0}


@dataclass
class Neutral:
    hip: float
    lumbar: float
    thoracic: float
    trunk_thigh: float
    source: str  # "standing" or "default"
    frames: int
    # The back's bow standing (see spine.bow), absolute; None without standing frames.
    back_bend: float | None = None

    def to_dict(self) -> dict:
        d = asdict(self)
        return {
            "source": d["source"],
            "frames": d["frames"],
            "hip_raw_deg": round(self.hip, 1),
            "lumbar_raw_deg": round(self.lumbar, 1),
            "thoracic_raw_deg": round(self.thoracic, 1),
            "trunk_thigh_raw_deg": round(self.trunk_thigh, 1),
            "back_bend_deg": None if self.back_bend is None else round(self.back_bend, 1),
        }


def is_upright(f: RawFrame) -> bool:
    """Standing tall: trunk near vertical and knees nearly straight."""
    if f.trunk_incl is None or f.knee_flexion is None:
        return False
    return abs(f.trunk_incl) <= UPRIGHT_MAX_TRUNK_DEG and f.knee_flexion <= UPRIGHT_MAX_KNEE_DEG


def stature_px(raws: list[RawFrame]) -> float | None:
    """The lifter's standing height in pixels (heel to nose over upright frames, scaled: the
    nose sits at about 93% of stature, heels at about 1%); None with fewer than 3 such frames."""
    statures = [
        r.pose.landmarks[[29, 30], 1].mean() - r.pose.landmarks[0, 1]
        for r in raws
        if r.pose is not None and is_upright(r)
    ]
    return float(np.median(statures)) / 0.92 if len(statures) >= 3 else None


def _median(values: list[float | None]) -> float | None:
    arr = np.array([v for v in values if v is not None], dtype=float)
    return float(np.median(arr)) if arr.size else None


def estimate_neutral(frames: list[RawFrame]) -> Neutral:
    """Median raw angles of upright frames with a trusted back outline."""
    upright = [f for f in frames if f.pose is not None and is_upright(f)]
    spine_ok = [f for f in upright if f.spine_confidence >= MIN_SPINE_CONFIDENCE]
    tt = _median([f.trunk_thigh for f in upright]) if upright else None
    if len(spine_ok) < MIN_UPRIGHT_FRAMES:
        return Neutral(
            hip=DEFAULTS["hip"],
            lumbar=DEFAULTS["lumbar"],
            thoracic=DEFAULTS["thoracic"],
            trunk_thigh=tt if tt is not None else DEFAULTS["trunk_thigh"],
            source="default",
            frames=0,
        )
    pick = lambda key, vals: v if (v := _median(vals)) is not None else DEFAULTS[key]  # noqa: E731
    return Neutral(
        hip=pick("hip", [f.hip_raw for f in spine_ok]),
        lumbar=pick("lumbar", [f.lumbar_raw for f in spine_ok]),
        thoracic=pick("thoracic", [f.thoracic_raw for f in spine_ok]),
        trunk_thigh=tt if tt is not None else DEFAULTS["trunk_thigh"],
        source="standing",
        frames=len(spine_ok),
        back_bend=_median([f.back_bend for f in spine_ok]),
    )


class NeutralTracker:
    """Streaming neutral: defaults until `needed` upright frames are seen, then fixed."""

    def __init__(self, needed: int = 15) -> None:
        self.needed = needed
        self._frames: list[RawFrame] = []
        self.neutral = estimate_neutral([])

    @property
    def calibrated(self) -> bool:
        return self.neutral.source == "standing"

    def update(self, frame: RawFrame) -> Neutral:
        if self.calibrated:
            return self.neutral
        if (
            frame.pose is not None
            and is_upright(frame)
            and frame.spine_confidence >= MIN_SPINE_CONFIDENCE
        ):
            self._frames.append(frame)
            if len(self._frames) >= self.needed:
                self.neutral = estimate_neutral(self._frames)
        return self.neutral
