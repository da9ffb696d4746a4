"""Bird dog: the mannequin on hands and knees, reaching one arm forward and the opposite leg back.

In:  a `SynthSpec` of kind `bird_dog` and a time in seconds.
Out: `BirdDogPose`: world joint positions, the mannequin's spheres in world metres, the frame's
     truth record and floor clearances; `BirdDogScript.reps` (the timeline of the reps).

Geometry. The body is built standing (`build_skeleton`, the "body frame": x = chest, y = up,
z = the lifter's right; lumbar angle = minus the lumbar extension of the frame, everything else
neutral, arms hanging straight) and its spheres (`build_body`) are moved to the world segment by
segment, each rigidly and by a rotation in the sagittal plane only (about z, so the lifter's
right stays world +z): the trunk (torso, pelvis, head), per side the thigh, the shank with the
calf, the foot, the straight arm and the hand. Spheres go to a segment by where they lie in the
standing body (legs and arms hang straight down there; the ones on a joint centre land on the
same point either way). World: head towards +x, chest down, floor y = 0.

Start position (quadruped): thighs vertical with the knee resting on the floor (knee joint one
knee radius up), shins back along the floor (ankle joint one ankle radius up, ~88 deg of knee
flexion), feet pointed back (toes 15 deg below the shin line), arms straight and vertical, palms
flat on the floor pointing forward (wrist one hand radius up). The hip joints therefore sit
a thigh above the knees and the shoulder joints an arm above the hands: the trunk (hip centre ->
shoulder centre) is placed at exactly those heights, which tilts it ~13 deg up towards the
shoulders (a real quadruped does the same; the back surface is flatter than that line). The hip
centre stays put; with lumbar extension the trunk is re-placed the same way, so the supporting
hand moves with the shoulder by a few millimetres along the floor.

A rep reaches with the reach share r = 0..1 (cosine-eased over rep_seconds / 2, 1 during the top
hold, eased back over rep_seconds / 2). The reaching arm turns about the shoulder (linearly in r)
from vertical to `arm_deg` above the trunk line (straight), its hand (with r^2) from flat on the
floor to in line with the forearm; the reaching leg's thigh turns about the hip (linearly in r)
from vertical to `leg_deg` above the backward trunk line while the knee straightens (with r^2,
so the foot lifts rather than sweeping through the floor) from the start flexion to 0: at the
top the hip -> ankle line is exactly `leg_deg` above it. The lumbar extension is `lumbar_ext_deg` x r.
The supporting hand, knee, shin and foot stay where they are (no weight shift is modelled).

Truth, per frame (degrees, from the world joints, in the sagittal x-y plane): see
`BirdDogScript._record`. Outside a rep, `arm_elevation_deg` / `leg_elevation_deg` are those of
the limbs that reach in the next rep (after the last rep: the last rep's).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np

from formcheck.synth.body import ARM, HEAD, LEG, PELVIS, TORSO, Spheres, build_body
from formcheck.synth.motion import JointAngles
from formcheck.synth.skeleton import (
    FOREARM,
    REFERENCE_HEIGHT_M,
    SHANK,
    THIGH,
    UPPER_ARM,
    Skeleton,
    build_skeleton,
)
from formcheck.synth.spec import CLOTHING_COLOURS, SynthSpec, cached_by_spec

# Heights (metres, 1.75 m body) of the joints resting on the floor: the knee's radius (x girth),
# the ankle sphere's and the hand's, as body.py draws them.
KNEE_R = 0.056
ANKLE_R = 0.04
HAND_R = 0.032
# Foot direction relative to the shin (knee -> ankle), towards the floor: pointed feet.
FOOT_DEG = 15.0
SIDE_NAMES = {"l": "left", "r": "right"}
OTHER = {"l": "r", "r": "l"}


def _ease(u: float) -> float:
    u = min(max(u, 0.0), 1.0)
    return 0.5 - 0.5 * float(np.cos(np.pi * u))


def _dir(deg: float) -> np.ndarray:
    """Unit vector in the sagittal x-y plane at this angle from +x (counter-clockwise, + = up
    when facing +x)."""
    a = np.radians(deg)
    return np.array([np.cos(a), np.sin(a), 0.0])


def _r(x: float) -> float:
    """Rounded for the truth JSON (no -0.0)."""
    return round(float(x), 4) + 0.0


def _signed_deg(a: np.ndarray, b: np.ndarray) -> float:
    """Angle from a to b in the x-y plane, counter-clockwise positive, -180..180."""
    cross = a[0] * b[1] - a[1] * b[0]
    return float(np.degrees(np.arctan2(cross, a[0] * b[0] + a[1] * b[1])))


@dataclass(frozen=True)
class _Segment:
    """Rigid sagittal map body -> world: rotate by `deg` about z around the body pivot, move the
    pivot to its world place (z unchanged)."""

    deg: float
    pivot: np.ndarray
    target: np.ndarray

    def __call__(self, p: np.ndarray) -> np.ndarray:
        a = np.radians(self.deg)
        c, s = np.cos(a), np.sin(a)
        rot = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
        shift = self.target - self.pivot
        shift[2] = 0.0
        return (p - self.pivot) @ rot.T + self.pivot + shift


@dataclass(frozen=True)
class BirdDogRep:
    """One rep's timeline (clip seconds); `side` is the leg raised (the arm is the other one)."""

    index: int
    side: str
    start_s: float
    top_start_s: float
    top_end_s: float
    end_s: float

    def to_dict(self) -> dict:
        return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in asdict(self).items()}


@dataclass
class BirdDogPose:
    """One frame: world joints (`skeleton.joints`; its spine and segment angles stay in the body
    frame), spheres in world metres, the truth record and floor clearances (metres, lowest sphere
    surface above y = 0: `lowest`, `trunk` (torso, pelvis, head), `arm_l`, `arm_r`, `leg_l`,
    `leg_r`)."""

    skeleton: Skeleton
    spheres: Spheres
    record: dict
    floor_gap_m: dict[str, float]


class BirdDogScript:
    """A bird dog clip's script: the reps' timeline and `pose(t)`."""

    def __init__(self, spec: SynthSpec) -> None:
        if not spec.is_bird_dog:
            raise ValueError(f"not a bird dog: {spec.kind}")
        self.spec = spec
        self.shape = spec.shape
        self.k = k = self.shape.height_m / REFERENCE_HEIGHT_M
        g = self.shape.girth
        self.clothing = CLOTHING_COLOURS[spec.clothing]
        self.knee_y = KNEE_R * k * g
        self.ankle_y = ANKLE_R * k
        self.hip_y = self.knee_y + THIGH * k
        self.shoulder_y = HAND_R * k + (UPPER_ARM + FOREARM) * k
        # Shin direction in the start position: back along the floor, from knee to ankle height.
        drop = np.degrees(np.arcsin((self.knee_y - self.ankle_y) / (SHANK * k)))
        self.shin0_deg = -180.0 + float(drop)
        self.knee0_deg = -90.0 - self.shin0_deg
        self.reps = self._timeline()
        # Hip centre placed so the top of the first rep is centred on the camera's aim.
        self.anchor = 0.0
        first = self.reps[0].side[0]
        top = self._build(1.0, first, spec.lumbar_ext_deg)
        lo = (top.spheres.centres[:, 0] - top.spheres.radii).min()
        hi = (top.spheres.centres[:, 0] + top.spheres.radii).max()
        self.anchor = -0.5 * float(lo + hi)

    # --- timeline -------------------------------------------------------------------------

    def _timeline(self) -> list[BirdDogRep]:
        spec = self.spec
        half = 0.5 * spec.rep_seconds
        reps = []
        t = spec.pad_seconds
        side = spec.side
        for i in range(spec.reps):
            top = t + half
            reps.append(
                BirdDogRep(i + 1, side, t, top, top + spec.hold_top_s, top + spec.hold_top_s + half)
            )
            t = reps[-1].end_s + spec.pad_seconds
            side = "right" if side == "left" else "left"
        return reps

    def state(self, t: float) -> tuple[BirdDogRep | None, float, bool]:
        """(the rep under way or None, reach share 0..1, at the top hold) at time t."""
        eps = 1e-9
        for rep in self.reps:
            if rep.start_s - eps <= t <= rep.end_s + eps:
                if t < rep.top_start_s - eps:
                    return rep, _ease((t - rep.start_s) / (rep.top_start_s - rep.start_s)), False
                if t <= rep.top_end_s + eps:
                    return rep, 1.0, True
                return rep, 1.0 - _ease((t - rep.top_end_s) / (rep.end_s - rep.top_end_s)), False
        return None, 0.0, False

    def _next_rep(self, t: float) -> BirdDogRep:
        return next((r for r in self.reps if r.start_s >= t), self.reps[-1])

    # --- pose -----------------------------------------------------------------------------

    def pose(self, t: float) -> BirdDogPose:
        """Joints, spheres and truth at time t (seconds)."""
        rep, reach, at_top = self.state(t)
        ext = self.spec.lumbar_ext_deg * reach
        limbs = rep if rep is not None else self._next_rep(t)
        pose = self._build(reach, limbs.side[0], ext)
        record = pose.record
        record["t"] = round(t, 6)
        record["rep"] = rep.index if rep is not None else None
        record["reaching_side"] = rep.side if rep is not None else None
        record["at_top"] = at_top
        return pose

    def start_pose(self) -> BirdDogPose:
        """The start position (hands and knees, nothing reaching) in world metres; the fire
        hydrant (`formcheck.synth.hydrant`) starts from it."""
        return self._build(0.0, self.reps[0].side[0], 0.0)

    def _build(self, reach: float, leg_side: str, ext: float) -> BirdDogPose:
        spec, k = self.spec, self.k
        arm_side = OTHER[leg_side]
        sk = build_skeleton(JointAngles(lumbar=-ext), self.shape)
        j = sk.joints
        body = build_body(sk, self.shape, self.clothing, "none")

        # Trunk: hip centre at hip height, shoulder centre at shoulder height, head to +x.
        d = j["shoulder_mid"] - j["hip_mid"]
        length = float(np.hypot(d[0], d[1]))
        tilt = float(np.degrees(np.arcsin((self.shoulder_y - self.hip_y) / length)))
        body_deg = float(np.degrees(np.arctan2(d[1], d[0])))
        hip_w = np.array([self.anchor, self.hip_y, 0.0])
        trunk = _Segment(tilt - body_deg, j["hip_mid"], hip_w)

        world: dict[str, np.ndarray] = {}
        segments: dict[str, _Segment] = {}
        for s in ("l", "r"):
            r = reach if s == leg_side else 0.0
            hip = trunk(j[f"hip_{s}"])
            thigh_deg = -90.0 + r * (-90.0 + tilt - spec.leg_deg)
            # The knee straightens late (with r squared), so the shin and foot rise off the
            # floor as the thigh swings back instead of swinging down into it.
            shin_deg = thigh_deg - self.knee0_deg * (1.0 - r * r)
            knee = hip + THIGH * k * _dir(thigh_deg)
            ankle = knee + SHANK * k * _dir(shin_deg)
            segments[f"thigh_{s}"] = _Segment(thigh_deg + 90.0, j[f"hip_{s}"], hip)
            segments[f"shin_{s}"] = _Segment(shin_deg + 90.0, j[f"knee_{s}"], knee)
            segments[f"foot_{s}"] = _Segment(shin_deg + FOOT_DEG, j[f"ankle_{s}"], ankle)
            world[f"hip_{s}"], world[f"knee_{s}"], world[f"ankle_{s}"] = hip, knee, ankle

            r = reach if s == arm_side else 0.0
            shoulder = trunk(j[f"shoulder_{s}"])
            top_deg = tilt + spec.arm_deg
            arm_deg = -90.0 + r * (90.0 + top_deg)
            # The hand leaves the floor flat and ends in line with the forearm.
            hand_deg = r * r * top_deg
            elbow = shoulder + UPPER_ARM * k * _dir(arm_deg)
            wrist = shoulder + (UPPER_ARM + FOREARM) * k * _dir(arm_deg)
            segments[f"arm_{s}"] = _Segment(arm_deg + 90.0, j[f"shoulder_{s}"], shoulder)
            segments[f"hand_{s}"] = _Segment(hand_deg + 90.0, j[f"wrist_{s}"], wrist)
            world[f"shoulder_{s}"], world[f"elbow_{s}"], world[f"wrist_{s}"] = (
                shoulder,
                elbow,
                wrist,
            )
        for name, p in j.items():
            if name not in world:
                world[name] = trunk(p)
        world["knee_mid"] = 0.5 * (world["knee_l"] + world["knee_r"])
        world["ankle_mid"] = 0.5 * (world["ankle_l"] + world["ankle_r"])

        centres = body.centres.copy()
        c, part = body.centres, body.part
        m = np.isin(part, (TORSO, PELVIS, HEAD))
        centres[m] = trunk(c[m])
        eps = 1e-9
        for s, sign in (("l", -1.0), ("r", 1.0)):
            side = np.sign(c[:, 2]) == sign
            leg = (part == LEG) & side
            y = c[:, 1]
            for seg, sel in (
                ("thigh", leg & (y > j[f"knee_{s}"][1] + eps)),
                ("shin", leg & (y <= j[f"knee_{s}"][1] + eps) & (y >= j[f"ankle_{s}"][1] - eps)),
                ("foot", leg & (y < j[f"ankle_{s}"][1] - eps)),
            ):
                centres[sel] = segments[f"{seg}_{s}"](c[sel])
            arm = (part == ARM) & side
            hand = arm & (y < j[f"wrist_{s}"][1] - eps)
            centres[arm & ~hand] = segments[f"arm_{s}"](c[arm & ~hand])
            centres[hand] = segments[f"hand_{s}"](c[hand])
        spheres = Spheres(centres, body.radii, body.albedo, part)
        world_sk = replace(sk, joints=world)

        bottom = centres[:, 1] - body.radii
        gaps = {"lowest": float(bottom.min())}
        gaps["trunk"] = float(bottom[m].min())
        for s, sign in (("l", -1.0), ("r", 1.0)):
            side = np.sign(c[:, 2]) == sign
            gaps[f"arm_{s}"] = float(bottom[(part == ARM) & side].min())
            gaps[f"leg_{s}"] = float(bottom[(part == LEG) & side].min())
        record = self._record(world, world_sk, ext, leg_side)
        return BirdDogPose(world_sk, spheres, record, gaps)

    @staticmethod
    def _record(
        w: dict[str, np.ndarray], sk: Skeleton, ext: float, leg_side: str
    ) -> dict[str, object]:
        """Truth from the world joints, in the sagittal (x-y) plane, degrees.

        `trunk_tilt_deg`: hip centre -> shoulder centre from horizontal, + = shoulders higher.
        `arm_elevation_<side>_deg`: shoulder -> wrist relative to the forward trunk line (hip
        centre -> shoulder centre), + = hand away from the floor; 0 = in line, -90 = at right
        angles towards the floor. `leg_elevation_<side>_deg`: hip -> ankle relative to the
        backward trunk line (shoulder centre -> hip centre), + = away from the floor (~ -33 in the
        start position). `arm_elevation_deg` / `leg_elevation_deg`: the reaching arm and leg
        (arm on the side opposite the raised leg)."""
        trunk = w["shoulder_mid"] - w["hip_mid"]
        arm = {s: _signed_deg(trunk, w[f"wrist_{s}"] - w[f"shoulder_{s}"]) for s in ("l", "r")}
        leg = {s: -_signed_deg(-trunk, w[f"ankle_{s}"] - w[f"hip_{s}"]) for s in ("l", "r")}
        return {
            "t": 0.0,
            "arm_elevation_deg": _r(arm[OTHER[leg_side]]),
            "leg_elevation_deg": _r(leg[leg_side]),
            "arm_elevation_left_deg": _r(arm["l"]),
            "arm_elevation_right_deg": _r(arm["r"]),
            "leg_elevation_left_deg": _r(leg["l"]),
            "leg_elevation_right_deg": _r(leg["r"]),
            "lumbar_extension_deg": _r(ext),
            "lumbar_flexion_deg": _r(-ext),
            "trunk_tilt_deg": _r(float(np.degrees(np.arctan2(trunk[1], trunk[0])))),
            "trunk_inclination_deg": _r(sk.trunk_inclination_deg),
            "rep": None,
            "reaching_side": None,
            "at_top": False,
        }


# The script of a spec, built once per spec.
bird_dog_script = cached_by_spec(BirdDogScript)
