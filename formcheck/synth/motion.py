"""Scripted joint angles of a synthetic lifter over time.

In:  a `SynthSpec` (trajectory kind, reps, rep length, seed) and a time in seconds.
Out: `JointAngles`: sagittal joint angles in degrees relative to standing neutral,
     positive = forward flexion. Reps start and end standing, with cosine easing.
     The standing forward bend is scripted by its spec fields instead of `PEAKS`
     (see `forward_bend_angles`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from formcheck.synth.spec import FORWARD_BEND, SynthSpec


@dataclass(frozen=True)
class JointAngles:
    """Sagittal joint angles (degrees, neutral standing = 0, positive = flexion)."""

    hip: float = 0.0
    lumbar: float = 0.0
    thoracic: float = 0.0
    knee: float = 0.0
    ankle: float = 0.0
    neck: float = 0.0


@dataclass(frozen=True)
class Peaks:
    """Bottom-of-rep angles of one trajectory kind, and how fast each one is reached."""

    angles: JointAngles
    # Exponent on the rep depth (0..1) for lumbar flexion: >1 means the back rounds late.
    lumbar_power: float = 1.0
    # When the back rounds: "rep" (with the depth), or "ascent" (flat on the way down and at
    # the start of the bottom, rounding on the way up: most a third into the ascent, gone by
    # two thirds, as when the hips shoot up and the back gives).
    lumbar_when: str = "rep"
    # Lumbar flexion of the standing posture (negative: a hollow back, more lordosis than the
    # mannequin's neutral), held outside the reps and fading out at the bottom of each.
    standing_lumbar: float = 0.0


PEAKS: dict[str, Peaks] = {
    "hinge_flat": Peaks(JointAngles(hip=80.0, lumbar=2.0, thoracic=4.0, knee=28.0, ankle=4.0)),
    "hinge_round": Peaks(
        JointAngles(hip=52.0, lumbar=40.0, thoracic=16.0, knee=28.0, ankle=4.0), lumbar_power=1.5
    ),
    "squat": Peaks(JointAngles(hip=100.0, lumbar=4.0, thoracic=2.0, knee=112.0, ankle=30.0)),
    # What real lifters do that the two hinges above do not: the back rounding only on the way
    # up, and a hollow standing back that flattens in a flat-back hinge.
    "hinge_round_ascent": Peaks(
        JointAngles(hip=70.0, lumbar=35.0, thoracic=10.0, knee=28.0, ankle=4.0),
        lumbar_when="ascent",
    ),
    "hinge_hollow": Peaks(
        JointAngles(hip=80.0, lumbar=2.0, thoracic=4.0, knee=28.0, ankle=4.0),
        standing_lumbar=-15.0,
    ),
}

# Forward bend: the ankles plantarflex (shanks tilt back, hips move behind the heels) up to this
# many degrees, in proportion to hip + lumbar + thoracic flexion up to FORWARD_BEND_FULL_DEG, so
# the centre of mass stays over the feet; the default bottom (69 + 42 deg) gets all of it.
FORWARD_BEND_ANKLE_DEG = -10.0
FORWARD_BEND_FULL_DEG = 100.0

# Share of one rep spent in each phase: setup, descent, bottom, ascent, lockout.
PHASES: tuple[float, ...] = (0.1, 0.36, 0.1, 0.36, 0.08)


def rep_depth(u: float) -> float:
    """Depth 0 (standing) .. 1 (bottom) at fraction u of a rep, cosine-eased."""
    setup, descent, bottom, ascent, _ = PHASES
    if u <= setup:
        return 0.0
    u -= setup
    if u < descent:
        return 0.5 - 0.5 * float(np.cos(np.pi * u / descent))
    u -= descent
    if u < bottom:
        return 1.0
    u -= bottom
    if u < ascent:
        return 0.5 + 0.5 * float(np.cos(np.pi * u / ascent))
    return 0.0


def ascent_progress(u: float) -> float | None:
    """How far through the ascent (0..1) fraction u of a rep is; None outside the ascent."""
    start = sum(PHASES[:3])
    if not start <= u < start + PHASES[3]:
        return None
    return (u - start) / PHASES[3]


def ascent_rounding(u: float) -> float:
    """0..1: the share of its peak lumbar flexion a back that rounds on the way up shows at
    fraction u of a rep (see `Peaks.lumbar_when`)."""
    a = ascent_progress(u)
    if a is None or a >= 2.0 / 3.0:
        return 0.0
    return float(np.sin(1.5 * np.pi * a))


def rep_variation(spec: SynthSpec) -> list[tuple[float, float]]:
    """Per-rep (depth scale, extra lumbar degrees) drawn from the seed."""
    if not spec.vary:
        return [(1.0, 0.0)] * spec.reps
    rng = np.random.default_rng(spec.seed)
    spread = 2.5 if spec.kind == "hinge_round" else 1.0
    return [
        (float(rng.uniform(0.93, 1.04)), float(rng.uniform(-spread, spread)))
        for _ in range(spec.reps)
    ]


def joint_angles(
    spec: SynthSpec, t: float, variation: list[tuple[float, float]] | None = None
) -> JointAngles:
    """True joint angles at time t (seconds) of the clip described by spec."""
    if spec.kind == FORWARD_BEND:
        return forward_bend_angles(spec, t)
    variation = variation if variation is not None else rep_variation(spec)
    peaks = PEAKS[spec.kind]
    rep_t = t - spec.pad_seconds
    rep = int(np.floor(rep_t / spec.rep_seconds))
    if rep_t < 0 or rep >= spec.reps:
        return JointAngles(lumbar=peaks.standing_lumbar)
    u = rep_t / spec.rep_seconds - rep
    depth = rep_depth(u)
    scale, extra_lumbar = variation[rep]
    p = peaks.angles
    d = depth * scale
    shape = ascent_rounding(u) if peaks.lumbar_when == "ascent" else depth**peaks.lumbar_power
    lumbar = (p.lumbar + extra_lumbar) * shape * scale + peaks.standing_lumbar * (1.0 - depth)
    return JointAngles(
        hip=p.hip * d,
        lumbar=lumbar,
        thoracic=p.thoracic * d,
        knee=p.knee * d,
        ankle=p.ankle * d,
        neck=p.neck * d,
    )


def forward_bend_angles(spec: SynthSpec, t: float) -> JointAngles:
    """Standing forward bend at time t: knees straight, hip = bend_hip_deg * d and lumbar =
    bend_lumbar_deg * d ** (1 / lumbar_lead) for the eased depth d; no per-rep variation."""
    rep_t = t - spec.pad_seconds
    rep = int(np.floor(rep_t / spec.rep_seconds))
    if rep_t < 0 or rep >= spec.reps:
        return JointAngles()
    d = rep_depth(rep_t / spec.rep_seconds - rep)
    hip = spec.bend_hip_deg * d
    lumbar = spec.bend_lumbar_deg * d ** (1.0 / spec.lumbar_lead)
    thoracic = spec.bend_thoracic_deg * d
    bend = min(1.0, max(0.0, hip + lumbar + thoracic) / FORWARD_BEND_FULL_DEG)
    return JointAngles(
        hip=hip, lumbar=lumbar, thoracic=thoracic, ankle=FORWARD_BEND_ANKLE_DEG * bend
    )
