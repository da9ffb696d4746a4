"""90/90 hip switch: the mannequin sitting on the floor, both knees bent 90 deg, swinging the
knees over ("windshield wiper") so that the other leg ends in front.

In:  a `SynthSpec` of kind `ninety_ninety` and a time in seconds.
Out: `NinetyPose`: world joint positions, the mannequin's spheres in world metres, the frame's
     truth record and floor clearances; `NinetyScript.reps` (the timeline of the switches).

Geometry. The body is built standing (`build_skeleton`, the "body frame": x = chest, y = up,
z = the lifter's right; neutral angles). The trunk (torso, pelvis, head, arms) is placed
rigidly: turned about the hip line (world z) so that the trunk line (hip centre -> shoulder
centre) leans back `ninety_lean_deg` from vertical, the hip centre at x = z = 0 and as high as
puts the lowest trunk sphere (the buttocks) on the floor (y = 0). World: the lifter faces +x,
the lifter's right is +z. The camera stands in front of the lifter as for the Pallof press
(`CAMERA_YAW_DEG` is added to the spec's yaw: yaw 0 = a straight front view; the lifter's
right is the image's left), aimed `CAMERA_TARGET_M` above the floor. The arms are straight or
a little bent (two-link, elbows out and back), fingertips on the floor beside and behind the
hips (`HAND_OUT`, `HAND_BACK`; behind the shoulders when leaning back); arms and trunk never
move.

Legs. Each leg is the thigh (hip -> knee), the shank and the foot, each moved rigidly; the knee
stays at 90 deg, the foot is pointed `FOOT_DEG` past square with the shin. A leg's pose is
(azimuth, rotation): the thigh's heading in the floor plane, from straight ahead towards the
leg's own side (`FRONT_AZIMUTH_DEG` in front, `BACK_AZIMUTH_DEG` at the back: out to the side,
15 deg forward of the hip line), and the hip rotation (see below) `ninety_er_deg` (external)
in front, minus `ninety_ir_deg` (internal) at the back. The thigh's elevation above the floor
plane is then solved (bisection) so that the leg's lowest sphere just touches the floor: the
leg rests on the floor at its foot, knee or thigh, and with limited rotation the knee sticks up
(default, average body: the front thigh ~30 deg up at 45 deg of ER, the back thigh ~35 deg up
at 35 deg of IR); at 90 deg the thighs lie on the floor and the shins lie flat across (front)
and back (back). The shin direction is the thigh's neutral shin direction turned about the
thigh by the rotation.

Rotation (the truth, from the world joints; `hip_rotation_deg`): with the thigh u = unit(knee -
hip), the pelvis's down direction d = minus the pelvis up axis (up = unit(shoulder centre - hip
centre) made perpendicular to the hip line hip_l -> hip_r), the neutral shin n = unit(d - (d.u)
u), the medial direction m = sign x (u x n) (sign +1 for the right leg, -1 for the left;
the direction the ankle moves in external rotation: towards the midline when the thigh points
forward) and the shin s = unit(w - (w.u) u), w = ankle - knee: rotation = atan2(s.m, s.n) in
degrees, + = external, - = internal.

Switches. `side` is the leg in front at the start. Each rep swings both knees over towards the
front leg's side over rep_seconds (share p = 0..1, cosine-eased): each leg's azimuth and
rotation move linearly in p from their front values to their back ones (or back to front) and
the elevation follows from the floor, so the knees rise as they pass the middle (both shins
near vertical, feet on the floor) and come down on the other side. Then `hold_top_s` settled,
then `pad_seconds` (also before the first rep). Truth per frame: see `NinetyScript._record`.
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

# The camera is turned this far from the side view to face the lifter (as the Pallof press).
CAMERA_YAW_DEG = 90.0
# Camera aim height (metres) and the floor's contact shadow (centre x, z, half-lengths).
CAMERA_TARGET_M = 0.4
SHADOW = (0.15, 0.0, 0.55, 0.6)
# Thigh heading in the floor plane, degrees from straight ahead towards the leg's own side.
FRONT_AZIMUTH_DEG = 35.0
BACK_AZIMUTH_DEG = 75.0
# Foot pointed this far past square with the shin.
FOOT_DEG = 20.0
# Hands (x k metres): fingertips on the floor this far out from the midline and behind the hips
# (or behind the shoulders, when the trunk leans back).
HAND_OUT = 0.3
HAND_BACK = 0.12
# Hand capsule as body.py draws it: length along the forearm and its end radius (x k).
HAND_LENGTH = 0.07
HAND_TIP_R = 0.03
# Elbow pole (world, z for the right arm; mirrored for the left): out and back.
ELBOW_POLE = np.array([-0.6, 0.0, 1.0])
SIDES = ("l", "r")
SIDE_NAMES = {"l": "left", "r": "right"}
OTHER = {"left": "right", "right": "left"}
SIGN = {"l": -1.0, "r": 1.0}


def _ease(u: float) -> float:
    u = min(max(u, 0.0), 1.0)
    return 0.5 - 0.5 * float(np.cos(np.pi * u))


def _r(x: float) -> float:
    """Rounded for the truth JSON (no -0.0)."""
    return round(float(x), 4) + 0.0


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def _rot_z(deg: float) -> np.ndarray:
    """Rotation about z, + = +x towards +y."""
    a = np.radians(deg)
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def pelvis_down(w: dict[str, np.ndarray]) -> np.ndarray:
    """Minus the pelvis's up axis: the trunk line (hip centre -> shoulder centre) made
    perpendicular to the hip line."""
    h = _unit(w["hip_r"] - w["hip_l"])
    t = w["shoulder_mid"] - w["hip_mid"]
    return -_unit(t - np.dot(t, h) * h)


def hip_rotation_deg(
    hip: np.ndarray, knee: np.ndarray, ankle: np.ndarray, down: np.ndarray, side: str
) -> float:
    """Signed hip rotation (degrees, + = external) of one leg; see the module docstring."""
    u = _unit(knee - hip)
    n = _unit(down - np.dot(down, u) * u)
    m = SIGN[side] * np.cross(u, n)
    w = ankle - knee
    s = _unit(w - np.dot(w, u) * u)
    return float(np.degrees(np.arctan2(np.dot(s, m), np.dot(s, n))))


@dataclass(frozen=True)
class NinetyRep:
    """One switch (clip seconds): the knees swing from `start_s` to `switched_s` (half way at
    `mid_s`), then stay `hold_top_s` until `end_s`; `front_before` / `front_after` are the legs
    in front before and after it."""

    index: int
    front_before: str
    front_after: str
    start_s: float
    mid_s: float
    switched_s: float
    end_s: float

    def to_dict(self) -> dict:
        return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in asdict(self).items()}


@dataclass
class NinetyPose:
    """One frame: world joints (`skeleton.joints`; its spine and segment angles stay in the body
    frame), spheres in world metres, the truth record and floor clearances (metres, lowest sphere
    surface above y = 0: `lowest`, `trunk` (torso, pelvis, head), `arms`, `leg_l`, `leg_r`)."""

    skeleton: Skeleton
    spheres: Spheres
    record: dict
    floor_gap_m: dict[str, float]


class NinetyScript:
    """A 90/90 hip switch clip's script: the switches' timeline and `pose(t)`."""

    def __init__(self, spec: SynthSpec) -> None:
        if not spec.is_ninety_ninety:
            raise ValueError(f"not a 90/90 hip switch: {spec.kind}")
        self.spec = spec
        self.shape = spec.shape
        self.k = self.shape.height_m / REFERENCE_HEIGHT_M
        self.clothing = CLOTHING_COLOURS[spec.clothing]
        self.reps = self._timeline()
        sk = build_skeleton(JointAngles(), self.shape)
        j = sk.joints
        self.body_joints = j
        # Leant back so that the trunk line (hip centre -> shoulder centre, a few degrees forward
        # of vertical in the standing body) is `ninety_lean_deg` behind vertical.
        self.rot = _rot_z(spec.ninety_lean_deg + sk.trunk_inclination_deg)
        # Trunk on the floor: the lowest torso / pelvis / head sphere touches y = 0.
        body = build_body(sk, self.shape, self.clothing, "none")
        trunk = np.isin(body.part, (TORSO, PELVIS, HEAD))
        low = ((body.centres[trunk] - j["hip_mid"]) @ self.rot.T)[:, 1] - body.radii[trunk]
        self.hip_w = np.array([0.0, -float(low.min()), 0.0])
        world = {n: self.trunk(p) for n, p in j.items()}
        # Arms: hands on the floor beside the hips; set in the world, built in the body frame.
        arm_j = dict(j)
        for s in SIDES:
            elbow, wrist = self._arm(world[f"shoulder_{s}"], s)
            world[f"elbow_{s}"], world[f"wrist_{s}"] = elbow, wrist
            arm_j[f"elbow_{s}"] = self.untrunk(elbow)
            arm_j[f"wrist_{s}"] = self.untrunk(wrist)
        self.world0 = world
        self.down = pelvis_down(world)
        self.body_sk = replace(sk, joints=arm_j)
        body = build_body(self.body_sk, self.shape, self.clothing, "none")
        self.body = body
        self.fixed = np.isin(body.part, (TORSO, PELVIS, HEAD, ARM))
        self.fixed_centres = self.trunk(body.centres[self.fixed])
        # Leg spheres per side and segment, by where they lie in the standing body.
        eps = 1e-9
        y = body.centres[:, 1]
        self.leg_sel: dict[str, dict[str, np.ndarray]] = {}
        for s in SIDES:
            leg = (body.part == LEG) & (np.sign(body.centres[:, 2]) == SIGN[s])
            knee_y, ankle_y = j[f"knee_{s}"][1], j[f"ankle_{s}"][1]
            self.leg_sel[s] = {
                "thigh": leg & (y > knee_y + eps),
                "shin": leg & (y <= knee_y + eps) & (y >= ankle_y - eps),
                "foot": leg & (y < ankle_y - eps),
            }

    # --- placement helpers ----------------------------------------------------------------

    def trunk(self, p: np.ndarray) -> np.ndarray:
        """Body frame -> world for the trunk (points (3,) or (N, 3))."""
        return (p - self.body_joints["hip_mid"]) @ self.rot.T + self.hip_w

    def untrunk(self, p: np.ndarray) -> np.ndarray:
        return (p - self.hip_w) @ self.rot + self.body_joints["hip_mid"]

    def _arm(self, shoulder: np.ndarray, s: str) -> tuple[np.ndarray, np.ndarray]:
        """Elbow and wrist (world) with the fingertips resting on the floor beside the hip."""
        k = self.k
        upper, fore = UPPER_ARM * k, FOREARM * k
        back = min(0.0, float(shoulder[0])) - HAND_BACK * k
        target = np.array([back, 0.0, SIGN[s] * HAND_OUT * k])
        wrist_y = 0.1 * k
        pole = ELBOW_POLE * np.array([1.0, 1.0, SIGN[s]])
        for _ in range(8):
            goal = np.array([target[0], wrist_y, target[2]])
            d = goal - shoulder
            dist = float(np.linalg.norm(d))
            u = d / dist
            if dist >= upper + fore:
                # Out of reach: the straight arm points lower, towards the target's heading,
                # until the fingertips touch the floor (or hangs straight down if even that
                # is too short).
                reach = upper + fore + HAND_LENGTH * k
                drop = min((shoulder[1] - HAND_TIP_R * k) / reach, 1.0)
                flat = np.array([d[0], 0.0, d[2]])
                u = np.sqrt(1.0 - drop**2) * _unit(flat) + np.array([0.0, -drop, 0.0])
                elbow, wrist = shoulder + upper * u, shoulder + (upper + fore) * u
            else:
                cos_a = (upper**2 + dist**2 - fore**2) / (2.0 * upper * dist)
                v = _unit(pole - np.dot(pole, u) * u)
                elbow = shoulder + upper * (cos_a * u + np.sqrt(1.0 - cos_a**2) * v)
                wrist = goal
            tip = wrist + HAND_LENGTH * k * _unit(wrist - elbow)
            lowest = tip[1] - HAND_TIP_R * k
            wrist_y -= lowest
            if abs(lowest) < 1e-7:
                break
        return elbow, wrist

    # --- timeline -------------------------------------------------------------------------

    def _timeline(self) -> list[NinetyRep]:
        spec = self.spec
        reps, t, front = [], spec.pad_seconds, spec.side
        for i in range(spec.reps):
            other, mid, done = OTHER[front], t + 0.5 * spec.rep_seconds, t + spec.rep_seconds
            reps.append(NinetyRep(i + 1, front, other, t, mid, done, done + spec.hold_top_s))
            t, front = done + spec.hold_top_s + spec.pad_seconds, other
        return reps

    def state(self, t: float) -> tuple[NinetyRep | None, str, float]:
        """(the switch under way or None, the leg in front before it, switch share 0..1)."""
        eps = 1e-9
        front = self.spec.side
        for rep in self.reps:
            if t < rep.start_s - eps:
                break
            if t <= rep.end_s + eps:
                share = _ease((t - rep.start_s) / (rep.switched_s - rep.start_s))
                return rep, rep.front_before, share
            front = rep.front_after
        return None, front, 0.0

    # --- pose -----------------------------------------------------------------------------

    def pose(self, t: float) -> NinetyPose:
        """Joints, spheres and truth at time t (seconds)."""
        rep, front, share = self.state(t)
        pose = self._build(front[0], share)
        record = pose.record
        record["t"] = round(t, 6)
        record["rep"] = rep.index if rep is not None else None
        after = rep.front_after if rep is not None else front
        record["front_side"] = after if share >= 0.5 else front
        record["switch"] = _r(share)
        record["switching"] = 0.0 < share < 1.0
        return pose

    def _leg(self, front_share: float) -> tuple[float, float]:
        """(azimuth, rotation) of a leg that is front_share (0..1) of the way to the front."""
        spec = self.spec
        az = BACK_AZIMUTH_DEG + front_share * (FRONT_AZIMUTH_DEG - BACK_AZIMUTH_DEG)
        rot = -spec.ninety_ir_deg + front_share * (spec.ninety_er_deg + spec.ninety_ir_deg)
        return az, rot

    def _leg_spheres(
        self, s: str, az: float, elev: float, rot: float
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], float]:
        """World joints (hip, knee, ankle), sphere centres per segment (thigh, shin, foot) and
        the lowest sphere surface's height of one leg."""
        k, j, c = self.k, self.body_joints, self.body.centres
        a, e = np.radians(az), np.radians(elev)
        u = np.array([np.cos(e) * np.cos(a), np.sin(e), SIGN[s] * np.cos(e) * np.sin(a)])
        n = _unit(self.down - np.dot(self.down, u) * u)
        shin = np.cos(np.radians(rot)) * n + np.sin(np.radians(rot)) * SIGN[s] * np.cross(u, n)
        # Thigh rotation body -> world: -y (down the thigh) -> u, -x (the shin with the knee at
        # 90) -> shin, z -> their cross product.
        rt = np.stack([-shin, -u, np.cross(shin, u)], axis=1)
        hip = self.trunk(j[f"hip_{s}"])
        knee = hip + THIGH * k * u
        ankle = knee + SHANK * k * shin
        rs = rt @ _rot_z(-90.0)
        rf = rs @ _rot_z(-FOOT_DEG)
        sel = self.leg_sel[s]
        parts = {}
        for name, pivot, target, rot_m in (
            ("thigh", j[f"hip_{s}"], hip, rt),
            ("shin", j[f"knee_{s}"], knee, rs),
            ("foot", j[f"ankle_{s}"], ankle, rf),
        ):
            parts[name] = (c[sel[name]] - pivot) @ rot_m.T + target
        lowest = min(float((p[:, 1] - self.body.radii[sel[n]]).min()) for n, p in parts.items())
        joints = {f"hip_{s}": hip, f"knee_{s}": knee, f"ankle_{s}": ankle}
        return joints, parts, lowest

    def _solve(self, s: str, front_share: float) -> float:
        """Thigh elevation (degrees) at which the leg's lowest sphere touches the floor."""
        az, rot = self._leg(front_share)

        def lowest(elev: float) -> float:
            return self._leg_spheres(s, az, elev, rot)[2]

        lo, hi = -40.0, 85.0
        for _ in range(40):
            mid = 0.5 * (lo + hi)
            if lowest(mid) < 0.0:
                lo = mid
            else:
                hi = mid
        return hi

    def _build(self, front: str, share: float) -> NinetyPose:
        world = dict(self.world0)
        body = self.body
        centres = body.centres.copy()
        centres[self.fixed] = self.fixed_centres
        gaps: dict[str, float] = {}
        for s in SIDES:
            front_share = 1.0 - share if s == front else share
            az, rot = self._leg(front_share)
            elev = self._solve(s, front_share)
            joints, parts, lowest = self._leg_spheres(s, az, elev, rot)
            world.update(joints)
            for name, p in parts.items():
                centres[self.leg_sel[s][name]] = p
            gaps[f"leg_{s}"] = lowest
        world["knee_mid"] = 0.5 * (world["knee_l"] + world["knee_r"])
        world["ankle_mid"] = 0.5 * (world["ankle_l"] + world["ankle_r"])
        spheres = Spheres(centres, body.radii, body.albedo, body.part)
        bottom = centres[:, 1] - body.radii
        gaps["lowest"] = float(bottom.min())
        gaps["trunk"] = float(bottom[np.isin(body.part, (TORSO, PELVIS, HEAD))].min())
        gaps["arms"] = float(bottom[body.part == ARM].min())
        world_sk = replace(self.body_sk, joints=world)
        return NinetyPose(world_sk, spheres, self._record(world), gaps)

    def _record(self, w: dict[str, np.ndarray]) -> dict[str, object]:
        """Truth from the world joints, degrees; per-side values as {"left": .., "right": ..}.

        `hip_rotation_deg`: signed hip rotation, + = external, - = internal (module docstring).
        `hip_flexion_deg`: the thigh (hip -> knee) in the pelvis's sagittal plane, the angle
        from the pelvis's down direction towards its forward direction (forward = up x hip line,
        pointing where the chest faces; 90 = thigh straight ahead, square to the trunk).
        `hip_abduction_deg`: the thigh's angle out of the pelvis's sagittal plane, + = towards
        the leg's own side. `knee_flexion_deg`: 180 - the hip-knee-ankle angle (always 90).
        `knee_height_m`: knee joint centre above the floor. `trunk_lean_deg`: the trunk line
        (hip centre -> shoulder centre) from vertical in the sagittal plane, + = leaning back
        (`trunk_inclination_deg` is the same line, + = forward, so ~ -lean). `front_side`: the
        leg in front (during a switch, the one nearer the front: before half way the leg in
        front at its start); `switch`: the switch share 0..1 (cosine-eased; 0 outside
        switches); `switching`: the knees are moving; `rep`: the switch under way (moving or
        the `hold_top_s` after it) or None."""
        down = self.down
        h = _unit(w["hip_r"] - w["hip_l"])
        fwd = _unit(np.cross(-down, h))
        rotation, flexion, abduction, knee, height = {}, {}, {}, {}, {}
        for s in SIDES:
            hip, kn, an = w[f"hip_{s}"], w[f"knee_{s}"], w[f"ankle_{s}"]
            name = SIDE_NAMES[s]
            rotation[name] = _r(hip_rotation_deg(hip, kn, an, down, s))
            u = _unit(kn - hip)
            flexion[name] = _r(np.degrees(np.arctan2(np.dot(u, fwd), np.dot(u, down))))
            abduction[name] = _r(np.degrees(np.arcsin(np.clip(SIGN[s] * np.dot(u, h), -1, 1))))
            a, b = hip - kn, an - kn
            cos = np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))
            knee[name] = _r(180.0 - np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))
            height[name] = _r(kn[1])
        trunk = w["shoulder_mid"] - w["hip_mid"]
        incl = float(np.degrees(np.arctan2(trunk[0], trunk[1])))
        return {
            "t": 0.0,
            "hip_rotation_deg": rotation,
            "hip_flexion_deg": flexion,
            "hip_abduction_deg": abduction,
            "knee_flexion_deg": knee,
            "knee_height_m": height,
            "trunk_lean_deg": _r(-incl),
            "trunk_inclination_deg": _r(incl),
            "front_side": None,
            "switch": 0.0,
            "switching": False,
            "rep": None,
        }


# The script of a spec, built once per spec.
ninety_script = cached_by_spec(NinetyScript)
