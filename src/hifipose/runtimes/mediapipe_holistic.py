"""The ``mediapipe`` runtime with ``holistic=True``: MediaPipe's own legacy Holistic solution.

mediapipe 0.10.14's ``mediapipe.solutions.holistic`` (the legacy Python solution, one
person) runs the whole Holistic graph: pose, both hands and the face mesh. Its wheel ships
other builds of the pose, hand, recrop and face models than ``@mediapipe/holistic`` (different
bytes), so :class:`NpmResourceDir` builds a private resource folder that mirrors the wheel's
``mediapipe/modules`` with links, except that those model files are links to hifipose's
pinned npm files; :func:`npm_resources` points MediaPipe's resource loader at it while a
solution is created. Nothing in the installed package is changed.

Semantics are MediaPipe's solution as it is: one person; in video mode the solution takes
frames 33.333 ms apart whatever their timestamps (it simulates a 30 fps clock); hand and
face ROIs loop back from the previous frame even in static-image mode (a fresh graph per
photo needs :meth:`~hifipose.detector.PoseDetector.reset`).

Mapping (solution → :class:`~hifipose.pose.Pose`):
    * image keypoints (body, hands, face): normalised x, y times the frame width and height
      (pixels); z times the frame width (the pixel scale of :mod:`hifipose.pose`);
    * body visibility → ``score``; world keypoints in metres;
    * presence: the legacy solution clears every keypoint's presence and does not report
      the pose's; a pose it returns passed its presence gate (``min_tracking_confidence``),
      so hifipose sets each keypoint's ``presence`` and ``Pose.score`` to 1.0 (no
      presence gate then hides a point, as MediaPipe's drawing skips a presence it lacks);
    * hands: the solution gives image points only: :attr:`~hifipose.pose.Hand.world_array_m`,
      :attr:`~hifipose.pose.Hand.score` and ``handedness_score`` are None. The side is known
      (``left_hand_landmarks`` is the person's left), so ``handedness`` is the label the hand
      model gives that side on a non-mirrored image: ``"Right"`` for the person's left hand,
      ``"Left"`` for their right (the model's selfie-view convention);
    * face: 468 points (478 with ``refine_face_landmarks``); ``Face.score`` is None.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from hifipose._optional import require
from hifipose.errors import DetectorClosedError, ModelIntegrityError
from hifipose.pose import Face, Hand, HolisticParts, Pose
from hifipose.topology import NUM_KEYPOINTS

__all__ = [
    "HANDEDNESS_BY_SIDE",
    "LegacyHolisticPipeline",
    "NpmResourceDir",
    "holistic_model_files",
    "npm_resources",
]

#: (folder under ``mediapipe/modules``, file name) of each model file the wheel ships, by the
#: registry name of the pinned npm file that replaces it.
MODULE_FILES: Final[dict[str, tuple[str, str]]] = {
    "pose_landmark_lite": ("pose_landmark", "pose_landmark_lite.tflite"),
    "pose_landmark_full": ("pose_landmark", "pose_landmark_full.tflite"),
    "pose_landmark_heavy": ("pose_landmark", "pose_landmark_heavy.tflite"),
    "hand_landmark_full": ("hand_landmark", "hand_landmark_full.tflite"),
    "hand_recrop": ("holistic_landmark", "hand_recrop.tflite"),
    "face_landmark": ("face_landmark", "face_landmark.tflite"),
    "face_landmark_with_attention": ("face_landmark", "face_landmark_with_attention.tflite"),
    "face_detection_short_range": ("face_detection", "face_detection_short_range.tflite"),
}

#: The hand model's own label for each of the person's hands on a non-mirrored image.
HANDEDNESS_BY_SIDE: Final = {"left_hand": "Right", "right_hand": "Left"}

_MODEL_COMPLEXITY: Final = {"lite": 0, "full": 1, "heavy": 2}
#: mediapipe 0.10.14's holistic module helper that downloads the lite or heavy pose model.
_DOWNLOAD: Final = "_download_oss_pose_landmark_model"

# MediaPipe's resource folder is one process-wide setting, read when a graph loads its models:
# solutions are created one at a time, each with its own folder set.
_RESOURCE_LOCK = threading.RLock()  # re-entrant: a block may create a detector


def holistic_model_files(model_type: str, *, refine_face_landmarks: bool) -> tuple[str, ...]:
    """The registry names of the npm files a Holistic solution of ``model_type`` reads."""
    face = "face_landmark_with_attention" if refine_face_landmarks else "face_landmark"
    return (f"pose_landmark_{model_type}", "hand_landmark_full", "hand_recrop", face)


class NpmResourceDir:
    """A private copy of the wheel's ``mediapipe/modules`` (links) with npm model files.

    Args:
        model_paths: Verified npm model files, by registry name (keys of
            :data:`MODULE_FILES`); every other file stays the wheel's.

    Raises:
        RuntimeUnavailableError: mediapipe is not installed.
        KeyError: A name is not one of :data:`MODULE_FILES`.
    """

    def __init__(self, model_paths: Mapping[str, Path]) -> None:
        mediapipe = require("mediapipe", extra="mediapipe")
        modules = Path(str(mediapipe.__file__)).parent / "modules"
        self.path = Path(tempfile.mkdtemp(prefix="hifipose-mp-holistic-"))
        try:
            target = self.path / "mediapipe" / "modules"
            target.mkdir(parents=True)
            for folder in modules.iterdir():
                if folder.is_dir():
                    (target / folder.name).mkdir()
                    for item in folder.iterdir():
                        (target / folder.name / item.name).symlink_to(item)
            for name, path in model_paths.items():
                folder_name, file_name = MODULE_FILES[name]
                link = target / folder_name / file_name
                link.unlink(missing_ok=True)
                link.symlink_to(Path(path).resolve())
        except BaseException:
            self.cleanup()
            raise

    def cleanup(self) -> None:
        """Remove the folder (links only: the targets stay). Calling it again does nothing."""
        shutil.rmtree(self.path, ignore_errors=True)


@contextlib.contextmanager
def npm_resources(resources: NpmResourceDir) -> Iterator[Any]:
    """``mediapipe.solutions.holistic``, creating its solutions on ``resources``' files.

    While the block runs, a legacy solution created inside it reads its graph and models from
    ``resources`` (MediaPipe's own ``set_resource_dir`` is redirected), and does not look for
    the lite or heavy pose model in the installed package (which it would download there
    when missing: the folder links them); blocks in several threads run one at a time. The
    folder must outlive the solutions made in the block.
    """
    solution_base = require("mediapipe.python.solution_base", extra="mediapipe")
    holistic = require("mediapipe.python.solutions.holistic", extra="mediapipe")
    resource_util = solution_base.resource_util
    with _RESOURCE_LOCK:
        original = resource_util.set_resource_dir

        def redirect(_path: str) -> None:
            original(str(resources.path))

        # a private helper of mediapipe 0.10.14's holistic module (it fetches the lite or heavy
        # pose model into the installed package), reached by name: it is not typed
        download = getattr(holistic, _DOWNLOAD)

        def skip_download(_model_complexity: int) -> None:
            return None

        resource_util.set_resource_dir = redirect
        setattr(holistic, _DOWNLOAD, skip_download)
        try:
            yield holistic
        finally:
            resource_util.set_resource_dir = original
            setattr(holistic, _DOWNLOAD, download)


class LegacyHolisticPipeline:
    """mediapipe 0.10.14's ``solutions.holistic.Holistic`` on the npm files, as :class:`Pose`.

    Args:
        model_paths: Verified npm model files by registry name
            (:func:`holistic_model_files`).
        model_type: ``"lite"``, ``"full"`` or ``"heavy"`` (the solution's model_complexity).
        video: Tracking mode rather than unrelated images (the solution's
            ``static_image_mode`` is its negation).
        smooth_landmarks: The solution's ``smooth_landmarks``.
        segmentation: Also return the person mask (``enable_segmentation``).
        smooth_segmentation: The solution's ``smooth_segmentation``.
        refine_face_landmarks: The face model with attention (478 points).
        min_detection_confidence: The solution's ``min_detection_confidence``.
        min_tracking_confidence: The solution's ``min_tracking_confidence``.

    Raises:
        RuntimeUnavailableError: mediapipe is not installed.
        ModelIntegrityError: MediaPipe cannot start the graph on these files.
    """

    def __init__(
        self,
        model_paths: Mapping[str, Path],
        *,
        model_type: str,
        video: bool,
        smooth_landmarks: bool,
        segmentation: bool,
        smooth_segmentation: bool,
        refine_face_landmarks: bool,
        min_detection_confidence: float,
        min_tracking_confidence: float,
    ) -> None:
        self._segmentation = segmentation
        self._options = {
            "static_image_mode": not video,
            "model_complexity": _MODEL_COMPLEXITY[model_type],
            "smooth_landmarks": smooth_landmarks,
            "enable_segmentation": segmentation,
            "smooth_segmentation": smooth_segmentation,
            "refine_face_landmarks": refine_face_landmarks,
            "min_detection_confidence": min_detection_confidence,
            "min_tracking_confidence": min_tracking_confidence,
        }
        self._resources: NpmResourceDir | None = NpmResourceDir(model_paths)
        try:
            self._solution: Any = self._open()
        except BaseException:
            self._resources.cleanup()
            raise

    def _open(self) -> Any:  # noqa: ANN401 - mediapipe ships no type information
        assert self._resources is not None  # noqa: S101 - open until close()
        with npm_resources(self._resources) as holistic:
            try:
                solution = holistic.Holistic(**self._options)
                # The graph loads its models when it starts; wait for it inside the block,
                # while the resource folder is still this one.
                solution._graph.wait_until_idle()
            except (RuntimeError, ValueError) as exc:
                msg = f"MediaPipe's Holistic cannot start on the npm model files: {exc}"
                raise ModelIntegrityError(msg) from exc
        return solution

    def run(self, image_rgb: NDArray[np.uint8], t_us: int) -> list[Pose]:
        """Run one frame.

        Args:
            image_rgb: A checked HxWx3 uint8 RGB frame.
            t_us: The frame's stream time (unused: the solution simulates 30 fps).

        Returns:
            The person found (at most one), with hands and face, as :class:`Pose` objects.

        Raises:
            DetectorClosedError: The pipeline was closed.
        """
        if self._solution is None:
            msg = "this MediaPipe Holistic pipeline is closed"
            raise DetectorClosedError(msg)
        result = self._solution.process(image_rgb)
        if result.pose_landmarks is None:
            return []
        height, width = image_rgb.shape[:2]
        mask = result.segmentation_mask if self._segmentation else None
        return [holistic_pose(result, (width, height), mask)]

    def reset(self) -> None:
        """Start a new stream: the solution is created again (no state from earlier frames)."""
        if self._solution is not None:
            self._solution.close()
            self._solution = None
        self._solution = self._open()

    def close(self) -> None:
        """Release the solution and its resource folder. Calling it again does nothing."""
        if self._solution is not None:
            self._solution.close()
            self._solution = None
        if self._resources is not None:
            self._resources.cleanup()
            self._resources = None


#: The presence given to every body keypoint (the solution clears it; see the module).
PRESENCE: Final = 1.0


def _points(landmarks: Any, size_wh: tuple[int, int]) -> NDArray[np.float32]:  # noqa: ANN401
    """A landmark list's (N, 4) rows: x_px, y_px, z (pixel scale), visibility."""
    width, height = size_wh
    rows = [(p.x * width, p.y * height, p.z * width, p.visibility) for p in landmarks.landmark]
    return np.array(rows, dtype=np.float32).reshape(-1, 4)


def holistic_pose(
    result: Any,  # noqa: ANN401 - the solution's NamedTuple of protobufs
    size_wh: tuple[int, int],
    mask: NDArray[np.float32] | None = None,
) -> Pose:
    """One :class:`Pose`, with hands and face, from a result that has ``pose_landmarks``.

    See the module's mapping. ``mask``: the H×W segmentation mask, or None.
    """
    body = _points(result.pose_landmarks, size_wh)[:NUM_KEYPOINTS]
    image_array = np.column_stack([body, np.full(len(body), PRESENCE, np.float32)])
    world = np.array(
        [(p.x, p.y, p.z) for p in result.pose_world_landmarks.landmark], dtype=np.float32
    )[:NUM_KEYPOINTS]
    hands: dict[str, Hand | None] = {}
    for side, label in HANDEDNESS_BY_SIDE.items():
        landmarks = getattr(result, f"{side}_landmarks")
        if landmarks is None:
            hands[side] = None
        else:
            hands[side] = Hand(_points(landmarks, size_wh)[:, :3], None, None, label, None)
    face_landmarks = result.face_landmarks
    face = None if face_landmarks is None else Face(_points(face_landmarks, size_wh)[:, :3], None)
    return Pose(
        image_array=image_array,
        world_array_m=world,
        score=PRESENCE,
        segmentation=None if mask is None else np.array(mask, dtype=np.float32),
        parts=HolisticParts(hands["left_hand"], hands["right_hand"], face),
    )
