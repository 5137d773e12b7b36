import math

import pytest

from hifipose.blazepose.roi import normalize_angle, roi_from_points


@pytest.mark.parametrize(
    ("size_point", "angle"),
    [
        ((100.0, 60.0), 0.0),  # upright: size point straight above the hips
        ((100.0, 140.0), -math.pi),  # upside down (wrapped into [-π, π))
        ((140.0, 100.0), math.pi / 2),  # lying, head to the right: +90° (clockwise crop)
        ((60.0, 100.0), -math.pi / 2),  # lying, head to the left
    ],
)
def test_values_rotation_sign_is_pinned(size_point: tuple[float, float], angle: float) -> None:
    roi = roi_from_points((100.0, 100.0), size_point)
    assert roi.angle_rad == pytest.approx(angle)
    assert roi.size_px == pytest.approx((2 * 1.25 * 40.0, 2 * 1.25 * 40.0))
    assert roi.center_px == (100.0, 100.0)  # the hip centre, not a box centre


def test_values_small_tilt_is_clockwise_positive() -> None:
    # Head slightly to the right of the hips (image x grows right, y down): positive angle.
    roi = roi_from_points((0.0, 0.0), (10.0, -100.0))
    assert roi.angle_rad == pytest.approx(math.atan2(10.0, 100.0))


def test_values_scale_one_is_the_object_scale_rect() -> None:
    roi = roi_from_points((0.0, 0.0), (3.0, 4.0), scale=1.0)
    assert roi.size_px == (10.0, 10.0)


def test_exception_degenerate_points_give_zero_side() -> None:
    assert roi_from_points((5.0, 5.0), (5.0, 5.0)).size_px == (0.0, 0.0)


@pytest.mark.parametrize(
    ("angle", "wrapped"),
    [(0.0, 0.0), (math.pi, -math.pi), (-math.pi, -math.pi), (3 * math.pi / 2, -math.pi / 2)],
)
def test_normalize_angle(angle: float, wrapped: float) -> None:
    assert normalize_angle(angle) == pytest.approx(wrapped)
