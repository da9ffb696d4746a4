"""What an offline analysis is asked to do: the exercise, the lifter's height, the fitted
parameters and rules, and how pass one runs (frame size, workers, pose rate, model).

In:  choices from the CLI, the server or a caller. Out: `AnalysisOptions`, read by every stage.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .assess import RoundingRule
from .keyframes import POSE_HZ
from .params import rounding_rule, spine_params
from .reps import RepRules
from .spine import SpineParams


@dataclass
class AnalysisOptions:
    exercise: str = "auto"
    height_cm: float | None = None
    max_side: int = 640
    spine: SpineParams = field(default_factory=spine_params)
    rounding: RoundingRule = field(default_factory=rounding_rule)
    reps: RepRules = field(default_factory=RepRules)
    # Parallel analysis: "auto" picks from the clip length and the CPU count; 1 is serial.
    workers: int | str = "auto"
    # Pose inference rate: faster clips run pose on every n-th frame (see formcheck.keyframes);
    # None runs it on every frame.
    pose_hz: float | None = POSE_HZ
    # BlazePose model: lite | full | heavy | auto (see formcheck.posemodels.resolve).
    model: str = "auto"
