import math

import numpy as np
import pytest

from hifipose.blazepose.anchors import ssd_anchor_centers
from hifipose.blazepose.detection import (
    Detection,
    decode_detections,
    remove_letterbox,
    weighted_nms,
)


def _raw(rows: dict[int, list[float]], logits: dict[int, float]) -> tuple[np.ndarray, np.ndarray]:
    boxes = np.zeros((1, 2254, 12), np.float32)
    scores = np.full((1, 2254, 1), -50.0, np.float32)
    for index, row in rows.items():
        boxes[0, index] = row
    for index, logit in logits.items():
        scores[0, index, 0] = logit
    return boxes, scores


def test_smoke_no_detection_below_threshold() -> None:
    boxes, scores = _raw({}, {})
    assert decode_detections(boxes, scores, min_score=0.5) == []


def test_values_decodes_a_hand_made_row() -> None:
    anchor = 1000
    ax, ay = ssd_anchor_centers()[anchor]
    # centre offset (+22.4, -11.2) px, size 44.8 × 89.6 px, keypoints at fixed offsets
    row = [22.4, -11.2, 44.8, 89.6, 0.0, 0.0, 11.2, -22.4, -11.2, 0.0, 0.0, 33.6]
    boxes, scores = _raw({anchor: row}, {anchor: 2.0})
    (det,) = decode_detections(boxes, scores, min_score=0.5)
    assert det.score == pytest.approx(1 / (1 + math.exp(-2.0)))
    xc, yc = ax + 0.1, ay - 0.05
    np.testing.assert_allclose(det.box, [xc - 0.1, yc - 0.2, xc + 0.1, yc + 0.2], atol=1e-6)
    np.testing.assert_allclose(
        det.keypoints,
        [[ax, ay], [ax + 0.05, ay - 0.1], [ax - 0.05, ay], [ax, ay + 0.15]],
        atol=1e-6,
    )


def test_values_threshold_is_inclusive_and_sorted() -> None:
    boxes, scores = _raw(
        {10: [0, 0, 20, 20] + [0] * 8, 20: [0, 0, 20, 20] + [0] * 8},
        {10: 0.0, 20: 3.0},  # sigmoid(0) = 0.5 exactly: kept (score >= threshold)
    )
    dets = decode_detections(boxes, scores, min_score=0.5)
    assert [round(d.score, 4) for d in dets] == [round(1 / (1 + math.exp(-3)), 4), 0.5]


def test_exception_negative_size_is_dropped() -> None:
    boxes, scores = _raw({5: [0, 0, -10, 10] + [0] * 8}, {5: 5.0})
    assert decode_detections(boxes, scores, min_score=0.5) == []


def _det(score: float, box: list[float], kp_x: float) -> Detection:
    return Detection(
        score=score,
        box=np.array(box, np.float32),
        keypoints=np.full((4, 2), kp_x, np.float32),
    )


def test_values_weighted_nms_averages_overlapping_boxes() -> None:
    a = _det(0.9, [0.0, 0.0, 1.0, 1.0], 0.2)
    b = _det(0.6, [0.1, 0.0, 1.1, 1.0], 0.5)  # IoU with a = 0.9 / 1.1 > 0.3
    c = _det(0.55, [5.0, 5.0, 6.0, 6.0], 0.9)  # far away: its own group
    merged = weighted_nms([a, b, c])
    assert len(merged) == 2
    assert merged[0].score == pytest.approx(0.9)  # keeps the top score, not the mean
    w = 0.9 / 1.5
    np.testing.assert_allclose(
        merged[0].box, [0.1 * (1 - w), 0, 1.0 * w + 1.1 * (1 - w), 1], atol=1e-6
    )
    np.testing.assert_allclose(
        merged[0].keypoints, np.full((4, 2), 0.2 * w + 0.5 * (1 - w)), atol=1e-6
    )
    np.testing.assert_allclose(merged[1].box, c.box)


@pytest.mark.parametrize(("iou", "groups"), [(0.31, 1), (0.29, 2)])
def test_values_weighted_nms_merges_only_above_threshold(iou: float, groups: int) -> None:
    a = _det(0.9, [0.0, 0.0, 1.0, 1.0], 0.0)
    inter = 2 * iou / (1 + iou)  # two unit squares overlapping by `inter` have this IoU
    b = _det(0.8, [1.0 - inter, 0.0, 2.0 - inter, 1.0], 1.0)
    assert len(weighted_nms([a, b])) == groups


def test_values_remove_letterbox() -> None:
    det = _det(0.9, [0.25, 0.25, 0.75, 0.5], 0.5)
    out = remove_letterbox(det, (0.0, 0.25, 0.0, 0.25))
    np.testing.assert_allclose(out.box, [0.25, 0.0, 0.75, 0.5])
    np.testing.assert_allclose(out.keypoints[:, 1], 0.5)
    np.testing.assert_allclose(out.keypoints[:, 0], 0.5)
