"""An exercise defined outside the package, for the registry tests: a wall sit (a hold).

Imported by formcheck when FORMCHECK_EXERCISES names this module."""

from __future__ import annotations

from formcheck.exercises import Exercise, register

WALL_SIT = register(
    Exercise(
        name="wall-sit",
        label="Wall sit (test exercise)",
        kind="hold",
        views=("side",),
        preferred_view="side",
        film_hint="Film from the side with the wall behind you.",
        measures=("knee_flexion_deg",),
        rules={"min_knee_deg": 80.0},
        findings={"knees_too_high": "the knees rose above 90 degrees"},
        cues={"knees_too_high": "Sit lower"},
    )
)
