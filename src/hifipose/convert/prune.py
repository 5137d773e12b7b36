"""Pruning: keep only the operators that the wanted outputs depend on.

A detector without segmentation never reads the landmark model's mask, yet the whole mask
decoder would run on every frame. Pruning drops it before the model is loaded: the kept
outputs are computed by the very same operators on the very same weights, so their values
are unchanged (bit for bit on LiteRT).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from hifipose._optional import require
from hifipose.errors import ConfigError, ModelIntegrityError

__all__ = ["live_nodes", "prune_onnx", "prune_tflite"]


def live_nodes(
    nodes: Sequence[tuple[Iterable[object], Iterable[object]]], wanted: Iterable[object]
) -> list[int]:
    """Indices of the nodes that the ``wanted`` values depend on, in their original order.

    Args:
        nodes: ``(inputs, outputs)`` of each node, topologically sorted (producers first).
        wanted: The values (names or tensor indices) whose producers must be kept.

    Returns:
        The ascending indices of the nodes to keep.
    """
    needed, kept = set(wanted), []
    for index in range(len(nodes) - 1, -1, -1):
        inputs, outputs = nodes[index]
        if needed.intersection(outputs):
            kept.append(index)
            needed.update(inputs)
    return kept[::-1]


def _check_outputs(outputs: Sequence[str], available: Sequence[str]) -> None:
    unknown = sorted(set(outputs) - set(available))
    if unknown or not outputs:
        msg = f"unknown outputs {unknown or '(none given)'}; the graph has {list(available)}"
        raise ConfigError(msg)


def prune_onnx(blob: bytes, outputs: Sequence[str]) -> bytes:
    """Prune a serialized ONNX model (no subgraphs) to the named graph outputs.

    Args:
        blob: A serialized ``onnx.ModelProto``, e.g. from
            :func:`~hifipose.convert.onnx_model_bytes`.
        outputs: Names of the graph outputs to keep.

    Returns:
        The serialized, pruned model.

    Raises:
        RuntimeUnavailableError: The ``onnx`` package is not installed.
        ModelIntegrityError: ``blob`` is not a readable ONNX model.
        ConfigError: An output name is not an output of the graph.
    """
    onnx = require("onnx", extra="onnx")
    from google.protobuf.message import DecodeError  # onnx's own dependency

    try:
        model = onnx.load_from_string(blob)
    except DecodeError as exc:
        msg = f"not a readable ONNX model: {exc}"
        raise ModelIntegrityError(msg) from exc
    graph = model.graph
    _check_outputs(outputs, [o.name for o in graph.output])
    nodes = list(graph.node)
    kept = [nodes[i] for i in live_nodes([(n.input, n.output) for n in nodes], outputs)]
    needed = {name for node in kept for name in node.input}
    kept_outputs = [o for o in graph.output if o.name in outputs]
    kept_initializers = [i for i in graph.initializer if i.name in needed]
    del graph.node[:], graph.output[:], graph.initializer[:]
    graph.node.extend(kept)
    graph.output.extend(kept_outputs)
    graph.initializer.extend(kept_initializers)
    pruned: bytes = model.SerializeToString()
    return pruned


def prune_tflite(data: bytes, outputs: Sequence[str]) -> bytes:
    """Prune a .tflite model's main subgraph to the named outputs.

    Uses the flatbuffer schema module that ships with ai-edge-litert (object API: unpack,
    drop operators and outputs, pack). Tensors and buffers are kept as they are: an unused
    tensor costs the interpreter nothing at run time.

    Args:
        data: The .tflite file's bytes (verified by the caller).
        outputs: Names of the subgraph outputs to keep.

    Returns:
        The pruned model's bytes, loadable with ``Interpreter(model_content=...)``.

    Raises:
        ModelIntegrityError: ``data`` is not a readable .tflite flatbuffer.
        ConfigError: An output name is not an output of the model.
    """
    import flatbuffers  # ai-edge-litert's own dependency
    from ai_edge_litert import schema_py_generated as schema

    try:
        model = schema.ModelT.InitFromPackedBuf(data, 0)
        subgraph = model.subgraphs[0]
    except (IndexError, TypeError, ValueError, AttributeError) as exc:
        msg = f"not a readable .tflite model: {exc}"
        raise ModelIntegrityError(msg) from exc
    names = [
        t.name.decode() if isinstance(t.name, bytes) else str(t.name) for t in subgraph.tensors
    ]
    by_name = {names[i]: i for i in subgraph.outputs}
    _check_outputs(outputs, list(by_name))
    wanted = [by_name[name] for name in outputs]
    operators = subgraph.operators
    kept = live_nodes([(op.inputs, op.outputs) for op in operators], wanted)
    subgraph.operators = [operators[i] for i in kept]
    subgraph.outputs = [i for i in subgraph.outputs if names[i] in outputs]
    builder = flatbuffers.Builder(len(data) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())
