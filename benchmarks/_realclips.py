"""Shared by the real-clip benchmark and the verdict fit: labelled clips, cached pass one.

In:  ../shared/footage (clips and LABELS.tsv) and a cache folder.
Out: `Clip` rows (label, group, view, reps, author labels) and `analysis_of(clip)`, the
     library's `Analysis` of a clip, with pass one (pose, view, back outline) stored in the cache
     under the clip's content hash and the options that change it, so a re-run is seconds.
"""

from __future__ import annotations

import csv
import hashlib
import json
import pickle
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from formcheck.errors import FormcheckError
from formcheck.passone import observe_video
from formcheck.pipeline import Analysis, AnalysisOptions, analyze_observations
from formcheck.posemodels import resolve, retry_model
from formcheck.video import probe

ROOT = Path(__file__).resolve().parents[1]
FOOTAGE = ROOT.parent / "shared" / "footage"
CACHE = Path.home() / ".cache" / "formcheck" / "realclips"
# Bumped whenever pass one's output changes (its shape, or how landmarks are smoothed).
CACHE_VERSION = 5
PHASES = ("setup", "descent", "ascent", "lockout")


@dataclass
class Clip:
    file: str
    path: Path
    exercise: str
    view: str
    label: str  # rounded | neutral | not_rounded
    reps: str  # "3", "10-11", "0", "hold"
    group: str
    author: dict[str, list[str]]  # phase -> the author's labels for it

    @property
    def side_on(self) -> bool:
        return self.view.startswith("side")

    @property
    def hold(self) -> bool:
        return self.reps == "hold"

    @property
    def rounded(self) -> bool:
        return self.label == "rounded"

    def rep_range(self) -> tuple[int, int] | None:
        if self.hold:
            return None
        lo, _, hi = self.reps.partition("-")
        return int(lo), int(hi or lo)


def parse_author(text: str) -> dict[str, list[str]]:
    """'setup: rounded upper back; descent: rounded lower back, bar drifts' -> per phase."""
    out: dict[str, list[str]] = {}
    for part in text.split(";"):
        phase, _, labels = part.partition(":")
        phase = phase.strip()
        if phase in PHASES:
            out[phase] = [s.strip() for s in labels.split(",") if s.strip()]
    return out


def load_clips(footage: Path = FOOTAGE) -> list[Clip]:
    """Every row of LABELS.tsv; [] without the footage folder."""
    labels = footage / "LABELS.tsv"
    if not labels.exists():
        return []
    with labels.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [
        Clip(
            file=r["file"],
            path=footage / r["file"],
            exercise=r["exercise"],
            view=r["view"],
            label=r["label"],
            reps=r["reps"].strip(),
            group=r["group"],
            author=parse_author(r.get("author_labels", "") or ""),
        )
        for r in rows
    ]


def _key(path: Path, opts: AnalysisOptions) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    parts = [CACHE_VERSION, asdict(opts.spine), opts.max_side, opts.pose_hz]
    model = resolve(opts.model, "offline")
    if model != "full":
        parts.append(model)
    h.update(json.dumps(parts, sort_keys=True).encode())
    return h.hexdigest()[:24]


class _Unpickler(pickle.Unpickler):
    """Reads caches written when `Observation` lived in formcheck.pipeline."""

    def find_class(self, module: str, name: str):
        if module == "formcheck.pipeline" and name == "Observation":
            module = "formcheck.passone"
        return super().find_class(module, name)


def _load(entry: Path):
    with entry.open("rb") as fh:
        return _Unpickler(fh).load()


def analysis_of(clip: Clip, opts: AnalysisOptions, cache: Path = CACHE) -> Analysis:
    """The analysis of one clip as `formcheck analyze` makes it: with the model "auto", a clip
    whose back was not traced is read again with the retry model (`Analysis.wants_retry`), and
    that reading is kept when it judges more reps. Pass one comes from the cache when it holds
    the clip."""
    analysis = _analysis(clip, opts, cache)
    retry = retry_model(opts.model, "offline") if analysis.wants_retry() else None
    if retry is not None:
        try:
            again = _analysis(clip, replace(opts, model=retry), cache)
        except FormcheckError:
            return analysis
        if again.improves_on(analysis):
            return again
    return analysis


def _analysis(clip: Clip, opts: AnalysisOptions, cache: Path) -> Analysis:
    cache.mkdir(parents=True, exist_ok=True)
    entry = cache / f"{clip.path.stem}-{_key(clip.path, opts)}.pkl"
    if entry.exists():
        info, obs = _load(entry)
    else:
        info = probe(clip.path)
        first = observe_video(clip.path, opts, info=info)
        obs = first.observations
        entry.write_bytes(pickle.dumps((info, obs), protocol=pickle.HIGHEST_PROTOCOL))
    return analyze_observations(info, obs, opts)


# --- features and a small logistic regression, for the verdict fit and its cross-validation ---

# The shipped model's feature: the back's outward bow at the bottom of the rep (the shape test
# the earlier fixed rule used). Fixed before fitting, so only its weight and offset are fitted.
FEATURES: tuple[str, ...] = ("bow",)
# Other feature sets, for the nested check: a fit that picks among them by inner
# leave-one-group-out, so the choice is part of what the outer folds score.
FEATURE_SETS: tuple[tuple[str, ...], ...] = (
    ("bow",),
    ("bow", "lumbar"),
    ("bow", "thoracic"),
    ("bow", "lumbar", "thoracic"),
    ("lumbar",),
)
# The keypoint-only baseline: what a checker without the back outline has.
KEYPOINT_FEATURES = ("trunk_thigh", "trunk_incl", "knee", "neck")


def keypoint_measures(analysis: Analysis, rep) -> dict[str, float]:
    """Keypoint-only measures at a rep's bottom frame: trunk-thigh angle (beyond standing),
    trunk inclination, knee flexion, and the head's drop against the trunk line."""
    import numpy as np

    times = np.array([f.t for f in analysis.frames])
    f = analysis.frames[int(np.argmin(np.abs(times - rep.rep.bottom_s)))]
    out = {k: float("nan") for k in KEYPOINT_FEATURES}
    if not f.pose or f.landmarks is None:
        return out
    lm = f.landmarks[:, :2]
    hip, shoulder = lm[[23, 24]].mean(0), lm[[11, 12]].mean(0)
    ear = lm[[7, 8]].mean(0)
    trunk, head = shoulder - hip, ear - shoulder
    cos = float(np.dot(trunk, head) / max(np.linalg.norm(trunk) * np.linalg.norm(head), 1e-9))
    out.update(
        trunk_thigh=f.trunk_thigh_deg if f.trunk_thigh_deg is not None else float("nan"),
        trunk_incl=f.trunk_inclination_deg or float("nan"),
        knee=f.knee_flexion_deg if f.knee_flexion_deg is not None else float("nan"),
        neck=float(np.degrees(np.arccos(max(-1.0, min(1.0, cos))))),
    )
    return out


def rep_vector(analysis: Analysis, rep, names: tuple[str, ...]) -> list[float]:
    """One rep's features by name: back measures at the bottom, or keypoint measures."""
    kp = keypoint_measures(analysis, rep) if set(names) & set(KEYPOINT_FEATURES) else {}
    out = []
    for n in names:
        v = kp[n] if n in KEYPOINT_FEATURES else rep.bottom.value(n)
        out.append(float("nan") if v is None else float(v))
    return out


def fit_logistic(x, y, weights=None, l2: float = 1.0):
    """L2-regularised logistic regression on standardised features (Newton steps), samples
    weighted by `weights`. Returns (mean, scale, coef, intercept)."""
    import numpy as np

    x, y = np.asarray(x, float), np.asarray(y, float)
    sw = np.ones(len(x)) if weights is None else np.asarray(weights, float)
    mean = (x * sw[:, None]).sum(0) / sw.sum()
    scale = np.sqrt((((x - mean) ** 2) * sw[:, None]).sum(0) / sw.sum())
    scale[scale < 1e-6] = 1.0
    z = np.column_stack([np.ones(len(x)), (x - mean) / scale])
    w = np.zeros(z.shape[1])
    reg = np.eye(z.shape[1]) * l2
    reg[0, 0] = 0.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ w, -50, 50)))
        grad = z.T @ (sw * (p - y)) + reg @ w
        hess = z.T @ (z * (sw * p * (1 - p))[:, None]) + reg + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return mean, scale, w[1:], float(w[0])


def predict(model, x):
    import numpy as np

    mean, scale, coef, intercept = model
    z = intercept + ((np.asarray(x, float) - mean) / scale) @ coef
    return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))


# --- cross-validated verdicts: the product's own judge on reps of clips left out ---


@dataclass
class Case:
    """A labelled clip and its analysis (reps with their back measures)."""

    clip: Clip
    analysis: Analysis

    @property
    def parts(self) -> list:
        """What the verdict judges: the reps, and the bends that made no rep."""
        return [*self.analysis.reps, *self.analysis.partials]

    @property
    def viewing(self):
        from formcheck.verdict import Viewing

        a = self.analysis
        return Viewing(a.view.kind, a.view.yaw_deg, a.neutral.back_bend, a.view.turned)


def to_model(fit, names: tuple[str, ...], unsure: float):
    from formcheck.verdict import VerdictModel

    mean, scale, coef, intercept = fit
    return VerdictModel(
        features=tuple(names),
        mean=tuple(round(float(v), 4) for v in mean),
        scale=tuple(round(float(v), 4) for v in scale),
        coef=tuple(round(float(v), 4) for v in coef),
        intercept=round(float(intercept), 4),
        unsure=unsure,
    )


def fit_cases(cases: list[Case], names: tuple[str, ...], unsure: float, l2: float = 1.0):
    """Fit on the reps of `cases` (each clip's reps weighted 1/reps, and the two labels
    weighted alike, as rounded clips are the fewer), keypoint features by name too; None when
    no rep has every feature."""
    import numpy as np

    xs, ys, ws = [], [], []
    for c in cases:
        reps = c.parts
        for r in reps:
            v = rep_vector(c.analysis, r, names)
            if all(np.isfinite(v)) and r.bottom.coverage > 0:
                xs.append(v)
                ys.append(1.0 if c.clip.rounded else 0.0)
                ws.append(1.0 / len(reps))
    if len(set(ys)) < 2:
        return None
    ys_, ws_ = np.array(ys), np.array(ws)
    for label in (0.0, 1.0):
        ws_[ys_ == label] /= ws_[ys_ == label].sum()
    return fit_logistic(xs, ys, ws_ * len(set(map(id, cases))) / 2, l2)


def judge_case(case: Case, model, names: tuple[str, ...]):
    """The clip's set verdict under `model` (the product's `judge_rep` and `set_verdict`), and
    the reps' verdicts. Keypoint-only models are judged by the same logic on their features."""
    from formcheck.verdict import judge_rep, set_verdict

    verdicts = []
    for r in case.parts:
        if set(names) & set(KEYPOINT_FEATURES):
            values = dict(zip(names, rep_vector(case.analysis, r, names), strict=True))
            bottom = _KeypointMeasures(values, coverage=1.0)
            verdicts.append(judge_rep(bottom, {}, case.viewing, model))
        else:
            verdicts.append(judge_rep(r.bottom, r.phase_measures, case.viewing, model))
    return set_verdict(verdicts), verdicts


class _KeypointMeasures:
    """Keypoint features in the shape `VerdictModel.probability` reads (no lumbar reading)."""

    lumbar = None

    def __init__(self, values: dict[str, float], coverage: float) -> None:
        self.values, self.coverage = values, coverage

    def value(self, name: str) -> float | None:
        v = self.values.get(name)
        return None if v is None or v != v else v


def balanced(cases: list[Case], states: list[str]) -> tuple[float, float, float]:
    """Balanced accuracy, sensitivity, specificity of clip verdicts ("not_judged" is wrong)."""
    pos = [s for c, s in zip(cases, states, strict=True) if c.clip.rounded]
    neg = [s for c, s in zip(cases, states, strict=True) if not c.clip.rounded]
    sens = sum(s == "rounded" for s in pos) / max(len(pos), 1)
    spec = sum(s == "flat" for s in neg) / max(len(neg), 1)
    return (sens + spec) / 2, sens, spec


def logo_states(
    cases: list[Case],
    sets: tuple[tuple[str, ...], ...],
    unsure: float,
    inner: bool = True,
) -> tuple[list[str], list[tuple[str, ...]]]:
    """Leave one group out: for each group, fit on the others (choosing the feature set among
    `sets` by an inner leave-one-group-out when `inner`) and judge the group's clips. Returns
    each clip's state and the feature set its fold used."""
    groups = sorted({c.clip.group for c in cases})
    states: dict[int, str] = {}
    used: dict[int, tuple[str, ...]] = {}
    for g in groups:
        train = [c for c in cases if c.clip.group != g]
        names = choose_set(train, sets, unsure) if inner and len(sets) > 1 else sets[0]
        fit = fit_cases(train, names, unsure)
        for i, c in enumerate(cases):
            if c.clip.group != g:
                continue
            if fit is None:
                states[i] = "not_judged"
            else:
                states[i] = judge_case(c, to_model(fit, names, unsure), names)[0].state
            used[i] = names
    return [states[i] for i in range(len(cases))], [used[i] for i in range(len(cases))]


def choose_set(
    cases: list[Case], sets: tuple[tuple[str, ...], ...], unsure: float
) -> tuple[str, ...]:
    """The feature set with the best leave-one-group-out balanced accuracy on `cases` (the
    smaller set on a tie)."""
    scored = []
    for k, names in enumerate(sets):
        states, _ = logo_states(cases, (names,), unsure, inner=False)
        scored.append((-balanced(cases, states)[0], len(names), k))
    return sets[min(scored)[2]]


# Which of our rep phases an author's phase label speaks of.
PHASE_MAP = {
    "setup": {"setup"},
    "descent": {"descent", "bottom"},
    "ascent": {"ascent", "bottom"},
    "lockout": set(),
}


def phase_agreement(clip: Clip, rep_verdicts) -> tuple[int, int]:
    """(agreeing, labelled) phases: the author's "rounded lower back" in a phase against a
    lumbar rounding verdict of ours in that phase. Only clips the method judged count."""
    if not clip.author or not rep_verdicts or all(v.state == "not_judged" for v in rep_verdicts):
        return 0, 0
    ours = {p for v in rep_verdicts if v.state == "rounded" for p in v.phases}
    agree = total = 0
    for phase, labels in clip.author.items():
        theirs = "rounded lower back" in labels
        mine = bool(ours & PHASE_MAP[phase])
        agree += theirs == mine
        total += 1
    return agree, total


def upper_back_agreement(clip: Clip, analysis: Analysis) -> tuple[int, int, int]:
    """(found, labelled, flagged unlabelled): the author's "rounded upper back" phases that got
    a `thoracic_rounding` finding of ours, how many there were, and our thoracic findings in
    labelled phases the author did not call rounded in the upper back."""
    ours = {
        p
        for part in [*analysis.reps, *analysis.partials]
        for f in part.findings
        if f.code == "thoracic_rounding"
        for p in f.phases
    }
    found = labelled = extra = 0
    for phase, labels in clip.author.items():
        theirs = "rounded upper back" in labels
        mine = bool(ours & PHASE_MAP[phase])
        labelled += theirs
        found += theirs and mine
        extra += mine and not theirs
    return found, labelled, extra
