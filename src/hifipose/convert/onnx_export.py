"""Emit a :class:`~hifipose.convert.graph.Graph` as an ONNX model (NCHW inside, NHWC at the edge).

Conventions:
    The model's inputs and outputs keep the .tflite names and NHWC shapes, with a symbolic
    batch dimension ``"batch"``; every 4-D activation inside is NCHW. float32 throughout.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import onnx
from numpy.typing import NDArray
from onnx import TensorProto, helper, numpy_helper

from hifipose.convert.graph import Graph, Operator
from hifipose.convert.layout import (
    NCHW_FROM_NHWC,
    NHWC_FROM_NCHW,
    channel_slice,
    conv_weight,
    dense_weight,
    is_4d,
    mean_over_space,
    nchw_axis,
    nchw_constant,
    nchw_paddings,
    prelu_slope,
    reshape_plan,
)
from hifipose.errors import UnsupportedOperatorError

__all__ = ["OPSET", "to_onnx"]

# ONNX opset of the emitted models (21: onnx >= 1.16, onnxruntime >= 1.18).
OPSET: Final = 21
_RESIZE_MODES: Final = {
    (False, True): "half_pixel",
    (True, False): "align_corners",
    (False, False): "asymmetric",
}


class _Emitter:
    """Accumulates nodes and initializers; value names are ``t<tensor index>``."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._counter = 0

    def fresh(self, hint: str) -> str:
        self._counter += 1
        return f"{hint}_{self._counter}"

    def constant(self, value: NDArray[np.generic], hint: str) -> str:
        name = self.fresh(hint)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(self, op_type: str, inputs: list[str], output: str, **attributes: Any) -> str:  # noqa: ANN401 - ONNX attribute values are of many types
        self.nodes.append(helper.make_node(op_type, inputs, [output], **attributes))
        return output

    def value(self, index: int, rank: int) -> str:
        """The name of tensor ``index`` as an operand (constants become initializers)."""
        if index in self.graph.constants:
            return self.constant(nchw_constant(self.graph.constants[index], rank), "const")
        return f"t{index}"

    def activation(self, op: Operator, pre: str) -> None:
        """Apply ``op``'s fused activation to ``pre``, writing the op's output tensor."""
        out = f"t{op.outputs[0]}"
        kind = op.options.activation
        if kind == "NONE":
            self.node("Identity", [pre], out)
        elif kind == "RELU":
            self.node("Relu", [pre], out)
        elif kind == "TANH":
            self.node("Tanh", [pre], out)
        else:  # RELU6 or RELU_N1_TO_1
            low, high = (0.0, 6.0) if kind == "RELU6" else (-1.0, 1.0)
            bounds = [self.constant(np.array(v, np.float32), "clip") for v in (low, high)]
            self.node("Clip", [pre, *bounds], out)

    def emit(self, op: Operator) -> None:
        """Append the nodes of one op (read_tflite admits only the ops handled here)."""
        emitters = {
            "CONV_2D": self._conv,
            "DEPTHWISE_CONV_2D": self._conv,
            "MAX_POOL_2D": self._max_pool,
            "ADD": self._add_or_concat,
            "CONCATENATION": self._add_or_concat,
            "PAD": self._pad,
            "RESHAPE": self._reshape,
            "RESIZE_BILINEAR": self._resize,
            "DEPTH_TO_SPACE": self._depth_to_space,
            "LOGISTIC": self._logistic,
            "RELU": self._relu,
            "PRELU": self._prelu,
            "STRIDED_SLICE": self._channel_slice,
            "MEAN": self._mean,
            "FULLY_CONNECTED": self._dense,
        }
        if op.kind not in emitters:
            msg = f"the ONNX converter does not handle the {op.kind} op"
            raise UnsupportedOperatorError(msg)
        emitters[op.kind](op)

    def _conv(self, op: Operator) -> None:
        weight, bias, groups = conv_weight(self.graph, op)
        top, bottom, left, right = op.options.pads
        pre = self.node(
            "Conv",
            [f"t{op.inputs[0]}", self.constant(weight, "w"), self.constant(bias, "b")],
            self.fresh("conv"),
            kernel_shape=list(weight.shape[2:]),
            strides=list(op.options.stride_hw),
            dilations=list(op.options.dilation_hw),
            pads=[top, left, bottom, right],
            group=groups,
        )
        self.activation(op, pre)

    def _max_pool(self, op: Operator) -> None:
        top, bottom, left, right = op.options.pads
        pre = self.node(
            "MaxPool",
            [f"t{op.inputs[0]}"],
            self.fresh("pool"),
            kernel_shape=list(op.options.filter_hw),
            strides=list(op.options.stride_hw),
            pads=[top, left, bottom, right],
        )
        self.activation(op, pre)

    def _add_or_concat(self, op: Operator) -> None:
        graph = self.graph
        rank = len(graph.tensors[op.outputs[0]].shape)
        operands = [self.value(i, rank) for i in op.inputs]
        if op.kind == "CONCATENATION":
            axis = nchw_axis(op.options.axis, rank)
            self.activation(op, self.node("Concat", operands, self.fresh("concat"), axis=axis))
            return
        ranks = {len(graph.tensors[i].shape) for i in op.inputs if i not in graph.constants}
        if len(ranks) > 1:
            msg = f"ADD of run-time tensors of different ranks {sorted(ranks)}"
            raise UnsupportedOperatorError(msg)
        self.activation(op, self.node("Add", operands, self.fresh("add")))

    def _pad(self, op: Operator) -> None:
        pairs = nchw_paddings(self.graph, op)
        pads = np.array([p[0] for p in pairs] + [p[1] for p in pairs], np.int64)
        self.node("Pad", [f"t{op.inputs[0]}", self.constant(pads, "pads")], f"t{op.outputs[0]}")

    def _reshape(self, op: Operator) -> None:
        to_nhwc_first, target, to_nchw_after = reshape_plan(self.graph, op)
        source = f"t{op.inputs[0]}"
        if to_nhwc_first:
            source = self.node("Transpose", [source], self.fresh("nhwc"), perm=NHWC_FROM_NCHW)
        shape = self.constant(np.array(target, np.int64), "shape")
        reshaped = self.node("Reshape", [source, shape], self.fresh("reshape"))
        if to_nchw_after:
            self.node("Transpose", [reshaped], f"t{op.outputs[0]}", perm=list(NCHW_FROM_NHWC))
        else:
            self.node("Identity", [reshaped], f"t{op.outputs[0]}")

    def _resize(self, op: Operator) -> None:
        mode = _RESIZE_MODES.get((op.options.align_corners, op.options.half_pixel_centers))
        if mode is None:
            msg = "RESIZE_BILINEAR with both align_corners and half_pixel_centers set"
            raise UnsupportedOperatorError(msg)
        size_hw = self.graph.tensors[op.outputs[0]].shape[1:3]
        # Full NCHW sizes (batch and channels read at run time) rather than Resize's `axes`:
        # onnxruntime's transpose optimizer mishandles `axes` when a Transpose feeds the Resize.
        source = f"t{op.inputs[0]}"
        leading = self.node("Shape", [source], self.fresh("n_c"), start=0, end=2)
        height_width = self.constant(np.array(size_hw, np.int64), "size_hw")
        sizes = self.node("Concat", [leading, height_width], self.fresh("sizes"), axis=0)
        self.node(
            "Resize",
            [source, "", "", sizes],
            f"t{op.outputs[0]}",
            mode="linear",
            coordinate_transformation_mode=mode,
        )

    def _depth_to_space(self, op: Operator) -> None:
        self.node(
            "DepthToSpace",
            [f"t{op.inputs[0]}"],
            f"t{op.outputs[0]}",
            blocksize=op.options.block_size,
            mode="DCR",  # TFLite's channel order: (block row, block column, channel)
        )

    def _logistic(self, op: Operator) -> None:
        self.node("Sigmoid", [f"t{op.inputs[0]}"], f"t{op.outputs[0]}")

    def _relu(self, op: Operator) -> None:
        self.node("Relu", [f"t{op.inputs[0]}"], f"t{op.outputs[0]}")

    def _prelu(self, op: Operator) -> None:
        slope = self.constant(prelu_slope(self.graph, op), "slope")
        self.node("PRelu", [f"t{op.inputs[0]}", slope], f"t{op.outputs[0]}")

    def _channel_slice(self, op: Operator) -> None:
        start, stop = channel_slice(self.graph, op)
        bounds = [self.constant(np.array([v], np.int64), "slice") for v in (start, stop)]
        axis = self.constant(np.array([1], np.int64), "axis")  # channels, NCHW
        self.node("Slice", [f"t{op.inputs[0]}", *bounds, axis], f"t{op.outputs[0]}")

    def _mean(self, op: Operator) -> None:
        mean_over_space(self.graph, op)
        self.node(
            "ReduceMean",
            [f"t{op.inputs[0]}", self.constant(np.array([2, 3], np.int64), "axes")],
            f"t{op.outputs[0]}",
            keepdims=int(op.options.keep_dims),
        )

    def _dense(self, op: Operator) -> None:
        weight, bias = dense_weight(self.graph, op)
        pre = self.node(
            "Gemm",
            [f"t{op.inputs[0]}", self.constant(weight, "w"), self.constant(bias, "b")],
            self.fresh("dense"),
            transB=1,
        )
        self.activation(op, pre)


def _value_info(graph: Graph, index: int) -> onnx.ValueInfoProto:
    shape: list[int | str] = ["batch", *graph.tensors[index].shape[1:]]
    return helper.make_tensor_value_info(graph.tensors[index].name, TensorProto.FLOAT, shape)


def to_onnx(graph: Graph, *, model_name: str = "hifipose") -> onnx.ModelProto:
    """Build the ONNX model of ``graph``.

    Args:
        graph: A graph from :func:`~hifipose.convert.graph.read_tflite`.
        model_name: The ONNX graph's name.

    Returns:
        A checked model (opset :data:`OPSET`): same input/output names and NHWC shapes as the
        .tflite, any batch size.

    Raises:
        UnsupportedOperatorError: An op or a form of one this converter does not handle.
    """
    emitter = _Emitter(graph)
    for index in graph.inputs:
        perm = list(NCHW_FROM_NHWC) if is_4d(graph, index) else None
        op_type = "Transpose" if perm else "Identity"
        attributes = {"perm": perm} if perm else {}
        emitter.node(op_type, [graph.tensors[index].name], f"t{index}", **attributes)
    for op in graph.operators:
        emitter.emit(op)
    for index in graph.outputs:
        perm = list(NHWC_FROM_NCHW) if is_4d(graph, index) else None
        op_type = "Transpose" if perm else "Identity"
        attributes = {"perm": perm} if perm else {}
        emitter.node(op_type, [f"t{index}"], graph.tensors[index].name, **attributes)
    onnx_graph = helper.make_graph(
        emitter.nodes,
        model_name,
        [_value_info(graph, i) for i in graph.inputs],
        [_value_info(graph, i) for i in graph.outputs],
        emitter.initializers,
    )
    model = helper.make_model(
        onnx_graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="hifipose.convert",
        doc_string=f"converted from a .tflite file with sha256 {graph.sha256}",
    )
    model.ir_version = min(model.ir_version, 10)  # readable by onnxruntime >= 1.17
    onnx.checker.check_model(model)
    return model
