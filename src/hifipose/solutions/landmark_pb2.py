"""Landmark containers shaped like MediaPipe's ``landmark_pb2`` messages, in plain Python.

``mediapipe.framework.formats.landmark_pb2`` holds protobuf messages; these classes give the
same names and behave like them where code written against ``mp.solutions`` touches them,
without protobuf: ``NormalizedLandmark`` and ``Landmark`` (``x``, ``y``, ``z``,
``visibility``, ``presence``), and ``NormalizedLandmarkList`` / ``LandmarkList`` whose
``landmark`` field is a repeated container (``[i]``, slices, iteration, ``len``, ``add()``,
``append``, ``extend``, ``del``).

As in protobuf (``landmark.proto`` declares every field ``optional float``): values are
stored as float32 (reading one gives the float32 value as a Python float), an unset field
reads 0.0 and ``HasField`` tells set from unset, ``ClearField``/``Clear``/``CopyFrom``/
``MergeFrom``/``ListFields`` work, ``==`` compares set fields and values, and ``str()``
gives protobuf's text format. Not provided: serialisation (``SerializeToString``,
``ParseFromString``), ``DESCRIPTOR`` and the rest of the protobuf reflection API.
``ListFields`` gives ``(field, value)`` pairs whose field has ``name`` and ``number`` only.

These types are generic over the landmark count: pose (33), and the face and hand lists a
holistic solution returns, use the same classes.
"""

from __future__ import annotations

import ctypes
import math
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar, Final, Generic, NamedTuple, TypeVar, overload

__all__ = [
    "FieldInfo",
    "Landmark",
    "LandmarkList",
    "NormalizedLandmark",
    "NormalizedLandmarkList",
    "RepeatedLandmarks",
]


class FieldInfo(NamedTuple):
    """What ``ListFields`` names a field by (protobuf's ``FieldDescriptor``, cut down)."""

    name: str
    number: int


_LANDMARK_FIELDS: Final = ("x", "y", "z", "visibility", "presence")
_FIELD_INFO: Final = tuple(FieldInfo(name, i + 1) for i, name in enumerate(_LANDMARK_FIELDS))
_FIELD_INDEX: Final = {name: i for i, name in enumerate(_LANDMARK_FIELDS)}
#: protobuf's text format prints a float32 with 6 significant digits when that reads back as
#: the same float32, else with 9 (FLT_DIG, FLT_DIG + 3).
_SHORT_DIGITS: Final = 6
_LONG_DIGITS: Final = 9


def _float32(value: object, cls: str, name: str) -> float:
    """``value`` rounded to float32 as a Python float (protobuf's ``float`` field)."""
    if isinstance(value, str | bytes):
        msg = (
            f"{value!r} has type {type(value).__name__}, but expected one of: int, float "
            f"(field {cls}.{name})"
        )
        raise TypeError(msg)
    try:
        return float(ctypes.c_float(value).value)  # type: ignore[arg-type]
    except TypeError:
        msg = (
            f"{value!r} has type {type(value).__name__}, but expected one of: int, float "
            f"(field {cls}.{name})"
        )
        raise TypeError(msg) from None


def format_float32(value: float) -> str:
    """``value`` as protobuf's text format prints a float field (e.g. ``0.463277131``)."""
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    short = f"{value:.{_SHORT_DIGITS}g}"
    if _float32(float(short), "", "") == value:
        return short
    return f"{value:.{_LONG_DIGITS}g}"


class _FloatField:
    """A ``optional float`` field: a slot in the landmark's value list plus a 'set' bit."""

    __slots__ = ("bit", "index", "name")

    def __init__(self, index: int) -> None:
        self.index = index
        self.bit = 1 << index
        self.name = _LANDMARK_FIELDS[index]

    @overload
    def __get__(self, obj: None, owner: type) -> _FloatField: ...
    @overload
    def __get__(self, obj: _LandmarkBase, owner: type) -> float: ...
    def __get__(self, obj: _LandmarkBase | None, owner: type) -> _FloatField | float:
        if obj is None:
            return self
        return obj._values[self.index]

    def __set__(self, obj: _LandmarkBase, value: float) -> None:
        obj._values[self.index] = _float32(value, type(obj).__name__, self.name)
        obj._has |= self.bit


_L = TypeVar("_L", bound="_LandmarkBase")


class _LandmarkBase:
    """The shared body of :class:`NormalizedLandmark` and :class:`Landmark`."""

    __slots__ = ("_has", "_values")

    x = _FloatField(0)
    y = _FloatField(1)
    z = _FloatField(2)
    visibility = _FloatField(3)
    presence = _FloatField(4)

    def __init__(
        self,
        x: float | None = None,
        y: float | None = None,
        z: float | None = None,
        visibility: float | None = None,
        presence: float | None = None,
    ) -> None:
        self._values = [0.0] * len(_LANDMARK_FIELDS)
        self._has = 0
        for name, value in zip(_LANDMARK_FIELDS, (x, y, z, visibility, presence), strict=True):
            if value is not None:
                setattr(self, name, value)

    @classmethod
    def _from_float32(cls: type[_L], values: list[float], has: int) -> _L:
        """A landmark from five values already float32-exact (the fast path, no checks)."""
        landmark = cls.__new__(cls)
        landmark._values = values
        landmark._has = has
        return landmark

    def _field_index(self, name: str) -> int:
        index = _FIELD_INDEX.get(name)
        if index is None:
            msg = f'Protocol message {type(self).__name__} has no "{name}" field.'
            raise ValueError(msg)
        return index

    def HasField(self, field_name: str) -> bool:
        """Whether the field was set (an unset one reads 0.0)."""
        return bool(self._has >> self._field_index(field_name) & 1)

    def ClearField(self, field_name: str) -> None:
        """Unset one field: it reads 0.0 and ``HasField`` is False."""
        index = self._field_index(field_name)
        self._values[index] = 0.0
        self._has &= ~(1 << index)

    def Clear(self) -> None:
        """Unset every field."""
        self._values = [0.0] * len(_LANDMARK_FIELDS)
        self._has = 0

    def CopyFrom(self, other: _LandmarkBase) -> None:
        """Make this landmark equal to ``other`` (of the same class)."""
        self._check_same_type(other, "CopyFrom")
        self._values = list(other._values)
        self._has = other._has

    def MergeFrom(self, other: _LandmarkBase) -> None:
        """Set the fields that are set in ``other`` (of the same class) to its values."""
        self._check_same_type(other, "MergeFrom")
        for index in range(len(_LANDMARK_FIELDS)):
            if other._has >> index & 1:
                self._values[index] = other._values[index]
        self._has |= other._has

    def ListFields(self) -> list[tuple[FieldInfo, float]]:
        """The set fields and their values, in field-number order."""
        return [(info, self._values[i]) for i, info in enumerate(_FIELD_INFO) if self._has >> i & 1]

    def IsInitialized(self) -> bool:
        """Always True: no field is required."""
        return True

    def _check_same_type(self, other: object, method: str) -> None:
        if type(other) is not type(self):
            msg = (
                f"Parameter to {method}() must be instance of same class: expected "
                f"{type(self).__name__} got {type(other).__name__}."
            )
            raise TypeError(msg)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._has == other._has and self._values == other._values

    __hash__ = None  # type: ignore[assignment]  # mutable, as protobuf messages are

    def __str__(self) -> str:
        return "".join(
            f"{info.name}: {format_float32(value)}\n" for info, value in self.ListFields()
        )

    def __repr__(self) -> str:
        return str(self)

    def __getstate__(self) -> tuple[list[float], int]:
        return (list(self._values), self._has)

    def __setstate__(self, state: tuple[list[float], int]) -> None:
        self._values, self._has = list(state[0]), state[1]

    def __deepcopy__(self: _L, memo: dict[int, Any]) -> _L:
        return type(self)._from_float32(list(self._values), self._has)

    def __copy__(self: _L) -> _L:
        return type(self)._from_float32(list(self._values), self._has)


class NormalizedLandmark(_LandmarkBase):
    """A landmark in image coordinates normalised to [0, 1] by the image's width and height.

    ``x`` right, ``y`` down, origin at the top-left corner; ``z`` is depth with the scale of
    ``x`` (normalised by the width), smaller nearer the camera. ``visibility`` is how likely
    the point is visible (not occluded), ``presence`` how likely it is inside the image.
    """

    __slots__ = ()


class Landmark(_LandmarkBase):
    """A 3D landmark in metres (``pose_world_landmarks``: origin between the hips)."""

    __slots__ = ()


class RepeatedLandmarks(Generic[_L]):
    """A repeated landmark field, like protobuf's ``RepeatedCompositeContainer``.

    Indexing, slicing, iteration, ``len``, ``==``, ``del``, ``add(**fields)`` (appends a new
    landmark and returns it), ``append``/``extend``/``insert`` (append copies, as protobuf
    does), ``pop``, ``remove``, ``sort``, ``reverse``, ``MergeFrom``. Assigning to an index
    is refused, as in protobuf: change the landmark in place or ``CopyFrom`` into it.
    """

    __slots__ = ("_items", "_type")

    def __init__(self, landmark_type: type[_L], items: list[_L] | None = None) -> None:
        self._type = landmark_type
        self._items: list[_L] = [] if items is None else items

    def _checked(self, value: object) -> _L:
        if type(value) is not self._type:
            msg = f"Expected a message of type {self._type.__name__}, got {type(value).__name__}"
            raise TypeError(msg)
        return value  # narrowed by the type check above

    def add(self, **fields: float) -> _L:
        """Append a new landmark with ``fields`` set and return it."""
        landmark = self._type(**fields)
        self._items.append(landmark)
        return landmark

    def append(self, value: _L) -> None:
        """Append a copy of ``value``."""
        self._items.append(self._checked(value).__copy__())

    def extend(self, values: Iterable[_L]) -> None:
        """Append a copy of each of ``values``."""
        self._items.extend([self._checked(v).__copy__() for v in values])

    def insert(self, index: int, value: _L) -> None:
        """Insert a copy of ``value`` before ``index``."""
        self._items.insert(index, self._checked(value).__copy__())

    def pop(self, index: int = -1) -> _L:
        """Remove and return the landmark at ``index`` (the last by default)."""
        return self._items.pop(index)

    def remove(self, value: _L) -> None:
        """Remove the first landmark equal to ``value``."""
        self._items.remove(value)

    def sort(self, *, key: Any = None, reverse: bool = False) -> None:  # noqa: ANN401 - a key function
        """Sort in place (a ``key`` is needed: landmarks have no order)."""
        self._items.sort(key=key, reverse=reverse)

    def reverse(self) -> None:
        """Reverse in place."""
        self._items.reverse()

    def MergeFrom(self, other: Iterable[_L]) -> None:
        """Append copies of ``other``'s landmarks."""
        self.extend(other)

    @overload
    def __getitem__(self, index: int) -> _L: ...
    @overload
    def __getitem__(self, index: slice) -> list[_L]: ...
    def __getitem__(self, index: int | slice) -> _L | list[_L]:
        return self._items[index]

    def __setitem__(self, index: int | slice, value: object) -> None:
        msg = "does not support assignment"
        raise TypeError(msg)

    def __delitem__(self, index: int | slice) -> None:
        del self._items[index]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[_L]:
        return iter(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RepeatedLandmarks):
            return self._items == other._items
        if isinstance(other, list):
            return self._items == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return repr(self._items)


_LL = TypeVar("_LL", bound="_LandmarkListBase[Any]")


class _LandmarkListBase(Generic[_L]):
    """The shared body of :class:`NormalizedLandmarkList` and :class:`LandmarkList`."""

    __slots__ = ("_landmark",)
    _element: ClassVar[type[_LandmarkBase]]

    def __init__(self, landmark: Iterable[_L] | None = None) -> None:
        self._landmark: RepeatedLandmarks[_L] = RepeatedLandmarks(self._element)  # type: ignore[arg-type]
        if landmark is not None:
            self._landmark.extend(landmark)

    @classmethod
    def _from_landmarks(cls: type[_LL], landmarks: list[Any]) -> _LL:
        """A list that takes ``landmarks`` as they are (the fast path, no copies)."""
        out = cls.__new__(cls)
        out._landmark = RepeatedLandmarks(cls._element, landmarks)
        return out

    @property
    def landmark(self) -> RepeatedLandmarks[_L]:
        """The landmarks (a repeated field: it cannot be assigned, only changed)."""
        return self._landmark

    @landmark.setter
    def landmark(self, value: object) -> None:
        msg = (
            'Assignment not allowed to repeated field "landmark" in protocol message object; '
            "use .landmark.extend(...) or CopyFrom"
        )
        raise AttributeError(msg)

    def _check_same_type(self, other: object, method: str) -> None:
        if type(other) is not type(self):
            msg = (
                f"Parameter to {method}() must be instance of same class: expected "
                f"{type(self).__name__} got {type(other).__name__}."
            )
            raise TypeError(msg)

    def CopyFrom(self, other: _LandmarkListBase[_L]) -> None:
        """Make this list equal to ``other`` (of the same class): copies its landmarks."""
        self._check_same_type(other, "CopyFrom")
        if other is self:
            return
        del self._landmark[:]
        self._landmark.extend(other.landmark)

    def MergeFrom(self, other: _LandmarkListBase[_L]) -> None:
        """Append copies of ``other``'s landmarks (of the same class)."""
        self._check_same_type(other, "MergeFrom")
        self._landmark.extend(list(other.landmark))

    def Clear(self) -> None:
        """Remove every landmark."""
        del self._landmark[:]

    def ClearField(self, field_name: str) -> None:
        """Remove every landmark (``field_name`` must be ``"landmark"``)."""
        self._check_field(field_name)
        del self._landmark[:]

    def HasField(self, field_name: str) -> bool:
        """Refused for the repeated ``landmark`` field, as protobuf refuses it."""
        self._check_field(field_name)
        msg = f'Protocol message {type(self).__name__} has no singular "{field_name}" field.'
        raise ValueError(msg)

    def _check_field(self, field_name: str) -> None:
        if field_name != "landmark":
            msg = f'Protocol message {type(self).__name__} has no "{field_name}" field.'
            raise ValueError(msg)

    def ListFields(self) -> list[tuple[FieldInfo, RepeatedLandmarks[_L]]]:
        """``[(landmark field, landmarks)]``, or ``[]`` when there are none (protobuf's name)."""
        return [(FieldInfo("landmark", 1), self._landmark)] if len(self._landmark) else []

    def IsInitialized(self) -> bool:
        """Always True: no field is required."""
        return True

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._landmark == other._landmark

    __hash__ = None  # type: ignore[assignment]  # mutable, as protobuf messages are

    def __str__(self) -> str:
        parts = []
        for item in self._landmark:
            body = "".join(f"  {line}\n" for line in str(item).splitlines())
            parts.append(f"landmark {{\n{body}}}\n")
        return "".join(parts)

    def __repr__(self) -> str:
        return str(self)

    def __getstate__(self) -> list[_L]:
        return list(self._landmark)

    def __setstate__(self, state: list[_L]) -> None:
        self._landmark = RepeatedLandmarks(self._element, list(state))  # type: ignore[arg-type]


class NormalizedLandmarkList(_LandmarkListBase[NormalizedLandmark]):
    """A list of :class:`NormalizedLandmark` (``results.pose_landmarks``): ``.landmark[i]``."""

    __slots__ = ()
    _element = NormalizedLandmark


class LandmarkList(_LandmarkListBase[Landmark]):
    """A list of :class:`Landmark` (``results.pose_world_landmarks``): ``.landmark[i]``."""

    __slots__ = ()
    _element = Landmark
