"""Decode the FlexBuffers map a TFLite custom op carries as its options (``custom_options``).

Only what MediaPipe's custom ops store is handled: a root map whose values are integers,
floats, booleans, or vectors (typed or not) of integers or floats. FlexBuffers is
little-endian; a value is stored inline in its parent's byte width, or (maps, vectors) as an
unsigned offset back from where it is stored; each element's "packed type" byte is
``type << 2 | log2(byte width)``, where the width is the inline value's, or for an offset the
width of the data it points to.
"""

from __future__ import annotations

import struct
from typing import Final

from hifipose.errors import ModelIntegrityError

__all__ = ["FlexValue", "read_flex_map"]

FlexValue = int | float | bool | tuple[int, ...] | tuple[float, ...]

_INT, _UINT, _FLOAT, _MAP, _VECTOR, _BOOL = 1, 2, 3, 9, 10, 26
_VECTOR_INT, _VECTOR_UINT, _VECTOR_FLOAT = 11, 12, 13
_SIGNED: Final = {1: "<b", 2: "<h", 4: "<i", 8: "<q"}
_UNSIGNED: Final = {1: "<B", 2: "<H", 4: "<I", 8: "<Q"}
_FLOATS: Final = {4: "<f", 8: "<d"}


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def unsigned(self, position: int, width: int) -> int:
        return int(struct.unpack_from(_UNSIGNED[width], self.data, position)[0])

    def scalar(self, position: int, width: int, kind: int) -> int | float | bool:
        if kind == _INT:
            return int(struct.unpack_from(_SIGNED[width], self.data, position)[0])
        if kind in (_UINT, _BOOL):
            value = self.unsigned(position, width)
            return bool(value) if kind == _BOOL else value
        return float(struct.unpack_from(_FLOATS[width], self.data, position)[0])

    def value(self, position: int, parent_width: int, packed: int) -> FlexValue:
        kind, width = packed >> 2, 1 << (packed & 3)
        if kind in (_INT, _UINT, _FLOAT, _BOOL):
            return self.scalar(position, parent_width, kind)
        if kind in (_VECTOR_INT, _VECTOR_UINT, _VECTOR_FLOAT):
            start = position - self.unsigned(position, parent_width)
            size = self.unsigned(start - width, width)
            element = {_VECTOR_INT: _INT, _VECTOR_UINT: _UINT, _VECTOR_FLOAT: _FLOAT}[kind]
            return tuple(self.scalar(start + i * width, width, element) for i in range(size))
        if kind == _VECTOR:  # each element's packed type follows the elements
            start = position - self.unsigned(position, parent_width)
            size = self.unsigned(start - width, width)
            types = self.data[start + size * width : start + size * width + size]
            if any(t >> 2 not in (_INT, _UINT, _FLOAT) for t in types):
                msg = "custom op options hold a vector of other than numbers"
                raise ModelIntegrityError(msg)
            return tuple(self.scalar(start + i * width, width, t >> 2) for i, t in enumerate(types))
        msg = f"custom op options hold a FlexBuffers value of type {kind}, not handled"
        raise ModelIntegrityError(msg)

    def key(self, position: int) -> str:
        end = self.data.index(b"\0", position)
        return self.data[position:end].decode("utf-8")


def read_flex_map(data: bytes) -> dict[str, FlexValue]:
    """Decode a FlexBuffers root map of scalars and typed numeric vectors.

    Args:
        data: The custom op's options bytes.

    Returns:
        The map, keys as strings; integer vectors as tuples of ints, float vectors of floats.

    Raises:
        ModelIntegrityError: The bytes are not such a map.
    """
    reader = _Reader(bytes(data))
    try:
        root_width = data[-1]
        packed = data[-2]
        root = len(data) - 2 - root_width
        if packed >> 2 != _MAP:
            msg = "custom op options are not a FlexBuffers map"
            raise ModelIntegrityError(msg)
        width = 1 << (packed & 3)
        start = root - reader.unsigned(root, root_width)
        size = reader.unsigned(start - width, width)
        keys_at = start - 3 * width
        keys_start = keys_at - reader.unsigned(keys_at, width)
        keys_width = reader.unsigned(start - 2 * width, width)
        result: dict[str, FlexValue] = {}
        for i in range(size):
            key_slot = keys_start + i * keys_width
            name = reader.key(key_slot - reader.unsigned(key_slot, keys_width))
            result[name] = reader.value(start + i * width, width, data[start + size * width + i])
    except (IndexError, KeyError, struct.error, ValueError) as exc:
        msg = f"malformed FlexBuffers custom op options: {exc}"
        raise ModelIntegrityError(msg) from exc
    return result
