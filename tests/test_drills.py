"""Hip-mobility drills' geometry on hand-built landmarks: 90/90 hip rotation, fire-hydrant
abduction and roll, frog-squat abduction and knee spread (renders and MediaPipe are in
test_drills_render.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from formcheck.exercises import fire_hydrant, frog_squat, ninety_legs, ninety_ninety
from formcheck.exercises.registry import ExerciseFrame
from formcheck.reps import Rep


def _rot(axis: np.ndarray, deg: float) -> np.ndarray:
    a = axis / np.linalg.norm(axis)
    k = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    r = np.radians(deg)
    return np.eye(3) + np.sin(r) * k + (1 - np.cos(r)) * k @ k


# MediaPipe world axes: x to the picture's right, y down, z away from the camera. A lifter
# facing the camera: their left is +x, up is -y, forward is -z.
LEFT, UP, FORWARD = np.array([1.0, 0, 0]), np.array([0, -1.0, 0]), np.array([0, 0, -1.0])


def _seated(rot_left: float, rot_right: float) -> np.ndarray:
    """World landmarks of a seated body, both thighs straight forward, knees at 90 deg, each hip
    turned by its angle (+ external: the foot towards the midline)."""
    w = np.zeros((33, 3))
    w[23], w[24] = 0.1 * LEFT, -0.1 * LEFT
    w[11], w[12] = w[23] + 0.5 * UP, w[24] + 0.5 * UP
    for hip, knee, ankle, rot, medial in (
        (23, 25, 27, rot_left, -LEFT),
        (24, 26, 28, rot_right, LEFT),
    ):
        w[knee] = w[hip] + 0.45 * FORWARD
        # External rotation turns the shin from straight down towards the midline.
        r = np.radians(rot)
        w[ankle] = w[knee] + 0.4 * (np.cos(r) * -UP + np.sin(r) * medial)
    return w


@pytest.mark.parametrize("left,right", [(0.0, 0.0), (45.0, 30.0), (-35.0, 60.0), (90.0, -20.0)])
def test_ninety_ninety_hip_rotation_is_external_towards_the_midline(left, right) -> None:
    m = ninety_ninety.frame_measures(ExerciseFrame(0.0, world=_seated(left, right)))
    assert m["rot_left"] == pytest.approx(left, abs=1e-6)
    assert m["rot_right"] == pytest.approx(right, abs=1e-6)
    assert m["lean"] == pytest.approx(0.0, abs=1e-6)


def test_ninety_ninety_front_leg_and_switch_signal() -> None:
    w = _seated(45.0, 0.0)
    # The right thigh swung out to the side: the left leg is in front.
    w[26] = w[24] - 0.45 * LEFT
    w[28] = w[26] + 0.4 * -FORWARD
    m = ninety_ninety.frame_measures(ExerciseFrame(0.0, world=w))
    assert m["fwd_left"] == pytest.approx(1.0) and m["fwd_right"] == pytest.approx(0.0, abs=1e-9)
    arrays = {k: np.array([v, v]) for k, v in m.items()}
    arrays.update(ninety_ninety.held_front(arrays))
    assert arrays["front_left"] == pytest.approx(1.0) and np.isnan(arrays["front_right"])
    assert ninety_ninety.switch_of(arrays, ninety_ninety.RULES) == pytest.approx([0.0, 0.0])
    pos = ninety_ninety.position(arrays, np.array([True, True]))
    assert pos["side"] == "left" and pos["er"] == pytest.approx(45.0)
    # The back (right) leg's shin points backwards from a thigh out to the side: 90 deg of
    # internal rotation by this definition.
    assert pos["ir"] == pytest.approx(90.0)


def test_ninety_ninety_counts_a_switch_only_when_the_front_leg_changes() -> None:
    """A switch is the thighs' forwardness changing sign. The signal rising and falling with the
    same leg in front (a start position read halfway, say) is not one."""
    times = np.arange(0.0, 4.0, 0.1)
    front_left = np.where(times < 2.0, 0.3, -0.3)  # left in front, then right
    m = {"fwd_left": front_left, "fwd_right": np.zeros_like(times)}
    real = Rep(1, 1.5, 2.0, 2.5, 1.0)
    assert ninety_ninety.switched(real, m, times)
    same = {"fwd_left": np.full_like(times, 0.3), "fwd_right": np.zeros_like(times)}
    assert not ninety_ninety.switched(Rep(1, 0.0, 0.3, 0.7, 0.5), same, times)
    # Where the legs cannot be seen either side, the rep stands.
    unseen = {"fwd_left": np.full_like(times, np.nan), "fwd_right": np.zeros_like(times)}
    assert ninety_ninety.switched(real, unseen, times)


def test_ninety_ninety_position_leaves_out_hips_read_turned_the_wrong_way() -> None:
    """A front hip read as turned in, or a back hip as turned out (MediaPipe swapped or lost a
    leg), is no 90/90: such frames are left out, and a position made mostly of them is not
    judged rather than called stiff."""
    n = 10
    er = np.full(n, 45.0)
    ir = np.full(n, 35.0)
    er[:3] = -30.0  # three frames read wrong
    m = {
        "fwd_left": np.full(n, 0.4),
        "fwd_right": np.zeros(n),
        "rot_left": er,
        "rot_right": -ir,
        "lean": np.zeros(n),
        "elev": np.full(n, 10.0),
    }
    sel = np.ones(n, bool)
    pos = ninety_ninety.position(m, sel)
    assert pos["side"] == "left" and pos["clear"]
    assert pos["er"] == pytest.approx(45.0) and pos["ir"] == pytest.approx(35.0)
    m["rot_left"] = np.where(np.arange(n) < 7, -30.0, 45.0)  # most frames wrong
    pos = ninety_ninety.position(m, sel)
    assert not pos["clear"] and pos["er"] is None and pos["ir"] is None
    # Unseen legs are not "unclear": there is nothing to judge.
    m["rot_left"] = np.full(n, np.nan)
    assert ninety_ninety.position(m, sel)["clear"]


@pytest.mark.parametrize("lean", [0.0, 10.0, 25.0])
def test_ninety_ninety_rebuilt_depth_follows_the_trunks_lean(lean) -> None:
    # Left leg in front (turned out 40 deg), the right thigh out to the side, its shin back;
    # the whole body leant back by `lean`, pictured straight on at 200 px per metre.
    w = _seated(40.0, 0.0)
    w[26] = w[24] - 0.45 * LEFT
    w[28] = w[26] + 0.4 * -FORWARD
    w = w @ _rot(LEFT, -lean).T
    px = 200.0 * w[:, :2] + 300.0
    trunk = 0.5 * np.cos(np.radians(lean))  # the trunk's length in the picture, in metres
    lengths = (0.45 / trunk, 0.4 / trunk)
    m = ninety_ninety.frame_measures(ExerciseFrame(0.0, landmarks=px, world=w), lengths)
    assert m["lean"] == pytest.approx(lean)
    assert m["rot_left"] == pytest.approx(40.0, abs=1e-6)
    assert m["rot_right"] == pytest.approx(-90.0, abs=1e-6)
    # Forwardness is read against the upright pelvis: the front thigh rises with the lean.
    assert m["fwd_left"] == pytest.approx(np.cos(np.radians(lean)))
    assert m["fwd_right"] == pytest.approx(0.0, abs=1e-9)


def test_ninety_ninety_without_world_landmarks_is_unmeasured() -> None:
    m = ninety_ninety.frame_measures(ExerciseFrame(0.0))
    assert all(np.isnan(v) for v in m.values())


def _pictured(thigh: float, shin: float) -> ExerciseFrame:
    """Picture landmarks, trunk 100 px upright; both thighs `thigh`, both shins `shin` trunks."""
    p = np.zeros((33, 2))
    p[23], p[24] = (60.0, 200.0), (40.0, 200.0)
    p[11], p[12] = (60.0, 100.0), (40.0, 100.0)
    for hip, knee, ankle in ((23, 25, 27), (24, 26, 28)):
        p[knee] = p[hip] + (0.0, 100.0 * thigh)
        p[ankle] = p[knee] + (100.0 * shin, 0.0)
    return ExerciseFrame(0.0, landmarks=p)


def test_ninety_ninety_segment_lengths_from_the_clip_or_the_prior() -> None:
    lengths = ninety_legs.picture_lengths(_pictured(0.7, 0.9))
    assert lengths.ravel() == pytest.approx([0.7, 0.7, 0.9, 0.9])
    few = [ninety_legs.picture_lengths(_pictured(0.5, 0.5))] * (ninety_legs.MIN_FRAMES - 1)
    assert ninety_legs.segment_lengths(few) == ninety_legs.PRIOR
    # Foreshortened frames read short; the high percentile reads the in-plane length.
    clip = [_pictured(0.5 + 0.03 * i, 0.6 + 0.03 * i) for i in range(11)]
    thigh, shin = ninety_legs.segment_lengths(ninety_legs.picture_lengths(f) for f in clip)
    assert thigh == pytest.approx(0.8, abs=0.02) and shin == pytest.approx(0.9, abs=0.02)
    learnt = ninety_ninety.LearntLengths()
    for f in clip:
        learnt.measure(f)
    assert ninety_legs.segment_lengths(learnt.pictured) == pytest.approx((thigh, shin))


def _seen_from(elevation_deg: float, drop: float) -> np.ndarray:
    """Rebuilt landmarks (x right, y down, z away; trunk 100 long) of a person seated facing the
    camera, seen from `elevation_deg` above: the ankles `drop` trunks below the hip centre, one
    foot in front and out to the side, the other out to the side and back."""
    e = np.radians(elevation_deg)
    # World: x right, y up, z towards the camera. Camera frame: the world turned about x.
    to_cam = np.array(
        [[1.0, 0.0, 0.0], [0.0, -np.cos(e), np.sin(e)], [0.0, -np.sin(e), -np.cos(e)]]
    )
    world = {
        23: (10.0, 0.0, 0.0),
        24: (-10.0, 0.0, 0.0),
        11: (18.0, 100.0, 0.0),
        12: (-18.0, 100.0, 0.0),
        27: (60.0, -100.0 * drop, 70.0),
        28: (-80.0, -100.0 * drop, -30.0),
    }
    p = np.zeros((33, 3))
    for i, w in world.items():
        p[i] = to_cam @ np.asarray(w)
    return p - p[[23, 24]].mean(0)


@pytest.mark.parametrize("elevation", [0.0, 12.0, 30.0])
def test_ninety_ninety_reads_how_far_the_camera_looks_down(elevation) -> None:
    drop = ninety_legs.ANKLE_DROP
    p = _seen_from(elevation, drop)
    assert ninety_legs.camera_elevation(p) == pytest.approx(elevation, abs=1.0)
    # Ankles higher than the prior (feet up on their heels) read the camera a little low.
    assert ninety_legs.camera_elevation(_seen_from(elevation, drop - 0.05)) < elevation
    rules = ninety_ninety.RULES
    assert ninety_ninety.camera_too_high(elevation, rules) == (elevation > 20.0)
    assert not ninety_ninety.camera_too_high(None, rules)


def test_ninety_ninety_ranges_in_words_name_only_what_was_read() -> None:
    (words,) = ninety_ninety.range_words(
        {"left": 52.4, "right": None}, {"left": 31.0, "right": 18.6}
    )
    assert "turned out: left 52 degrees (usual 40-60)" in words
    assert "turned in: left 31, right 19 degrees (usual 30-40)" in words
    assert "right 52" not in words and "tilted down" in words
    none = {"left": None, "right": None}
    assert ninety_ninety.range_words(none, none) == []


def _quadruped(abd_left: float, abd_right: float, roll: float = 0.0) -> np.ndarray:
    """Picture landmarks seen from behind: the lifter's left on the picture's left; hips 100 px
    apart rolled by `roll` (+ left side up), thighs 150 px long hanging down, abducted."""
    p = np.zeros((33, 3))
    r = np.radians(roll)
    across = np.array([np.cos(r), np.sin(r)])  # left -> right, + roll lifts the left
    centre = np.array([320.0, 200.0])
    p[23, :2], p[24, :2] = centre - 50 * across, centre + 50 * across
    p[11, :2], p[12, :2] = p[23, :2] + [0, -20], p[24, :2] + [0, -20]  # rolled with the hips
    for hip, knee, a, sign in ((23, 25, abd_left, -1.0), (24, 26, abd_right, 1.0)):
        t = np.radians(a)
        p[knee, :2] = p[hip, :2] + 150 * np.array([sign * np.sin(t), np.cos(t)])
    return p


def test_fire_hydrant_abduction_and_trunk_roll_in_the_picture() -> None:
    m = fire_hydrant.frame_measures(ExerciseFrame(0.0, landmarks=_quadruped(40.0, 2.0, 8.0)))
    assert m["abd_left"] == pytest.approx(40.0, abs=1e-6)
    assert m["abd_right"] == pytest.approx(2.0, abs=1e-6)
    assert m["shoulder_roll"] == pytest.approx(8.0, abs=1e-6)
    # Mirrored (filmed from the front: the lifter's left on the picture's right): the same.
    mirrored = _quadruped(40.0, 2.0, 8.0)
    mirrored[:, 0] = 640 - mirrored[:, 0]
    m = fire_hydrant.frame_measures(ExerciseFrame(0.0, landmarks=mirrored))
    assert m["abd_left"] == pytest.approx(40.0, abs=1e-6)
    assert m["shoulder_roll"] == pytest.approx(8.0, abs=1e-6)


def test_fire_hydrant_reads_each_lift_from_that_thighs_own_rest() -> None:
    # The left thigh rests 4 deg further in than the right in the picture (partly hidden from
    # the front); each leg lifts 12 deg from its own rest in turn, and while the right one is up
    # the left reads 3 deg further in still (the pelvis tipping with the lift).
    left_up = np.r_[np.zeros(20), np.ones(20), np.zeros(60)]
    right_up = np.r_[np.zeros(60), np.ones(20), np.zeros(20)]
    m = {
        "abd_left": -4.0 + 12.0 * left_up - 3.0 * right_up,
        "abd_right": 0.0 + 12.0 * right_up,
    }
    refs = fire_hydrant.resting_abduction(m)
    assert refs == {"rest_left": pytest.approx(-4.0), "rest_right": pytest.approx(0.0)}
    signal = fire_hydrant.lift_of({**m, **refs}, fire_hydrant.RULES)
    top = 12.0 / fire_hydrant.RULES["abduction_range_deg"]
    assert signal[30] == pytest.approx(top) and signal[70] == pytest.approx(top)
    assert signal[10] == pytest.approx(0.0) and signal[50] == pytest.approx(0.0)
    # A thigh never seen has no rest (and no warning about it).
    unseen = {**m, "abd_right": np.full_like(m["abd_right"], np.nan)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        refs = fire_hydrant.resting_abduction(unseen)
    assert np.isnan(refs["rest_right"]) and refs["rest_left"] == pytest.approx(-4.0)


def test_frog_squat_abduction_and_knee_spread() -> None:
    w = np.zeros((33, 3))
    w[23], w[24] = 0.1 * LEFT, -0.1 * LEFT
    w[11], w[12] = w[23] + 0.5 * UP, w[24] + 0.5 * UP
    for hip, knee, sign in ((23, 25, 1.0), (24, 26, -1.0)):
        w[knee] = w[hip] + 0.45 * (_rot(UP, sign * 30.0) @ FORWARD)
    # The picture: the same body seen from the front, 400 px per metre, y down.
    px = np.zeros((33, 3))
    px[:, 0], px[:, 1] = 320 + 400 * w[:, 0], 300 + 400 * w[:, 1]
    m = frog_squat.frame_measures(ExerciseFrame(0.0, landmarks=px, world=w))
    assert m["abduction"] == pytest.approx(30.0, abs=1e-6)
    spread = (0.2 + 2 * 0.45 * np.sin(np.radians(30.0))) / 0.2
    assert m["spread"] == pytest.approx(spread)
    assert np.isnan(m["hip"])  # a front view does not show the bend
