"""NHWC (TFLite) → NCHW (ONNX, torch) layout rules shared by both converters.

Conventions:
    Inside a converted graph every 4-D activation is NCHW; every other tensor keeps its TFLite
    shape. A converted model still takes and returns TFLite's NHWC tensors: the converters
    transpose at the graph boundary only.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray

from hifipose.convert.graph import Graph, Operator
from hifipose.errors import UnsupportedOperatorError

__all__ = [
    "NCHW_FROM_NHWC",
    "NHWC_FROM_NCHW",
    "channel_slice",
    "conv_weight",
    "dense_weight",
    "is_4d",
    "mean_over_space",
    "nchw_axis",
    "nchw_constant",
    "nchw_paddings",
    "prelu_slope",
    "reshape_plan",
]

NCHW_FROM_NHWC: Final = (0, 3, 1, 2)  # a transpose permutation: NHWC tensor → NCHW tensor
NHWC_FROM_NCHW: Final = (0, 2, 3, 1)
_AXIS_NCHW: Final = (0, 2, 3, 1)  # NHWC axis a is NCHW axis _AXIS_NCHW[a]


def is_4d(graph: Graph, index: int) -> bool:
    """Return whether tensor ``index`` is 4-D (so NCHW inside a converted graph)."""
    return len(graph.tensors[index].shape) == 4


def nchw_axis(axis: int, rank: int) -> int:
    """Map a non-negative TFLite axis to the converted graph's layout."""
    return _AXIS_NCHW[axis] if rank == 4 else axis


def conv_weight(graph: Graph, op: Operator) -> tuple[NDArray[np.float32], NDArray[np.float32], int]:
    """Return a convolution's OIHW weight, its bias and its group count.

    Args:
        graph: The graph.
        op: A CONV_2D (weights OHWI) or DEPTHWISE_CONV_2D (weights 1HWC, C = groups × multiplier).

    Returns:
        ``(weight, bias, groups)``, float32; a missing bias is zeros.
    """
    weight = np.asarray(graph.constant(op.inputs[1]), dtype=np.float32)
    in_channels = graph.tensors[op.inputs[0]].shape[3]
    if op.kind == "DEPTHWISE_CONV_2D":
        oihw = weight.transpose(3, 0, 1, 2)
        groups = in_channels
    else:
        oihw = weight.transpose(0, 3, 1, 2)
        groups = 1
    if oihw.shape[0] % groups or oihw.shape[1] * groups != in_channels:
        msg = f"{op.kind} weights {weight.shape} do not fit {in_channels} input channels"
        raise UnsupportedOperatorError(msg)
    has_bias = len(op.inputs) > 2 and op.inputs[2] >= 0
    bias = (
        np.asarray(graph.constant(op.inputs[2]), dtype=np.float32)
        if has_bias
        else np.zeros(oihw.shape[0], dtype=np.float32)
    )
    return np.ascontiguousarray(oihw), bias, groups


def nchw_paddings(graph: Graph, op: Operator) -> list[tuple[int, int]]:
    """Return a PAD op's (before, after) amounts per axis, in the converted layout's axis order."""
    paddings = np.asarray(graph.constant(op.inputs[1]), dtype=np.int64).reshape(-1, 2)
    pairs = [(int(before), int(after)) for before, after in paddings]
    if len(pairs) == 4:
        pairs = [pairs[axis] for axis in NCHW_FROM_NHWC]
    return pairs


def nchw_constant(value: NDArray[np.generic], rank: int) -> NDArray[np.generic]:
    """Lay out a constant operand of an elementwise op whose result has ``rank`` dims.

    A constant with fewer dims broadcasts against TFLite's trailing (NHWC) dims, so it is first
    padded to 4-D on the left, then transposed like an activation.
    """
    if rank != 4:
        return value
    padded = value.reshape((1,) * (4 - value.ndim) + value.shape)
    return np.ascontiguousarray(padded.transpose(NCHW_FROM_NHWC))


def reshape_plan(graph: Graph, op: Operator) -> tuple[bool, tuple[int, ...], bool]:
    """How to reshape in the converted layout.

    Returns:
        ``(to_nhwc_first, target_shape, to_nchw_after)``: transpose the input back to NHWC
        before reshaping (not needed when its height and width are 1, where NCHW and NHWC
        share one memory order); the target shape with the batch dimension as -1; transpose the
        result to NCHW after (4-D results).

    Raises:
        UnsupportedOperatorError: The reshape moves data into or out of the batch dimension.
    """
    in_shape = graph.tensors[op.inputs[0]].shape
    out_shape = graph.tensors[op.outputs[0]].shape
    if not in_shape or not out_shape or in_shape[0] != out_shape[0]:
        msg = f"RESHAPE from {in_shape} to {out_shape} changes the batch dimension"
        raise UnsupportedOperatorError(msg)
    to_nhwc_first = len(in_shape) == 4 and in_shape[1] * in_shape[2] != 1
    return to_nhwc_first, (-1, *out_shape[1:]), len(out_shape) == 4


def prelu_slope(graph: Graph, op: Operator) -> NDArray[np.float32]:
    """PRELU's per-channel slope, shaped (C, 1, 1) to broadcast over an NCHW activation.

    Raises:
        UnsupportedOperatorError: The input is not 4-D or the slope is not one per channel.
    """
    channels = graph.tensors[op.inputs[0]].shape[-1]
    slope = np.asarray(graph.constant(op.inputs[1]), np.float32)
    if not is_4d(graph, op.inputs[0]) or slope.size != channels:
        msg = f"PRELU with slope shape {slope.shape} on {graph.tensors[op.inputs[0]].shape}"
        raise UnsupportedOperatorError(msg)
    return slope.reshape(channels, 1, 1)


def channel_slice(graph: Graph, op: Operator) -> tuple[int, int]:
    """The (start, stop) channels of a STRIDED_SLICE that keeps whole rows of a 4-D tensor.

    The form TFLite gives a channel padding's inverse: begin 0, stride 1, no masks, the end
    equal to the input's batch, height and width.

    Raises:
        UnsupportedOperatorError: Any other form of STRIDED_SLICE.
    """
    shape = graph.tensors[op.inputs[0]].shape
    begin, end, strides = (
        [int(v) for v in np.asarray(graph.constant(i)).reshape(-1)] for i in op.inputs[1:4]
    )
    plain = (
        len(shape) == 4
        and not any(op.options.slice_masks)
        and begin == [0, 0, 0, 0]
        and strides == [1, 1, 1, 1]
        and end[:3] == list(shape[:3])
        and 0 < end[3] <= shape[3]
    )
    if not plain:
        msg = f"STRIDED_SLICE other than a channel slice (begin {begin}, end {end}, {strides})"
        raise UnsupportedOperatorError(msg)
    return 0, end[3]


def mean_over_space(graph: Graph, op: Operator) -> None:
    """Check that a MEAN is the global average over height and width of a 4-D tensor.

    Raises:
        UnsupportedOperatorError: Any other MEAN.
    """
    axes = sorted(int(a) % 4 for a in np.asarray(graph.constant(op.inputs[1])).reshape(-1))
    if not is_4d(graph, op.inputs[0]) or axes != [1, 2]:
        msg = f"MEAN over axes {axes} of {graph.tensors[op.inputs[0]].shape}; only [1, 2]"
        raise UnsupportedOperatorError(msg)


def dense_weight(graph: Graph, op: Operator) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """FULLY_CONNECTED's (out, in) weight and (out,) bias (zeros when it has none).

    Raises:
        UnsupportedOperatorError: The input is not 2-D.
    """
    if len(graph.tensors[op.inputs[0]].shape) != 2:
        msg = f"FULLY_CONNECTED on a {len(graph.tensors[op.inputs[0]].shape)}-D input"
        raise UnsupportedOperatorError(msg)
    weight = np.asarray(graph.constant(op.inputs[1]), np.float32)
    has_bias = len(op.inputs) > 2 and op.inputs[2] >= 0
    bias = (
        np.asarray(graph.constant(op.inputs[2]), np.float32).reshape(-1)
        if has_bias
        else np.zeros(weight.shape[0], np.float32)
    )
    return weight, bias
