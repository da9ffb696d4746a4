"""Forward kinematics of the mannequin: joint angles to 3D joint positions.

In:  `JointAngles` (degrees, neutral = 0) and a `BodyShape`.
Out: `Skeleton` with joint positions in metres. World axes: x = the lifter's forward,
     y = up, z = the lifter's right. Ankles are fixed on the floor at x = 0; the chain
     ankle -> knee -> hip -> pelvis -> lumbar -> thoracic -> neck -> head is built upwards.
Segment angles are measured from vertical, positive when the segment's top moves forward.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from formcheck.synth.motion import JointAngles
from formcheck.synth.spec import BodyShape

REFERENCE_HEIGHT_M = 1.75

# Standing-neutral orientation (degrees from vertical) of L5..L1 (lordosis) and of six
# thoracic segments T12..T1 (kyphosis); flexion is spread over the joints below each one.
LUMBAR_NEUTRAL_DEG = (13.0, 7.0, 2.0, -3.0, -7.0)
LUMBAR_FLEX_SHARE = (0.24, 0.22, 0.2, 0.18, 0.16)
THORACIC_NEUTRAL_DEG = (-5.0, 0.0, 5.0, 10.0, 16.0, 22.0)
THORACIC_FLEX_SHARE = (1 / 6,) * 6
NECK_NEUTRAL_DEG = 14.0

# Lengths (metres) for a 1.75 m mannequin.
ANKLE_HEIGHT = 0.075
SHANK = 0.42
THIGH = 0.42
HIP_HALF_WIDTH = 0.09
SACRUM_FROM_HIP = (-0.045, 0.10)
LUMBAR_SEGMENT = 0.037
THORACIC_SEGMENT = 0.046
NECK = 0.11
SHOULDER_FROM_T1 = (0.045, -0.05)
SHOULDER_HALF_WIDTH = 0.175
UPPER_ARM = 0.30
FOREARM = 0.26
# Lowest wrist height (x k metres) that keeps the hand drawn below it (body.py) off the floor.
WRIST_MIN_HEIGHT = 0.11


def unit(angle_deg: float) -> np.ndarray:
    """Sagittal unit vector (x, y) of a segment tilted angle_deg forward from vertical."""
    a = np.radians(angle_deg)
    return np.array([np.sin(a), np.cos(a)])


def rotate(vec: tuple[float, float], angle_deg: float) -> np.ndarray:
    """Rotate a sagittal (x, y) vector by angle_deg towards forward (clockwise in x-y)."""
    a = np.radians(angle_deg)
    x, y = vec
    return np.array([x * np.cos(a) + y * np.sin(a), -x * np.sin(a) + y * np.cos(a)])


def to3d(p: np.ndarray, z: float = 0.0) -> np.ndarray:
    return np.array([p[0], p[1], z])


@dataclass
class Skeleton:
    """Joint positions (3D, metres) and sagittal segment orientations (degrees)."""

    joints: dict[str, np.ndarray] = field(default_factory=dict)
    spine: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    pelvis_deg: float = 0.0
    thorax_top_deg: float = 0.0
    head_deg: float = 0.0
    scale: float = 1.0
    arms_forward: bool = False

    @property
    def trunk_inclination_deg(self) -> float:
        """Angle of the hip-joint -> shoulder-joint line from vertical, forward positive."""
        d = self.joints["shoulder_mid"] - self.joints["hip_mid"]
        return float(np.degrees(np.arctan2(d[0], d[1])))


def build_skeleton(
    angles: JointAngles,
    shape: BodyShape,
    arms_forward: bool = False,
    grip_half_width: float = SHOULDER_HALF_WIDTH,
    hands_on_floor: bool = False,
) -> Skeleton:
    """Place every joint for the given angles, feet planted, ankles at x = 0.

    Arms hang straight down to a grip `grip_half_width` (metres) either side of the midline,
    or point forward when `arms_forward` (bodyweight squat). With `hands_on_floor` (the forward
    bend), straight arms that would reach below WRIST_MIN_HEIGHT swing forward instead so the
    hands rest just above the floor.
    """
    k = shape.height_m / REFERENCE_HEIGHT_M
    shank_deg = angles.ankle
    thigh_deg = angles.ankle - angles.knee
    pelvis_deg = angles.hip + thigh_deg

    ankle = np.array([0.0, ANKLE_HEIGHT * k])
    knee = ankle + SHANK * k * unit(shank_deg)
    hip = knee + THIGH * k * unit(thigh_deg)
    sacrum = hip + k * rotate(SACRUM_FROM_HIP, pelvis_deg)

    spine = [sacrum]
    seg_deg = pelvis_deg
    flexed = 0.0
    for base, share in zip(LUMBAR_NEUTRAL_DEG, LUMBAR_FLEX_SHARE, strict=True):
        flexed += share * angles.lumbar
        seg_deg = pelvis_deg + base + flexed
        spine.append(spine[-1] + LUMBAR_SEGMENT * k * unit(seg_deg))
    for base, share in zip(THORACIC_NEUTRAL_DEG, THORACIC_FLEX_SHARE, strict=True):
        flexed += share * angles.thoracic
        seg_deg = pelvis_deg + base + flexed
        spine.append(spine[-1] + THORACIC_SEGMENT * k * unit(seg_deg))
    t1 = spine[-1]
    thorax_top_deg = seg_deg
    # The lifter keeps the neck near neutral and lets the gaze drop only part way.
    tilt = thorax_top_deg - THORACIC_NEUTRAL_DEG[-1]
    neck_deg = NECK_NEUTRAL_DEG + 0.6 * tilt + angles.neck
    neck_top = t1 + NECK * k * unit(neck_deg)
    head_deg = 0.45 * tilt + angles.neck
    head = neck_top + k * rotate((0.02, 0.085), head_deg)
    shoulder = t1 + k * rotate(SHOULDER_FROM_T1, thorax_top_deg)

    j: dict[str, np.ndarray] = {}
    for side, sign in (("l", -1.0), ("r", 1.0)):
        z_hip = sign * HIP_HALF_WIDTH * k
        j[f"ankle_{side}"] = to3d(ankle, z_hip)
        j[f"knee_{side}"] = to3d(knee, z_hip)
        j[f"hip_{side}"] = to3d(hip, z_hip)
        z_sh = sign * SHOULDER_HALF_WIDTH * k
        sh = to3d(shoulder, z_sh)
        j[f"shoulder_{side}"] = sh
        if arms_forward:
            arm_dir = np.array([np.sin(np.radians(80.0)), -np.cos(np.radians(80.0)), 0.0])
            elbow = sh + UPPER_ARM * k * arm_dir
            wrist = elbow + FOREARM * k * arm_dir
        else:
            reach = (UPPER_ARM + FOREARM) * k
            dz = sign * grip_half_width * k - z_sh
            drop = np.sqrt(max(reach**2 - dz**2, 0.0))
            down = np.array([0.0, -drop, dz]) / reach
            lowest = WRIST_MIN_HEIGHT * k
            if hands_on_floor and sh[1] - drop < lowest:
                dy = max(sh[1] - lowest, 0.0)
                down = np.array([np.sqrt(drop**2 - min(dy, drop) ** 2), -dy, dz]) / reach
            elbow = sh + UPPER_ARM * k * down
            wrist = elbow + FOREARM * k * down
        j[f"elbow_{side}"] = elbow
        j[f"wrist_{side}"] = wrist
    j["hip_mid"] = to3d(hip)
    j["shoulder_mid"] = to3d(shoulder)
    j["sacrum"] = to3d(sacrum)
    j["l1_top"] = to3d(spine[5])
    j["t1"] = to3d(t1)
    j["neck_top"] = to3d(neck_top)
    j["head"] = to3d(head)
    j["knee_mid"] = to3d(knee)
    j["ankle_mid"] = to3d(ankle)
    return Skeleton(
        joints=j,
        spine=np.array(spine),
        pelvis_deg=pelvis_deg,
        thorax_top_deg=thorax_top_deg,
        head_deg=head_deg,
        scale=k,
        arms_forward=arms_forward,
    )


def two_link_joint(
    root: np.ndarray, end: np.ndarray, upper: float, lower: float, pole: np.ndarray
) -> np.ndarray:
    """The middle joint of a two-link limb (e.g. the elbow from shoulder to wrist) with links of
    `upper` and `lower` length, bent towards the direction `pole`."""
    d = end - root
    dist = float(np.linalg.norm(d))
    u = d / dist
    cos_a = np.clip((upper**2 + dist**2 - lower**2) / (2.0 * upper * dist), -1.0, 1.0)
    v = pole - np.dot(pole, u) * u
    v /= np.linalg.norm(v)
    return root + upper * (cos_a * u + np.sqrt(1.0 - cos_a**2) * v)
