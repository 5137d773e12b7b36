"""drawing_utils on hand-made landmarks (the pixel comparison with MediaPipe's drawing is in
test_against_mediapipe.py)."""

from __future__ import annotations

import numpy as np
import pytest

from hifipose.errors import RuntimeUnavailableError
from hifipose.solutions import drawing_utils
from hifipose.solutions.drawing_utils import (
    RED_COLOR,
    WHITE_COLOR,
    DrawingSpec,
    _normalized_to_pixel_coordinates,
    draw_landmarks,
)
from hifipose.solutions.landmark_pb2 import NormalizedLandmark, NormalizedLandmarkList


def _two_points(**second: float) -> NormalizedLandmarkList:
    return NormalizedLandmarkList(
        landmark=[NormalizedLandmark(x=0.25, y=0.5), NormalizedLandmark(x=0.75, y=0.5, **second)]
    )


def test_a_landmark_is_a_colour_dot_in_a_white_ring() -> None:
    image = np.zeros((100, 100, 3), np.uint8)
    draw_landmarks(image, _two_points(), landmark_drawing_spec=DrawingSpec(RED_COLOR, 2, 4))
    assert tuple(image[50, 25]) == (0, 0, 0)  # thickness 2: a circle, not a disc
    # radius 4, thickness 2: columns 28-30 right of the centre; drawn over the white ring of
    # radius max(4 + 1, int(4.8)) = 5, which shows at column 31 only
    assert [tuple(image[50, c]) for c in range(27, 33)] == [(0, 0, 0)] + [RED_COLOR] * 3 + [
        WHITE_COLOR,
        (0, 0, 0),
    ]


def test_connection_drawn_between_visible_points_only() -> None:
    image = np.zeros((100, 100, 3), np.uint8)
    draw_landmarks(image, _two_points(), [(0, 1)], landmark_drawing_spec=None)
    assert tuple(image[50, 50]) == WHITE_COLOR
    hidden = np.zeros((100, 100, 3), np.uint8)
    draw_landmarks(hidden, _two_points(visibility=0.49), [(0, 1)])
    assert not hidden[:, 50:].any()  # the second point and the line are skipped
    absent = np.zeros((100, 100, 3), np.uint8)
    draw_landmarks(absent, _two_points(presence=0.2), [(0, 1)])
    assert not absent[:, 50:].any()


def test_nothing_is_drawn_for_no_landmarks() -> None:
    image = np.zeros((10, 10, 3), np.uint8)
    draw_landmarks(image, None, [(0, 1)])
    assert not image.any()


def test_bad_image_or_connection_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"Input image must contain three channel bgr data\."):
        draw_landmarks(np.zeros((10, 10, 1), np.uint8), _two_points())
    with pytest.raises(ValueError, match="Invalid connection from landmark #1 to landmark #2"):
        draw_landmarks(np.zeros((10, 10, 3), np.uint8), _two_points(), [(1, 2)])


@pytest.mark.parametrize(
    ("xy", "pixel"),
    [
        ((0.0, 0.0), (0, 0)),
        ((1.0, 1.0), (639, 479)),  # clamped to the last column and row
        ((0.5, 0.25), (320, 120)),
        ((0.5, 1 + 1e-12), (320, 479)),  # within isclose (relative 1e-9) of 1
        ((-1e-12, 0.5), None),  # isclose(0, ·) is exact: no absolute tolerance
        ((-0.001, 0.5), None),
        ((0.5, 1.001), None),
    ],
)
def test_normalized_to_pixel_coordinates(xy, pixel) -> None:
    assert _normalized_to_pixel_coordinates(*xy, 640, 480) == pixel


def test_plot_landmarks_plots_the_visible_points() -> None:
    plt = pytest.importorskip("matplotlib.pyplot")  # the `plot` extra
    plt.switch_backend("Agg")
    try:
        drawing_utils.plot_landmarks(_two_points(visibility=0.1), [(0, 1)])
        axes = plt.gcf().axes[0]
        assert len(axes.collections) == 1  # one point plotted, no line: the other is hidden
        assert not axes.lines
    finally:
        plt.close("all")


def test_plot_landmarks_names_the_extra_without_matplotlib(monkeypatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)  # as if not installed
    with pytest.raises(RuntimeUnavailableError, match=r"hifipose\[plot\]"):
        drawing_utils.plot_landmarks(_two_points())
