"""``hifipose evaluate``: keypoint accuracy on labelled photos (COCO AP/AR, PCK, recall).

The ground truth is a COCO keypoint file (``images``, ``annotations``, ``categories``) or
the simple list format of ``../shared/data/labelled/annotations.json`` (one entry per image:
``image``, ``persons[].keypoints_coco17`` = 17 × [x, y, v], ``persons[].bbox``). Every pose
is reduced to COCO's 17 keypoints (:data:`hifipose.topology.COCO17_FROM_BLAZEPOSE`).

Figures:
    * COCO keypoint AP and AR (pycocotools' ``COCOeval``, OKS with COCO's sigmas; the
      pose's presence score ranks the predictions).
    * PCK@0.2 of the torso: a labelled keypoint is correct when the prediction matched to
      its person is within 0.2 × that person's torso (shoulder centre to hip centre, from
      the labels). Over every labelled keypoint of every person whose torso is labelled; a
      person no prediction matches counts as all wrong. ``pck_found`` is the same over the
      found people only (how good the landmarks are, apart from who was found).
    * Recall of people: the share of labelled people (with at least one labelled
      keypoint) matched by a prediction with OKS ≥ 0.5.

Matching: per image, predictions and labelled people are paired one to one by OKS
(``scipy.optimize.linear_sum_assignment``, largest total OKS; a pair with OKS 0 is no match).

Conventions:
    Keypoints in pixels of the image, origin top-left, y down. v > 0 means labelled. The
    OKS area of a person is the annotation's ``area`` if given, else its box's w × h (the
    simple format has no segmentation area; that makes OKS slightly more lenient there); a
    person without a box gets the extent of their labelled keypoints.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from hifipose._optional import require
from hifipose.errors import ConfigError, VideoReadError
from hifipose.pose import Pose
from hifipose.topology import COCO17_FROM_BLAZEPOSE, COCO17_NAMES, COCO17_SKELETON

__all__ = [
    "COCO_SIGMAS",
    "EvaluationReport",
    "ImageScore",
    "ImageTruth",
    "PersonPrediction",
    "PersonTruth",
    "coco_ground_truth",
    "coco_results",
    "evaluate_detector",
    "evaluate_predictions",
    "load_annotations",
    "oks",
    "paired_bootstrap",
    "pose_prediction",
    "predict",
    "table",
]

#: COCO's per-keypoint OKS sigmas, in COCO order (cocoapi ``COCOeval.Params``).
COCO_SIGMAS: Final = np.array(
    [
        *(0.026, 0.025, 0.025, 0.035, 0.035),  # nose, eyes, ears
        *(0.079, 0.079, 0.072, 0.072, 0.062, 0.062),  # shoulders, elbows, wrists
        *(0.107, 0.107, 0.087, 0.087, 0.089, 0.089),  # hips, knees, ankles
    ]
)
PCK_THRESHOLD: Final = 0.2
RECALL_OKS: Final = 0.5
_SHOULDERS, _HIPS = (5, 6), (11, 12)
#: COCOeval's ten keypoint figures, in the order of ``COCOeval.stats``.
COCO_STAT_NAMES: Final = (
    "AP",
    "AP50",
    "AP75",
    "AP_M",
    "AP_L",
    "AR",
    "AR50",
    "AR75",
    "AR_M",
    "AR_L",
)


@dataclass(frozen=True)
class PersonTruth:
    """One labelled person: ``keypoints`` (17, 3) x, y px and v (> 0: labelled)."""

    keypoints: NDArray[np.float64]
    bbox: tuple[float, float, float, float]  # x, y, w, h px
    area: float

    @property
    def labelled(self) -> NDArray[np.bool_]:
        """Which of the 17 keypoints are labelled."""
        return self.keypoints[:, 2] > 0

    @property
    def torso_px(self) -> float | None:
        """Shoulder centre to hip centre, pixels; None unless all four are labelled."""
        k = self.keypoints
        if not all(k[i, 2] > 0 for i in (*_SHOULDERS, *_HIPS)):
            return None
        shoulders = k[list(_SHOULDERS), :2].mean(0)
        hips = k[list(_HIPS), :2].mean(0)
        return float(np.hypot(*(shoulders - hips)))


@dataclass(frozen=True)
class ImageTruth:
    """One image's labelled people; ``file_name`` relative to the images folder."""

    image_id: int
    file_name: str
    persons: tuple[PersonTruth, ...]
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class PersonPrediction:
    """One predicted person: ``keypoints`` (17, 3) x, y px and visibility, and a score."""

    keypoints: NDArray[np.float64]
    score: float


def pose_prediction(pose: Pose) -> PersonPrediction:
    """A pose's COCO-17 keypoints (x, y px, visibility) and its presence score."""
    points = pose.image_array[list(COCO17_FROM_BLAZEPOSE)]
    return PersonPrediction(points[:, [0, 1, 3]].astype(np.float64), float(pose.score))


def _fail(path: Path, why: str) -> ConfigError:
    return ConfigError(f"{path}: not a COCO keypoint file or a list of labelled images: {why}")


def load_annotations(path: str | Path) -> list[ImageTruth]:
    """Read a COCO keypoint file or the simple list format (see the module docstring).

    Raises:
        ConfigError: The file is not JSON, or not one of the two formats.
        OSError: The file cannot be read.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise _fail(path, f"invalid JSON ({exc})") from exc
    try:
        if isinstance(data, dict) and "annotations" in data and "images" in data:
            return _from_coco(data)
        if isinstance(data, list):
            return _from_list(data)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise _fail(path, f"{type(exc).__name__}: {exc}") from exc
    raise _fail(path, "expected an object with 'images' and 'annotations', or a list")


def _person(
    keypoints: Iterable[float], bbox: Sequence[float] | None, area: float | None
) -> PersonTruth:
    points = np.asarray(list(keypoints), dtype=np.float64).reshape(17, 3)
    if bbox is None:  # e.g. MPII: the labelled keypoints' extent
        labelled = points[points[:, 2] > 0, :2]
        if not len(labelled):
            bbox = (0.0, 0.0, 0.0, 0.0)
        else:
            (x0, y0), (x1, y1) = labelled.min(0), labelled.max(0)
            bbox = (x0, y0, x1 - x0, y1 - y0)
    x, y, w, h = (float(v) for v in bbox)
    return PersonTruth(points, (x, y, w, h), float(area) if area is not None else w * h)


def _from_coco(data: dict[str, Any]) -> list[ImageTruth]:
    persons: dict[int, list[PersonTruth]] = {}
    for ann in data["annotations"]:
        if ann.get("iscrowd", 0):
            continue
        person = _person(ann["keypoints"], ann["bbox"], ann.get("area"))
        persons.setdefault(int(ann["image_id"]), []).append(person)
    return [
        ImageTruth(
            int(image["id"]),
            str(image["file_name"]),
            tuple(persons.get(int(image["id"]), ())),
            image.get("width"),
            image.get("height"),
        )
        for image in data["images"]
    ]


def _from_list(data: list[dict[str, Any]]) -> list[ImageTruth]:
    return [
        ImageTruth(
            index + 1,
            str(entry["image"]),
            tuple(
                _person(np.ravel(p["keypoints_coco17"]), p.get("bbox"), p.get("area"))
                for p in entry["persons"]
            ),
        )
        for index, entry in enumerate(data)
    ]


def predict(
    truth: Sequence[ImageTruth],
    images_dir: str | Path,
    estimate: Callable[[NDArray[np.uint8]], Sequence[PersonPrediction]],
    *,
    progress: bool = False,
) -> dict[int, list[PersonPrediction]]:
    """Run ``estimate`` on every image (RGB) and collect its predictions by image id.

    Raises:
        VideoReadError: An image is missing or cannot be decoded.
    """
    import cv2
    from tqdm import tqdm

    out: dict[int, list[PersonPrediction]] = {}
    for image in tqdm(truth, unit="image", disable=not progress, leave=False):
        file = Path(images_dir) / image.file_name
        bgr = cv2.imread(str(file), cv2.IMREAD_COLOR)
        if bgr is None:
            msg = f"cannot read image {file}"
            raise VideoReadError(msg)
        rgb = np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8)
        out[image.image_id] = list(estimate(rgb))
    return out


def evaluate_detector(
    truth: Sequence[ImageTruth],
    images_dir: str | Path,
    options: Mapping[str, Any],
    *,
    label: str = "",
    progress: bool = False,
) -> tuple[EvaluationReport, dict[int, list[PersonPrediction]]]:
    """Run ``create_detector(static_image_mode=True, **options)`` on the images and score it.

    Returns:
        The report and the predictions (by image id).
    """
    from hifipose.api import create_detector

    with create_detector(static_image_mode=True, **options) as detector:

        def estimate(image: NDArray[np.uint8]) -> list[PersonPrediction]:
            return [pose_prediction(p) for p in detector.estimate_poses(image)]

        predictions = predict(truth, images_dir, estimate, progress=progress)
    return evaluate_predictions(truth, predictions, label=label), predictions


def coco_ground_truth(truth: Sequence[ImageTruth]) -> dict[str, Any]:
    """The ground truth as a COCO keypoint dataset (one category, ``person``)."""
    annotations: list[dict[str, Any]] = []
    for image in truth:
        for person in image.persons:
            x, y, w, h = person.bbox
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image.image_id,
                    "category_id": 1,
                    "keypoints": [
                        float(v) if i % 3 < 2 else int(v > 0) * 2
                        for i, v in enumerate(person.keypoints.ravel())
                    ],
                    "num_keypoints": int(person.labelled.sum()),
                    "bbox": [x, y, w, h],
                    "area": person.area,
                    "iscrowd": 0,
                }
            )
    return {
        "images": [
            {"id": i.image_id, "file_name": i.file_name}
            | ({"width": i.width, "height": i.height} if i.width and i.height else {})
            for i in truth
        ],
        "annotations": annotations,
        "categories": [
            {
                "id": 1,
                "name": "person",
                "supercategory": "person",
                "keypoints": list(COCO17_NAMES),
                "skeleton": [list(edge) for edge in COCO17_SKELETON],
            }
        ],
    }


def coco_results(predictions: dict[int, list[PersonPrediction]]) -> list[dict[str, Any]]:
    """The predictions in COCO's keypoint results format (``loadRes``'s input)."""
    return [
        {
            "image_id": image_id,
            "category_id": 1,
            "keypoints": [float(v) for v in p.keypoints.ravel()],
            "score": p.score,
        }
        for image_id, persons in sorted(predictions.items())
        for p in persons
    ]


def _coco_stats(gt: dict[str, Any], results: list[dict[str, Any]]) -> dict[str, float]:
    """COCOeval's keypoint figures (0 when there is no prediction at all)."""
    if not results:
        return dict.fromkeys(COCO_STAT_NAMES, 0.0)
    require("pycocotools", extra="evaluate")
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints its progress
        coco = COCO()
        coco.dataset = json.loads(json.dumps(gt))  # loadRes mutates; keep ours intact
        coco.createIndex()
        evaluation = COCOeval(coco, coco.loadRes(json.loads(json.dumps(results))), "keypoints")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    return {name: float(v) for name, v in zip(COCO_STAT_NAMES, evaluation.stats, strict=True)}


def oks(truth: PersonTruth, prediction: PersonPrediction) -> float:
    """COCO's object keypoint similarity over the labelled keypoints (0 if none)."""
    labelled = truth.labelled
    if not labelled.any():
        return 0.0
    d2 = ((prediction.keypoints[:, :2] - truth.keypoints[:, :2]) ** 2).sum(1)
    variances = (2 * COCO_SIGMAS) ** 2
    e = d2 / variances / (truth.area + np.spacing(1)) / 2
    return float(np.exp(-e[labelled]).mean())


def _match(
    persons: Sequence[PersonTruth], predictions: Sequence[PersonPrediction]
) -> list[tuple[int, int, float]]:
    """One-to-one (person, prediction, OKS) pairs with the largest total OKS."""
    if not persons or not predictions:
        return []
    from scipy.optimize import linear_sum_assignment

    scores = np.array([[oks(t, p) for p in predictions] for t in persons])
    rows, cols = linear_sum_assignment(scores, maximize=True)
    return [
        (int(r), int(c), float(scores[r, c]))
        for r, c in zip(rows, cols, strict=True)
        if scores[r, c] > 0
    ]


@dataclass
class ImageScore:
    """One image's counts (for bootstrap intervals): PCK hits over labelled keypoints."""

    file_name: str
    persons: int
    recalled: int
    pck_hits: int
    pck_total: int
    found_hits: int
    found_total: int


@dataclass
class EvaluationReport:
    """The figures of one evaluation run (see the module docstring)."""

    images: int
    persons: int
    persons_with_torso: int
    predictions: int
    coco: dict[str, float]
    pck: float
    pck_found: float
    recall: float
    per_image: list[ImageScore] = field(default_factory=list)
    label: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return asdict(self)

    def to_json(self) -> str:
        """The report as indented JSON."""
        return json.dumps(self.to_dict(), indent=2)

    def row(self) -> dict[str, float]:
        """The headline figures: AP, AP50, AR, PCK@0.2, PCK on found people, recall."""
        return {
            "AP": self.coco["AP"],
            "AP50": self.coco["AP50"],
            "AR": self.coco["AR"],
            "PCK@0.2": self.pck,
            "PCK found": self.pck_found,
            "recall": self.recall,
        }


def evaluate_predictions(
    truth: Sequence[ImageTruth],
    predictions: dict[int, list[PersonPrediction]],
    *,
    label: str = "",
) -> EvaluationReport:
    """Score ``predictions`` (by image id) against ``truth``: COCO AP/AR, PCK, recall."""
    per_image = []
    for image in truth:
        preds = predictions.get(image.image_id, [])
        matched = {person: (pred, score) for person, pred, score in _match(image.persons, preds)}
        score = ImageScore(image.file_name, 0, 0, 0, 0, 0, 0)
        for index, person in enumerate(image.persons):
            if not person.labelled.any():  # nothing to find (COCOeval ignores them too)
                continue
            score.persons += 1
            pair = matched.get(index)
            score.recalled += pair is not None and pair[1] >= RECALL_OKS
            torso = person.torso_px
            if torso is None:
                continue
            labelled = person.labelled
            total = int(labelled.sum())
            score.pck_total += total
            if pair is None:
                continue
            d = np.hypot(*(preds[pair[0]].keypoints[:, :2] - person.keypoints[:, :2]).T)
            hits = int((d[labelled] <= PCK_THRESHOLD * torso).sum())
            score.pck_hits += hits
            score.found_hits += hits
            score.found_total += total
        per_image.append(score)
    persons = sum(s.persons for s in per_image)
    return EvaluationReport(
        images=len(truth),
        persons=persons,
        persons_with_torso=sum(p.torso_px is not None for i in truth for p in i.persons),
        predictions=sum(len(v) for v in predictions.values()),
        coco=_coco_stats(coco_ground_truth(truth), coco_results(predictions)),
        pck=_ratio(sum(s.pck_hits for s in per_image), sum(s.pck_total for s in per_image)),
        pck_found=_ratio(
            sum(s.found_hits for s in per_image), sum(s.found_total for s in per_image)
        ),
        recall=_ratio(sum(s.recalled for s in per_image), persons),
        per_image=per_image,
        label=label,
    )


def _ratio(a: int, b: int) -> float:
    return a / b if b else math.nan


def paired_bootstrap(
    base: EvaluationReport,
    other: EvaluationReport,
    *,
    metric: str = "pck",
    resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float, float]:
    """The gain ``other − base`` in a PCK figure and its 95 % bootstrap interval.

    Images are resampled with replacement (the same draw for both runs: the runs are
    paired by image), and the pooled figure recomputed on each draw.

    Args:
        base: The reference run.
        other: The run compared with it, on the same images in the same order.
        metric: ``"pck"`` (all labelled keypoints) or ``"pck_found"`` (found people only).
        resamples: Bootstrap draws.
        seed: Seed of the draws.

    Returns:
        (gain, low, high): the observed gain and the 2.5th and 97.5th percentiles.
    """
    key = {"pck": ("pck_hits", "pck_total"), "pck_found": ("found_hits", "found_total")}[metric]

    def counts(report: EvaluationReport) -> NDArray[np.float64]:
        return np.array([[getattr(s, key[0]), getattr(s, key[1])] for s in report.per_image])

    a, b = counts(base), counts(other)
    if len(a) != len(b) or not len(a):
        msg = "paired_bootstrap needs two runs over the same (non-empty) list of images"
        raise ConfigError(msg)
    draws = np.random.default_rng(seed).integers(0, len(a), size=(resamples, len(a)))
    sa, sb = a[draws].sum(1), b[draws].sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        gains = sb[:, 0] / sb[:, 1] - sa[:, 0] / sa[:, 1]
    gain = b[:, 0].sum() / b[:, 1].sum() - a[:, 0].sum() / a[:, 1].sum()
    low, high = np.nanpercentile(gains, [2.5, 97.5])
    return float(gain), float(low), float(high)


def table(reports: Sequence[EvaluationReport]) -> str:
    """The reports' headline figures as a plain-text table, one row per report."""
    names = list(reports[0].row()) if reports else []
    width = max([len(r.label) for r in reports] + [5])
    lines = [f"{'run':<{width}}  " + "  ".join(f"{n:>9}" for n in names)]
    lines += [
        f"{r.label:<{width}}  " + "  ".join(f"{v:>9.3f}" for v in r.row().values()) for r in reports
    ]
    return "\n".join(lines)
