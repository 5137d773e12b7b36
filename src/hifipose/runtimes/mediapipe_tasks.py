"""The ``mediapipe`` runtime: the whole pipeline inside MediaPipe Tasks' PoseLandmarker.

Unlike the model runtimes, this one does not run single models for hifipose's pipeline: it
hands each frame to MediaPipe's own Tasks graph (detector, tracker, landmarks) and maps the
result into hifipose's :class:`~hifipose.pose.Pose` objects. It is for users who want
MediaPipe's engine behind hifipose's API; hifipose's own pipeline reproduces MediaPipe's
*Pose* graph, which the Tasks graph differs from in small ways (no landmark smoothing, NMS
threshold 0.5; see design.md §6).

The Tasks graph needs TFLite metadata that the npm model files lack: the image input's
normalisation (detector: mean 127.5, std 127.5, i.e. [-1, 1]; landmark model: mean 0,
std 255, i.e. [0, 1]). :func:`build_task_bundle` adds it with the schema modules that ship
in the mediapipe wheel and zips the two files into a ``.task`` bundle, in memory.

Mapping (Tasks → :class:`~hifipose.pose.Pose`):
    * image keypoints: Tasks' normalised x, y times the frame width and height (pixels);
      z times the frame width (the pixel scale of :mod:`hifipose.pose`);
    * visibility → ``score``, presence → ``presence`` per keypoint;
    * world keypoints: metres, unchanged;
    * ``Pose.score``: Tasks does not report the pose-presence probability; hifipose reports
      the mean keypoint presence instead (every pose Tasks returns already passed its
      presence gate, ``min_tracking_confidence``).
"""

from __future__ import annotations

import io
import logging
import zipfile
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from hifipose._optional import require
from hifipose.errors import DetectorClosedError, ModelIntegrityError
from hifipose.pose import Pose
from hifipose.topology import NUM_KEYPOINTS

__all__ = ["TasksPipeline", "build_task_bundle"]

logger = logging.getLogger(__name__)

#: (mean, std) of the image input's NormalizationOptions, per model role.
DETECTOR_NORMALIZATION: Final = (127.5, 127.5)
LANDMARK_NORMALIZATION: Final = (0.0, 255.0)
_DETECTOR_MEMBER: Final = "pose_detector.tflite"
_LANDMARK_MEMBER: Final = "pose_landmarks_detector.tflite"


def _with_image_metadata(model_path: Path, mean: float, std: float) -> bytes:
    writers = require(
        "mediapipe.tasks.python.metadata.metadata_writers.metadata_writer", extra="mediapipe"
    )
    writer = None
    try:
        writer = writers.MetadataWriter.create(model_path.read_bytes())
        writer.add_general_info(model_path.stem, "BlazePose model from npm @mediapipe/pose")
        writer.add_image_input([mean], [std])
        model_bytes: bytes = writer.populate()[0]
    except (ValueError, RuntimeError) as exc:
        msg = f"cannot add MediaPipe Tasks metadata to {model_path}: {exc}"
        raise ModelIntegrityError(msg) from exc
    finally:
        # The writer makes a temporary folder that only its __del__ removes, which a
        # reference cycle puts off until the process exits: a server creating detectors
        # would leave one per model behind. Remove it now.
        folder = getattr(writer, "_temp_folder", None)
        if folder is not None:
            folder.cleanup()
    return model_bytes


def build_task_bundle(detector_path: Path, landmark_path: Path) -> bytes:
    """Build a MediaPipe Tasks ``.task`` bundle from the npm model files.

    Args:
        detector_path: The verified ``pose_detection.tflite``.
        landmark_path: The verified ``pose_landmark_{lite,full,heavy}.tflite``.

    Returns:
        The bundle's bytes: a zip of ``pose_detector.tflite`` and
        ``pose_landmarks_detector.tflite``, each with image-normalisation metadata.

    Raises:
        RuntimeUnavailableError: mediapipe is not installed.
        ModelIntegrityError: A file is not a model the metadata writer can read.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(
            _DETECTOR_MEMBER, _with_image_metadata(detector_path, *DETECTOR_NORMALIZATION)
        )
        archive.writestr(
            _LANDMARK_MEMBER, _with_image_metadata(landmark_path, *LANDMARK_NORMALIZATION)
        )
    return buffer.getvalue()


class TasksPipeline:
    """One MediaPipe Tasks PoseLandmarker, fed RGB frames, returning :class:`Pose` objects.

    Args:
        bundle: A ``.task`` bundle from :func:`build_task_bundle`.
        video: Tracking mode (Tasks' VIDEO running mode) rather than one image at a time.
        num_poses: Most poses per frame (Tasks can find several people).
        min_detection_confidence: Tasks' ``min_pose_detection_confidence``.
        min_tracking_confidence: Tasks' ``min_pose_presence_confidence`` and
            ``min_tracking_confidence``.
        segmentation: Also return a person mask per pose.
    """

    def __init__(
        self,
        bundle: bytes,
        *,
        video: bool,
        num_poses: int,
        min_detection_confidence: float,
        min_tracking_confidence: float,
        segmentation: bool,
    ) -> None:
        self._mp = require("mediapipe", extra="mediapipe")
        vision = require("mediapipe.tasks.python.vision", extra="mediapipe")
        base = require("mediapipe.tasks.python.core.base_options", extra="mediapipe")
        self._video = video
        self._segmentation = segmentation
        self._options = vision.PoseLandmarkerOptions(
            base_options=base.BaseOptions(model_asset_buffer=bundle),
            running_mode=vision.RunningMode.VIDEO if video else vision.RunningMode.IMAGE,
            num_poses=num_poses,
            min_pose_detection_confidence=min_detection_confidence,
            min_pose_presence_confidence=min_tracking_confidence,
            min_tracking_confidence=min_tracking_confidence,
            output_segmentation_masks=segmentation,
        )
        self._landmarker: Any = self._open()
        self._last_ms: int | None = None

    def _open(self) -> Any:  # noqa: ANN401 - mediapipe ships no type information
        vision = require("mediapipe.tasks.python.vision", extra="mediapipe")
        try:
            return vision.PoseLandmarker.create_from_options(self._options)
        except (RuntimeError, ValueError) as exc:
            msg = f"MediaPipe Tasks cannot load the pose bundle: {exc}"
            raise ModelIntegrityError(msg) from exc

    def run(self, image_rgb: NDArray[np.uint8], t_us: int) -> list[Pose]:
        """Run one frame.

        Args:
            image_rgb: A checked HxWx3 uint8 RGB frame.
            t_us: The frame's time from the stream clock, microseconds, strictly increasing
                in video mode. Tasks wants whole, strictly increasing milliseconds: a time
                that would round onto the previous frame's millisecond is sent 1 ms later.

        Returns:
            The poses Tasks found, as :class:`Pose` objects (pixels, metres).

        Raises:
            DetectorClosedError: The pipeline was closed.
        """
        if self._landmarker is None:
            msg = "this MediaPipe Tasks pipeline is closed"
            raise DetectorClosedError(msg)
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=image_rgb)
        if self._video:
            t_ms = t_us // 1000
            if self._last_ms is not None and t_ms <= self._last_ms:
                t_ms = self._last_ms + 1
            self._last_ms = t_ms
            result = self._landmarker.detect_for_video(image, t_ms)
        else:
            result = self._landmarker.detect(image)
        height, width = image_rgb.shape[:2]
        masks = result.segmentation_masks if self._segmentation else None
        return [
            _to_pose(landmarks, world, None if masks is None else masks[i], (width, height))
            for i, (landmarks, world) in enumerate(
                zip(result.pose_landmarks, result.pose_world_landmarks, strict=True)
            )
        ]

    def reset(self) -> None:
        """Start a new stream: Tasks has no reset, so the landmarker is created again."""
        self.close()
        self._landmarker = self._open()
        self._last_ms = None

    def close(self) -> None:
        """Release the landmarker. Calling it again does nothing."""
        if self._landmarker is not None:
            self._landmarker.close()
            self._landmarker = None


def _to_pose(
    landmarks: list[Any],
    world: list[Any],
    mask: Any,  # noqa: ANN401 - an mp.Image; mediapipe ships no type information
    size_wh: tuple[int, int],
) -> Pose:
    width, height = size_wh
    image_array = np.array(
        [(p.x * width, p.y * height, p.z * width, p.visibility, p.presence) for p in landmarks],
        dtype=np.float32,
    )[:NUM_KEYPOINTS]
    world_array = np.array([(p.x, p.y, p.z) for p in world], dtype=np.float32)[:NUM_KEYPOINTS]
    segmentation = None
    if mask is not None:
        segmentation = np.array(mask.numpy_view(), dtype=np.float32).reshape(height, width)
    return Pose(
        image_array=image_array,
        world_array_m=world_array,
        score=float(image_array[:, 4].mean()),
        segmentation=segmentation,
    )
