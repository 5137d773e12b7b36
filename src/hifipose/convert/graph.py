"""Read a .tflite flatbuffer into a small, runtime-neutral graph: the converter's input.

The graph keeps TFLite's own conventions: activations are NHWC (batch, height, width,
channels), CONV_2D weights are OHWI, DEPTHWISE_CONV_2D weights are 1HWC. Constant tensors are
decoded to numpy here, and the two weight-decoding ops are folded away: DENSIFY (a sparse
constant, see :mod:`hifipose.convert.sparse`) and DEQUANTIZE of a float16 constant. Every
other operator must be one of :data:`SUPPORTED_OPS` or :data:`CUSTOM_OPS` (MediaPipe's custom
ops of the face model with attention, ``docs/holistic-spec.md``), or reading fails with the op's
name.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Final, Literal

import numpy as np
from numpy.typing import NDArray

from hifipose.convert._flatbuffer import Table, root_table
from hifipose.convert._flexbuffer import FlexValue, read_flex_map
from hifipose.convert.sparse import Level, SparseIndexing, densify
from hifipose.errors import ModelIntegrityError, UnsupportedOperatorError

__all__ = [
    "CUSTOM_OPS",
    "SUPPORTED_OPS",
    "Graph",
    "OpOptions",
    "Operator",
    "TensorSpec",
    "read_tflite",
]

# BuiltinOperator codes (tensorflow/lite/schema/schema.fbs) of the ops the converters emit.
SUPPORTED_OPS: Final = MappingProxyType(
    {
        0: "ADD",
        2: "CONCATENATION",
        3: "CONV_2D",
        4: "DEPTHWISE_CONV_2D",
        5: "DEPTH_TO_SPACE",
        9: "FULLY_CONNECTED",
        14: "LOGISTIC",
        17: "MAX_POOL_2D",
        18: "MUL",
        19: "RELU",
        22: "RESHAPE",
        23: "RESIZE_BILINEAR",
        34: "PAD",
        40: "MEAN",
        45: "STRIDED_SLICE",
        54: "PRELU",
    }
)
# MediaPipe's custom ops (mediapipe/util/tflite/operations/), by their custom code: the op kind the
# converters emit. Only version 2 of each is handled (the one MediaPipe's models use).
CUSTOM_OPS: Final = MappingProxyType(
    {
        "Landmarks2TransformMatrix": "LANDMARKS_TO_TRANSFORM_MATRIX",
        "TransformTensorBilinear": "TRANSFORM_TENSOR_BILINEAR",
        "TransformLandmarks": "TRANSFORM_LANDMARKS",
    }
)
_CUSTOM: Final = 32
# Ops that only decode constant weights; they are evaluated here, at read time.
_DEQUANTIZE: Final = 6
_DENSIFY: Final = 124
# Names for the error message of an op outside SUPPORTED_OPS (codes the BlazePose and Holistic
# models never use; the list covers the common ones so the message names the op, not just a number).
_OTHER_OP_NAMES: Final = MappingProxyType(
    {
        1: "AVERAGE_POOL_2D",
        21: "RELU6",
        25: "SOFTMAX",
        28: "TANH",
        39: "TRANSPOSE",
        41: "SUB",
        67: "TRANSPOSE_CONV",
        97: "RESIZE_NEAREST_NEIGHBOR",
        117: "HARD_SWISH",
    }
)
_ACTIVATIONS: Final = ("NONE", "RELU", "RELU_N1_TO_1", "RELU6", "TANH")
_FLOAT32, _FLOAT16, _INT32 = 0, 1, 2
_NUMPY_TYPES: Final = MappingProxyType({_FLOAT32: "<f4", _FLOAT16: "<f2", _INT32: "<i4"})

Activation = Literal["NONE", "RELU", "RELU_N1_TO_1", "RELU6", "TANH"]


@dataclass(frozen=True, slots=True)
class TensorSpec:
    """A tensor's name and static shape (TFLite order: NHWC for 4-D activations)."""

    name: str
    shape: tuple[int, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class OpOptions:
    """The builtin options the supported ops carry; fields an op lacks keep their defaults.

    Attributes:
        pads: Explicit ``(top, bottom, left, right)`` padding of a convolution or pooling,
            already resolved from TFLite's ``SAME``/``VALID`` (SAME puts the odd pixel at the
            bottom/right).
        stride_hw: Stride (height, width).
        dilation_hw: Dilation (height, width).
        filter_hw: Pooling window (height, width).
        activation: The fused activation applied to the op's output.
        axis: CONCATENATION axis in the TFLite (NHWC) layout, made non-negative.
        align_corners: RESIZE_BILINEAR flag.
        half_pixel_centers: RESIZE_BILINEAR flag.
        block_size: DEPTH_TO_SPACE block size.
        keep_dims: MEAN keeps the reduced axes (as size 1).
        slice_masks: STRIDED_SLICE's begin, end, ellipsis, new-axis and shrink-axis masks.
        subset: LANDMARKS_TO_TRANSFORM_MATRIX: the landmark indices whose rotated bounding box
            is the crop (an odd last index upstream pairs with itself, so the set is the same).
        rotation_pair: LANDMARKS_TO_TRANSFORM_MATRIX: the (left, right) landmark indices whose
            direction sets the crop's rotation.
        target_rotation: LANDMARKS_TO_TRANSFORM_MATRIX: the angle (radians) that direction is
            turned to.
        output_hw: LANDMARKS_TO_TRANSFORM_MATRIX and TRANSFORM_TENSOR_BILINEAR: the crop's
            (height, width) in the sampled tensor's cells.
        scale_xy: LANDMARKS_TO_TRANSFORM_MATRIX: the crop's size as a multiple of the box.
    """

    pads: tuple[int, int, int, int] = (0, 0, 0, 0)
    stride_hw: tuple[int, int] = (1, 1)
    dilation_hw: tuple[int, int] = (1, 1)
    filter_hw: tuple[int, int] = (1, 1)
    activation: Activation = "NONE"
    axis: int = 0
    align_corners: bool = False
    half_pixel_centers: bool = False
    block_size: int = 1
    keep_dims: bool = False
    slice_masks: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)
    subset: tuple[int, ...] = ()
    rotation_pair: tuple[int, int] = (0, 0)
    target_rotation: float = 0.0
    output_hw: tuple[int, int] = (0, 0)
    scale_xy: tuple[float, float] = (1.0, 1.0)


@dataclass(frozen=True, slots=True)
class Operator:
    """One op: its TFLite name, tensor indices in and out, and options."""

    kind: str
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    options: OpOptions = field(default_factory=OpOptions)


@dataclass(frozen=True, slots=True)
class Graph:
    """The main subgraph of a .tflite model, with constants decoded.

    Conventions:
        Shapes and constants are in TFLite's layouts (NHWC activations, OHWI conv weights,
        1HWC depthwise weights); float constants are float32, shape/padding constants int32.

    Attributes:
        tensors: Every tensor, by index.
        constants: Constant tensors by index (weights, biases, paddings, shapes).
        operators: The ops in execution order (DENSIFY and DEQUANTIZE already folded).
        inputs: Indices of the graph inputs.
        outputs: Indices of the graph outputs.
        sha256: SHA-256 of the source file (hex).
    """

    tensors: tuple[TensorSpec, ...]
    constants: Mapping[int, NDArray[np.generic]]
    operators: tuple[Operator, ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    sha256: str

    def constant(self, index: int) -> NDArray[np.generic]:
        """Return constant tensor ``index``.

        Raises:
            UnsupportedOperatorError: The tensor is computed at run time, where the converters
                need a constant (e.g. a convolution with run-time weights).
        """
        if index not in self.constants:
            msg = f"tensor {self.tensors[index].name!r} must be a constant for the converter"
            raise UnsupportedOperatorError(msg)
        return self.constants[index]


def _same_pads(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """TFLite SAME padding of one axis: (before, after), the odd pixel after."""
    out = -(-size // stride)
    effective = (kernel - 1) * dilation + 1
    total = max((out - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


def _spatial_pads(
    padding: int, in_hw: tuple[int, int], kernel_hw: tuple[int, int], options: OpOptions
) -> tuple[int, int, int, int]:
    if padding == 1:  # VALID
        return (0, 0, 0, 0)
    top, bottom = _same_pads(in_hw[0], kernel_hw[0], options.stride_hw[0], options.dilation_hw[0])
    left, right = _same_pads(in_hw[1], kernel_hw[1], options.stride_hw[1], options.dilation_hw[1])
    return (top, bottom, left, right)


def _activation(code: int, op: str) -> Activation:
    if not 0 <= code < len(_ACTIVATIONS):
        msg = f"{op} has fused activation code {code}, which the converter does not handle"
        raise UnsupportedOperatorError(msg)
    name: Activation = _ACTIVATIONS[code]
    return name


class _Reader:
    """Walks one model's flatbuffer; see :func:`read_tflite`."""

    def __init__(self, data: bytes) -> None:
        self._model = root_table(data, identifier=b"TFL3")
        self._buffers = self._model.tables(4)
        subgraphs = self._model.tables(2)
        if len(subgraphs) != 1:
            msg = f"the converter handles single-subgraph models; this one has {len(subgraphs)}"
            raise UnsupportedOperatorError(msg)
        self._subgraph = subgraphs[0]
        self._tensor_tables = self._subgraph.tables(0)
        self.tensors = tuple(
            TensorSpec(t.string(3), tuple(int(d) for d in t.vector(0, "<i4")))
            for t in self._tensor_tables
        )
        self.constants: dict[int, NDArray[np.generic]] = {}
        for index, table in enumerate(self._tensor_tables):
            value = self._stored_value(table)
            if value is not None:
                self.constants[index] = value

    def _stored_value(self, tensor: Table) -> NDArray[np.generic] | None:
        """Decode a tensor's buffer (None for a run-time tensor); sparse ones stay flat."""
        buffer_index = tensor.integer(2, "I")
        if buffer_index >= len(self._buffers) or not self._buffers[buffer_index].has(0):
            return None
        raw = self._buffers[buffer_index].vector(0, "u1")
        if raw.size == 0:
            return None
        tensor_type = tensor.integer(1, "b")
        if tensor_type not in _NUMPY_TYPES:
            msg = f"tensor {tensor.string(3)!r} has TFLite type {tensor_type}, not float or int32"
            raise UnsupportedOperatorError(msg)
        values = raw.view(np.dtype(_NUMPY_TYPES[tensor_type]))
        if tensor.has(6):  # sparsity: the buffer holds the non-zero values only
            return values
        shape = tuple(int(d) for d in tensor.vector(0, "<i4"))
        if values.size != int(np.prod(shape)):
            msg = f"tensor {tensor.string(3)!r}: {values.size} values for shape {shape}"
            raise ModelIntegrityError(msg)
        return values.reshape(shape)

    def _sparse_indexing(self, tensor: Table, sparsity: Table) -> SparseIndexing:
        levels: list[Level] = []
        for meta in sparsity.tables(2):
            if meta.integer(0, "b") == 0:  # DENSE
                levels.append((meta.integer(1, "i"), None, None))
            else:  # SPARSE_CSR: segments and indices are unions of Int32/Uint16/Uint8 vectors
                vectors = []
                for type_id, value_id in ((2, 3), (4, 5)):
                    kind = meta.integer(type_id, "B")
                    table = meta.table(value_id)
                    if table is None or kind not in (1, 2, 3):
                        msg = f"tensor {tensor.string(3)!r} has malformed sparse index data"
                        raise ModelIntegrityError(msg)
                    dtype = {1: "<i4", 2: "<u2", 3: "u1"}[kind]
                    vectors.append(table.vector(0, dtype).astype(np.int64))
                levels.append((0, vectors[0], vectors[1]))
        return SparseIndexing(
            traversal_order=tuple(int(i) for i in sparsity.vector(0, "<i4")),
            block_map=tuple(int(i) for i in sparsity.vector(1, "<i4")),
            levels=tuple(levels),
        )

    def _fold(self, kind: str, inputs: tuple[int, ...], outputs: tuple[int, ...]) -> None:
        """Evaluate a DENSIFY or DEQUANTIZE of a constant into its output tensor."""
        source, target = inputs[0], outputs[0]
        if source not in self.constants:
            msg = f"{kind} of the run-time tensor {self.tensors[source].name!r}"
            raise UnsupportedOperatorError(msg)
        value = self.constants[source]
        if kind == "DENSIFY":
            table = self._tensor_tables[source]
            sparsity = table.table(6)
            if sparsity is None:
                msg = f"DENSIFY input {self.tensors[source].name!r} has no sparsity parameters"
                raise ModelIntegrityError(msg)
            indexing = self._sparse_indexing(table, sparsity)
            value = densify(value, self.tensors[source].shape, indexing)
        elif value.dtype != np.float16:
            msg = (
                f"DEQUANTIZE of {value.dtype} tensor {self.tensors[source].name!r}: only "
                "float16 weights are handled"
            )
            raise UnsupportedOperatorError(msg)
        else:
            value = value.astype(np.float32)
        self.constants[target] = value

    def _options(  # noqa: PLR0911, PLR0912 - one branch per op kind
        self, kind: str, op: Table, inputs: tuple[int, ...]
    ) -> OpOptions:
        table = op.table(4)
        if kind in ("CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D"):
            if table is None:
                msg = f"{kind} without options"
                raise ModelIntegrityError(msg)
            in_shape = self.tensors[inputs[0]].shape
            if kind == "MAX_POOL_2D":
                options = OpOptions(
                    stride_hw=(table.integer(2), table.integer(1)),
                    filter_hw=(table.integer(4), table.integer(3)),
                    activation=_activation(table.integer(5, "b"), kind),
                )
                kernel_hw = options.filter_hw
            else:
                depthwise = kind == "DEPTHWISE_CONV_2D"
                first_dilation = 5 if depthwise else 4
                options = OpOptions(
                    stride_hw=(table.integer(2), table.integer(1)),
                    dilation_hw=(
                        table.integer(first_dilation + 1, default=1),
                        table.integer(first_dilation, default=1),
                    ),
                    activation=_activation(table.integer(4 if depthwise else 3, "b"), kind),
                )
                weight_shape = self.tensors[inputs[1]].shape
                kernel_hw = (weight_shape[1], weight_shape[2])
            pads = _spatial_pads(
                table.integer(0, "b"), (in_shape[1], in_shape[2]), kernel_hw, options
            )
            return OpOptions(
                pads=pads,
                stride_hw=options.stride_hw,
                dilation_hw=options.dilation_hw,
                filter_hw=options.filter_hw,
                activation=options.activation,
            )
        if kind in ("ADD", "MUL"):
            return OpOptions(activation=_activation(table.integer(0, "b") if table else 0, kind))
        if kind == "CONCATENATION":
            if table is None:
                msg = "CONCATENATION without options"
                raise ModelIntegrityError(msg)
            rank = len(self.tensors[inputs[0]].shape)
            return OpOptions(
                axis=table.integer(0) % rank, activation=_activation(table.integer(1, "b"), kind)
            )
        if kind == "RESIZE_BILINEAR":
            return OpOptions(
                align_corners=bool(table.integer(2, "B")) if table else False,
                half_pixel_centers=bool(table.integer(3, "B")) if table else False,
            )
        if kind == "DEPTH_TO_SPACE":
            return OpOptions(block_size=table.integer(0) if table else 0)
        if kind == "FULLY_CONNECTED":
            if table is not None and (table.integer(1, "b") != 0 or table.integer(2, "B")):
                msg = "FULLY_CONNECTED with a non-default weights format or keep_num_dims"
                raise UnsupportedOperatorError(msg)
            return OpOptions(activation=_activation(table.integer(0, "b") if table else 0, kind))
        if kind == "MEAN":
            return OpOptions(keep_dims=bool(table.integer(0, "B")) if table else False)
        if kind == "STRIDED_SLICE":
            masks = tuple(table.integer(i) if table else 0 for i in range(5))
            return OpOptions(slice_masks=(masks[0], masks[1], masks[2], masks[3], masks[4]))
        return OpOptions()  # RESHAPE, PAD, LOGISTIC, RELU, PRELU: no options that matter

    def _custom(self, op: Table, name: str, version: int, outputs: tuple[int, ...]) -> Operator:
        """A MediaPipe custom op of :data:`CUSTOM_OPS`, its FlexBuffers options decoded."""
        if name not in CUSTOM_OPS or version != 2:
            msg = (
                f"the tflite converter does not handle the custom op {name!r} (version "
                f"{version}); it handles version 2 of {', '.join(sorted(CUSTOM_OPS))}"
            )
            raise UnsupportedOperatorError(msg)
        kind = CUSTOM_OPS[name]
        inputs = tuple(int(i) for i in op.vector(1, "<i4"))
        if kind == "TRANSFORM_LANDMARKS":  # version 2 has no options: all comes from the shapes
            return Operator(kind, inputs, outputs)
        fields = read_flex_map(bytes(op.vector(5, "u1"))) if op.has(5) else {}

        def number(key: str) -> float:
            value: FlexValue | None = fields.get(key)
            if not isinstance(value, int | float):
                msg = f"{name} options lack the number {key!r}"
                raise ModelIntegrityError(msg)
            return float(value)

        output_hw = (int(number("output_height")), int(number("output_width")))
        if kind == "TRANSFORM_TENSOR_BILINEAR":
            return Operator(kind, inputs, outputs, OpOptions(output_hw=output_hw))
        subset = fields.get("subset_idxs", ())
        if not isinstance(subset, tuple) or not subset:
            msg = f"{name} options lack the subset_idxs vector"
            raise ModelIntegrityError(msg)
        options = OpOptions(
            subset=tuple(int(i) for i in subset),
            rotation_pair=(int(number("left_rotation_idx")), int(number("right_rotation_idx"))),
            target_rotation=number("target_rotation_radians"),
            output_hw=output_hw,
            scale_xy=(number("scale_x"), number("scale_y")),
        )
        return Operator(kind, inputs, outputs, options)

    def operators(self) -> tuple[Operator, ...]:
        op_codes = self._model.tables(1)
        codes = [max(code.integer(0, "b"), code.integer(3, "i")) for code in op_codes]
        result = []
        for op in self._subgraph.tables(3):
            code = codes[op.integer(0, "I")]
            inputs = tuple(int(i) for i in op.vector(1, "<i4"))
            outputs = tuple(int(i) for i in op.vector(2, "<i4"))
            if code == _CUSTOM:
                code_table = op_codes[op.integer(0, "I")]
                name, version = code_table.string(1), code_table.integer(2, "i", default=1)
                result.append(self._custom(op, name, version, outputs))
                continue
            if code in (_DENSIFY, _DEQUANTIZE):
                self._fold("DENSIFY" if code == _DENSIFY else "DEQUANTIZE", inputs, outputs)
                continue
            if code not in SUPPORTED_OPS:
                name = _OTHER_OP_NAMES.get(code, f"builtin operator code {code}")
                msg = (
                    f"the tflite converter does not handle the {name} op; it handles "
                    f"{', '.join(sorted(SUPPORTED_OPS.values()))} (+ DENSIFY and float16 "
                    "DEQUANTIZE of weights, and MediaPipe's custom ops "
                    f"{', '.join(sorted(CUSTOM_OPS))})"
                )
                raise UnsupportedOperatorError(msg)
            kind = SUPPORTED_OPS[code]
            result.append(Operator(kind, inputs, outputs, self._options(kind, op, inputs)))
        return tuple(result)

    def io(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        return (
            tuple(int(i) for i in self._subgraph.vector(1, "<i4")),
            tuple(int(i) for i in self._subgraph.vector(2, "<i4")),
        )


def read_tflite(source: Path | bytes) -> Graph:
    """Read a .tflite model into a :class:`Graph`.

    Args:
        source: The model file, or its bytes.

    Returns:
        The main subgraph, its weights decoded to float32 (sparse and float16 ones included).

    Raises:
        UnsupportedOperatorError: The model uses an op outside :data:`SUPPORTED_OPS` and
            :data:`CUSTOM_OPS` (the message names it), or a form of a supported op the
            converter does not handle.
        ModelIntegrityError: The file is not a well-formed .tflite flatbuffer.
    """
    data = source.read_bytes() if isinstance(source, Path) else bytes(source)
    reader = _Reader(data)
    operators = reader.operators()
    inputs, outputs = reader.io()
    constants = {
        index: value.astype(np.float32) if value.dtype == np.float16 else value
        for index, value in reader.constants.items()
    }
    return Graph(
        tensors=reader.tensors,
        constants=MappingProxyType(constants),
        operators=operators,
        inputs=inputs,
        outputs=outputs,
        sha256=hashlib.sha256(data).hexdigest(),
    )
