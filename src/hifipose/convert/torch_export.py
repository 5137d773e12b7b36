"""Build a ``torch.nn.Module`` from a :class:`~hifipose.convert.graph.Graph`, weights loaded.

Conventions:
    ``forward`` takes the graph inputs as NHWC float tensors (any batch size) and returns the
    graph outputs in the .tflite's order and NHWC shapes; every 4-D activation inside is NCHW.
    Weights are float32 until the caller converts the module (e.g. ``.half()``).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from hifipose.convert.graph import Activation, Graph, Operator
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

__all__ = ["TFLiteModule", "to_torch"]


def _activate(x: torch.Tensor, kind: Activation) -> torch.Tensor:
    if kind == "RELU":
        return F.relu(x)
    if kind == "RELU6":
        return F.hardtanh(x, 0.0, 6.0)
    if kind == "RELU_N1_TO_1":
        return F.hardtanh(x, -1.0, 1.0)
    if kind == "TANH":
        return torch.tanh(x)
    return x


class _Conv(nn.Module):
    """CONV_2D / DEPTHWISE_CONV_2D with TFLite's (possibly asymmetric) SAME padding."""

    def __init__(self, graph: Graph, op: Operator) -> None:
        super().__init__()
        weight, bias, groups = conv_weight(graph, op)
        top, bottom, left, right = op.options.pads
        symmetric = top == bottom and left == right
        self.pre_pad = None if symmetric else (left, right, top, bottom)
        self.conv = nn.Conv2d(
            weight.shape[1] * groups,
            weight.shape[0],
            tuple(weight.shape[2:]),
            stride=op.options.stride_hw,
            padding=(top, left) if symmetric else 0,
            dilation=op.options.dilation_hw,
            groups=groups,
        )
        with torch.no_grad():
            self.conv.weight.copy_(torch.from_numpy(weight.copy()))
            self.conv.bias.copy_(torch.from_numpy(bias.copy()))  # type: ignore[union-attr]  # bias=True
        self.activation = op.options.activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pre_pad is not None:
            x = F.pad(x, self.pre_pad)
        return _activate(self.conv(x), self.activation)


class _MaxPool(nn.Module):
    def __init__(self, op: Operator) -> None:
        super().__init__()
        top, bottom, left, right = op.options.pads
        self.pads = (left, right, top, bottom)
        self.kernel = op.options.filter_hw
        self.stride = op.options.stride_hw
        self.activation = op.options.activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if any(self.pads):  # TFLite's max pool ignores padded cells: pad with -inf
            x = F.pad(x, self.pads, value=float("-inf"))
        return _activate(F.max_pool2d(x, self.kernel, self.stride), self.activation)


class _Elementwise(nn.Module):
    """ADD or MUL (any number of run-time or constant operands), or CONCATENATION."""

    def __init__(self, graph: Graph, op: Operator) -> None:
        super().__init__()
        rank = len(graph.tensors[op.outputs[0]].shape)
        self.concat_axis = nchw_axis(op.options.axis, rank) if op.kind == "CONCATENATION" else None
        self.activation = op.options.activation
        # For each operand: its position among the run-time operands, or None for a constant
        # (kept as buffer ``const<position>``, already in the converted layout).
        self.slots: list[int | None] = []
        run_time_ranks = set()
        for position, index in enumerate(op.inputs):
            if index in graph.constants:
                value = nchw_constant(graph.constants[index], rank)
                self.register_buffer(f"const{position}", torch.from_numpy(value.copy()))
                self.slots.append(None)
            else:
                self.slots.append(sum(slot is not None for slot in self.slots))
                run_time_ranks.add(len(graph.tensors[index].shape))
        self.multiply = op.kind == "MUL"
        if op.kind in ("ADD", "MUL") and len(run_time_ranks) > 1:
            msg = f"{op.kind} of run-time tensors of different ranks {sorted(run_time_ranks)}"
            raise UnsupportedOperatorError(msg)

    def forward(self, *operands: torch.Tensor) -> torch.Tensor:
        values = [
            operands[slot] if slot is not None else getattr(self, f"const{position}")
            for position, slot in enumerate(self.slots)
        ]
        if self.concat_axis is not None:
            result = torch.cat(values, dim=self.concat_axis)
        else:
            result = values[0]
            for value in values[1:]:
                result = result * value if self.multiply else result + value
        return _activate(result, self.activation)


class _Pad(nn.Module):
    def __init__(self, graph: Graph, op: Operator) -> None:
        super().__init__()
        pairs = nchw_paddings(graph, op)
        self.pads = tuple(amount for pair in reversed(pairs) for amount in pair)  # last axis first

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x, self.pads)


class _Reshape(nn.Module):
    def __init__(self, graph: Graph, op: Operator) -> None:
        super().__init__()
        self.to_nhwc_first, self.target, self.to_nchw_after = reshape_plan(graph, op)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.to_nhwc_first:
            x = x.permute(NHWC_FROM_NCHW)
        x = x.reshape(self.target)
        return x.permute(NCHW_FROM_NHWC).contiguous() if self.to_nchw_after else x


class _ResizeBilinear(nn.Module):
    """RESIZE_BILINEAR: half-pixel centres, aligned corners, or TF's legacy sampling."""

    def __init__(self, graph: Graph, op: Operator) -> None:
        super().__init__()
        if op.options.align_corners and op.options.half_pixel_centers:
            msg = "RESIZE_BILINEAR with both align_corners and half_pixel_centers set"
            raise UnsupportedOperatorError(msg)
        self.size_hw = graph.tensors[op.outputs[0]].shape[1:3]
        self.align_corners = op.options.align_corners
        self.legacy = not (op.options.align_corners or op.options.half_pixel_centers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.legacy:
            return F.interpolate(
                x, size=self.size_hw, mode="bilinear", align_corners=self.align_corners
            )
        # TF's legacy sampling: source = destination × (in / out), clamped at the far edge.
        for axis, out_size in ((2, self.size_hw[0]), (3, self.size_hw[1])):
            in_size = x.shape[axis]
            source = torch.arange(out_size, device=x.device, dtype=torch.float32)
            source = source * (in_size / out_size)
            lower = source.floor().long().clamp(max=in_size - 1)
            upper = (lower + 1).clamp(max=in_size - 1)
            weight_shape = [1, 1, 1, 1]
            weight_shape[axis] = out_size
            weight = (source - lower).to(x.dtype).reshape(weight_shape)
            low, high = x.index_select(axis, lower), x.index_select(axis, upper)
            x = low + (high - low) * weight
        return x


class _DepthToSpace(nn.Module):
    """DEPTH_TO_SPACE in TFLite's DCR order (channel = (block row, block column, channel))."""

    def __init__(self, op: Operator) -> None:
        super().__init__()
        self.block = op.options.block_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, channels, height, width = x.shape
        block = self.block
        x = x.reshape(batch, block, block, channels // (block * block), height, width)
        x = x.permute(0, 3, 4, 1, 5, 2)
        return x.reshape(batch, channels // (block * block), height * block, width * block)


class _Logistic(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(x)


class _Relu(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x)


class _PRelu(nn.Module):
    """PRELU with a per-channel slope (NCHW)."""

    def __init__(self, graph: Graph, op: Operator) -> None:
        super().__init__()
        self.slope = nn.Parameter(
            torch.from_numpy(prelu_slope(graph, op).copy()), requires_grad=False
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.where(x >= 0, x, x * self.slope)


class _ChannelSlice(nn.Module):
    """STRIDED_SLICE in its channel-slice form (see ``layout.channel_slice``)."""

    def __init__(self, graph: Graph, op: Operator) -> None:
        super().__init__()
        self.start, self.stop = channel_slice(graph, op)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, self.start : self.stop]


class _SpatialMean(nn.Module):
    """MEAN over height and width of an NCHW tensor."""

    def __init__(self, graph: Graph, op: Operator) -> None:
        super().__init__()
        mean_over_space(graph, op)
        self.keep_dims = op.options.keep_dims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(2, 3), keepdim=self.keep_dims)


class _Dense(nn.Module):
    """FULLY_CONNECTED on a matrix, with its fused activation."""

    def __init__(self, graph: Graph, op: Operator) -> None:
        super().__init__()
        weight, bias = dense_weight(graph, op)
        self.linear = nn.Linear(weight.shape[1], weight.shape[0])
        with torch.no_grad():
            self.linear.weight.copy_(torch.from_numpy(weight.copy()))
            self.linear.bias.copy_(torch.from_numpy(bias.copy()))
        self.activation = op.options.activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _activate(self.linear(x), self.activation)


class _LandmarksToTransformMatrix(nn.Module):
    """MediaPipe's Landmarks2TransformMatrix v2: (B, N, 3) landmarks → (B, 4, 4) crop matrix.

    The matrix maps a cell (x, y) of a ``output_hw`` crop to the landmarks' frame: the crop is
    the landmarks ``subset``'s bounding box in the frame turned so that the ``rotation_pair``
    direction points at ``target_rotation``, scaled by ``scale_xy`` (see
    ``docs/holistic-spec.md``; the angle's cosine and sine come from the direction vector,
    which equals upstream's atan2 and works the same in ONNX, which has no atan2).
    """

    subset: torch.Tensor  # a buffer: the landmark indices of the box

    def __init__(self, op: Operator) -> None:
        super().__init__()
        options = op.options
        self.register_buffer("subset", torch.tensor(options.subset, dtype=torch.long))
        self.left, self.right = options.rotation_pair
        self.target = options.target_rotation
        self.out_h, self.out_w = options.output_hw
        self.scale_x, self.scale_y = options.scale_xy

    def forward(self, landmarks: torch.Tensor) -> torch.Tensor:
        direction = landmarks[:, self.right, :2] - landmarks[:, self.left, :2]
        length = direction.norm(dim=-1, keepdim=True)
        unit = torch.where(length > 0, direction / length.clamp_min(1e-30), 0.0)
        unit = torch.where(length > 0, unit, torch.tensor([1.0, 0.0], dtype=unit.dtype))
        cos_a, sin_a = unit[:, 0], unit[:, 1]
        # rotation = target - angle(direction)
        cos_t, sin_t = torch.cos(torch.tensor(self.target)), torch.sin(torch.tensor(self.target))
        cos_r = cos_t * cos_a + sin_t * sin_a
        sin_r = sin_t * cos_a - cos_t * sin_a
        points = landmarks[:, self.subset, :2]
        c, s = cos_r[:, None], sin_r[:, None]
        turned_x = c * points[..., 0] - s * points[..., 1]
        turned_y = s * points[..., 0] + c * points[..., 1]
        low_x, high_x = turned_x.amin(dim=1), turned_x.amax(dim=1)
        low_y, high_y = turned_y.amin(dim=1), turned_y.amax(dim=1)
        mid_x, mid_y = (low_x + high_x) / 2, (low_y + high_y) / 2
        centre_x = cos_r * mid_x + sin_r * mid_y  # turned back by -rotation
        centre_y = -sin_r * mid_x + cos_r * mid_y
        step_x = self.scale_x * (high_x - low_x) / self.out_w
        step_y = self.scale_y * (high_y - low_y) / self.out_h
        a00, a01 = cos_r * step_x, sin_r * step_y
        a10, a11 = -sin_r * step_x, cos_r * step_y
        t0 = centre_x - a00 * (self.out_w / 2) - a01 * (self.out_h / 2)
        t1 = centre_y - a10 * (self.out_w / 2) - a11 * (self.out_h / 2)
        zero, one = torch.zeros_like(a00), torch.ones_like(a00)
        rows = (
            a00,
            a01,
            zero,
            t0,
            a10,
            a11,
            zero,
            t1,
            zero,
            zero,
            one,
            zero,
            zero,
            zero,
            zero,
            one,
        )
        return torch.stack(rows, dim=1).reshape(-1, 4, 4)


class _TransformTensorBilinear(nn.Module):
    """MediaPipe's TransformTensorBilinear v2: sample an NCHW tensor at a matrix's grid.

    Output cell (x, y) reads the input at ``M[:2] @ (x + 0.5, y + 0.5, 0, 1) - 0.5`` (pixel
    centres), bilinearly; a point outside ``[0, W-1] × [0, H-1]`` reads 0 in every channel.
    """

    cells: torch.Tensor  # a buffer: (1, HW, 4) output cell centres (x, y, 0, 1)

    def __init__(self, op: Operator) -> None:
        super().__init__()
        out_h, out_w = op.options.output_hw
        ys, xs = torch.meshgrid(
            torch.arange(out_h, dtype=torch.float32) + 0.5,
            torch.arange(out_w, dtype=torch.float32) + 0.5,
            indexing="ij",
        )
        cells = torch.stack((xs, ys, torch.zeros_like(xs), torch.ones_like(xs)), dim=-1)
        self.register_buffer("cells", cells.reshape(1, out_h * out_w, 4))
        self.out_hw = (out_h, out_w)

    def forward(self, x: torch.Tensor, matrix: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[2], x.shape[3]
        points = self.cells.to(x.dtype) @ matrix[:, :2].transpose(1, 2) - 0.5  # (B, HW, 2)
        size = torch.tensor([width, height], dtype=x.dtype)
        inside = ((points >= 0) & (points <= size - 1)).all(dim=-1)
        grid = ((2 * points + 1) / size - 1).reshape(-1, *self.out_hw, 2)
        sampled = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        return sampled * inside.reshape(-1, 1, *self.out_hw).to(x.dtype)


class _TransformLandmarks(nn.Module):
    """MediaPipe's TransformLandmarks v2: (B, N, D) points through a (B, 4, 4) matrix's x, y rows.

    x and y become ``M[:2, :2] @ (x, y) + M[:2, 3]``; a third coordinate (D = 3) is kept.
    """

    def forward(self, points: torch.Tensor, matrix: torch.Tensor) -> torch.Tensor:
        moved = points[..., :2] @ matrix[:, :2, :2].transpose(1, 2) + matrix[:, None, :2, 3]
        return torch.cat((moved, points[..., 2:]), dim=-1)


_SIMPLE_STEPS: dict[str, Callable[[Graph, Operator], nn.Module]] = {
    "PRELU": _PRelu,
    "STRIDED_SLICE": _ChannelSlice,
    "MEAN": _SpatialMean,
    "FULLY_CONNECTED": _Dense,
    "LANDMARKS_TO_TRANSFORM_MATRIX": lambda graph, op: _LandmarksToTransformMatrix(op),
    "TRANSFORM_TENSOR_BILINEAR": lambda graph, op: _TransformTensorBilinear(op),
    "TRANSFORM_LANDMARKS": lambda graph, op: _TransformLandmarks(),
}


def _step(graph: Graph, op: Operator) -> nn.Module:  # noqa: PLR0911 - one return per op
    if op.kind in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        return _Conv(graph, op)
    if op.kind == "MAX_POOL_2D":
        return _MaxPool(op)
    if op.kind in ("ADD", "MUL", "CONCATENATION"):
        return _Elementwise(graph, op)
    if op.kind == "PAD":
        return _Pad(graph, op)
    if op.kind == "RESHAPE":
        return _Reshape(graph, op)
    if op.kind == "RESIZE_BILINEAR":
        return _ResizeBilinear(graph, op)
    if op.kind == "DEPTH_TO_SPACE":
        return _DepthToSpace(op)
    if op.kind == "LOGISTIC":
        return _Logistic()
    if op.kind == "RELU":
        return _Relu()
    if op.kind in _SIMPLE_STEPS:
        return _SIMPLE_STEPS[op.kind](graph, op)
    msg = f"the torch converter does not handle the {op.kind} op"
    raise UnsupportedOperatorError(msg)


# Ops whose run-time operands are all passed to their step (the others take the first input).
_MULTI_INPUT = frozenset(
    {"ADD", "MUL", "CONCATENATION", "TRANSFORM_TENSOR_BILINEAR", "TRANSFORM_LANDMARKS"}
)


class TFLiteModule(nn.Module):
    """The converted graph: one submodule per op, run in the .tflite's order.

    Attributes:
        input_names: The graph inputs' names, in ``forward``'s argument order.
        input_shapes: The graph inputs' NHWC shapes as in the .tflite (batch 1).
        output_names: The graph outputs' names, in the order ``forward`` returns them.
    """

    def __init__(self, graph: Graph) -> None:
        super().__init__()
        self.input_names = tuple(graph.tensors[i].name for i in graph.inputs)
        self.input_shapes = tuple(graph.tensors[i].shape for i in graph.inputs)
        self.output_names = tuple(graph.tensors[i].name for i in graph.outputs)
        self._inputs = graph.inputs
        self._outputs = graph.outputs
        self._input_4d = tuple(is_4d(graph, i) for i in graph.inputs)
        self._output_4d = tuple(is_4d(graph, i) for i in graph.outputs)
        self.steps = nn.ModuleList(_step(graph, op) for op in graph.operators)
        # The operands of each step: run-time tensors only (constants live in the steps).
        self._wiring = tuple(
            (
                tuple(i for i in op.inputs if i not in graph.constants)
                if op.kind in _MULTI_INPUT
                else (op.inputs[0],),
                op.outputs[0],
            )
            for op in graph.operators
        )

    def forward(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Run the graph on NHWC inputs; return the NHWC outputs (see the module docstring)."""
        values: dict[int, torch.Tensor] = {}
        for index, value, four_d in zip(self._inputs, inputs, self._input_4d, strict=True):
            values[index] = value.permute(NCHW_FROM_NHWC) if four_d else value
        for step, (sources, target) in zip(self.steps, self._wiring, strict=True):
            values[target] = step(*(values[i] for i in sources))
        return tuple(
            values[index].permute(NHWC_FROM_NCHW) if four_d else values[index]
            for index, four_d in zip(self._outputs, self._output_4d, strict=True)
        )


def to_torch(graph: Graph) -> TFLiteModule:
    """Build the torch module of ``graph`` (float32, on the CPU, in eval mode).

    Raises:
        UnsupportedOperatorError: An op or a form of one this converter does not handle.
    """
    return TFLiteModule(graph).eval()
