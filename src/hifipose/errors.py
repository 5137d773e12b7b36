"""The exception tree: every error hifipose raises on purpose.

Each class subclasses :class:`HifiposeError` and, where one fits, the built-in error it
really is, so callers can catch either ``hifipose.HifiposeError`` or e.g. ``ValueError``.
"""

from __future__ import annotations

__all__ = [
    "ConcurrentUseError",
    "ConfigError",
    "DetectorClosedError",
    "DeviceUnavailableError",
    "HifiposeError",
    "InvalidImageError",
    "InvalidImageTypeError",
    "ModelIntegrityError",
    "ModelNotFoundError",
    "OutputBusyError",
    "OutputError",
    "RuntimeUnavailableError",
    "SolutionClosedError",
    "TimestampError",
    "TruncatedVideoError",
    "UnsupportedOperatorError",
    "VideoReadError",
    "WorkerCrashError",
]


class HifiposeError(Exception):
    """Base class of every error hifipose raises on purpose."""


class ConfigError(HifiposeError, ValueError):
    """An option passed to ``create_detector`` (or a writer, or the CLI) is invalid."""


class InvalidImageError(HifiposeError, ValueError):
    """A frame has the wrong type, shape or dtype, or is empty."""


class InvalidImageTypeError(InvalidImageError, TypeError):
    """A frame is not an array or not uint8 (:mod:`hifipose.solutions`: MediaPipe's TypeError)."""


class TimestampError(HifiposeError, ValueError):
    """A timestamp is not finite, or (with ``strict_timestamps=True``) not increasing."""


class ModelNotFoundError(HifiposeError, FileNotFoundError):
    """A model file is not in ``model_dir`` or the cache and could not be fetched."""


class ModelIntegrityError(HifiposeError):
    """A model file has the wrong size or SHA-256; it is never loaded."""


class RuntimeUnavailableError(HifiposeError, ImportError):
    """An optional dependency (a runtime or an output format) is not installed."""


class DeviceUnavailableError(HifiposeError, RuntimeError):
    """The requested device (e.g. ``device="cuda"``) is not usable with the chosen runtime."""


class UnsupportedOperatorError(HifiposeError, NotImplementedError):
    """A model graph uses an operator a converter does not handle."""


class VideoReadError(HifiposeError, OSError):
    """A video, image, folder or camera cannot be opened or decoded."""


class TruncatedVideoError(VideoReadError):
    """A video ended before the frame count its container declares (``batch`` only raises it).

    Tracking a truncated video yields fewer frames than the file says it has; ``track``
    warns, ``batch`` records the video as failed unless asked to keep partial results.
    """


class WorkerCrashError(HifiposeError, RuntimeError):
    """A ``batch`` worker process died or hung while tracking a video (after its retry)."""


class OutputError(HifiposeError, OSError):
    """An output file or folder cannot be written."""


class OutputBusyError(OutputError):
    """Another ``batch`` run is using the output folder (one run per OUTDIR at a time)."""


class DetectorClosedError(HifiposeError, RuntimeError):
    """A method was called on a detector after ``close()``."""


class SolutionClosedError(DetectorClosedError, ValueError):
    """A :mod:`hifipose.solutions` object was used after ``close()`` (MediaPipe's ValueError)."""


class ConcurrentUseError(HifiposeError, RuntimeError):
    """A detector was called from a second thread while a call was still running.

    A detector tracks one stream and its runtime sessions are not re-entrant; the second
    caller gets this error at once, and the first call's result is unaffected.
    """
