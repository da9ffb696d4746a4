"""What a synthetic clip is made of: the clip spec, body shapes and the render result.

In:  user choices (trajectory kind, reps, body shape, camera, output size, seed).
Out: `SynthSpec` (validated, JSON-serialisable), `BodyShape` presets and `SynthResult`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from formcheck.errors import InputError

KINDS: tuple[str, ...] = ("hinge_flat", "hinge_round", "squat")
LOADS: tuple[str, ...] = ("bar", "kettlebell", "none")
BACKGROUNDS: tuple[str, ...] = ("studio", "plain", "noise")
FACINGS: tuple[str, ...] = ("left", "right")


@dataclass(frozen=True)
class BodyShape:
    """Proportions of the mannequin. Lengths scale with height; radii with girth."""

    name: str
    height_m: float
    girth: float
    belly: float
    glutes: float
    skin_rgb: tuple[int, int, int]


BODY_SHAPES: dict[str, BodyShape] = {
    "slim": BodyShape("slim", 1.80, 0.86, 0.0, 0.9, (224, 182, 150)),
    "average": BodyShape("average", 1.75, 1.0, 0.25, 1.0, (198, 150, 112)),
    "heavy": BodyShape("heavy", 1.72, 1.2, 1.0, 1.15, (150, 104, 76)),
}

CLOTHING_COLOURS: dict[str, tuple[int, int, int]] = {
    "blue": (52, 84, 160),
    "red": (168, 50, 48),
    "grey": (120, 122, 128),
    "green": (58, 122, 78),
    "black": (38, 38, 42),
}


@dataclass
class SynthSpec:
    """Everything that determines a synthetic clip. Same spec and seed give the same clip.

    Camera: yaw 0 is a true side view; positive yaw swings the camera towards the lifter's
    front. Pitch > 0 looks down from above hip height. `facing` is the image direction the
    lifter faces. `vary` scales each rep's depth and lumbar flexion a little, from the seed.
    Squats are bodyweight with arms held forward; `load` applies to hinges.
    """

    kind: str = "hinge_flat"
    reps: int = 1
    rep_seconds: float = 2.6
    pad_seconds: float = 0.4
    body: str = "average"
    clothing: str = "blue"
    load: str = "bar"
    background: str = "studio"
    yaw_deg: float = 0.0
    pitch_deg: float = 5.0
    distance_m: float = 3.0
    facing: str = "right"
    width: int = 640
    height: int = 360
    fps: float = 30.0
    seed: int = 0
    vary: bool = True

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise InputError with a readable message for any value out of range."""
        choices = {
            "kind": (self.kind, KINDS),
            "body": (self.body, tuple(BODY_SHAPES)),
            "clothing": (self.clothing, tuple(CLOTHING_COLOURS)),
            "load": (self.load, LOADS),
            "background": (self.background, BACKGROUNDS),
            "facing": (self.facing, FACINGS),
        }
        for name, (value, allowed) in choices.items():
            if value not in allowed:
                raise InputError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
        ranges = {
            "reps": (self.reps, 1, 50),
            "rep_seconds": (self.rep_seconds, 0.8, 20.0),
            "pad_seconds": (self.pad_seconds, 0.0, 10.0),
            "yaw_deg": (self.yaw_deg, -45.0, 45.0),
            "pitch_deg": (self.pitch_deg, -30.0, 45.0),
            "distance_m": (self.distance_m, 1.8, 12.0),
            "width": (self.width, 64, 3840),
            "height": (self.height, 64, 2160),
            "fps": (self.fps, 1.0, 240.0),
        }
        for name, (value, lo, hi) in ranges.items():
            if not lo <= value <= hi:
                raise InputError(f"{name} must be between {lo} and {hi}; got {value}")
        if self.width % 2 or self.height % 2:
            raise InputError(
                f"width and height must be even for H.264; got {self.width}x{self.height}"
            )

    @property
    def duration_s(self) -> float:
        """Clip length: standing pad, the reps, standing pad."""
        return 2 * self.pad_seconds + self.reps * self.rep_seconds

    @property
    def frame_count(self) -> int:
        return max(1, round(self.duration_s * self.fps))

    @property
    def shape(self) -> BodyShape:
        return BODY_SHAPES[self.body]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> SynthSpec:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass
class SynthResult:
    """A rendered clip: where it went and the true angles of every frame."""

    spec: SynthSpec
    mp4: Path
    json: Path | None
    frames: list[dict] = field(default_factory=list)

    @property
    def frame_count(self) -> int:
        return len(self.frames)

    def peak(self, name: str) -> float:
        """Largest value of one angle over the clip."""
        return max(f[name] for f in self.frames)
