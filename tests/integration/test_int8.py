"""precision="int8": the landmark model quantised by hifipose, built, cached and checked."""

import shutil
from pathlib import Path

import numpy as np
import pytest

import hifipose
from hifipose.convert import int8_model_bytes
from hifipose.convert.quantize import QUANTIZER_VERSION
from hifipose.errors import ConfigError
from hifipose.evaluate import evaluate_detector, load_annotations
from hifipose.runtimes.base import SessionOptions, open_session
from tests import tolerances as tol
from tests.conftest import REPORT, read_rgb

# The int8 landmarks on pose.jpg stay within this share of the fp32 pose's box diagonal
# (measured, quantiser v3: lite 0.15 %, full 0.12 %, heavy 0.25 %). pose.jpg is a calibration
# image: test_int8_accuracy_against_human_labels checks the held-out labelled photos, and
# benchmarks/results/int8.md has the figures over the shared clips and those photos.
MAX_DEVIATION_OF_DIAGONAL = 0.01


@pytest.fixture
def private_models(model_dir: Path, tmp_path: Path) -> Path:
    """A copy of the model files, so the int8 cache is built from scratch in a fresh folder."""
    for path in model_dir.glob("*.tflite"):
        if ".hifipose-" not in path.name:
            shutil.copy(path, tmp_path / path.name)
    return tmp_path


def _keypoints(pose: hifipose.Pose) -> np.ndarray:
    return np.array([[k.x, k.y] for k in pose.keypoints])


@pytest.mark.parametrize("model_type", ["lite", "full", "heavy"])
def test_int8_model_is_built_cached_and_close_to_fp32(
    model_type: str, private_models: Path, shared_data: Path
) -> None:
    image = read_rgb(shared_data / "tfjs_golden" / "pose.jpg")
    with hifipose.create_detector(
        model_type=model_type, static_image_mode=True, model_dir=private_models
    ) as detector:
        (reference,) = detector.estimate_poses(image)
    with hifipose.create_detector(
        model_type=model_type, static_image_mode=True, model_dir=private_models, precision="int8"
    ) as detector:
        (pose,) = detector.estimate_poses(image)
    (cached,) = private_models.glob(f"pose_landmark_{model_type}.*.int8.tflite")
    assert cached.name.endswith(f".hifipose-q{QUANTIZER_VERSION}.int8.tflite")
    assert int8_model_bytes(private_models / f"pose_landmark_{model_type}.tflite") == (
        cached.read_bytes()
    )
    box = reference.box
    diagonal = float(np.hypot(box.xmax - box.xmin, box.ymax - box.ymin))
    deviation = np.linalg.norm(_keypoints(pose) - _keypoints(reference), axis=1).mean()
    assert deviation < MAX_DEVIATION_OF_DIAGONAL * diagonal
    assert not np.array_equal(_keypoints(pose), _keypoints(reference))  # really another model
    assert pose.score > 0.5


def test_int8_keeps_the_outputs_and_segmentation(private_models: Path) -> None:
    path = private_models / "pose_landmark_full.tflite"
    float_session = open_session("litert", path, SessionOptions())
    int8_session = open_session("litert", path, SessionOptions(precision="int8"))
    assert int8_session.output_names == float_session.output_names
    crop = np.random.default_rng(0).random((1, 256, 256, 3), dtype=np.float32)
    for name, value in int8_session.run({"input_1": crop}).items():
        assert value.dtype == np.float32
        assert value.shape == float_session.run({"input_1": crop})[name].shape


def test_int8_refuses_a_model_without_calibration(private_models: Path) -> None:
    path = private_models / "pose_landmark_full.tflite"
    path.write_bytes(path.read_bytes() + b"\0")  # another file: its ranges are not known
    with pytest.raises(ConfigError, match="no calibration"):
        int8_model_bytes(path)


@pytest.mark.parametrize("runtime", ["onnxruntime", "torch"])
def test_int8_is_litert_only_at_the_session_layer(runtime: str, private_models: Path) -> None:
    with pytest.raises(ConfigError, match="int8"):
        open_session(
            runtime, private_models / "pose_landmark_full.tflite", SessionOptions(precision="int8")
        )


@pytest.mark.parametrize("model_type", ["lite", "full", "heavy"])
def test_int8_accuracy_against_human_labels(
    model_type: str, shared_data: Path, model_dir: Path
) -> None:
    """On the labelled photos (held out from calibration): no person lost, PCK within noise."""
    folder = shared_data / "labelled"
    truth = load_annotations(folder / "annotations.json")
    reports = {
        precision: evaluate_detector(
            truth, folder, {"model_type": model_type, "model_dir": model_dir, **options}
        )[0]
        for precision, options in (("float32", {}), ("int8", {"precision": "int8"}))
    }
    fp32, int8 = reports["float32"], reports["int8"]
    REPORT.append(
        f"int8 {model_type}, labelled photos: PCK@0.2 {fp32.pck:.3f} → {int8.pck:.3f}, "
        f"AP {fp32.coco['AP']:.3f} → {int8.coco['AP']:.3f}, recall {fp32.recall:.3f} → "
        f"{int8.recall:.3f}"
    )
    assert int8.recall == fp32.recall
    assert int8.pck >= fp32.pck - tol.INT8_PCK_LOSS
