"""View stage: which way the camera sees the lifter.

In:  poses (one or many frames).
Out: per frame, the camera's yaw away from a true side view (degrees), a facing vote, and which
     way the camera is turned (towards the lifter's front or back); per clip,
     `ViewEstimate(kind side|oblique|front, facing left|right, confidence, yaw_deg, turned)`.
The back outline is only trustworthy in a side view (yaw up to ~30 degrees).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from .pose import LM, Pose

SIDE_MAX_YAW = 30.0
OBLIQUE_MAX_YAW = 60.0
# Shoulder breadth over hip-to-shoulder length when seen from the front (adult average).
FRONTAL_BREADTH_RATIO = 0.75
# A view turned at least this far towards the lifter's front or back is said to be (`turned`).
TURNED_MIN_DEG = 15.0


@dataclass
class FrameView:
    yaw_deg: float  # 0 = true side view, 90 = front or back view
    facing: int  # +1 lifter faces image right, -1 left, 0 unknown
    # The yaw signed from the world landmarks: + the camera sees the chest side, - the back;
    # None without world landmarks or a facing.
    turn_deg: float | None = None


@dataclass
class ViewEstimate:
    kind: str
    facing: str
    confidence: float
    yaw_deg: float
    turned: str | None = None  # "front" | "back": which side of the trunk the camera sees

    @property
    def facing_sign(self) -> int:
        return 1 if self.facing == "right" else -1

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "facing": self.facing,
            "confidence": round(self.confidence, 3),
            "yaw_deg": round(self.yaw_deg, 1),
            "turned": self.turned,
        }


def frame_view(pose: Pose) -> FrameView:
    """Yaw from the image breadth of shoulders and hips against trunk length; facing from the
    feet (toe ahead of heel) and the face (nose ahead of the ears); the turn's sign from the
    world landmarks (`turn_deg`)."""
    lm = pose.landmarks
    trunk = np.linalg.norm(lm[[11, 12]].mean(0) - lm[[23, 24]].mean(0))
    trunk = max(float(trunk), 1.0)
    breadth = 0.5 * (
        np.linalg.norm(lm[LM.LEFT_SHOULDER] - lm[LM.RIGHT_SHOULDER])
        + np.linalg.norm(lm[LM.LEFT_HIP] - lm[LM.RIGHT_HIP]) / 0.8
    )
    ratio = min(1.0, breadth / (FRONTAL_BREADTH_RATIO * trunk))
    yaw_2d = math.degrees(math.asin(ratio))
    yaw = yaw_2d
    if pose.world is not None:
        w = pose.world
        vec = (w[LM.LEFT_SHOULDER] - w[LM.RIGHT_SHOULDER]) + (w[LM.LEFT_HIP] - w[LM.RIGHT_HIP])
        yaw_3d = math.degrees(math.atan2(abs(vec[0]), abs(vec[2]) + 1e-6))
        yaw = 0.5 * (yaw_2d + yaw_3d)
    toes = (lm[LM.LEFT_FOOT_INDEX, 0] - lm[LM.LEFT_HEEL, 0]) + (
        lm[LM.RIGHT_FOOT_INDEX, 0] - lm[LM.RIGHT_HEEL, 0]
    )
    face = lm[LM.NOSE, 0] - 0.5 * (lm[LM.LEFT_EAR, 0] + lm[LM.RIGHT_EAR, 0])
    vote = np.sign(toes / trunk) * 1.0 + np.sign(face / trunk) * 0.7
    facing = int(np.sign(vote))
    return FrameView(yaw_deg=yaw, facing=facing, turn_deg=_turn(pose.world, facing))


def _turn(world: np.ndarray | None, facing: int) -> float | None:
    """Signed yaw in degrees, + towards the lifter's front (None without world landmarks or a
    facing). Whichever way the lifter faces, a camera turned towards their chest sees their
    left shoulder and hip to the right of their right ones, and one turned towards their back
    sees them to the left."""
    if world is None or facing == 0:
        return None
    d = (world[LM.LEFT_SHOULDER] - world[LM.RIGHT_SHOULDER]) + (
        world[LM.LEFT_HIP] - world[LM.RIGHT_HIP]
    )
    return math.degrees(math.atan2(d[0], abs(d[2]) + 1e-6))


def classify(yaw_deg: float) -> str:
    if yaw_deg <= SIDE_MAX_YAW:
        return "side"
    if yaw_deg <= OBLIQUE_MAX_YAW:
        return "oblique"
    return "front"


class ViewTracker:
    """The view stage over a stream of frames: a facing vote and the median yaw of the frames
    kept (`facing_window` / `yaw_window` recent frames; None keeps all, as offline does).

    Offline feeds every frame of the clip and reads `estimate()`; live feeds frame by frame and
    reads `sign` and `yaw` as it goes."""

    def __init__(self, facing_window: int | None = None, yaw_window: int | None = None) -> None:
        self._votes: deque[int] = deque(maxlen=facing_window)
        self._yaws: deque[float] = deque(maxlen=yaw_window)
        self._turns: deque[float] = deque(maxlen=yaw_window)
        self._total = 0
        self.sign = 1  # +1 faces image right, -1 left; kept while the vote is tied

    def update(self, view: FrameView) -> int:
        """Add one frame's view; the facing sign after it."""
        if self._votes.maxlen is not None and len(self._votes) == self._votes.maxlen:
            self._total -= self._votes[0]
        self._votes.append(view.facing)
        self._total += view.facing
        self._yaws.append(view.yaw_deg)
        if view.turn_deg is not None:
            self._turns.append(view.turn_deg)
        if self._total != 0:
            self.sign = 1 if self._total > 0 else -1
        return self.sign

    @property
    def yaw(self) -> float | None:
        """Median yaw of the frames kept, None before the first."""
        return float(np.median(self._yaws)) if self._yaws else None

    @property
    def turned(self) -> str | None:
        """ "front" or "back" when the median turn of the frames kept is at least
        `TURNED_MIN_DEG` that way; else None."""
        if not self._turns:
            return None
        turn = float(np.median(self._turns))
        if abs(turn) < TURNED_MIN_DEG:
            return None
        return "front" if turn > 0 else "back"

    def estimate(self) -> ViewEstimate:
        """`ViewEstimate` from the frames kept: median yaw, facing vote, and a confidence from
        the yaw's margin to the view boundaries, the vote's agreement and the yaw's spread."""
        if not self._yaws:
            return ViewEstimate("side", "right", 0.0, float("nan"))
        yaws = np.array(self._yaws)
        yaw = float(np.median(yaws))
        agreement = abs(self._total) / max(len(self._votes), 1)
        spread = float(np.percentile(yaws, 75) - np.percentile(yaws, 25))
        margin = min(abs(yaw - SIDE_MAX_YAW), abs(yaw - OBLIQUE_MAX_YAW)) / 15.0
        confidence = float(
            np.clip(min(1.0, margin) * agreement * (1.0 - min(spread, 30.0) / 60.0), 0, 1)
        )
        facing = "right" if self.sign > 0 else "left"
        return ViewEstimate(classify(yaw), facing, confidence, yaw, self.turned)


def estimate_view(views: list[FrameView]) -> ViewEstimate:
    """Clip-level view from per-frame estimates: `ViewTracker` over all of them."""
    tracker = ViewTracker()
    for v in views:
        tracker.update(v)
    return tracker.estimate()
