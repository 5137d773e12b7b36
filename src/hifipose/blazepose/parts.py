"""Holistic stages (after ⑥): hand and face ROIs from the pose, model decoding, tracking.

Pure numpy on pixel coordinates: what MediaPipe's Holistic graph does after the pose
(docs/holistic-spec.md). Each part (left hand, right hand, face) goes pose → search ROI →
refined ROI (the hand recrop model, or the face detector) → tracking ROI (the previous
frame's landmarks' ROI while it stays close to the refined one) → landmark model.

Conventions:
    Pixels of the input frame, origin top-left, x right, y down; ROIs as in
    :mod:`hifipose.blazepose.roi` (angle positive clockwise on screen, in [-π, π)).
    Landmarks are (N, 3): x, y in pixels, z in pixel scale (z times the crop's width, as the
    body's). Rect transformations follow MediaPipe's ``RectTransformationCalculator``: shift
    by a fraction of the rect's own size along its rotated axes, then make it square on its
    long side, then scale.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
from numpy.typing import NDArray

from hifipose.blazepose.anchors import ssd_anchor_centers
from hifipose.blazepose.detection import SCORE_CLIP, Detection, weighted_nms
from hifipose.blazepose.roi import Roi, normalize_angle

__all__ = [
    "FACE_DETECTOR_SIZE",
    "FACE_EYE_POINTS",
    "FACE_INPUT_SIZE",
    "FACE_LIPS_POINTS",
    "FACE_TRACKING",
    "HAND_INPUT_SIZE",
    "HAND_TRACKING",
    "MIN_FACE_PRESENCE",
    "MIN_HAND_PRESENCE",
    "MIN_WRIST_VISIBILITY",
    "PALM_POINTS",
    "RECROP_INPUT_SIZE",
    "TrackingRule",
    "decode_face_detections",
    "decode_face_landmarks",
    "decode_face_landmarks_with_attention",
    "decode_hand_landmarks",
    "face_roi_from_detection",
    "face_roi_from_landmarks",
    "face_roi_from_pose",
    "hand_roi_from_landmarks",
    "hand_roi_from_pose",
    "hand_roi_from_recrop",
    "keep_tracking",
    "transform_rect",
]

HAND_INPUT_SIZE: Final = 224
RECROP_INPUT_SIZE: Final = 256
FACE_INPUT_SIZE: Final = 192
FACE_DETECTOR_SIZE: Final = 128
#: A hand is looked for only where the pose's wrist visibility is above this.
MIN_WRIST_VISIBILITY: Final = 0.1
#: The hand and face models' presence gates (``ThresholdingCalculator``: strictly above).
MIN_HAND_PRESENCE: Final = 0.5
MIN_FACE_PRESENCE: Final = 0.5
#: The hand model's z is divided by this after the crop normalisation (``normalize_z``).
HAND_Z_NORMALIZE: Final = 0.4
#: The face detector: anchor strides, score gate and NMS overlap (face_detection_short_range).
FACE_DETECTOR_STRIDES: Final = (8, 16, 16, 16)
MIN_FACE_DETECTION_SCORE: Final = 0.5
_NUM_FACE_DETECTOR_KEYPOINTS: Final = 6
#: The hand points that place the next frame's tracking ROI: wrist, thumb 1–3, and the two
#: lowest joints of the other four fingers.
PALM_POINTS: Final = (0, 1, 2, 3, 5, 6, 9, 10, 13, 14, 17, 18)
#: The face model with attention (``refine_face_landmarks``): the mesh points its lips output
#: replaces, in the output's order (MediaPipe's ``tensors_to_face_landmarks_with_attention``).
#: The model's own attention crops are placed from these same points (docs/holistic-spec.md §10).
FACE_LIPS_POINTS: Final = (
    *(61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291),  # lower outer
    *(185, 40, 39, 37, 0, 267, 269, 270, 409),  # upper outer, corners left out
    *(78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308),  # lower inner
    *(191, 80, 81, 82, 13, 312, 311, 310, 415),  # upper inner
    *(76, 77, 90, 180, 85, 16, 315, 404, 320, 307, 306),  # lower semi-outer
    *(184, 74, 73, 72, 11, 302, 303, 304, 408),  # upper semi-outer
    *(62, 96, 89, 179, 86, 15, 316, 403, 319, 325, 292),  # lower semi-inner
    *(183, 42, 41, 38, 12, 268, 271, 272, 407),  # upper semi-inner
)
#: The mesh points each eye output replaces (the person's left eye first, as the model's
#: outputs come): the eye's lower and upper contour (16 points, which also set the iris depth),
#: then four halos and the eyebrow.
FACE_EYE_POINTS: Final = (
    (
        *(33, 7, 163, 144, 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173),
        *(130, 25, 110, 24, 23, 22, 26, 112, 243, 247, 30, 29, 27, 28, 56, 190),
        *(226, 31, 228, 229, 230, 231, 232, 233, 244, 113, 225, 224, 223, 222, 221, 189),
        *(35, 124, 46, 53, 52, 65, 143, 111, 117, 118, 119, 120, 121, 128, 245),
        *(156, 70, 63, 105, 66, 107, 55, 193),
    ),
    (
        *(263, 249, 390, 373, 374, 380, 381, 382, 362, 466, 388, 387, 386, 385, 384, 398),
        *(359, 255, 339, 254, 253, 252, 256, 341, 463, 467, 260, 259, 257, 258, 286, 414),
        *(446, 261, 448, 449, 450, 451, 452, 453, 464, 342, 445, 444, 443, 442, 441, 413),
        *(265, 353, 276, 283, 282, 295, 372, 340, 346, 347, 348, 349, 350, 357, 465),
        *(383, 300, 293, 334, 296, 336, 285, 417),
    ),
)
_EYE_CONTOUR: Final = 16
_MESH_POINTS, _IRIS_POINTS = 468, 5
#: Face mesh points that set the face ROI's rotation: one outer eye corner to the other.
_FACE_EYE_START, _FACE_EYE_END = 33, 263
#: Pose points (of the 11 face points 0..10) that set the face ROI's rotation from the pose.
_POSE_RIGHT_EYE, _POSE_LEFT_EYE = 5, 2


class TrackingRule:
    """When a part's previous ROI may be kept (MediaPipe ``RoiTrackingCalculator``).

    Attributes:
        rotation_deg: Most rotation between the previous ROI and the refined one.
        translation: Most centre shift along each of the refined ROI's axes, as a fraction
            of its side.
        scale: Most change of width or height, as a fraction of the refined ROI's.
        margin: The previous landmarks must all lie inside the refined ROI grown by this
            fraction (negative: shrunk).
    """

    __slots__ = ("margin", "rotation_deg", "scale", "translation")

    def __init__(
        self, rotation_deg: float, translation: float, scale: float, margin: float
    ) -> None:
        self.rotation_deg = rotation_deg
        self.translation = translation
        self.scale = scale
        self.margin = margin


HAND_TRACKING: Final = TrackingRule(rotation_deg=40.0, translation=0.2, scale=0.4, margin=-0.1)
FACE_TRACKING: Final = TrackingRule(rotation_deg=15.0, translation=0.1, scale=0.3, margin=-0.2)


def _angle(start: NDArray[np.float64], end: NDArray[np.float64], target_rad: float) -> float:
    """The rotation that turns the start→end vector to ``target_rad`` (y up), wrapped."""
    return normalize_angle(target_rad - math.atan2(-(end[1] - start[1]), end[0] - start[0]))


def transform_rect(
    roi: Roi, *, scale: float, shift_y: float = 0.0, square_long: bool = True
) -> Roi:
    """Shift ``roi`` along its own y axis by ``shift_y`` of its height, square it, scale it.

    Args:
        roi: The rect in pixels.
        scale: Factor applied to both sides after squaring.
        shift_y: Shift along the rect's rotated y axis, as a fraction of its height.
        square_long: Make both sides the longer one before scaling.

    Returns:
        The new rect; rotation unchanged.
    """
    width, height = roi.size_px
    cos, sin = math.cos(roi.angle_rad), math.sin(roi.angle_rad)
    cx = roi.center_px[0] - height * shift_y * sin
    cy = roi.center_px[1] + height * shift_y * cos
    if square_long:
        width = height = max(width, height)
    return Roi((cx, cy), (width * scale, height * scale), roi.angle_rad)


def hand_roi_from_pose(
    wrist: NDArray[np.float64], pinky: NDArray[np.float64], index: NDArray[np.float64]
) -> Roi:
    """The hand's search ROI from the pose's wrist, pinky and index points (pixels).

    The middle finger is guessed at two thirds of the way from pinky to index; the rect is
    centred there, twice the wrist–middle distance wide, turned so the wrist→middle vector
    points up, then grown 2.7× and shifted by −0.1 of its side towards the fingers.
    """
    middle = (2.0 * index + pinky) / 3.0
    side = 2.0 * float(np.hypot(*(middle - wrist)))
    rect = Roi(
        (float(middle[0]), float(middle[1])), (side, side), _angle(wrist, middle, math.pi / 2)
    )
    return transform_rect(rect, scale=2.7, shift_y=-0.1)


def hand_roi_from_recrop(points: NDArray[np.float64]) -> Roi:
    """The refined hand ROI from the recrop model's two points (pixels): centre, then scale.

    Centred on the first point, twice the distance between the two wide, turned so the
    first→second vector points down (target −90°), then shifted by −0.1 of its side.
    """
    start, end = points[0], points[1]
    side = 2.0 * float(np.hypot(*(end - start)))
    rect = Roi((float(start[0]), float(start[1])), (side, side), _angle(start, end, -math.pi / 2))
    return transform_rect(rect, scale=1.0, shift_y=-0.1)


def _rotated_bounds_rect(points: NDArray[np.float64], angle_rad: float) -> Roi:
    """The smallest rect at ``angle_rad`` holding ``points`` (MediaPipe's hand-rect rule)."""
    low, high = points.min(axis=0), points.max(axis=0)
    centre = (low + high) / 2.0
    cos, sin = math.cos(-angle_rad), math.sin(-angle_rad)
    rel = points - centre
    px = rel[:, 0] * cos - rel[:, 1] * sin
    py = rel[:, 0] * sin + rel[:, 1] * cos
    pcx, pcy = (px.max() + px.min()) / 2.0, (py.max() + py.min()) / 2.0
    cos, sin = math.cos(angle_rad), math.sin(angle_rad)
    cx = pcx * cos - pcy * sin + centre[0]
    cy = pcx * sin + pcy * cos + centre[1]
    size = (float(px.max() - px.min()), float(py.max() - py.min()))
    return Roi((float(cx), float(cy)), size, angle_rad)


def hand_roi_from_landmarks(landmarks: NDArray[np.float64]) -> Roi:
    """The tracking ROI from a frame's 21 hand landmarks (pixels), for the next frame.

    Only the 12 palm points count (:data:`PALM_POINTS`: the wrist and the two lowest joints
    of each finger). Rotation: the wrist towards the mean of the index and ring knuckles'
    midpoint with the middle knuckle, target 90°; the rect is the tightest one at that
    rotation around the palm points, then shifted −0.1 of its side, squared, grown 2×
    (docs/holistic-spec.md §3).
    """
    xy = landmarks[PALM_POINTS, :2].astype(np.float64)
    # in the palm subset: 0 wrist, 4 index knuckle, 6 middle knuckle, 8 ring knuckle
    target = ((xy[4] + xy[8]) / 2.0 + xy[6]) / 2.0
    rect = _rotated_bounds_rect(xy, _angle(xy[0], target, math.pi / 2))
    return transform_rect(rect, scale=2.0, shift_y=-0.1)


def face_roi_from_pose(face_points: NDArray[np.float64]) -> Roi:
    """The face's search ROI from the pose's 11 face points (0..10, pixels).

    The axis-aligned box of the points, turned by the right-eye→left-eye angle (target 0),
    squared on its long side and grown 3×.
    """
    xy = face_points[:, :2].astype(np.float64)
    low, high = xy.min(axis=0), xy.max(axis=0)
    centre = (low + high) / 2.0
    rect = Roi(
        (float(centre[0]), float(centre[1])),
        (float(high[0] - low[0]), float(high[1] - low[1])),
        _angle(xy[_POSE_RIGHT_EYE], xy[_POSE_LEFT_EYE], 0.0),
    )
    return transform_rect(rect, scale=3.0)


def face_roi_from_detection(keypoints: NDArray[np.float64]) -> Roi:
    """The refined face ROI from the face detector's 6 keypoints (pixels).

    The axis-aligned box of the keypoints, turned by the keypoint 0→1 (eye to eye) angle
    (target 0), shifted −0.1 of its height, squared and grown 2×.
    """
    low, high = keypoints.min(axis=0), keypoints.max(axis=0)
    centre = (low + high) / 2.0
    rect = Roi(
        (float(centre[0]), float(centre[1])),
        (float(high[0] - low[0]), float(high[1] - low[1])),
        _angle(keypoints[0], keypoints[1], 0.0),
    )
    return transform_rect(rect, scale=2.0, shift_y=-0.1)


def face_roi_from_landmarks(landmarks: NDArray[np.float64]) -> Roi:
    """The tracking ROI from a frame's face mesh (pixels), for the next frame.

    The box of all points, turned by the eye-to-eye angle (points 33→263, target 0),
    squared and grown 1.5×.
    """
    xy = landmarks[:, :2].astype(np.float64)
    low, high = xy.min(axis=0), xy.max(axis=0)
    centre = (low + high) / 2.0
    rect = Roi(
        (float(centre[0]), float(centre[1])),
        (float(high[0] - low[0]), float(high[1] - low[1])),
        _angle(xy[_FACE_EYE_START], xy[_FACE_EYE_END], 0.0),
    )
    return transform_rect(rect, scale=1.5)


def keep_tracking(
    prev_roi: Roi, prev_landmarks: NDArray[np.float64], refined: Roi, rule: TrackingRule
) -> bool:
    """Whether the previous frame's ROI may be used instead of this frame's refined ROI.

    Both rects are seen in the refined ROI's axes: the rotation must differ by at most
    ``rule.rotation_deg``, each centre coordinate by at most ``rule.translation`` of the
    refined side, each side by at most ``rule.scale`` of the refined side, and every previous
    landmark must lie strictly inside the refined ROI grown by ``rule.margin``.
    """
    cos, sin = math.cos(-refined.angle_rad), math.sin(-refined.angle_rad)

    def turned(x: float, y: float) -> tuple[float, float]:
        return x * cos - y * sin, x * sin + y * cos

    diff = math.degrees(prev_roi.angle_rad - refined.angle_rad)
    if diff > 180.0:
        diff -= 360.0
    if diff < -180.0:
        diff += 360.0
    px, py = turned(*prev_roi.center_px)
    rx, ry = turned(*refined.center_px)
    rw, rh = refined.size_px
    ok = abs(diff) <= rule.rotation_deg
    ok &= abs(px - rx) <= rw * rule.translation and abs(py - ry) <= rh * rule.translation
    ok &= abs(prev_roi.size_px[0] - rw) <= rw * rule.scale
    ok &= abs(prev_roi.size_px[1] - rh) <= rh * rule.scale
    if not ok:
        return False
    half_w, half_h = rw * (1.0 + rule.margin) / 2.0, rh * (1.0 + rule.margin) / 2.0
    xy = prev_landmarks[:, :2].astype(np.float64)
    lx = xy[:, 0] * cos - xy[:, 1] * sin
    ly = xy[:, 0] * sin + xy[:, 1] * cos
    inside = (rx - half_w < lx) & (lx < rx + half_w) & (ry - half_h < ly) & (ly < ry + half_h)
    return bool(inside.all())


def decode_hand_landmarks(raw: NDArray[np.float32]) -> NDArray[np.float32]:
    """The hand model's (63,) output → (21, 3) crop-normalised x, y, z (z / 224 / 0.4)."""
    points = raw.reshape(21, 3).astype(np.float32) / np.float32(HAND_INPUT_SIZE)
    points[:, 2] /= np.float32(HAND_Z_NORMALIZE)
    return points


def decode_face_landmarks(raw: NDArray[np.float32]) -> NDArray[np.float32]:
    """The face model's (1404,) mesh output → (468, 3) crop-normalised x, y, z (all / 192)."""
    return raw.reshape(468, 3).astype(np.float32) / np.float32(FACE_INPUT_SIZE)


def decode_face_landmarks_with_attention(
    mesh: NDArray[np.float32],
    lips: NDArray[np.float32],
    eyes: tuple[NDArray[np.float32], NDArray[np.float32]],
    irises: tuple[NDArray[np.float32], NDArray[np.float32]],
) -> NDArray[np.float32]:
    """The attention face model's outputs → (478, 3) crop-normalised x, y, z (all / 192).

    The mesh (468 × xyz) is refined as MediaPipe's ``LandmarksRefinementCalculator`` does:
    the lips (80 × xy) and each eye (71 × xy) replace x and y of the mesh points in
    :data:`FACE_LIPS_POINTS` / :data:`FACE_EYE_POINTS` (their z stays the mesh's); each iris
    (5 × xy: centre, then the edges) becomes points 468–472 (left) and 473–477 (right), its z
    the mean mesh z of that eye's 16 contour points.

    Args:
        mesh: The mesh output (1404 values).
        lips: The lips output (160).
        eyes: The left and right eye outputs (142 each), in the model's output order.
        irises: The left and right iris outputs (10 each).
    """
    points = np.zeros((_MESH_POINTS + 2 * _IRIS_POINTS, 3), np.float32)
    points[:_MESH_POINTS] = mesh.reshape(_MESH_POINTS, 3)
    points[list(FACE_LIPS_POINTS), :2] = lips.reshape(-1, 2)
    for indices, eye in zip(FACE_EYE_POINTS, eyes, strict=True):
        points[list(indices), :2] = eye.reshape(-1, 2)
    for side, (indices, iris) in enumerate(zip(FACE_EYE_POINTS, irises, strict=True)):
        rows = slice(_MESH_POINTS + side * _IRIS_POINTS, _MESH_POINTS + (side + 1) * _IRIS_POINTS)
        points[rows, :2] = iris.reshape(_IRIS_POINTS, 2)
        points[rows, 2] = points[list(indices[:_EYE_CONTOUR]), 2].mean(dtype=np.float32)
    return points / np.float32(FACE_INPUT_SIZE)


def decode_face_detections(
    raw_boxes: NDArray[np.float32], raw_scores: NDArray[np.float32]
) -> list[Detection]:
    """The face detector's outputs → its weighted-NMS survivors, best first.

    In letterboxed input fractions; keypoints (6, 2): the eyes, nose, mouth and ear regions.
    """
    boxes = raw_boxes.reshape(-1, 4 + 2 * _NUM_FACE_DETECTOR_KEYPOINTS).astype(np.float64)
    logits = np.clip(raw_scores.reshape(-1).astype(np.float64), -SCORE_CLIP, SCORE_CLIP)
    scores = 1.0 / (1.0 + np.exp(-logits))
    keep = np.flatnonzero(scores >= MIN_FACE_DETECTION_SCORE)
    if keep.size == 0:
        return []
    anchors = ssd_anchor_centers(FACE_DETECTOR_SIZE, FACE_DETECTOR_STRIDES).astype(np.float64)
    rows = boxes[keep] / FACE_DETECTOR_SIZE
    centre = rows[:, 0:2] + anchors[keep]
    size = rows[:, 2:4]
    corners = np.concatenate([centre - size / 2, centre + size / 2], axis=1)
    keypoints = rows[:, 4:].reshape(-1, _NUM_FACE_DETECTOR_KEYPOINTS, 2) + anchors[keep][:, None]
    order = np.argsort(-scores[keep], kind="stable")
    detections = [
        Detection(
            score=float(scores[keep[i]]),
            box=corners[i].astype(np.float32),
            keypoints=keypoints[i].astype(np.float32),
        )
        for i in order
        if np.all(size[i] >= 0)
    ]
    return weighted_nms(detections)
