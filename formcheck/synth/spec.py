"""What a synthetic clip is made of: the clip spec, body shapes and the render result.

In:  user choices (trajectory kind, reps or hold, body shape, camera, output size, seed).
Out: `SynthSpec` (validated, JSON-serialisable), `BodyShape` presets and `SynthResult`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TypeVar

from formcheck.errors import InputError

T = TypeVar("T")

REP_KINDS: tuple[str, ...] = (
    "hinge_flat",
    "hinge_round",
    "squat",
    "hinge_round_ascent",
    "hinge_hollow",
)
HOLD_KINDS: tuple[str, ...] = ("plank", "side_plank")
BIRD_DOG = "bird_dog"
PALLOF_PRESS = "pallof_press"
FORWARD_BEND = "forward_bend"
FROG_SQUAT = "frog_squat"
KINDS: tuple[str, ...] = REP_KINDS + HOLD_KINDS + (BIRD_DOG, PALLOF_PRESS, FORWARD_BEND)
KINDS += (FROG_SQUAT,)
LOADS: tuple[str, ...] = ("bar", "kettlebell", "none")
BACKGROUNDS: tuple[str, ...] = ("studio", "plain", "noise")
SHIRTS: tuple[str, ...] = ("fitted", "loose")
FACINGS: tuple[str, ...] = ("left", "right")
SIDES: tuple[str, ...] = ("left", "right")
# Spec fields that only hold kinds use; left out of a rep kind's `to_dict`, so the truth JSON of
# hinges and squats stays as it was before holds existed.
HOLD_FIELDS: tuple[str, ...] = ("hold_seconds", "sag_deg", "drop_deg", "fault_at_s", "side")
# Spec fields only the bird dog uses; left out of every other kind's `to_dict` (its truth JSON
# stays as it was). The bird dog keeps `side` of the hold fields and drops the others.
BIRD_DOG_FIELDS: tuple[str, ...] = ("hold_top_s", "arm_deg", "leg_deg", "lumbar_ext_deg")
BIRD_DOG_MAX_REPS = 10
# Spec fields only the Pallof press uses; left out of every other kind's `to_dict`. The Pallof
# press also keeps `side` (the anchor's side) and `hold_top_s`.
PALLOF_FIELDS: tuple[str, ...] = ("rotation_deg", "lean_deg")
# Spec fields only the standing forward bend uses; left out of every other kind's `to_dict`.
FORWARD_BEND_FIELDS: tuple[str, ...] = (
    "bend_hip_deg",
    "bend_lumbar_deg",
    "bend_thoracic_deg",
    "lumbar_lead",
)
# Spec fields only the frog squat uses; left out of every other kind's `to_dict`. The frog squat
# also keeps `hold_top_s` (its pause at the bottom).
FROG_FIELDS: tuple[str, ...] = ("frog_depth_deg", "frog_abduction_deg", "frog_wink_deg")
# The 90/90 hip switch (formcheck.synth.ninety) and the other spellings its kind accepts (after
# hyphens become underscores). Its own fields are left out of every other kind's `to_dict`; it
# also keeps `side` (the leg in front at the start) and `hold_top_s`.
NINETY_NINETY = "ninety_ninety"
KINDS += (NINETY_NINETY,)
NINETY_ALIASES: dict[str, str] = {"90_90": NINETY_NINETY}
NINETY_FIELDS: tuple[str, ...] = ("ninety_er_deg", "ninety_ir_deg", "ninety_lean_deg")
NINETY_MAX_REPS = 10
# The fire hydrant (formcheck.synth.hydrant), its camera views and its own fields (left out of
# every other kind's `to_dict`; it also keeps `side` and `hold_top_s`).
FIRE_HYDRANT = "fire_hydrant"
KINDS += (FIRE_HYDRANT,)
HYDRANT_VIEWS: tuple[str, ...] = ("back", "front")
HYDRANT_FIELDS: tuple[str, ...] = (
    "hydrant_view",
    "hydrant_abduction_deg",
    "hydrant_hike_deg",
    "hydrant_lean_deg",
)
HYDRANT_MAX_REPS = 20
# `side` when not given: the bird dog and side plank's default, and the Pallof press anchor's.
DEFAULT_SIDE = "left"
PALLOF_DEFAULT_SIDE = "right"
# Seconds of each hold's getting-in and getting-out movement.
HOLD_TRANSITION_S = 1.0


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

    Holds (`plank`, `side_plank`; "side-plank" is accepted too): `pad_seconds` in the start
    position (kneeling on the forearms / hips on the floor), a 1 s get-in, `hold_seconds` of hold,
    a 1 s get-out, `pad_seconds` in the start position again; reps, rep_seconds and load are
    unused. The fault (`sag_deg` for the plank: hips below the shoulder-ankle line, negative =
    pike; `drop_deg` for the side plank: hips towards the floor) ramps in from `fault_at_s`
    seconds into the hold. `side` is the side plank's side on the floor. The plank is filmed
    from the side as the hinges are; the side plank's chest faces the camera.

    Bird dog (`bird_dog`; "bird-dog" is accepted too), seen from the side, on hands and knees
    (see `formcheck.synth.birddog`): `pad_seconds` in the start position before the first rep,
    between reps and after the last; each rep reaches one leg back and the opposite arm forward
    over rep_seconds / 2 (cosine-eased), holds `hold_top_s` at the top and returns over
    rep_seconds / 2. Reps alternate sides; `side` is the leg raised on the first rep (reps
    1..10). At the top the arm is `arm_deg` and the leg `leg_deg` above the trunk line (0 =
    level, + = away from the floor), and the lower back has hollowed by `lumbar_ext_deg` of
    lumbar extension (a fault, ramping with the reach). Load is unused.

    Pallof press (`pallof_press`; "pallof-press" is accepted too), seen from the front (camera
    yaw is then counted from the front view; see `formcheck.synth.pallof`): standing, a cable
    anchored at chest height on the lifter's `side` (default right), both hands on the handle at
    the sternum. `pad_seconds` standing before the first rep, between reps and after the last;
    each rep presses the hands straight forward over rep_seconds / 2 (cosine-eased) to straight
    arms, holds `hold_top_s` and returns over rep_seconds / 2. Faults, ramping in with the press:
    `rotation_deg` of trunk rotation (thorax relative to pelvis about the vertical, + = chest
    turned towards the anchor) and `lean_deg` of lateral lean (+ = towards the anchor) reached at
    full press. Load is unused.

    Standing forward bend (`forward_bend`; "forward-bend" is accepted too), seen from the side
    as the hinges are, reps timed as the hinges' (see `formcheck.synth.motion`): no load (`load`
    is forced to "none"), knees straight, arms hanging. At the bottom of every rep the hips are
    flexed `bend_hip_deg`, the lumbar spine `bend_lumbar_deg` and the thoracic spine
    `bend_thoracic_deg` (exactly; `vary` and `seed` are unused). Over the bend, with d the eased
    depth 0..1, hip = bend_hip_deg * d and lumbar = bend_lumbar_deg * d ** (1 / lumbar_lead):
    `lumbar_lead` > 1 bends the lower back early and the hips late.

    Fire hydrant (`fire_hydrant`; "fire-hydrant" is accepted too; see
    `formcheck.synth.hydrant`): on hands and knees as the bird dog, one leg (knee bent ~90 deg)
    lifted out to the side, held, lowered. Filmed from behind (`hydrant_view` "back", the
    default) or from the front ("front"); yaw is counted from that view, and from behind pitch
    is counted from 20 deg down (the default 5 looks down 25 deg). Timed as the bird
    dog (reps 1..20, `hold_top_s` at the top); the first ceil(reps / 2) reps lift the `side`
    leg (default left), the rest the other. At the top the thigh is `hydrant_abduction_deg`
    out from vertical (0..80) in the pelvis's frontal plane; faults, ramping with the lift:
    `hydrant_hike_deg` (0..30) of pelvis roll lifting the working hip, `hydrant_lean_deg`
    (0..30) of shoulder-line roll lifting the working side's shoulder (the trunk leaning away
    from the leg). Load is unused.

    Frog squat (`frog_squat`; "frog-squat" is accepted too; see `formcheck.synth.frog`):
    bodyweight (`load` is forced to "none"), feet wide and turned out, hands together in front
    of the chest. Seen from the side as the squats are at yaw 0; `yaw_deg` may go to +-90 for
    this kind, 90 being a straight front view. Timed as the bird dog: `pad_seconds` standing
    before, between and after the reps; each rep descends over rep_seconds / 2 (cosine-eased),
    pauses `hold_top_s` at the bottom and rises over rep_seconds / 2. At the bottom the hips are
    flexed `frog_depth_deg` and abducted `frog_abduction_deg` (each side), and the lower back
    has `frog_wink_deg` of lumbar flexion ("butt wink", ramping in over the last 30% of the
    depth); exactly, `vary` and `seed` are unused.

    90/90 hip switch (`ninety_ninety`; "90-90", "90_90" and "ninety-ninety" are accepted too;
    see `formcheck.synth.ninety`), seen from the front (yaw counted from the front view, as the
    Pallof press): sitting on the floor, trunk upright or leant back `ninety_lean_deg`, hands on
    the floor beside the hips, both knees at 90 deg. The front leg's hip is externally rotated
    `ninety_er_deg`, the back leg's internally rotated `ninety_ir_deg` (0..90 each); `side` is
    the leg in front at the start (default left). `pad_seconds` settled before the first switch,
    between switches and after the last; each rep (1..10) swings both knees over to the other
    side over rep_seconds (cosine-eased), so the other leg ends in front, then settles
    `hold_top_s`. Load is unused ("none").
    """

    kind: str = "hinge_flat"
    reps: int = 1
    rep_seconds: float = 2.6
    pad_seconds: float = 0.4
    body: str = "average"
    clothing: str = "blue"
    # "loose": a shirt draped over the back (lifts only; see formcheck.synth.body).
    shirt: str = "fitted"
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
    hold_seconds: float = 8.0
    sag_deg: float = 0.0
    drop_deg: float = 0.0
    fault_at_s: float = 5.0
    # None: "right" for the Pallof press, "left" for every other kind.
    side: str | None = None
    hold_top_s: float = 1.0
    arm_deg: float = 0.0
    leg_deg: float = 0.0
    lumbar_ext_deg: float = 0.0
    rotation_deg: float = 0.0
    lean_deg: float = 0.0
    bend_hip_deg: float = 69.0
    bend_lumbar_deg: float = 42.0
    bend_thoracic_deg: float = 0.0
    lumbar_lead: float = 1.0
    hydrant_view: str = "back"
    hydrant_abduction_deg: float = 45.0
    hydrant_hike_deg: float = 0.0
    hydrant_lean_deg: float = 0.0
    frog_depth_deg: float = 110.0
    frog_abduction_deg: float = 40.0
    frog_wink_deg: float = 0.0
    ninety_er_deg: float = 45.0
    ninety_ir_deg: float = 35.0
    ninety_lean_deg: float = 0.0

    def __post_init__(self) -> None:
        if isinstance(self.kind, str):
            self.kind = self.kind.replace("-", "_")
            self.kind = NINETY_ALIASES.get(self.kind, self.kind)
            if self.kind == NINETY_NINETY:
                self.load = "none"
        if self.side is None:
            self.side = PALLOF_DEFAULT_SIDE if self.kind == PALLOF_PRESS else DEFAULT_SIDE
        if self.kind in (FORWARD_BEND, FROG_SQUAT):
            self.load = "none"
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
            "side": (self.side, SIDES),
            "hydrant_view": (self.hydrant_view, HYDRANT_VIEWS),
            "shirt": (self.shirt, SHIRTS),
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
            "hold_seconds": (self.hold_seconds, 1.0, 120.0),
            "sag_deg": (self.sag_deg, -30.0, 30.0),
            "drop_deg": (self.drop_deg, -20.0, 30.0),
            "fault_at_s": (self.fault_at_s, 0.0, 120.0),
            "hold_top_s": (self.hold_top_s, 0.0, 10.0),
            "arm_deg": (self.arm_deg, -30.0, 30.0),
            # Lower, the straight leg's toes would go through the floor (the hip -> shoulder
            # line rises ~14 deg to the shoulders on hands and knees).
            "leg_deg": (self.leg_deg, -10.0, 40.0),
            "lumbar_ext_deg": (self.lumbar_ext_deg, 0.0, 25.0),
            "rotation_deg": (self.rotation_deg, -30.0, 30.0),
            "lean_deg": (self.lean_deg, -20.0, 20.0),
            "bend_hip_deg": (self.bend_hip_deg, 0.0, 110.0),
            "bend_lumbar_deg": (self.bend_lumbar_deg, -10.0, 60.0),
            "bend_thoracic_deg": (self.bend_thoracic_deg, 0.0, 30.0),
            "lumbar_lead": (self.lumbar_lead, 0.3, 3.0),
            "frog_depth_deg": (self.frog_depth_deg, 20.0, 140.0),
            "frog_abduction_deg": (self.frog_abduction_deg, 0.0, 60.0),
            "frog_wink_deg": (self.frog_wink_deg, 0.0, 30.0),
        }
        if self.kind == FROG_SQUAT:
            ranges["yaw_deg"] = (self.yaw_deg, -90.0, 90.0)
        if self.kind == BIRD_DOG:
            ranges["reps"] = (self.reps, 1, BIRD_DOG_MAX_REPS)
        if self.kind == FIRE_HYDRANT:
            ranges["reps"] = (self.reps, 1, HYDRANT_MAX_REPS)
            ranges["hydrant_abduction_deg"] = (self.hydrant_abduction_deg, 0.0, 80.0)
            ranges["hydrant_hike_deg"] = (self.hydrant_hike_deg, 0.0, 30.0)
            ranges["hydrant_lean_deg"] = (self.hydrant_lean_deg, 0.0, 30.0)
        if self.kind == NINETY_NINETY:
            ranges["reps"] = (self.reps, 1, NINETY_MAX_REPS)
            ranges["ninety_er_deg"] = (self.ninety_er_deg, 0.0, 90.0)
            ranges["ninety_ir_deg"] = (self.ninety_ir_deg, 0.0, 90.0)
            ranges["ninety_lean_deg"] = (self.ninety_lean_deg, 0.0, 30.0)
        for name, (value, lo, hi) in ranges.items():
            if not lo <= value <= hi:
                raise InputError(f"{name} must be between {lo} and {hi}; got {value}")
        fault = {"plank": self.sag_deg, "side_plank": self.drop_deg}.get(self.kind, 0.0)
        if fault and self.fault_at_s > self.hold_seconds:
            raise InputError(
                f"fault_at_s must be within the hold (0 to hold_seconds = {self.hold_seconds} s); "
                f"got {self.fault_at_s}"
            )
        if self.width % 2 or self.height % 2:
            raise InputError(
                f"width and height must be even for H.264; got {self.width}x{self.height}"
            )

    @property
    def is_hold(self) -> bool:
        return self.kind in HOLD_KINDS

    @property
    def is_bird_dog(self) -> bool:
        return self.kind == BIRD_DOG

    @property
    def is_pallof_press(self) -> bool:
        return self.kind == PALLOF_PRESS

    @property
    def is_forward_bend(self) -> bool:
        return self.kind == FORWARD_BEND

    @property
    def is_fire_hydrant(self) -> bool:
        return self.kind == FIRE_HYDRANT

    @property
    def is_frog_squat(self) -> bool:
        return self.kind == FROG_SQUAT

    @property
    def is_ninety_ninety(self) -> bool:
        return self.kind == NINETY_NINETY

    @property
    def hold_start_s(self) -> float:
        """Clip time the hold begins (the get-in ends); holds only."""
        return self.pad_seconds + HOLD_TRANSITION_S

    @property
    def hold_end_s(self) -> float:
        """Clip time the hold ends (the get-out begins); holds only."""
        return self.hold_start_s + self.hold_seconds

    @property
    def duration_s(self) -> float:
        """Clip length: standing pad, the reps, standing pad (holds: pad, get-in, hold, get-out,
        pad; bird dog and Pallof press: a pad before, between and after the reps, each
        rep_seconds plus the top hold)."""
        if self.is_hold:
            return 2 * self.pad_seconds + 2 * HOLD_TRANSITION_S + self.hold_seconds
        if self.is_bird_dog or self.is_pallof_press or self.is_frog_squat or self.is_ninety_ninety:
            rep = self.rep_seconds + self.hold_top_s
            return (self.reps + 1) * self.pad_seconds + self.reps * rep
        if self.is_fire_hydrant:
            rep = self.rep_seconds + self.hold_top_s
            return (self.reps + 1) * self.pad_seconds + self.reps * rep
        return 2 * self.pad_seconds + self.reps * self.rep_seconds

    @property
    def frame_count(self) -> int:
        return max(1, round(self.duration_s * self.fps))

    @property
    def shape(self) -> BodyShape:
        return BODY_SHAPES[self.body]

    def to_dict(self) -> dict:
        data = asdict(self)
        if self.is_bird_dog:
            dropped = tuple(name for name in HOLD_FIELDS if name != "side") + PALLOF_FIELDS
        elif self.is_pallof_press:
            kept = ("side", "hold_top_s")
            dropped = tuple(name for name in HOLD_FIELDS + BIRD_DOG_FIELDS if name not in kept)
        elif self.is_hold:
            dropped = BIRD_DOG_FIELDS + PALLOF_FIELDS
        else:
            dropped = HOLD_FIELDS + BIRD_DOG_FIELDS + PALLOF_FIELDS
        if not self.is_forward_bend:
            dropped += FORWARD_BEND_FIELDS
        if self.is_frog_squat:
            dropped = tuple(n for n in dropped if n != "hold_top_s")
        else:
            dropped += FROG_FIELDS
        if self.is_ninety_ninety:
            dropped = tuple(n for n in dropped if n not in ("side", "hold_top_s"))
        else:
            dropped += NINETY_FIELDS
        if self.is_fire_hydrant:
            dropped = tuple(n for n in dropped if n not in ("side", "hold_top_s"))
        else:
            dropped += HYDRANT_FIELDS
        if self.shirt == "fitted":
            dropped += ("shirt",)  # the truth JSON of fitted-shirt clips stays as it was
        for name in dropped:
            data.pop(name)
        return data

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


def cached_by_spec(build: Callable[[SynthSpec], T]) -> Callable[[SynthSpec], T]:
    """`build(spec)` remembered by the spec's values (the last 16 specs): a clip asks for its
    script once per frame."""
    scripts: dict[str, T] = {}

    def get(spec: SynthSpec) -> T:
        key = json.dumps(spec.to_dict(), sort_keys=True)
        if key not in scripts:
            if len(scripts) >= 16:
                scripts.clear()
            scripts[key] = build(spec)
        return scripts[key]

    return get
