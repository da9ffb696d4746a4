"""The shared sided-rep machinery live: a rep whose measures are read in the position held after
it (`RepSpec.settle`) is judged once that position has been held, not as the rep ends."""

from __future__ import annotations

import numpy as np

from formcheck.exercises.registry import ExerciseFrame
from formcheck.exercises.sided import RepSpec, RepStream, SidedRep, finite_median

HOLD_S = 1.0
FPS = 30.0


def _signal_at(t: float) -> float:
    """One rep from 1 s to 2 s (signal up to 1 and back to rest), then rest."""
    return float(np.sin(np.pi * (t - 1.0))) if 1.0 <= t <= 2.0 else 0.0


def _settled_value(t: float) -> float:
    """What the position held after the rep reads: 10 during the rep's end, 40 once settled."""
    return 40.0 if t >= 2.3 else 10.0


def _judge(index, rep, m, times, rest, rules) -> SidedRep:
    after = (times > rep.end_s) & (times <= rep.end_s + rules["hold_s"])
    return SidedRep(index, rep.start_s, rep.end_s, None, {"held": finite_median(m["x"][after])})


def _spec(settle: str | None) -> RepSpec:
    return RepSpec(
        measure=lambda f: {"s": _signal_at(f.t), "x": _settled_value(f.t)},
        signal=lambda m, rules: m["s"],
        judge=_judge,
        report=lambda m: {},
        cues={},
        settle=settle,
    )


def _run(settle: str | None, until_s: float) -> tuple[RepStream, list[tuple[float, str]]]:
    stream = RepStream(_spec(settle), {"hold_s": HOLD_S})
    said = []
    for t in np.arange(0.0, until_s, 1.0 / FPS):
        said += [(float(t), c.code) for c in stream.update(float(t), ExerciseFrame(float(t)))]
    return stream, said


def test_a_settling_rep_is_judged_after_its_position_is_held() -> None:
    stream, said = _run("hold_s", until_s=4.0)
    assert len(stream.reps) == 1
    assert stream.reps[0].measures["held"] == 40.0  # the settled position, not the transition
    (when, code), *_ = said
    assert code == "rep_summary" and when >= stream.reps[0].end_s + HOLD_S - 1e-6


def test_without_settle_a_rep_is_judged_as_it_ends() -> None:
    stream, said = _run(None, until_s=4.0)
    assert len(stream.reps) == 1 and said[0][0] < stream.reps[0].end_s + 0.1
    assert stream.reps[0].measures["held"] is None  # no frame after the rep had come yet


def test_a_rep_still_settling_when_the_set_ends_is_judged_then() -> None:
    stream, said = _run("hold_s", until_s=2.5)
    assert stream.reps == [] and said == []
    cues = stream.finish()
    assert [c.code for c in cues] == ["rep_summary", "set_summary"]
    assert len(stream.reps) == 1
