"""Publishing files whole: write under a partial name beside the target, rename when done.

One rule for every file hifipose writes (keypoints, overlays, reports, plots, model files
fetched or converted): the bytes go to ``<stem>.<pid>.partial<suffix>`` beside the target
(``<stem>.<pid>-<hex>.partial<suffix>`` where several writers of one process may race, as
model fetches do), e.g. ``keypoints.4242.partial.jsonl`` for ``keypoints.jsonl``; the suffix
stays last because video and plot writers choose the format by it. Only a complete file is
renamed over the target (``os.replace``, atomic on one file system), so a reader never sees
a truncated file under the final name. An error or Ctrl-C deletes the partial file; a
process killed outright cannot, so opening a target first deletes that target's *stale*
partial files: those whose owner process is gone, or that nothing has written to for
:data:`STALE_PARTIAL_S` seconds (in case the pid was reused).
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import re
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Final

__all__ = [
    "STALE_PARTIAL_S",
    "Publication",
    "discard",
    "is_stale",
    "partial_owner",
    "partial_path",
    "publish_text",
    "publishing",
    "remove_stale_partials",
]

logger = logging.getLogger(__name__)

#: A partial file untouched this long (one day) is stale even if its pid is alive again.
STALE_PARTIAL_S: Final = 24 * 3600
# "<stem>.<pid>[-<hex>].partial<suffix>"; also the older model-cache form
# "<filename>.<pid>-<hex>.partial" (the suffix last), which is the same pattern.
_PARTIAL: Final = re.compile(r".+\.(?P<pid>\d+)(?:-[0-9a-f]+)?\.partial(?:\.[^.]+)?\Z")


def partial_path(path: Path, pid: int | None = None, *, unique: bool = False) -> Path:
    """Where ``path`` is written until it is complete: ``<stem>.<pid>[-<hex>].partial<suffix>``.

    ``unique`` adds random hex, for writers of one process that may target one path at once.
    """
    tag = str(os.getpid() if pid is None else pid)
    if unique:
        tag += f"-{secrets.token_hex(4)}"
    return path.with_name(f"{path.stem}.{tag}.partial{path.suffix}")


def partial_owner(name: str) -> int | None:
    """The pid in a partial file's name, or None when ``name`` is not a partial file's."""
    match = _PARTIAL.match(name)
    return None if match is None else int(match.group("pid"))


def _process_alive(pid: int) -> bool:
    if os.name != "posix":  # no signal-0 probe: rely on the age rule
        return True
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # gone, or no pid at all
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


def is_stale(partial: Path, pid: int, *, now: float | None = None) -> bool:
    """Whether the partial file ``partial`` of process ``pid`` is abandoned (see module doc).

    Raises:
        OSError: The file is gone or cannot be examined.
    """
    if pid == os.getpid():
        return False
    cutoff = (time.time() if now is None else now) - STALE_PARTIAL_S
    return not _process_alive(pid) or partial.stat().st_mtime < cutoff


def remove_stale_partials(path: Path, *, now: float | None = None) -> list[Path]:
    """Delete the stale partial files of the target ``path``; return those deleted.

    Stale: named by :func:`partial_path` for ``path``, and its owner process has exited or
    it was last modified more than :data:`STALE_PARTIAL_S` seconds ago. This process's own
    partial files are never touched. Files that vanish or cannot be deleted are skipped.
    """
    pattern = re.compile(
        re.escape(path.stem) + r"\.(\d+)(?:-[0-9a-f]+)?\.partial" + re.escape(path.suffix) + r"\Z"
    )
    removed: list[Path] = []
    try:
        candidates = list(path.parent.glob(f"{glob.escape(path.stem)}.*.partial*"))
    except OSError:
        return removed
    for candidate in candidates:
        match = pattern.match(candidate.name)
        if match is None:
            continue
        try:
            if is_stale(candidate, int(match.group(1)), now=now):
                candidate.unlink()
                removed.append(candidate)
                logger.info("removed the stale partial file %s", candidate)
        except OSError:  # gone already, or not ours to delete
            continue
    return removed


def discard(path: Path) -> None:
    """Delete ``path`` if it exists; a failure to delete an existing file is logged, not raised.

    A partial file that was never made is not warned about, whatever error the folder gives
    (a read-only file system refuses even to look: ``EROFS`` before ``ENOENT``).
    """
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        if os.path.lexists(path):
            logger.warning("cannot delete the partial file %s: %s", path, exc)


class Publication:
    """One file on its way to ``path``: written at :attr:`partial`, then published or discarded.

    Creating it makes the target's folder and deletes the target's stale partial files.

    Raises:
        OSError: The folder cannot be made.
    """

    def __init__(self, path: str | Path, *, unique: bool = False) -> None:
        self.path = Path(path)
        self.partial = partial_path(self.path, unique=unique)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_partials(self.path)

    def publish(self) -> Path:
        """Rename the complete partial file over the target; return the target.

        Raises:
            OSError: The rename failed (the partial file is then deleted).
        """
        try:
            os.replace(self.partial, self.path)
        except OSError:
            self.discard()
            raise
        return self.path

    def discard(self) -> None:
        """Delete the partial file: nothing is published."""
        discard(self.partial)


@contextlib.contextmanager
def publishing(path: str | Path, *, unique: bool = False) -> Iterator[Path]:
    """Write ``path`` whole: yield its partial path, publish it when the block ends cleanly.

    An exception leaving the block (Ctrl-C included) deletes the partial file and publishes
    nothing. ``unique``: as :func:`partial_path`.

    Raises:
        OSError: The folder cannot be made or the rename failed.
    """
    publication = Publication(path, unique=unique)
    try:
        yield publication.partial
    except BaseException:
        publication.discard()
        raise
    publication.publish()


def publish_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` whole (:func:`publishing`); return the path.

    Raises:
        OSError: The file cannot be written.
    """
    with publishing(path) as partial:
        partial.write_text(text, encoding="utf-8")
    return Path(path)
