"""The four BlazePose model files: a static, read-only table of pinned facts."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

__all__ = ["MODEL_SPECS", "NPM_PACKAGE", "ModelSpec", "landmark_model_name"]

#: The npm package the files come from (Apache-2.0).
NPM_PACKAGE: Final = "@mediapipe/pose@0.5.1675469404"


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """One model file and what is pinned about it.

    Attributes:
        name: Registry key, e.g. ``"pose_landmark_full"``.
        filename: File name in the cache.
        size_bytes: Exact size.
        sha256: Hex SHA-256 digest.
        npm_member: Path of the file inside the npm package's tarball.
        input_name: The input tensor's name.
        input_size_wh: The input tensor's (width, height).
        output_names: Output tensor names, in MediaPipe's order.
    """

    name: str
    filename: str
    size_bytes: int
    sha256: str
    npm_member: str
    input_name: str
    input_size_wh: tuple[int, int]
    output_names: tuple[str, ...]


_LANDMARK_OUTPUTS = ("Identity", "Identity_1", "Identity_2", "Identity_3", "Identity_4")


def _landmark(model_type: str, size: int, sha256: str) -> ModelSpec:
    filename = f"pose_landmark_{model_type}.tflite"
    return ModelSpec(
        name=f"pose_landmark_{model_type}",
        filename=filename,
        size_bytes=size,
        sha256=sha256,
        npm_member=f"package/{filename}",
        input_name="input_1",
        input_size_wh=(256, 256),
        output_names=_LANDMARK_OUTPUTS,
    )


MODEL_SPECS: Final = MappingProxyType(
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
        "pose_landmark_lite": _landmark(
            "lite", 2819824, "f17bfbecadb61c3be1baa8b8d851cc6619c870a87167b32848ad20db306b9d61"
        ),
        "pose_landmark_full": _landmark(
            "full", 6440512, "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f"
        ),
        "pose_landmark_heavy": _landmark(
            "heavy", 27709200, "59e42d71bcd44cbdbabc419f0ff76686595fd265419566bd4009ef703ea8e1fe"
        ),
    }
)


def landmark_model_name(model_type: str) -> str:
    """Registry key of a landmark model type: ``"full"`` → ``"pose_landmark_full"``."""
    return f"pose_landmark_{model_type}"
