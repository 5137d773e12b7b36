"""Digest records of derived model files (converted ONNX, int8 .tflite), checked before use.

A derived file is made by hifipose from a pinned model file and cached next to it. Beside
each one lies its record, ``<file name>.json``: the file's size and SHA-256, the source's
SHA-256 and the tool that made it (converter or quantiser version), written after the file
itself. :func:`load` reads the file back only when it matches its record, so a file damaged
after it was made (noise, truncation, another tool's output) is never loaded: the caller
makes it again. torch modules are rebuilt from the .tflite each time and have no file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path
from typing import Final

from hifipose._publish import partial_owner, publishing
from hifipose._version import __version__

__all__ = [
    "NO_RECORD",
    "RECORD_SUFFIX",
    "check",
    "is_derived",
    "load",
    "record_path",
    "remove_older",
    "write",
    "write_atomic",
]

#: The suffix added to a derived file's name to name its record.
RECORD_SUFFIX: Final = ".json"
#: Why a file made before records existed (or whose record could not be written) is not used.
NO_RECORD: Final = "has no digest record"
# What a derived file's name contains: ".hifipose-c<N>." (converter) or ".hifipose-q<N>."
# (quantiser), after the 16 hex digits of the source's SHA-256.
_MARKERS: Final = (".hifipose-c", ".hifipose-q")


def record_path(path: Path) -> Path:
    """Return where the record of the derived file ``path`` lies (``<name>.json``)."""
    return path.with_name(path.name + RECORD_SUFFIX)


def is_derived(path: Path) -> bool:
    """Whether ``path`` names a derived model file (not a record, not a partial file)."""
    name = path.name
    return (
        any(marker in name for marker in _MARKERS)
        and not name.endswith((RECORD_SUFFIX, ".partial"))
        and partial_owner(name) is None
        and not name.startswith(".")
    )


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole (its own partial file first, then renamed)."""
    with publishing(path, unique=True) as partial:  # converters of one process may race
        partial.write_bytes(data)


def write(path: Path, data: bytes, *, source_sha256: str, tool: str) -> None:
    """Write a derived file, then its record (each atomically).

    Args:
        path: Where the derived file goes.
        data: Its bytes.
        source_sha256: The SHA-256 (hex) of the model file it was made from.
        tool: What made it, e.g. ``"converter 2"``; a record with another tool is stale.

    Raises:
        OSError: The folder cannot be written (the file may then exist without a record,
            which :func:`load` treats as not made).
    """
    write_atomic(path, data)
    entry = {
        "file": path.name,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "source_sha256": source_sha256,
        "tool": tool,
        "hifipose": __version__,
    }
    write_atomic(record_path(path), (json.dumps(entry, indent=2) + "\n").encode())


def _read_record(path: Path) -> dict[str, object] | str:
    """The record of ``path`` as a dict, or why it cannot be used."""
    try:
        entry = json.loads(record_path(path).read_bytes())
    except FileNotFoundError:
        return NO_RECORD
    except (OSError, ValueError) as exc:
        return f"has an unreadable digest record ({type(exc).__name__})"
    if not isinstance(entry, dict) or not all(
        isinstance(entry.get(key), want)
        for key, want in (("size", int), ("sha256", str), ("source_sha256", str), ("tool", str))
    ):
        return "has a malformed digest record"
    return entry


def _judge(
    path: Path, data: bytes, entry: dict[str, object], source_sha256: str | None, tool: str | None
) -> str | None:
    if source_sha256 is not None and entry["source_sha256"] != source_sha256:
        return "was made from another model file"
    if tool is not None and entry["tool"] != tool:
        return f"was made by {entry['tool']}, not {tool}"
    if len(data) != entry["size"]:
        return f"is corrupt or truncated: {len(data)} bytes, its record says {entry['size']}"
    if hashlib.sha256(data).hexdigest() != entry["sha256"]:
        return "is corrupt: its SHA-256 differs from its record"
    return None


def load(path: Path, *, source_sha256: str, tool: str) -> tuple[bytes | None, str]:
    """Read a derived file if it exists and matches its record.

    Args:
        path: The derived file.
        source_sha256: The SHA-256 of the model file it must have been made from.
        tool: The tool that must have made it.

    Returns:
        ``(bytes, "")`` when it matches; ``(None, why)`` otherwise (``why`` is ``""`` when
        the file does not exist, else a phrase such as ``"is corrupt: …"``).
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, ""
    except OSError as exc:
        return None, f"cannot be read ({exc})"
    entry = _read_record(path)
    if isinstance(entry, str):
        return None, entry
    why = _judge(path, data, entry, source_sha256, tool)
    return (None, why) if why else (data, "")


def check(path: Path) -> str | None:
    """Why the derived file ``path`` does not match its record (None: it does).

    Unlike :func:`load`, it does not know which source or tool to expect: it checks the
    file against its record only (``hifipose models verify`` and ``models clean``).
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        return f"cannot be read ({exc})"
    entry = _read_record(path)
    if isinstance(entry, str):
        return entry
    return _judge(path, data, entry, None, None)


def remove_older(current: Path, pattern: str) -> None:
    """Delete the files beside ``current`` matching the glob ``pattern`` (its other versions).

    Each goes with its digest record; ``current`` stays, and a file that cannot be deleted
    is left.
    """
    for stale in current.parent.glob(pattern):
        if stale != current:
            for path in (stale, record_path(stale)):
                with contextlib.suppress(OSError):
                    path.unlink()
