"""Where model files live, and verification before every load."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from hifipose.errors import ModelIntegrityError, ModelNotFoundError
from hifipose.models.registry import ModelSpec

__all__ = ["cache_dir", "models_dir", "verify_file"]

# (path, size, mtime_ns) of files already hashed in this process.
_VERIFIED: set[tuple[str, int, int]] = set()


def cache_dir() -> Path:
    """Hifipose's cache folder.

    ``$HIFIPOSE_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/hifipose``, else
    ``~/.cache/hifipose``.
    """
    if explicit := os.environ.get("HIFIPOSE_CACHE_DIR"):
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "hifipose"


def models_dir() -> Path:
    """The folder holding cached model files: ``<cache_dir()>/models``."""
    return cache_dir() / "models"


def verify_file(path: Path, spec: ModelSpec) -> Path:
    """Check a model file's size and SHA-256 against ``spec``.

    A file already verified in this process with the same size and modification time is
    not hashed again.

    Args:
        path: The file.
        spec: What it must be.

    Returns:
        ``path``.

    Raises:
        ModelNotFoundError: The file does not exist.
        ModelIntegrityError: Its size or digest differs from the pinned one.
    """
    try:
        stat = path.stat()
    except FileNotFoundError as exc:
        msg = f"model file not found: {path}"
        raise ModelNotFoundError(msg) from exc
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key in _VERIFIED:
        return path
    if stat.st_size != spec.size_bytes:
        msg = (
            f"{path}: {stat.st_size} bytes, but {spec.filename} must have {spec.size_bytes} "
            "(truncated or wrong file); it was not loaded"
        )
        raise ModelIntegrityError(msg)
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    if digest.hexdigest() != spec.sha256:
        msg = (
            f"{path}: sha256 {digest.hexdigest()[:12]}… does not match the pinned "
            f"{spec.sha256[:12]}… of {spec.filename}; it was not loaded"
        )
        raise ModelIntegrityError(msg)
    _VERIFIED.add(key)
    return path
