"""Pose stage: RGB frames in, `Pose` out, using MediaPipe's legacy BlazePose (Full model).

In:  RGB uint8 images (any size; downscaled to `max_side` for inference), optionally already
     downscaled by the decoder (then give the full frame size) and the frame's index.
Out: `Pose` with landmarks in full-frame pixels and the person mask at inference resolution,
     or None when no person is found.
Tracking is checked every `verify_every` frames by a fresh person detection, counted by the index
the caller gives (the keyframe number in a video, so a video analysed in chunks is checked on the
same frames as a serial run).
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass

import cv2
import numpy as np

from . import posemodels
from .pose import Pose

os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@dataclass
class EstimatorConfig:
    """How BlazePose runs. `model` lite | full | heavy: Full ships in the wheel, Lite and Heavy
    come from `formcheck models install` (see `formcheck.posemodels`)."""

    max_side: int = 640
    model: str = "full"
    segmentation: bool = True
    tracking: bool = True
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    # Tracking can lock onto a wrong pose (plates over the legs, a deep bend). Every
    # `verify_every` frames a fresh detection checks it; on disagreement the tracker restarts.
    verify_every: int = 6
    max_disagreement: float = 0.2
    # "detection": the person detector alone (hip and shoulder centres, ~1/3 the cost and memory
    # of a second landmark graph); "landmarks": a full static landmark run (also checks knees).
    verify: str = "detection"
    # Threads of the neural-network runtime (XNNPACK) per graph; 2 on an idle 2-core machine
    # runs ~1.6x faster, 1 leaves a core to other work (live sessions, other analyses).
    threads: int = 1


_CHECK_POINTS = (11, 12, 23, 24, 25, 26)
# A second person whose box is at least this share of the largest one's counts as another lifter
# in view rather than someone in the background.
PEER_AREA_RATIO = 0.35
# The detection graph: the BlazePose person detector alone. Its keypoints 0 and 2 are the hip and
# shoulder centres.
_DETECTION_GRAPH = """
input_stream: "image"
output_stream: "detections"
node {
  calculator: "PoseDetectionCpu"
  input_stream: "IMAGE:image"
  output_stream: "DETECTIONS:detections"
}
"""


def _trunk(lm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return lm[[23, 24]].mean(0), lm[[11, 12]].mean(0)


def disagreement(a: Pose, b: Pose) -> float:
    """Mean distance of shoulders, hips and knees between two poses, in trunk lengths."""
    hip, shoulder = _trunk(a.landmarks)
    trunk = np.linalg.norm(shoulder - hip)
    dist = np.linalg.norm(
        a.landmarks[list(_CHECK_POINTS)] - b.landmarks[list(_CHECK_POINTS)], axis=1
    )
    return float(dist.mean() / max(trunk, 1.0))


def centre_disagreement(pose: Pose, hip: np.ndarray, shoulder: np.ndarray) -> float:
    """Mean distance of the hip and shoulder centres from detected ones, in trunk lengths."""
    p_hip, p_shoulder = _trunk(pose.landmarks)
    trunk = np.linalg.norm(p_shoulder - p_hip)
    dist = np.linalg.norm(p_hip - hip) + np.linalg.norm(p_shoulder - shoulder)
    return float(0.5 * dist / max(trunk, 1.0))


def _graph_class(threads: int):
    """`mp.solutions.pose.Pose` whose inference runs on `threads` XNNPACK threads."""
    import mediapipe as mp
    from mediapipe.calculators.tensor import inference_calculator_pb2

    ext = inference_calculator_pb2.InferenceCalculatorOptions.ext

    class ThreadedPose(mp.solutions.pose.Pose):
        def _modify_calculator_options(self, config, params) -> None:
            super()._modify_calculator_options(config, params)
            _set_threads(config, ext, threads)

    return ThreadedPose


def _set_threads(config, ext, threads: int) -> None:
    for node in config.node:
        if node.calculator.startswith("InferenceCalculator"):
            node.options.Extensions[ext].delegate.xnnpack.num_threads = threads


@dataclass
class Person:
    """One person the detector found: score, box area (share of the image), and the hip and
    shoulder centres in the pixels of the image it was given."""

    score: float
    area: float
    hip: np.ndarray
    shoulder: np.ndarray


def count_people(people: list[Person], min_area_ratio: float = PEER_AREA_RATIO) -> int:
    """People of comparable size to the largest one (someone far in the background is left
    out)."""
    if not people:
        return 0
    largest = max(p.area for p in people)
    return sum(1 for p in people if p.area >= min_area_ratio * largest)


class Detector:
    """The BlazePose person detector alone: RGB image -> every `Person` found.
    Thread-safe, so several trackers (chunks of one video) can share it."""

    def __init__(self, threads: int, min_score: float) -> None:
        from google.protobuf import text_format
        from mediapipe.calculators.tensor import inference_calculator_pb2
        from mediapipe.framework import calculator_pb2
        from mediapipe.python.solution_base import SolutionBase

        config = text_format.Parse(_DETECTION_GRAPH, calculator_pb2.CalculatorGraphConfig())
        ext = inference_calculator_pb2.InferenceCalculatorOptions.ext

        class Graph(SolutionBase):
            def _modify_calculator_options(self, cfg, params) -> None:
                super()._modify_calculator_options(cfg, params)
                _set_threads(cfg, ext, threads)

        self._lock = threading.Lock()
        self._graph = Graph(
            graph_config=config,
            calculator_params={
                "posedetectioncpu__TensorsToDetectionsCalculator.min_score_thresh": min_score
            },
        )

    def preload(self, shape: tuple[int, ...]) -> None:
        """Load the model now, on a blank image of `shape` (the graph keeps no state between
        images, so later results do not change)."""
        with self._lock:
            self._graph.process(np.zeros(shape, np.uint8))

    def __call__(self, image: np.ndarray) -> list[Person]:
        """Every person found."""
        with self._lock:
            found = self._graph.process(image).detections or []
        h, w = image.shape[:2]
        people = []
        for d in found:
            kp = d.location_data.relative_keypoints
            box = d.location_data.relative_bounding_box
            people.append(
                Person(
                    score=d.score[0] if d.score else 0.0,
                    area=box.width * box.height,
                    hip=np.array([kp[0].x * w, kp[0].y * h]),
                    shoulder=np.array([kp[2].x * w, kp[2].y * h]),
                )
            )
        return people

    def close(self) -> None:
        self._graph.close()


class PoseEstimator:
    """Wraps `mp.solutions.pose.Pose`; one instance per video stream (it tracks across frames)."""

    def __init__(
        self, config: EstimatorConfig | None = None, detector: Detector | None = None
    ) -> None:
        """detector: a shared `Detector` for verification (not closed here); one of its own
        is made when needed and none is given."""
        logging.getLogger("absl").setLevel(logging.ERROR)
        self.config = config or EstimatorConfig()
        if self.config.verify not in ("detection", "landmarks"):
            raise ValueError(f"unknown verify mode {self.config.verify!r}")
        if self.config.model != "full":
            posemodels.require(self.config.model)
        self._pose = self._make(static=not self.config.tracking)
        self._detector = None
        self._own_detector = False
        self._landmarker = None
        if self.config.tracking and self.config.verify_every > 0:
            if self.config.verify == "detection":
                self._own_detector = detector is None
                self._detector = detector or Detector(
                    self.config.threads, self.config.min_detection_confidence
                )
            else:
                self._landmarker = self._make(static=True, segmentation=False)
        self._count = 0
        self._blank: np.ndarray | None = None
        self._loading: threading.Thread | None = None
        self.restarts = 0
        # People of comparable size the last verification saw; None on frames not verified.
        self.people: int | None = None

    def _make(self, static: bool, segmentation: bool | None = None):
        seg = self.config.segmentation if segmentation is None else segmentation
        return _graph_class(max(1, self.config.threads))(
            static_image_mode=static,
            model_complexity=posemodels.COMPLEXITY[self.config.model],
            smooth_landmarks=not static,
            enable_segmentation=seg,
            smooth_segmentation=seg and not static,
            min_detection_confidence=self.config.min_detection_confidence,
            min_tracking_confidence=self.config.min_tracking_confidence,
        )

    def preload(self, shape: tuple[int, ...]) -> None:
        """Start loading the models in the background, on a blank image of `shape` (the
        inference size), so the ~0.1 s the first frame would wait for runs while the caller
        opens and decodes its video. The next call waits for it. A blank frame leaves the
        tracker as a new one (see `_restart`), so results do not change."""
        if self._loading is None:
            blank = np.zeros(shape, np.uint8)
            self._loading = threading.Thread(
                target=self._pose.process, args=(blank,), name="formcheck-preload", daemon=True
            )
            self._loading.start()

    def _loaded(self) -> None:
        if self._loading is not None:
            self._loading.join()
            self._loading = None

    def __call__(
        self,
        image: np.ndarray,
        full_size: tuple[int, int] | None = None,
        index: int | None = None,
    ) -> Pose | None:
        """Detect the pose in one RGB frame.

        full_size: (width, height) of the original frame when `image` is already downscaled;
        landmarks are returned in its pixels. index: the frame's position among the frames this
        tracker is given in a video (it decides which frames are verified); a running count
        when None.
        """
        h, w = image.shape[:2]
        size = full_size or (w, h)
        small = image
        longest = max(h, w)
        if self.config.max_side and longest > self.config.max_side:
            scale = self.config.max_side / longest
            dims = (max(1, round(w * scale)), max(1, round(h * scale)))
            small = cv2.resize(image, dims, interpolation=cv2.INTER_AREA)
        small = np.ascontiguousarray(small)
        self._loaded()
        pose = Pose.from_mediapipe(self._pose.process(small), size)
        position = self._count if index is None else index
        self._count += 1
        self.people = None
        every = self.config.verify_every
        if every > 0 and position % every == every - 1:
            pose = self._verify(small, size, pose)
        return pose

    def _verify(self, small: np.ndarray, size: tuple[int, int], pose: Pose | None) -> Pose | None:
        """Check the tracked pose against a fresh detection; restart tracking if they disagree."""
        if self._landmarker is not None:
            fresh = Pose.from_mediapipe(self._landmarker.process(small), size)
            if fresh is not None and (
                pose is None or disagreement(pose, fresh) > self.config.max_disagreement
            ):
                return self._restart(small, size) or fresh
            return pose
        if self._detector is None:
            return pose
        people = self._detector(small)
        self.people = count_people(people)
        if not people:
            return pose
        scale = np.array([size[0] / small.shape[1], size[1] / small.shape[0]])
        if pose is None:
            return self._restart(small, size)
        # The tracked person is checked against the detection nearest to it, so a second person
        # in view does not make the tracker jump between the two.
        gap = min(centre_disagreement(pose, p.hip * scale, p.shoulder * scale) for p in people)
        if gap > self.config.max_disagreement:
            return self._restart(small, size)
        return pose

    def _restart(self, small: np.ndarray, size: tuple[int, int]) -> Pose | None:
        """Drop the track and detect afresh on this frame.

        A blank frame makes the graph lose the track: the next frame is detected afresh and no
        smoothing state carries over (same landmarks and mask as a reset graph), without the
        ~100 ms a reset spends reopening the models."""
        if self._blank is None or self._blank.shape != small.shape:
            self._blank = np.zeros_like(small)
        self._pose.process(self._blank)
        self.restarts += 1
        return Pose.from_mediapipe(self._pose.process(small), size)

    def close(self) -> None:
        self._loaded()
        self._pose.close()
        if self._landmarker is not None:
            self._landmarker.close()
        if self._detector is not None and self._own_detector:
            self._detector.close()

    def __enter__(self) -> PoseEstimator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
