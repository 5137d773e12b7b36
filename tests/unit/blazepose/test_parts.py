"""The Holistic part stages (hifipose.blazepose.parts): ROI geometry and the tracking rule."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hifipose.blazepose.parts import (
    FACE_EYE_POINTS,
    FACE_LIPS_POINTS,
    FACE_TRACKING,
    HAND_TRACKING,
    PALM_POINTS,
    decode_face_landmarks_with_attention,
    decode_hand_landmarks,
    face_roi_from_pose,
    hand_roi_from_landmarks,
    hand_roi_from_pose,
    hand_roi_from_recrop,
    keep_tracking,
    transform_rect,
)
from hifipose.blazepose.roi import Roi


def test_transform_rect_shifts_along_the_turned_axis_then_squares_then_scales() -> None:
    rect = Roi((100.0, 50.0), (20.0, 40.0), math.pi / 2)  # turned a quarter clockwise
    out = transform_rect(rect, scale=2.0, shift_y=-0.1)
    # −0.1 of the height (4 px) along the rect's y axis, which points to −x on screen
    assert out.center_px == pytest.approx((104.0, 50.0))
    assert out.size_px == pytest.approx((80.0, 80.0))
    assert out.angle_rad == rect.angle_rad


def test_hand_roi_from_pose_centres_on_the_guessed_middle_finger() -> None:
    wrist = np.array([100.0, 200.0])
    pinky, index = np.array([90.0, 170.0]), np.array([120.0, 170.0])  # fingers up
    roi = hand_roi_from_pose(wrist, pinky, index)
    middle = (2 * index + pinky) / 3  # (110, 170), 31.6 px from the wrist
    side = 2.7 * 2 * float(np.hypot(*(middle - wrist)))
    assert roi.size_px == pytest.approx((side, side))
    # upright hand: the angle is the wrist→middle tilt; the shift moves it towards the fingers
    assert roi.angle_rad == pytest.approx(math.atan2(10.0, 30.0))
    shift = 0.1 * side / 2.7
    assert roi.center_px[0] == pytest.approx(middle[0] + shift * math.sin(roi.angle_rad))
    assert roi.center_px[1] == pytest.approx(middle[1] - shift * math.cos(roi.angle_rad))


def test_recrop_points_set_centre_and_size_pointing_down() -> None:
    roi = hand_roi_from_recrop(np.array([[50.0, 50.0], [50.0, 80.0]]))
    assert roi.angle_rad == pytest.approx(0.0)  # second point straight below: no turn
    assert roi.size_px == pytest.approx((60.0, 60.0))
    assert roi.center_px == pytest.approx((50.0, 44.0))


def test_hand_tracking_roi_reads_only_the_palm_points() -> None:
    rng = np.random.default_rng(0)
    hand = rng.uniform(100, 200, size=(21, 3))
    moved = hand.copy()
    fingertips = [i for i in range(21) if i not in PALM_POINTS]
    moved[fingertips, :2] += 500.0
    assert hand_roi_from_landmarks(moved) == hand_roi_from_landmarks(hand)


def test_face_roi_from_pose_is_three_times_the_face_points_box() -> None:
    points = np.zeros((11, 3))
    points[:, 0] = np.linspace(80, 120, 11)
    points[:, 1] = 100.0
    points[0, 1] = 110.0
    points[2, :2] = (110.0, 100.0)  # left eye right of the right eye: level face
    points[5, :2] = (90.0, 100.0)
    roi = face_roi_from_pose(points)
    assert roi.angle_rad == pytest.approx(0.0)
    assert roi.size_px == pytest.approx((120.0, 120.0))
    assert roi.center_px == pytest.approx((100.0, 105.0))


def test_tracking_keeps_a_close_roi_and_drops_a_moved_one() -> None:
    refined = Roi((100.0, 100.0), (50.0, 50.0), 0.0)
    inside = np.array([[100.0, 100.0, 0.0], [110.0, 90.0, 0.0]])
    assert keep_tracking(Roi((105.0, 100.0), (55.0, 55.0), 0.1), inside, refined, HAND_TRACKING)
    moved = Roi((115.0, 100.0), (50.0, 50.0), 0.0)  # 0.3 of the side, over the hand's 0.2
    assert not keep_tracking(moved, inside, refined, HAND_TRACKING)
    turned = Roi((100.0, 100.0), (50.0, 50.0), math.radians(20))  # over the face's 15°
    assert not keep_tracking(turned, inside, refined, FACE_TRACKING)
    assert keep_tracking(turned, inside, refined, HAND_TRACKING)
    outside = np.array([[100.0, 100.0, 0.0], [123.0, 100.0, 0.0]])  # past the −10 % margin
    assert not keep_tracking(refined, outside, refined, HAND_TRACKING)


def test_hand_z_is_normalised_by_the_crop_and_0_4() -> None:
    raw = np.arange(63, dtype=np.float32)
    points = decode_hand_landmarks(raw)
    assert points[1] == pytest.approx([3 / 224, 4 / 224, 5 / 224 / 0.4])


def test_attention_outputs_refine_the_mesh_and_append_the_irises() -> None:
    rng = np.random.default_rng(5)
    mesh = rng.uniform(0, 192, 1404).astype(np.float32)
    lips = rng.uniform(0, 192, 160).astype(np.float32)
    eyes = (
        rng.uniform(0, 192, 142).astype(np.float32),
        rng.uniform(0, 192, 142).astype(np.float32),
    )
    irises = (
        rng.uniform(0, 192, 10).astype(np.float32),
        rng.uniform(0, 192, 10).astype(np.float32),
    )
    points = decode_face_landmarks_with_attention(mesh, lips, eyes, irises) * 192
    assert points.shape == (478, 3)
    plain = mesh.reshape(468, 3)
    replaced = {*FACE_LIPS_POINTS, *FACE_EYE_POINTS[0], *FACE_EYE_POINTS[1]}
    assert len(replaced) == 80 + 71 + 71  # no mesh point is refined twice
    kept = [i for i in range(468) if i not in replaced]
    np.testing.assert_allclose(points[kept], plain[kept], rtol=1e-6)
    np.testing.assert_allclose(points[:468, 2], plain[:, 2], rtol=1e-6)  # z stays the mesh's
    np.testing.assert_allclose(points[list(FACE_LIPS_POINTS), :2], lips.reshape(80, 2), rtol=1e-6)
    for side, (indices, eye, iris) in enumerate(zip(FACE_EYE_POINTS, eyes, irises, strict=True)):
        np.testing.assert_allclose(points[list(indices), :2], eye.reshape(71, 2), rtol=1e-6)
        rows = points[468 + 5 * side : 473 + 5 * side]
        np.testing.assert_allclose(rows[:, :2], iris.reshape(5, 2), rtol=1e-6)
        contour_z = plain[list(indices[:16]), 2].mean()  # the eye's lower and upper contour
        np.testing.assert_allclose(rows[:, 2], contour_z, rtol=1e-5)
