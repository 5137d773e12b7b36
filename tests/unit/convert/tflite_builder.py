"""Build tiny .tflite flatbuffers by hand (flatbuffers' Builder), for converter tests.

Field ids follow tensorflow/lite/schema/schema.fbs; only what the tests need is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import flatbuffers
import numpy as np

TENSOR_TYPES = {"float32": 0, "float16": 1, "int32": 2}
NUMPY_TYPES = {"float32": "<f4", "float16": "<f2", "int32": "<i4"}

# BuiltinOperator codes and BuiltinOptions union types.
ADD, CONCATENATION, CONV_2D, DEPTHWISE_CONV_2D, DEPTH_TO_SPACE = 0, 2, 3, 4, 5
DEQUANTIZE, LOGISTIC, MAX_POOL_2D, MUL, RESHAPE, RESIZE_BILINEAR, PAD, DENSIFY = (
    6,
    14,
    17,
    18,
    22,
    23,
    34,
    124,
)
OPTIONS_CONV, OPTIONS_DEPTHWISE, OPTIONS_POOL, OPTIONS_CONCAT, OPTIONS_ADD = 1, 2, 5, 10, 11
OPTIONS_RESIZE, OPTIONS_PAD, OPTIONS_MUL, OPTIONS_DEPTH_TO_SPACE = 15, 22, 21, 94


@dataclass
class Sparse:
    """Sparsity parameters; a level is an int (DENSE size) or (segments, indices) (CSR)."""

    traversal_order: list[int]
    block_map: list[int]
    levels: list[int | tuple[list[int], list[int]]]


@dataclass
class Tensor:
    name: str
    shape: tuple[int, ...]
    dtype: str = "float32"
    data: np.ndarray | None = None  # stored values (for a sparse tensor: the non-zeros, flat)
    sparse: Sparse | None = None


@dataclass
class Op:
    code: int
    inputs: list[int]
    outputs: list[int]
    options_type: int = 0
    # (field id, struct code "b"/"B"/"i", value) of the options table
    options: list[tuple[int, str, int]] = field(default_factory=list)


def _ints(builder: flatbuffers.Builder, values: list[int]) -> int:
    return builder.CreateNumpyVector(np.asarray(values, dtype="<i4"))


def _offsets(builder: flatbuffers.Builder, offsets: list[int]) -> int:
    builder.StartVector(4, len(offsets), 4)
    for offset in reversed(offsets):
        builder.PrependUOffsetTRelative(offset)
    return builder.EndVector()


def _bytes(builder: flatbuffers.Builder, raw: bytes) -> int:
    builder.StartVector(1, len(raw), 16)
    builder.head -= len(raw)
    builder.Bytes[builder.head : builder.head + len(raw)] = raw
    return builder.EndVector()


def _table(builder: flatbuffers.Builder, fields: list[tuple[int, str, int]]) -> int:
    """A table of scalar ("b", "B", "i") and offset ("o") fields."""
    builder.StartObject(max((f[0] for f in fields), default=-1) + 1)
    for field_id, kind, value in fields:
        if kind == "o":
            builder.PrependUOffsetTRelativeSlot(field_id, value, 0)
        elif kind == "i":
            builder.PrependInt32Slot(field_id, value, -(2**31))  # never the default: always written
        elif kind == "b":
            builder.PrependInt8Slot(field_id, value, -128)
        else:
            builder.PrependUint8Slot(field_id, value, 255)
    return builder.EndObject()


def _sparsity(builder: flatbuffers.Builder, sparse: Sparse) -> int:
    metas = []
    for level in sparse.levels:
        if isinstance(level, int):
            metas.append(_table(builder, [(0, "b", 0), (1, "i", level)]))
        else:
            segments = _table(builder, [(0, "o", _ints(builder, level[0]))])
            indices = _table(builder, [(0, "o", _ints(builder, level[1]))])
            metas.append(
                _table(
                    builder,
                    [(0, "b", 1), (2, "B", 1), (3, "o", segments), (4, "B", 1), (5, "o", indices)],
                )
            )
    fields = [(0, "o", _ints(builder, sparse.traversal_order))]
    if sparse.block_map:
        fields.append((1, "o", _ints(builder, sparse.block_map)))
    fields.append((2, "o", _offsets(builder, metas)))
    return _table(builder, fields)


def build_tflite(
    tensors: list[Tensor], ops: list[Op], inputs: list[int], outputs: list[int]
) -> bytes:
    """Serialize a one-subgraph model."""
    builder = flatbuffers.Builder(1024)
    buffers = [_table(builder, [])]  # buffer 0: the empty sentinel
    tensor_tables = []
    for tensor in tensors:
        buffer_index = 0
        if tensor.data is not None:
            raw = np.asarray(tensor.data, dtype=NUMPY_TYPES[tensor.dtype]).tobytes()
            buffers.append(_table(builder, [(0, "o", _bytes(builder, raw))]))
            buffer_index = len(buffers) - 1
        fields = [
            (0, "o", _ints(builder, list(tensor.shape))),
            (1, "b", TENSOR_TYPES[tensor.dtype]),
            (2, "i", buffer_index),
            (3, "o", builder.CreateString(tensor.name)),
        ]
        if tensor.sparse is not None:
            fields.append((6, "o", _sparsity(builder, tensor.sparse)))
        tensor_tables.append(_table(builder, fields))
    codes = sorted({op.code for op in ops})
    code_tables = [
        _table(builder, [(0, "b", min(c, 127)), (2, "i", 1), (3, "i", c)]) for c in codes
    ]
    op_tables = []
    for op in ops:
        fields = [
            (0, "i", codes.index(op.code)),
            (1, "o", _ints(builder, op.inputs)),
            (2, "o", _ints(builder, op.outputs)),
        ]
        if op.options_type:
            options = _table(builder, op.options)
            fields += [(3, "B", op.options_type), (4, "o", options)]
        op_tables.append(_table(builder, fields))
    subgraph = _table(
        builder,
        [
            (0, "o", _offsets(builder, tensor_tables)),
            (1, "o", _ints(builder, inputs)),
            (2, "o", _ints(builder, outputs)),
            (3, "o", _offsets(builder, op_tables)),
        ],
    )
    model = _table(
        builder,
        [
            (0, "i", 3),
            (1, "o", _offsets(builder, code_tables)),
            (2, "o", _offsets(builder, [subgraph])),
            (4, "o", _offsets(builder, buffers)),
        ],
    )
    builder.Finish(model, file_identifier=b"TFL3")
    return bytes(builder.Output())
