"""Frog squat: a bodyweight deep squat, feet wide and turned out, knees pushed out, hands together
in front of the chest.

In:  a `SynthSpec` of kind `frog_squat` and a time in seconds.
Out: `FrogPose`: world joint positions, the mannequin's spheres in world metres and the frame's
     truth record; `FrogScript.reps` (the timeline of the reps).

Geometry. World = the body frame of `build_skeleton` (x = the lifter's forward, y = up, z = the
lifter's right, floor y = 0). The pelvis only ever turns in the sagittal (x-y) plane, so the
pelvis's sagittal plane is the world x-y plane throughout. The ankle joints are fixed on the
floor (one `ANKLE_HEIGHT` x k up) `STANCE_HALF_WIDTH` x k either side of the midline, at x = 0;
the feet are turned out `TOE_OUT_DEG` about the vertical through the ankle.

With d = 0..1 the eased depth of the rep, the script sets, for both sides alike:
hip flexion F = frog_depth_deg x d; hip abduction A = A0 + (frog_abduction_deg - A0) x d, where
A0 (~11 deg) is the abduction of a straight leg from the hip joint to the wide-set ankle
(standing); pelvis forward tilt P = `PELVIS_SHARE` x F; shank forward tilt (its sagittal angle
from vertical) a = `SHANK_TILT_DEG` x d; lumbar flexion = frog_wink_deg x s(u), s the
smoothstep of u = (d - `WINK_FROM`) / (1 - `WINK_FROM`) clipped to 0..1 (none before 70%
of the depth). The thigh's sagittal angle (the knee -> hip line's, from vertical, + = hip ahead
of the knee, as in `build_skeleton`) is then P - F, and it is tilted A out of the x-y plane; the
shank's lateral lean is the one that lets both hip joints sit `HIP_HALF_WIDTH` x k either side
of the midline, so ankle -> knee -> hip closes exactly and the knees travel out over the toes. The upper body is `build_skeleton`'s
for (hip = P, lumbar), moved onto that hip centre; the hands are held together in front of the
chest (fixed in the trunk frame) and the elbows found by two-link inverse kinematics, bending
down and out towards the knees.

Timeline: `pad_seconds` standing before, between and after the reps; each rep descends over
rep_seconds / 2 (cosine-eased), stays at the bottom for `hold_top_s` and rises over
rep_seconds / 2.

Truth, per frame, from the world joints (degrees): see `FrogScript._record`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np

from formcheck.synth.body import LEG, Spheres, build_body
from formcheck.synth.motion import JointAngles
from formcheck.synth.skeleton import (
    ANKLE_HEIGHT,
    FOREARM,
    HIP_HALF_WIDTH,
    LUMBAR_NEUTRAL_DEG,
    REFERENCE_HEIGHT_M,
    SACRUM_FROM_HIP,
    SHANK,
    THIGH,
    UPPER_ARM,
    Skeleton,
    build_skeleton,
    two_link_joint,
)
from formcheck.synth.spec import CLOTHING_COLOURS, SynthSpec, cached_by_spec

# Ankle centres from the midline (x k, 1.75 m body) and the feet's turn-out about the vertical.
STANCE_HALF_WIDTH = 0.25
TOE_OUT_DEG = 30.0
# Pelvis forward tilt as a share of the hip flexion (at the default 110 deg the thighs are
# level: the hip joints at the knees' height), and the shank's forward tilt at the bottom.
PELVIS_SHARE = 0.18
SHANK_TILT_DEG = 30.0
# Share of the depth after which the butt wink ramps in.
WINK_FROM = 0.7
# Wrists in the trunk frame (x k): below the shoulder-joint midpoint along the hip centre ->
# shoulder centre line, in front of it, and either side of the midline.
HANDS_DOWN = 0.12
HANDS_FORWARD = 0.27
HANDS_HALF_GAP = 0.035
# Elbow pole (for the right arm; mirrored for the left): down and out.
ELBOW_POLE = np.array([0.0, -1.0, 0.8])
SIGN = {"l": -1.0, "r": 1.0}


def _ease(u: float) -> float:
    u = min(max(u, 0.0), 1.0)
    return 0.5 - 0.5 * float(np.cos(np.pi * u))


def _r(x: float) -> float:
    """Rounded for the truth JSON (no -0.0)."""
    return round(float(x), 4) + 0.0


def _seg_deg(v: np.ndarray) -> float:
    """Sagittal angle from vertical of a segment pointing along v (its top end at +v), + = top
    forward (the `build_skeleton` convention); the x-y projection of v."""
    return float(np.degrees(np.arctan2(v[0], v[1])))


def _wrap(deg: float) -> float:
    return (deg + 180.0) % 360.0 - 180.0


@dataclass(frozen=True)
class FrogRep:
    """One rep's timeline (clip seconds): descent from `start_s`, bottom from `bottom_start_s` to
    `bottom_end_s`, standing again at `end_s`."""

    index: int
    start_s: float
    bottom_start_s: float
    bottom_end_s: float
    end_s: float

    def to_dict(self) -> dict:
        return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in asdict(self).items()}


@dataclass
class FrogPose:
    """One frame: world joints and spine (`skeleton`), spheres in world metres, truth record."""

    skeleton: Skeleton
    spheres: Spheres
    record: dict


class FrogScript:
    """A frog squat clip's script: the reps' timeline and `pose(t)`."""

    def __init__(self, spec: SynthSpec) -> None:
        if not spec.is_frog_squat:
            raise ValueError(f"not a frog squat: {spec.kind}")
        self.spec = spec
        self.shape = spec.shape
        self.k = self.shape.height_m / REFERENCE_HEIGHT_M
        self.clothing = CLOTHING_COLOURS[spec.clothing]
        # Standing abduction: the straight leg from the hip joint to the wide-set ankle.
        out = (STANCE_HALF_WIDTH - HIP_HALF_WIDTH) / (THIGH + SHANK)
        self.standing_abduction_deg = float(np.degrees(np.arcsin(out)))
        self.reps = self._timeline()

    # --- timeline -------------------------------------------------------------------------

    def _timeline(self) -> list[FrogRep]:
        spec = self.spec
        half = 0.5 * spec.rep_seconds
        reps = []
        t = spec.pad_seconds
        for i in range(spec.reps):
            low = t + half
            reps.append(FrogRep(i + 1, t, low, low + spec.hold_top_s, low + spec.hold_top_s + half))
            t = reps[-1].end_s + spec.pad_seconds
        return reps

    def state(self, t: float) -> tuple[FrogRep | None, float, bool]:
        """(the rep under way or None, depth 0..1, at the bottom) at time t."""
        eps = 1e-9
        for rep in self.reps:
            if rep.start_s - eps <= t <= rep.end_s + eps:
                if t < rep.bottom_start_s - eps:
                    span = rep.bottom_start_s - rep.start_s
                    return rep, _ease((t - rep.start_s) / span), False
                if t <= rep.bottom_end_s + eps:
                    return rep, 1.0, True
                span = rep.end_s - rep.bottom_end_s
                return rep, 1.0 - _ease((t - rep.bottom_end_s) / span), False
        return None, 0.0, False

    # --- pose -----------------------------------------------------------------------------

    def pose(self, t: float) -> FrogPose:
        """Joints, spheres and truth at time t (seconds)."""
        rep, depth, at_bottom = self.state(t)
        pose = self.build(depth)
        pose.record["t"] = round(t, 6)
        pose.record["rep"] = rep.index if rep is not None else None
        pose.record["at_bottom"] = at_bottom
        return pose

    def scripted(self, depth: float) -> dict[str, float]:
        """Scripted angles (degrees) at depth 0..1: hip flexion, abduction, pelvis tilt, shank
        tilt and lumbar flexion."""
        spec = self.spec
        u = min(max((depth - WINK_FROM) / (1.0 - WINK_FROM), 0.0), 1.0)
        a0 = self.standing_abduction_deg
        hip = spec.frog_depth_deg * depth
        return {
            "hip": hip,
            "abduction": a0 + (spec.frog_abduction_deg - a0) * depth,
            "pelvis": PELVIS_SHARE * hip,
            "shank": SHANK_TILT_DEG * depth,
            "lumbar": spec.frog_wink_deg * u * u * (3.0 - 2.0 * u),
        }

    def build(self, depth: float) -> FrogPose:
        """The pose at depth 0 (standing) .. 1 (bottom)."""
        k = self.k
        a = self.scripted(depth)
        thigh_deg = np.radians(a["pelvis"] - a["hip"])
        abd = np.radians(a["abduction"])
        shank = np.radians(a["shank"])
        # Right side; the left mirrors it in z. Thigh: hip -> knee; shank: ankle -> knee.
        thigh = np.array(
            [-np.sin(thigh_deg) * np.cos(abd), -np.cos(thigh_deg) * np.cos(abd), np.sin(abd)]
        )
        lean = (HIP_HALF_WIDTH + THIGH * np.sin(abd) - STANCE_HALF_WIDTH) / SHANK
        c = np.sqrt(1.0 - lean**2)
        shin = np.array([np.sin(shank) * c, np.cos(shank) * c, lean])
        ankle_r = np.array([0.0, ANKLE_HEIGHT * k, STANCE_HALF_WIDTH * k])
        knee_r = ankle_r + SHANK * k * shin
        hip_r = knee_r - THIGH * k * thigh
        hip_mid = hip_r - np.array([0.0, 0.0, HIP_HALF_WIDTH * k])

        sk = build_skeleton(JointAngles(hip=a["pelvis"], lumbar=a["lumbar"]), self.shape)
        shift = hip_mid - sk.joints["hip_mid"]
        j = {name: p + shift for name, p in sk.joints.items()}
        mirror = np.array([1.0, 1.0, -1.0])
        for s in ("l", "r"):
            m = mirror if s == "l" else np.ones(3)
            j[f"ankle_{s}"], j[f"knee_{s}"], j[f"hip_{s}"] = ankle_r * m, knee_r * m, hip_r * m
        j["knee_mid"] = 0.5 * (j["knee_l"] + j["knee_r"])
        j["ankle_mid"] = 0.5 * (j["ankle_l"] + j["ankle_r"])
        self._arms(j)
        world_sk = replace(sk, joints=j, spine=sk.spine + shift[:2])

        body = build_body(world_sk, self.shape, self.clothing, "none")
        centres = body.centres.copy()
        turn = np.radians(TOE_OUT_DEG)
        for s in ("l", "r"):
            ankle = j[f"ankle_{s}"]
            foot = (
                (body.part == LEG)
                & (np.sign(centres[:, 2]) == SIGN[s])
                & (centres[:, 1] < ankle[1] - 1e-9)
            )
            dx, dz = centres[foot, 0] - ankle[0], centres[foot, 2] - ankle[2]
            sin = SIGN[s] * np.sin(turn)
            centres[foot, 0] = ankle[0] + dx * np.cos(turn) - dz * sin
            centres[foot, 2] = ankle[2] + dx * sin + dz * np.cos(turn)
        spheres = Spheres(centres, body.radii, body.albedo, body.part)
        return FrogPose(world_sk, spheres, self._record(world_sk, depth))

    def _arms(self, j: dict[str, np.ndarray]) -> None:
        """Hands together in front of the chest (fixed in the trunk frame), elbows by IK."""
        k = self.k
        t = np.radians(_seg_deg(j["shoulder_mid"] - j["hip_mid"]))
        up = np.array([np.sin(t), np.cos(t), 0.0])
        fwd = np.array([np.cos(t), -np.sin(t), 0.0])
        centre = j["shoulder_mid"] - HANDS_DOWN * k * up + HANDS_FORWARD * k * fwd
        for s in ("l", "r"):
            wrist = centre + np.array([0.0, 0.0, SIGN[s] * HANDS_HALF_GAP * k])
            sh = j[f"shoulder_{s}"]
            j[f"elbow_{s}"] = _elbow(sh, wrist, UPPER_ARM * k, FOREARM * k, SIGN[s])
            j[f"wrist_{s}"] = wrist

    def _record(self, sk: Skeleton, depth: float) -> dict[str, object]:
        """Truth from the world joints (degrees).

        `hip_flexion_deg`: the pelvis's forward tilt (the hip centre -> sacrum line's sagittal
        angle, less its standing angle) minus the thigh's sagittal angle (knee -> hip line,
        projected on the pelvis's sagittal x-y plane), both from vertical with the top forward
        positive: the squat's definition (standing = 0); the mean of both sides (they are equal).
        `hip_abduction_deg` {"left", "right"}: the angle of hip -> knee out of the pelvis's
        sagittal plane, + = knee away from the midline. `lumbar_flexion_deg`: the L1 segment's
        sagittal angle relative to the pelvis, less its standing value (the sum of the lumbar
        joints' flexion, as for the squat). `knee_spread_ratio`: 3D knee-to-knee over hip-to-hip
        joint centre distance. `knee_flexion_deg`: 180 - the 3D hip-knee-ankle angle, per-leg
        mean. `trunk_inclination_deg`: hip centre -> shoulder centre from vertical (forward +).
        `pelvis_tilt_deg`: the pelvis's forward tilt. `depth`: the script's depth share 0..1.
        """
        w = sk.joints
        pelvis = _seg_deg(w["sacrum"] - w["hip_mid"]) - _seg_deg(np.array(SACRUM_FROM_HIP))
        hip, abduction, knee = [], {}, []
        for s, name in (("l", "left"), ("r", "right")):
            thigh = w[f"knee_{s}"] - w[f"hip_{s}"]
            hip.append(_wrap(pelvis - _seg_deg(-thigh)))
            out = SIGN[s] * thigh[2] / np.linalg.norm(thigh)
            abduction[name] = _r(np.degrees(np.arcsin(out)))
            shin = w[f"ankle_{s}"] - w[f"knee_{s}"]
            cos = np.dot(-thigh, shin) / (np.linalg.norm(thigh) * np.linalg.norm(shin))
            knee.append(180.0 - float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))))
        l1 = _seg_deg(sk.spine[5] - sk.spine[4])
        lumbar = _wrap(l1 - pelvis - LUMBAR_NEUTRAL_DEG[-1])
        spread = np.linalg.norm(w["knee_r"] - w["knee_l"]) / np.linalg.norm(w["hip_r"] - w["hip_l"])
        return {
            "t": 0.0,
            "hip_flexion_deg": _r(np.mean(hip)),
            "lumbar_flexion_deg": _r(lumbar),
            "thoracic_flexion_deg": 0.0,
            "knee_flexion_deg": _r(np.mean(knee)),
            "trunk_inclination_deg": _r(sk.trunk_inclination_deg),
            "pelvis_tilt_deg": _r(pelvis),
            "hip_abduction_deg": abduction,
            "knee_spread_ratio": _r(spread),
            "depth": _r(depth),
            "rep": None,
            "at_bottom": False,
        }


def _elbow(sh: np.ndarray, wrist: np.ndarray, upper: float, fore: float, sign: float) -> np.ndarray:
    """Elbow of a two-link arm from shoulder to wrist, bent towards `ELBOW_POLE` (z mirrored by
    sign)."""
    return two_link_joint(sh, wrist, upper, fore, ELBOW_POLE * np.array([1.0, 1.0, sign]))


# The script of a spec, built once per spec.
frog_script = cached_by_spec(FrogScript)
