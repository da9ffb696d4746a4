"""Exercises: the registry (`registry`) and one module per exercise family, each registering its
entries. Adding an exercise = one `register(Exercise(...))` entry and a small module with its
measures and rules.

Lifts (`lifts`): deadlift, Romanian deadlift, good morning, pick-up, squat.
Holds: plank (`plank`), side plank (`side_plank`), on the shared hold machinery (`holds`).
Sided reps: bird dog (`bird_dog`), Pallof press (`pallof_press`), on the shared machinery of
`sided`. The hip-hinge screen: forward bend and hinge test (`screen`). Hip-mobility drills, on
the same machinery: 90/90 hip switch (`ninety_ninety`), frog squat (`frog_squat`), fire hydrant
(`fire_hydrant`).

Exercises from elsewhere: modules named in the environment variable FORMCHECK_EXERCISES
(comma-separated, importable) and entry points of the group "formcheck.exercises" are imported
here, after the built-in ones; each registers its entries when imported.
"""

from __future__ import annotations

import importlib
import logging
import os
from importlib.metadata import entry_points

# Registration order is the menus' order: lifts, holds, sided reps.
from . import lifts

# isort: split
from . import plank, side_plank

# isort: split
from . import bird_dog, pallof_press

# isort: split
from . import screen

# isort: split
from . import fire_hydrant, frog_squat, ninety_ninety
from .registry import (
    AUTO,
    Exercise,
    catalogue,
    choices,
    film_hint,
    get,
    live_choices,
    names,
    register,
    unregister,
    view_refusal,
)

__all__ = [
    "bird_dog",
    "fire_hydrant",
    "frog_squat",
    "ninety_ninety",
    "AUTO",
    "Exercise",
    "catalogue",
    "choices",
    "film_hint",
    "get",
    "live_choices",
    "lifts",
    "names",
    "pallof_press",
    "plank",
    "side_plank",
    "register",
    "screen",
    "unregister",
    "view_refusal",
]

PLUGINS_ENV = "FORMCHECK_EXERCISES"


def _load_plugins() -> None:
    log = logging.getLogger(__name__)
    for entry in entry_points(group="formcheck.exercises"):
        try:
            entry.load()
        except Exception as exc:  # a broken plugin must not stop the product
            log.warning("exercise plugin %s not loaded: %s", entry.name, exc)
    for name in filter(None, (n.strip() for n in os.environ.get(PLUGINS_ENV, "").split(","))):
        try:
            importlib.import_module(name)
        except Exception as exc:
            log.warning("exercise module %s (from %s) not loaded: %s", name, PLUGINS_ENV, exc)


_load_plugins()
