"""hifipose.convert: the four BlazePose models and hand-built single-op models on onnxruntime
and torch, output by output against LiteRT (the reference runtime)."""

from __future__ import annotations

import contextlib
import functools
import hashlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from hifipose.convert import CONVERTER_VERSION, converted_path, onnx_model_bytes, read_tflite
from hifipose.holistic import HOLISTIC_MODELS
from hifipose.models import HOLISTIC_SPECS, ensure_model
from hifipose.runtimes import SessionOptions, open_session
from tests import tolerances as tol
from tests.conftest import REPORT, SHARED_DATA, read_rgb
from tests.unit.convert import tflite_builder as tb
from tests.unit.convert.test_graph import sparse_conv_model

MODELS = ("pose_detection", "pose_landmark_lite", "pose_landmark_full", "pose_landmark_heavy")
CONVERTED_RUNTIMES = ("onnxruntime", "torch")
# openvino reads the .tflite itself (no converter of ours) and is held to the same bounds.
EXACT_RUNTIMES = (*CONVERTED_RUNTIMES, "openvino")
SEGMENTATION_LOGITS = "Identity_2"  # of the landmark models (design.md §4)


def max_rel_error(ours: np.ndarray, reference: np.ndarray) -> float:
    """max |ours − reference| / max(max |reference|, 1): see tests/tolerances.py."""
    return float(np.abs(ours - reference).max() / max(float(np.abs(reference).max()), 1.0))


@functools.cache
def model_input(name: str, kind: str) -> np.ndarray:
    """A real input (the centre square of pose.jpg, normalised as the pipeline does) or noise."""
    size = 224 if name == "pose_detection" else 256
    if kind == "noise":
        pixels = np.random.default_rng(0).random((1, size, size, 3), dtype=np.float32)
    else:
        image = read_rgb(SHARED_DATA / "tfjs_golden" / "pose.jpg")
        height, width = image.shape[:2]
        side = min(height, width)
        top, left = (height - side) // 2, (width - side) // 2
        square = image[top : top + side, left : left + side]
        crop = cv2.resize(square, (size, size), interpolation=cv2.INTER_AREA)
        pixels = crop[None].astype(np.float32) / 255.0
    # detector input is in [-1, 1], landmark input in [0, 1] (design.md §5)
    return 2.0 * pixels - 1.0 if name == "pose_detection" else pixels


@functools.cache
def litert_outputs(path: Path, kind: str) -> dict[str, np.ndarray]:
    with contextlib.closing(open_session("litert", path, SessionOptions())) as session:
        return session.run({"input_1": model_input(path.stem, kind)})


@pytest.mark.parametrize(
    ("name", "runtime", "kind"),
    [
        (name, runtime, kind)
        for name in MODELS
        for runtime in EXACT_RUNTIMES
        for kind in ("real", "noise")
        # 4 s of CI for little: openvino's heavy is held on the real input
        if (name, runtime, kind) != ("pose_landmark_heavy", "openvino", "noise")
    ],
)
def test_values_model_outputs_match_litert(name: str, runtime: str, kind: str) -> None:
    path = ensure_model(name, fetch=False)
    expected = litert_outputs(path, kind)
    with contextlib.closing(open_session(runtime, path, SessionOptions())) as session:
        assert session.input_names == ("input_1",)
        assert set(session.output_names) == set(expected)
        outputs = session.run({"input_1": model_input(name, kind)})
    errors = {key: max_rel_error(outputs[key], value) for key, value in expected.items()}
    for key, value in expected.items():
        assert outputs[key].shape == value.shape, key
        assert outputs[key].dtype == np.float32, key
    REPORT.append(
        f"convert {name} on {runtime}, {kind} input: max rel error "
        + ", ".join(f"{key} {error:.1e}" for key, error in errors.items())
    )
    for key, error in errors.items():
        if kind == "noise":
            bound = tol.CONVERTED_MAX_REL_NOISE
        elif name != "pose_detection" and key == SEGMENTATION_LOGITS:
            bound = tol.CONVERTED_MAX_REL_REAL_SEGMENTATION
        else:
            bound = tol.CONVERTED_MAX_REL_REAL
        assert error <= bound, (key, errors)


# ---- single-op models: each TFLite convention the four models rely on, and a few they do not


def _random(shape: tuple[int, ...], seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _conv(
    kind: str, *, in_hw: int, stride: int, padding: int, act: int, dilation: int = 1
) -> bytes:
    depthwise = kind == "depthwise"
    weight_shape = (1, 3, 3, 4) if depthwise else (5, 3, 3, 4)
    out_channels = weight_shape[3] if depthwise else weight_shape[0]
    span = (3 - 1) * dilation + 1
    out_hw = -(-in_hw // stride) if padding == 0 else (in_hw - span) // stride + 1
    tensors = [
        tb.Tensor("x", (1, in_hw, in_hw, 4)),
        tb.Tensor("w", weight_shape, data=_random(weight_shape)),
        tb.Tensor("b", (out_channels,), data=_random((out_channels,), 2)),
        tb.Tensor("y", (1, out_hw, out_hw, out_channels)),
    ]
    if depthwise:
        fields = [(0, "b", padding), (1, "i", stride), (2, "i", stride), (3, "i", 1), (4, "b", act)]
        fields += [(5, "i", dilation), (6, "i", dilation)]
        op = tb.Op(tb.DEPTHWISE_CONV_2D, [0, 1, 2], [3], tb.OPTIONS_DEPTHWISE, fields)
    else:
        fields = [(0, "b", padding), (1, "i", stride), (2, "i", stride), (3, "b", act)]
        fields += [(4, "i", dilation), (5, "i", dilation)]
        op = tb.Op(tb.CONV_2D, [0, 1, 2], [3], tb.OPTIONS_CONV, fields)
    return tb.build_tflite(tensors, [op], [0], [3])


def _resize(align_corners: int, half_pixel: int) -> bytes:
    tensors = [
        tb.Tensor("x", (1, 5, 7, 3)),
        tb.Tensor("size", (2,), "int32", data=np.array([12, 9])),
        tb.Tensor("y", (1, 12, 9, 3)),
    ]
    options = [(2, "B", align_corners), (3, "B", half_pixel)]
    op = tb.Op(tb.RESIZE_BILINEAR, [0, 1], [2], tb.OPTIONS_RESIZE, options)
    return tb.build_tflite(tensors, [op], [0], [2])


def _max_pool_same() -> bytes:
    tensors = [tb.Tensor("x", (1, 6, 6, 2)), tb.Tensor("y", (1, 3, 3, 2))]
    options = [(0, "b", 0), (1, "i", 2), (2, "i", 2), (3, "i", 3), (4, "i", 3), (5, "b", 0)]
    op = tb.Op(tb.MAX_POOL_2D, [0], [1], tb.OPTIONS_POOL, options)
    return tb.build_tflite(tensors, [op], [0], [1])


def _depth_to_space() -> bytes:
    tensors = [tb.Tensor("x", (1, 3, 4, 12)), tb.Tensor("y", (1, 6, 8, 3))]
    op = tb.Op(tb.DEPTH_TO_SPACE, [0], [1], tb.OPTIONS_DEPTH_TO_SPACE, [(0, "i", 2)])
    return tb.build_tflite(tensors, [op], [0], [1])


def _pad_concat_add_reshape_logistic() -> bytes:
    # x → PAD(1,2 rows; 0,1 cols; +2 channels) → CONCAT(channels, with itself) → ADD(a, a,
    # RELU_N1_TO_1) → RESHAPE to (1, H·W, C) (NHWC order) → LOGISTIC
    tensors = [
        tb.Tensor("x", (1, 3, 4, 2)),
        tb.Tensor("paddings", (4, 2), "int32", data=np.array([[0, 0], [1, 2], [0, 1], [0, 2]])),
        tb.Tensor("padded", (1, 6, 5, 4)),
        tb.Tensor("joined", (1, 6, 5, 8)),
        tb.Tensor("summed", (1, 6, 5, 8)),
        tb.Tensor("shape", (3,), "int32", data=np.array([1, 30, 8])),
        tb.Tensor("flat", (1, 30, 8)),
        tb.Tensor("y", (1, 30, 8)),
    ]
    ops = [
        tb.Op(tb.PAD, [0, 1], [2], tb.OPTIONS_PAD, []),
        tb.Op(tb.CONCATENATION, [2, 2], [3], tb.OPTIONS_CONCAT, [(0, "i", -1), (1, "b", 0)]),
        tb.Op(tb.ADD, [3, 3], [4], tb.OPTIONS_ADD, [(0, "b", 2)]),
        tb.Op(tb.RESHAPE, [4, 5], [6]),
        tb.Op(tb.LOGISTIC, [6], [7]),
    ]
    return tb.build_tflite(tensors, ops, [0], [7])


OP_MODELS = {
    "conv same stride 2 even input relu6": lambda: _conv(
        "conv", in_hw=8, stride=2, padding=0, act=3
    ),
    "conv valid dilation 2 relu": lambda: _conv(
        "conv", in_hw=9, stride=1, padding=1, act=1, dilation=2
    ),
    "conv same dilation 2": lambda: _conv("conv", in_hw=6, stride=1, padding=0, act=0, dilation=2),
    "depthwise same stride 2 odd input": lambda: _conv(
        "depthwise", in_hw=7, stride=2, padding=0, act=0
    ),
    "depthwise same stride 2 even input relu6": lambda: _conv(
        "depthwise", in_hw=8, stride=2, padding=0, act=3
    ),
    "resize half pixel centers": lambda: _resize(0, 1),
    "resize align corners": lambda: _resize(1, 0),
    "resize legacy": lambda: _resize(0, 0),
    "max pool same 3x3 stride 2": _max_pool_same,
    "depth to space dcr": _depth_to_space,
    "pad concat add reshape logistic": _pad_concat_add_reshape_logistic,
    "densify float16 dequantize conv": sparse_conv_model,
}


@pytest.mark.parametrize("runtime", CONVERTED_RUNTIMES)
@pytest.mark.parametrize("case", OP_MODELS)
def test_values_single_op_models_match_litert(case: str, runtime: str, tmp_path: Path) -> None:
    path = tmp_path / "model.tflite"
    path.write_bytes(OP_MODELS[case]())
    graph = read_tflite(path)
    (name,) = (graph.tensors[i].name for i in graph.inputs)
    x = _random(graph.tensors[graph.inputs[0]].shape, 3)
    with contextlib.closing(open_session("litert", path, SessionOptions())) as reference:
        expected = reference.run({name: x})
    with contextlib.closing(open_session(runtime, path, SessionOptions())) as session:
        outputs = session.run({name: x})
    for key, value in expected.items():
        assert outputs[key].shape == value.shape
        assert max_rel_error(outputs[key], value) <= tol.CONVERTED_OP_MAX_REL, key


# ---- the converted-file cache


def test_smoke_onnx_conversion_is_cached_by_source_digest_and_version(tmp_path: Path) -> None:
    path = tmp_path / "tiny.tflite"
    path.write_bytes(sparse_conv_model())
    blob = onnx_model_bytes(path)
    cached = converted_path(path, hashlib.sha256(path.read_bytes()).hexdigest(), ".onnx")
    assert cached.parent == tmp_path
    assert f"hifipose-c{CONVERTER_VERSION}" in cached.name
    assert cached.read_bytes() == blob
    assert not list(tmp_path.glob("*.partial"))
    stamp = cached.stat().st_mtime_ns
    assert onnx_model_bytes(path) == blob  # read back, not rewritten
    assert cached.stat().st_mtime_ns == stamp


def test_exception_damaged_cached_conversion_is_converted_again(tmp_path: Path) -> None:
    path = tmp_path / "tiny.tflite"
    path.write_bytes(sparse_conv_model())
    good = onnx_model_bytes(path)
    (cached,) = tmp_path.glob("*.onnx")
    cached.write_bytes(b"not an onnx file")
    with contextlib.closing(open_session("onnxruntime", path, SessionOptions())) as session:
        session.run({"input": np.ones((1, 3, 3, 4), np.float32)})
    assert cached.read_bytes() == good


def test_a_cached_conversion_damaged_but_still_loadable_is_converted_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Damage that keeps the protobuf valid (a weight's bytes) was loaded as if it were good."""
    path = tmp_path / "tiny.tflite"
    path.write_bytes(sparse_conv_model())
    onnx = pytest.importorskip("onnx")
    good = onnx_model_bytes(path)
    (cached,) = tmp_path.glob("*.onnx")
    model = onnx.load_from_string(good)
    weight = model.graph.initializer[0]
    assert weight.raw_data
    weight.raw_data = bytes(len(weight.raw_data))  # all-zero weights: loads, wrong numbers
    cached.write_bytes(model.SerializeToString())
    assert len(cached.read_bytes()) == len(good)
    assert onnx_model_bytes(path) == good
    assert cached.read_bytes() == good
    (warning,) = [r for r in caplog.records if r.levelname == "WARNING"]
    assert "is corrupt" in warning.getMessage()


# ---- the Holistic models (PRELU, RELU, channel STRIDED_SLICE, spatial MEAN, FULLY_CONNECTED)


@pytest.mark.parametrize("runtime", CONVERTED_RUNTIMES)
@pytest.mark.parametrize("name", HOLISTIC_MODELS)
def test_values_holistic_models_match_litert(name: str, runtime: str) -> None:
    path = ensure_model(name, fetch=False)
    spec = HOLISTIC_SPECS[name]
    width, height = spec.input_size_wh
    rng = np.random.default_rng(3)
    feed = {spec.input_name: rng.random((1, height, width, 3), dtype=np.float32)}
    with contextlib.closing(open_session("litert", path, SessionOptions())) as session:
        expected = session.run(feed)
    with contextlib.closing(open_session(runtime, path, SessionOptions())) as session:
        outputs = session.run(feed)
    errors = {key: max_rel_error(outputs[key], value) for key, value in expected.items()}
    REPORT.append(
        f"convert {name} on {runtime}, noise input: max rel error "
        + ", ".join(f"{key} {error:.1e}" for key, error in errors.items())
    )
    for key, value in expected.items():
        assert outputs[key].shape == value.shape, key
        assert errors[key] <= tol.CONVERTED_MAX_REL_NOISE, (key, errors)
