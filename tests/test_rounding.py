"""The rounding verdict on the real dev clips, and same-lifter pairs separating.

Uses the session cache of footage analyses (conftest `footage_runs`), so the clips are analysed
once for this file and tests/test_footage.py together.
"""

from __future__ import annotations

import json

import pytest
from conftest import read_labels

pytestmark = pytest.mark.slow

CLIPS = [row["file"] for row in read_labels()] or [
    pytest.param("none", marks=pytest.mark.skip(reason="../shared/footage not present"))
]


def _report(footage_runs, clip: str) -> dict:
    run = footage_runs.get(clip)
    assert run.returncode == 0, run.stderr
    return json.loads(run.json_path.read_text())


@pytest.mark.parametrize("clip", CLIPS)
def test_clip_rounding_verdict_matches_labels(footage_runs, clip_labels, clip):
    """Any rep rounded <=> the clip is labelled `rounded` (neutral and not_rounded: no flag)."""
    report = _report(footage_runs, clip)
    expected = clip_labels[clip]["label"] == "rounded"
    assert report["summary"]["rounding"] is expected, [
        (r["max_lumbar_flexion_deg"], r["max_back_bend_deg"]) for r in report["reps"]
    ]
    flagged = [r for r in report["reps"] if r["rounding"]]
    assert report["summary"]["rounded_reps"] == len(flagged)
    for rep in flagged:
        assert any(f["code"] == "lumbar_rounding" for f in rep["findings"])


def _peak(report: dict, key: str) -> float:
    values = [r[key] for r in report["reps"] if r[key] is not None]
    assert values, f"no {key} in any rep"
    return max(values)


BICHRAIX = ("bichraix_bad005.mp4", ("bichraix_good004.mp4", "bichraix_bad006.mp4"))
TBY66 = ("tby66_0016r_1.mp4", ("tby66_0016c_1.mp4", "tby66_0016h_1.mp4"))
LUMBAR = ("max_lumbar_flexion_deg", 5.0)
BOW = ("max_back_bend_deg", 10.0)


@pytest.mark.parametrize(
    ("rounded", "others", "key", "margin"),
    [
        (*BICHRAIX, *LUMBAR),
        (*BICHRAIX, *BOW),
        (*TBY66, *LUMBAR),
        (*TBY66, *BOW),
    ],
)
def test_same_lifter_rounded_clip_peaks_higher(
    footage_runs, clip_labels, rounded, others, key, margin
):
    """The same lifter's rounded clip shows clearly more lumbar flexion and back bow than their
    other clips (margins above the measurement's error on rendered lifters)."""
    if rounded not in clip_labels:
        pytest.skip(f"{rounded} not in the footage")
    top = _peak(_report(footage_runs, rounded), key)
    for other in others:
        assert top >= _peak(_report(footage_runs, other), key) + margin, other
