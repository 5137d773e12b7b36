"""The four BlazePose model files: a static, read-only table of pinned facts (design.md §4)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from hifipose.config import MODEL_TYPES, ModelType
from hifipose.errors import ConfigError

__all__ = ["MODEL_SPECS", "NPM_PACKAGE", "ModelSpec", "landmark_model_name"]

#: The npm package (Apache-2.0) the files come from, pinned to one version.
NPM_PACKAGE: Final = "@mediapipe/pose@0.5.1675469404"

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelSpec:
    """One model file and the facts pinned about it.

    Attributes:
        name: Registry key, e.g. ``"pose_landmark_full"``.
        filename: File name in the cache or in a ``model_dir``.
        size_bytes: Exact size in bytes.
        sha256: Lower-case hex SHA-256 digest of the whole file.
        npm_member: Path of the file inside the npm package's tarball.
        input_name: Name of the input tensor.
        input_size_wh: The input tensor's (width, height) in pixels.
        output_names: Output tensor names, in MediaPipe's order.

    Raises:
        ConfigError: A field is malformed (empty name, a path as file name, size < 1, or a
            digest that is not 64 lower-case hex digits).
    """

    name: str
    filename: str
    size_bytes: int
    sha256: str
    npm_member: str
    input_name: str
    input_size_wh: tuple[int, int]
    output_names: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.name:
            msg = "ModelSpec.name must not be empty"
            raise ConfigError(msg)
        if not self.filename or "/" in self.filename or "\\" in self.filename:
            msg = f"ModelSpec.filename must be a bare file name, got {self.filename!r}"
            raise ConfigError(msg)
        if self.filename in {".", ".."}:
            msg = f"ModelSpec.filename must be a file name, got {self.filename!r}"
            raise ConfigError(msg)
        if self.size_bytes < 1:
            msg = f"ModelSpec.size_bytes must be >= 1, got {self.size_bytes}"
            raise ConfigError(msg)
        if not _SHA256_HEX.fullmatch(self.sha256):
            msg = f"ModelSpec.sha256 must be 64 lower-case hex digits, got {self.sha256!r}"
            raise ConfigError(msg)


_LANDMARK_OUTPUTS: Final = ("Identity", "Identity_1", "Identity_2", "Identity_3", "Identity_4")


def _landmark_spec(model_type: ModelType, size_bytes: int, sha256: str) -> ModelSpec:
    filename = f"pose_landmark_{model_type}.tflite"
    return ModelSpec(
        name=f"pose_landmark_{model_type}",
        filename=filename,
        size_bytes=size_bytes,
        sha256=sha256,
        npm_member=f"package/{filename}",
        input_name="input_1",
        input_size_wh=(256, 256),
        output_names=_LANDMARK_OUTPUTS,
    )


#: Every model file hifipose uses, keyed by name. Read-only.
MODEL_SPECS: Final[Mapping[str, ModelSpec]] = MappingProxyType(
    {
        "pose_detection": ModelSpec(
            name="pose_detection",
            filename="pose_detection.tflite",
            size_bytes=2962288,
            sha256="a63c614bef30d35947f13be361820b1e4e3bec9cfeebf4d11216a18373108e85",
            # The package ships the detector as its packed-assets file, byte for byte.
            npm_member="package/pose_solution_packed_assets.data",
            input_name="input_1",
            input_size_wh=(224, 224),
            output_names=("Identity", "Identity_1"),
        ),
        "pose_landmark_lite": _landmark_spec(
            "lite", 2819824, "f17bfbecadb61c3be1baa8b8d851cc6619c870a87167b32848ad20db306b9d61"
        ),
        "pose_landmark_full": _landmark_spec(
            "full", 6440512, "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f"
        ),
        "pose_landmark_heavy": _landmark_spec(
            "heavy", 27709200, "59e42d71bcd44cbdbabc419f0ff76686595fd265419566bd4009ef703ea8e1fe"
        ),
    }
)


def landmark_model_name(model_type: ModelType) -> str:
    """Return the registry key of a landmark model type.

    Args:
        model_type: ``"lite"``, ``"full"`` or ``"heavy"``.

    Returns:
        The key in :data:`MODEL_SPECS`, e.g. ``"pose_landmark_full"`` for ``"full"``.

    Raises:
        ConfigError: ``model_type`` is not one of the three.

    Example:
        >>> landmark_model_name("heavy")
        'pose_landmark_heavy'
    """
    if model_type not in MODEL_TYPES:
        msg = f"unknown landmark model type {model_type!r}; choose one of: {', '.join(MODEL_TYPES)}"
        raise ConfigError(msg)
    return f"pose_landmark_{model_type}"
