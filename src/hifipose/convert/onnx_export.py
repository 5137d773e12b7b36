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
            "MUL": self._add_or_concat,
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
            "LANDMARKS_TO_TRANSFORM_MATRIX": self._landmarks_to_matrix,
            "TRANSFORM_TENSOR_BILINEAR": self._transform_tensor,
            "TRANSFORM_LANDMARKS": self._transform_landmarks,
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
            msg = f"{op.kind} of run-time tensors of different ranks {sorted(ranks)}"
            raise UnsupportedOperatorError(msg)
        op_type = "Mul" if op.kind == "MUL" else "Add"
        result = operands[0]
        for operand in operands[1:]:  # ONNX's Add and Mul take two operands
            result = self.node(op_type, [result, operand], self.fresh(op_type.lower()))
        self.activation(op, result)

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

    def _slice(self, source: str, axis: int, start: int, stop: int) -> str:
        bounds = [self.constant(np.array([v], np.int64), "slice") for v in (start, stop, axis)]
        return self.node("Slice", [source, *bounds], self.fresh("slice"))

    def _scalar(self, value: float) -> str:
        return self.constant(np.array(value, np.float32), "scalar")

    def _binary(self, op_type: str, left: str, right: str) -> str:
        return self.node(op_type, [left, right], self.fresh(op_type.lower()))

    def _landmarks_to_matrix(self, op: Operator) -> None:
        """Landmarks2TransformMatrix v2, as ``_LandmarksToTransformMatrix`` in torch_export."""
        options = op.options
        landmarks = f"t{op.inputs[0]}"  # (B, N, 3)
        xy = self._slice(landmarks, 2, 0, 2)
        pair = self.constant(np.array(options.rotation_pair, np.int64), "pair")
        ends = self.node("Gather", [xy, pair], self.fresh("ends"), axis=1)  # (B, 2, 2)
        direction = self._binary(
            "Sub", self._slice(ends, 1, 1, 2), self._slice(ends, 1, 0, 1)
        )  # (B, 1, 2)
        length = self.node(
            "ReduceL2",
            [direction, self.constant(np.array([2], np.int64), "axes")],
            self.fresh("length"),
            keepdims=1,
        )
        zero_length = self._binary("Equal", length, self._scalar(0.0))
        safe = self.node(
            "Where", [zero_length, self._scalar(1.0), length], self.fresh("safe_length")
        )
        unit = self._binary("Div", direction, safe)
        unit = self.node(
            "Where",
            [zero_length, self.constant(np.array([1.0, 0.0], np.float32), "x_axis"), unit],
            self.fresh("unit"),
        )  # (B, 1, 2): cos and sin of the direction's angle
        cos_a, sin_a = self._slice(unit, 2, 0, 1), self._slice(unit, 2, 1, 2)  # (B, 1, 1)
        cos_t = self._scalar(float(np.cos(np.float32(options.target_rotation))))
        sin_t = self._scalar(float(np.sin(np.float32(options.target_rotation))))
        cos_r = self._binary(
            "Add", self._binary("Mul", cos_a, cos_t), self._binary("Mul", sin_a, sin_t)
        )
        sin_r = self._binary(
            "Sub", self._binary("Mul", cos_a, sin_t), self._binary("Mul", sin_a, cos_t)
        )
        subset = self.constant(np.array(options.subset, np.int64), "subset")
        points = self.node("Gather", [xy, subset], self.fresh("points"), axis=1)  # (B, K, 2)
        px, py = self._slice(points, 2, 0, 1), self._slice(points, 2, 1, 2)  # (B, K, 1)
        turned_x = self._binary(
            "Sub", self._binary("Mul", cos_r, px), self._binary("Mul", sin_r, py)
        )
        turned_y = self._binary(
            "Add", self._binary("Mul", sin_r, px), self._binary("Mul", cos_r, py)
        )
        axis = self.constant(np.array([1], np.int64), "axis")
        extremes = []
        for turned in (turned_x, turned_y):
            for reduce in ("ReduceMin", "ReduceMax"):
                extremes.append(self.node(reduce, [turned, axis], self.fresh("ext"), keepdims=1))
        low_x, high_x, low_y, high_y = extremes  # (B, 1, 1)
        half = self._scalar(0.5)
        mid_x = self._binary("Mul", self._binary("Add", low_x, high_x), half)
        mid_y = self._binary("Mul", self._binary("Add", low_y, high_y), half)
        centre_x = self._binary(
            "Add", self._binary("Mul", cos_r, mid_x), self._binary("Mul", sin_r, mid_y)
        )
        centre_y = self._binary(
            "Sub", self._binary("Mul", cos_r, mid_y), self._binary("Mul", sin_r, mid_x)
        )
        out_h, out_w = options.output_hw
        scale_x, scale_y = options.scale_xy
        step_x = self._binary(
            "Mul", self._binary("Sub", high_x, low_x), self._scalar(scale_x / out_w)
        )
        step_y = self._binary(
            "Mul", self._binary("Sub", high_y, low_y), self._scalar(scale_y / out_h)
        )
        a00 = self._binary("Mul", cos_r, step_x)
        a01 = self._binary("Mul", sin_r, step_y)
        a10 = self._binary("Mul", self.node("Neg", [sin_r], self.fresh("neg")), step_x)
        a11 = self._binary("Mul", cos_r, step_y)
        half_w, half_h = self._scalar(out_w / 2), self._scalar(out_h / 2)

        def shift(centre: str, first: str, second: str) -> str:
            offset = self._binary(
                "Add", self._binary("Mul", first, half_w), self._binary("Mul", second, half_h)
            )
            return self._binary("Sub", centre, offset)

        t0, t1 = shift(centre_x, a00, a01), shift(centre_y, a10, a11)
        zero = self._binary("Mul", a00, self._scalar(0.0))
        one = self._binary("Add", zero, self._scalar(1.0))
        entries = [a00, a01, zero, t0, a10, a11, zero, t1, zero, zero, one, zero]
        entries += [zero, zero, zero, one]
        flat = self.node("Concat", entries, self.fresh("entries"), axis=2)  # (B, 1, 16)
        shape = self.constant(np.array([-1, 4, 4], np.int64), "shape")
        self.node("Reshape", [flat, shape], f"t{op.outputs[0]}")

    def _transform_tensor(self, op: Operator) -> None:
        """TransformTensorBilinear v2 as GridSample, as ``_TransformTensorBilinear`` in torch."""
        source = f"t{op.inputs[0]}"  # NCHW
        height, width = self.graph.tensors[op.inputs[0]].shape[1:3]
        out_h, out_w = op.options.output_hw
        ys, xs = np.meshgrid(
            np.arange(out_h, dtype=np.float32) + 0.5,
            np.arange(out_w, dtype=np.float32) + 0.5,
            indexing="ij",
        )
        cells = np.stack((xs, ys, np.zeros_like(xs), np.ones_like(xs)), -1).reshape(1, -1, 4)
        rows = self._slice(f"t{op.inputs[1]}", 1, 0, 2)  # (B, 2, 4)
        rows_t = self.node("Transpose", [rows], self.fresh("rows_t"), perm=[0, 2, 1])
        points = self._binary(
            "Sub",
            self.node("MatMul", [self.constant(cells, "cells"), rows_t], self.fresh("points")),
            self._scalar(0.5),
        )  # (B, HW, 2) input pixel coordinates
        size = np.array([width, height], np.float32)
        low_ok = self._binary("GreaterOrEqual", points, self._scalar(0.0))
        high_ok = self._binary("LessOrEqual", points, self.constant(size - 1, "last"))
        inside = self.node(
            "Cast", [self._binary("And", low_ok, high_ok)], self.fresh("inside"), to=1
        )
        inside = self.node(
            "ReduceMin",
            [inside, self.constant(np.array([2], np.int64), "axes")],
            self.fresh("inside_all"),
            keepdims=0,
        )  # (B, HW)
        normalised = self._binary(
            "Sub",
            self._binary(
                "Div",
                self._binary(
                    "Add", self._binary("Mul", points, self._scalar(2.0)), self._scalar(1.0)
                ),
                self.constant(size, "size"),
            ),
            self._scalar(1.0),
        )
        grid_shape = self.constant(np.array([-1, out_h, out_w, 2], np.int64), "grid_shape")
        grid = self.node("Reshape", [normalised, grid_shape], self.fresh("grid"))
        sampled = self.node(
            "GridSample",
            [source, grid],
            self.fresh("sampled"),
            mode="linear",
            padding_mode="zeros",
            align_corners=0,
        )
        mask_shape = self.constant(np.array([-1, 1, out_h, out_w], np.int64), "mask_shape")
        mask = self.node("Reshape", [inside, mask_shape], self.fresh("mask"))
        self.node("Mul", [sampled, mask], f"t{op.outputs[0]}")

    def _transform_landmarks(self, op: Operator) -> None:
        """TransformLandmarks v2, as ``_TransformLandmarks`` in torch_export."""
        points = f"t{op.inputs[0]}"  # (B, N, D)
        matrix = f"t{op.inputs[1]}"
        dims = self.graph.tensors[op.inputs[0]].shape[2]
        linear = self._slice(self._slice(matrix, 1, 0, 2), 2, 0, 2)  # (B, 2, 2)
        linear_t = self.node("Transpose", [linear], self.fresh("linear_t"), perm=[0, 2, 1])
        offset = self.node(
            "Transpose",
            [self._slice(self._slice(matrix, 1, 0, 2), 2, 3, 4)],
            self.fresh("offset"),
            perm=[0, 2, 1],
        )  # (B, 1, 2)
        moved = self._binary(
            "Add",
            self.node("MatMul", [self._slice(points, 2, 0, 2), linear_t], self.fresh("mm")),
            offset,
        )
        if dims > 2:
            self.node(
                "Concat", [moved, self._slice(points, 2, 2, dims)], f"t{op.outputs[0]}", axis=2
            )
        else:
            self.node("Identity", [moved], f"t{op.outputs[0]}")


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
