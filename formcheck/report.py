"""Report stage: the analysis as a JSON report (schema formcheck.report/1) and a short human
summary (files are written by `formcheck.writers`).

In:  `Analysis` from `formcheck.pipeline`.
Out: plain dicts / files. Keys may be added to the schema, never renamed.
"""

from __future__ import annotations

import math

import numpy as np

from . import exercises
from .angles import ANGLE_NAMES, FrameAngles
from .verdict import LOW_CONFIDENCE_NOTE, Verdict, Viewing, likely_word, not_judged, set_verdict

SCHEMA = "formcheck.report/1"
# How far a lumbar flexion reading may be from the truth on bodies other than the renders it
# was checked on (lumbar MAE of 16.8 deg on independently rendered lifters): the half-width of
# `lumbar_flexion_ci_deg`.
LUMBAR_UNCERTAINTY_DEG = 17.0


def _r(v: float | None, nd: int = 1) -> float | None:
    if v is None or not math.isfinite(v):
        return None
    return round(float(v), nd)


def _norm_points(points: np.ndarray | None, size: tuple[int, int], nd: int = 4) -> list | None:
    if points is None:
        return None
    w, h = size
    return [[round(float(x) / w, nd), round(float(y) / h, nd)] for x, y in points]


def frame_dict(f: FrameAngles, size: tuple[int, int], phase: str, depth: float) -> dict:
    d: dict = {"t": round(f.t, 4), "pose": f.pose}
    for name in ANGLE_NAMES:
        d[name] = _r(f.value(name))
    d["trunk_thigh_deg"] = _r(f.trunk_thigh_deg)
    d["back_bend_deg"] = _r(f.back_bend_deg)
    d["spine_confidence"] = _r(f.spine_confidence, 2)
    d["phase"] = phase
    d["depth"] = _r(depth, 3)
    if f.landmarks is not None:
        w, h = size
        d["landmarks"] = [
            [round(float(x) / w, 4), round(float(y) / h, 4), round(float(v), 2)]
            for x, y, v in f.landmarks
        ]
    else:
        d["landmarks"] = None
    d["back_outline"] = _norm_points(f.back_outline, size)
    return d


def rep_dict(a) -> dict:
    r = a.rep
    judged = a.verdict.measured
    lumbar = _r(a.max_lumbar_flexion_deg) if judged else None
    return {
        "index": r.index,
        "start_s": _r(r.start_s, 3),
        "bottom_s": _r(r.bottom_s, 3),
        "end_s": _r(r.end_s, 3),
        "max_lumbar_flexion_deg": lumbar,
        "lumbar_flexion_ci_deg": None
        if lumbar is None
        else [_r(lumbar - LUMBAR_UNCERTAINTY_DEG), _r(lumbar + LUMBAR_UNCERTAINTY_DEG)],
        "max_lumbar_flexion_s": _r(a.max_lumbar_t, 3) if judged else None,
        "max_hip_flexion_deg": _r(a.max_hip_flexion_deg),
        "hip_flexion_range_deg": _r(a.hip_flexion_range_deg),
        "max_thoracic_flexion_deg": _r(a.max_thoracic_flexion_deg),
        "max_back_bend_deg": _r(a.max_back_bend_deg),
        "lumbar_share": _r(a.lumbar_share, 3),
        "rounding": a.rounding,
        **a.verdict.to_dict(),
        "rounding_probability": _r(a.verdict.probability, 3),
        "rounded_phases": list(a.verdict.phases),
        "spine_coverage": _r(a.spine_coverage, 2),
        "tempo": {"descent_s": _r(a.descent_s, 2), "ascent_s": _r(a.ascent_s, 2)},
        "moment_arm": a.moment_arm,
        "findings": [f.to_dict() for f in a.findings],
    }


def summary_messages(analysis, overall: Verdict) -> list[str]:
    """The summary's sentences; `overall` is the set's verdict (`clip_verdict`)."""
    msgs: list[str] = []
    reps = analysis.reps
    view = analysis.view
    if view.kind != "side":
        msgs.append(
            f"Camera view looks {view.kind} (about {view.yaw_deg:.0f} deg from side-on): reps are "
            "counted but the back is not judged. Film from the side, at hip height."
        )
    if analysis.neutral.source == "default":
        msgs.append(
            "No standing frames with a clear back outline: lumbar flexion is measured from "
            "typical standing values, not your own. Start the clip standing tall, side-on."
        )
    if not reps:
        msgs.append(
            "No complete rep found (a rep goes from lockout or the floor down and back up)."
        )
    msgs.extend(_partial_messages(analysis.partials))
    msgs.extend(getattr(analysis, "notes", []))
    if not reps:
        return msgs
    rounded = [a for a in reps if a.rounding is True]
    flat = [a for a in reps if a.rounding is False]
    unjudged = [a for a in reps if a.rounding is None]
    if rounded:
        which = ", ".join(str(a.rep.index) for a in rounded)
        peaks = [a for a in rounded if a.max_lumbar_flexion_deg is not None]
        text = f"Lower back {overall.likely}rounded in rep(s) {which}"
        if peaks:
            worst = max(peaks, key=lambda a: a.max_lumbar_flexion_deg)
            text += (
                f"; worst rep {worst.rep.index}: about {worst.max_lumbar_flexion_deg:.0f} deg of "
                f"lumbar flexion beyond neutral at {worst.max_lumbar_t:.1f} s"
            )
        msgs.append(text + _hedge(overall) + ".")
    if flat and not rounded and overall.state == "flat":
        msgs.append(
            f"Back judged {overall.likely}flat in {len(flat)} of {len(reps)} rep(s): the back's outline "
            f"did not bow outward at the bottom{_hedge(overall)}."
        )
    if unjudged:
        which = ", ".join(str(a.rep.index) for a in unjudged)
        reason = unjudged[0].verdict.message or "Not judged."
        msgs.append(f"Rep(s) {which}: {reason}")
    msgs.extend(f.message for f in analysis.set_findings)
    return msgs


def _hedge(verdict: Verdict) -> str:
    """The note a low-confidence verdict's sentence ends with ("" for a confident one)."""
    return f" ({LOW_CONFIDENCE_NOTE})" if verdict.confidence_level == "low" else ""


def clip_verdict(analysis) -> Verdict:
    """The set's verdict over its reps and bends; with neither, not judged: off side-on, or no
    rep."""
    parts = [*analysis.reps, *analysis.partials]
    if parts:
        return set_verdict([a.verdict for a in parts])
    view = analysis.view
    reason = "no_rep" if view.kind == "side" else "oblique_view"
    return not_judged(reason, Viewing(view.kind, view.yaw_deg, turned=view.turned))


def _partial_messages(partials) -> list[str]:
    """What the bends that made no rep showed of the back."""
    msgs = []
    for a in partials:
        span = f"{a.rep.start_s:.1f}-{a.rep.end_s:.1f} s"
        if a.rounding is True:
            msgs.append(
                f"Lower back {a.verdict.likely}rounded in the bend at {span} (not a complete rep)"
                f"{_hedge(a.verdict)}."
            )
        elif a.rounding is False:
            msgs.append(
                f"The bend at {span} (not a complete rep) showed a {a.verdict.likely}flat back"
                f"{_hedge(a.verdict)}."
            )
        else:
            msgs.append(f"Bend at {span} (not a complete rep): {a.verdict.message}")
    return msgs


def build_report(analysis) -> dict:
    info = analysis.info
    size = (info.width, info.height)
    reps = analysis.reps
    frames = [
        frame_dict(f, size, ph, float(d))
        for f, ph, d in zip(analysis.frames, analysis.phases, analysis.depth, strict=True)
    ]
    own = getattr(analysis, "own", None)
    if own is not None:
        for name, values in own.measures.items():
            for d, v in zip(frames, values, strict=True):
                d[name] = _r(v)
    duration = analysis.frames[-1].t if analysis.frames else info.duration_s
    overall = clip_verdict(analysis)
    judged = [a for a in reps if a.verdict.measured]
    report = {
        "schema": SCHEMA,
        "video": {
            "fps": _r(info.fps, 3),
            "frames": len(analysis.frames),
            "pose_frames": analysis.pose_frames,
            "width": info.width,
            "height": info.height,
            "duration_s": _r(max(duration, info.duration_s), 3),
            "rotation": info.rotation,
        },
        "view": analysis.view.to_dict(),
        "neutral": analysis.neutral.to_dict(),
        "frames": frames,
        "reps": [rep_dict(a) for a in reps],
        "partial_reps": [rep_dict(a) for a in analysis.partials],
        "set_findings": [f.to_dict() for f in analysis.set_findings],
        "summary": {
            "exercise": analysis.exercise,
            "stoop_squat_index": _r(analysis.ssi),
            "rep_count": len(reps),
            "rounded_reps": sum(a.rounding is True for a in reps),
            "judged_reps": sum(a.rounding is not None for a in reps),
            "rounding": overall.rounding,
            **overall.to_dict(),
            "verdict_message": overall.note,
            "worst_rep": max(
                (a for a in judged if a.max_lumbar_flexion_deg is not None),
                key=lambda a: a.max_lumbar_flexion_deg,
            ).rep.index
            if any(a.max_lumbar_flexion_deg is not None for a in judged)
            else None,
            "peak_lumbar_flexion_deg": _r(
                max(
                    (
                        a.max_lumbar_flexion_deg
                        for a in judged
                        if a.max_lumbar_flexion_deg is not None
                    ),
                    default=None,
                )
            ),
            "messages": summary_messages(analysis, overall),
        },
    }
    if own is not None and hasattr(own, "holds"):
        add_holds(report, analysis, own)
    elif own is not None:
        add_sided_reps(report, own)
    return report


def add_holds(report: dict, analysis, hold) -> None:
    """A hold exercise's keys: `holds`, `summary.held_s`, `summary.good_form_s`, the holds'
    worst measures (the peaks the exercise names), time per side and the left/right ratio for
    a hold done on each side, and the summary's sentences about the holds (the back-rounding
    verdict is for reps: not judged here)."""
    s = report["summary"]
    report["holds"] = [h.to_dict() for h in hold.holds]
    s["hold_count"] = len(hold.holds)
    s["held_s"] = round(hold.held_s, 2)
    s["good_form_s"] = round(hold.good_form_s, 2)
    for key in dict.fromkeys(k for h in hold.holds for k in h.peaks):
        values = [h.peaks[key] for h in hold.holds if h.peaks.get(key) is not None]
        s[key] = _r(max(values)) if values else None
    by_side = hold.held_by_side()
    if by_side is not None:
        s["held_s_by_side"] = {k: round(v, 2) for k, v in by_side.items()}
        s["left_right_ratio"] = (
            round(by_side["left"] / by_side["right"], 2) if all(by_side.values()) else None
        )
    findings = [f for h in hold.holds for f in h.findings]
    s["form"] = "not_judged" if not hold.holds else ("broke" if findings else "good")
    msgs: list[str] = []  # the lifts' camera-view sentences do not apply: the view was accepted
    if not hold.holds:
        msgs.append(
            f"No hold found: the body was never in position ({hold.position_words}) for a "
            f"second or more. {exercises.get(analysis.exercise).film_hint}"
        )
    for h in hold.holds:
        side = f" ({h.side} side down)" if h.side else ""
        text = f"Hold {h.index}{side}: {h.held_s:.1f} s, {h.good_form_s:.1f} s of it in good form"
        msgs.append(text + ("." if not h.findings else ": " + h.findings[0].message))
    if by_side is not None and s["left_right_ratio"] is not None:
        msgs.append(
            f"Left side {by_side['left']:.1f} s, right side {by_side['right']:.1f} s "
            f"(ratio {s['left_right_ratio']:.2f}; the two sides are usually about equal)."
        )
    s["verdict_message"] = msgs[-1] if msgs else None
    s["messages"] = msgs


def add_sided_reps(report: dict, result) -> None:
    """A sided-reps exercise's keys: `reps` are its own (with `side` and its measures),
    `summary.rep_count` and `reps_by_side`, its findings' sentences (the back-rounding verdict
    is for lifts: not judged here)."""
    s = report["summary"]
    report["reps"] = [r.to_dict() for r in result.reps]
    s["rep_count"] = len(result.reps)
    s["reps_by_side"] = result.reps_by_side()
    findings = [f for r in result.reps for f in r.findings]
    s["form"] = "not_judged" if not result.reps else ("broke" if findings else "good")
    s.update(result.totals)
    msgs = [result.count_words()]
    if not result.reps:
        msgs = ["No rep found: film the whole movement, from the start position and back."]
    msgs += [f.message for f in findings]
    screen = getattr(result, "screen", None)
    if screen:
        report["screen"] = screen
        s["hip_share"] = screen.get("hip_share")
        s["screen_verdict"] = screen["verdict"]
        s["form"] = "not_judged" if screen["verdict"] == "not_judged" else s["form"]
        msgs = [screen["message"], *(f.message for f in findings)]
    s["verdict_message"] = msgs[0] if screen else msgs[-1]
    s["messages"] = [msgs[0], *result.notes, *msgs[1:]]


def human_summary(name: str, report: dict) -> str:
    s = report["summary"]
    likely = likely_word(s.get("confidence_level"))
    verdict = {"rounded": f"back {likely}rounded", "flat": f"back {likely}flat"}.get(
        s.get("verdict"), "back not judged"
    )
    view = f"view {report['view']['kind']} facing {report['view']['facing']}"
    if "screen" in report:
        sc = report["screen"]
        share = "n/a" if sc.get("hip_share") is None else f"{100 * sc['hip_share']:.0f}%"
        lines = [f"{name}: {sc['test']} screen, hips gave {share} of the bend, {view}"]
        return "\n".join([*lines, *(f"  {m}" for m in s["messages"])])
    if s.get("reps_by_side") is not None:
        form = {"good": "form good", "broke": "form broke"}.get(s["form"], "form not judged")
        by = s["reps_by_side"]
        sides = f" ({by['left']} left, {by['right']} right)" if any(by.values()) else ""
        lines = [f"{name}: {s['exercise']}, {s['rep_count']} rep(s){sides}, {view}, {form}"]
        return "\n".join([*lines, *(f"  {m}" for m in s["messages"])])
    if "holds" in report:
        form = {"good": "form good", "broke": "form broke"}.get(s["form"], "form not judged")
        lines = [
            f"{name}: {s['exercise']}, held {s['held_s']:.1f} s, {s['good_form_s']:.1f} s in "
            f"good form, {view}, {form}"
        ]
        return "\n".join([*lines, *(f"  {m}" for m in s["messages"])])
    lines = [f"{name}: {s['rep_count']} rep(s), {s['exercise']}, {view}, {verdict}"]
    for r in [*report["reps"], *report.get("partial_reps", [])]:
        lum = (
            "n/a"
            if r["max_lumbar_flexion_deg"] is None
            else f"{r['max_lumbar_flexion_deg']:.0f} deg"
        )
        hip = "n/a" if r["max_hip_flexion_deg"] is None else f"{r['max_hip_flexion_deg']:.0f} deg"
        maybe = likely_word(r.get("confidence_level"))
        flag = {"rounded": f"{maybe}ROUNDED", "flat": f"{maybe}flat"}.get(
            r.get("verdict"), "not judged"
        )
        what = f"rep {r['index']}" if r["index"] else "bend (no rep)"
        lines.append(
            f"  {what}: {r['start_s']:.1f}-{r['end_s']:.1f} s  lumbar {lum}  hip {hip}  {flag}"
        )
    lines += [f"  {m}" for m in s["messages"]]
    return "\n".join(lines)
