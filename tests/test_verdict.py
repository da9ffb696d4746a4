"""The verdict stage and the reps stage's bends and phases, on hand-made measures and signals."""

from __future__ import annotations

import numpy as np
import pytest

from formcheck.reps import Rep, RepRules, partial_bends, rep_phases, segment_reps
from formcheck.verdict import (
    BackMeasures,
    Verdict,
    VerdictModel,
    Viewing,
    judge_rep,
    not_judged,
    set_verdict,
)

MODEL = VerdictModel(features=("bow",), mean=(20.0,), scale=(10.0,), coef=(3.0,), intercept=0.0)
SIDE = Viewing("side", 8.0, None)


def measures(bow: float | None, lumbar: float | None = 30.0, coverage: float = 1.0):
    return BackMeasures(lumbar=lumbar, bow=bow, coverage=coverage)


def test_bowed_back_is_rounded_and_straight_back_flat():
    rounded = judge_rep(measures(45.0), {"ascent": measures(45.0)}, SIDE, MODEL)
    assert rounded.state == "rounded" and rounded.rounding is True
    assert rounded.phases == ["ascent"] and rounded.confidence > 0.9
    flat = judge_rep(measures(0.0), {}, SIDE, MODEL)
    assert flat.state == "flat" and flat.rounding is False and flat.reason is None


def test_off_side_on_untraced_and_borderline_backs_are_not_judged():
    oblique = judge_rep(measures(45.0), {}, Viewing("oblique", 45.0), MODEL)
    assert (oblique.state, oblique.reason) == ("not_judged", "oblique_view")
    assert oblique.rounding is None and "45 deg off side-on" in oblique.message
    untraced = judge_rep(measures(None), {}, SIDE, MODEL)
    assert untraced.reason == "back_not_traced"
    sparse = judge_rep(measures(45.0, coverage=0.3), {}, SIDE, MODEL)
    assert sparse.reason == "back_not_traced"
    borderline = judge_rep(measures(20.0), {}, SIDE, MODEL)
    assert borderline.reason == "ambiguous" and borderline.probability == pytest.approx(0.5)


def test_bowed_outline_with_a_neutral_lower_back_is_not_judged():
    """The outline bows but the lower back did not flex beyond standing: a bulky upper back or
    a loose shirt, not lumbar rounding - and not a flat back either (a loose shirt over a
    rounded back reads so). Not judged, with the figures kept and how to film instead."""
    verdict = judge_rep(measures(45.0, lumbar=5.0), {}, SIDE, MODEL)
    assert verdict.state == "not_judged" and verdict.rounding is None
    assert verdict.reason == "outline_conflict" and verdict.measured
    assert verdict.probability > 0.9
    assert "fitted clothing" in verdict.message
    assert judge_rep(measures(45.0, lumbar=25.0), {}, SIDE, MODEL).state == "rounded"


def test_set_verdict_needs_most_reps_judged_to_call_the_set_flat():
    flat, rounded = Verdict("flat", 0.8), Verdict("rounded", 0.7)
    skipped = not_judged("back_not_traced")
    assert set_verdict([flat, rounded, skipped]).state == "rounded"
    assert set_verdict([flat, flat, skipped]).state == "flat"
    assert set_verdict([flat, flat, skipped]).confidence == pytest.approx(0.8 * 2 / 3)
    mostly_unjudged = set_verdict([flat, skipped, skipped])
    assert mostly_unjudged.state == "not_judged" and mostly_unjudged.reason == "back_not_traced"
    assert set_verdict([]).reason == "no_rep"


def test_the_confidence_level_agrees_with_the_confidence_shown():
    """A confidence of 0.4996 is shown as 0.5, so it is told plainly; 0.494 as 0.49, "probably"."""
    shown = Verdict("flat", 0.4996).to_dict()
    assert shown["confidence"] == 0.5 and shown["confidence_level"] == "high"
    below = Verdict("flat", 0.494).to_dict()
    assert below["confidence"] == 0.49 and below["confidence_level"] == "low"


def test_a_verdict_near_the_line_has_low_confidence():
    # p(rounded) 0.6 (bow 21.35): judged, but told as likely; p 0.95 (bow 29.8) is told plainly.
    near = judge_rep(measures(21.35), {}, SIDE, MODEL)
    assert near.state == "rounded" and near.confidence == pytest.approx(0.2, abs=0.01)
    assert near.confidence_level == "low" and near.to_dict()["confidence_level"] == "low"
    clear = judge_rep(measures(29.8), {}, SIDE, MODEL)
    assert clear.confidence_level == "high"
    assert "low confidence" in near.note and clear.note is None
    assert not_judged("ambiguous").note.startswith("Not judged")
    assert not_judged("ambiguous").confidence_level is None
    assert not_judged("ambiguous").to_dict()["confidence_level"] is None


def test_model_round_trips_through_its_file_form():
    data = {"features": ["bow"], "mean": [1.0], "scale": [2.0], "coef": [3.0], "intercept": 0.5}
    model = VerdictModel.from_dict({**data, "unknown_key": 1})
    assert model.features == ("bow",) and model.intercept == 0.5
    assert model.probability(measures(1.0)) == pytest.approx(1 / (1 + np.exp(-0.5)))


def test_a_lowering_that_makes_no_rep_is_a_bend():
    times = np.arange(0, 3.0, 1 / 30)
    depth = np.clip((times - 1.0) / 1.0, 0.0, 1.1)  # standing, then lowers to the floor
    assert segment_reps(times, depth) == []
    (bend,) = partial_bends(times, depth, [], RepRules())
    assert bend.index == 0 and 1.4 < bend.start_s < 1.6 and bend.end_s == pytest.approx(times[-1])


def test_no_bend_where_the_lifter_never_stands():
    times = np.arange(0, 3.0, 1 / 30)
    assert partial_bends(times, np.full(times.size, 1.2), []) == []  # a plank: always "deep"


def test_a_pull_from_the_floor_starts_in_setup():
    times = np.arange(0, 2.0, 0.1)
    depth = np.array([1.0] * 6 + list(np.linspace(0.9, 0.0, 14)))
    phases = rep_phases(times, depth, Rep(1, 0.0, 0.2, 1.9, 1.0))
    assert list(phases[:6]) == ["setup"] * 6
    assert set(phases[7:]) == {"ascent"}
