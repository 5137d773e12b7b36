"""The LiteRT runtime (``ai-edge-litert``, XNNPACK on CPU): the default and the reference."""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from hifipose.convert import int8_model_bytes
from hifipose.convert.prune import prune_tflite
from hifipose.errors import (
    ConfigError,
    DetectorClosedError,
    ModelIntegrityError,
    RuntimeUnavailableError,
)
from hifipose.runtimes.base import (
    Fill,
    Read,
    Session,
    SessionOptions,
    T,
    check_output_names,
    run_item_by_item,
    stack_items,
)

__all__ = ["open_litert"]

logger = logging.getLogger(__name__)

DEFAULT_NUM_THREADS = 2


class _LiteRTSession:
    """A LiteRT interpreter with tensors addressed by name.

    A batch of N runs as N invocations of the batch-1 interpreter, in one ``run`` call.
    Resizing the interpreter to the batch (``resize_tensor_input``) works and gives the
    same numbers, but on XNNPACK it is no faster than the loop (full model, 3 crops:
    101 ms against 3 × 32 ms) and the first invocation after each change of batch size
    costs about 20 ms more while XNNPACK plans again, which a changing number of people
    would pay again and again.
    """

    def __init__(
        self,
        model_path: Path,
        num_threads: int,
        outputs: tuple[str, ...] | None = None,
        content: bytes | None = None,
    ) -> None:
        try:
            interpreter_module = importlib.import_module("ai_edge_litert.interpreter")
        except ImportError as exc:
            msg = "the litert runtime needs ai-edge-litert: pip install ai-edge-litert"
            raise RuntimeUnavailableError(msg) from exc
        source: dict[str, object] = {"model_path": str(model_path)}
        if content is not None:
            source = {"model_content": content}
        if outputs is not None:  # run only what the outputs need
            data = model_path.read_bytes() if content is None else content
            source = {"model_content": prune_tflite(data, outputs)}
        try:
            self._interpreter = interpreter_module.Interpreter(num_threads=num_threads, **source)
            self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            msg = f"LiteRT cannot load {model_path}: {exc}"
            raise ModelIntegrityError(msg) from exc
        input_details = self._interpreter.get_input_details()
        output_details = self._interpreter.get_output_details()
        self._input_index = {d["name"]: d["index"] for d in input_details}
        self._input_shape = {d["name"]: tuple(d["shape"]) for d in input_details}
        self._output_index = {d["name"]: d["index"] for d in output_details}
        self.input_names = tuple(self._input_index)
        self.output_names = tuple(self._output_index)
        self._closed = False

    def run(
        self,
        inputs: Mapping[str, NDArray[np.float32]],
        output_names: Sequence[str] | None = None,
    ) -> dict[str, NDArray[np.float32]]:
        if self._closed:
            msg = "this LiteRT session is closed"
            raise DetectorClosedError(msg)
        for name, value in inputs.items():
            if name not in self._input_index:
                msg = f"unknown input {name!r}; the model takes {self.input_names}"
                raise ConfigError(msg)
            if value.shape[1:] != self._input_shape[name][1:] or value.shape[0] < 1:
                expected = ", ".join(map(str, self._input_shape[name][1:]))
                msg = f"input {name!r} must have shape (batch, {expected}), got {value.shape}"
                raise ConfigError(msg)
        names = check_output_names(output_names, self.output_names)
        batch = {value.shape[0] for value in inputs.values()}
        if len(batch) > 1:
            msg = f"all inputs must have the same batch size, got {sorted(batch)}"
            raise ConfigError(msg)
        return run_item_by_item(inputs, names, self._invoke)

    def run_filled(
        self, name: str, count: int, fill: Fill, output_names: Sequence[str] | None = None
    ) -> dict[str, NDArray[np.float32]]:
        """Run ``count`` items of input ``name``, each written by ``fill`` into LiteRT's tensor.

        ``fill`` gets a view of the interpreter's own input buffer (no ``set_tensor`` copy).
        """
        names = check_output_names(output_names, self.output_names)
        items = self.run_each(name, count, fill, _copies, names)
        return stack_items(items, names)

    def run_each(
        self,
        name: str,
        count: int,
        fill: Fill,
        read: Read[T],
        output_names: Sequence[str] | None = None,
    ) -> list[T]:
        """Run ``count`` items of input ``name``: ``fill`` writes each, ``read`` reads it.

        Both get views of the interpreter's own buffers (no ``set_tensor`` or
        ``get_tensor`` copy); the views are dropped before the next ``invoke``, which LiteRT
        refuses while one is alive.
        """
        if self._closed:
            msg = "this LiteRT session is closed"
            raise DetectorClosedError(msg)
        if name not in self._input_index or len(self._input_index) != 1:
            msg = f"run_filled needs the model's one input; it takes {self.input_names}"
            raise ConfigError(msg)
        names = check_output_names(output_names, self.output_names)
        interpreter = self._interpreter
        view = interpreter.tensor(self._input_index[name])
        outputs = [(n, interpreter.tensor(self._output_index[n])) for n in names]
        results = []
        for i in range(count):
            fill(i, view()[0])  # a fresh view each time, gone when fill returns
            interpreter.invoke()
            results.append(read(i, {n: output() for n, output in outputs}))
        return results

    def _invoke(
        self, inputs: Mapping[str, NDArray[np.float32]], names: Sequence[str]
    ) -> dict[str, NDArray[np.float32]]:
        for name, value in inputs.items():
            self._interpreter.set_tensor(self._input_index[name], value)
        self._interpreter.invoke()
        return {name: self._interpreter.get_tensor(self._output_index[name]) for name in names}

    def close(self) -> None:
        self._closed = True
        self.__dict__.pop("_interpreter", None)


def _copies(_: int, outputs: Mapping[str, NDArray[np.float32]]) -> dict[str, NDArray[np.float32]]:
    """A :data:`~hifipose.runtimes.base.Read` that keeps a copy of every output."""
    return {name: value.copy() for name, value in outputs.items()}


def open_litert(model_path: Path, options: SessionOptions) -> Session:
    """Open a .tflite model on LiteRT's CPU interpreter (XNNPACK delegate).

    Args:
        model_path: A verified .tflite file.
        options: ``num_threads`` (default 2); ``device`` must be ``"cpu"`` or ``"auto"``;
            ``outputs``: the model is pruned to them (see
            :func:`~hifipose.convert.prune_tflite`) before LiteRT loads it; ``precision``:
            ``"int8"`` loads the model's int8 quantisation
            (:func:`~hifipose.convert.int8_model_bytes`, cached next to the model).

    Returns:
        The session.

    Raises:
        ConfigError: ``device="cuda"``: LiteRT's Python package runs on the CPU only; or
            ``precision="int8"`` for a model that has no int8 calibration.
        ModelIntegrityError: LiteRT cannot parse the file.
        ConfigError: An entry of ``options.outputs`` is not an output of the model.
    """
    if options.device == "cuda":
        msg = "the litert runtime runs on the CPU only; use device='cpu' or device='auto'"
        raise ConfigError(msg)
    started = time.perf_counter()
    num_threads = options.num_threads or DEFAULT_NUM_THREADS
    content = int8_model_bytes(model_path) if options.precision == "int8" else None
    session = _LiteRTSession(model_path, num_threads, options.outputs, content)
    logger.debug(
        "opened %s on litert (%d threads) in %.1f ms",
        model_path.name,
        num_threads,
        1e3 * (time.perf_counter() - started),
    )
    return session
