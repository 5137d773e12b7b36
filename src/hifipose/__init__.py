"""hifipose: high-fidelity BlazePose human pose tracking (MediaPipe's Pose graph) for Python."""

from __future__ import annotations

import importlib
import logging
from types import ModuleType

from hifipose._version import __version__
from hifipose.api import available_runtimes, create_detector, list_models
from hifipose.config import DetectorConfig
from hifipose.detector import PoseDetector
from hifipose.errors import (
    ConcurrentUseError,
    ConfigError,
    DetectorClosedError,
    DeviceUnavailableError,
    HifiposeError,
    InvalidImageError,
    ModelIntegrityError,
    ModelNotFoundError,
    OutputError,
    RuntimeUnavailableError,
    TimestampError,
    UnsupportedOperatorError,
    VideoReadError,
)
from hifipose.pose import Box, FrameResult, Keypoint, Pose
from hifipose.stream import PoseStream, RunOptions, track
from hifipose.topology import KEYPOINT_NAMES, SKELETON_EDGES, Kp

__all__ = [
    "KEYPOINT_NAMES",
    "SKELETON_EDGES",
    "Box",
    "ConcurrentUseError",
    "ConfigError",
    "DetectorClosedError",
    "DetectorConfig",
    "DeviceUnavailableError",
    "FrameResult",
    "HifiposeError",
    "InvalidImageError",
    "Keypoint",
    "Kp",
    "ModelIntegrityError",
    "ModelNotFoundError",
    "OutputError",
    "Pose",
    "PoseDetector",
    "PoseStream",
    "RunOptions",
    "RuntimeUnavailableError",
    "TimestampError",
    "UnsupportedOperatorError",
    "VideoReadError",
    "__version__",
    "available_runtimes",
    "create_detector",
    "list_models",
    "solutions",
    "track",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())


def __getattr__(name: str) -> ModuleType:
    # hifipose.solutions (MediaPipe's removed solutions API) is imported on first use, so
    # `import hifipose as mp; mp.solutions.pose` works and `import hifipose` stays light.
    if name == "solutions":
        return importlib.import_module("hifipose.solutions")
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)
