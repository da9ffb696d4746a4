"""Verdict stage: did the lower back round — "rounded", "flat" or "not judged" — per rep and set.

In:  a rep's back measures (`BackMeasures`: peaks held at the bottom of the rep and in each of
     its phases), what the camera saw (`Viewing`: view kind and yaw, whether a standing neutral
     was found), and the fitted `VerdictModel` (formcheck/data/spine.json, key "verdict").
Out: `Verdict(state, confidence, reason, message)` per rep, with the phases where the back
     rounded; `set_verdict` for a whole set. `state` is "rounded", "flat" or "not_judged";
     `rounding` is True, False or None to match.

The model is a logistic regression on a few measures of the back's outline, fitted with whole
lifters held out (benchmarks/fit_verdict.py). The method only judges what it can see: an
oblique or frontal camera, a back that could not be traced at the bottom of the rep, or a score
too close to the line gives "not judged" with the reason and how to film instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

# Why a rep was not judged: reason code -> what to tell the person.
REASONS = {
    "oblique_view": "the camera is about {yaw:.0f} deg off side-on{turned}, so the outline is "
    "not the back's profile - film side-on, at hip height",
    "back_not_traced": "the back's outline could not be traced at the bottom of the rep "
    "(plates or arms in the way, loose clothing or poor light) - film side-on with the back "
    "in clear view",
    "ambiguous": "the back's shape is too close to the line between flat and rounded to call - "
    "film side-on, at hip height, in fitted clothing, starting standing tall",
    "no_rep": "no complete rep to judge",
    "outline_conflict": "the back's outline bowed, but the lower back did not flex beyond your "
    "standing posture (a rounded upper back, or a loose shirt over the back, bows the outline) - "
    "film side-on in fitted clothing, starting standing tall",
}
# Reasons whose rep was measured all the same: its figures stand, with their uncertainty.
MEASURED_REASONS = ("ambiguous", "outline_conflict")
# A rep's back is judged only where the outline was traced in at least this share of the
# frames at its bottom.
MIN_BOTTOM_COVERAGE = 0.5
# Camera yaw up to which the back is judged (the spine stage's side view).
MAX_JUDGED_YAW_DEG = 30.0
# A verdict with less confidence than this (p(rounded) within 0.25 of 0.5) is told as likely,
# not as a fact: "probably rounded", "probably flat".
SURE_CONFIDENCE = 0.5
LOW_CONFIDENCE_NOTE = (
    "low confidence: the back's outline was near the line between flat and rounded - film "
    "side-on, at hip height, in fitted clothing, starting standing tall, to be sure"
)


@dataclass
class Viewing:
    """What the camera saw of the lifter, for the whole clip or live session so far."""

    kind: str = "side"  # side | oblique | front
    yaw_deg: float = 0.0
    # The lifter's standing bow of the back (`Neutral.back_bend`); None without standing frames.
    standing_bow: float | None = None
    # Which side of the trunk the camera is turned to ("front" | "back"; `ViewEstimate.turned`).
    turned: str | None = None


@dataclass
class BackMeasures:
    """Measures of one stretch of a rep (the bottom, or one phase): peaks held for the rule's
    minimum duration, degrees; None where the outline was not traced long enough."""

    lumbar: float | None = None  # lumbar flexion beyond neutral
    bow: float | None = None  # the back's outward bow, absolute (see spine.bow)
    bow_change: float | None = None  # the bow against the lifter's standing bow
    thoracic: float | None = None
    coverage: float = 0.0  # share of the stretch's frames with a traced outline

    def value(self, name: str) -> float | None:
        return getattr(self, name)


@dataclass
class VerdictModel:
    """Logistic regression: p(rounded) = 1 / (1 + exp(-(b + sum w_i (x_i - m_i) / s_i)))."""

    features: tuple[str, ...] = ("bow",)
    mean: tuple[float, ...] = (0.0,)
    scale: tuple[float, ...] = (10.0,)
    coef: tuple[float, ...] = (2.0,)
    intercept: float = -4.0
    # Probabilities within this of 0.5 are "not judged: ambiguous".
    unsure: float = 0.05
    # A bowed outline with the lower back less flexed than this beyond neutral (a bulky upper
    # back, a hunched posture held from standing, a loose shirt) is not judged: the two
    # measures disagree. A prior, not fitted: the smallest flexion worth flagging beyond the
    # 4-8 deg that lumbar sensors can resolve.
    min_lumbar_deg: float = 15.0

    def probability(self, m: BackMeasures) -> float | None:
        """p(rounded) for the measures, or None when a feature the model needs is missing."""
        z = self.intercept
        for name, mu, sd, w in zip(self.features, self.mean, self.scale, self.coef, strict=True):
            x = m.value(name)
            if x is None or not math.isfinite(x):
                return None
            z += w * (x - mu) / sd
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))

    @classmethod
    def from_dict(cls, data: dict) -> VerdictModel:
        known = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**{k: v for k, v in known.items() if k in cls.__dataclass_fields__})


@dataclass
class Verdict:
    state: str  # rounded | flat | not_judged
    confidence: float  # 0..1: how far the score is from the line (0 when not judged)
    probability: float | None = None  # p(rounded) from the model
    reason: str | None = None  # reason code when not judged
    message: str | None = None
    phases: list[str] = field(default_factory=list)  # where it rounded

    @property
    def rounding(self) -> bool | None:
        return None if self.state == "not_judged" else self.state == "rounded"

    @property
    def confidence_level(self) -> str | None:
        """A judged verdict's level: "high", or "low" below `SURE_CONFIDENCE`; None when not
        judged."""
        if self.state == "not_judged":
            return None
        # Read from the confidence as reported (two decimals), so the level and the number
        # shown beside it agree at the boundary.
        return "high" if round(self.confidence, 2) >= SURE_CONFIDENCE else "low"

    @property
    def likely(self) -> str:
        """The word a sentence stating this verdict puts before it (see `likely_word`)."""
        return likely_word(self.confidence_level)

    @property
    def note(self) -> str | None:
        """Why the verdict is what it is: the reason it was not judged, or that its confidence
        is low; None for a clear verdict."""
        if self.message:
            return self.message
        return (
            f"This verdict has {LOW_CONFIDENCE_NOTE}." if self.confidence_level == "low" else None
        )

    @property
    def measured(self) -> bool:
        """The back was measured: judged, or too close to the line to call (its figures stand,
        with their uncertainty); False where the view or the outline did not allow it."""
        return self.state != "not_judged" or self.reason in MEASURED_REASONS

    def to_dict(self) -> dict:
        return {
            "verdict": self.state,
            "confidence": round(self.confidence, 2),
            "confidence_level": self.confidence_level,
            "reason": self.reason,
        }


def likely_word(confidence_level: str | None) -> str:
    """ "probably " before a verdict whose confidence level is "low", else ""."""
    return "probably " if confidence_level == "low" else ""


# How an oblique camera is turned, in the "not judged" reason.
TURNED_TEXT = {"front": ", towards your front", "back": ", towards your back"}


def not_judged(reason: str, viewing: Viewing | None = None) -> Verdict:
    yaw = viewing.yaw_deg if viewing is not None else float("nan")
    turned = TURNED_TEXT.get(viewing.turned, "") if viewing is not None else ""
    text = REASONS[reason].format(yaw=yaw if math.isfinite(yaw) else 0.0, turned=turned)
    return Verdict("not_judged", 0.0, None, reason, f"Not judged: {text}.")


def judge_rep(
    bottom: BackMeasures,
    phases: dict[str, BackMeasures],
    viewing: Viewing,
    model: VerdictModel,
) -> Verdict:
    """The verdict of one rep from its bottom's measures; `phases` (descent, bottom, ascent, ...)
    say where the back rounded when it did."""
    if viewing.kind != "side" or viewing.yaw_deg > MAX_JUDGED_YAW_DEG:
        return not_judged("oblique_view", viewing)
    p = model.probability(bottom)
    if p is None or bottom.coverage < MIN_BOTTOM_COVERAGE:
        return not_judged("back_not_traced", viewing)
    if abs(p - 0.5) < model.unsure:
        verdict = not_judged("ambiguous", viewing)
        verdict.probability = p
        return verdict
    confidence = min(1.0, 2.0 * abs(p - 0.5))
    if p < 0.5:
        return Verdict("flat", confidence, p)
    if _below_lumbar_floor(bottom, model):
        verdict = not_judged("outline_conflict", viewing)
        verdict.probability = p
        return verdict
    where = [
        name
        for name, m in phases.items()
        if (q := model.probability(m)) is not None
        and q >= 0.5 + model.unsure
        and not _below_lumbar_floor(m, model)
    ]
    return Verdict("rounded", confidence, p, phases=where or ["bottom"])


def _below_lumbar_floor(m: BackMeasures, model: VerdictModel) -> bool:
    return m.lumbar is not None and m.lumbar < model.min_lumbar_deg


def set_verdict(verdicts: list[Verdict]) -> Verdict:
    """The set's verdict: rounded if any rep rounded; flat if no rep rounded and at least half
    of the reps were judged (confidence scaled by the share judged); else not judged, with the
    first unjudged rep's reason."""
    if not verdicts:
        return not_judged("no_rep")
    rounded = [v for v in verdicts if v.state == "rounded"]
    if rounded:
        return Verdict("rounded", max(v.confidence for v in rounded), None)
    flat = [v for v in verdicts if v.state == "flat"]
    skipped = [v for v in verdicts if v.state == "not_judged"]
    if len(flat) >= len(skipped) and flat:
        share = len(flat) / len(verdicts)
        return Verdict("flat", share * min(v.confidence for v in flat), None)
    first = skipped[0]
    return Verdict("not_judged", 0.0, None, first.reason, first.message)
