"""Fire hydrant: the mannequin on hands and knees, lifting one bent leg out to the side.

In:  a `SynthSpec` of kind `fire_hydrant` and a time in seconds.
Out: `HydrantPose`: world joint positions, the mannequin's spheres in world metres, the frame's
     truth record and floor clearances; `HydrantScript.reps` (the timeline of the reps).

Geometry. The start position is the bird dog's (`BirdDogScript.start_pose`, see
`formcheck.synth.birddog`): world x = towards the head, y = up, z = the lifter's right, thighs
and arms vertical, knees and hands on the floor, shins back along the floor. It is shifted along
x so the midpoint of the hip centre and the shoulder centre is at x = 0. Every movement below is
a rotation about a world x axis (the body's long axis seen from behind), so the hip line, the
shoulder line and the lifted thigh stay in planes parallel to the picture plane of a camera
straight behind (or in front of) the lifter.

With the lift share r = 0..1 (cosine-eased over rep_seconds / 2, 1 during the top hold, eased
back over rep_seconds / 2) and W the working side (the leg lifted):
- the pelvis (pelvis spheres, hip joints, sacrum) rolls by `hydrant_hike_deg` x r about the x
  axis through the supporting hip joint, lifting W's hip (so the supporting leg never moves);
- W's whole leg (thigh, shin with the calf, foot: the knee keeps its start flexion, ~88 deg)
  turns rigidly by `hydrant_abduction_deg` x r about the x axis through W's hip joint, knee
  out, and moves with that hip: the shin stays pointing back, the foot rises with the knee;
- the upper body (torso above L1, head, shoulders) rolls by `hydrant_lean_deg` x r about the x
  axis through W's shoulder joint, so the supporting shoulder drops (the trunk leans away from
  the lifted leg); W's arm does not move, the supporting arm bends at the elbow (two-link,
  elbow back and a little out) with its hand flat where it was. Torso spheres between the sacrum
  and L1 blend linearly from the pelvis's roll to the upper body's.
Hands and the supporting knee stay on the floor throughout; nothing but the supporting elbow
moves along x.

Camera (`CAMERA_YAW_DEG` is added to the spec's yaw, `CAMERA_PITCH_DEG` to its pitch):
`hydrant_view` "back" (default) looks along the lifter's back towards the head, the feet
nearest, with the lifter's left on the image's left; "front" faces the lifter, whose left is
then on the image's right. From behind it looks down on the back (the default pitch 5 films
from 25 deg above, a camera ~1.6 m up at 3 m: from 5 deg above, nearly level with the back,
MediaPipe mostly missed the body or swapped its sides and put the knees far off); from the
front at the spec's pitch (looking down 25 deg there, the head hides the thighs and MediaPipe
mostly missed the body). Aimed `CAMERA_TARGET_M` above the floor at x = 0. A positive yaw swings the camera towards the lifter's right from behind
(towards the left from the front) with `facing` "right".

Reps: the first ceil(reps / 2) reps lift `side`, the rest the other leg (a set per side), each
rep_seconds + hold_top_s long, `pad_seconds` before, between and after them.

Truth, per frame (degrees, from the world joints): see `HydrantScript._record`. Outside a rep,
the working side (the sign of the tilt and lean) is that of the next rep (after the last: the
last rep's).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from formcheck.synth.birddog import BirdDogRep, BirdDogScript
from formcheck.synth.body import ARM, HEAD, LEG, PELVIS, TORSO, Spheres
from formcheck.synth.skeleton import (
    FOREARM,
    REFERENCE_HEIGHT_M,
    UPPER_ARM,
    Skeleton,
    two_link_joint,
)
from formcheck.synth.spec import SynthSpec, cached_by_spec

# Camera yaw added to the spec's yaw per view (the side view is 0; see raster.Camera).
CAMERA_YAW_DEG = {"back": -90.0, "front": 90.0}
# Added to the spec's pitch per view: from behind the camera looks down on the lifter's back.
CAMERA_PITCH_DEG = {"back": 20.0, "front": 0.0}
# Camera aim height (metres) and the floor shadow under the body (x, z, half-lengths).
CAMERA_TARGET_M = 0.35
SHADOW = (0.0, 0.0, 0.7, 0.35)
# Direction the supporting elbow bends towards (x back, z out for the right arm; mirrored).
ELBOW_POLE = np.array([-1.0, 0.0, 0.35])
SIGN = {"l": -1.0, "r": 1.0}
OTHER = {"l": "r", "r": "l"}
SIDE_NAMES = {"l": "left", "r": "right"}
PELVIS_JOINTS = ("hip_l", "hip_r", "hip_mid", "sacrum")
UPPER_JOINTS = ("l1_top", "t1", "neck_top", "head", "shoulder_l", "shoulder_r", "shoulder_mid")
EPS = 1e-9

# A rep has the bird dog's fields; `side` is the leg lifted.
HydrantRep = BirdDogRep


def _ease(u: float) -> float:
    u = min(max(u, 0.0), 1.0)
    return 0.5 - 0.5 * math.cos(math.pi * u)


def _r(x: float) -> float:
    """Rounded for the truth JSON (no -0.0)."""
    return round(float(x), 4) + 0.0


def _rot_x(deg: float) -> np.ndarray:
    """Rotation about world x; positive turns +y towards +z."""
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def _align(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest rotation taking direction a to direction b."""
    a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)
    v, c = np.cross(a, b), float(np.dot(a, b))
    if np.linalg.norm(v) < EPS:
        return np.eye(3)
    k = np.array([[0.0, -v[2], v[1]], [v[2], 0.0, -v[0]], [-v[1], v[0], 0.0]])
    return np.eye(3) + k + k @ k / (1.0 + c)


@dataclass(frozen=True)
class _Rigid:
    """p -> target + rot (p - pivot)."""

    rot: np.ndarray
    pivot: np.ndarray
    target: np.ndarray

    def __call__(self, p: np.ndarray) -> np.ndarray:
        return (p - self.pivot) @ self.rot.T + self.target


def _roll(left: np.ndarray, right: np.ndarray, side: str) -> float:
    """A left-right line's angle from level in the frontal (y-z) plane, + when the `side`
    end is higher."""
    d = right - left if side == "r" else left - right
    return math.degrees(math.atan2(d[1], abs(d[2])))


@dataclass
class HydrantPose:
    """One frame: world joints, spheres in world metres, the truth record and floor clearances
    (metres, lowest sphere surface above y = 0: `lowest`, `trunk` (torso, pelvis, head),
    `arm_l`, `arm_r`, `leg_l`, `leg_r`, `knee_l`, `knee_r` (the knee joint's sphere))."""

    skeleton: Skeleton
    spheres: Spheres
    record: dict
    floor_gap_m: dict[str, float]


class HydrantScript:
    """A fire hydrant clip's script: the reps' timeline and `pose(t)`."""

    def __init__(self, spec: SynthSpec) -> None:
        if not spec.is_fire_hydrant:
            raise ValueError(f"not a fire hydrant: {spec.kind}")
        self.spec = spec
        self.k = spec.shape.height_m / REFERENCE_HEIGHT_M
        self.reps = self._timeline()
        dog = SynthSpec(kind="bird_dog", body=spec.body, clothing=spec.clothing)
        start = BirdDogScript(dog).start_pose()
        j = start.skeleton.joints
        shift = np.array([-0.5 * float(j["hip_mid"][0] + j["shoulder_mid"][0]), 0.0, 0.0])
        self.sk0 = start.skeleton
        self.j0 = {n: p + shift for n, p in j.items()}
        s = start.spheres
        self.c0 = s.centres + shift
        self.radii, self.albedo, self.part = s.radii, s.albedo, s.part
        self.zsign = np.sign(self.c0[:, 2])
        # Torso spheres blend from the pelvis (0, at the sacrum) to the upper body (1, at L1).
        j0 = self.j0
        axis = j0["shoulder_mid"] - j0["hip_mid"]
        axis /= np.linalg.norm(axis)
        span = float(np.dot(j0["l1_top"] - j0["sacrum"], axis))
        self.blend = np.clip((self.c0 - j0["sacrum"]) @ axis / span, 0.0, 1.0)
        y = self.c0[:, 1]
        self.arm_seg: dict[str, dict[str, np.ndarray]] = {}
        for side in ("l", "r"):
            arm = (self.part == ARM) & (self.zsign == SIGN[side])
            el, wr = j0[f"elbow_{side}"][1], j0[f"wrist_{side}"][1]
            self.arm_seg[side] = {
                "upper": arm & (y >= el - EPS),
                "fore": arm & (y < el - EPS) & (y > wr + EPS),
            }

    # --- timeline -------------------------------------------------------------------------

    def _timeline(self) -> list[HydrantRep]:
        spec = self.spec
        half = 0.5 * spec.rep_seconds
        first = math.ceil(spec.reps / 2)
        other = "right" if spec.side == "left" else "left"
        reps = []
        t = spec.pad_seconds
        for i in range(spec.reps):
            top = t + half
            side = spec.side if i < first else other
            end = top + spec.hold_top_s + half
            reps.append(HydrantRep(i + 1, side, t, top, top + spec.hold_top_s, end))
            t = end + spec.pad_seconds
        return reps

    def state(self, t: float) -> tuple[HydrantRep | None, float, bool]:
        """(the rep under way or None, lift share 0..1, at the top hold) at time t."""
        for rep in self.reps:
            if rep.start_s - EPS <= t <= rep.end_s + EPS:
                if t < rep.top_start_s - EPS:
                    return rep, _ease((t - rep.start_s) / (rep.top_start_s - rep.start_s)), False
                if t <= rep.top_end_s + EPS:
                    return rep, 1.0, True
                return rep, 1.0 - _ease((t - rep.top_end_s) / (rep.end_s - rep.top_end_s)), False
        return None, 0.0, False

    def _next_rep(self, t: float) -> HydrantRep:
        return next((r for r in self.reps if r.start_s >= t), self.reps[-1])

    # --- pose -----------------------------------------------------------------------------

    def pose(self, t: float) -> HydrantPose:
        """Joints, spheres and truth at time t (seconds)."""
        rep, lift, at_top = self.state(t)
        side = (rep if rep is not None else self._next_rep(t)).side[0]
        pose = self._build(lift, side)
        record = pose.record
        record["t"] = round(t, 6)
        record["lift"] = _r(lift)
        record["rep"] = rep.index if rep is not None else None
        record["working_side"] = SIDE_NAMES[side]
        record["lifting"] = rep is not None
        record["at_top"] = at_top
        return pose

    def _build(self, lift: float, w: str) -> HydrantPose:
        spec, j0 = self.spec, self.j0
        o = OTHER[w]
        sign = SIGN[w]
        pelvis = _Rigid(
            _rot_x(-sign * spec.hydrant_hike_deg * lift), j0[f"hip_{o}"], j0[f"hip_{o}"]
        )
        upper = _Rigid(
            _rot_x(-sign * spec.hydrant_lean_deg * lift), j0[f"shoulder_{w}"], j0[f"shoulder_{w}"]
        )
        hip_w = pelvis(j0[f"hip_{w}"])
        leg = _Rigid(_rot_x(-sign * spec.hydrant_abduction_deg * lift), j0[f"hip_{w}"], hip_w)

        world = dict(j0)
        for name in PELVIS_JOINTS:
            world[name] = pelvis(j0[name])
        for name in UPPER_JOINTS:
            world[name] = upper(j0[name])
        for name in (f"knee_{w}", f"ankle_{w}"):
            world[name] = leg(j0[name])
        # The supporting arm: shoulder moved, hand where it was, elbow bent.
        sh, wr = world[f"shoulder_{o}"], j0[f"wrist_{o}"]
        world[f"elbow_{o}"] = el = self._elbow(sh, wr, o)
        world["knee_mid"] = 0.5 * (world["knee_l"] + world["knee_r"])
        world["ankle_mid"] = 0.5 * (world["ankle_l"] + world["ankle_r"])

        c0, part = self.c0, self.part
        c = c0.copy()
        b = self.blend[:, None]
        torso = part == TORSO
        c[torso] = (1.0 - b[torso]) * pelvis(c0[torso]) + b[torso] * upper(c0[torso])
        c[part == PELVIS] = pelvis(c0[part == PELVIS])
        c[part == HEAD] = upper(c0[part == HEAD])
        legw = (part == LEG) & (self.zsign == SIGN[w])
        c[legw] = leg(c0[legw])
        seg = self.arm_seg[o]
        sh0, el0 = j0[f"shoulder_{o}"], j0[f"elbow_{o}"]
        c[seg["upper"]] = _Rigid(_align(el0 - sh0, el - sh), sh0, sh)(c0[seg["upper"]])
        c[seg["fore"]] = _Rigid(_align(wr - el0, wr - el), el0, el)(c0[seg["fore"]])
        spheres = Spheres(c, self.radii, self.albedo, part)

        bottom = c[:, 1] - self.radii
        trunk = np.isin(part, (TORSO, PELVIS, HEAD))
        gaps = {"lowest": float(bottom.min()), "trunk": float(bottom[trunk].min())}
        for s in ("l", "r"):
            mine = self.zsign == SIGN[s]
            gaps[f"arm_{s}"] = float(bottom[(part == ARM) & mine].min())
            gaps[f"leg_{s}"] = float(bottom[(part == LEG) & mine].min())
            near = np.linalg.norm(c - world[f"knee_{s}"], axis=1) < 1e-6
            gaps[f"knee_{s}"] = float(bottom[(part == LEG) & mine & near].min())
        sk = replace(self.sk0, joints=world)
        return HydrantPose(sk, spheres, self._record(world, sk, w), gaps)

    def _elbow(self, sh: np.ndarray, wr: np.ndarray, side: str) -> np.ndarray:
        """Two-link elbow between shoulder and wrist, bending towards `ELBOW_POLE`."""
        pole = ELBOW_POLE * np.array([1.0, 1.0, SIGN[side]])
        return two_link_joint(sh, wr, UPPER_ARM * self.k, FOREARM * self.k, pole)

    @staticmethod
    def _record(w: dict[str, np.ndarray], sk: Skeleton, side: str) -> dict[str, object]:
        """Truth from the world joints, degrees.

        `hip_abduction_deg` {"left", "right"}: the thigh (hip joint -> knee joint) projected
        into the pelvis's frontal plane (spanned by the hip line and world down), its angle
        from straight down, + = knee out (away from the other hip); 0 in the start position.
        `pelvis_tilt_deg`: the hip line (hip joint to hip joint) from level in the frontal
        plane, + = the working side's hip higher. `trunk_lean_deg`: the shoulder line
        (shoulder joint to shoulder joint) from level in the frontal plane, + = the working
        side's shoulder higher (the trunk leaning away from the lifted leg). Both are 0 in the
        start position. `trunk_inclination_deg`: as for the other kinds (hip centre -> shoulder
        centre from vertical in the sagittal plane)."""
        down = np.array([0.0, -1.0, 0.0])
        line = w["hip_r"] - w["hip_l"]
        lateral = line - np.dot(line, down) * down
        lateral /= np.linalg.norm(lateral)
        abduction = {}
        for s in ("l", "r"):
            thigh = w[f"knee_{s}"] - w[f"hip_{s}"]
            out = SIGN[s] * float(np.dot(thigh, lateral))
            abduction[SIDE_NAMES[s]] = _r(math.degrees(math.atan2(out, float(np.dot(thigh, down)))))
        return {
            "t": 0.0,
            "hip_abduction_deg": abduction,
            "pelvis_tilt_deg": _r(_roll(w["hip_l"], w["hip_r"], side)),
            "trunk_lean_deg": _r(_roll(w["shoulder_l"], w["shoulder_r"], side)),
            "trunk_inclination_deg": _r(sk.trunk_inclination_deg),
            "lift": 0.0,
            "rep": None,
            "working_side": SIDE_NAMES[side],
            "lifting": False,
            "at_top": False,
        }


# The script of a spec, built once per spec.
hydrant_script = cached_by_spec(HydrantScript)
