"""Every constant of MediaPipe's Pose graph, pinned by the literal values in blazepose-spec.

The values below are copied from /work/shared/docs/blazepose-spec.md (section in each
comment), never derived from the source: a changed constant, a left/right swap or a rewired
edge fails here even where the parity tests' tolerances would absorb it.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from hifipose.blazepose import anchors, detection, landmarks, roi
from hifipose.config import DetectorConfig
from hifipose.filters import segmentation as mask_filter
from hifipose.filters.one_euro import OneEuroFilter
from hifipose.topology import (
    COCO17_FROM_BLAZEPOSE,
    COCO17_NAMES,
    KEYPOINT_NAMES,
    LEFT_KEYPOINTS,
    RIGHT_KEYPOINTS,
    SKELETON_EDGES,
)
from hifipose.tracker import (
    DEFAULT_FRAME_INTERVAL_US,
    MIN_OBJECT_SCALE,
    PoseFilters,
)


def _one_euro_params(f: OneEuroFilter, row: int = 0) -> tuple[float, float, float, float]:
    """(min_cutoff, beta, derivate_cutoff, initial frequency); of ``row`` where per row."""
    min_cutoff, beta = (float(np.ravel(v)[row]) for v in (f.min_cutoff, f.beta))
    return (min_cutoff, beta, f.derivate_cutoff, f.frequency)


# ---- §5.1 the filters ---------------------------------------------------------------------


def test_one_euro_banks_are_the_graphs() -> None:
    filters = PoseFilters()
    # (min_cutoff, beta, derivate_cutoff, initial frequency)
    # the landmarks' and the auxiliary points' banks run as one, per row (33 + 2)
    assert np.shape(filters.image.min_cutoff) == np.shape(filters.image.beta) == (35, 1)
    for row in range(33):
        assert _one_euro_params(filters.image, row) == (0.05, 80.0, 1.0, 30.0)
    for row in (33, 34):
        assert _one_euro_params(filters.image, row) == (0.01, 10.0, 1.0, 30.0)
    assert _one_euro_params(filters.world) == (0.1, 40.0, 1.0, 30.0)
    assert filters.landmark_visibility.alpha == 0.1
    assert MIN_OBJECT_SCALE == 1e-6
    assert DEFAULT_FRAME_INTERVAL_US == 33_333  # §5.3 step 10


def test_visibility_is_low_passed_with_alpha_one_tenth() -> None:
    filters = PoseFilters()
    image = np.zeros((35, 5), np.float32)
    image[33:] = [[0, 0, 0, 0, 1], [0, -50, 0, 0, 1]]  # the auxiliary points
    filters.smooth_image(image, 0)
    image[:33, 3] = 1.0
    out = filters.smooth_image(image, 33_333)
    np.testing.assert_allclose(out[:33, 3], 0.1, rtol=1e-6)  # 0.1·1 + 0.9·0
    # §5.5: a lost frame resets the 2D and aux filters but not the visibility filter
    filters.on_lost()
    np.testing.assert_allclose(filters.smooth_image(image, 66_666)[:33, 3], 0.19, rtol=1e-6)


def test_aux_filter_is_reset_on_a_lost_frame() -> None:
    filters = PoseFilters()
    image = np.zeros((35, 5), np.float32)
    image[33:] = [[100, 100, 0, 0, 1], [100, 50, 0, 0, 1]]  # the auxiliary points
    # smoothing off: the auxiliary points are still smoothed (they give the next ROI)
    filters.smooth_image(image, 0, body=False)
    filters.on_lost()
    elsewhere = image + np.array([300, 200, 0, 0, 0], np.float32)
    # reset: the first sample after the loss passes through, it is not pulled back
    np.testing.assert_array_equal(filters.smooth_image(elsewhere, 33_333, body=False), elsewhere)


def test_segmentation_smoothing_constants() -> None:
    # §5.6: c1..c5 and the ratio 0.7
    coefficients = (mask_filter._C1, mask_filter._C2, mask_filter._C3, mask_filter._C4)
    assert (*coefficients, mask_filter._C5) == (5.68842, -0.748699, -57.8051, 291.309, -624.717)
    ratio = inspect.signature(mask_filter.smooth_segmentation).parameters
    assert ratio["combine_with_previous_ratio"].default == 0.7
    # fully unsure (p = 0.5): u = 1, so out = p + (prev − p)·0.7
    out = mask_filter.smooth_segmentation(
        np.full((1, 1), 0.5, np.float32), np.full((1, 1), 1.0, np.float32)
    )
    assert out[0, 0] == pytest.approx(0.85, abs=1e-6)


# ---- §1 the detector ----------------------------------------------------------------------


def test_detector_constants() -> None:
    assert detection.DETECTOR_INPUT_SIZE == 224  # §1.1
    assert detection.SCORE_CLIP == 100.0  # §1.4 score_clipping_thresh
    assert detection.NMS_IOU_THRESHOLD == 0.3  # §1.5 min_suppression_threshold
    assert detection.NUM_DETECTOR_KEYPOINTS == 4
    config = DetectorConfig()
    assert config.min_detection_confidence == 0.5  # §4 defaults
    assert config.min_tracking_confidence == 0.5


def test_anchor_options() -> None:
    # §1.3: strides [8, 16, 32, 32, 32], offset 0.5, input 224 → 1568 + 392 + 294 = 2254
    assert anchors.POSE_DETECTOR_STRIDES == (8, 16, 32, 32, 32)
    params = inspect.signature(anchors.ssd_anchor_centers).parameters
    assert params["input_size"].default == 224
    assert params["anchor_offset"].default == 0.5
    centers = anchors.ssd_anchor_centers()
    assert centers.shape == (2254, 2)
    np.testing.assert_allclose(centers[0], (0.5 / 28, 0.5 / 28), rtol=1e-6)
    np.testing.assert_allclose(centers[1567], (27.5 / 28, 27.5 / 28), rtol=1e-6)
    np.testing.assert_allclose(centers[1568], (0.5 / 14, 0.5 / 14), rtol=1e-6)
    np.testing.assert_allclose(centers[1960:1966], [(0.5 / 7, 0.5 / 7)] * 6, rtol=1e-6)
    np.testing.assert_allclose(centers[-1], (6.5 / 7, 6.5 / 7), rtol=1e-6)


def test_nms_merges_strictly_above_iou_three_tenths() -> None:
    def det(x0: float) -> detection.Detection:
        return detection.Detection(
            0.9, np.array([x0, 0, x0 + 1, 1], np.float32), np.zeros((4, 2), np.float32)
        )

    # IoU of [0, 1] and [s, 1 + s] (unit height) is (1 − s) / (1 + s)
    merged_at = 0.5  # IoU 1/3 > 0.3: merged
    apart_at = 0.6  # IoU 0.25 ≤ 0.3: kept apart
    assert len(detection.weighted_nms([det(0.0), det(merged_at)])) == 1
    assert len(detection.weighted_nms([det(0.0), det(apart_at)])) == 2


# ---- §2 / §4 the ROI ----------------------------------------------------------------------


def test_roi_scale_and_shift() -> None:
    assert roi.ROI_SCALE == 1.25
    # side 2.5·|kp1 − kp0|, centred on kp0 (no shift), upright = 0 rad
    r = roi.roi_from_points((100.0, 200.0), (100.0, 160.0))
    assert r.center_px == (100.0, 200.0)
    assert r.size_px == (100.0, 100.0)
    assert r.angle_rad == 0.0


# ---- §3 the landmark model ----------------------------------------------------------------


def test_landmark_constants() -> None:
    assert landmarks.LANDMARK_INPUT_SIZE == 256  # §3.1
    assert landmarks.NUM_MODEL_LANDMARKS == 39  # §3.4
    assert landmarks.HEATMAP_KERNEL == 7  # §3.5: 7 in the graph (9 only in legacy Python)
    assert landmarks.MIN_CONFIDENCE_TO_REFINE == 0.5  # §3.5 default


def _one_peak(row: int, col: int, logit: float) -> np.ndarray:
    heatmap = np.full((64, 64, 39), -30.0, np.float32)
    heatmap[row, col, 0] = logit
    return heatmap


@pytest.mark.parametrize(
    ("peak_col", "refined"),
    [(33, True), (39, True), (32, False), (40, False)],  # kernel 9 would reach 32 and 40
)
def test_refinement_window_is_seven_cells(peak_col: int, refined: bool) -> None:
    points = np.zeros((39, 5), np.float32)
    points[0, :2] = (36.5 / 64, 20.5 / 64)  # cell (col 36, row 20): window cols 33..39
    out = landmarks.refine_with_heatmap(points, _one_peak(20, peak_col, 30.0))
    if refined:
        assert out[0, 0] == pytest.approx(peak_col / 64, abs=1e-6)
    else:
        np.testing.assert_array_equal(out, points)


@pytest.mark.parametrize(
    ("peak_col", "refined"), [(32, True), (40, True), (31, False), (41, False)]
)
def test_legacy_python_refinement_window_is_nine_cells(peak_col: int, refined: bool) -> None:
    assert landmarks.LEGACY_PYTHON_HEATMAP_KERNEL == 9  # §3.5: mp.solutions.pose's window
    points = np.zeros((39, 5), np.float32)
    points[0, :2] = (36.5 / 64, 20.5 / 64)  # cell (col 36, row 20): window cols 32..40
    out = landmarks.refine_with_heatmap(points, _one_peak(20, peak_col, 30.0), kernel_size=9)
    if refined:
        assert out[0, 0] == pytest.approx(peak_col / 64, abs=1e-6)
    else:
        np.testing.assert_array_equal(out, points)


@pytest.mark.parametrize(
    ("confidence", "refined"), [(0.5, True), (0.55, True), (0.65, True), (0.45, False)]
)
def test_refinement_threshold_is_one_half(confidence: float, refined: bool) -> None:
    points = np.zeros((39, 5), np.float32)
    points[0, :2] = (20.2 / 64, 20.2 / 64)
    logit = float(np.log(confidence / (1 - confidence)))
    out = landmarks.refine_with_heatmap(points, _one_peak(22, 22, logit))
    moved = not np.array_equal(out[0, :2], points[0, :2])
    assert moved == refined


# ---- §6 keypoints and skeleton ------------------------------------------------------------

#: blazepose-spec §6's name table, by index.
SPEC_NAMES = [
    "NOSE", "LEFT_EYE_INNER", "LEFT_EYE", "LEFT_EYE_OUTER", "RIGHT_EYE_INNER", "RIGHT_EYE",
    "RIGHT_EYE_OUTER", "LEFT_EAR", "RIGHT_EAR", "MOUTH_LEFT", "MOUTH_RIGHT", "LEFT_SHOULDER",
    "RIGHT_SHOULDER", "LEFT_ELBOW", "RIGHT_ELBOW", "LEFT_WRIST", "RIGHT_WRIST", "LEFT_PINKY",
    "RIGHT_PINKY", "LEFT_INDEX", "RIGHT_INDEX", "LEFT_THUMB", "RIGHT_THUMB", "LEFT_HIP",
    "RIGHT_HIP", "LEFT_KNEE", "RIGHT_KNEE", "LEFT_ANKLE", "RIGHT_ANKLE", "LEFT_HEEL",
    "RIGHT_HEEL", "LEFT_FOOT_INDEX", "RIGHT_FOOT_INDEX",
]  # fmt: skip

#: blazepose-spec §6's 35 edges (POSE_CONNECTIONS), by index.
SPEC_EDGES = {
    # face
    (0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10),
    # torso
    (11, 12), (11, 23), (12, 24), (23, 24),
    # left arm and hand
    (11, 13), (13, 15), (15, 17), (15, 19), (15, 21), (17, 19),
    # right arm and hand
    (12, 14), (14, 16), (16, 18), (16, 20), (16, 22), (18, 20),
    # left leg
    (23, 25), (25, 27), (27, 29), (29, 31), (27, 31),
    # right leg
    (24, 26), (26, 28), (28, 30), (30, 32), (28, 32),
}  # fmt: skip

#: COCO-17 (in COCO order) from BlazePose indices (shared/data/README.md, labelled/).
SPEC_COCO17 = (0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)


def test_names_are_the_spec_table() -> None:
    assert [name.upper() for name in KEYPOINT_NAMES] == SPEC_NAMES


def test_skeleton_is_the_spec_edge_list() -> None:
    assert len(SPEC_EDGES) == 35
    assert len(SKELETON_EDGES) == 35
    assert {(int(a), int(b)) for a, b in SKELETON_EDGES} == SPEC_EDGES


def test_coco17_mapping_is_the_literal_table() -> None:
    assert tuple(int(k) for k in COCO17_FROM_BLAZEPOSE) == SPEC_COCO17
    assert COCO17_NAMES[11:13] == ("left_hip", "right_hip")


def test_sides_are_the_spec_lists() -> None:
    # §6: left 1, 2, 3, 7, 9, 11, 13, …, 31; right 4, 5, 6, 8, 10, 12, …, 32
    assert {int(k) for k in LEFT_KEYPOINTS} == {1, 2, 3, 7, 9, *range(11, 32, 2)}
    assert {int(k) for k in RIGHT_KEYPOINTS} == {4, 5, 6, 8, 10, *range(12, 33, 2)}
