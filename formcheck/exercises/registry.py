"""The exercise registry: one definition per exercise, read by the CLI, the server's API, both
pages, live sessions and the offline analysis.

In:  `Exercise` entries, registered by the exercise modules of this package (and by anyone
     else with `register`).
Out: `get(name)`, `names()`, `choices()` (with "auto") and `catalogue()` (the JSON the pages
     build their menus from).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ..errors import InputError

KINDS = ("reps", "hold", "sided reps", "screen")
VIEWS = ("side", "oblique", "front")
AUTO = "auto"


@dataclass(frozen=True)
class Exercise:
    """What formcheck knows about one exercise.

    `views` are the camera views it can be judged from, `preferred_view` the one to film in and
    `film_hint` how to say so. `signal` is how the rep signal reads depth ("hinge": trunk lean,
    "squat": the shoulders' drop; None: chosen from the clip's lean) for rep exercises the lift
    analysis runs. `analyse`, when
    set, is the exercise module's own analysis (holds, sided reps): it takes the clip's
    `ExerciseFrame`s, their times and rules, and returns the exercise's result (per-frame
    `measures`, and `holds` or `reps`). `rules` are its thresholds, `findings` and `cues` its codes with
    their texts."""

    name: str
    label: str
    kind: str
    views: tuple[str, ...]
    preferred_view: str
    film_hint: str
    measures: tuple[str, ...] = ()
    rules: Mapping[str, float] = field(default_factory=dict)
    findings: Mapping[str, str] = field(default_factory=dict)
    cues: Mapping[str, str] = field(default_factory=dict)
    signal: str | None = None
    analyse: Callable | None = None
    # Live coaching: a factory of the exercise's own coach (holds, sided reps), given `rules`;
    # the lifts are coached by the live session's rep stages.
    stream: Callable | None = None
    # Whether live sessions coach it (else it is analysed from a recording only).
    live: bool = True

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: kind must be one of {KINDS}, not {self.kind!r}")
        if not self.views or any(v not in VIEWS for v in self.views):
            raise ValueError(f"{self.name}: views must be among {VIEWS}, not {self.views!r}")
        if self.preferred_view not in self.views:
            raise ValueError(f"{self.name}: preferred view {self.preferred_view!r} not accepted")

    def to_dict(self) -> dict:
        """The entry as the API and the pages see it."""
        return {
            "name": self.name,
            "label": self.label,
            "kind": self.kind,
            "views": list(self.views),
            "preferred_view": self.preferred_view,
            "film_hint": self.film_hint,
            "measures": list(self.measures),
            "findings": dict(self.findings),
            "live": self.live,
        }


@dataclass(frozen=True)
class ExerciseCue:
    """What an exercise's live stream wants said: a code, its text, severity and urgency."""

    code: str
    text: str
    severity: str
    urgent: bool = False


@dataclass
class ExerciseFinding:
    """Something an exercise's own analysis noticed: a code, severity, when, the worst angle
    reached (holds) and a sentence."""

    code: str
    severity: str
    start_s: float
    end_s: float
    message: str
    peak_deg: float | None = None

    def to_dict(self) -> dict:
        out = {
            "code": self.code,
            "severity": self.severity,
            "start_s": round(self.start_s, 2),
            "end_s": round(self.end_s, 2),
        }
        if self.peak_deg is not None:
            out["peak_deg"] = round(self.peak_deg, 1)
        return {**out, "message": self.message}


@dataclass
class ExerciseFrame:
    """What an exercise module's own analysis reads of a frame: its time, the landmarks
    (pixels, or None without pose), the back outline traced for each facing (+1, -1) and the
    world landmarks (metres, hip-centred, x to the image's right, y down, z away from the
    camera; None where unknown) and the lift stages' angles of the frame (`FrameAngles`: hip and
    lumbar flexion relative to standing, trunk inclination; None where not computed)."""

    t: float
    landmarks: object | None = None
    backs: Mapping | None = None
    world: object | None = None
    angles: object | None = None


_REGISTRY: dict[str, Exercise] = {}


def register(exercise: Exercise) -> Exercise:
    """Add (or replace) an exercise; returns it."""
    if exercise.name == AUTO:
        raise ValueError(f"{AUTO!r} is not an exercise name")
    _REGISTRY[exercise.name] = exercise
    return exercise


def unregister(name: str) -> None:
    _REGISTRY.pop(name, None)


def names() -> tuple[str, ...]:
    """Registered exercise names, in registration order."""
    return tuple(_REGISTRY)


def choices() -> tuple[str, ...]:
    """What a user may ask for: "auto" (recognise the lift) and every exercise."""
    return (AUTO, *_REGISTRY)


def live_choices() -> tuple[str, ...]:
    """What a live session may be asked for."""
    return (AUTO, *(n for n, e in _REGISTRY.items() if e.live))


def get(name: str) -> Exercise:
    """The exercise called `name`; InputError naming the choices otherwise."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise InputError(
            f"unknown exercise {name!r}; choose one of: {', '.join(choices())}"
        ) from None


# "auto" recognises a lift, so it accepts the lifts' views.
AUTO_VIEWS = ("side", "oblique")
VIEW_WORDS = {"side": "side-on", "oblique": "at an angle", "front": "from the front or back"}


def film_hint(exercise: Exercise | None) -> str:
    """How to film `exercise` (None: "auto", a lift from the side)."""
    return exercise.film_hint if exercise is not None else AUTO_FILM_HINT


def view_refusal(exercise: Exercise | None, view: str, yaw_deg: float) -> str | None:
    """Why a clip filmed in `view` cannot be judged for `exercise` (None: "auto"), with how to
    film it instead; None when the view is accepted."""
    accepted = exercise.views if exercise is not None else AUTO_VIEWS
    if view in accepted:
        return None
    what = exercise.label.lower() if exercise is not None else "a lift"
    return (
        f"filmed {VIEW_WORDS.get(view, view)} (about {yaw_deg:.0f} deg from side-on), but "
        f"{what} is judged {VIEW_WORDS[exercise.preferred_view if exercise else 'side']}. "
        f"{film_hint(exercise)}"
    )


AUTO_FILM_HINT = "Film from the side, at hip height, with the whole body in view."


def catalogue() -> list[dict]:
    """Every exercise as the API gives it, "auto" first."""
    auto = {
        "name": AUTO,
        "label": "Detect automatically",
        "kind": "reps",
        "views": ["side"],
        "preferred_view": "side",
        "film_hint": AUTO_FILM_HINT,
        "measures": [],
        "findings": {},
        "live": True,
    }
    return [auto, *(e.to_dict() for e in _REGISTRY.values())]
