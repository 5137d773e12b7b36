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
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, Final, NamedTuple, Protocol, runtime_checkable

import cv2
import numpy as np
from numpy.typing import NDArray

from hifipose.topology import KEYPOINT_NAMES, NUM_KEYPOINTS

__all__ = ["Box", "Face", "FrameResult", "Hand", "HolisticParts", "Keypoint", "MaskSource", "Pose"]


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


def _slot_is_set(obj: object, name: str) -> bool:
    """Whether ``obj``'s slot ``name`` holds a value (plain lookup: no ``__getattr__``)."""
    try:
        object.__getattribute__(obj, name)
    except AttributeError:
        return False
    return True


@runtime_checkable
class MaskSource(Protocol):
    """A person mask computed only when read (the pipeline's keeps it in the model's crop).

    ``size_wh`` is the frame's (width, height); ``to_image()`` gives the H×W float32 mask in
    [0, 1] on the frame's pixels, ``to_image(size_wh)`` the same mask resampled to another
    (width, height), pixel centres onto pixel centres.
    """

    @property
    def size_wh(self) -> tuple[int, int]:
        """The frame's (width, height) in pixels."""
        ...

    def to_image(self, size_wh: tuple[int, int] | None = None) -> NDArray[np.float32]:
        """The mask on the frame, or at ``size_wh``."""
        ...


@dataclass(frozen=True, slots=True, eq=False)
class Hand:
    """One hand found from a pose (Holistic; see docs/holistic-spec.md).

    Attributes:
        image_array: (21, 3) float32: x_px, y_px, z (pixel scale, as the body's), in
            MediaPipe's hand order (0 wrist, 1–4 thumb, 5–8 index, 9–12 middle, 13–16 ring,
            17–20 pinky).
        world_array_m: (21, 3) float32: x, y, z in metres, origin near the hand's centre,
            axes as the body's world keypoints; None where the runtime does not give them
            (``runtime="mediapipe"``: MediaPipe's legacy Holistic gives no hand world points).
        score: The hand model's presence probability, in [0, 1]; None where the runtime does
            not report it (``runtime="mediapipe"``).
        handedness: The hand model's own label, ``"Left"`` or ``"Right"`` (MediaPipe's
            convention: for a mirrored, selfie-view image); which of the person's hands
            this is comes from the pose (:attr:`Pose.left_hand`, :attr:`Pose.right_hand`).
            With ``runtime="mediapipe"`` (no label from the solution) it is the label for
            that side on a non-mirrored image: ``"Right"`` for the person's left hand.
        handedness_score: The label's probability, in [0.5, 1]; None where the label was
            not given by the model (``runtime="mediapipe"``).
    """

    image_array: NDArray[np.float32]
    world_array_m: NDArray[np.float32] | None
    score: float | None
    handedness: str
    handedness_score: float | None

    def __post_init__(self) -> None:
        """Keep read-only float32 copies of the arrays; check their shapes.

        Raises:
            ValueError: An array is not (21, 3), or the label is not "Left" or "Right".
        """
        set_field = object.__setattr__
        set_field(self, "image_array", _frozen_copy("image_array", self.image_array, (21, 3)))
        if self.world_array_m is not None:
            world = _frozen_copy("world_array_m", self.world_array_m, (21, 3))
            set_field(self, "world_array_m", world)
        if self.handedness not in {"Left", "Right"}:
            msg = f"handedness must be 'Left' or 'Right', got {self.handedness!r}"
            raise ValueError(msg)

    def __reduce__(self) -> tuple[type[Hand], tuple[Any, ...]]:
        """Pickle through the constructor, so a copy's arrays are read-only too."""
        fields_ = (self.image_array, self.world_array_m, self.score, self.handedness)
        return Hand, (*fields_, self.handedness_score)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict: score, handedness and both point lists as [x, y, z].

        A value the runtime did not give (see the attributes) is None (JSON null).
        """
        world = self.world_array_m
        return {
            "score": self.score,
            "handedness": self.handedness,
            "handedness_score": self.handedness_score,
            "keypoints": self.image_array.tolist(),
            "keypoints3d": None if world is None else world.tolist(),
        }


@dataclass(frozen=True, slots=True, eq=False)
class Face:
    """One face mesh found from a pose (Holistic; see docs/holistic-spec.md).

    Attributes:
        image_array: (468, 3) float32 (478 with the iris points of
            ``refine_face_landmarks``): x_px, y_px, z (pixel scale), MediaPipe's face-mesh
            order.
        score: The face model's presence probability, in [0, 1]; None where the runtime
            does not report it (``runtime="mediapipe"``).
    """

    image_array: NDArray[np.float32]
    score: float | None

    def __post_init__(self) -> None:
        """Keep a read-only float32 copy of the points; check their shape.

        Raises:
            ValueError: The array is not (468, 3) or (478, 3).
        """
        rows = np.shape(self.image_array)[0] if np.ndim(self.image_array) == 2 else -1
        shape = (rows if rows in {468, 478} else 468, 3)
        object.__setattr__(
            self, "image_array", _frozen_copy("image_array", self.image_array, shape)
        )

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict: score and the points as [x, y, z]."""
        return {"score": self.score, "keypoints": self.image_array.tolist()}


@dataclass(frozen=True, slots=True, eq=False)
class HolisticParts:
    """A pose's hands and face (each None when not found), set when Holistic is on."""

    left_hand: Hand | None = None
    right_hand: Hand | None = None
    face: Face | None = None

    def to_dict(self) -> dict[str, Any]:
        """``{"left_hand": …, "right_hand": …, "face": …}``, None where not found."""
        return {
            "left_hand": None if self.left_hand is None else self.left_hand.to_dict(),
            "right_hand": None if self.right_hand is None else self.right_hand.to_dict(),
            "face": None if self.face is None else self.face.to_dict(),
        }


@dataclass(frozen=True, slots=True, init=False)
class Pose:
    """One person's pose in one frame.

    Attributes:
        image_array: (33, 5) float32, read-only: x_px, y_px, z (pixel scale), visibility,
            presence, in the order of :data:`hifipose.topology.KEYPOINT_NAMES`.
        world_array_m: (33, 3) float32, read-only: x, y, z in metres, origin between the hips.
        score: The pose presence probability from the landmark model, in [0, 1].
        segmentation: (H, W) float32 in [0, 1] (1 = this person), or None when not requested.
            The pipeline keeps the mask in the landmark model's 256×256 crop and makes the
            frame-sized array on the first read (then keeps it); a :class:`MaskSource` may
            be passed for it. :meth:`segmentation_at` reads it at another size without
            making the frame-sized one. Pickling sends the crop-sized mask, not the array;
            :meth:`replace` keeps it unread, where ``dataclasses.replace`` reads it (unless
            ``segmentation`` is among the changes).
        track_id: The person's identity within a stream in video mode: 1 for the first person
            tracked, never reused within the stream, restarting at 1 after ``reset()``. None
            in static-image mode (and where a runtime gives no identities).
        camera_array_m: (33, 3) float32, read-only: the keypoints in camera space, metres,
            camera at the origin, x right, y down, z forward (see :mod:`hifipose.camera`);
            None unless camera intrinsics were applied
            (:func:`hifipose.camera.to_camera_space`).
        parts: The person's hands and face (:class:`HolisticParts`) when the detector runs
            Holistic (``holistic=True``), else None; :attr:`left_hand`, :attr:`right_hand`
            and :attr:`face` read it.

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
    parts: HolisticParts | None = field(default=None, repr=False, compare=False)

    _mask_source: MaskSource | None = field(default=None, init=False, repr=False, compare=False)

    def __init__(  # noqa: PLR0917 - the dataclass's positional order is public (design.md §3)
        self,
        image_array: NDArray[np.float32],
        world_array_m: NDArray[np.float32],
        score: float,
        segmentation: NDArray[np.float32] | MaskSource | None = None,
        track_id: int | None = None,
        camera_array_m: NDArray[np.float32] | None = None,
        parts: HolisticParts | None = None,
    ) -> None:
        # None and arrays first: a runtime-checkable Protocol's isinstance costs ~20 µs
        plain = segmentation is None or isinstance(segmentation, np.ndarray)
        source = None if plain or not isinstance(segmentation, MaskSource) else segmentation
        mask = None if source is not None else segmentation
        self._restore(
            (image_array, world_array_m, score, mask, track_id, camera_array_m, parts, source)
        )

    def _pickled_state(self) -> tuple[object, ...]:
        """The fields; a lazy mask goes as its source (crop-sized), not as the frame array."""
        source = self._mask_source
        return (
            self.image_array,
            self.world_array_m,
            self.score,
            None if source is not None else self.segmentation,
            self.track_id,
            self.camera_array_m,
            self.parts,
            source,
        )

    def _restore(self, state: tuple[Any, ...]) -> None:
        """Set the fields from :meth:`_pickled_state`'s tuple (arrays copied, read-only)."""
        image_array, world_array_m, score, mask, track_id, camera_array_m, parts, source = state
        set_field = object.__setattr__
        set_field(self, "image_array", _frozen_copy("image_array", image_array, (NUM_KEYPOINTS, 5)))
        set_field(
            self, "world_array_m", _frozen_copy("world_array_m", world_array_m, (NUM_KEYPOINTS, 3))
        )
        set_field(self, "score", float(score))
        set_field(self, "track_id", track_id)
        if camera_array_m is not None:
            camera_array_m = _frozen_copy("camera_array_m", camera_array_m, (NUM_KEYPOINTS, 3))
        set_field(self, "camera_array_m", camera_array_m)
        set_field(self, "parts", parts)
        set_field(self, "_mask_source", source)
        if source is None:
            set_field(self, "segmentation", mask)
        # else the segmentation slot stays empty until the first read (__getattr__)

    if not TYPE_CHECKING:  # typed as the field: NDArray | None

        def __getattr__(self, name: str) -> NDArray[np.float32]:
            # Reached only when normal lookup fails: the empty segmentation slot of a lazy mask.
            if name == "segmentation":
                mask = self._mask_source.to_image()
                object.__setattr__(self, "segmentation", mask)
                return mask
            msg = f"{type(self).__name__!r} object has no attribute {name!r}"
            raise AttributeError(msg)

    def replace(self, **changes: Any) -> Pose:  # noqa: ANN401 - any field's type
        """A copy with ``changes`` to its fields, as ``dataclasses.replace`` makes one.

        A mask not yet read stays unread (its crop-sized source is carried over); one already
        read is kept.

        Raises:
            TypeError: A name in ``changes`` is not a field of :class:`Pose`.
            ValueError: A changed array has the wrong shape.
        """
        *state, source = self._pickled_state()  # the init fields in order, then the source
        values: dict[str, Any] = dict(zip(_INIT_FIELDS, state, strict=True))
        if source is not None:  # a lazy mask: its source until read, the array once read
            values["segmentation"] = (
                self.segmentation if _slot_is_set(self, "segmentation") else source
            )
        unknown = sorted(changes.keys() - values.keys())
        if unknown:
            msg = f"Pose has no field(s) {', '.join(unknown)}"
            raise TypeError(msg)
        return Pose(**(values | changes))

    __replace__ = replace  # copy.replace (Python 3.13+) keeps the mask unread too

    def segmentation_at(self, size_wh: tuple[int, int]) -> NDArray[np.float32] | None:
        """The mask resampled to ``size_wh`` = (width, height), or None without a mask.

        Output pixel centres map onto frame pixel centres, read bilinearly. A lazy mask is
        read from its crop straight at that size (cheap for a small preview); a frame-sized
        array is resized. At the frame's size this is :attr:`segmentation` itself.

        Raises:
            ValueError: If a side is not a positive integer.
        """
        width, height = size_wh
        if not (isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0):
            msg = f"size_wh must be two positive integers, got {size_wh!r}"
            raise ValueError(msg)
        source = self._mask_source
        if source is not None and tuple(source.size_wh) != (width, height):
            return source.to_image((width, height))
        mask = self.segmentation
        if mask is None or mask.shape[:2] == (height, width):
            return mask
        return np.asarray(
            cv2.resize(mask, (width, height), interpolation=cv2.INTER_LINEAR), dtype=np.float32
        )

    @property
    def left_hand(self) -> Hand | None:
        """The person's left hand (Holistic), None when not found or Holistic is off."""
        return None if self.parts is None else self.parts.left_hand

    @property
    def right_hand(self) -> Hand | None:
        """The person's right hand (Holistic), None when not found or Holistic is off."""
        return None if self.parts is None else self.parts.right_hand

    @property
    def face(self) -> Face | None:
        """The person's face mesh (Holistic), None when not found or Holistic is off."""
        return None if self.parts is None else self.parts.face

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
        rows in metres too. With Holistic (``parts``), ``"left_hand"``, ``"right_hand"`` and
        ``"face"`` hold :meth:`Hand.to_dict` / :meth:`Face.to_dict` or None (not found);
        without it those keys are absent.
        """
        data: dict[str, Any] = {
            "score": self.score,
            "box": list(self.box),
            "keypoints": [kp._asdict() for kp in self.keypoints],
            "keypoints3d": [kp._asdict() for kp in self.keypoints3d],
        }
        if self.camera_array_m is not None:
            data["camera_m"] = self.camera_array_m.tolist()
        if self.parts is not None:
            data |= self.parts.to_dict()
        return data


# Pickling goes through _pickled_state/_restore. Set here, after the class is made: Python
# 3.10's dataclass(frozen=True, slots=True) replaces a class's own __getstate__/__setstate__
# with its field-by-field pair (3.11 keeps them), which would skip the copies and the lazy mask.
for _name, _method in (("__getstate__", Pose._pickled_state), ("__setstate__", Pose._restore)):
    setattr(Pose, _name, _method)

#: Pose's constructor arguments, in order (``_pickled_state``'s tuple before the mask source).
_INIT_FIELDS: Final = tuple(f.name for f in fields(Pose) if f.init)


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
