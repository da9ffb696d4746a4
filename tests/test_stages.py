"""Unit tests of each analysis stage on small synthetic inputs (no video decoding, no MediaPipe).

In:  hand-built poses, drawn person masks, constructed angle series and rep signals.
Out: assertions on smoothing, spine, view, kinematics, neutral, reps, exercise, assess, report.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import replace

import cv2
import numpy as np
import pytest

from formcheck import exercises
from formcheck.angles import ANGLE_NAMES, FrameAngles
from formcheck.assess import RoundingRule, assess_rep, assess_set
from formcheck.errors import CrowdError
from formcheck.estimator import Person, count_people
from formcheck.exercises.lifts import detect_exercise, stoop_squat_index
from formcheck.kinematics import RawFrame, joint_angle, measure_frame, to_frame_angles
from formcheck.neutral import DEFAULTS, NeutralTracker, estimate_neutral
from formcheck.passone import Observation
from formcheck.pipeline import AnalysisOptions, analyze_observations
from formcheck.pose import LM, NUM_LANDMARKS, Pose
from formcheck.report import build_report, human_summary, summary_messages
from formcheck.reps import Rep, RepCounter, RepRules, frame_phases, median_filter, segment_reps
from formcheck.smoothing import OneEuroFilter, PoseSmoother, smooth_landmarks, zero_phase
from formcheck.spine import BackShape, SpineParams, measure_back
from formcheck.verdict import Verdict, Viewing, not_judged
from formcheck.video import VideoInfo
from formcheck.view import FrameView, estimate_view, frame_view
from formcheck.writers import CSV_COLUMNS, write_csv

FPS = 30.0
W, H = 640, 480

# --------------------------------------------------------------------------- synthetic poses


def side_pose(
    *,
    facing: int = 1,
    lean_deg: float = 0.0,
    knee_deg: float = 0.0,
    hip: tuple[float, float] = (320.0, 260.0),
    trunk_px: float = 120.0,
    spread_px: float = 4.0,
    size: tuple[int, int] = (W, H),
) -> Pose:
    """A lifter seen from the side: trunk leaning `lean_deg` toward `facing`, shins vertical,
    thighs bent so the knee angle is `knee_deg` of flexion. Left/right points overlap up to
    `spread_px` (a side view)."""
    hx, hy = hip
    lm = np.zeros((NUM_LANDMARKS, 2))
    a = math.radians(lean_deg)
    shoulder = np.array([hx + facing * trunk_px * math.sin(a), hy - trunk_px * math.cos(a)])
    thigh = 1.05 * trunk_px
    shin = 1.0 * trunk_px
    k = math.radians(knee_deg)
    # Shin vertical; thigh tilted back from the knee by the knee flexion.
    ankle = np.array([hx + facing * thigh * math.sin(k), hy + thigh * math.cos(k) + shin])
    knee = np.array([ankle[0], ankle[1] - shin])
    hip_pt = np.array([hx, hy])
    head_dir = (shoulder - hip_pt) / trunk_px
    nose = shoulder + head_dir * 0.45 * trunk_px + np.array([facing * 0.15 * trunk_px, 0])
    ear = shoulder + head_dir * 0.45 * trunk_px
    wrist = shoulder + np.array([0.0, 0.9 * trunk_px])
    elbow = 0.5 * (shoulder + wrist)
    points = {
        "SHOULDER": shoulder,
        "ELBOW": elbow,
        "WRIST": wrist,
        "HIP": hip_pt,
        "KNEE": knee,
        "ANKLE": ankle,
        "HEEL": ankle + np.array([-facing * 0.12 * trunk_px, 0.05 * trunk_px]),
        "FOOT_INDEX": ankle + np.array([facing * 0.35 * trunk_px, 0.08 * trunk_px]),
        "EAR": ear,
        "EYE": ear + np.array([facing * 0.1 * trunk_px, 0]),
    }
    for name, p in points.items():
        lm[LM[f"LEFT_{name}"]] = p + np.array([spread_px / 2, 0])
        lm[LM[f"RIGHT_{name}"]] = p - np.array([spread_px / 2, 0])
    lm[LM.NOSE] = nose
    return Pose(landmarks=lm, visibility=np.full(NUM_LANDMARKS, 0.9), image_size=size)


def frontal_pose(facing_toes: int = 1) -> Pose:
    """A lifter facing the camera: shoulders and hips wide apart in the image."""
    pose = side_pose(spread_px=0.0)
    lm = pose.landmarks
    for left, right, half in (
        (LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER, 45.0),
        (LM.LEFT_HIP, LM.RIGHT_HIP, 32.0),
    ):
        centre = lm[left].copy()
        lm[left] = centre + [half, 0]
        lm[right] = centre - [half, 0]
    return pose


def mirror(pose: Pose) -> Pose:
    """The same pose seen in a mirror (x flipped about the image centre line)."""
    lm = pose.landmarks.copy()
    lm[:, 0] = pose.image_size[0] - 1 - lm[:, 0]
    mask = None if pose.mask is None else np.ascontiguousarray(pose.mask[:, ::-1])
    return Pose(lm, pose.visibility.copy(), pose.image_size, mask=mask)


# --------------------------------------------------------------------------- smoothing


def test_one_euro_reduces_jitter_on_a_noisy_constant():
    rng = np.random.default_rng(1)
    times = np.arange(150) / FPS
    noisy = 5.0 + rng.normal(0.0, 1.0, times.size)
    f = OneEuroFilter()
    out = np.array([float(f(t, x)) for t, x in zip(times, noisy, strict=True)])
    settled = out[30:]
    assert np.std(settled) < 0.5 * np.std(noisy[30:])
    assert abs(np.mean(settled) - 5.0) < 0.3


def test_one_euro_follows_a_step():
    times = np.arange(90) / FPS
    step = np.where(times >= 1.0, 10.0, 0.0)
    f = OneEuroFilter()
    out = np.array([float(f(t, x)) for t, x in zip(times, step, strict=True)])
    assert np.all(out[times < 1.0] == 0.0)
    assert 0.0 < out[np.searchsorted(times, 1.0)] < 10.0  # smoothed, not a copy of the input
    assert abs(out[np.searchsorted(times, 1.5)] - 10.0) < 0.5  # caught up within half a second


def test_one_euro_works_element_wise_on_arrays():
    f = OneEuroFilter()
    f(0.0, np.zeros((3, 2)))
    out = f(1 / FPS, np.ones((3, 2)))
    assert out.shape == (3, 2)
    assert np.allclose(out, out[0, 0])


def test_pose_smoother_bridges_short_gaps_and_drops_long_ones():
    sm = PoseSmoother(max_gap_s=0.25)
    pose = side_pose()
    t = 0.0
    for _ in range(10):
        out, bridged = sm.update(t, pose)
        assert out is not None and not bridged
        t += 1 / FPS
    last_t = t - 1 / FPS
    # Missing frames within 0.25 s of the last pose are bridged with that pose.
    results = []
    while t - last_t <= 0.5:
        results.append((t - last_t, *sm.update(t, None)))
        t += 1 / FPS
    for gap, out, bridged in results:
        if gap <= 0.25 - 1e-9:
            assert out is not None and bridged, f"gap {gap:.3f}s should be bridged"
            assert np.allclose(out.landmarks, pose.landmarks, atol=1e-6)
        elif gap > 0.25 + 1e-9:
            assert out is None and not bridged, f"gap {gap:.3f}s should be no-pose"
    # Once the gap is over, the next detection starts afresh (no blending with old poses).
    moved = side_pose(hip=(400.0, 260.0))
    out, bridged = sm.update(t, moved)
    assert not bridged
    assert np.allclose(out.landmarks, moved.landmarks)


def test_pose_smoother_smooths_jittery_landmarks():
    rng = np.random.default_rng(2)
    sm = PoseSmoother()
    base = side_pose()
    errs_in, errs_out = [], []
    for i in range(60):
        noisy = Pose(
            base.landmarks + rng.normal(0, 3.0, base.landmarks.shape),
            base.visibility,
            base.image_size,
        )
        out, _ = sm.update(i / FPS, noisy)
        if i >= 15:
            errs_in.append(np.abs(noisy.landmarks - base.landmarks).mean())
            errs_out.append(np.abs(out.landmarks - base.landmarks).mean())
    assert np.mean(errs_out) < 0.7 * np.mean(errs_in)


def test_pose_smoother_keeps_still_landmarks_still():
    """Jitter of some landmarks must not move others that stay put (ankles on the floor while
    the shoulders jitter)."""
    rng = np.random.default_rng(5)
    sm = PoseSmoother()
    base = side_pose()
    feet = [LM.LEFT_ANKLE, LM.RIGHT_ANKLE, LM.LEFT_HEEL, LM.RIGHT_HEEL]
    worst = 0.0
    for i in range(60):
        lm = base.landmarks.copy()
        lm[[LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER], 1] += rng.normal(0.0, 3.0)
        out, _ = sm.update(i / FPS, Pose(lm, base.visibility, base.image_size))
        worst = max(worst, float(np.abs(out.landmarks[feet] - base.landmarks[feet]).max()))
    assert worst < 1.0, f"still feet moved by up to {worst:.1f} px"


def test_zero_phase_keeps_nan_runs_and_does_not_shift_a_peak():
    times = np.arange(120) / FPS
    peak_t = 1.2
    values = 40.0 * np.exp(-0.5 * ((times - peak_t) / 0.25) ** 2)
    values[90:100] = np.nan
    out = zero_phase(values, times, cutoff_hz=3.0)
    assert np.all(np.isnan(out[90:100]))
    assert np.all(np.isfinite(out[:90])) and np.all(np.isfinite(out[100:]))
    assert abs(times[np.nanargmax(out)] - peak_t) <= 1 / FPS + 1e-9
    # A causal filter of the same cut-off would lag; this one must not.
    assert out[np.nanargmax(out)] > 0.8 * values[np.nanargmax(values)]


def test_zero_phase_smooths_noise():
    rng = np.random.default_rng(3)
    times = np.arange(200) / FPS
    clean = 20.0 * np.sin(2 * math.pi * 0.3 * times)
    noisy = clean + rng.normal(0, 3.0, times.size)
    out = zero_phase(noisy, times, cutoff_hz=3.0)
    assert np.abs(out - clean)[10:-10].mean() < 0.6 * np.abs(noisy - clean)[10:-10].mean()


def test_offline_landmarks_are_smoothed_without_trailing_a_fast_bend():
    """Offline, pass one keeps landmarks as detected (gaps bridged) and smooths the whole clip
    both ways: the shoulders' fast swing peaks when it truly does, where the live filter
    trails it, and a frame without a person stays without one."""
    rng = np.random.default_rng(5)
    base = side_pose()
    times = np.arange(90) / FPS
    swing = 120.0 * np.exp(-0.5 * ((times - 1.5) / 0.2) ** 2)  # px, a fast hinge and back
    raw: list[Pose | None] = []
    for dx in swing:
        lm = base.landmarks.copy()
        lm[[LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER], 0] += dx + rng.normal(0.0, 3.0)
        raw.append(Pose(lm, base.visibility, base.image_size))
    raw[10] = None
    bridging = PoseSmoother(filtered=False)
    kept = [bridging.update(t, p)[0] for t, p in zip(times, raw, strict=True)]
    assert kept[20] is raw[20]  # as detected
    assert kept[10] is kept[9]  # a short gap bridged
    live = PoseSmoother()
    causal = [live.update(t, p)[0] for t, p in zip(times, raw, strict=True)]
    offline = smooth_landmarks([None if i == 10 else p for i, p in enumerate(kept)], times)
    assert offline[10] is None

    def peak_time(poses: list[Pose | None]) -> float:
        x = [-1.0 if p is None else p.landmarks[LM.LEFT_SHOULDER, 0] for p in poses]
        return float(times[int(np.argmax(x))])

    assert abs(peak_time(offline) - 1.5) <= 1 / FPS + 1e-9
    assert peak_time(causal) > 1.5  # the live filter trails

    def rise_error(poses: list[Pose | None]) -> float:
        got = np.array([p.landmarks[LM.LEFT_SHOULDER, 0] for p in poses[30:45]])
        return float(np.abs(got - base.landmarks[LM.LEFT_SHOULDER, 0] - swing[30:45]).mean())

    assert rise_error(offline) < 0.5 * rise_error(causal)
    jitter = np.std(np.diff([p.landmarks[LM.LEFT_SHOULDER, 0] for p in offline[30:40]]))
    assert jitter < np.std(np.diff([p.landmarks[LM.LEFT_SHOULDER, 0] for p in kept[30:40]]))


# --------------------------------------------------------------------------- spine


def trunk_mask(
    pose: Pose,
    facing: int,
    bend_deg: float,
    *,
    back_width: float = 0.25,
    front_width: float = 0.22,
    hole: bool = False,
) -> np.ndarray:
    """Person mask of a trunk around the pose's hip-shoulder axis. Its dorsal outline is a
    circular arc whose tangent turns by `bend_deg` from hip to shoulder (0 = straight line),
    bulging dorsally like a flexed back. `hole` cuts out a plate-sized disc over the hips."""
    hip = pose.landmarks[[LM.LEFT_HIP, LM.RIGHT_HIP]].mean(0)
    shoulder = pose.landmarks[[LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER]].mean(0)
    length = float(np.linalg.norm(shoulder - hip))
    a = (shoulder - hip) / length
    dorsal = -facing * np.array([-a[1], a[0]])
    s = np.linspace(-0.3, 1.15, 200)
    if bend_deg == 0:
        bulge = np.zeros_like(s)
    else:
        half = math.radians(bend_deg) / 2
        radius = 0.5 / math.sin(half)  # chord hip-shoulder = 1 trunk length
        bulge = np.sqrt(radius**2 - (s - 0.5) ** 2) - radius * math.cos(half)
    back = hip + np.outer(s * length, a) + np.outer((back_width + bulge) * length, dorsal)
    front = hip + np.outer(s * length, a) - np.outer(np.full_like(s, front_width * length), dorsal)
    poly = np.vstack([back, front[::-1]])
    mask = np.zeros((pose.image_size[1], pose.image_size[0]), np.float32)
    cv2.fillPoly(mask, [np.round(poly * 16).astype(np.int32)], 1.0, cv2.LINE_AA, shift=4)
    if hole:
        centre = hip + 0.05 * length * a - 0.05 * length * dorsal
        cv2.circle(mask, tuple(int(v) for v in np.round(centre)), int(0.17 * length), 0.0, -1)
    return cv2.GaussianBlur(mask, (5, 5), 1.0)


def with_mask(pose: Pose, mask: np.ndarray) -> Pose:
    return Pose(pose.landmarks, pose.visibility, pose.image_size, mask=mask)


def back_of(bend_deg: float, facing: int = 1, lean_deg: float = 50.0, **kw) -> BackShape:
    pose = side_pose(facing=facing, lean_deg=lean_deg)
    shape = measure_back(with_mask(pose, trunk_mask(pose, facing, bend_deg, **kw)), facing, PARAMS)
    assert shape is not None
    return shape


PARAMS = SpineParams()


@pytest.mark.parametrize("facing", [1, -1])
def test_outline_is_traced_on_the_dorsal_side(facing):
    pose = side_pose(facing=facing, lean_deg=50.0)
    posed = with_mask(pose, trunk_mask(pose, facing, 0.0))
    shape = measure_back(posed, facing, PARAMS)
    assert shape is not None and len(shape.outline) >= 0.8 * PARAMS.samples
    hip = pose.landmarks[[LM.LEFT_HIP, LM.RIGHT_HIP]].mean(0)
    shoulder = pose.landmarks[[LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER]].mean(0)
    a = (shoulder - hip) / np.linalg.norm(shoulder - hip)
    away = -facing * np.array([-a[1], a[0]])
    # Away from where the lifter faces: the dorsal unit vector has its x opposite to facing.
    assert np.sign(away[0]) == -facing
    offsets = (shape.outline - hip) @ away / np.linalg.norm(shoulder - hip)
    assert np.all(offsets > 0.15) and np.all(offsets < 0.35)  # drawn at 0.25 trunk lengths
    assert shape.confidence > 0.8
    assert abs(shape.lumbar_bend) < 2.0 and abs(shape.thoracic_bend) < 2.0


def test_bends_rise_monotonically_with_the_arc():
    shapes = [back_of(b) for b in (0.0, 20.0, 40.0)]
    lumbar = [s.lumbar_bend for s in shapes]
    thoracic = [s.thoracic_bend for s in shapes]
    assert all(v is not None for v in lumbar + thoracic)
    assert abs(lumbar[0]) < 2.0 and abs(thoracic[0]) < 2.0
    assert lumbar[0] + 3 < lumbar[1] < lumbar[2] - 3, lumbar
    assert thoracic[0] + 3 < thoracic[1] < thoracic[2] - 3, thoracic
    # The whole hip-to-shoulder outline of a 40 degree arc turns by about 40 degrees; the
    # stretches measured cover most of it.
    total = shapes[2].upper_thoracic_incl - shapes[2].pelvis_incl
    assert 20.0 < total < 45.0


@pytest.mark.parametrize("bend", [0.0, 20.0, 40.0])
def test_mirror_images_give_the_same_values(bend):
    pose = side_pose(facing=1, lean_deg=50.0)
    right = with_mask(pose, trunk_mask(pose, 1, bend))
    left = mirror(right)
    a = measure_back(right, 1, PARAMS)
    b = measure_back(left, -1, PARAMS)
    for name in ("pelvis_incl", "thoracolumbar_incl", "upper_thoracic_incl"):
        assert getattr(b, name) == pytest.approx(getattr(a, name), abs=0.5), name
    assert b.confidence == pytest.approx(a.confidence, abs=0.05)


def test_inclinations_are_forward_positive():
    upright = back_of(0.0, lean_deg=0.0)
    hinged = back_of(0.0, lean_deg=60.0)
    assert abs(upright.pelvis_incl) < 3.0
    assert hinged.pelvis_incl == pytest.approx(60.0, abs=3.0)
    assert back_of(0.0, facing=-1, lean_deg=60.0).pelvis_incl == pytest.approx(60.0, abs=3.0)


def test_no_mask_gives_none():
    assert measure_back(side_pose(), 1, PARAMS) is None


def test_plate_hole_over_the_hips_still_gives_an_outline():
    clean = back_of(20.0)
    holed = back_of(20.0, hole=True)
    pose = side_pose(lean_deg=50.0)
    mask = trunk_mask(pose, 1, 20.0, hole=True)
    hip = pose.landmarks[[LM.LEFT_HIP, LM.RIGHT_HIP]].mean(0)
    assert mask[int(hip[1]), int(hip[0])] < 0.5  # the hip landmark itself lies in the hole
    assert len(holed.outline) >= 0.8 * len(clean.outline)
    assert 0.0 <= holed.confidence <= 1.0
    assert holed.lumbar_bend == pytest.approx(clean.lumbar_bend, abs=3.0)


def test_tiny_or_empty_mask_is_not_measured():
    pose = side_pose(lean_deg=50.0)
    empty = measure_back(with_mask(pose, np.zeros((H, W), np.float32)), 1, PARAMS)
    assert empty is None or (empty.lumbar_bend is None and empty.confidence == 0.0)


# --------------------------------------------------------------------------- view


def test_side_view_has_small_yaw_and_front_view_large():
    side = frame_view(side_pose())
    front = frame_view(frontal_pose())
    assert side.yaw_deg < 15.0
    assert front.yaw_deg > 60.0


@pytest.mark.parametrize("facing", [1, -1])
def test_facing_from_toes_and_nose(facing):
    assert frame_view(side_pose(facing=facing)).facing == facing
    assert frame_view(side_pose(facing=facing, lean_deg=70, knee_deg=40)).facing == facing


def test_toes_outvote_the_nose():
    pose = side_pose(facing=1)
    ears = pose.landmarks[[LM.LEFT_EAR, LM.RIGHT_EAR]].mean(0)
    pose.landmarks[LM.NOSE] = ears - [20.0, 0.0]  # head turned back, feet still point right
    assert frame_view(pose).facing == 1


def test_world_landmarks_agree_with_the_image():
    pose = side_pose()
    world = np.zeros((NUM_LANDMARKS, 3))
    # Side view: left and right lie along the camera's depth axis.
    world[[LM.LEFT_SHOULDER, LM.LEFT_HIP]] = [0.0, 0.0, 0.15]
    world[[LM.RIGHT_SHOULDER, LM.RIGHT_HIP]] = [0.0, 0.0, -0.15]
    pose.world = world
    assert frame_view(pose).yaw_deg < 15.0


@pytest.mark.parametrize("facing", [1, -1])
@pytest.mark.parametrize(("turn", "turned"), [(0.0, None), (35.0, "front"), (-35.0, "back")])
def test_which_way_an_oblique_camera_is_turned(facing, turn, turned):
    """The world landmarks tell a camera turned towards the lifter's chest from one turned
    towards their back: turned towards the camera, the far shoulder and hip move ahead of the
    near ones, in the direction the lifter faces."""
    pose = side_pose(facing=facing)
    a = math.radians(turn)
    # The far side (left when facing right) 0.3 m across the body, rotated by the turn.
    offset = np.array([facing * 0.3 * math.sin(a), 0.0, 0.3 * math.cos(a)])
    far, near = (LM.LEFT_SHOULDER, LM.LEFT_HIP), (LM.RIGHT_SHOULDER, LM.RIGHT_HIP)
    if facing < 0:
        far, near = near, far
    world = np.zeros((NUM_LANDMARKS, 3))
    world[list(far)] = offset / 2
    world[list(near)] = -offset / 2
    pose.world = world
    view = frame_view(pose)
    assert view.turn_deg == pytest.approx(turn, abs=1.0)
    assert estimate_view([view] * 5).turned == turned


def test_an_oblique_verdict_says_which_way_to_move_the_camera():
    front = not_judged("oblique_view", Viewing("oblique", 45.0, turned="front"))
    assert "45 deg off side-on, towards your front," in front.message
    back = not_judged("oblique_view", Viewing("oblique", 40.0, turned="back"))
    assert "towards your back" in back.message
    assert "towards" not in not_judged("oblique_view", Viewing("oblique", 40.0)).message


def test_estimate_view_majority_and_kind():
    views = [FrameView(10.0, -1)] * 3 + [FrameView(12.0, 1)]
    est = estimate_view(views)
    assert est.kind == "side" and est.facing == "left" and est.facing_sign == -1
    assert 0.0 <= est.confidence <= 1.0
    assert estimate_view([FrameView(45.0, 1)] * 5).kind == "oblique"
    assert estimate_view([FrameView(80.0, 1)] * 5).kind == "front"
    # Clear, agreeing views are more confident than split ones.
    clear = estimate_view([FrameView(5.0, 1)] * 6)
    split = estimate_view([FrameView(5.0, 1)] * 4 + [FrameView(5.0, -1)] * 2)
    assert clear.facing == "right" and clear.confidence > split.confidence


# --------------------------------------------------------------------------- kinematics


def test_joint_angle():
    o = np.array([0.0, 0.0])
    assert joint_angle(np.array([1.0, 0.0]), o, np.array([0.0, 1.0])) == pytest.approx(90.0)
    assert joint_angle(np.array([1.0, 0.0]), o, np.array([-1.0, 0.0])) == pytest.approx(180.0)
    assert joint_angle(np.array([1.0, 0.0]), o, np.array([1.0, 1.0])) == pytest.approx(45.0)


@pytest.mark.parametrize("facing", [1, -1])
def test_lean_toward_facing_is_positive(facing):
    fwd = measure_frame(0.0, side_pose(facing=facing, lean_deg=40.0), None, facing)
    back = measure_frame(0.0, side_pose(facing=facing, lean_deg=-15.0), None, facing)
    assert fwd.trunk_incl == pytest.approx(40.0, abs=0.5)
    assert back.trunk_incl == pytest.approx(-15.0, abs=0.5)
    # Bent knees: thigh leans back (knee ahead of the hip), knee flexion positive.
    bent = measure_frame(0.0, side_pose(facing=facing, lean_deg=60.0, knee_deg=50.0), None, facing)
    assert bent.knee_flexion == pytest.approx(50.0, abs=1.0)
    assert bent.thigh_incl == pytest.approx(-50.0, abs=1.0)
    assert bent.trunk_thigh == pytest.approx(110.0, abs=1.5)


def test_straight_standing_has_zero_knee_flexion():
    raw = measure_frame(0.0, side_pose(), None, 1)
    assert raw.knee_flexion == pytest.approx(0.0, abs=0.5)
    assert raw.thigh_incl == pytest.approx(0.0, abs=0.5)


def test_shoulders_below_hips_is_rejected_as_a_glitch():
    pose = side_pose(lean_deg=170.0)  # shoulders under the hips
    raw = measure_frame(1.0, pose, None, 1)
    assert raw.pose is None and raw.trunk_incl is None
    assert measure_frame(1.0, None, None, 1).pose is None


def test_back_shape_feeds_hip_lumbar_and_thoracic():
    pose = side_pose(lean_deg=50.0, knee_deg=20.0)
    back = measure_back(with_mask(pose, trunk_mask(pose, 1, 30.0)), 1, PARAMS)
    raw = measure_frame(0.5, pose, back, 1)
    assert raw.lumbar_raw == pytest.approx(back.lumbar_bend)
    assert raw.thoracic_raw == pytest.approx(back.thoracic_bend)
    assert raw.hip_raw == pytest.approx(back.pelvis_incl - raw.thigh_incl)
    neutral = estimate_neutral([])
    fa = to_frame_angles(raw, neutral, spine_ok=True)
    assert fa.pose and fa.lumbar_flexion_deg == pytest.approx(raw.lumbar_raw - neutral.lumbar)
    assert fa.back_outline is not None
    # Outside a side view the spine is not reported, but the keypoint angles are.
    fb = to_frame_angles(raw, neutral, spine_ok=False)
    assert fb.lumbar_flexion_deg is None and fb.hip_flexion_deg is None
    assert fb.trunk_inclination_deg == pytest.approx(50.0, abs=0.5)


# --------------------------------------------------------------------------- neutral


def raw_frame(t: float, trunk: float, knee: float, lumbar: float, conf: float = 0.9) -> RawFrame:
    """A raw frame whose lumbar bend is `lumbar` (pelvis at the trunk's lean)."""
    return RawFrame(
        t=t,
        pose=side_pose(),
        trunk_incl=trunk,
        thigh_incl=0.0 if knee < 30 else -knee,
        knee_flexion=knee,
        pelvis_incl=trunk - 5.0,
        thoracolumbar_incl=trunk - 5.0 + lumbar,
        upper_thoracic_incl=trunk - 5.0 + lumbar + 10.0,
        spine_confidence=conf,
    )


def test_neutral_uses_upright_frames():
    standing = [raw_frame(i / FPS, 5.0, 5.0, -12.0 + 0.1 * i) for i in range(11)]
    bent = [raw_frame(1 + i / FPS, 70.0, 40.0, 30.0) for i in range(30)]
    n = estimate_neutral(bent + standing)
    assert n.source == "standing"
    assert n.frames == len(standing)
    assert n.lumbar == pytest.approx(-11.5, abs=0.01)  # median of the standing frames only
    assert n.thoracic == pytest.approx(10.0)
    assert n.to_dict()["source"] == "standing"


def test_neutral_falls_back_to_defaults():
    bent = [raw_frame(i / FPS, 70.0, 40.0, 30.0) for i in range(30)]
    untraced = [raw_frame(i / FPS, 5.0, 5.0, -12.0, conf=0.1) for i in range(30)]
    for frames in ([], bent, untraced):
        n = estimate_neutral(frames)
        assert n.source == "default" and n.frames == 0
        assert (n.hip, n.lumbar, n.thoracic) == (
            DEFAULTS["hip"],
            DEFAULTS["lumbar"],
            DEFAULTS["thoracic"],
        )


def test_neutral_tracker_calibrates_after_n_upright_frames():
    tracker = NeutralTracker(needed=5)
    assert not tracker.calibrated and tracker.neutral.source == "default"
    for i in range(10):
        tracker.update(raw_frame(i / FPS, 70.0, 40.0, 30.0))  # bent: ignored
    assert not tracker.calibrated
    for i in range(4):
        tracker.update(raw_frame(1 + i / FPS, 3.0, 5.0, -8.0))
    assert not tracker.calibrated
    n = tracker.update(raw_frame(2.0, 3.0, 5.0, -8.0))
    assert tracker.calibrated and n.source == "standing"
    assert n.lumbar == pytest.approx(-8.0)
    # Once calibrated the neutral stays put.
    for i in range(20):
        tracker.update(raw_frame(3 + i / FPS, 3.0, 5.0, 5.0))
    assert tracker.neutral.lumbar == pytest.approx(-8.0)


# --------------------------------------------------------------------------- reps


def cosine_reps(
    n: int,
    *,
    peak: float = 1.0,
    rep_s: float = 2.0,
    pause_s: float = 1.0,
    lead_s: float = 1.0,
    tail_s: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """A rep signal: standing `lead_s`, then n smooth down-and-up reps separated by pauses."""
    parts = [np.zeros(int(lead_s * FPS))]
    one = peak * 0.5 * (1 - np.cos(2 * math.pi * np.arange(int(rep_s * FPS)) / (rep_s * FPS)))
    for i in range(n):
        parts.append(one)
        parts.append(np.zeros(int((pause_s if i < n - 1 else tail_s) * FPS)))
    depth = np.concatenate(parts)
    return np.arange(depth.size) / FPS, depth


@pytest.mark.parametrize("n", [1, 3, 5])
def test_clean_reps_are_counted(n):
    times, depth = cosine_reps(n)
    reps = segment_reps(times, depth)
    assert len(reps) == n
    for i, r in enumerate(reps):
        assert r.index == i + 1
        assert r.start_s < r.bottom_s < r.end_s
        assert r.peak_depth == pytest.approx(1.0, abs=0.01)
        expected_bottom = 1.0 + i * 3.0 + 1.0
        assert r.bottom_s == pytest.approx(expected_bottom, abs=1.5 / FPS)


def test_clip_starting_at_the_floor_is_one_rep():
    # Setup at the floor, pull to lockout, stand, lower back to the floor and stay there.
    floor = np.ones(int(1.0 * FPS))
    pull = 0.5 * (1 + np.cos(math.pi * np.arange(int(1.0 * FPS)) / FPS))
    stand = np.zeros(int(1.0 * FPS))
    lower = 1 - pull
    depth = np.concatenate([floor, pull, stand, lower, floor])
    times = np.arange(depth.size) / FPS
    reps = segment_reps(times, depth)
    assert len(reps) == 1
    assert reps[0].start_s == pytest.approx(0.0)
    assert 1.0 <= reps[0].end_s <= 2.0


def test_shallow_bend_is_a_ghost():
    times, depth = cosine_reps(2, peak=0.55)  # past the entry level, short of min_peak
    assert segment_reps(times, depth) == []
    times, depth = cosine_reps(2, peak=0.35)
    assert segment_reps(times, depth) == []


def test_rep_cut_off_at_the_end_is_not_counted():
    times, depth = cosine_reps(2, tail_s=0.0)
    cut = depth[: -int(0.6 * FPS)]  # the clip ends during the second rep's ascent
    assert cut[-1] > 0.5
    reps = segment_reps(times[: cut.size], cut)
    assert len(reps) == 1


def test_glitch_spikes_do_not_add_reps_after_median_filter():
    times, depth = cosine_reps(3)
    glitched = depth.copy()
    glitched[10:12] = 1.2  # two-frame spike while standing before the first rep
    i = int((1.0 + 2 * 3.0 + 1.3) * FPS)  # one frame dropping to "standing" mid-ascent of rep 3
    glitched[i] = 0.0
    glitched[int(2.5 * FPS)] = np.nan  # and a lost frame
    filtered = median_filter(glitched, 5)
    assert len(segment_reps(times, filtered)) == 3


def test_median_filter_keeps_nan_frames_nan():
    v = np.array([0.0, 0.1, np.nan, 0.2, 5.0, 0.3, 0.4])
    out = median_filter(v, 5)
    assert np.isnan(out[2])
    assert out[4] < 1.0


def test_long_pose_gap_mid_rep_aborts_that_rep():
    times, depth = cosine_reps(3)
    gapped = depth.copy()
    # Lose the lifter for 0.7 s around the bottom of rep 2 (bottom at 5.0 s); they reappear
    # still deep in the rep (depth ~0.8), which must not resume or restart the lost rep.
    gapped[(times > 4.65) & (times < 5.35)] = np.nan
    reps = segment_reps(times, gapped, RepRules(max_gap_s=0.5))
    assert len(reps) == 2
    assert not any(4.0 < r.bottom_s < 6.0 for r in reps), reps
    # A short gap (below max_gap_s) is not an abort.
    short = depth.copy()
    short[(times > 4.9) & (times < 5.1)] = np.nan
    assert len(segment_reps(times, short, RepRules(max_gap_s=0.5))) == 3


def test_frame_phases_in_order():
    times, depth = cosine_reps(1)
    reps = segment_reps(times, depth)
    phases = frame_phases(times, depth, reps)
    assert len(phases) == len(times)
    runs = [p for i, p in enumerate(phases) if i == 0 or p != phases[i - 1]]
    assert runs == ["setup", "descent", "bottom", "ascent", "lockout"]
    assert phases[int(np.argmax(depth))] == "bottom"


def test_frame_phases_without_reps_is_all_setup():
    times, depth = cosine_reps(1, peak=0.3)
    assert set(frame_phases(times, depth, [])) == {"setup"}


def test_streaming_counter_matches_offline():
    times, depth = cosine_reps(4)
    depth = depth + np.random.default_rng(4).normal(0, 0.02, depth.size)
    depth[int(5.2 * FPS) : int(5.3 * FPS)] = np.nan
    counter = RepCounter()
    live: list[Rep] = []
    phases = []
    for t, d in zip(times, depth, strict=True):
        done = counter.update(float(t), None if np.isnan(d) else float(d))
        phases.append(counter.phase)
        if done is not None:
            assert done.end_s == pytest.approx(t)  # reported at the lockout frame
            live.append(done)
    offline = segment_reps(times, depth)
    assert len(offline) == 4
    assert live == offline
    assert counter.count == 4
    assert {"setup", "descent", "bottom", "ascent", "lockout"} <= set(phases)


# --------------------------------------------------------------------------- exercise


def bottom_frame(trunk: float, knee: float, pose: Pose | None = None) -> FrameAngles:
    lm = None
    if pose is not None:
        lm = np.column_stack([pose.landmarks, pose.visibility])
    return FrameAngles(
        t=1.0, pose=True, trunk_inclination_deg=trunk, knee_flexion_deg=knee, landmarks=lm
    )


def test_stoop_squat_index():
    assert stoop_squat_index(bottom_frame(80.0, 0.0)) == pytest.approx(100.0)
    assert stoop_squat_index(bottom_frame(0.0, 100.0)) == pytest.approx(0.0)
    assert stoop_squat_index(bottom_frame(60.0, 60.0)) == pytest.approx(50.0)
    assert stoop_squat_index(FrameAngles(t=0.0, pose=False)) is None


def test_detect_exercise_squat_vs_deadlift():
    squat = [
        bottom_frame(25.0, 110.0, side_pose(lean_deg=25, knee_deg=110)),
        bottom_frame(30.0, 105.0, side_pose(lean_deg=30, knee_deg=105)),
    ]
    kind, ssi = detect_exercise(squat)
    assert kind == "squat" and ssi < 25.0
    hinge_pose = side_pose(lean_deg=70, knee_deg=45)
    lm = hinge_pose.landmarks
    lm[[LM.LEFT_WRIST, LM.RIGHT_WRIST], 1] = lm[LM.LEFT_ANKLE, 1] - 0.3 * 120  # bar near the floor
    hinge = [bottom_frame(70.0, 45.0, hinge_pose), bottom_frame(75.0, 40.0, hinge_pose)]
    kind, ssi = detect_exercise(hinge)
    assert kind == "deadlift" and ssi > 50.0
    assert detect_exercise([]) == ("deadlift", None)


# --------------------------------------------------------------------------- assess


def rep_frames(
    lumbar: np.ndarray,
    depth: np.ndarray,
    hip: np.ndarray | None = None,
    bend: np.ndarray | None = None,
) -> list[FrameAngles]:
    """Frames of one rep. Unless given, the back's bow follows lumbar flexion (a back that
    flexes 15 degrees beyond neutral bows ~25 degrees outward)."""
    times = np.arange(lumbar.size) / FPS
    hip = np.linspace(0, 80, lumbar.size) if hip is None else hip
    bend = lumbar * 1.6 + 1.0 if bend is None else bend
    return [
        FrameAngles(
            t=float(t),
            pose=True,
            lumbar_flexion_deg=None if np.isnan(lv) else float(lv),
            hip_flexion_deg=float(h),
            back_bend_deg=None if np.isnan(bv) else float(bv),
        )
        for t, lv, h, bv in zip(times, lumbar, hip, bend, strict=True)
    ]


def one_rep(n_frames: int = 90) -> tuple[Rep, np.ndarray]:
    """A 3 s rep, bottom at 1.5 s; depth 0 -> 1 -> 0."""
    depth = 0.5 * (1 - np.cos(2 * math.pi * np.arange(n_frames) / n_frames))
    return Rep(1, 0.0, 1.5, (n_frames - 1) / FPS, 1.0), depth


RULE = RoundingRule(threshold_deg=15.0, min_duration_s=0.2, loaded_depth=0.45)


def test_sustained_loaded_flexion_is_rounding():
    rep, depth = one_rep()
    lumbar = np.where(depth > 0.7, 22.0, 4.0)  # ~0.7 s above threshold at the bottom
    a = assess_rep(rep, rep_frames(lumbar, depth), depth, RULE)
    assert a.rounding
    codes = [f.code for f in a.findings]
    assert codes.count("lumbar_rounding") == 1
    f = a.findings[codes.index("lumbar_rounding")]
    assert f.start_s < 1.5 < f.end_s
    assert f.severity in ("low", "medium", "high")
    assert a.max_lumbar_flexion_deg == pytest.approx(22.0)
    assert a.max_lumbar_t is not None and depth[round(a.max_lumbar_t * FPS)] > 0.7
    assert 0.0 < a.lumbar_share < 1.0


def test_a_rounding_cut_by_the_clip_start_is_judged_on_what_was_filmed():
    """A clip that starts mid-pull with the back rounded for 0.13 s (less than the 0.2 s hold)
    is rounded: what came before the cut was not seen. The same frames inside a running live
    session, or the same short rounding in the middle of a rep, are not enough."""
    n = 60
    depth = 0.5 * (1 + np.cos(math.pi * np.arange(n) / n))  # at the bottom at frame 0, then up
    rep = Rep(1, 0.0, 0.0, (n - 1) / FPS, 1.0)
    rounded = np.arange(n) < 4  # 0.13 s
    lumbar = np.where(rounded, 30.0, 10.0)
    bend = np.where(rounded, 40.0, 3.0)
    frames = rep_frames(lumbar, depth, bend=bend)
    cut = assess_rep(rep, frames, depth, RULE)
    assert cut.verdict.state == "rounded"
    assert cut.max_lumbar_flexion_deg == pytest.approx(30.0)
    live = assess_rep(rep, frames, depth, RULE, whole_clip=False)
    assert live.verdict.state == "flat"
    # Two frames against the cut are no more than a glitch.
    short = np.arange(n) < 2
    two = rep_frames(np.where(short, 30.0, 10.0), depth, bend=np.where(short, 40.0, 3.0))
    assert assess_rep(rep, two, depth, RULE).verdict.state == "flat"


def test_a_brief_rounding_inside_the_clip_needs_the_full_hold():
    rep, depth = one_rep()
    bottom = np.flatnonzero(depth > 0.9)
    brief = np.zeros(depth.size, dtype=bool)
    brief[bottom[0] : bottom[0] + 4] = True  # 0.13 s at the bottom
    frames = rep_frames(np.where(brief, 30.0, 10.0), depth, bend=np.where(brief, 40.0, 3.0))
    assert assess_rep(rep, frames, depth, RULE).verdict.state == "flat"
    held = np.zeros(depth.size, dtype=bool)
    held[bottom[0] : bottom[0] + 7] = True  # 0.23 s
    frames = rep_frames(np.where(held, 30.0, 10.0), depth, bend=np.where(held, 40.0, 3.0))
    assert assess_rep(rep, frames, depth, RULE).verdict.state == "rounded"


def test_severity_grows_with_the_peak():
    rep, depth = one_rep()
    sev = []
    for peak in (17.0, 22.0, 35.0):
        lumbar = np.where(depth > 0.7, peak, 0.0)
        a = assess_rep(rep, rep_frames(lumbar, depth), depth, RULE)
        sev.append(a.findings[0].severity)
    assert sev == ["low", "medium", "high"]


def test_flat_back_that_loses_lordosis_is_not_rounding():
    """Lumbar flexion beyond neutral (lordosis lost) but a straight back outline: a good hinge."""
    rep, depth = one_rep()
    lumbar = np.where(depth > 0.7, 25.0, 4.0)
    a = assess_rep(rep, rep_frames(lumbar, depth, bend=np.full(depth.size, 3.0)), depth, RULE)
    assert not a.rounding
    assert a.max_back_bend_deg == pytest.approx(3.0)


def test_bowed_outline_without_lumbar_flexion_is_not_rounding():
    """A convex outline with the lower back at neutral (e.g. a bulky upper back) is not flagged."""
    rep, depth = one_rep()
    lumbar = np.full(depth.size, 5.0)
    a = assess_rep(rep, rep_frames(lumbar, depth, bend=np.full(depth.size, 40.0)), depth, RULE)
    assert not a.rounding


def test_rounding_counts_only_at_the_bottom():
    """A rounded back only while descending (before the bottom) is not the loaded moment."""
    rep, depth = one_rep()
    early = (depth > 0.45) & (depth < 0.8) & (np.arange(depth.size) < 45)
    lumbar = np.where(early, 30.0, 2.0)
    a = assess_rep(rep, rep_frames(lumbar, depth), depth, RULE)
    assert not a.rounding


def test_one_frame_spike_is_not_rounding():
    rep, depth = one_rep()
    lumbar = np.full(depth.size, 4.0)
    lumbar[45] = 40.0
    a = assess_rep(rep, rep_frames(lumbar, depth), depth, RULE)
    assert not a.rounding
    assert "lumbar_rounding" not in [f.code for f in a.findings]


def test_flexion_only_while_standing_is_not_rounding():
    rep, depth = one_rep()
    lumbar = np.where(depth < 0.2, 30.0, 3.0)  # flexed at the top of the rep, flat when loaded
    a = assess_rep(rep, rep_frames(lumbar, depth), depth, RULE)
    assert not a.rounding
    assert a.max_lumbar_flexion_deg == pytest.approx(3.0)


def test_unmeasured_spine_is_reported_not_flagged():
    rep, depth = one_rep()
    lumbar = np.full(depth.size, np.nan)
    a = assess_rep(rep, rep_frames(lumbar, depth), depth, RULE)
    assert not a.rounding and a.max_lumbar_flexion_deg is None
    assert [f.code for f in a.findings] == ["spine_unmeasured"]


def test_set_reports_fatigue_when_early_reps_were_clean():
    assessed = []
    for i, peak in enumerate((5.0, 6.0, 25.0, 28.0)):
        rep, depth = one_rep()
        rep = Rep(i + 1, rep.start_s, rep.bottom_s, rep.end_s, 1.0)
        lumbar = np.where(depth > 0.7, peak, 0.0)
        assessed.append(assess_rep(rep, rep_frames(lumbar, depth), depth, RULE))
    findings = assess_set(assessed)
    fatigue = [f for f in findings if f.code == "fatigue_rounding"]
    assert len(fatigue) == 1
    assert "Rounding began at rep 3" in fatigue[0].message


def test_no_fatigue_when_the_first_rep_already_rounded():
    rep, depth = one_rep()
    bad = assess_rep(rep, rep_frames(np.where(depth > 0.7, 25.0, 0.0), depth), depth, RULE)
    assert not [f for f in assess_set([bad, bad, bad]) if f.code == "fatigue_rounding"]
    assert assess_set([]) == []


# --------------------------------------------------------------------------- report

CONTRACT = {
    "video": {"fps", "frames", "width", "height", "duration_s"},
    "view": {"kind", "facing", "confidence"},
    "frame": {"t", "pose", *ANGLE_NAMES},
    "rep": {
        "index",
        "start_s",
        "bottom_s",
        "end_s",
        "max_lumbar_flexion_deg",
        "max_hip_flexion_deg",
        "lumbar_share",
        "rounding",
        "findings",
    },
    "finding": {"code", "start_s", "end_s", "severity", "message"},
    "summary": {"exercise", "rep_count", "rounded_reps", "rounding", "messages"},
    "top": {"schema", "video", "view", "neutral", "frames", "reps", "summary"},
}


def synthetic_observations() -> tuple[VideoInfo, list[Observation]]:
    """Two hinge reps seen from the side (facing right), standing at the start, between and at
    the end, with a few frames where the pose was lost. Back shapes are given directly: flat
    while standing, rounding by 25 degrees at the bottom of rep 2."""
    times, depth = cosine_reps(2, rep_s=2.0, pause_s=1.0, lead_s=1.0, tail_s=1.0)
    lost = set(range(8, 12))
    obs = []
    for i, (t, d) in enumerate(zip(times, depth, strict=True)):
        if i in lost:
            obs.append(Observation(float(t), None, None, {}))
            continue
        lean = 80.0 * d
        pose = side_pose(lean_deg=lean, knee_deg=25.0 * d)
        bend = 25.0 * d if t > 3.5 else 0.0
        pelvis = lean - 55.0 * d  # the hips give most of the lean
        back = BackShape(
            outline=np.array([[300.0, 250.0 - k] for k in range(10)]),
            pelvis_incl=pelvis,
            thoracolumbar_incl=pelvis + bend - 10.0,
            upper_thoracic_incl=pelvis + bend - 2.0,
            confidence=0.95,
            back_bend=-5.0 + 1.6 * bend,  # the outline bows outward as the back rounds
        )
        obs.append(Observation(float(t), pose, frame_view(pose), {1: back, -1: None}))
    info = VideoInfo("synthetic.mp4", W, H, FPS, len(obs), len(obs) / FPS, 0, "h264")
    return info, obs


@pytest.fixture(scope="module")
def synthetic_analysis():
    info, obs = synthetic_observations()
    return analyze_observations(info, obs, AnalysisOptions(spine=SpineParams()))


def test_a_low_confidence_verdict_is_told_as_likely(synthetic_analysis):
    sure = " ".join(summary_messages(synthetic_analysis, Verdict("rounded", 0.9)))
    unsure = " ".join(summary_messages(synthetic_analysis, Verdict("rounded", 0.3)))
    assert "Lower back rounded in rep(s) 2" in sure
    assert "probably" not in sure and "low confidence" not in sure
    assert "Lower back probably rounded in rep(s) 2" in unsure and "low confidence" in unsure


def test_the_cli_summary_hedges_a_low_confidence_verdict(synthetic_analysis):
    report = build_report(synthetic_analysis)
    assert report["summary"]["verdict"] == "rounded"
    for level, words in (("high", "back rounded"), ("low", "back probably rounded")):
        report["summary"]["confidence_level"] = level
        for rep in report["reps"]:
            rep["confidence_level"] = level
        head, *lines = human_summary("clip.mp4", report).splitlines()
        assert head.endswith(words), head
        flagged = [line for line in lines if line.endswith("ROUNDED")]
        assert flagged and all(("probably" in line) is (level == "low") for line in flagged)


def test_report_follows_the_contract(synthetic_analysis):
    report = build_report(synthetic_analysis)
    json.dumps(report, allow_nan=False)  # plain JSON, no NaN
    assert CONTRACT["top"] <= set(report)
    assert report["schema"] == "formcheck.report/1"
    assert CONTRACT["video"] <= set(report["video"])
    assert report["video"]["frames"] == len(synthetic_analysis.frames) == 210
    assert (report["video"]["width"], report["video"]["height"]) == (W, H)
    assert CONTRACT["view"] <= set(report["view"])
    assert report["view"]["kind"] == "side" and report["view"]["facing"] == "right"
    assert isinstance(report["neutral"], dict)
    assert report["neutral"]["source"] == "standing"
    for f in report["frames"]:
        assert CONTRACT["frame"] <= set(f)
        assert isinstance(f["pose"], bool)
        if not f["pose"]:
            assert all(f[name] is None for name in ANGLE_NAMES)
        else:
            assert isinstance(f["trunk_inclination_deg"], float)
    assert [f["pose"] for f in report["frames"][8:12]] == [False] * 4
    assert report["frames"][20]["pose"] is True
    assert len(report["reps"]) == 2
    for r in report["reps"]:
        assert CONTRACT["rep"] <= set(r)
        assert isinstance(r["rounding"], bool)
        assert r["start_s"] <= r["bottom_s"] <= r["end_s"]
        for finding in r["findings"]:
            assert CONTRACT["finding"] <= set(finding)
    s = report["summary"]
    assert CONTRACT["summary"] <= set(s)
    assert s["rep_count"] == 2
    assert s["exercise"] in exercises.names() and s["exercise"] != "squat"  # a hinge
    assert all(isinstance(m, str) for m in s["messages"])


def test_report_finds_rounding_in_the_second_rep(synthetic_analysis):
    report = build_report(synthetic_analysis)
    reps = report["reps"]
    assert [r["rounding"] for r in reps] == [False, True]
    assert reps[1]["max_lumbar_flexion_deg"] == pytest.approx(25.0, abs=3.0)
    assert reps[0]["max_lumbar_flexion_deg"] == pytest.approx(0.0, abs=3.0)
    s = report["summary"]
    assert s["rounded_reps"] == 1 and s["rounding"] is True
    assert any("Rounding began at rep 2" in m for m in s["messages"])


def test_csv_has_one_row_per_frame(synthetic_analysis, tmp_path):
    path = tmp_path / "angles.csv"
    write_csv(synthetic_analysis, path)
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) - 1 == len(synthetic_analysis.frames)
    col = {name: i for i, name in enumerate(rows[0])}
    lost = rows[1 + 9]
    assert lost[col["pose"]] == "0" and lost[col["lumbar_flexion_deg"]] == ""
    assert rows[1 + 30][col["pose"]] == "1" and rows[1 + 30][col["trunk_inclination_deg"]] != ""
    assert [float(r[col["t"]]) for r in rows[1:]] == sorted(float(r[col["t"]]) for r in rows[1:])


# --------------------------------------------------------------------------- people in view


def _person(area: float) -> Person:
    return Person(score=0.9, area=area, hip=np.zeros(2), shoulder=np.zeros(2))


def test_count_people_leaves_out_someone_far_in_the_background():
    assert count_people([]) == 0
    assert count_people([_person(0.20)]) == 1
    assert count_people([_person(0.20), _person(0.03)]) == 1
    assert count_people([_person(0.03), _person(0.20)]) == 1
    assert count_people([_person(0.20), _person(0.15)]) == 2


def test_two_people_in_most_checked_frames_is_refused():
    info, obs = synthetic_observations()
    crowded = [replace(o, people=2 if i % 6 == 5 else None) for i, o in enumerate(obs)]
    with pytest.raises(CrowdError, match="more than one person"):
        analyze_observations(info, crowded, AnalysisOptions(spine=SpineParams()))


def test_a_second_person_passing_by_is_tolerated():
    info, obs = synthetic_observations()
    checked = [i for i in range(len(obs)) if i % 6 == 5]
    passing = set(checked[: len(checked) // 4])
    seen = [
        replace(o, people=(2 if i in passing else 1) if i % 6 == 5 else None)
        for i, o in enumerate(obs)
    ]
    analysis = analyze_observations(info, seen, AnalysisOptions(spine=SpineParams()))
    assert len(analysis.reps) == 2
