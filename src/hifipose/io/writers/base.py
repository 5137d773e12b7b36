"""The writer protocol and atomic publication: write a partial file, rename it on close.

Partial files (one rule for keypoints and overlays): ``<stem>.<pid>.partial<suffix>`` beside
the final file, e.g. ``keypoints.4242.partial.jsonl`` for ``keypoints.jsonl`` (the suffix
stays last because video writers choose the container by it). An error or Ctrl-C removes the
run's partial files; a process killed outright (``kill -9``) cannot, so opening an output
first removes that output's *stale* partial files: those whose owner process is gone, or
that nothing has written to for :data:`STALE_PARTIAL_S` seconds (in case the pid was reused).
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import re
import time
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Protocol

from hifipose.errors import OutputError
from hifipose.pose import FrameResult

if TYPE_CHECKING:  # typing.Self is 3.11+; annotations are strings here (3.10 supported)
    from typing import Self

__all__ = [
    "STALE_PARTIAL_S",
    "AtomicWriter",
    "PoseWriter",
    "PublishOnSuccess",
    "ResultWriter",
    "discard",
    "partial_path",
    "remove_stale_partials",
]

logger = logging.getLogger(__name__)

#: A partial file untouched this long (one day) is stale even if its pid is alive again.
STALE_PARTIAL_S: Final = 24 * 3600


def partial_path(path: Path, pid: int | None = None) -> Path:
    """Where ``path`` is written until it is complete: ``<stem>.<pid>.partial<suffix>``."""
    return path.with_name(f"{path.stem}.{os.getpid() if pid is None else pid}.partial{path.suffix}")


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


def remove_stale_partials(path: Path, *, now: float | None = None) -> list[Path]:
    """Delete the stale partial files of the output ``path``; return those deleted.

    Stale: named by :func:`partial_path` for ``path``, and its owner process has exited or
    it was last modified more than :data:`STALE_PARTIAL_S` seconds ago. This process's own
    partial files are never touched. Files that vanish or cannot be deleted are skipped.
    """
    pattern = re.compile(
        re.escape(path.stem) + r"\.(\d+)\.partial" + re.escape(path.suffix) + r"\Z"
    )
    cutoff = (time.time() if now is None else now) - STALE_PARTIAL_S
    removed: list[Path] = []
    try:
        candidates = list(path.parent.glob(f"{glob.escape(path.stem)}.*.partial*"))
    except OSError:
        return removed
    for candidate in candidates:
        match = pattern.match(candidate.name)
        if match is None or int(match.group(1)) == os.getpid():
            continue
        try:
            stale = not _process_alive(int(match.group(1))) or candidate.stat().st_mtime < cutoff
            if stale:
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


class PublishOnSuccess:
    """Context-manager behaviour of every output: publish only on a clean exit.

    ``close()`` (publish) runs when the ``with`` block ends normally, ``abort()`` (delete the
    partial file, publish nothing) when an exception leaves it.
    """

    def close(self) -> None:
        """Finish and publish."""
        raise NotImplementedError

    def abort(self) -> None:
        """Stop without publishing; delete the partial file."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class PoseWriter(Protocol):
    """Anything that takes frame results one by one and is closed at the end."""

    path: Path

    def write(self, result: FrameResult) -> None:
        """Append one frame's result."""
        ...

    def close(self) -> None:
        """Finish the file and publish it under its final name."""
        ...


class ResultWriter(PublishOnSuccess):
    """Base class of every keypoint output that :func:`open_writer` opens."""

    def write(self, result: FrameResult) -> None:
        """Take one frame's result."""
        raise NotImplementedError


class AtomicWriter(ResultWriter):
    """Base class: output goes to :func:`partial_path` and is renamed on a clean close.

    As a context manager, an exception deletes the partial file and never creates the final
    name, so a crash or Ctrl-C never leaves a truncated file that looks complete.
    """

    binary = False

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.partial = partial_path(self.path)
        self._closed = False
        if self.path.is_dir():
            msg = f"cannot write {self.path}: it is a folder; give a file name"
            raise OutputError(msg)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            remove_stale_partials(self.path)
            # IO[str], or IO[bytes] when `binary`: subclasses know which they opened
            self._file: Any = (
                self.partial.open("wb")
                if self.binary
                else self.partial.open("w", encoding="utf-8", newline="")
            )
        except OSError as exc:
            msg = f"cannot write {self.path}: {exc.strerror or exc}"
            raise OutputError(msg) from exc

    def write(self, result: FrameResult) -> None:
        """Append one frame's result."""
        if self._closed:
            msg = f"{self.path} is already closed"
            raise OutputError(msg)
        self._write(result)

    def _write(self, result: FrameResult) -> None:
        raise NotImplementedError

    def _finish(self) -> None:
        """Write any trailer before the file is closed."""

    def close(self) -> None:
        """Finish and publish the file. Calling it again does nothing."""
        if self._closed:
            return
        self._closed = True
        self._finish()
        self._file.close()
        os.replace(self.partial, self.path)

    def abort(self) -> None:
        """Close without publishing and delete the partial file."""
        if not self._closed:
            self._closed = True
            with contextlib.suppress(OSError):  # e.g. a full disk failing the final flush
                self._file.close()
            discard(self.partial)
