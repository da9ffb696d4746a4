"""Progress stage: the numbers of one session worth following over weeks, from its report.

In:  a report dict (`formcheck.report/1`).
Out: `Measure`s (name, side, value, unit, label): per exercise the figure a coach follows —
     the hinge screen's hip share, plank and side-plank time in good form (per side), bird-dog
     reach per side, Pallof-press trunk rotation, 90/90 hip rotation and fire-hydrant hip
     abduction per side, frog-squat abduction and butt wink, the lifts' rounding rate; and
     `asymmetry`, which left/right pairs differ by more than 10 deg or 15%.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

# Left and right differ enough to show: by more than this many degrees, or this share.
ASYMMETRY_DEG = 10.0
ASYMMETRY_SHARE = 0.15
LIFTS = ("deadlift", "rdl", "good-morning", "pickup", "squat")


@dataclass(frozen=True)
class Measure:
    name: str
    side: str | None
    value: float
    unit: str  # "deg", "s", "share", "count"
    label: str

    def to_dict(self) -> dict:
        return asdict(self)


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _per_side(reps: list[dict], key: str) -> dict[str, float]:
    out = {}
    for side in ("left", "right"):
        v = [r[key] for r in reps if r.get("side") == side and r.get(key) is not None]
        if v:
            out[side] = _mean(v)
    return out


def session_measures(report: dict) -> list[Measure]:
    """The measures of one analysed session worth following (see the module docstring)."""
    s = report.get("summary") or {}
    ex = s.get("exercise")
    out: list[Measure] = []

    def add(name: str, value, unit: str, label: str, side: str | None = None) -> None:
        if value is not None:
            out.append(Measure(name, side, round(float(value), 3), unit, label))

    if ex in ("forward-bend", "hinge-test"):
        add("hip_share", s.get("hip_share"), "share", f"Hip share of the bend ({ex})")
    elif ex == "plank":
        add("good_form_s", s.get("good_form_s"), "s", "Plank: time in good form")
    elif ex == "side-plank":
        for h in report.get("holds") or []:
            if h.get("side"):
                add(
                    "good_form_s", h["good_form_s"], "s", "Side plank: time in good form", h["side"]
                )
    elif ex == "bird-dog":
        reps = report.get("reps") or []
        for side, v in _per_side(reps, "leg_elevation_deg").items():
            add("leg_elevation_deg", v, "deg", "Bird dog: leg elevation at the top", side)
    elif ex == "pallof-press":
        v = [r["max_trunk_rotation_deg"] for r in report.get("reps") or []]
        add("max_trunk_rotation_deg", max((x for x in v if x is not None), default=None), "deg",
            "Pallof press: largest trunk rotation")  # fmt: skip
    elif ex == "90-90":
        for key, what in (("hip_external_rotation_deg", "external"),
                          ("hip_internal_rotation_deg", "internal")):  # fmt: skip
            for side, v in (s.get(key) or {}).items():
                add(key, v, "deg", f"90/90: hip {what} rotation", side)
    elif ex == "fire-hydrant":
        for side, v in (s.get("hip_abduction_deg") or {}).items():
            add("hip_abduction_deg", v, "deg", "Fire hydrant: hip abduction at the top", side)
    elif ex == "frog-squat":
        add("hip_abduction_deg", s.get("hip_abduction_deg"), "deg", "Frog squat: hip abduction")
        add("lumbar_flexion_change_deg", s.get("lumbar_flexion_change_deg"), "deg",
            "Frog squat: lower back tucking under at the bottom")  # fmt: skip
    elif ex in LIFTS and s.get("judged_reps"):
        add("rounding_rate", s["rounded_reps"] / s["judged_reps"], "share",
            f"Reps with a rounded back ({ex})")  # fmt: skip
    return _merge_sides(out)


def _merge_sides(measures: list[Measure]) -> list[Measure]:
    """One value per (name, side): a session with several holds on a side adds them up."""
    merged: dict[tuple[str, str | None], Measure] = {}
    for m in measures:
        key = (m.name, m.side)
        if key in merged and m.unit == "s":
            old = merged[key]
            merged[key] = Measure(m.name, m.side, round(old.value + m.value, 3), m.unit, m.label)
        else:
            merged.setdefault(key, m)
    return list(merged.values())


def asymmetric(left: float, right: float, unit: str) -> bool:
    """Whether a left/right pair differs enough to point out."""
    if unit == "deg":
        return abs(left - right) > ASYMMETRY_DEG
    big = max(abs(left), abs(right))
    return big > 0 and abs(left - right) / big > ASYMMETRY_SHARE
