"""``hifipose.solutions.drawing_utils``: MediaPipe's solution drawing helpers, same pixels.

``draw_landmarks`` draws as mediapipe 0.10.14's did (the same OpenCV calls in the same order,
so the same pixels for the same landmarks): connections first, then each landmark as a
white ring of radius ``max(r + 1, int(1.2 r))`` under a circle of the spec's colour.
Landmarks with ``visibility`` (or ``presence``) set and below 0.5, or outside the image,
are skipped, and so are the connections that touch them. Colours are BGR: draw on the
OpenCV frame, not on the RGB copy given to ``process``.

Works on any landmark list with a ``landmark`` field (pose, and the face and hand lists of
a holistic solution) and on MediaPipe's own protobuf lists.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Collection, Iterable, Mapping
from typing import Any, Final, Protocol

import cv2
import numpy as np
from numpy.typing import NDArray

from hifipose._optional import require

__all__ = [
    "BLACK_COLOR",
    "BLUE_COLOR",
    "GREEN_COLOR",
    "RED_COLOR",
    "WHITE_COLOR",
    "DrawingSpec",
    "draw_axis",
    "draw_landmarks",
    "plot_landmarks",
]

_PRESENCE_THRESHOLD: Final = 0.5
_VISIBILITY_THRESHOLD: Final = 0.5
_BGR_CHANNELS: Final = 3

WHITE_COLOR: Final = (224, 224, 224)
BLACK_COLOR: Final = (0, 0, 0)
RED_COLOR: Final = (0, 0, 255)
GREEN_COLOR: Final = (0, 128, 0)
BLUE_COLOR: Final = (255, 0, 0)


@dataclasses.dataclass
class DrawingSpec:
    """How to draw landmarks or connections: BGR colour, line thickness, circle radius.

    A negative thickness fills the circles (OpenCV's convention).
    """

    color: tuple[int, int, int] = WHITE_COLOR
    thickness: int = 2
    circle_radius: int = 2


class _Landmark(Protocol):
    """What drawing reads of a landmark (ours or a protobuf message)."""

    x: float
    y: float
    z: float
    visibility: float
    presence: float

    def HasField(self, field_name: str) -> bool: ...


class _LandmarkList(Protocol):
    """A landmark list: anything with a ``landmark`` sequence."""

    @property
    def landmark(self) -> Any: ...  # noqa: ANN401 - ours or protobuf's repeated field


def _normalized_to_pixel_coordinates(
    normalized_x: float, normalized_y: float, image_width: int, image_height: int
) -> tuple[int, int] | None:
    """The pixel (column, row) of a normalised point, or None outside [0, 1] × [0, 1].

    Values within ``math.isclose`` of 0 or 1 count as inside; the pixel is the floor of the
    scaled value, clamped to the last column or row.
    """

    def inside(value: float) -> bool:
        return (value > 0 or math.isclose(0, value)) and (value < 1 or math.isclose(1, value))

    if not (inside(normalized_x) and inside(normalized_y)):
        return None
    column = min(math.floor(normalized_x * image_width), image_width - 1)
    row = min(math.floor(normalized_y * image_height), image_height - 1)
    return column, row


def _hidden(landmark: _Landmark) -> bool:
    """Whether a set visibility or presence is below its threshold (then it is not drawn)."""
    return (landmark.HasField("visibility") and landmark.visibility < _VISIBILITY_THRESHOLD) or (
        landmark.HasField("presence") and landmark.presence < _PRESENCE_THRESHOLD
    )


def _check_connection(connection: tuple[int, int], count: int) -> tuple[int, int]:
    start, end = connection[0], connection[1]
    if not (0 <= start < count and 0 <= end < count):
        msg = (
            "Landmark index is out of range. Invalid connection from landmark "
            f"#{start} to landmark #{end}."
        )
        raise ValueError(msg)
    return start, end


_DEFAULT_LANDMARK_SPEC: Final = DrawingSpec(color=RED_COLOR)
_DEFAULT_CONNECTION_SPEC: Final = DrawingSpec()


def draw_landmarks(  # noqa: PLR0917 - MediaPipe's signature
    image: NDArray[np.uint8],
    landmark_list: _LandmarkList | None,
    connections: Iterable[tuple[int, int]] | None = None,
    landmark_drawing_spec: DrawingSpec | Mapping[int, DrawingSpec] | None = (
        _DEFAULT_LANDMARK_SPEC
    ),
    connection_drawing_spec: DrawingSpec | Mapping[tuple[int, int], DrawingSpec] = (
        _DEFAULT_CONNECTION_SPEC
    ),
    is_drawing_landmarks: bool = True,
) -> None:
    """Draw landmarks and the connections between them on a BGR image, in place.

    Args:
        image: H×W×3 uint8 BGR image, drawn on.
        landmark_list: Normalised landmarks (``results.pose_landmarks``); None draws nothing.
        connections: Pairs of landmark indices to join (e.g. ``POSE_CONNECTIONS``).
        landmark_drawing_spec: One spec for every landmark, or a mapping from landmark index
            to spec (e.g. ``drawing_styles.get_default_pose_landmarks_style()``); None draws
            no landmarks.
        connection_drawing_spec: One spec for every connection, or a mapping from connection
            to spec.
        is_drawing_landmarks: False draws the connections only.

    Raises:
        ValueError: The image does not have three channels (``"Input image must contain
            three channel bgr data."``), or a connection names a landmark index out of range.
    """
    if not landmark_list:
        return
    if image.shape[2] != _BGR_CHANNELS:
        msg = "Input image must contain three channel bgr data."
        raise ValueError(msg)
    rows, columns, _ = image.shape
    pixels: dict[int, tuple[int, int]] = {}
    for index, landmark in enumerate(landmark_list.landmark):
        if _hidden(landmark):
            continue
        pixel = _normalized_to_pixel_coordinates(landmark.x, landmark.y, columns, rows)
        if pixel:
            pixels[index] = pixel
    if connections:
        count = len(landmark_list.landmark)
        for connection in connections:
            start, end = _check_connection(connection, count)
            if start in pixels and end in pixels:
                spec = (
                    connection_drawing_spec[connection]
                    if isinstance(connection_drawing_spec, Mapping)
                    else connection_drawing_spec
                )
                cv2.line(image, pixels[start], pixels[end], spec.color, spec.thickness)
    # Landmarks go on top of the connections.
    if not (is_drawing_landmarks and landmark_drawing_spec):
        return
    for index, pixel in pixels.items():
        spec = (
            landmark_drawing_spec[index]
            if isinstance(landmark_drawing_spec, Mapping)
            else landmark_drawing_spec
        )
        ring_radius = max(spec.circle_radius + 1, int(spec.circle_radius * 1.2))
        cv2.circle(image, pixel, ring_radius, WHITE_COLOR, spec.thickness)
        cv2.circle(image, pixel, spec.circle_radius, spec.color, spec.thickness)


_DEFAULT_AXIS_SPEC: Final = DrawingSpec()


def draw_axis(  # noqa: PLR0917 - MediaPipe's signature
    image: NDArray[np.uint8],
    rotation: NDArray[np.floating[Any]],
    translation: NDArray[np.floating[Any]],
    focal_length: tuple[float, float] = (1.0, 1.0),
    principal_point: tuple[float, float] = (0.0, 0.0),
    axis_length: float = 0.1,
    axis_drawing_spec: DrawingSpec = _DEFAULT_AXIS_SPEC,
) -> None:
    """Draw an object's x (red), y (green) and z (blue) axes on a BGR image, in place.

    Args:
        image: H×W×3 uint8 BGR image, drawn on.
        rotation: 3×3 rotation from object to camera coordinates.
        translation: The object's origin in camera coordinates (3 values).
        focal_length: The camera's focal lengths in normalised device coordinates.
        principal_point: The camera's principal point in normalised device coordinates.
        axis_length: The axes' length in object units.
        axis_drawing_spec: Its thickness is used.

    Raises:
        ValueError: The image does not have three channels.
    """
    if image.shape[2] != _BGR_CHANNELS:
        msg = "Input image must contain three channel bgr data."
        raise ValueError(msg)
    rows, columns, _ = image.shape
    axes = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float32)
    camera = np.matmul(rotation, axis_length * axes.T).T + translation
    x, y, z = camera[..., 0], camera[..., 1], camera[..., 2]
    fx, fy = focal_length
    px, py = principal_point
    x_ndc = np.clip(-fx * x / (z + 1e-5) + px, -1.0, 1.0)
    y_ndc = np.clip(-fy * y / (z + 1e-5) + py, -1.0, 1.0)
    x_image = ((1 + x_ndc) * 0.5 * columns).astype(np.int32)
    y_image = ((1 - y_ndc) * 0.5 * rows).astype(np.int32)
    points = [(int(x_image[i]), int(y_image[i])) for i in range(4)]
    thickness = axis_drawing_spec.thickness
    for end, color in zip(points[1:], (RED_COLOR, GREEN_COLOR, BLUE_COLOR), strict=True):
        cv2.arrowedLine(image, points[0], end, color, thickness)


def _rgb_unit(color: Collection[int]) -> tuple[float, ...]:
    """A BGR spec colour as matplotlib's RGB in [0, 1]."""
    return tuple(v / 255.0 for v in list(color)[::-1])


_DEFAULT_PLOT_LANDMARK_SPEC: Final = DrawingSpec(color=RED_COLOR, thickness=5)
_DEFAULT_PLOT_CONNECTION_SPEC: Final = DrawingSpec(color=BLACK_COLOR, thickness=5)


def plot_landmarks(  # noqa: PLR0917 - MediaPipe's signature
    landmark_list: _LandmarkList | None,
    connections: Iterable[tuple[int, int]] | None = None,
    landmark_drawing_spec: DrawingSpec = _DEFAULT_PLOT_LANDMARK_SPEC,
    connection_drawing_spec: DrawingSpec = _DEFAULT_PLOT_CONNECTION_SPEC,
    elevation: int = 10,
    azimuth: int = 10,
) -> None:
    """Plot landmarks (e.g. ``pose_world_landmarks``) in a matplotlib 3D figure and show it.

    As MediaPipe plots them: the plot's axes are (-z, x, -y) of the landmarks; the same
    visibility and presence rule as :func:`draw_landmarks`. Needs matplotlib (the ``plot``
    extra).

    Raises:
        ValueError: A connection names a landmark index out of range.
        RuntimeUnavailableError: matplotlib is not installed.
    """
    if not landmark_list:
        return
    plt = require("matplotlib.pyplot", extra="plot")
    plt.figure(figsize=(10, 10))
    axes = plt.axes(projection="3d")
    axes.view_init(elev=elevation, azim=azimuth)
    plotted: dict[int, tuple[float, float, float]] = {}
    for index, landmark in enumerate(landmark_list.landmark):
        if _hidden(landmark):
            continue
        point = (-landmark.z, landmark.x, -landmark.y)
        axes.scatter3D(
            xs=[point[0]],
            ys=[point[1]],
            zs=[point[2]],
            color=_rgb_unit(landmark_drawing_spec.color),
            linewidth=landmark_drawing_spec.thickness,
        )
        plotted[index] = point
    if connections:
        count = len(landmark_list.landmark)
        for connection in connections:
            start, end = _check_connection(connection, count)
            if start in plotted and end in plotted:
                a, b = plotted[start], plotted[end]
                axes.plot3D(
                    xs=[a[0], b[0]],
                    ys=[a[1], b[1]],
                    zs=[a[2], b[2]],
                    color=_rgb_unit(connection_drawing_spec.color),
                    linewidth=connection_drawing_spec.thickness,
                )
    plt.show()
