"""hifipose: high-fidelity BlazePose human pose tracking (MediaPipe's Pose graph) for Python."""

from __future__ import annotations

import logging

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
    "RuntimeUnavailableError",
    "TimestampError",
    "UnsupportedOperatorError",
    "VideoReadError",
    "__version__",
    "available_runtimes",
    "create_detector",
    "list_models",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())
