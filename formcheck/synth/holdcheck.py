"""Check a rendered hold clip against MediaPipe: does the pose model find the mannequin, and does
the shoulder-hip-ankle angle from its landmarks track the true `body_line_deg`?

In:  a hold spec (command-line flags as for `formcheck synth`), rendered to MP4 + JSON here.
Out: a printed summary: hold frames with a pose found, MAE of the landmark angle against
     `body_line_deg`, and of the signed deviation against `hip_sag_deg` / `hip_drop_deg` (raw,
     and after removing the mean offset), and the means on the straight and on the fully faulted
     part of the hold. The angle is 2D, from image landmarks (shoulder, hip and ankle centres =
     means of BlazePose 11/12, 23/24, 27/28), as the camera sees the sagittal (plank) or
     frontal (side plank) plane. Per-frame rows go to OUT_DIR/<kind>_mediapipe.json.

Run: python -m formcheck.synth.holdcheck OUT_DIR --kind plank --sag 15 [synth flags...]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import av
import numpy as np

from formcheck.synth.cli import add_synth_parser, spec_from_args
from formcheck.synth.clip import render_clip


def _angle(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> float:
    u, v = a - b, c - b
    cos = np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v))
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))


def signed_deviation(shoulder: np.ndarray, hip: np.ndarray, ankle: np.ndarray) -> float:
    """180 - the image angle at the hip, positive when the hip is below (image +y, the floor)
    the shoulder-ankle line."""
    line = shoulder - ankle
    off = (hip - ankle) - np.dot(hip - ankle, line) / np.dot(line, line) * line
    return (180.0 - _angle(shoulder, hip, ankle)) * (1.0 if off[1] >= 0 else -1.0)


def measure(mp4: Path, truth: dict, tracking: bool = True) -> list[dict]:
    """Per frame: truth, whether a pose was found, and the landmark angle and deviation."""
    from formcheck.estimator import EstimatorConfig, PoseEstimator

    key = "hip_drop_deg" if truth["spec"]["kind"] == "side_plank" else "hip_sag_deg"
    rows = []
    with (
        PoseEstimator(EstimatorConfig(max_side=640, tracking=tracking)) as est,
        av.open(str(mp4)) as container,
    ):
        for i, frame in enumerate(container.decode(video=0)):
            true = truth["frames"][i]
            pose = est(frame.to_ndarray(format="rgb24"), None, i)
            row = {
                "t": true["t"],
                "holding": true["holding"],
                "true_line": true["body_line_deg"],
                "true_dev": true[key],
                "found": pose is not None,
            }
            if pose is not None:
                lm = pose.landmarks[:, :2]
                sh, hip, an = lm[[11, 12]].mean(0), lm[[23, 24]].mean(0), lm[[27, 28]].mean(0)
                row["line"] = _angle(sh, hip, an)
                row["dev"] = signed_deviation(sh, hip, an)
            rows.append(row)
    return rows


def summarise(rows: list[dict]) -> dict:
    held = [r for r in rows if r["holding"]]
    found = [r for r in held if r["found"]]
    out = {"frames": len(rows), "found_all": sum(r["found"] for r in rows)}
    out |= {"hold_frames": len(held), "found": len(found)}
    if not found:
        return out
    line = np.array([r["line"] for r in found])
    true_line = np.array([r["true_line"] for r in found])
    dev = np.array([r["dev"] for r in found])
    true_dev = np.array([r["true_dev"] for r in found])
    err = dev - true_dev
    out |= {
        "body_line_mae_deg": float(np.mean(np.abs(line - true_line))),
        "deviation_mae_deg": float(np.mean(np.abs(err))),
        "deviation_bias_deg": float(np.mean(err)),
        "deviation_mae_after_bias_deg": float(np.mean(np.abs(err - err.mean()))),
    }
    straight = np.abs(true_dev) < 0.01
    full = np.abs(true_dev - true_dev[np.argmax(np.abs(true_dev))]) < 0.01
    if straight.any():
        out["straight"] = {"true_dev": 0.0, "mp_dev": float(dev[straight].mean())}
    if full.any() and not straight.all():
        out["full_fault"] = {
            "true_dev": float(true_dev[full][0]),
            "mp_dev": float(dev[full].mean()),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="holdcheck")
    sub = parser.add_subparsers(dest="command", required=True)
    synth = add_synth_parser(sub)
    synth.add_argument("--static", action="store_true", help="detect afresh on every frame")
    args = parser.parse_args(["synth", *(sys.argv[1:] if argv is None else argv)])
    spec = spec_from_args(args)
    if not spec.is_hold:
        parser.error("holdcheck is for --kind plank or side-plank")
    folder = Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)
    mp4, truth_path = folder / f"{spec.kind}.mp4", folder / f"{spec.kind}.json"
    render_clip(spec, mp4, truth_path)
    truth = json.loads(truth_path.read_text())
    rows = measure(mp4, truth, tracking=not args.static)
    (folder / f"{spec.kind}_mediapipe.json").write_text(json.dumps(rows, indent=1))
    s = summarise(rows)
    print(f"{mp4}: pose found on {s['found']}/{s['hold_frames']} hold frames, ", end="")
    print(f"{s['found_all']}/{s['frames']} frames in all")
    for name in (
        "body_line_mae_deg",
        "deviation_mae_deg",
        "deviation_bias_deg",
        "deviation_mae_after_bias_deg",
    ):
        if name in s:
            print(f"  {name}: {s[name]:.2f}")
    for part in ("straight", "full_fault"):
        if part in s:
            p = s[part]
            print(f"  {part}: true {p['true_dev']:+.1f} deg, MediaPipe {p['mp_dev']:+.1f} deg")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
