"""Where model files live, and the size + SHA-256 check that runs before every load.

Environment:
    ``HIFIPOSE_CACHE_DIR``: the cache folder. Else ``$XDG_CACHE_HOME/hifipose`` (when that
    variable holds an absolute path), else ``~/.cache/hifipose``. Model files live in its
    ``models/`` subfolder.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import time
from pathlib import Path
from typing import Final

from hifipose.errors import ModelIntegrityError, ModelNotFoundError
from hifipose.models.registry import ModelSpec

__all__ = ["cache_dir", "models_dir", "verify_file"]

logger = logging.getLogger(__name__)

_CHUNK_BYTES: Final = 1 << 20

# A file whose mtime is this close to the moment it was hashed may still change without its
# mtime changing (file-system timestamps are coarser than nanoseconds), so such a result is
# not remembered: git's "racy clean" rule. 2 s covers every common file system's granularity.
_RACY_NS: Final = 2_000_000_000

# Files that passed verification in this process, keyed by everything that changes when the
# file is rewritten or replaced, and by the pin they were checked against.
_VerifiedKey = tuple[str, int, int, int, int, int, str]
_VERIFIED: set[_VerifiedKey] = set()


def cache_dir() -> Path:
    """Return hifipose's per-user cache folder (it may not exist yet).

    Returns:
        ``$HIFIPOSE_CACHE_DIR`` if set and non-empty, else ``$XDG_CACHE_HOME/hifipose`` if
        that is an absolute path (the XDG spec says to ignore a relative one), else
        ``~/.cache/hifipose``.
    """
    if explicit := os.environ.get("HIFIPOSE_CACHE_DIR"):
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "hifipose"
    return Path.home() / ".cache" / "hifipose"


def models_dir() -> Path:
    """Return the folder of cached model files, ``<cache_dir()>/models`` (may not exist)."""
    return cache_dir() / "models"


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def verify_file(path: Path, spec: ModelSpec) -> Path:
    """Check a model file's size, then its SHA-256, against the pins in ``spec``.

    The size is checked first (one ``stat``), so a truncated file is caught without reading
    it. A file that passed in this process is not hashed again while its path, device,
    inode, size, mtime and ctime are unchanged and its mtime was at least 2 s older than
    the hash; any change to the file, or a freshly written one, is hashed again.

    Args:
        path: The file to check.
        spec: The pins it must match.

    Returns:
        ``path``, unchanged.

    Raises:
        ModelNotFoundError: ``path`` does not exist, is not a regular file, or cannot be
            read.
        ModelIntegrityError: Its size or SHA-256 differs from the pinned one. The message
            names the file and both values.
    """
    try:
        info = path.stat()
    except FileNotFoundError as exc:
        msg = f"model file not found: {path}"
        raise ModelNotFoundError(msg) from exc
    except OSError as exc:
        msg = f"cannot read model file {path}: {exc}"
        raise ModelNotFoundError(msg) from exc
    if not stat.S_ISREG(info.st_mode):
        msg = f"model path {path} is not a regular file"
        raise ModelNotFoundError(msg)
    if info.st_size != spec.size_bytes:
        msg = (
            f"model file {path} is corrupt or truncated: expected {spec.size_bytes} bytes "
            f"({spec.filename}), got {info.st_size}; it was not loaded"
        )
        raise ModelIntegrityError(msg)
    key: _VerifiedKey = (
        str(path.absolute()),
        info.st_dev,
        info.st_ino,
        info.st_size,
        info.st_mtime_ns,
        info.st_ctime_ns,
        spec.sha256,
    )
    if key in _VERIFIED:
        return path
    hashed_at_ns = time.time_ns()
    try:
        got = _sha256_file(path)
    except OSError as exc:
        msg = f"cannot read model file {path}: {exc}"
        raise ModelNotFoundError(msg) from exc
    if got != spec.sha256:
        msg = (
            f"model file {path} is corrupt: expected sha256 {spec.sha256} ({spec.filename}), "
            f"got {got}; it was not loaded"
        )
        raise ModelIntegrityError(msg)
    if max(info.st_mtime_ns, info.st_ctime_ns) + _RACY_NS <= hashed_at_ns:
        _VERIFIED.add(key)
    logger.debug("verified %s (%d bytes, sha256 %s…)", path, info.st_size, got[:12])
    return path
