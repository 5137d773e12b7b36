"""Pruning a graph to the outputs in use: the dependency walk, and a two-branch .tflite."""

from __future__ import annotations

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

from hifipose.convert import prune_tflite, read_tflite
from hifipose.convert.prune import live_nodes
from hifipose.errors import ConfigError, ModelIntegrityError
from tests.unit.convert import tflite_builder as tb


def test_values_live_nodes_follow_dependencies_only() -> None:
    # a → n0 → b → n1 → c (wanted); a → n2 → d (not wanted); b → n3 → e (not wanted)
    nodes = [(["a"], ["b"]), (["b"], ["c"]), (["a"], ["d"]), (["b"], ["e"])]
    assert live_nodes(nodes, ["c"]) == [0, 1]
    assert live_nodes(nodes, ["d", "e"]) == [0, 2, 3]
    assert live_nodes(nodes, ["a"]) == []


def _two_branch_model() -> bytes:
    """x + x → y (branch 1) and sigmoid(x) → z (branch 2)."""
    tensors = [tb.Tensor("x", (1, 4)), tb.Tensor("y", (1, 4)), tb.Tensor("z", (1, 4))]
    ops = [
        tb.Op(tb.ADD, [0, 0], [1], tb.OPTIONS_ADD, []),
        tb.Op(tb.LOGISTIC, [0], [2]),
    ]
    return tb.build_tflite(tensors, ops, [0], [1, 2])


def _run(model: bytes, x: np.ndarray) -> dict[str, np.ndarray]:
    interpreter = Interpreter(model_content=model)
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
    interpreter.invoke()
    return {d["name"]: interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()}


def test_values_pruned_tflite_keeps_the_wanted_output_bit_for_bit() -> None:
    model = _two_branch_model()
    x = np.array([[-2.0, -0.5, 0.5, 2.0]], np.float32)
    pruned = prune_tflite(model, ["y"])
    assert [op.kind for op in read_tflite(pruned).operators] == ["ADD"]
    out = _run(pruned, x)
    assert list(out) == ["y"]
    np.testing.assert_array_equal(out["y"], _run(model, x)["y"])
    assert [op.kind for op in read_tflite(prune_tflite(model, ["z"])).operators] == ["LOGISTIC"]


@pytest.mark.parametrize("outputs", [["nope"], []])
def test_exception_unknown_or_no_outputs(outputs: list[str]) -> None:
    with pytest.raises(ConfigError, match="unknown outputs"):
        prune_tflite(_two_branch_model(), outputs)


def test_exception_garbage_is_not_a_model() -> None:
    with pytest.raises(ModelIntegrityError):
        prune_tflite(b"\x00" * 64, ["y"])
