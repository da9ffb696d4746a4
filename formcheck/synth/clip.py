"""Render synthetic lifter frames and clips with their true angles.

In:  a `SynthSpec`.
Out: `render_frame` -> RGB array; `render_layers` -> RGB, person and torso masks, joint pixels;
     `true_angles` -> dict of true angles at a time; `render_clip` -> H.264 MP4 (yuv420p)
     plus a JSON of per-frame true angles (schema "formcheck.synth/1") and a `SynthResult`.
     Holds (plank, side plank, see `formcheck.synth.hold`) add per frame `body_line_deg`,
     `hip_sag_deg` (plank) or `hip_drop_deg` (side plank) and `holding`, and at the top
     `hold_start_s`, `hold_end_s`, `fault_start_s`, `fault_reached_deg` and (side plank) `side`.
     The bird dog (see `formcheck.synth.birddog`) adds per frame the arm and leg elevations,
     `lumbar_extension_deg`, `trunk_tilt_deg`, `rep`, `reaching_side` and `at_top`, and at the
     top `reps` (index, side of the raised leg, start / top start / top end / end seconds).
     The Pallof press (see `formcheck.synth.pallof`, filmed from the front) adds per frame
     `elbow_extension_deg` (and per arm), `hand_distance_m`, `press`, `trunk_rotation_deg`,
     `lateral_lean_deg`, `rep` and `at_top`, and at the top `reps` (index, start / top start /
     top end / end seconds) and `anchor_side`.
     The standing forward bend (filmed from the side) has the hinges' per-frame keys.
     The fire hydrant (see `formcheck.synth.hydrant`, filmed from behind or the front) adds per
     frame `hip_abduction_deg` ({"left", "right"}), `pelvis_tilt_deg`, `trunk_lean_deg`,
     `lift`, `rep`, `working_side`, `lifting` and `at_top`, and at the top `reps` (index,
     side of the lifted leg, start / top start / top end / end seconds).
     The frog squat (see `formcheck.synth.frog`; side view at yaw 0, front view at yaw 90) adds
     per frame `hip_abduction_deg` ({"left", "right"}), `knee_spread_ratio`, `depth`, `rep` and
     `at_bottom`, and at the top `reps` (index, start / bottom start / bottom end / end seconds).
     The 90/90 hip switch (see `formcheck.synth.ninety`, filmed from the front, yaw as the
     Pallof press) adds per frame `hip_rotation_deg`, `hip_flexion_deg`, `hip_abduction_deg`,
     `knee_flexion_deg`, `knee_height_m` (each {"left", "right"}), `trunk_lean_deg`,
     `front_side`, `switch`, `switching` and `rep`, and at the top `reps` (index, front leg
     before / after, start / mid / switched / end seconds) and `start_front_side`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from formcheck.errors import InputError
from formcheck.synth.birddog import bird_dog_script
from formcheck.synth.body import TORSO, build_body
from formcheck.synth.frog import frog_script
from formcheck.synth.hold import CAMERA_TARGET_M, SHADOW, hold_script
from formcheck.synth.hydrant import CAMERA_PITCH_DEG as HYDRANT_PITCH_DEG
from formcheck.synth.hydrant import CAMERA_TARGET_M as HYDRANT_TARGET_M
from formcheck.synth.hydrant import CAMERA_YAW_DEG as HYDRANT_YAW_DEG
from formcheck.synth.hydrant import SHADOW as HYDRANT_SHADOW
from formcheck.synth.hydrant import hydrant_script
from formcheck.synth.motion import JointAngles, joint_angles, rep_variation
from formcheck.synth.ninety import CAMERA_TARGET_M as NINETY_TARGET_M
from formcheck.synth.ninety import CAMERA_YAW_DEG as NINETY_YAW_DEG
from formcheck.synth.ninety import SHADOW as NINETY_SHADOW
from formcheck.synth.ninety import ninety_script
from formcheck.synth.pallof import CAMERA_TARGET_M as PALLOF_TARGET_M
from formcheck.synth.pallof import CAMERA_YAW_DEG as PALLOF_YAW_DEG
from formcheck.synth.pallof import pallof_script
from formcheck.synth.raster import TARGET_HEIGHT_M, Camera, background, rasterise
from formcheck.synth.skeleton import SHOULDER_HALF_WIDTH, Skeleton, build_skeleton
from formcheck.synth.spec import CLOTHING_COLOURS, SynthResult, SynthSpec

SCHEMA = "formcheck.synth/1"
SUPERSAMPLE = 2
KETTLEBELL_GRIP = 0.06


@dataclass
class FrameLayers:
    """One rendered frame with what is true about it.

    Masks are boolean (height, width). `joints_px` maps joint names to pixel (x, y):
    ankle/knee/hip/shoulder/elbow/wrist with suffix _l or _r, hip_mid, shoulder_mid, knee_mid,
    ankle_mid, sacrum (top of S1), l1_top (T12/L1), t1, neck_top, head. Spine points are on the
    vertebral bodies, inside the body; the back surface lies 5-6 cm behind them.
    """

    rgb: np.ndarray
    person_mask: np.ndarray
    torso_mask: np.ndarray
    joints_px: dict[str, tuple[float, float]]
    angles: dict[str, float]


class _Renderer:
    """Holds what stays fixed over a clip (camera, background, per-rep variation)."""

    def __init__(self, spec: SynthSpec, supersample: int = SUPERSAMPLE) -> None:
        self.spec = spec
        self.ss = supersample
        self.hold = hold_script(spec) if spec.is_hold else None
        self.bird_dog = bird_dog_script(spec) if spec.is_bird_dog else None
        self.pallof = pallof_script(spec) if spec.is_pallof_press else None
        self.hydrant = hydrant_script(spec) if spec.is_fire_hydrant else None
        self.frog = frog_script(spec) if spec.is_frog_squat else None
        self.ninety = ninety_script(spec) if spec.is_ninety_ninety else None
        target = CAMERA_TARGET_M.get(spec.kind, TARGET_HEIGHT_M)
        yaw, pitch = spec.yaw_deg, spec.pitch_deg
        if self.pallof is not None:
            # Filmed from the front: the spec's yaw is counted from the front view.
            target, yaw = PALLOF_TARGET_M, spec.yaw_deg + PALLOF_YAW_DEG
        if self.hydrant is not None:
            # From behind or the front: yaw (and pitch) counted from that view's camera.
            target = HYDRANT_TARGET_M
            pitch = spec.pitch_deg + HYDRANT_PITCH_DEG[spec.hydrant_view]
            yaw = spec.yaw_deg + HYDRANT_YAW_DEG[spec.hydrant_view]
        if self.ninety is not None:
            # Filmed from the front too, sitting on the floor.
            target, yaw = NINETY_TARGET_M, spec.yaw_deg + NINETY_YAW_DEG
        self.camera = Camera.looking_at_lifter(
            yaw,
            pitch,
            spec.distance_m,
            spec.facing,
            spec.width,
            spec.height,
            target_height_m=target,
        )
        self.big_camera = Camera.looking_at_lifter(
            yaw,
            pitch,
            spec.distance_m,
            spec.facing,
            spec.width * supersample,
            spec.height * supersample,
            target_height_m=target,
        )
        if self.ninety is not None:
            self.bg = background(self.big_camera, spec.background, spec.seed, NINETY_SHADOW)
        elif self.hydrant is not None:
            self.bg = background(self.big_camera, spec.background, spec.seed, HYDRANT_SHADOW)
        elif spec.kind in SHADOW:
            self.bg = background(self.big_camera, spec.background, spec.seed, SHADOW[spec.kind])
        else:
            self.bg = background(self.big_camera, spec.background, spec.seed)
        self.variation = rep_variation(spec)

    def layers(self, t: float) -> FrameLayers:
        if self.hold is not None:
            pose = self.hold.pose(t)
            sk, spheres, record = pose.skeleton, pose.spheres, pose.record
        elif self.bird_dog is not None:
            pose = self.bird_dog.pose(t)
            sk, spheres, record = pose.skeleton, pose.spheres, pose.record
        elif self.pallof is not None:
            pose = self.pallof.pose(t)
            sk, spheres, record = pose.skeleton, pose.spheres, pose.record
        elif self.hydrant is not None:
            pose = self.hydrant.pose(t)
            sk, spheres, record = pose.skeleton, pose.spheres, pose.record
        elif self.frog is not None:
            pose = self.frog.pose(t)
            sk, spheres, record = pose.skeleton, pose.spheres, pose.record
        elif self.ninety is not None:
            pose = self.ninety.pose(t)
            sk, spheres, record = pose.skeleton, pose.spheres, pose.record
        else:
            sk, angles = _pose(self.spec, t, self.variation)
            spheres = build_body(
                sk,
                self.spec.shape,
                CLOTHING_COLOURS[self.spec.clothing],
                self.spec.load,
                self.spec.shirt,
            )
            record = _angle_record(t, sk, angles)
        rgb, mask, part = rasterise(spheres, self.big_camera, self.bg)
        w, h = self.spec.width, self.spec.height
        if self.ss > 1:
            rgb = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA)
            mask = cv2.resize(mask.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA) >= 0.5
            torso = (part == TORSO).astype(np.float32)
            torso = cv2.resize(torso, (w, h), interpolation=cv2.INTER_AREA) >= 0.5
        else:
            torso = part == TORSO
        names = list(sk.joints)
        px = self.camera.project(np.array([sk.joints[n] for n in names]))
        joints_px = {n: (float(x), float(y)) for n, (x, y) in zip(names, px, strict=True)}
        return FrameLayers(rgb, mask, torso, joints_px, record)


def _angle_record(t: float, sk: Skeleton, a: JointAngles) -> dict[str, float]:
    return {
        "t": round(t, 6),
        "hip_flexion_deg": round(a.hip, 4),
        "lumbar_flexion_deg": round(a.lumbar, 4),
        "thoracic_flexion_deg": round(a.thoracic, 4),
        "knee_flexion_deg": round(a.knee, 4),
        "trunk_inclination_deg": round(sk.trunk_inclination_deg, 4),
        "ankle_flexion_deg": round(a.ankle, 4),
        "pelvis_tilt_deg": round(sk.pelvis_deg, 4),
    }


def true_angles(spec: SynthSpec, t: float) -> dict[str, float]:
    """True angles (degrees) at time t: flexions relative to standing neutral, trunk
    inclination as the hip->shoulder line's angle from vertical (holds: see
    `formcheck.synth.hold`; bird dog: `formcheck.synth.birddog`; Pallof press:
    `formcheck.synth.pallof`)."""
    if spec.is_hold:
        return hold_script(spec).pose(t).record
    if spec.is_bird_dog:
        return bird_dog_script(spec).pose(t).record
    if spec.is_pallof_press:
        return pallof_script(spec).pose(t).record
    if spec.is_fire_hydrant:
        return hydrant_script(spec).pose(t).record
    if spec.is_frog_squat:
        return frog_script(spec).pose(t).record
    if spec.is_ninety_ninety:
        return ninety_script(spec).pose(t).record
    sk, angles = _pose(spec, t, rep_variation(spec))
    return _angle_record(t, sk, angles)


def _pose(
    spec: SynthSpec, t: float, variation: list[tuple[float, float]]
) -> tuple[Skeleton, JointAngles]:
    angles = joint_angles(spec, t, variation)
    grip = KETTLEBELL_GRIP if spec.load == "kettlebell" else SHOULDER_HALF_WIDTH
    sk = build_skeleton(
        angles,
        spec.shape,
        arms_forward=spec.kind == "squat",
        grip_half_width=grip,
        hands_on_floor=spec.is_forward_bend,
    )
    return sk, angles


def render_layers(spec: SynthSpec, t: float) -> FrameLayers:
    """Render the frame at time t with its person mask, torso mask and joint pixels."""
    return _Renderer(spec).layers(t)


def render_frame(spec: SynthSpec, t: float) -> np.ndarray:
    """Render the frame at time t (seconds) as an RGB uint8 array (height, width, 3)."""
    return render_layers(spec, t).rgb


def render_clip(spec: SynthSpec, out_mp4: Path, out_json: Path | None = None) -> SynthResult:
    """Render the whole clip to an H.264 MP4 and, if asked, its true angles to JSON."""
    out_mp4 = Path(out_mp4)
    if out_mp4.suffix.lower() != ".mp4":
        raise InputError(f"output video must end in .mp4; got {out_mp4.name}")
    if out_mp4.parent and not out_mp4.parent.exists():
        raise InputError(f"output folder does not exist: {out_mp4.parent}")
    renderer = _Renderer(spec)
    frames: list[dict] = []
    rate = Fraction(spec.fps).limit_denominator(1001)
    with av.open(str(out_mp4), mode="w", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height = spec.width, spec.height
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "23", "preset": "medium"}
        for i in range(spec.frame_count):
            layers = renderer.layers(i / spec.fps)
            frames.append(layers.angles)
            frame = av.VideoFrame.from_ndarray(layers.rgb, format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    result = SynthResult(
        spec=spec, mp4=out_mp4, json=Path(out_json) if out_json else None, frames=frames
    )
    if out_json is not None:
        write_truth(result, Path(out_json))
    return result


def write_truth(result: SynthResult, path: Path) -> None:
    """Write the clip's spec and per-frame true angles as JSON."""
    spec = result.spec
    neutral = true_angles(spec, 0.0)["trunk_inclination_deg"]
    doc = {
        "schema": SCHEMA,
        "spec": spec.to_dict(),
        "fps": spec.fps,
        "width": spec.width,
        "height": spec.height,
        "frame_count": len(result.frames),
        "trunk_inclination_neutral_deg": neutral,
    }
    if spec.is_hold:
        script = hold_script(spec)
        doc["hold_start_s"] = round(spec.hold_start_s, 6)
        doc["hold_end_s"] = round(spec.hold_end_s, 6)
        doc["fault_start_s"] = round(script.fault_start_s, 6)
        doc["fault_reached_deg"] = round(script.fault_reached_deg, 4)
        if spec.kind == "side_plank":
            doc["side"] = spec.side
    if spec.is_bird_dog:
        doc["reps"] = [rep.to_dict() for rep in bird_dog_script(spec).reps]
    if spec.is_pallof_press:
        doc["reps"] = [rep.to_dict() for rep in pallof_script(spec).reps]
        doc["anchor_side"] = spec.side
    if spec.is_fire_hydrant:
        doc["reps"] = [rep.to_dict() for rep in hydrant_script(spec).reps]
    if spec.is_frog_squat:
        doc["reps"] = [rep.to_dict() for rep in frog_script(spec).reps]
    if spec.is_ninety_ninety:
        doc["reps"] = [rep.to_dict() for rep in ninety_script(spec).reps]
        doc["start_front_side"] = spec.side
    doc["frames"] = result.frames
    path.write_text(json.dumps(doc, indent=1))
