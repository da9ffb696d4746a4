"""Pallof press: the mannequin standing, facing the camera, pressing a cable handle forward from the
sternum against a cable anchored to one side.

In:  a `SynthSpec` of kind `pallof_press` and a time in seconds.
Out: `PallofPose`: world joint positions (plus `sternum`), the mannequin's spheres (with the
     handle and the cable) in world metres and the frame's truth record; `PallofScript.reps`
     (the timeline of the reps).

Geometry. World = the standing body frame of `build_skeleton` (x = the lifter's forward, y = up,
z = the lifter's right; neutral joint angles); the camera is put in front of the lifter instead
(`CAMERA_YAW_DEG` is added to the spec's yaw, so yaw 0 is a straight front view; a positive
yaw swings the camera towards the lifter's left with `facing` "right", towards the right with
"left"), aimed `CAMERA_TARGET_M` above the floor. The lifter's right is the image's left. The
feet stand wider than `build_skeleton`'s (ankle centres `STANCE_HALF_WIDTH` x k either side of
the midline, the legs straight, turned about the hip joints in the frontal plane). Legs and
pelvis never move.

Arms, in the body frame: both wrists on one handle `GRIP_HALF_WIDTH` x k either side of the
midline at sternum height (the sternum point: the shoulder-joint midpoint lowered by
`STERNUM_DROP` x k). At the chest the wrists are `CHEST_GAP` x k in front of the chest surface;
fully pressed they lie at arm's length (upper arm + forearm) from the shoulder, straight
forward at the same height and width. In between, the wrists move linearly in the press share
p = 0..1 (cosine-eased over rep_seconds / 2, 1 during the top hold, eased back over
rep_seconds / 2) and each elbow is placed by two-link inverse kinematics, bending down and out.

Faults, in the frontal and transverse planes, reached at p = 1 and scaled by p: the upper body
(torso above L1, head, arms, handle) turns about a vertical axis through the shoulder-joint
midpoint (rotation, + = chest towards the anchor), then leans about a forward (x) axis through
the hip-joint centre (lean, + = towards the anchor). The torso between the sacrum and L1 blends
from the pelvis's pose to the upper body's. The applied rotation is solved so that the truth's
shoulder-line angle (which the lean foreshortens) equals the scripted one exactly; the lean
moves the shoulder midpoint in the frontal plane only, so it comes out exactly as scripted.

The cable runs from the handle to a fixed anchor point at the sternum's standing height,
`ANCHOR_OUT_M` out on the anchor side (world z) and level with the hands at the chest (world x).

Truth, per frame: see `PallofScript._record`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np

from formcheck.synth.body import (
    ARM,
    HEAD,
    METAL,
    PROP,
    TORSO,
    Spheres,
    _Builder,
    build_body,
)
from formcheck.synth.hold import UPPER
from formcheck.synth.motion import JointAngles
from formcheck.synth.skeleton import (
    FOREARM,
    REFERENCE_HEIGHT_M,
    UPPER_ARM,
    Skeleton,
    build_skeleton,
    two_link_joint,
)
from formcheck.synth.spec import CLOTHING_COLOURS, SynthSpec, cached_by_spec

# The camera is turned this far from the side view to face the lifter.
CAMERA_YAW_DEG = 90.0
# Camera aim height (metres): mid-trunk, so the whole standing body fits a 48 deg frame at 3 m.
CAMERA_TARGET_M = 1.1
# Lengths x k (1.75 m body): ankle centres from the midline, sternum below the shoulder-joint
# midpoint, wrists from the midline, wrists in front of the chest surface at the chest.
STANCE_HALF_WIDTH = 0.16
# Share of the hip -> ankle line at the knee (thigh over thigh + shank; both 0.42 x k).
THIGH_SHARE = 0.5
STERNUM_DROP = 0.15
GRIP_HALF_WIDTH = 0.05
CHEST_GAP = 0.06
# Anchor point distance (metres) from the midline, on the anchor side.
ANCHOR_OUT_M = 1.0
CABLE_R = 0.006
PULLEY_R = 0.035
HANDLE = (40, 40, 44)
# Elbow pole (body frame, z for the right arm; mirrored for the left): down, a little out and
# forward.
ELBOW_POLE = np.array([0.3, -1.0, 0.25])
UPPER_PARTS = (TORSO, HEAD, ARM)
UPPER_JOINTS = UPPER  # the joints that turn and lean with the thorax
SIGN = {"l": -1.0, "r": 1.0}


def _ease(u: float) -> float:
    u = min(max(u, 0.0), 1.0)
    return 0.5 - 0.5 * float(np.cos(np.pi * u))


def _r(x: float) -> float:
    """Rounded for the truth JSON (no -0.0)."""
    return round(float(x), 4) + 0.0


def _interior_deg(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> float:
    """Angle at b between b->a and b->c, degrees (180 = straight)."""
    u, v = a - b, c - b
    cos = np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v))
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))


def _heading_deg(v: np.ndarray) -> float:
    """Heading of a line in the horizontal x-z plane, + = turned from +z towards -x (the way the
    lifter's left-to-right line turns when the chest turns from +x towards +z)."""
    return float(np.degrees(np.arctan2(-v[0], v[2])))


def _upper_map(
    p: np.ndarray, w: np.ndarray, turn_deg: float, lean_deg: float, axis_x: float, hip: np.ndarray
) -> np.ndarray:
    """Points (N, 3) of the upper body, turned then leant by the given angles times weights w
    (N,): turn about the vertical through (axis_x, ., 0), + = +x towards +z; lean about the
    x axis through the hip centre, + = +y towards +z."""
    a = np.radians(turn_deg) * w
    b = np.radians(lean_deg) * w
    x, y, z = p[:, 0] - axis_x, p[:, 1], p[:, 2]
    x, z = np.cos(a) * x - np.sin(a) * z, np.sin(a) * x + np.cos(a) * z
    x = x + axis_x
    y, z = y - hip[1], z - hip[2]
    y, z = np.cos(b) * y - np.sin(b) * z, np.sin(b) * y + np.cos(b) * z
    return np.stack([x, y + hip[1], z + hip[2]], axis=1)


@dataclass(frozen=True)
class PallofRep:
    """One rep's timeline (clip seconds)."""

    index: int
    start_s: float
    top_start_s: float
    top_end_s: float
    end_s: float

    def to_dict(self) -> dict:
        return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in asdict(self).items()}


@dataclass
class PallofPose:
    """One frame: world joints (`skeleton.joints`, plus `sternum`; its spine and segment angles
    stay those of the standing body), spheres in world metres and the truth record."""

    skeleton: Skeleton
    spheres: Spheres
    record: dict


class PallofScript:
    """A Pallof press clip's script: the reps' timeline and `pose(t)`."""

    def __init__(self, spec: SynthSpec) -> None:
        if not spec.is_pallof_press:
            raise ValueError(f"not a Pallof press: {spec.kind}")
        self.spec = spec
        self.shape = spec.shape
        self.k = k = self.shape.height_m / REFERENCE_HEIGHT_M
        self.clothing = CLOTHING_COLOURS[spec.clothing]
        self.sign = 1.0 if spec.side == "right" else -1.0
        self.reps = self._timeline()

        sk = build_skeleton(JointAngles(), self.shape)
        j = dict(sk.joints)
        # Wider stance: straight legs turned out about the hip joints, ankles at floor height.
        for s in ("l", "r"):
            hip = j[f"hip_{s}"]
            ankle = np.array([0.0, j[f"ankle_{s}"][1], SIGN[s] * STANCE_HALF_WIDTH * k])
            j[f"ankle_{s}"] = ankle
            j[f"knee_{s}"] = hip + (ankle - hip) * THIGH_SHARE
        self.standing = replace(sk, joints=j)
        self.sternum = j["shoulder_mid"] + np.array([0.0, -STERNUM_DROP * k, 0.0])
        # Chest surface in front of the sternum point, from the standing torso's spheres.
        body = build_body(self.standing, self.shape, self.clothing, "none")
        near = (
            (body.part == TORSO)
            & (np.abs(body.centres[:, 1] - self.sternum[1]) < 0.02 * k)
            & (np.abs(body.centres[:, 2]) < 0.03 * k)
        )
        chest_x = float((body.centres[near, 0] + body.radii[near]).max())
        reach = (UPPER_ARM + FOREARM) * k
        self.wrist_chest: dict[str, np.ndarray] = {}
        self.wrist_top: dict[str, np.ndarray] = {}
        for s in ("l", "r"):
            sh = j[f"shoulder_{s}"]
            grip = np.array([0.0, self.sternum[1], SIGN[s] * GRIP_HALF_WIDTH * k])
            dy, dz = grip[1] - sh[1], grip[2] - sh[2]
            self.wrist_chest[s] = grip + np.array([chest_x + CHEST_GAP * k, 0.0, 0.0])
            top_x = sh[0] + float(np.sqrt(reach**2 - dy**2 - dz**2))
            self.wrist_top[s] = grip + np.array([top_x, 0.0, 0.0])
        hands_x = 0.5 * (self.wrist_chest["l"][0] + self.wrist_chest["r"][0])
        self.anchor = np.array([hands_x, self.sternum[1], self.sign * ANCHOR_OUT_M])
        # Torso spheres blend from the pelvis (at the sacrum) to the upper body (at L1).
        self.blend_lo = float(j["sacrum"][1])
        self.blend_hi = float(j["l1_top"][1])

    # --- timeline -------------------------------------------------------------------------

    def _timeline(self) -> list[PallofRep]:
        spec = self.spec
        half = 0.5 * spec.rep_seconds
        reps = []
        t = spec.pad_seconds
        for i in range(spec.reps):
            top = t + half
            reps.append(
                PallofRep(i + 1, t, top, top + spec.hold_top_s, top + spec.hold_top_s + half)
            )
            t = reps[-1].end_s + spec.pad_seconds
        return reps

    def state(self, t: float) -> tuple[PallofRep | None, float, bool]:
        """(the rep under way or None, press share 0..1, at the top hold) at time t."""
        eps = 1e-9
        for rep in self.reps:
            if rep.start_s - eps <= t <= rep.end_s + eps:
                if t < rep.top_start_s - eps:
                    return rep, _ease((t - rep.start_s) / (rep.top_start_s - rep.start_s)), False
                if t <= rep.top_end_s + eps:
                    return rep, 1.0, True
                return rep, 1.0 - _ease((t - rep.top_end_s) / (rep.end_s - rep.top_end_s)), False
        return None, 0.0, False

    # --- pose -----------------------------------------------------------------------------

    def pose(self, t: float) -> PallofPose:
        """Joints, spheres and truth at time t (seconds)."""
        rep, press, at_top = self.state(t)
        pose = self._build(press)
        record = pose.record
        record["t"] = round(t, 6)
        record["rep"] = rep.index if rep is not None else None
        record["at_top"] = at_top
        return pose

    def applied_angles(self, press: float) -> tuple[float, float]:
        """(turn, lean) in degrees, + = towards +z, that give the scripted rotation and lean
        times the press share in the truth."""
        rotation = self.spec.rotation_deg * press
        lean = self.spec.lean_deg * press
        # The lean tilts the shoulder line out of the horizontal and shortens its z part by
        # cos(lean): turn so that the projected angle is the scripted one.
        turn = np.degrees(np.arctan(np.tan(np.radians(rotation)) * np.cos(np.radians(lean))))
        return self.sign * float(turn), self.sign * lean

    def _build(self, press: float) -> PallofPose:
        k = self.k
        j = dict(self.standing.joints)
        for s in ("l", "r"):
            sh = j[f"shoulder_{s}"]
            wrist = self.wrist_chest[s] + press * (self.wrist_top[s] - self.wrist_chest[s])
            j[f"elbow_{s}"] = _elbow(sh, wrist, UPPER_ARM * k, FOREARM * k, s)
            j[f"wrist_{s}"] = wrist
        body_sk = replace(self.standing, joints=j)
        body = build_body(body_sk, self.shape, self.clothing, "none")

        turn, lean = self.applied_angles(press)
        axis_x = float(j["shoulder_mid"][0])
        hip = j["hip_mid"]
        c, part = body.centres, body.part
        w = np.zeros(len(c))
        w[np.isin(part, UPPER_PARTS)] = 1.0
        torso = part == TORSO
        u = np.clip((c[torso, 1] - self.blend_lo) / (self.blend_hi - self.blend_lo), 0.0, 1.0)
        w[torso] = u * u * (3.0 - 2.0 * u)
        moved = w > 0
        centres = c.copy()
        centres[moved] = _upper_map(c[moved], w[moved], turn, lean, axis_x, hip)

        world = dict(j)
        names = list(UPPER_JOINTS) + ["sternum_body"]
        pts = np.array([j[n] for n in UPPER_JOINTS] + [self.sternum])
        out = _upper_map(pts, np.ones(len(pts)), turn, lean, axis_x, hip)
        for n, p in zip(names, out, strict=True):
            world[n] = p
        world.pop("sternum_body")
        world["sternum"] = world["shoulder_mid"] + np.array([0.0, -STERNUM_DROP * k, 0.0])

        props = self._props(world)
        spheres = Spheres(
            np.vstack([centres, props.centres]),
            np.concatenate([body.radii, props.radii]),
            np.vstack([body.albedo, props.albedo]),
            np.concatenate([part, props.part]),
        )
        world_sk = replace(self.standing, joints=world)
        return PallofPose(world_sk, spheres, self._record(world, press))

    def _props(self, w: dict[str, np.ndarray]) -> Spheres:
        """Handle across both hands, cable to the anchor, a pulley there."""
        k = self.k
        b = _Builder()
        hands = []
        for s in ("l", "r"):
            fore = w[f"wrist_{s}"] - w[f"elbow_{s}"]
            hands.append(w[f"wrist_{s}"] + 0.035 * k * fore / np.linalg.norm(fore))
        grip = 0.5 * (hands[0] + hands[1])
        across = hands[1] - hands[0]
        across = 0.07 * k * across / max(float(np.linalg.norm(across)), 1e-9)
        b.capsule(grip - across, grip + across, 0.016 * k, 0.016 * k, HANDLE, PROP)
        b.capsule(grip, self.anchor, CABLE_R, CABLE_R, METAL, PROP)
        b.sphere(self.anchor, PULLEY_R, HANDLE, PROP)
        return b.build()

    def _record(self, w: dict[str, np.ndarray], press: float) -> dict[str, object]:
        """Truth from the world joints.

        `elbow_extension_deg`: mean over both arms of the shoulder-elbow-wrist interior angle
        (180 = straight; `elbow_extension_left_deg` / `_right_deg` per arm).
        `hand_distance_m`: wrist midpoint to the sternum point (shoulder-joint midpoint lowered
        `STERNUM_DROP` x k vertically), metres. `press`: the script's press share, 0 = hands at
        the chest, 1 = arms straight. `trunk_rotation_deg`: the shoulder line (left -> right
        shoulder joint) against the hip line (left -> right hip joint), both projected on the
        horizontal plane, + = the chest turned towards the anchor side. `lateral_lean_deg`: the
        hip centre -> shoulder centre line from vertical, projected on the frontal (y-z) plane of
        the pelvis (which faces world +x throughout), + = shoulders towards the anchor side.
        `trunk_inclination_deg`: that line's sagittal angle from vertical (forward +)."""
        elbow = {
            s: _interior_deg(w[f"shoulder_{s}"], w[f"elbow_{s}"], w[f"wrist_{s}"])
            for s in ("l", "r")
        }
        hands = 0.5 * (w["wrist_l"] + w["wrist_r"])
        shoulders = w["shoulder_r"] - w["shoulder_l"]
        hips = w["hip_r"] - w["hip_l"]
        rotation = _heading_deg(shoulders) - _heading_deg(hips)
        rotation = (rotation + 180.0) % 360.0 - 180.0
        trunk = w["shoulder_mid"] - w["hip_mid"]
        return {
            "t": 0.0,
            "elbow_extension_deg": _r(0.5 * (elbow["l"] + elbow["r"])),
            "elbow_extension_left_deg": _r(elbow["l"]),
            "elbow_extension_right_deg": _r(elbow["r"]),
            "hand_distance_m": _r(np.linalg.norm(hands - w["sternum"])),
            "press": _r(press),
            "trunk_rotation_deg": _r(self.sign * rotation),
            "lateral_lean_deg": _r(self.sign * np.degrees(np.arctan2(trunk[2], trunk[1]))),
            "trunk_inclination_deg": _r(np.degrees(np.arctan2(trunk[0], trunk[1]))),
            "rep": None,
            "at_top": False,
        }


def _elbow(sh: np.ndarray, wrist: np.ndarray, upper: float, fore: float, side: str) -> np.ndarray:
    """Elbow of a two-link arm from shoulder to wrist, bent towards the side's `ELBOW_POLE`."""
    return two_link_joint(sh, wrist, upper, fore, ELBOW_POLE * np.array([1.0, 1.0, SIGN[side]]))


# The script of a spec, built once per spec.
pallof_script = cached_by_spec(PallofScript)
