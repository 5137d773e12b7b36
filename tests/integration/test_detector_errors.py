"""Bad input to a real detector: clear, typed errors, never a crash or a silent wrong answer."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import hifipose
from tests.conftest import read_rgb


@pytest.fixture(scope="module")
def detector(model_dir: Path):
    with hifipose.create_detector(
        model_type="lite", static_image_mode=True, model_dir=model_dir
    ) as det:
        yield det


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        (np.zeros((64, 64, 3), np.float32), "uint8"),
        (np.zeros((64, 64, 2), np.uint8), "shape"),
        (np.zeros((0, 64, 3), np.uint8), "empty"),
        (np.zeros((64, 0, 3), np.uint8), "empty"),
        (np.zeros((4, 64, 64, 3), np.uint8), "shape"),
        ("pose.jpg", "numpy array"),
        (None, "numpy array"),
    ],
)
def test_bad_frames_raise_invalid_image_error(detector, frame: object, match: str) -> None:
    with pytest.raises(hifipose.InvalidImageError, match=match):
        detector.estimate_poses(frame)


def test_converted_inputs_give_the_same_pose(detector, shared_data: Path) -> None:
    from PIL import Image

    image = read_rgb(shared_data / "tfjs_golden" / "pose.jpg")
    reference = detector.estimate_poses(image)[0].image_array
    rgba = np.concatenate([image, np.full((*image.shape[:2], 1), 255, np.uint8)], axis=2)
    wide = np.zeros((image.shape[0], 2 * image.shape[1], 3), np.uint8)
    wide[:, ::2] = image
    strided_view = wide[:, ::2]  # a non-contiguous view of the same pixels
    assert not strided_view.flags.c_contiguous
    readonly = image.copy()
    readonly.flags.writeable = False
    for variant in (rgba, strided_view, readonly, Image.fromarray(image)):
        np.testing.assert_allclose(
            detector.estimate_poses(variant)[0].image_array, reference, atol=1e-3
        )
    gray = detector.estimate_poses(image.mean(axis=2).astype(np.uint8))
    assert len(gray) == 1  # grayscale works too (values differ: it is a different image)


@pytest.mark.parametrize("size", [(1, 1), (3, 500), (500, 3), (64, 64)])
def test_tiny_and_blank_frames_give_no_pose(detector, size: tuple[int, int]) -> None:
    assert detector.estimate_poses(np.zeros((*size, 3), np.uint8)) == []


def test_closed_detector_raises(model_dir: Path) -> None:
    det = hifipose.create_detector(model_type="lite", model_dir=model_dir)
    det.close()
    det.close()  # idempotent
    with pytest.raises(hifipose.DetectorClosedError, match="closed"):
        det.estimate_poses(np.zeros((8, 8, 3), np.uint8))


def test_missing_model_dir_file_is_model_not_found(tmp_path: Path, model_dir: Path) -> None:
    shutil.copy(model_dir / "pose_detection.tflite", tmp_path)
    with pytest.raises(hifipose.ModelNotFoundError, match=r"pose_landmark_full\.tflite"):
        hifipose.create_detector(model_dir=tmp_path)


@pytest.mark.parametrize("damage", ["truncate", "tamper"])
def test_corrupt_model_in_model_dir_is_never_loaded(
    tmp_path: Path, model_dir: Path, damage: str
) -> None:
    for path in model_dir.glob("*.tflite"):
        shutil.copy(path, tmp_path)
    target = tmp_path / "pose_landmark_lite.tflite"
    data = bytearray(target.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    else:
        data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(hifipose.ModelIntegrityError, match="pose_landmark_lite"):
        hifipose.create_detector(model_type="lite", model_dir=tmp_path)


def test_unavailable_runtime_is_a_clear_error(model_dir: Path) -> None:
    # A fresh interpreter in which torch cannot be imported, as on a machine without the extra.
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "import hifipose\n"
        "try:\n"
        f"    hifipose.create_detector(runtime='torch', model_dir={str(model_dir)!r})\n"
        "except hifipose.RuntimeUnavailableError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'hifipose[torch]'" in out.stdout
