import dataclasses
import inspect

import pytest

from hifipose.api import create_detector
from hifipose.config import LIMITS, DetectorConfig
from hifipose.errors import ConfigError


def test_create_detector_exposes_every_config_field() -> None:
    factory_params = set(inspect.signature(create_detector).parameters) - {"family"}
    assert factory_params == {f.name for f in dataclasses.fields(DetectorConfig)}


def test_defaults_match_the_contract() -> None:
    config = DetectorConfig()
    assert (config.model_type, config.runtime, config.device) == ("full", "litert", "cpu")
    assert config.static_image_mode is False
    assert config.enable_smoothing is True
    assert config.enable_segmentation is False
    assert config.smooth_segmentation is True
    assert config.min_detection_confidence == config.min_tracking_confidence == 0.5
    assert config.num_poses == 1
    assert config.precision == "float32"


def test_auto_options_are_mediapipes_for_one_person_and_measured_for_several() -> None:
    one = DetectorConfig()
    assert (one.detect_every, one.max_lost_ms, one.detector_tiles) == (None, None, None)
    resolved = (one.resolved_detect_every, one.resolved_max_lost_ms, one.resolved_detector_tiles)
    assert resolved == (15, 1000.0, 1)
    several = dataclasses.replace(one, num_poses=3)
    assert several.resolved_max_lost_ms == 3000.0
    assert several.resolved_detector_tiles == 2
    assert several.resolved_detect_every == 15
    assert dataclasses.replace(several, num_poses=1).resolved_max_lost_ms == 1000.0
    tasks = DetectorConfig(num_poses=3, runtime="mediapipe")
    assert tasks.resolved_detector_tiles == 1  # Tasks has no tiles
    given = DetectorConfig(num_poses=3, detect_every=4, max_lost_ms=0, detector_tiles=1)
    assert (given.resolved_detect_every, given.resolved_max_lost_ms) == (4, 0.0)
    assert given.resolved_detector_tiles == 1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"model_type": "huge"}, "model_type"),
        ({"runtime": "tensorflow"}, "runtime"),
        ({"device": "tpu"}, "device"),
        ({"min_detection_confidence": 1.5}, "min_detection_confidence"),
        ({"min_tracking_confidence": -0.1}, "min_tracking_confidence"),
        ({"num_poses": 0}, "num_poses"),
        ({"num_poses": 1.0}, "num_poses"),
        ({"detect_every": 0}, "detect_every"),
        ({"detector_tiles": True}, "detector_tiles"),
        ({"max_lost_ms": -1}, "max_lost_ms"),
        ({"max_lost_ms": float("nan")}, "max_lost_ms"),
        ({"runtime": "mediapipe", "detector_tiles": 2}, "detector_tiles"),
        ({"num_threads": 0}, "num_threads"),
        ({"static_image_mode": "yes"}, "static_image_mode"),
        ({"precision": "int4"}, "precision"),
        ({"precision": "float16"}, "precision"),
        ({"precision": "int8", "runtime": "onnxruntime"}, "int8.*litert"),
        ({"precision": "int8", "runtime": "mediapipe"}, "int8.*litert"),
        ({"precision": "bf16"}, "bf16.*'openvino' only, not 'litert'"),
        ({"precision": "bf16", "runtime": "torch"}, "bf16.*openvino"),
        ({"device": "gpu"}, "OpenVINO device"),
        ({"device": "npu", "runtime": "onnxruntime"}, "OpenVINO device"),
    ],
)
def test_exception_invalid_options(kwargs: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        DetectorConfig(**kwargs)


def test_factory_validates_before_loading_anything(tmp_path) -> None:
    # An empty model_dir would raise ModelNotFoundError; the bad option must win first.
    with pytest.raises(ConfigError, match="model_type"):
        create_detector(model_type="huge", model_dir=tmp_path)
    with pytest.raises(ConfigError, match="family"):
        create_detector("movenet", model_dir=tmp_path)


def test_compat_and_accuracy_modes_default_to_the_graph() -> None:
    config = DetectorConfig()
    assert (config.compat, config.refine_passes, config.flip_tta) == ("graph", 1, False)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"compat": "mediapipe"}, "compat must be one of"),
        ({"compat": None}, "compat must be one of"),
        ({"refine_passes": 3}, "refine_passes must be 1 or 2"),
        ({"refine_passes": True}, "refine_passes must be 1 or 2"),
        ({"flip_tta": 1}, "flip_tta must be True or False"),
        ({"compat": "mediapipe-python", "flip_tta": True}, "no accuracy modes"),
        ({"compat": "mediapipe-python", "refine_passes": 2}, "no accuracy modes"),
        ({"runtime": "mediapipe", "flip_tta": True}, "hifipose's own pipeline"),
        ({"runtime": "mediapipe", "compat": "mediapipe-python"}, "hifipose's own pipeline"),
        ({"precision": "int8", "compat": "mediapipe-python"}, "use one or the other"),
        (
            {"runtime": "openvino", "precision": "bf16", "compat": "mediapipe-python"},
            "use one or the other",
        ),
    ],
)
def test_bad_compat_or_accuracy_mode_is_a_config_error(options: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        DetectorConfig(**options)


def test_int8_with_the_graph_is_accepted() -> None:
    assert DetectorConfig(precision="int8").compat == "graph"


@pytest.mark.parametrize(
    "options",
    [
        {"runtime": "openvino", "precision": "bf16"},
        {"runtime": "openvino", "precision": "int8"},
        {"runtime": "openvino", "device": "gpu"},
        {"runtime": "openvino", "device": "npu"},
    ],
)
def test_openvino_fast_modes_and_devices_are_accepted(options: dict) -> None:
    config = DetectorConfig(**options)
    assert all(getattr(config, key) == value for key, value in options.items())


@pytest.mark.parametrize("name", sorted(LIMITS))
def test_each_costly_option_is_accepted_at_its_limit_and_refused_one_past(name: str) -> None:
    limit = LIMITS[name]
    assert getattr(DetectorConfig(**{name: limit}), name) == limit
    with pytest.raises(ConfigError, match=rf"{name} must be at most {limit} .*got {limit + 1}"):
        DetectorConfig(**{name: limit + 1})


def test_the_limits_are_those_the_issue_needs() -> None:
    # 10 000 tiles ran out of memory and 200 took a minute per photo; the README's
    # small-people options use 2 tiles and 3 people.
    assert 2 <= LIMITS["detector_tiles"] < 200
    assert LIMITS["num_poses"] >= 3
    assert LIMITS["num_threads"] >= 64


def test_holistic_options_refuse_what_cannot_run() -> None:
    assert DetectorConfig(holistic=True).holistic
    for runtime in ("litert", "onnxruntime", "torch", "openvino", "mediapipe"):
        config = DetectorConfig(holistic=True, refine_face_landmarks=True, runtime=runtime)
        assert config.refine_face_landmarks
    assert DetectorConfig(holistic=True, runtime="mediapipe").holistic  # MediaPipe's own
    with pytest.raises(ConfigError, match="num_poses must be 1, got 2"):
        DetectorConfig(holistic=True, runtime="mediapipe", num_poses=2)
    with pytest.raises(ConfigError, match="needs holistic=True"):
        DetectorConfig(refine_face_landmarks=True)
    with pytest.raises(ConfigError, match="True or False"):
        DetectorConfig(holistic=1)  # type: ignore[arg-type]
