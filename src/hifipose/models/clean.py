"""``hifipose models clean``: remove what the model cache no longer needs.

Removed: partial files of fetches or conversions that were killed before they finished
(stale: the owner process has exited, or the file was left untouched for an hour when it
names no process); derived files (converted ONNX, int8 .tflite) made by another converter or
quantiser version, or from a model file whose SHA-256 is no longer pinned, or that do not
match their digest record (:mod:`hifipose.convert.derived`; they are made again when
needed), and records whose file is gone. The model files themselves are never touched.
"""

from __future__ import annotations

import logging
import os
import re
import time
from pathlib import Path
from typing import Final

from hifipose._publish import partial_owner
from hifipose.convert import CONVERTER_VERSION, derived
from hifipose.models.cache import models_dir
from hifipose.models.registry import HOLISTIC_SPECS, MODEL_SPECS

__all__ = ["PIDLESS_PARTIAL_STALE_S", "clean_cache", "derived_status"]

logger = logging.getLogger(__name__)

#: A partial file that names no owner process is stale after this long untouched (seconds).
PIDLESS_PARTIAL_STALE_S: Final = 3600
#: A partial file whose owner looks alive is still stale after this long (the pid reused).
_OWNED_PARTIAL_STALE_S: Final = 24 * 3600

# convert: "<stem>.<16 hex of the source's sha256>.hifipose-c<version><suffix>";
# int8: "<stem>.<16 hex>.hifipose-q<version>.int8.tflite"; OpenVINO's int8:
# "<stem>.<16 hex>.hifipose-qov<version>.int8.ovir".
_DERIVED: Final = re.compile(
    r"(?P<stem>.+)\.(?P<sha>[0-9a-f]{16})\.hifipose-(?P<tool>c|q|qov)(?P<version>\d+)"
    r"\.(?:\w+|int8\.tflite|int8\.ovir)\Z"
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
    pid = partial_owner(path.name)  # hifipose's partial-file rule (hifipose._publish)
    if pid is None:  # an older release's ".<filename>.<random>.partial"
        return "partial file untouched for an hour" if age > PIDLESS_PARTIAL_STALE_S else None
    if pid == os.getpid():
        return None
    if not _alive(pid):
        return "partial file of a fetch that did not finish"
    return "partial file untouched for a day" if age > _OWNED_PARTIAL_STALE_S else None


def _why_removable(path: Path, now: float) -> str | None:
    if partial_owner(path.name) is not None or path.name.endswith(".partial"):
        return _partial_is_stale(path, now)
    if path.name.endswith(derived.RECORD_SUFFIX):
        file = path.with_name(path.name.removesuffix(derived.RECORD_SUFFIX))
        if derived.is_derived(file) and not file.exists():
            return "digest record of a derived file that is gone"
        return None
    match = _DERIVED.match(path.name)
    return None if match is None else _why_derived_removable(path, match)


def _why_derived_removable(path: Path, match: re.Match[str]) -> str | None:
    from hifipose.convert.openvino_int8 import OPENVINO_INT8_VERSION
    from hifipose.convert.quantize import QUANTIZER_VERSION  # numpy: only when one is found

    if match["tool"] == "c":
        tool, current = "converter", CONVERTER_VERSION
    elif match["tool"] == "qov":
        tool, current = "OpenVINO int8 recipe", OPENVINO_INT8_VERSION
    else:
        tool, current = "quantiser", QUANTIZER_VERSION
    if int(match["version"]) != current:
        return f"made by {tool} version {match['version']} (now {current})"
    pinned = {
        spec.sha256[:16]
        for spec in (*MODEL_SPECS.values(), *HOLISTIC_SPECS.values())
        if Path(spec.filename).stem == match["stem"]
    }
    if pinned and match["sha"] not in pinned:
        return "made from a model file that is no longer pinned"
    why = derived.check(path)
    return None if why is None else f"derived file that {why} (it is made again when needed)"


def derived_status(folder: Path | None = None) -> list[tuple[Path, str | None]]:
    """Check each derived file in the model cache against its digest record.

    Args:
        folder: The folder to check; None means :func:`~hifipose.models.models_dir`.

    Returns:
        ``(path, why)`` per derived file, by name: ``why`` is None when it matches its
        record, else why not (``hifipose models clean`` removes it; it is also made again
        when next needed).
    """
    target = models_dir() if folder is None else folder
    if not target.is_dir():
        return []
    return [
        (path, derived.check(path))
        for path in sorted(target.iterdir())
        if derived.is_derived(path) and path.is_file()
    ]


def clean_cache(folder: Path | None = None, *, dry_run: bool = False) -> list[tuple[Path, str]]:
    """Delete stale partial files and outdated or damaged derived files from the model cache.

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
    seen: set[Path] = set()
    for path in sorted(target.iterdir()):
        if path in seen:
            continue
        try:
            if not path.is_file() or (reason := _why_removable(path, now)) is None:
                continue
        except FileNotFoundError:
            continue
        doomed = [(path, reason)]
        record = derived.record_path(path)
        if derived.is_derived(path) and record.is_file():
            doomed.append((record, "digest record of a removed derived file"))
            seen.add(record)
        for victim, why in doomed:
            try:
                if not dry_run:
                    victim.unlink()
            except FileNotFoundError:
                continue
            except OSError as exc:
                logger.warning("cannot delete %s: %s", victim, exc)
                continue
            removed.append((victim, why))
    return removed
