"""② Person detection: raw SSD outputs → scored boxes and keypoints → weighted NMS.

Conventions:
    Decoded boxes and keypoints are normalised to the 224×224 letterboxed detector input
    until :func:`remove_letterbox` maps them to the frame (x / width, y / height of the
    frame, may fall outside [0, 1]). Boxes are (xmin, ymin, xmax, ymax). The detector's 4
    keypoints are: 0 hip centre, 1 full-body size/rotation point, 2 shoulder centre,
    3 upper-body size/rotation point (blazepose-spec §1.4).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from hifipose.blazepose.anchors import ssd_anchor_centers

__all__ = [
    "Detection",
    "decode_detections",
    "remove_letterbox",
    "weighted_nms",
]

DETECTOR_INPUT_SIZE = 224
NUM_DETECTOR_KEYPOINTS = 4
#: ``score_clipping_thresh`` of the pose detector's TensorsToDetections options.
SCORE_CLIP = 100.0
#: ``min_suppression_threshold`` of the pose graph's weighted NMS (IoU must exceed it).
NMS_IOU_THRESHOLD = 0.3


@dataclass(frozen=True, slots=True)
class Detection:
    """One person detection (see the module's conventions for the coordinate frame).

    Attributes:
        score: Detector confidence in [0, 1].
        box: (4,) float32 xmin, ymin, xmax, ymax.
        keypoints: (4, 2) float32 x, y.
    """

    score: float
    box: NDArray[np.float32]
    keypoints: NDArray[np.float32]


def decode_detections(
    raw_boxes: NDArray[np.float32],
    raw_scores: NDArray[np.float32],
    *,
    min_score: float,
) -> list[Detection]:
    """Decode the detector's outputs into detections scoring at least ``min_score``.

    Args:
        raw_boxes: (2254, 12) or (1, 2254, 12): per anchor x/y centre offset, width, height
            and 4 keypoint x/y offsets, in input pixels, relative to the anchor centre.
        raw_scores: (2254,), (2254, 1) or (1, 2254, 1) score logits.
        min_score: Keep detections with sigmoid(logit) >= this.

    Returns:
        Detections sorted by descending score, in letterboxed input coordinates. Boxes with
        a negative or NaN width or height are dropped.
    """
    boxes = raw_boxes.reshape(-1, 12)
    logits = np.clip(raw_scores.reshape(-1).astype(np.float64), -SCORE_CLIP, SCORE_CLIP)
    scores = 1.0 / (1.0 + np.exp(-logits))
    keep = np.flatnonzero(scores >= min_score)
    if keep.size == 0:
        return []
    anchors = ssd_anchor_centers(DETECTOR_INPUT_SIZE).astype(np.float64)[keep]
    rows = boxes[keep].astype(np.float64) / DETECTOR_INPUT_SIZE
    center = rows[:, 0:2] + anchors
    size = rows[:, 2:4]
    valid = np.all(size >= 0, axis=1)  # NaN compares False, so NaN sizes are dropped too
    corners = np.concatenate([center - size / 2, center + size / 2], axis=1)
    keypoints = rows[:, 4:12].reshape(-1, NUM_DETECTOR_KEYPOINTS, 2) + anchors[:, None, :]
    order = np.argsort(-scores[keep], kind="stable")
    return [
        Detection(
            score=float(scores[keep[i]]),
            box=corners[i].astype(np.float32),
            keypoints=keypoints[i].astype(np.float32),
        )
        for i in order
        if valid[i]
    ]


def _iou(box: NDArray[np.float64], others: NDArray[np.float64]) -> NDArray[np.float64]:
    inter_wh = np.minimum(box[2:], others[:, 2:]) - np.maximum(box[:2], others[:, :2])
    intersects = np.all(inter_wh >= 0, axis=1)
    inter = np.where(intersects, inter_wh[:, 0] * inter_wh[:, 1], 0.0)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
    union = area + areas - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(intersects & (union > 0), inter / union, 0.0)


def weighted_nms(
    detections: list[Detection], *, iou_threshold: float = NMS_IOU_THRESHOLD
) -> list[Detection]:
    """MediaPipe's weighted non-max suppression (``algorithm: WEIGHTED``, IoU).

    Repeatedly takes the best remaining detection T; every remaining detection whose IoU
    with T is strictly greater than ``iou_threshold`` (T included) is merged: the output
    keeps T's score, and its box corners and keypoints are the score-weighted means of the
    merged detections'. Stops early if a pass removes nothing.

    Args:
        detections: Sorted by descending score (as :func:`decode_detections` returns them).
        iou_threshold: Overlap above which detections are merged.

    Returns:
        The merged detections, best first.
    """
    if not detections:
        return []
    boxes = np.stack([d.box for d in detections]).astype(np.float64)
    keypoints = np.stack([d.keypoints for d in detections]).astype(np.float64)
    scores = np.array([d.score for d in detections], dtype=np.float64)
    remaining = np.arange(len(detections))
    merged: list[Detection] = []
    while remaining.size:
        top = remaining[0]
        overlap = _iou(boxes[top], boxes[remaining]) > iou_threshold
        members = remaining[overlap]
        if members.size:
            weights = scores[members] / scores[members].sum()
            box = weights @ boxes[members]
            kps = np.tensordot(weights, keypoints[members], axes=1)
        else:
            box, kps = boxes[top], keypoints[top]
        merged.append(
            Detection(
                score=float(scores[top]),
                box=box.astype(np.float32),
                keypoints=kps.astype(np.float32),
            )
        )
        if not members.size:
            break
        remaining = remaining[~overlap]
    return merged


def remove_letterbox(detection: Detection, padding: tuple[float, float, float, float]) -> Detection:
    """Map a detection from letterboxed input coordinates to frame-normalised ones.

    Args:
        detection: In letterboxed coordinates.
        padding: (left, top, right, bottom) as fractions of the input.

    Returns:
        The detection with x' = (x - left) / (1 - left - right), y likewise.
    """
    left, top, right, bottom = padding
    offset = np.array([left, top], dtype=np.float32)
    scale = np.array([1 - left - right, 1 - top - bottom], dtype=np.float32)
    box = ((detection.box.reshape(2, 2) - offset) / scale).reshape(4)
    keypoints = (detection.keypoints - offset) / scale
    return Detection(score=detection.score, box=box, keypoints=keypoints)
