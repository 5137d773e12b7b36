"""A minimal, read-only FlatBuffers table reader (little-endian, no generated code).

Only what reading a ``.tflite`` file needs: tables, scalars, strings, vectors of scalars and
vectors of tables. Field ids follow the order in which fields are declared in the schema; a
union field ``u`` occupies two ids, ``u_type`` (a ubyte) and then ``u`` (a table offset).
"""

from __future__ import annotations

import struct
from typing import Final

import numpy as np
from numpy.typing import NDArray

from hifipose.errors import ModelIntegrityError

__all__ = ["Table", "root_table"]

_SCALAR_FORMATS: Final = {
    "b": "<b",
    "B": "<B",
    "h": "<h",
    "H": "<H",
    "i": "<i",
    "I": "<I",
    "q": "<q",
    "Q": "<Q",
    "f": "<f",
}


class Table:
    """One FlatBuffers table inside ``buffer``, starting at byte ``position``."""

    __slots__ = ("_buffer", "_position", "_vtable", "_vtable_size")

    def __init__(self, buffer: bytes, position: int) -> None:
        self._buffer = buffer
        self._position = position
        try:
            (vtable_offset,) = struct.unpack_from("<i", buffer, position)
            self._vtable = position - vtable_offset
            (self._vtable_size,) = struct.unpack_from("<H", buffer, self._vtable)
        except struct.error as exc:
            msg = f"truncated FlatBuffers table at byte {position}"
            raise ModelIntegrityError(msg) from exc

    def _field(self, field_id: int) -> int:
        """Return the absolute position of field ``field_id``, or 0 when it is absent."""
        entry = 4 + 2 * field_id
        if entry >= self._vtable_size:
            return 0
        (relative,) = struct.unpack_from("<H", self._buffer, self._vtable + entry)
        return self._position + relative if relative else 0

    def _indirect(self, position: int) -> int:
        (offset,) = struct.unpack_from("<I", self._buffer, position)
        return position + int(offset)

    def has(self, field_id: int) -> bool:
        """Return whether field ``field_id`` is present."""
        return self._field(field_id) != 0

    def scalar(self, field_id: int, kind: str, default: float = 0) -> int | float:
        """Read a scalar field; ``kind`` is a :mod:`struct` code (``"i"``, ``"B"``, ``"f"``…)."""
        position = self._field(field_id)
        if not position:
            return default
        value: int | float = struct.unpack_from(_SCALAR_FORMATS[kind], self._buffer, position)[0]
        return value

    def integer(self, field_id: int, kind: str = "i", default: int = 0) -> int:
        """Read an integer scalar field."""
        return int(self.scalar(field_id, kind, default))

    def string(self, field_id: int) -> str:
        """Read a string field ("" when absent)."""
        position = self._field(field_id)
        if not position:
            return ""
        start = self._indirect(position)
        (length,) = struct.unpack_from("<I", self._buffer, start)
        return self._buffer[start + 4 : start + 4 + length].decode("utf-8")

    def table(self, field_id: int) -> Table | None:
        """Read a table (or union value) field, or None when absent."""
        position = self._field(field_id)
        return Table(self._buffer, self._indirect(position)) if position else None

    def vector(self, field_id: int, dtype: str) -> NDArray[np.generic]:
        """Read a vector of scalars as a read-only numpy array (empty when absent).

        Args:
            field_id: The field.
            dtype: A little-endian numpy dtype string, e.g. ``"<i4"`` or ``"u1"``.
        """
        position = self._field(field_id)
        if not position:
            return np.zeros(0, dtype=dtype)
        start = self._indirect(position)
        (length,) = struct.unpack_from("<I", self._buffer, start)
        item = np.dtype(dtype)
        end = start + 4 + length * item.itemsize
        if end > len(self._buffer):
            msg = f"a FlatBuffers vector runs past the end of the file (byte {end})"
            raise ModelIntegrityError(msg)
        return np.frombuffer(self._buffer, dtype=item, count=length, offset=start + 4)

    def tables(self, field_id: int) -> list[Table]:
        """Read a vector of tables (empty when absent)."""
        position = self._field(field_id)
        if not position:
            return []
        start = self._indirect(position)
        (length,) = struct.unpack_from("<I", self._buffer, start)
        return [
            Table(self._buffer, self._indirect(start + 4 + 4 * index)) for index in range(length)
        ]


def root_table(buffer: bytes, *, identifier: bytes | None = None) -> Table:
    """Return the root table of a FlatBuffers ``buffer``.

    Args:
        buffer: The whole file.
        identifier: The 4-byte file identifier to require (e.g. ``b"TFL3"``), or None.

    Raises:
        ModelIntegrityError: The buffer is too short or has another identifier.
    """
    if len(buffer) < 8:
        msg = f"not a FlatBuffers file: {len(buffer)} bytes"
        raise ModelIntegrityError(msg)
    if identifier is not None and buffer[4:8] != identifier:
        msg = f"not a {identifier.decode()} file: identifier {buffer[4:8]!r}"
        raise ModelIntegrityError(msg)
    (root,) = struct.unpack_from("<I", buffer, 0)
    return Table(buffer, int(root))
