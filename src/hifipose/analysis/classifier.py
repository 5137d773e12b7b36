"""MediaPipe's pose classification: embedding, two-stage k-NN, EMA smoothing, rep counter.

A port of the algorithm of MediaPipe's pose-classification recipe (its Colab and ML Kit's
``PoseEmbedding``, ``PoseClassifier``, ``EMASmoothing`` and ``RepetitionCounter``), with the
same constants:

* Embedding (:class:`PoseEmbedder`): the 33 landmarks (x, y in pixels and z in the same
  scale: hifipose's image keypoints) are moved so the hip centre is the origin and scaled
  by 100 / pose size, where pose size = max(2.5 × torso size, the largest distance from the
  hip centre to a landmark), both measured on x, y only (torso size: hip centre to
  shoulder centre). The embedding is 23 signed 3D differences between landmarks (and the
  two centres), :data:`EMBEDDING_PAIRS` (one pair, hip → wrist, is listed twice, as in the
  reference).
* k-NN (:class:`PoseClassifier`): the pose and its mirror image (x negated) are embedded;
  each training sample's distance is the smaller of the two. First the 30 samples with the
  smallest **maximum** over all coordinates of |Δ| × axes weights (1, 1, 0.2) are kept, then
  of those the 10 with the smallest **mean** of the same; the result counts, per class, how
  many of those 10 it holds (so confidences run from 0 to 10). Ties keep the training
  samples' order.
* :class:`EMASmoothing`: over the last 10 results (newest first, weight (1 − 0.2)^i),
  Σ weight·value / Σ weight per class, a class missing from a result counting 0.
* :class:`RepetitionCounter`: enters a pose class when its smoothed confidence exceeds 6 and
  counts one repetition when it then falls below 4.

Training data is MediaPipe's: a folder of images per class (``from_images``), or a folder
of CSV files, one per class named after it, each row ``sample_name, x1, y1, z1, …, x33,
y33, z33`` (``from_csv`` / ``to_csv``).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hifipose._publish import publishing
from hifipose.analysis.reps import HysteresisCounter
from hifipose.errors import ConfigError, OutputError, VideoReadError
from hifipose.topology import KEYPOINT_NAMES, NUM_KEYPOINTS

if TYPE_CHECKING:
    from hifipose.pose import Pose

__all__ = [
    "EMBEDDING_PAIRS",
    "ClassifiedPose",
    "EMASmoothing",
    "PoseClassifier",
    "PoseEmbedder",
    "PoseSample",
    "RepetitionCounter",
    "TrackClassifier",
]

#: The 23 (from, to) pairs of the embedding; "hips"/"shoulders" are the centres.
EMBEDDING_PAIRS: Final[tuple[tuple[str, str], ...]] = (
    ("hips", "shoulders"),
    ("left_shoulder", "left_elbow"),
    ("right_shoulder", "right_elbow"),
    ("left_elbow", "left_wrist"),
    ("right_elbow", "right_wrist"),
    ("left_hip", "left_knee"),
    ("right_hip", "right_knee"),
    ("left_knee", "left_ankle"),
    ("right_knee", "right_ankle"),
    ("left_shoulder", "left_wrist"),
    ("right_shoulder", "right_wrist"),
    ("left_hip", "left_ankle"),
    ("right_hip", "right_ankle"),
    ("left_hip", "left_wrist"),
    ("right_hip", "right_wrist"),
    ("left_shoulder", "left_ankle"),
    ("right_shoulder", "right_ankle"),
    ("left_hip", "left_wrist"),
    ("right_hip", "right_wrist"),
    ("left_elbow", "right_elbow"),
    ("left_knee", "right_knee"),
    ("left_wrist", "right_wrist"),
    ("left_ankle", "right_ankle"),
)
TORSO_SIZE_MULTIPLIER: Final = 2.5
_CSV_COLUMNS: Final = 1 + NUM_KEYPOINTS * 3  # sample name, then x, y, z of each landmark
IMAGE_SUFFIXES: Final = (".jpg", ".jpeg", ".png", ".bmp", ".webp")

_INDEX = {name: i for i, name in enumerate(KEYPOINT_NAMES)}


def _centre(points: NDArray[np.float64], a: str, b: str) -> NDArray[np.float64]:
    result: NDArray[np.float64] = (points[..., _INDEX[a], :] + points[..., _INDEX[b], :]) * 0.5
    return result


class ImageDetector(Protocol):
    """Anything with hifipose's ``estimate_poses`` (e.g. a static-image-mode detector)."""

    def estimate_poses(self, image_rgb: object, timestamp_ms: float | None = None) -> list[Pose]:
        """The poses in one RGB image."""
        ...


class PoseEmbedder:
    """The reference embedding: (…, 33, 3) landmarks → (…, 23, 3) (see the module).

    Args:
        torso_size_multiplier: The minimum pose size in torso sizes (2.5).
    """

    def __init__(self, torso_size_multiplier: float = TORSO_SIZE_MULTIPLIER) -> None:
        self.torso_size_multiplier = torso_size_multiplier

    def normalize(self, landmarks: ArrayLike) -> NDArray[np.float64]:
        """Translate the hip centre to the origin and scale to 100 / pose size."""
        points = np.asarray(landmarks, dtype=np.float64)
        if points.shape[-2:] != (NUM_KEYPOINTS, 3):
            msg = f"landmarks must have shape (..., 33, 3), got {points.shape}"
            raise ConfigError(msg)
        centre = _centre(points, "left_hip", "right_hip")
        moved = points - centre[..., None, :]
        xy = moved[..., :2]
        torso = np.linalg.norm(
            _centre(xy, "left_shoulder", "right_shoulder") - _centre(xy, "left_hip", "right_hip"),
            axis=-1,
        )
        farthest = np.linalg.norm(xy, axis=-1).max(axis=-1)
        size = np.maximum(torso * self.torso_size_multiplier, farthest)
        result: NDArray[np.float64] = moved / size[..., None, None] * 100.0
        return result

    def __call__(self, landmarks: ArrayLike) -> NDArray[np.float64]:
        """The (…, 23, 3) embedding of (…, 33, 3) landmarks."""
        points = self.normalize(landmarks)

        def at(name: str) -> NDArray[np.float64]:
            if name == "hips":
                return _centre(points, "left_hip", "right_hip")
            if name == "shoulders":
                return _centre(points, "left_shoulder", "right_shoulder")
            return points[..., _INDEX[name], :]

        return np.stack([at(b) - at(a) for a, b in EMBEDDING_PAIRS], axis=-2)


@dataclass(frozen=True)
class PoseSample:
    """One training pose: a name, its class and its (33, 3) landmarks (pixels, z alike)."""

    name: str
    class_name: str
    landmarks: NDArray[np.float64]


@dataclass
class PoseClassifier:
    """Two-stage k-NN over embedded training samples (see the module for the algorithm).

    Args:
        samples: The training poses.
        top_n_by_max_distance: Samples kept by the maximum-distance stage (30).
        top_n_by_mean_distance: Samples kept by the mean-distance stage (10).
        axes_weights: Weights of the x, y, z differences ((1, 1, 0.2)).
        embedder: The embedding (default :class:`PoseEmbedder`).
    """

    samples: Sequence[PoseSample]
    top_n_by_max_distance: int = 30
    top_n_by_mean_distance: int = 10
    axes_weights: tuple[float, float, float] = (1.0, 1.0, 0.2)
    embedder: PoseEmbedder = field(default_factory=PoseEmbedder)

    def __post_init__(self) -> None:
        if not self.samples:
            msg = "a pose classifier needs at least one training sample"
            raise ConfigError(msg)
        self._embeddings = self.embedder(np.stack([s.landmarks for s in self.samples]))
        self._classes = np.array([s.class_name for s in self.samples])
        self._weights = np.asarray(self.axes_weights, dtype=np.float64)

    @property
    def class_names(self) -> list[str]:
        """The classes, sorted."""
        return sorted(set(self._classes.tolist()))

    def __call__(self, landmarks: ArrayLike) -> dict[str, int]:
        """Classify (33, 3) landmarks: how many of the nearest samples each class holds."""
        points = np.asarray(landmarks, dtype=np.float64)
        embedding = self.embedder(points)
        flipped = self.embedder(points * np.array([-1.0, 1.0, 1.0]))
        diff = np.abs(self._embeddings - embedding) * self._weights
        diff_flipped = np.abs(self._embeddings - flipped) * self._weights
        max_dist = np.minimum(diff.max(axis=(1, 2)), diff_flipped.max(axis=(1, 2)))
        kept = np.argsort(max_dist, kind="stable")[: self.top_n_by_max_distance]
        mean_dist = np.minimum(diff[kept].mean(axis=(1, 2)), diff_flipped[kept].mean(axis=(1, 2)))
        nearest = kept[np.argsort(mean_dist, kind="stable")[: self.top_n_by_mean_distance]]
        names, counts = np.unique(self._classes[nearest], return_counts=True)
        return dict(zip(names.tolist(), counts.tolist(), strict=True))

    def classify(self, pose: Pose) -> dict[str, int]:
        """Classify a :class:`~hifipose.Pose` by its image keypoints."""
        return self(pose.image_array[:, :3])

    def outliers(self) -> list[tuple[PoseSample, dict[str, int]]]:
        """Training samples whose nearest neighbours do not name their class alone.

        MediaPipe's recipe removes these before use (a mislabelled or badly detected image).
        """
        found = []
        for sample in self.samples:
            result = self(sample.landmarks)
            best = max(result.values())
            top = [name for name, count in result.items() if count == best]
            if top != [sample.class_name]:
                found.append((sample, result))
        return found

    @classmethod
    def from_csv(cls, folder: str | Path, **options: object) -> PoseClassifier:
        """Load MediaPipe's CSV training folder: ``CLASS.csv`` files of 100-column rows."""
        root = Path(folder)
        files = sorted(root.glob("*.csv")) if root.is_dir() else []
        if not files:
            msg = f"no CLASS.csv files in {root}"
            raise VideoReadError(msg)
        samples = []
        for path in files:
            with path.open(newline="") as handle:
                for line, row in enumerate(csv.reader(handle), start=1):
                    if len(row) != _CSV_COLUMNS:
                        msg = f"{path}:{line}: expected {_CSV_COLUMNS} values, got {len(row)}"
                        raise ConfigError(msg)
                    try:
                        values = np.array(row[1:], dtype=np.float64).reshape(NUM_KEYPOINTS, 3)
                    except ValueError as exc:
                        raise ConfigError(f"{path}:{line}: {exc}") from exc
                    samples.append(PoseSample(row[0], path.stem, values))
        return cls(samples, **options)  # type: ignore[arg-type]

    def to_csv(self, folder: str | Path) -> list[Path]:
        """Write the samples as MediaPipe's CSV training folder (one file per class)."""
        root = Path(folder)
        try:
            root.mkdir(parents=True, exist_ok=True)
            written = []
            for class_name in self.class_names:
                path = root / f"{class_name}.csv"
                with publishing(path) as partial, partial.open("w", newline="") as handle:
                    out = csv.writer(handle)
                    for s in self.samples:
                        if s.class_name == class_name:
                            out.writerow([s.name, *np.round(s.landmarks, 4).ravel().tolist()])
                written.append(path)
        except OSError as exc:
            raise OutputError(f"cannot write {root}: {exc.strerror or exc}") from exc
        return written

    @classmethod
    def from_images(
        cls, folder: str | Path, *, detector: ImageDetector | None = None, **options: object
    ) -> PoseClassifier:
        """Train from a folder with one sub-folder of images per class (MediaPipe's recipe).

        Each image is run through ``detector`` (default: a static-image-mode ``full``
        detector, closed afterwards); images without a pose are skipped, as the recipe does.

        Raises:
            VideoReadError: No class folders, or an image that cannot be read.
        """
        import cv2

        from hifipose.api import create_detector

        root = Path(folder)
        classes = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
        if not classes:
            msg = f"no class folders in {root}: expected {root}/CLASS/IMAGE.jpg"
            raise VideoReadError(msg)
        samples = []
        with ExitStack() as stack:
            if detector is None:
                detector = stack.enter_context(create_detector(static_image_mode=True))
            for class_dir in classes:
                for path in sorted(class_dir.iterdir()):
                    if path.suffix.lower() not in IMAGE_SUFFIXES:
                        continue
                    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
                    if image is None:
                        msg = f"cannot read image {path}"
                        raise VideoReadError(msg)
                    poses = detector.estimate_poses(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
                    if poses:
                        landmarks = poses[0].image_array[:, :3].astype(np.float64)
                        samples.append(PoseSample(path.stem, class_dir.name, landmarks))
        return cls(samples, **options)  # type: ignore[arg-type]


@dataclass
class EMASmoothing:
    """Exponential moving average of classification results over a window (see the module).

    Args:
        window_size: How many of the latest results are averaged (10).
        alpha: The decay (0.2): the i-th newest result weighs (1 − alpha)^i.
    """

    window_size: int = 10
    alpha: float = 0.2
    _window: list[Mapping[str, float]] = field(default_factory=list, init=False, repr=False)

    def __call__(self, result: Mapping[str, float]) -> dict[str, float]:
        """Add the newest result; return the smoothed confidence of every class seen."""
        self._window.insert(0, dict(result))
        del self._window[self.window_size :]
        keys = sorted({key for data in self._window for key in data})
        weights = (1.0 - self.alpha) ** np.arange(len(self._window))
        total = float(weights.sum())
        return {
            key: float(sum(w * d.get(key, 0.0) for w, d in zip(weights, self._window, strict=True)))
            / total
            for key in keys
        }

    def reset(self) -> None:
        """Forget the window."""
        self._window.clear()


@dataclass
class RepetitionCounter:
    """Counts repetitions of one pose class from smoothed confidences (enter > 6, exit < 4).

    Args:
        class_name: The class whose repetitions are counted.
        enter_threshold: Confidence above which the pose is entered (6).
        exit_threshold: Confidence below which, once entered, one repetition counts (4).
    """

    class_name: str
    enter_threshold: float = 6.0
    exit_threshold: float = 4.0
    _counter: HysteresisCounter = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._counter = HysteresisCounter(self.enter_threshold, self.exit_threshold, "above")

    @property
    def n_repeats(self) -> int:
        """Repetitions counted so far."""
        return self._counter.count

    def __call__(self, classification: Mapping[str, float]) -> int:
        """Take one (smoothed) classification; return the repetitions so far."""
        self._counter.update(float(classification.get(self.class_name, 0.0)))
        return self._counter.count


@dataclass(frozen=True, slots=True)
class ClassifiedPose:
    """One pose's classification in one frame: raw counts, smoothed confidences, repetitions."""

    track_id: int | None
    counts: dict[str, int]
    smoothed: dict[str, float]
    repetitions: int


@dataclass
class TrackClassifier:
    """The recipe's per-frame chain (classify → EMA → repetition counter), one per track.

    Each ``track_id`` (None: one anonymous person) gets its own :class:`EMASmoothing` and
    :class:`RepetitionCounter`, so people keep their own history and count whatever their
    order in the frame's list.

    Args:
        classifier: The trained classifier.
        class_name: The class whose repetitions are counted.
        enter_threshold: See :class:`RepetitionCounter` (6).
        exit_threshold: See :class:`RepetitionCounter` (4).
    """

    classifier: PoseClassifier
    class_name: str
    enter_threshold: float = 6.0
    exit_threshold: float = 4.0
    _state: dict[int | None, tuple[EMASmoothing, RepetitionCounter]] = field(
        default_factory=dict, init=False, repr=False
    )

    def update(self, poses: Sequence[Pose]) -> list[ClassifiedPose]:
        """Classify one frame's poses; one result per pose, in the same order."""
        out = []
        for pose in poses:
            state = self._state.get(pose.track_id)
            if state is None:
                counter = RepetitionCounter(
                    self.class_name, self.enter_threshold, self.exit_threshold
                )
                state = self._state[pose.track_id] = (EMASmoothing(), counter)
            smoothing, counter = state
            counts = self.classifier.classify(pose)
            smoothed = smoothing(counts)
            out.append(ClassifiedPose(pose.track_id, counts, smoothed, counter(smoothed)))
        return out
