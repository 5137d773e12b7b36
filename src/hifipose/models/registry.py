"""The model files: a static, read-only table of pinned facts (design.md §4).

:data:`MODEL_SPECS` holds the four BlazePose files (npm package :data:`NPM_PACKAGE`), always
fetched. :data:`HOLISTIC_SPECS` holds the five Holistic files (hand landmarks, hand recrop,
face detection, face landmarks with and without attention; npm package
:data:`HOLISTIC_NPM_PACKAGE`), fetched only when asked: ``hifipose models fetch
--holistic``, or ``create_detector(holistic=True)``. That package ships them concatenated in
``holistic_solution_packed_assets.data``; each spec's ``npm_offset`` is the file's start
there, as the package's ``holistic_solution_packed_assets_loader.js`` lists it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from hifipose.config import MODEL_TYPES, ModelType
from hifipose.errors import ConfigError

__all__ = [
    "HOLISTIC_NPM_PACKAGE",
    "HOLISTIC_SPECS",
    "MODEL_SPECS",
    "NPM_PACKAGE",
    "ModelSpec",
    "landmark_model_name",
]

#: The npm package (Apache-2.0) the files come from, pinned to one version.
NPM_PACKAGE: Final = "@mediapipe/pose@0.5.1675469404"
#: The npm package (Apache-2.0) the Holistic hand and face files come from, pinned.
HOLISTIC_NPM_PACKAGE: Final = "@mediapipe/holistic@0.5.1675471629"

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
        npm_package: The pinned npm package (``name@version``) holding the file.
        npm_offset: Where the file starts inside ``npm_member`` (bytes); None when the
            member is the file itself. The file is ``size_bytes`` bytes from there.

    Raises:
        ConfigError: A field is malformed (empty name, a path as file name, size < 1, a
            digest that is not 64 lower-case hex digits, or a negative offset).
    """

    name: str
    filename: str
    size_bytes: int
    sha256: str
    npm_member: str
    input_name: str
    input_size_wh: tuple[int, int]
    output_names: tuple[str, ...]
    npm_package: str = NPM_PACKAGE
    npm_offset: int | None = None

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
        if self.npm_offset is not None and self.npm_offset < 0:
            msg = f"ModelSpec.npm_offset must be >= 0, got {self.npm_offset}"
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


def _packed_spec(  # noqa: PLR0917 - one row of the table below, in its column order
    name: str,
    offset: int,
    size_bytes: int,
    sha256: str,
    input_size_wh: tuple[int, int],
    output_names: tuple[str, ...],
) -> ModelSpec:
    return ModelSpec(
        name=name,
        filename=f"{name}.tflite",
        size_bytes=size_bytes,
        sha256=sha256,
        npm_member="package/holistic_solution_packed_assets.data",
        input_name="input_1",
        input_size_wh=input_size_wh,
        output_names=output_names,
        npm_package=HOLISTIC_NPM_PACKAGE,
        npm_offset=offset,
    )


#: The Holistic models, keyed by name: fetched only when asked. Read-only. Offsets and sizes
#: are those ``holistic_solution_packed_assets_loader.js`` lists for the packed file.
HOLISTIC_SPECS: Final[Mapping[str, ModelSpec]] = MappingProxyType(
    {
        "hand_landmark_full": _packed_spec(
            "hand_landmark_full",
            3986256,
            5478688,
            "8c026882c9ec059ce0f8e75266bee5a9a23c341a40e0000df755374d3d1b9b68",
            (224, 224),
            ("Identity", "Identity_1", "Identity_2", "Identity_3"),
        ),
        "hand_recrop": _packed_spec(
            "hand_recrop",
            9464955,
            123792,
            "67d996ce96f9d36fe17d2693022c6da93168026ab2f028f9e2365398d8ac7d5d",
            (256, 256),
            ("output_crop",),
        ),
        "face_detection_short_range": ModelSpec(
            name="face_detection_short_range",
            filename="face_detection_short_range.tflite",
            size_bytes=229032,
            sha256="3bc182eb9f33925d9e58b5c8d59308a760f4adea8f282370e428c51212c26633",
            npm_member="package/holistic_solution_packed_assets.data",
            input_name="input",
            input_size_wh=(128, 128),
            output_names=("regressors", "classificators"),
            npm_package=HOLISTIC_NPM_PACKAGE,
            npm_offset=0,
        ),
        "face_landmark": _packed_spec(
            "face_landmark",
            248408,
            1241896,
            "c603fa6149219a3e9487dc9abd7a0c24474c77263273d24868378cdf40aa26d1",
            (192, 192),
            ("conv2d_21", "conv2d_31"),
        ),
        "face_landmark_with_attention": _packed_spec(
            "face_landmark_with_attention",
            1490304,
            2495952,
            "883b7411747bac657c30c462d305d312e9dec6adbf8b85e2f5d8d722fca9455d",
            (192, 192),
            (
                "output_mesh_identity",
                "output_lips",
                "output_left_eye",
                "output_right_eye",
                "output_left_iris",
                "output_right_iris",
                "conv_faceflag",
            ),
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
