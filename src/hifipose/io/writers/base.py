"""The writer protocol and atomic publication: write a partial file, rename it on close.

Every output follows hifipose's one partial-file rule (:mod:`hifipose._publish`):
``<stem>.<pid>.partial<suffix>`` beside the final file, renamed over it on a clean close,
deleted on an error or Ctrl-C; opening an output first removes its stale partial files.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

from hifipose._publish import (
    STALE_PARTIAL_S,
    Publication,
    discard,
    partial_path,
    remove_stale_partials,
)
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
        self._closed = False
        if self.path.is_dir():
            msg = f"cannot write {self.path}: it is a folder; give a file name"
            raise OutputError(msg)
        try:
            self._publication = Publication(self.path)
            self.partial = self._publication.partial
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
        self._publication.publish()

    def abort(self) -> None:
        """Close without publishing and delete the partial file."""
        if not self._closed:
            self._closed = True
            with contextlib.suppress(OSError):  # e.g. a full disk failing the final flush
                self._file.close()
            discard(self.partial)
