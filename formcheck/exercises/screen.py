"""The hip-hinge screen: does a person's bending come from the hips or from the lower back?
Two tests, filmed from the side with no load: a standing forward bend (reach towards the toes,
knees straight) and a hip hinge (hands on the thighs, push the hips back, back flat).

In:  the clip's frames (`ExerciseFrame` with the lift stages' `angles`: hip and lumbar flexion
     relative to standing, trunk inclination), their times, the entry's rules.
Out: `ScreenResult`: the bends (as sided reps without a side: total bend, hip and lumbar
     flexion at the deepest point, the hips' share), per-frame measures, and `screen`: the
     deepest bend's figures, its lumbo-pelvic rhythm (lumbar-to-hip ratio over 0-30, 30-60 and
     60+ deg of trunk inclination), a verdict and a plain message against published norms.

Norms (Esola et al. 1996, Spine 21:71-78, 41 healthy adults, standing forward bend): total
about 111 deg, of which about 42 lumbar and 69 hip, so the hips give about 62%; the lumbar-to-
hip ratio is about 1.9 in the first 30 deg of the bend, 0.9 from 30 to 60, 0.4 beyond. A hinge
keeps the lower back near its standing shape while the hips bend. These are coaching
comparisons, not a diagnosis; the lower back's reading carries the method's uncertainty (see
the README).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..reps import Rep
from .registry import ExerciseFrame
from .sided import (
    REP_RULES,
    RepSpec,
    SidedFinding,
    SidedRep,
    SidedResult,
    finite_median,
    register_sided,
    rep_frames,
)

RULES = {
    **REP_RULES,
    "full_bend_deg": 90.0,  # trunk inclination counted as a full bend (signal 1)
    "min_hip_share": 0.5,  # forward bend: hips giving less of the bend than this: back-led
    "max_hinge_lumbar_deg": 15.0,  # hinge test: the lower back bending more than this
    # Readings this close to the line are told as likely, not as a fact: on renders the hip
    # share read up to 0.13 off and the lumbar flexion within about 3 deg (benchmarks/screen.py).
    "share_uncertainty": 0.1,
    "lumbar_uncertainty_deg": 5.0,
}
NORM = {
    "total_bend_deg": 111.0,
    "hip_deg": 69.0,
    "lumbar_deg": 42.0,
    "hip_share": 69.0 / 111.0,
    "lumbar_to_hip": ((0.0, 30.0, 1.9), (30.0, 60.0, 0.9), (60.0, 180.0, 0.4)),
    "source": "Esola et al. 1996, Spine 21:71-78",
}
BANDS = ((0.0, 30.0), (30.0, 60.0), (60.0, 180.0))
FINDINGS = {
    "back_led": "the lower back did more of the bend than the hips: hips stiff, the back made up",
    "back_bent": "the lower back bent as the hips pushed back: not a hinge",
    "not_judged": "the lower back's outline was not traced at the deepest point",
}
CUES = {
    "back_led": "Bend from the hips — let the hips go back",
    "back_bent": "Keep your back flat — push the hips back only as far as they go",
}
MEASURES = ("hip_flexion_deg", "lumbar_flexion_deg", "trunk_inclination_deg", "bend")
DRILLS = "The hip drills (90/90, frog squat, fire hydrants) and hinge practice help."


@dataclass
class ScreenResult(SidedResult):
    """The bends as reps (no side) and the screen's verdict dict."""

    screen: dict = field(default_factory=dict)


def _value(v: float | None) -> float:
    return float("nan") if v is None else float(v)


def _measure(frame: ExerciseFrame) -> dict[str, float]:
    a = frame.angles
    if a is None:
        return dict.fromkeys(("hip", "lumbar", "trunk"), float("nan"))
    return {
        "hip": _value(a.hip_flexion_deg),
        "lumbar": _value(a.lumbar_flexion_deg),
        "trunk": _value(a.trunk_inclination_deg),
    }


def _signal(m: dict[str, np.ndarray], rules: dict) -> np.ndarray:
    return np.asarray(m["trunk"], dtype=float) / rules["full_bend_deg"]


def rhythm(trunk: np.ndarray, hip: np.ndarray, lumbar: np.ndarray, rest_trunk: float) -> list[dict]:
    """Lumbar-to-hip ratio of the change over each band of trunk inclination (from standing)
    on the way down; None for a band the bend did not cover or where the hips barely moved."""
    ok = np.isfinite(trunk) & np.isfinite(hip) & np.isfinite(lumbar)
    incl, h, lum = trunk[ok] - rest_trunk, hip[ok], lumbar[ok]
    out = []
    for lo, hi in BANDS:
        ratio = None
        if incl.size >= 2 and incl.max() >= min(hi, lo + 20.0):
            # Trunk inclination rises on the way down: read each angle where it crossed the band.
            order = np.maximum.accumulate(incl)
            a, b = (
                np.interp([lo, min(hi, order[-1])], order, h),
                np.interp([lo, min(hi, order[-1])], order, lum),
            )
            dh, dl = a[1] - a[0], b[1] - b[0]
            ratio = None if abs(dh) < 2.0 else round(float(dl / dh), 2)
        out.append({"range_deg": [lo, None if hi >= 180 else hi], "lumbar_to_hip": ratio})
    return out


def _judge(test: str):
    def judge(
        index: int,
        rep: Rep,
        m: dict[str, np.ndarray],
        times: np.ndarray,
        rest: np.ndarray,
        rules: dict,
    ) -> SidedRep:
        # The deepest point: the frames around the rep's deepest trunk inclination.
        idx = np.flatnonzero(rep_frames(rep, m, times)[0])
        k = int(np.argmax(np.nan_to_num(m["signal"][idx], nan=-1e9)))
        top = idx[max(0, k - 2) : k + 3]
        hip, lumbar = finite_median(m["hip"][top]), finite_median(m["lumbar"][top])
        # A lower back that extends rather than bends gives none of the bend.
        total = None if hip is None or lumbar is None else hip + max(lumbar, 0.0)
        share = None if total is None or total <= 0 else min(1.0, max(0.0, hip / total))
        measures = {
            "total_bend_deg": total,
            "hip_deg": hip,
            "lumbar_deg": lumbar,
            "hip_share": share,
            "trunk_inclination_deg": finite_median(m["trunk"][top]),
        }
        code = None
        if lumbar is None:
            code = "not_judged"
        elif test == "forward-bend" and share is not None and share < rules["min_hip_share"]:
            code = "back_led"
        elif test == "hinge-test" and lumbar > rules["max_hinge_lumbar_deg"]:
            code = "back_bent"
        findings = []
        if code is not None:
            severity = "info" if code == "not_judged" else "medium"
            text = f"Bend {index}: {FINDINGS[code]}."
            findings.append(SidedFinding(code, severity, rep.start_s, rep.end_s, text))
        return SidedRep(index, rep.start_s, rep.end_s, None, measures, findings)

    return judge


def _hedge(near: bool, line: str, miss: str) -> str:
    """The sentence added to a result close to its line ("" when it is not)."""
    if not near:
        return ""
    return (
        f" That is close to the {line}, which this reading can miss by {miss}: film it again "
        "side-on to confirm."
    )


def screen_of(test: str, result: SidedResult, m: dict[str, np.ndarray], times, rules) -> dict:
    """The screen's figures from the deepest judged bend, with its rhythm, verdict and words."""
    judged = [r for r in result.reps if r.measures.get("hip_share") is not None]
    base = {"test": test, "norm": NORM}
    if not judged:
        why = "no bend found" if not result.reps else "the lower back was not traced"
        return {
            **base,
            "verdict": "not_judged",
            "message": f"Not judged: {why}. Film from the side, at hip height, the whole body "
            "in view, in fitted clothes, starting upright.",
        }
    deep = max(judged, key=lambda r: r.measures["total_bend_deg"] or 0.0)
    idx = np.flatnonzero((times >= deep.start_s) & (times <= deep.end_s))
    bottom = idx[int(np.argmax(np.nan_to_num(m["trunk"][idx], nan=-1e9)))]
    # The way down starts before the rep counter saw it: back to where the trunk began to lean.
    start, trunk = idx[0], m["trunk"]
    while start > 0 and np.isfinite(trunk[start - 1]) and trunk[start - 1] < trunk[start]:
        start -= 1
    down = np.arange(start, bottom + 1)
    rest = np.isfinite(m["signal"]) & (m["signal"] < rules["lockout"])
    rest_trunk = finite_median(m["trunk"][rest]) or 0.0
    ms = deep.measures
    share = ms["hip_share"]
    pct = round(100 * share)
    typical = round(100 * NORM["hip_share"])
    if test == "forward-bend":
        near = abs(share - rules["min_hip_share"]) < rules["share_uncertainty"]
        miss = f"about {100 * rules['share_uncertainty']:.0f} points"
        hedge = _hedge(near, f"{100 * rules['min_hip_share']:.0f}% line", miss)
        if share < rules["min_hip_share"]:
            verdict = "back_led"
            words = (
                f"Your hips gave {pct}% of the bend; typical is about {typical}%: "
                f"{'probably ' if near else ''}hips stiff, your back made up for it.{hedge} "
                f"{DRILLS}"
            )
        else:
            verdict = "hips_led"
            words = (
                f"Your hips gave {pct}% of the bend (typical about {typical}%): your hips "
                f"{'probably ' if near else ''}did their share.{hedge}"
            )
    else:
        lumbar = ms["lumbar_deg"]
        limit = rules["max_hinge_lumbar_deg"]
        near = abs(lumbar - limit) < rules["lumbar_uncertainty_deg"]
        hedge = _hedge(near, f"{limit:.0f} deg line", "a few degrees")
        if lumbar > limit:
            verdict = "back_bent"
            words = (
                f"Your lower back {'probably ' if near else ''}bent {lumbar:.0f} deg as you "
                f"pushed the hips back: a hinge keeps it near its standing shape.{hedge} Stop "
                f"where the back starts to bend. {DRILLS}"
            )
        else:
            verdict = "hinged"
            words = (
                f"{'Probably a' if near else 'A'} hip hinge: the hips bent {ms['hip_deg']:.0f} "
                f"deg while the lower back stayed within {max(1.0, abs(lumbar)):.0f} deg of its "
                f"standing shape.{hedge}"
            )
    return {
        **base,
        "total_bend_deg": round(ms["total_bend_deg"], 1),
        "hip_deg": round(ms["hip_deg"], 1),
        "lumbar_deg": round(ms["lumbar_deg"], 1),
        "hip_share": round(share, 2),
        "rhythm": rhythm(m["trunk"][down], m["hip"][down], m["lumbar"][down], rest_trunk),
        "verdict": verdict,
        "confidence_level": "low" if near else "high",
        "message": words,
    }


def _bend_words(rep: SidedRep, _counts: dict[str, int]) -> str:
    share = rep.measures.get("hip_share")
    if share is None:
        return "Bend done — the lower back was not seen; film side-on"
    return f"Hips gave {100 * share:.0f}% of that bend"


def _register(test: str, label: str, hint: str):
    def summarise(result: SidedResult, m, times, rules) -> ScreenResult:
        screen = screen_of(test, result, m, times, rules)
        return ScreenResult(result.measures, result.reps, result.side_word, screen=screen)

    spec = RepSpec(
        measure=_measure,
        signal=_signal,
        judge=_judge(test),
        report=lambda m: {
            "hip_flexion_deg": m["hip"],
            "lumbar_flexion_deg": m["lumbar"],
            "trunk_inclination_deg": m["trunk"],
            "bend": m["signal"],
        },
        cues=CUES,
        summarise=summarise,
        rep_words=_bend_words,
        nouns="bends",
    )
    return register_sided(
        spec,
        RULES,
        kind="screen",
        name=test,
        label=label,
        views=("side",),
        preferred_view="side",
        film_hint=hint,
        measures=MEASURES,
        findings=FINDINGS,
    )


FORWARD_BEND = _register(
    "forward-bend",
    "Forward bend (screen)",
    "Film from the side at hip height, the whole body in view, in fitted clothes. Stand tall "
    "for two seconds, then bend forward with straight knees, reaching towards your toes, and "
    "come back up.",
)
HINGE_TEST = _register(
    "hinge-test",
    "Hip hinge (screen)",
    "Film from the side at hip height, the whole body in view, in fitted clothes. Stand tall "
    "for two seconds, hands on your thighs, push the hips back with a flat back as far as they "
    "go, and come back up.",
)
