"""The writer protocol and atomic publication: write ``name.partial``, rename on close."""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self

from hifipose.errors import OutputError
from hifipose.pose import FrameResult

__all__ = ["AtomicWriter", "PoseWriter", "PublishOnSuccess", "ResultWriter"]


class PublishOnSuccess:
    """Context-manager behaviour of every output: publish only on a clean exit.

    ``close()`` (publish) runs when the ``with`` block ends normally, ``abort()`` (keep the
    temporary file, publish nothing) when an exception leaves it.
    """

    def close(self) -> None:
        """Finish and publish."""
        raise NotImplementedError

    def abort(self) -> None:
        """Stop without publishing."""
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
    """Base class: output goes to ``<name>.partial`` and is renamed on a clean close.

    As a context manager, an exception keeps the ``.partial`` file (for debugging) and
    never creates the final name, so a crash or Ctrl-C never leaves a truncated file that
    looks complete.
    """

    binary = False

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.partial = self.path.with_name(self.path.name + ".partial")
        self._closed = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
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
        """Close without publishing; the ``.partial`` file stays."""
        if not self._closed:
            self._closed = True
            self._file.close()
