"""``hifipose models clean``: remove what the model cache no longer needs.

Removed: partial files of fetches or conversions that were killed before they finished
(stale: the owner process has exited, or the file was left untouched for an hour when it
names no process), and converted ONNX files made by another converter version or from a
model file whose SHA-256 is no longer pinned. The model files themselves are never touched.
"""

from __future__ import annotations

import logging
import os
import re
import time
from pathlib import Path
from typing import Final

from hifipose.convert import CONVERTER_VERSION
from hifipose.models.cache import models_dir
from hifipose.models.registry import MODEL_SPECS

__all__ = ["PIDLESS_PARTIAL_STALE_S", "clean_cache"]

logger = logging.getLogger(__name__)

#: A partial file that names no owner process is stale after this long untouched (seconds).
PIDLESS_PARTIAL_STALE_S: Final = 3600
#: A partial file whose owner looks alive is still stale after this long (the pid reused).
_OWNED_PARTIAL_STALE_S: Final = 24 * 3600

# fetch: "<filename>.<pid>-<hex>.partial"; convert: ".<filename>.<random>.partial".
_FETCH_PARTIAL: Final = re.compile(r".+\.(\d+)-[0-9a-f]+\.partial\Z")
# convert: "<stem>.<16 hex of the source's sha256>.hifipose-c<version><suffix>".
_CONVERTED: Final = re.compile(
    r"(?P<stem>.+)\.(?P<sha>[0-9a-f]{16})\.hifipose-c(?P<version>\d+)\.\w+\Z"
)


def _alive(pid: int) -> bool:
    if os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:
        return True
    return True


def _partial_is_stale(path: Path, now: float) -> str | None:
    age = now - path.stat().st_mtime
    match = _FETCH_PARTIAL.match(path.name)
    if match is None:
        return "partial file untouched for an hour" if age > PIDLESS_PARTIAL_STALE_S else None
    pid = int(match.group(1))
    if pid == os.getpid():
        return None
    if not _alive(pid):
        return "partial file of a fetch that did not finish"
    return "partial file untouched for a day" if age > _OWNED_PARTIAL_STALE_S else None


def _why_removable(path: Path, now: float) -> str | None:
    if path.name.endswith(".partial"):
        return _partial_is_stale(path, now)
    match = _CONVERTED.match(path.name)
    if match is None:
        return None
    if int(match["version"]) != CONVERTER_VERSION:
        return f"converted by converter version {match['version']} (now {CONVERTER_VERSION})"
    pinned = {
        spec.sha256[:16]
        for spec in MODEL_SPECS.values()
        if Path(spec.filename).stem == match["stem"]
    }
    if pinned and match["sha"] not in pinned:
        return "converted from a model file that is no longer pinned"
    return None


def clean_cache(folder: Path | None = None, *, dry_run: bool = False) -> list[tuple[Path, str]]:
    """Delete stale partial files and outdated conversions from the model cache.

    Args:
        folder: The folder to clean; None means :func:`~hifipose.models.models_dir`.
        dry_run: Only report what would be deleted.

    Returns:
        ``(path, reason)`` for each file deleted (or, with ``dry_run``, to delete). A file
        that vanishes or cannot be deleted meanwhile is left out, with a warning for the
        latter.
    """
    target = models_dir() if folder is None else folder
    if not target.is_dir():
        return []
    now = time.time()
    removed: list[tuple[Path, str]] = []
    for path in sorted(target.iterdir()):
        try:
            if not path.is_file() or (reason := _why_removable(path, now)) is None:
                continue
            if not dry_run:
                path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            logger.warning("cannot delete %s: %s", path, exc)
            continue
        removed.append((path, reason))
    return removed
