"""The int8 quantiser's bias correction, on a one-convolution model built by hand."""

import importlib

import numpy as np
import pytest

from hifipose.convert.quantize import (
    activation_ranges,
    float_ops,
    input_means,
    quantize_tflite,
    recipe_float_ops,
)
from hifipose.errors import ModelIntegrityError
from tests.unit.convert import tflite_builder as tb

pytest.importorskip("ai_edge_litert")


def _conv_model(rng: np.random.Generator, depthwise: bool) -> bytes:
    channels = 8
    weights = rng.normal(size=(1, 3, 3, channels) if depthwise else (channels, 3, 3, channels))
    tensors = [
        tb.Tensor("x", (1, 6, 6, channels)),
        tb.Tensor("w", weights.shape, data=weights.astype(np.float32)),
        tb.Tensor("b", (channels,), data=np.zeros(channels, np.float32)),
        tb.Tensor("y", (1, 4, 4, channels)),
    ]
    fields = [(0, "b", 1), (1, "i", 1), (2, "i", 1)]  # VALID padding, stride 1, no activation
    if depthwise:
        fields += [(3, "i", 1)]
        op = tb.Op(tb.DEPTHWISE_CONV_2D, [0, 1, 2], [3], tb.OPTIONS_DEPTHWISE, fields)
    else:
        op = tb.Op(tb.CONV_2D, [0, 1, 2], [3], tb.OPTIONS_CONV, fields)
    return tb.build_tflite(tensors, [op], [0], [3])


def _run(data: bytes, feeds: list[np.ndarray]) -> np.ndarray:
    interpreter_module = importlib.import_module("ai_edge_litert.interpreter")
    interpreter = interpreter_module.Interpreter(model_content=data)
    interpreter.allocate_tensors()
    (source,), (target,) = interpreter.get_input_details(), interpreter.get_output_details()
    out = []
    for feed in feeds:
        interpreter.set_tensor(source["index"], feed)
        interpreter.invoke()
        out.append(interpreter.get_tensor(target["index"]).copy())
    return np.concatenate(out)


@pytest.mark.parametrize("depthwise", [False, True])
def test_values_bias_correction_removes_the_mean_error_of_rounded_weights(depthwise: bool) -> None:
    rng = np.random.default_rng(7)
    model = _conv_model(rng, depthwise)
    # inputs far from zero on average: the weights' rounding error then shifts every output
    feeds = [(5 + rng.random((1, 6, 6, 8))).astype(np.float32) for _ in range(16)]
    calibration = [{"x": feed} for feed in feeds]
    ranges = activation_ranges(model, calibration)
    means = input_means(model, calibration)
    assert np.allclose(means["x"], np.mean(feeds, axis=(0, 1, 2, 3)), atol=1e-5)
    reference = _run(model, feeds)
    plain = _run(quantize_tflite(model, ranges), feeds) - reference
    corrected = _run(quantize_tflite(model, ranges, means=means), feeds) - reference
    plain_bias = np.abs(plain.mean(axis=(0, 1, 2))).mean()
    corrected_bias = np.abs(corrected.mean(axis=(0, 1, 2))).mean()
    assert corrected_bias < 0.5 * plain_bias
    assert np.abs(corrected).mean() < np.abs(plain).mean()


def test_the_recipe_keeps_float_what_the_calibration_record_lists() -> None:
    model = _conv_model(np.random.default_rng(0), depthwise=False)
    assert recipe_float_ops(model, {}) == float_ops(model) == {"y"}  # default stem and tail
    assert recipe_float_ops(model, {"float_ops": []}) == set()
    assert recipe_float_ops(model, {"float_ops": ["y"]}) == {"y"}
    with pytest.raises(ModelIntegrityError, match="1 ops the model does not have"):
        recipe_float_ops(model, {"float_ops": ["y", "gone"]})
