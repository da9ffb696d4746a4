"""Lumbar and hip flexion measured on synthetic lifters against their true angles, and the
fitted parameter file shipped with the library."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from formcheck.pipeline import AnalysisOptions, analyze_video
from formcheck.synth import SynthSpec, render_clip

ROOT = Path(__file__).resolve().parents[1]


def _values(frames: list[dict], name: str) -> np.ndarray:
    return np.array([np.nan if f[name] is None else f[name] for f in frames], dtype=float)


def _clip(folder: Path, kind: str) -> dict:
    """Render one rep (average body, true side view), analyse it in one piece (the measurement
    alone: splitting a clip is tested against this in test_parallel); truth and report aligned."""
    spec = SynthSpec(kind=kind, reps=1, body="average", yaw_deg=0.0, width=640, height=360)
    mp4, truth_path = folder / f"{kind}.mp4", folder / f"{kind}.json"
    render_clip(spec, mp4, truth_path)
    truth_doc = json.loads(truth_path.read_text())
    report = analyze_video(mp4, AnalysisOptions(workers=1))
    frames = report["frames"]
    truth = truth_doc["frames"]
    assert len(frames) == len(truth)
    out = {"report": report}
    for name in ("lumbar_flexion_deg", "hip_flexion_deg", "thoracic_flexion_deg"):
        out[f"true_{name}"] = np.array([f[name] for f in truth])
        out[name] = _values(frames, name)
    out["trunk_thigh_deg"] = _values(frames, "trunk_thigh_deg")
    trunk = np.array([f["trunk_inclination_deg"] for f in truth])
    thigh = np.array([f["ankle_flexion_deg"] - f["knee_flexion_deg"] for f in truth])
    out["true_trunk_thigh_deg"] = trunk - truth_doc["trunk_inclination_neutral_deg"] - thigh
    return out


def _mae(a: np.ndarray, b: np.ndarray) -> float:
    ok = np.isfinite(a) & np.isfinite(b)
    assert ok.mean() > 0.8, "too few frames measured"
    return float(np.mean(np.abs(a[ok] - b[ok])))


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    folder = tmp_path_factory.mktemp("synth")
    return {kind: _clip(folder, kind) for kind in ("hinge_round", "hinge_flat")}


@pytest.mark.slow
def test_rounded_hinge_is_measured_and_flagged(clips: dict[str, dict]) -> None:
    c = clips["hinge_round"]
    true_peak = float(c["true_lumbar_flexion_deg"].max())
    measured_peak = c["report"]["summary"]["peak_lumbar_flexion_deg"]
    assert measured_peak is not None
    assert abs(measured_peak - true_peak) <= 8.0, (measured_peak, true_peak)
    assert _mae(c["true_hip_flexion_deg"], c["hip_flexion_deg"]) <= 8.0
    assert c["report"]["summary"]["rep_count"] == 1
    assert c["report"]["reps"][0]["rounding"] is True


@pytest.mark.slow
def test_flat_hinge_is_not_flagged(clips: dict[str, dict]) -> None:
    c = clips["hinge_flat"]
    assert c["report"]["summary"]["rep_count"] == 1
    assert c["report"]["summary"]["rounding"] is False
    assert _mae(c["true_lumbar_flexion_deg"], c["lumbar_flexion_deg"]) <= 5.0
    assert _mae(c["true_hip_flexion_deg"], c["hip_flexion_deg"]) <= 8.0


@pytest.mark.slow
def test_a_hollow_standing_back_that_flattens_is_not_rounding(tmp_path: Path) -> None:
    """A lifter who stands with a hollow back and hinges with a flat one loses ~17 deg of
    lordosis from their own standing posture: the report shows that as lumbar flexion beyond
    neutral, and the verdict stays flat (the back's outline does not bow)."""
    c = _clip(tmp_path, "hinge_hollow")
    rep = c["report"]["reps"][0]
    assert c["report"]["summary"]["rep_count"] == 1
    true_beyond = c["true_lumbar_flexion_deg"] - c["true_lumbar_flexion_deg"][0]
    assert _mae(true_beyond, c["lumbar_flexion_deg"]) <= 5.0
    assert rep["max_lumbar_flexion_deg"] >= 10.0
    assert rep["verdict"] == "flat" and rep["confidence_level"] == "high"


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["hinge_flat", "hinge_round"])
def test_hip_and_spine_add_up_to_the_trunk_thigh_angle(clips: dict[str, dict], kind: str) -> None:
    """Hip + lumbar + thoracic flexion is the bend from thigh to upper back; the keypoint
    trunk-thigh angle is the bend from thigh to the hip-shoulder chord. They differ by what a
    rounded back adds beyond the chord, so the measured gap must follow the true gap: closely
    over the clip, within a wider margin in the bent frames alone."""
    c = clips[kind]
    total = c["hip_flexion_deg"] + c["lumbar_flexion_deg"] + c["thoracic_flexion_deg"]
    gap = total - c["trunk_thigh_deg"]
    true_total = (
        c["true_hip_flexion_deg"] + c["true_lumbar_flexion_deg"] + c["true_thoracic_flexion_deg"]
    )
    true_gap = true_total - c["true_trunk_thigh_deg"]
    ok = np.isfinite(gap)
    assert ok.mean() > 0.8
    assert float(np.median(np.abs(gap[ok] - true_gap[ok]))) <= 4.0
    bent = ok & (c["true_hip_flexion_deg"] >= 20.0)
    assert bent.sum() >= 20
    assert float(np.median(np.abs(gap[bent] - true_gap[bent]))) <= 9.0


def test_fitted_parameter_file_is_shipped_once_and_read_by_one_loader() -> None:
    from formcheck.params import PARAMS_PATH, rounding_rule, spine_params

    copies = [
        p
        for d in ("formcheck", "models", "benchmarks", "server")
        for p in (ROOT / d).rglob("*.json")
        if p.name == "spine.json"
    ]
    assert [p.relative_to(ROOT).as_posix() for p in copies] == ["formcheck/data/spine.json"]
    doc = json.loads(PARAMS_PATH.read_text())
    assert {"params", "rule", "fitted", "verdict"} <= set(doc)
    assert doc["params"]["lumbar_gain"] > 0 and doc["params"]["thoracic_gain"] > 0
    assert spine_params().lumbar_gain == doc["params"]["lumbar_gain"]
    assert list(rounding_rule().verdict.coef) == doc["verdict"]["coef"]
