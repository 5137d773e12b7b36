import numpy as np
import pytest

from hifipose.convert.graph import read_tflite
from hifipose.errors import ModelIntegrityError, UnsupportedOperatorError
from tests.unit.convert import tflite_builder as tb

# A sparse float16 1×1 conv weight (2 filters × 4 channels): filter 0 holds channels 1 and 3,
# filter 1 holds channel 0. DENSIFY → DEQUANTIZE → CONV_2D, as in the BlazePose detector.
SPARSE_WEIGHT = tb.Tensor(
    "w_sparse",
    (2, 1, 1, 4),
    "float16",
    data=np.array([0.5, -2.0, 1.25], np.float16),
    sparse=tb.Sparse([0, 1, 2, 3], [], [2, 1, 1, ([0, 2, 3], [1, 3, 0])]),
)
DENSE_WEIGHT = np.zeros((2, 1, 1, 4), np.float32)
DENSE_WEIGHT[0, 0, 0, 1], DENSE_WEIGHT[0, 0, 0, 3], DENSE_WEIGHT[1, 0, 0, 0] = 0.5, -2.0, 1.25


def sparse_conv_model() -> bytes:
    tensors = [
        tb.Tensor("input", (1, 3, 3, 4)),
        SPARSE_WEIGHT,
        tb.Tensor("w_fp16", (2, 1, 1, 4), "float16"),
        tb.Tensor("w", (2, 1, 1, 4)),
        tb.Tensor("b", (2,), data=np.array([0.1, -0.1], np.float32)),
        tb.Tensor("output", (1, 3, 3, 2)),
    ]
    ops = [
        tb.Op(tb.DENSIFY, [1], [2]),
        tb.Op(tb.DEQUANTIZE, [2], [3]),
        tb.Op(tb.CONV_2D, [0, 3, 4], [5], tb.OPTIONS_CONV, [(0, "b", 1), (1, "i", 1), (2, "i", 1)]),
    ]
    return tb.build_tflite(tensors, ops, [0], [5])


def test_smoke_densify_and_dequantize_are_folded_into_a_float32_constant() -> None:
    graph = read_tflite(sparse_conv_model())
    assert [op.kind for op in graph.operators] == ["CONV_2D"]
    weight = graph.constants[graph.operators[0].inputs[1]]
    assert weight.dtype == np.float32
    np.testing.assert_array_equal(weight, DENSE_WEIGHT)


def test_shapes_and_names_are_read() -> None:
    graph = read_tflite(sparse_conv_model())
    assert [graph.tensors[i].name for i in graph.inputs] == ["input"]
    assert [graph.tensors[i].shape for i in graph.outputs] == [(1, 3, 3, 2)]
    assert len(graph.sha256) == 64


def test_exception_unsupported_op_is_rejected_with_its_name() -> None:
    tensors = [tb.Tensor("a", (1, 4)), tb.Tensor("b", (1, 4)), tb.Tensor("c", (1, 4))]
    sub = 41  # SUB: no model hifipose converts has one
    model = tb.build_tflite(tensors, [tb.Op(sub, [0, 1], [2])], [0, 1], [2])
    with pytest.raises(UnsupportedOperatorError, match=r"\bSUB\b"):
        read_tflite(model)


def test_exception_unknown_op_code_is_named_by_number() -> None:
    tensors = [tb.Tensor("a", (1, 4)), tb.Tensor("c", (1, 4))]
    model = tb.build_tflite(tensors, [tb.Op(150, [0], [1])], [0], [1])
    with pytest.raises(UnsupportedOperatorError, match="code 150"):
        read_tflite(model)


def test_exception_dequantize_of_int8_is_rejected() -> None:
    tensors = [
        tb.Tensor("q", (4,), "int32", data=np.arange(4)),
        tb.Tensor("f", (4,)),
        tb.Tensor("x", (4,)),
        tb.Tensor("y", (4,)),
    ]
    ops = [tb.Op(tb.DEQUANTIZE, [0], [1]), tb.Op(tb.ADD, [2, 1], [3], tb.OPTIONS_ADD, [])]
    with pytest.raises(UnsupportedOperatorError, match="float16"):
        read_tflite(tb.build_tflite(tensors, ops, [2], [3]))


@pytest.mark.parametrize(
    ("blob", "match"),
    [
        (b"", "not a FlatBuffers file"),
        (b"\x10\x00\x00\x00ABCD" + bytes(16), "identifier"),
    ],
)
def test_exception_not_a_tflite_file(blob: bytes, match: str) -> None:
    with pytest.raises(ModelIntegrityError, match=match):
        read_tflite(blob)


@pytest.mark.parametrize(
    ("size", "stride", "padding", "pads"),
    [
        (5, 2, 0, (1, 1, 1, 1)),  # SAME, even total: symmetric
        (4, 2, 0, (0, 1, 0, 1)),  # SAME, odd total: the extra pixel goes bottom/right
        (4, 1, 1, (0, 0, 0, 0)),  # VALID
    ],
)
def test_convention_same_padding_puts_the_odd_pixel_after(size, stride, padding, pads) -> None:
    tensors = [
        tb.Tensor("x", (1, size, size, 1)),
        tb.Tensor("w", (1, 3, 3, 1), data=np.ones((1, 3, 3, 1))),
        tb.Tensor("b", (1,), data=np.zeros(1)),
        tb.Tensor("y", (1, 2, 2, 1)),
    ]
    options = [(0, "b", padding), (1, "i", stride), (2, "i", stride)]
    op = tb.Op(tb.CONV_2D, [0, 1, 2], [3], tb.OPTIONS_CONV, options)
    graph = read_tflite(tb.build_tflite(tensors, [op], [0], [3]))
    assert graph.operators[0].options.pads == pads
