"""Shared helpers of the accuracy benchmark and the spine fit: a grid of synthetic clips.

In:  grid choices (quick or full, "eval" or "fit" split), a cache folder, analysis options.
Out: `GridClip`s (name + `SynthSpec`), rendered clips cached by spec, and `ClipResult`s: the
     true and measured per-frame angles of a clip aligned by frame index, plus its verdicts.

The "eval" split (accuracy table) and the "fit" split (parameter fit) differ in clothing colour
and seed, so the fitted numbers are checked on clips they were not fitted on.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from formcheck.errors import FormcheckError
from formcheck.synth import SynthSpec, render_clip

BODIES: tuple[str, ...] = ("slim", "average", "heavy")
YAWS: tuple[float, ...] = (0.0, 15.0, -15.0, 30.0, -30.0)
KINDS: tuple[str, ...] = ("hinge_flat", "hinge_round")
QUICK_BODIES: tuple[str, ...] = ("slim", "heavy")
QUICK_YAWS: tuple[float, ...] = (0.0, -15.0, 30.0)
SPLITS: dict[str, tuple[str, int]] = {"eval": ("blue", 0), "fit": ("grey", 100)}


@dataclass(frozen=True)
class GridClip:
    name: str
    spec: SynthSpec

    @property
    def key(self) -> str:
        """Short hash of the spec: a cached render is reused only for the identical spec."""
        text = json.dumps(self.spec.to_dict(), sort_keys=True)
        return hashlib.sha1(text.encode()).hexdigest()[:8]


def tilted(clip: GridClip, pitch_deg: float) -> GridClip:
    """The clip filmed from a camera tilted `pitch_deg` further down, higher up and aimed at
    the same point (the same clip at 0)."""
    if not pitch_deg:
        return clip
    spec = replace(clip.spec, pitch_deg=clip.spec.pitch_deg + pitch_deg)
    return GridClip(f"{clip.name}-pitch{pitch_deg:+g}", spec)


def make_grid(quick: bool = False, split: str = "eval", fps: float = 30.0) -> list[GridClip]:
    """Body shapes x camera yaw x hinge kind, one rep each at 640x360 (30 fps unless `fps`);
    facing alternates so every yaw and kind is seen facing both ways."""
    clothing, seed0 = SPLITS[split]
    bodies, yaws = (QUICK_BODIES, QUICK_YAWS) if quick else (BODIES, YAWS)
    clips = []
    for bi, body in enumerate(bodies):
        for yi, yaw in enumerate(yaws):
            for ki, kind in enumerate(KINDS):
                facing = ("right", "left")[(bi + yi + ki) % 2]
                seed = seed0 + len(clips)
                spec = SynthSpec(
                    kind=kind,
                    reps=1,
                    body=body,
                    clothing=clothing,
                    yaw_deg=yaw,
                    facing=facing,
                    width=640,
                    height=360,
                    fps=fps,
                    seed=seed,
                )
                clips.append(GridClip(f"{split}-{body}-{kind}-yaw{yaw:+.0f}-{facing}", spec))
    return clips


def render_cached(clip: GridClip, folder: Path) -> tuple[Path, Path]:
    """The clip's MP4 and truth JSON in `folder`, rendered only when not already there."""
    folder.mkdir(parents=True, exist_ok=True)
    mp4 = folder / f"{clip.name}-{clip.key}.mp4"
    truth = mp4.with_suffix(".json")
    if not (mp4.exists() and truth.exists()):
        tmp = mp4.with_name("tmp-" + mp4.name)
        render_clip(clip.spec, tmp, truth)
        tmp.replace(mp4)
    return mp4, truth


TRUTH_NAMES = ("lumbar_flexion_deg", "hip_flexion_deg", "thoracic_flexion_deg")


def load_truth(path: Path) -> dict[str, np.ndarray]:
    """True per-frame angles, plus the true trunk-thigh angle relative to standing."""
    doc = json.loads(Path(path).read_text())
    frames = doc["frames"]
    out = {n: np.array([f[n] for f in frames], dtype=float) for n in TRUTH_NAMES}
    trunk = (
        np.array([f["trunk_inclination_deg"] for f in frames])
        - doc["trunk_inclination_neutral_deg"]
    )
    thigh = np.array([f["ankle_flexion_deg"] - f["knee_flexion_deg"] for f in frames])
    out["trunk_thigh_deg"] = trunk - thigh
    return out


MEASURED_NAMES = (*TRUTH_NAMES, "trunk_thigh_deg")


@dataclass
class ClipResult:
    """True and measured angles of one clip, aligned by frame index (NaN = no value)."""

    name: str
    body: str
    yaw: float
    kind: str
    facing: str
    truth: dict[str, np.ndarray]
    measured: dict[str, np.ndarray]
    flagged: bool | None = None
    reps: int = 0
    error: str | None = None
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def frames(self) -> int:
        return len(self.truth["lumbar_flexion_deg"])


def series(values: Iterable[float | None], n: int) -> np.ndarray:
    arr = np.array([np.nan if v is None else v for v in values], dtype=float)
    if arr.size >= n:
        return arr[:n]
    return np.concatenate([arr, np.full(n - arr.size, np.nan)])


def result_from_frames(
    clip: GridClip, truth: dict[str, np.ndarray], frames: list[dict]
) -> ClipResult:
    """Align report frames (dicts with the angle names) with the truth by index."""
    n = len(truth["lumbar_flexion_deg"])
    measured = {name: series((f.get(name) for f in frames), n) for name in MEASURED_NAMES}
    s = clip.spec
    return ClipResult(clip.name, s.body, s.yaw_deg, s.kind, s.facing, truth, measured)


def analyse_clip(
    clip: GridClip, folder: Path, unfitted: bool = False, every_frame: bool = False
) -> ClipResult:
    """Render (cached) and analyse one clip with the normal pipeline: default options, or with
    `unfitted` the built-in defaults instead of the shipped fitted parameter file; with
    `every_frame` pose runs on every frame whatever the frame rate."""
    from formcheck.assess import RoundingRule
    from formcheck.pipeline import AnalysisOptions, analyze_video
    from formcheck.spine import SpineParams

    mp4, truth_path = render_cached(clip, folder)
    truth = load_truth(truth_path)
    start = time.perf_counter()
    try:
        opts = AnalysisOptions(spine=SpineParams(), rounding=RoundingRule()) if unfitted else None
        if every_frame:
            opts = replace(opts or AnalysisOptions(), pose_hz=None)
        report = analyze_video(mp4, opts)
    except FormcheckError as exc:
        res = result_from_frames(clip, truth, [])
        res.error = str(exc)
        return res
    res = result_from_frames(clip, truth, report["frames"])
    res.seconds = time.perf_counter() - start
    res.flagged = bool(report["summary"]["rounding"])
    res.reps = int(report["summary"]["rep_count"])
    res.extra = {
        "view": report["view"],
        "neutral": report["neutral"]["source"],
        "peak_lumbar": report["summary"]["peak_lumbar_flexion_deg"],
    }
    return res


def run_many(fn: Callable, items: list, jobs: int, log: Callable[[str], None] = print) -> list:
    """Apply fn to every item, in up to `jobs` worker processes (spawned: MediaPipe is not
    fork-safe); results keep the items' order."""
    if jobs <= 1:
        out = []
        for i, item in enumerate(items):
            out.append(fn(item))
            log(f"  [{i + 1}/{len(items)}] done")
        return out
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(jobs, 2), mp_context=ctx) as pool:
        futures = [pool.submit(fn, item) for item in items]
        out = []
        for i, fut in enumerate(futures):
            out.append(fut.result())
            log(f"  [{i + 1}/{len(items)}] done")
        return out


def mae(truth: np.ndarray, measured: np.ndarray) -> tuple[float, int]:
    """Mean absolute error over frames where both values exist, and how many there were."""
    ok = np.isfinite(truth) & np.isfinite(measured)
    if not ok.any():
        return float("nan"), 0
    return float(np.mean(np.abs(truth[ok] - measured[ok]))), int(ok.sum())
