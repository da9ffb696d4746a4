"""Hold exercises (forearm plank, side plank): the mannequin posed on the floor over time.

In:  a `SynthSpec` of a hold kind and a time in seconds.
Out: `HoldPose`: world joint positions, the mannequin's spheres in world metres and the frame's
     truth record (joint angles, `body_line_deg`, `hip_sag_deg` / `hip_drop_deg`, `holding`).

Geometry. The body is first built as the standing chain of `build_skeleton` (the "body frame":
x = chest direction, y = towards the head, z = the lifter's right) with the hold's joint angles,
then placed rigidly on the floor. Plank: chest down, head towards world +x, the lifter's right
towards +z (the camera's side when facing right). Side plank: chest towards the camera, the
`side` side down, so the head points to the image's right when the left side is down; the legs
are stacked (each turned ~3 deg towards the midline). The tilt of the placement is solved so
the supporting shoulder joint(s) sit one upper-arm length above an elbow resting on the floor,
while the lowest foot point (toe, heel or ankle sphere; the knees when kneeling) touches the
floor. The forearms are then set in world space (upper arm vertical, forearm flat on the floor,
pointing to the head for the plank, to the camera for the side plank) and mapped back into the
body frame before the spheres are built. The whole body is shifted along its length so the
straight hold is centred on the camera's aim.

Faults. Plank sag (positive = hips below the shoulder-ankle line): hip extension and lumbar
extension by the same angle `a`, solved so the shoulder-hip-ankle angle deviates from 180 by
exactly the scripted sag (a is ~0.6 x the sag; a pike is hip and lumbar flexion). Side plank
drop (positive = hips towards the floor): in the frontal plane, the legs turn about their hip
joints and the upper body about the hip centre by half the drop each; the torso between the
sacrum and L1 blends from the pelvis's pose to the upper body's (a lateral bend of the lumbar
spine). A fault that would push the pelvis, torso or thighs into the floor stops where they
touch it; the truth then gives the angle reached (`HoldScript.fault_reached_deg`).

Truth, per frame: `body_line_deg` is the angle at the hip joint centre (mid of both hips)
between the shoulder centre (mid of both shoulder joints) and the ankle centre (mid of both
ankle joints), measured in the body's sagittal plane (plank) or frontal plane (side plank),
180 = straight; `hip_sag_deg` / `hip_drop_deg` = 180 - body_line_deg, positive when the hip
centre lies on the floor side of the shoulder-ankle line.

Timeline: `pad_seconds` in the start position (plank: on forearms and knees, hips flexed; side
plank: hips down on the floor), a 1 s cosine-eased get-in, the hold, the fault ramping in over
`FAULT_RAMP_S` from `fault_at_s` into the hold, a 1 s get-out back to the start position, and
`pad_seconds` there. `holding` is true from the end of the get-in to the start of the get-out,
both included.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from formcheck.synth.body import ARM, HEAD, LEG, PELVIS, TORSO, Spheres, build_body
from formcheck.synth.motion import JointAngles
from formcheck.synth.skeleton import (
    FOREARM,
    REFERENCE_HEIGHT_M,
    UPPER_ARM,
    Skeleton,
    build_skeleton,
)
from formcheck.synth.spec import CLOTHING_COLOURS, HOLD_TRANSITION_S, SynthSpec, cached_by_spec

FAULT_RAMP_S = 1.5
# Plank: feet pointed a little (shank-foot angle 105 deg); kneeling start position.
PLANK_ANKLE_DEG = -15.0
KNEEL_KNEE_DEG = 95.0
KNEEL_HIP_DEG = 20.0
# Side plank start position: this much hip drop, or less where the hips reach the floor.
SIDE_START_DROP_DEG = 45.0
# Side plank legs stacked: each turned towards the midline so the ankles are this far apart
# (centre to centre, x k metres; standing they are 0.18 apart).
SIDE_ANKLE_GAP = 0.09
# Camera aim height and floor shadow (x, z, half-lengths) for bodies lying on the floor.
# The bird dog (formcheck.synth.birddog, on hands and knees) is framed the same way.
CAMERA_TARGET_M = {"plank": 0.25, "side_plank": 0.35, "bird_dog": 0.4}
SHADOW = {
    "plank": (0.0, 0.0, 0.9, 0.25),
    "side_plank": (0.0, 0.0, 0.85, 0.3),
    "bird_dog": (0.0, 0.0, 0.75, 0.3),
}
# Radii (metres, 1.75 m body) of the spheres that rest on the floor, as body.py draws them.
ELBOW_R = 0.037  # x girth
HAND_R = 0.032
KNEE_R = 0.056  # x girth

UPPER = (
    "shoulder_l",
    "shoulder_r",
    "elbow_l",
    "elbow_r",
    "wrist_l",
    "wrist_r",
    "shoulder_mid",
    "l1_top",
    "t1",
    "neck_top",
    "head",
)
LEG_JOINTS = ("ankle_l", "ankle_r", "knee_l", "knee_r", "hip_l", "hip_r")
FLOOR_DOWN = np.array([0.0, -1.0, 0.0])


def _ease(u: float) -> float:
    u = min(max(u, 0.0), 1.0)
    return 0.5 - 0.5 * float(np.cos(np.pi * u))


def _rot_x(deg: float) -> np.ndarray:
    """Rotation about the body's x axis (frontal plane); positive turns +y towards +z."""
    a = np.radians(deg)
    c, s = np.cos(a), np.sin(a)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def _rot_axis(axis: np.ndarray, deg: float) -> np.ndarray:
    """Rotation by deg about a unit axis (right hand)."""
    a = np.radians(deg)
    x, y, z = axis
    k = np.array([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]])
    return np.eye(3) + np.sin(a) * k + (1.0 - np.cos(a)) * (k @ k)


def line_angles(
    shoulder: np.ndarray,
    hip: np.ndarray,
    ankle: np.ndarray,
    normal: np.ndarray,
    down: np.ndarray = FLOOR_DOWN,
) -> tuple[float, float]:
    """Angle at the hip between shoulder and ankle within the plane of this normal (180 =
    straight), and the signed deviation 180 - angle: positive when the hip lies on the `down`
    side (default world -y, the floor) of the shoulder-ankle line."""
    n = normal / np.linalg.norm(normal)

    def flat(v: np.ndarray) -> np.ndarray:
        return v - np.dot(v, n) * n

    a, b = flat(shoulder - hip), flat(ankle - hip)
    cos = np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))
    angle = float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))
    line = flat(shoulder - ankle)
    off = flat(hip - ankle)
    off = off - np.dot(off, line) / np.dot(line, line) * line
    sign = 1.0 if np.dot(off, flat(down)) >= 0 else -1.0
    return angle, sign * (180.0 - angle)


@dataclass
class HoldPose:
    """One frame of a hold: world joints (`skeleton.joints`; its spine and segment angles stay
    in the body frame), spheres in world metres, the truth record and floor clearances (metres,
    lowest sphere surface above y = 0: `lowest`, `feet` (legs), `arms`, `trunk` (torso and
    pelvis))."""

    skeleton: Skeleton
    spheres: Spheres
    record: dict
    floor_gap_m: dict[str, float]


@dataclass
class _Placement:
    """Rigid body-frame -> world map: world = rotation @ p + offset."""

    rotation: np.ndarray
    offset: np.ndarray

    def __call__(self, p: np.ndarray) -> np.ndarray:
        return p @ self.rotation.T + self.offset

    def inverse(self, p: np.ndarray) -> np.ndarray:
        return (p - self.offset) @ self.rotation


class _Deform:
    """Frontal-plane changes in the body frame: the side plank's hip drop (legs about their
    hips, upper body about the hip centre, half each) and stacked legs (each leg turned by
    `adduct` degrees towards the midline). Identity when both are 0."""

    def __init__(
        self, joints: dict[str, np.ndarray], drop: float, up: float, adduct: float = 0.0
    ) -> None:
        # Positive _rot_x turns the legs' -y towards -z: the left leg (z < 0) adducts by -adduct.
        self.r_legs = {
            "l": _rot_x(-0.5 * drop * up - adduct),
            "r": _rot_x(-0.5 * drop * up + adduct),
        }
        self.r_up = _rot_x(0.5 * drop * up)
        self.hip = {s: joints[f"hip_{s}"] for s in ("l", "r")}
        self.hip_mid = joints["hip_mid"]
        self.y0, self.y1 = joints["sacrum"][1], joints["l1_top"][1]

    def leg(self, p: np.ndarray, side: str) -> np.ndarray:
        c = self.hip[side]
        return (p - c) @ self.r_legs[side].T + c

    def upper(self, p: np.ndarray) -> np.ndarray:
        return (p - self.hip_mid) @ self.r_up.T + self.hip_mid

    def upper_inverse(self, p: np.ndarray) -> np.ndarray:
        return (p - self.hip_mid) @ self.r_up + self.hip_mid

    def joints(self, joints: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = {}
        for name, p in joints.items():
            if name in UPPER:
                out[name] = self.upper(p)
            elif name in LEG_JOINTS:
                out[name] = self.leg(p, name[-1])
            elif name in ("knee_mid", "ankle_mid"):
                joint = name.split("_")[0]
                left = self.leg(joints[f"{joint}_l"], "l")
                out[name] = 0.5 * (left + self.leg(joints[f"{joint}_r"], "r"))
            else:
                out[name] = p.copy()
        return out

    def spheres(self, centres: np.ndarray, part: np.ndarray) -> np.ndarray:
        out = centres.copy()
        for side, sign in (("l", -1.0), ("r", 1.0)):
            m = (part == LEG) & (np.sign(centres[:, 2]) == sign)
            out[m] = self.leg(centres[m], side)
        m = np.isin(part, (ARM, HEAD))
        out[m] = self.upper(centres[m])
        # Torso: from the pelvis's pose at the sacrum to the upper body's at L1 and above.
        m = part == TORSO
        w = np.clip((centres[m, 1] - self.y0) / (self.y1 - self.y0), 0.0, 1.0)[:, None]
        out[m] = (1.0 - w) * centres[m] + w * self.upper(centres[m])
        return out


class HoldScript:
    """A hold clip's script: timeline, neutral hip angle, the fault reached; `pose(t)`."""

    def __init__(self, spec: SynthSpec) -> None:
        if not spec.is_hold:
            raise ValueError(f"not a hold kind: {spec.kind}")
        self.spec = spec
        self.shape = spec.shape
        self.k = self.shape.height_m / REFERENCE_HEIGHT_M
        self.side_plank = spec.kind == "side_plank"
        self.clothing = CLOTHING_COLOURS[spec.clothing]
        # Side plank: +1 when the lifter's right (+z in the body frame) is up (left side down).
        self.up = 1.0 if spec.side == "left" else -1.0
        self.down_side = "l" if spec.side == "left" else "r"
        self.camera_side = 1.0 if spec.facing == "right" else -1.0
        self.hip0 = self._straight_hip()
        self._extension_cache: dict[float, float] = {}
        self.adduct = 0.0
        if self.side_plank:
            j = build_skeleton(JointAngles(), self.shape).joints
            leg_length = j["hip_r"][1] - j["ankle_r"][1]
            half_gap = 0.5 * (2.0 * j["hip_r"][2] - SIDE_ANKLE_GAP * self.k)
            self.adduct = float(np.degrees(np.arcsin(half_gap / leg_length)))
        # Feet placed so the straight hold is centred on the camera's aim.
        self.anchor = 0.0
        straight = self._build(0.0, 0.0, 0.0)
        lo = (straight.spheres.centres[:, 0] - straight.spheres.radii).min()
        hi = (straight.spheres.centres[:, 0] + straight.spheres.radii).max()
        self.anchor = -0.5 * float(lo + hi)
        target = spec.drop_deg if self.side_plank else spec.sag_deg
        self.fault_reached_deg = self._limit(target)
        self.start_drop_deg = self._limit(SIDE_START_DROP_DEG) if self.side_plank else 0.0

    @property
    def fault_start_s(self) -> float:
        """Clip time the fault starts ramping in."""
        return self.spec.hold_start_s + self.spec.fault_at_s

    # --- timeline -------------------------------------------------------------------------

    def state(self, t: float) -> tuple[float, float, bool]:
        """(share of the start position 0..1, fault angle in degrees, holding) at time t."""
        spec = self.spec
        start, end = spec.hold_start_s, spec.hold_end_s
        eps = 1e-9
        if t < start - eps:
            return 1.0 - _ease((t - spec.pad_seconds) / HOLD_TRANSITION_S), 0.0, False
        ramp = _ease((min(t, end) - self.fault_start_s) / FAULT_RAMP_S)
        fault = self.fault_reached_deg * ramp
        if t <= end + eps:
            return 0.0, fault, True
        return _ease((t - end) / HOLD_TRANSITION_S), fault, False

    # --- joint angles in the body frame ---------------------------------------------------

    def _plank_angles(self, kneel: float, a: float) -> JointAngles:
        return JointAngles(
            hip=self.hip0 + KNEEL_HIP_DEG * kneel - a,
            lumbar=-a,
            knee=KNEEL_KNEE_DEG * kneel,
            ankle=PLANK_ANKLE_DEG,
        )

    def _sagittal_deviation(self, angles: JointAngles) -> float:
        """Plank sag of a body-frame chain: the chest side (+x) will face the floor."""
        j = build_skeleton(angles, self.shape).joints
        _, dev = line_angles(
            j["shoulder_mid"],
            j["hip_mid"],
            j["ankle_mid"],
            np.array([0.0, 0.0, 1.0]),
            down=np.array([1.0, 0.0, 0.0]),
        )
        return dev

    def _straight_hip(self) -> float:
        """Hip angle that puts the shoulder, hip and ankle centres on one line, lumbar neutral."""
        lo, hi = -30.0, 30.0
        for _ in range(50):
            mid = 0.5 * (lo + hi)
            # More hip flexion moves the shoulders chest-wards: the hip falls behind the line.
            if self._sagittal_deviation(JointAngles(hip=mid, ankle=PLANK_ANKLE_DEG)) > 0:
                lo = mid
            else:
                hi = mid
        return 0.5 * (lo + hi)

    def extension_for_sag(self, sag: float) -> float:
        """The equal hip and lumbar extension `a` (degrees) that gives this plank sag."""
        if sag == 0.0:
            return 0.0
        if sag in self._extension_cache:
            return self._extension_cache[sag]

        def f(a: float) -> float:
            return self._sagittal_deviation(self._plank_angles(0.0, a)) - sag

        a0, a1 = 0.0, 0.6 * sag
        f0, f1 = f(a0), f(a1)
        for _ in range(30):
            if abs(f1) < 1e-8 or f1 == f0:
                break
            a0, a1 = a1, a1 - f1 * (a1 - a0) / (f1 - f0)
            f0, f1 = f1, f(a1)
        if len(self._extension_cache) < 4096:
            self._extension_cache[sag] = a1
        return a1

    def _limit(self, target: float) -> float:
        """The fault angle reached: target, or less where the pelvis, torso or thighs reach the
        floor."""

        def clear(fault: float) -> bool:
            gap = self._fault_pose(fault).floor_gap_m
            return min(gap["trunk"], gap["feet"]) >= -1e-6

        if target <= 0.0 or clear(target):
            return target
        lo, hi = 0.0, target
        for _ in range(24):
            mid = 0.5 * (lo + hi)
            if clear(mid):
                lo = mid
            else:
                hi = mid
        return lo

    def _fault_pose(self, fault: float) -> HoldPose:
        if self.side_plank:
            return self._build(0.0, 0.0, fault)
        return self._build(0.0, self.extension_for_sag(fault), 0.0)

    # --- pose -----------------------------------------------------------------------------

    def pose(self, t: float) -> HoldPose:
        """Joints, spheres and truth at time t (seconds)."""
        kneel, fault, holding = self.state(t)
        if self.side_plank:
            pose = self._build(0.0, 0.0, kneel * self.start_drop_deg + (1.0 - kneel) * fault)
        else:
            pose = self._build(kneel, (1.0 - kneel) * self.extension_for_sag(fault), 0.0)
        pose.record["t"] = round(t, 6)
        pose.record["holding"] = holding
        return pose

    def _build(self, kneel: float, a: float, drop: float) -> HoldPose:
        k = self.k
        angles = JointAngles(hip=self.hip0) if self.side_plank else self._plank_angles(kneel, a)
        sk = build_skeleton(angles, self.shape)
        deform = _Deform(sk.joints, drop, self.up, self.adduct)
        local = deform.joints(sk.joints)
        place = self._place(local, self._contacts(sk.joints, deform))

        # Forearms in world space: upper arm vertical (the placement put the shoulder one upper
        # arm above an elbow resting on the floor), forearm on the floor, hand resting on it.
        hand_r = HAND_R * k
        if self.side_plank:
            arms: tuple[str, ...] = (self.down_side,)
            reach = np.array([0.0, 0.0, self.camera_side])
        else:
            arms = ("l", "r")
            reach = place.rotation[:, 1] * np.array([1.0, 0.0, 1.0])
            reach /= np.linalg.norm(reach)
        for s in arms:
            elbow = place(local[f"shoulder_{s}"]) - np.array([0.0, UPPER_ARM * k, 0.0])
            dy = hand_r - elbow[1]
            wrist = elbow + reach * np.sqrt(max((FOREARM * k) ** 2 - dy**2, 0.0))
            wrist[1] = hand_r
            for name, p in (("elbow", elbow), ("wrist", wrist)):
                local[f"{name}_{s}"] = place.inverse(p)
                sk.joints[f"{name}_{s}"] = deform.upper_inverse(local[f"{name}_{s}"])

        spheres = build_body(sk, self.shape, self.clothing, "none")
        centres = place(deform.spheres(spheres.centres, spheres.part))
        spheres = Spheres(centres, spheres.radii, spheres.albedo, spheres.part)
        world = {name: place(p) for name, p in local.items()}
        world_sk = replace(sk, joints=world)

        bottom = spheres.centres[:, 1] - spheres.radii
        gaps = {"lowest": float(bottom.min())}
        for name, parts in (("feet", (LEG,)), ("arms", (ARM,)), ("trunk", (TORSO, PELVIS))):
            gaps[name] = float(bottom[np.isin(spheres.part, parts)].min())
        normal = place.rotation[:, 0] if self.side_plank else place.rotation[:, 2]
        line, deviation = line_angles(
            world["shoulder_mid"], world["hip_mid"], world["ankle_mid"], normal
        )
        record = {
            "t": 0.0,
            "hip_flexion_deg": round(angles.hip, 4),
            "lumbar_flexion_deg": round(angles.lumbar, 4),
            "thoracic_flexion_deg": round(angles.thoracic, 4),
            "knee_flexion_deg": round(angles.knee, 4),
            "trunk_inclination_deg": round(world_sk.trunk_inclination_deg, 4),
            "ankle_flexion_deg": round(angles.ankle, 4),
            "pelvis_tilt_deg": round(sk.pelvis_deg, 4),
            "body_line_deg": round(line, 4),
            ("hip_drop_deg" if self.side_plank else "hip_sag_deg"): round(deviation, 4),
            "holding": False,
        }
        return HoldPose(world_sk, spheres, record, gaps)

    def _contacts(
        self, joints: dict[str, np.ndarray], deform: _Deform
    ) -> list[tuple[np.ndarray, float]]:
        """Points that may rest on the floor (deformed body frame) and their sphere radii:
        ankle, heel and toe of each foot as body.py draws them, and the knees for the plank."""
        k, g = self.k, self.shape.girth
        out = []
        for s in ("l", "r"):
            ankle = joints[f"ankle_{s}"]
            heel = np.array([ankle[0] - 0.05 * k, 0.037 * k, ankle[2]])
            toe = np.array([ankle[0] + 0.17 * k, 0.028 * k, ankle[2]])
            for p, r in ((ankle, 0.04 * k), (heel, 0.037 * k), (toe, 0.028 * k)):
                out.append((deform.leg(p, s), r))
            if not self.side_plank:
                out.append((deform.leg(joints[f"knee_{s}"], s), KNEE_R * k * g))
        return out

    def _place(
        self, local: dict[str, np.ndarray], contacts: list[tuple[np.ndarray, float]]
    ) -> _Placement:
        """Tilt the body so the lowest contact touches the floor and the supporting shoulder
        is one upper arm above an elbow resting on the floor; feet at their anchor."""
        k, g = self.k, self.shape.girth
        up = np.array([0.0, 1.0, 0.0])
        if self.side_plank:
            chest = np.array([0.0, 0.0, self.camera_side])
            right = up * self.up
            r0 = np.stack([chest, np.cross(right, chest), right], axis=1)
            shoulder = local[f"shoulder_{self.down_side}"]
            feet = local[f"ankle_{self.down_side}"]
        else:
            r0 = np.stack([-up, np.array([1.0, 0.0, 0.0]), np.array([0.0, 0.0, 1.0])], axis=1)
            shoulder = local["shoulder_r"]
            feet = 0.5 * (contacts[2][0] + contacts[6][0])  # the toes
        axis = np.cross(r0[:, 1], up)
        axis /= np.linalg.norm(axis)
        height = ELBOW_R * k * g + UPPER_ARM * k
        pivot, radius = contacts[0]
        for _ in range(6):
            # Height of the shoulder above the pivot after tilting by `tilt` about `axis`:
            # v_y cos(tilt) + (axis x v)_y sin(tilt) = rho cos(tilt - phi).
            v = r0 @ (shoulder - pivot)
            w = np.cross(axis, v)
            rho, phi = np.hypot(v[1], w[1]), np.arctan2(w[1], v[1])
            tilt = np.degrees(phi - np.arccos(np.clip((height - radius) / rho, -1.0, 1.0)))
            rotation = _rot_axis(axis, tilt) @ r0
            drops = [(rotation @ (p - pivot))[1] - r + radius for p, r in contacts]
            lowest = int(np.argmin(drops))
            if drops[lowest] > -1e-9:
                break
            pivot, radius = contacts[lowest]
        offset = np.zeros(3)
        offset[1] = radius - (rotation @ pivot)[1]
        offset[0] = self.anchor - (rotation @ feet)[0]
        return _Placement(rotation, offset)


# The script of a spec, built once per spec.
hold_script = cached_by_spec(HoldScript)
