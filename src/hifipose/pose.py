"""Result value types: :class:`Keypoint`, :class:`Box`, :class:`Pose`, :class:`FrameResult`.

Conventions:
    Image keypoints are in pixels of the input frame: origin at the top-left corner, x to
    the right, y down (they may fall outside the frame). Their ``z`` is depth relative to
    the hip centre in the same pixel scale as ``x`` (MediaPipe's normalised z times the
    frame width); smaller is nearer the camera. World keypoints are in metres with the
    origin between the hips, axes as in the image (x right, y down) and z away from
    the camera (negative is nearer). ``score`` is MediaPipe's visibility (how likely the
    point is visible, not occluded), ``presence`` how likely it is inside the frame; both
    are in [0, 1].
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from hifipose.topology import KEYPOINT_NAMES, NUM_KEYPOINTS

__all__ = ["Box", "FrameResult", "Keypoint", "Pose"]


class Keypoint(NamedTuple):
    """One keypoint: position, visibility score, presence and name (see module conventions)."""

    x: float
    y: float
    z: float
    score: float
    presence: float
    name: str


class Box(NamedTuple):
    """An axis-aligned box in pixels; ``xmax``/``ymax`` are the far edges, not sizes."""

    xmin: float
    ymin: float
    xmax: float
    ymax: float

    @property
    def width(self) -> float:
        """``xmax - xmin`` in pixels."""
        return self.xmax - self.xmin

    @property
    def height(self) -> float:
        """``ymax - ymin`` in pixels."""
        return self.ymax - self.ymin

    @property
    def diagonal(self) -> float:
        """The length of the diagonal in pixels."""
        return math.hypot(self.width, self.height)


def _frozen_copy(name: str, value: object, shape: tuple[int, ...]) -> NDArray[np.float32]:
    array = np.array(value, dtype=np.float32)  # always our own copy
    if array.shape != shape:
        msg = f"{name} must have shape {shape}, got {array.shape}"
        raise ValueError(msg)
    array.setflags(write=False)
    return array


@dataclass(frozen=True, slots=True)
class Pose:
    """One person's pose in one frame.

    Attributes:
        image_array: (33, 5) float32, read-only: x_px, y_px, z (pixel scale), visibility,
            presence, in the order of :data:`hifipose.topology.KEYPOINT_NAMES`.
        world_array_m: (33, 3) float32, read-only: x, y, z in metres, origin between the hips.
        score: The pose presence probability from the landmark model, in [0, 1].
        segmentation: (H, W) float32 in [0, 1] (1 = this person), or None when not requested.
        track_id: The person's identity within a stream in video mode: 1 for the first person
            tracked, never reused within the stream, restarting at 1 after ``reset()``. None
            in static-image mode (and where a runtime gives no identities).
        camera_array_m: (33, 3) float32, read-only: the keypoints in camera space, metres,
            camera at the origin, x right, y down, z forward (see :mod:`hifipose.camera`);
            None unless camera intrinsics were applied
            (:func:`hifipose.camera.to_camera_space`).

    Example:
        >>> import numpy as np
        >>> pose = Pose(np.zeros((33, 5)), np.zeros((33, 3)), score=0.9)
        >>> pose.keypoints[0].name, pose.to_numpy().shape
        ('nose', (33, 5))
    """

    image_array: NDArray[np.float32]
    world_array_m: NDArray[np.float32]
    score: float
    segmentation: NDArray[np.float32] | None = field(default=None, repr=False)
    track_id: int | None = None
    camera_array_m: NDArray[np.float32] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "image_array", _frozen_copy("image_array", self.image_array, (NUM_KEYPOINTS, 5))
        )
        object.__setattr__(
            self,
            "world_array_m",
            _frozen_copy("world_array_m", self.world_array_m, (NUM_KEYPOINTS, 3)),
        )
        object.__setattr__(self, "score", float(self.score))
        if self.camera_array_m is not None:
            object.__setattr__(
                self,
                "camera_array_m",
                _frozen_copy("camera_array_m", self.camera_array_m, (NUM_KEYPOINTS, 3)),
            )

    @property
    def keypoints(self) -> tuple[Keypoint, ...]:
        """The 33 image keypoints (pixels) as :class:`Keypoint` objects."""
        rows = self.image_array.tolist()
        return tuple(
            Keypoint._make([*row, name]) for name, row in zip(KEYPOINT_NAMES, rows, strict=True)
        )

    @property
    def keypoints3d(self) -> tuple[Keypoint, ...]:
        """The 33 world keypoints (metres); score and presence are the image keypoints'."""
        xyz = self.world_array_m.tolist()
        vis = self.image_array[:, 3:5].tolist()
        return tuple(
            Keypoint._make([*p, *v, name])
            for name, p, v in zip(KEYPOINT_NAMES, xyz, vis, strict=True)
        )

    @property
    def box(self) -> Box:
        """The tight box around the 33 image keypoints, in pixels."""
        xy = self.image_array[:, :2]
        xmin, ymin = xy.min(axis=0).tolist()
        xmax, ymax = xy.max(axis=0).tolist()
        return Box(xmin, ymin, xmax, ymax)

    def to_numpy(self) -> NDArray[np.float32]:
        """Return a writable (33, 5) copy: x_px, y_px, z, score (visibility), presence."""
        return self.image_array.copy()

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict: score, box and both keypoint lists with names.

        With camera space (``camera_array_m``), ``"camera_m"`` holds its 33 ``[x, y, z]``
        rows in metres too.
        """
        data: dict[str, Any] = {
            "score": self.score,
            "box": list(self.box),
            "keypoints": [kp._asdict() for kp in self.keypoints],
            "keypoints3d": [kp._asdict() for kp in self.keypoints3d],
        }
        if self.camera_array_m is not None:
            data["camera_m"] = self.camera_array_m.tolist()
        return data


@dataclass(frozen=True, slots=True)
class FrameResult:
    """The poses found in one frame of a stream.

    Attributes:
        index: 0-based frame index in the source.
        timestamp_ms: The frame's presentation time in milliseconds.
        size_wh: The frame's (width, height) in pixels.
        poses: The poses found, sorted by ``track_id``; empty when there is no person.
        source: Where the frame came from (an image's file name, a video's path), or None.
    """

    index: int
    timestamp_ms: float
    size_wh: tuple[int, int]
    poses: tuple[Pose, ...] = ()
    source: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict of the frame and its poses."""
        return {
            "frame": self.index,
            "timestamp_ms": self.timestamp_ms,
            "width": self.size_wh[0],
            "height": self.size_wh[1],
            "poses": [pose.to_dict() for pose in self.poses],
        }
