"""The Session protocol, its options, and ``open_session`` (runtime name → lazy loader)."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Final, Protocol, TypeVar, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from hifipose.errors import ConfigError

__all__ = [
    "PRECISIONS",
    "Fill",
    "FillableSession",
    "Read",
    "Session",
    "SessionOptions",
    "available_runtimes",
    "check_batch_inputs",
    "check_output_names",
    "open_session",
    "run_each",
    "run_filled",
]

PRECISIONS: Final = ("float32", "float16", "bf16", "int8")


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionOptions:
    """How to run a model.

    Attributes:
        num_threads: Inference threads; None lets the runtime choose (LiteRT: 2).
        device: ``"cpu"``, ``"cuda"``, ``"auto"``, or ``"gpu"``/``"npu"`` (openvino only).
        precision: ``"float32"``, ``"float16"`` (opt-in; the torch runtime on CUDA only),
            ``"bf16"`` (opt-in; openvino on a CPU with AVX512_BF16 or AMX), or ``"int8"``
            (opt-in; litert and openvino, BlazePose landmark models only: a quantised model,
            faster and not MediaPipe's numbers; see :func:`hifipose.convert.int8_model_bytes`
            and :func:`hifipose.convert.openvino_int8.openvino_int8_model`).
        outputs: The outputs the caller will ask for, None for all. A runtime may then skip
            the graph branches only the other outputs need (litert and onnxruntime prune
            them); asking a pruned session for another output is a :class:`ConfigError`.
    """

    num_threads: int | None = None
    device: str = "cpu"
    precision: str = "float32"
    outputs: tuple[str, ...] | None = None


@runtime_checkable
class Session(Protocol):
    """One loaded model: numpy in, numpy out, batch dimension first, tensors by name."""

    input_names: tuple[str, ...]
    output_names: tuple[str, ...]

    def run(
        self,
        inputs: Mapping[str, NDArray[np.float32]],
        output_names: Sequence[str] | None = None,
    ) -> dict[str, NDArray[np.float32]]:
        """Run the model; return the named outputs (all when ``output_names`` is None)."""
        ...

    def close(self) -> None:
        """Release the model; the session may not be used afterwards."""
        ...


#: ``fill(i, item)`` writes batch item ``i`` into ``item``, a C-contiguous float32 array of
#: the input's shape without the batch dimension (e.g. (256, 256, 3)). It must not keep
#: ``item`` (nor a view of it) after it returns: the runtime reuses that memory.
Fill = Callable[[int, NDArray[np.float32]], None]

T = TypeVar("T")

#: ``read(i, outputs)`` takes what it needs of batch item ``i``'s outputs (by name, each with
#: a batch dimension of 1) and returns it. The arrays may be the runtime's own output
#: buffers: ``read`` must not keep them (nor views of them) after it returns, nor write
#: to them; the next item's run overwrites them.
Read = Callable[[int, Mapping[str, NDArray[np.float32]]], T]


@runtime_checkable
class FillableSession(Protocol):
    """A session whose caller writes each batch item straight into the runtime's input.

    Without it a frame's crop is written into a buffer that the runtime then copies into
    its own input tensor (0.8 MB for the landmark model, each frame); with it the crop is
    written there once. The numbers are the same: the same values reach the model.
    """

    def run_filled(
        self, name: str, count: int, fill: Fill, output_names: Sequence[str] | None = None
    ) -> dict[str, NDArray[np.float32]]:
        """Run ``count`` batch items of the one input ``name``, each written by ``fill``.

        Returns the named outputs as :meth:`Session.run` does (batch dimension first,
        ``count`` items, arrays the caller owns).
        """
        ...

    def run_each(
        self,
        name: str,
        count: int,
        fill: Fill,
        read: Read[T],
        output_names: Sequence[str] | None = None,
    ) -> list[T]:
        """Run ``count`` items of the one input ``name``, each written by ``fill``, then read.

        ``read`` sees each item's outputs right after its run, in the runtime's own buffers
        where it can (no copy of outputs the caller reads only a part of, such as the
        landmark model's 0.6 MB heatmap). Returns what ``read`` returned, item by item.
        """
        ...


def run_filled(
    session: Session,
    name: str,
    count: int,
    fill: Fill,
    *,
    output_names: Sequence[str] | None,
    buffer: NDArray[np.float32],
) -> dict[str, NDArray[np.float32]]:
    """Run a one-input model on ``count`` items that ``fill`` writes, without extra copies.

    A :class:`FillableSession` has ``fill`` write into its own input tensor; any other
    session gets ``buffer`` filled (``count`` items, the caller's reused array) and run.

    Args:
        session: The model's session.
        name: Its one input's name.
        count: The batch size (at least 1).
        fill: Writes item i (see :data:`Fill`).
        output_names: The outputs wanted (None: all).
        buffer: (≥ count, *item shape) float32, used only by a session that is not a
            :class:`FillableSession`.

    Returns:
        The named outputs, batch dimension first.
    """
    # a method lookup, not isinstance: a runtime-checkable Protocol's check costs ~10 µs
    direct = getattr(session, "run_filled", None)
    if direct is not None:
        filled: dict[str, NDArray[np.float32]] = direct(name, count, fill, output_names)
        return filled
    for i in range(count):
        fill(i, buffer[i])
    return session.run({name: buffer[:count]}, output_names)


def run_each(
    session: Session,
    name: str,
    count: int,
    fill: Fill,
    read: Read[T],
    *,
    output_names: Sequence[str] | None,
    buffer: NDArray[np.float32],
) -> list[T]:
    """Run a one-input model on ``count`` items that ``fill`` writes; ``read`` each item's outputs.

    A :class:`FillableSession` hands ``read`` its own output buffers (see :data:`Read`);
    any other session runs as :func:`run_filled` and ``read`` gets slices of its outputs.

    Args:
        session: The model's session.
        name: Its one input's name.
        count: The batch size (at least 1).
        fill: Writes item i (see :data:`Fill`).
        read: Takes what it needs of item i's outputs (see :data:`Read`).
        output_names: The outputs wanted (None: all).
        buffer: As :func:`run_filled`'s.

    Returns:
        ``read``'s results, one per item, in order.
    """
    direct = getattr(session, "run_each", None)
    if direct is not None:
        each: list[T] = direct(name, count, fill, read, output_names)
        return each
    outputs = run_filled(session, name, count, fill, output_names=output_names, buffer=buffer)
    return [read(i, {n: value[i : i + 1] for n, value in outputs.items()}) for i in range(count)]


def stack_items(
    items: list[dict[str, NDArray[np.float32]]], names: Sequence[str]
) -> dict[str, NDArray[np.float32]]:
    """Batch-1 outputs, item by item, as one batch per name (the one item's own arrays for 1)."""
    if len(items) == 1:
        return items[0]
    return {n: np.concatenate([item[n] for item in items]) for n in names}


# name → ("module:function", the module that must be importable for it)
_LOADERS: Final = MappingProxyType(
    {
        "litert": ("hifipose.runtimes.litert:open_litert", "ai_edge_litert"),
        "onnxruntime": ("hifipose.runtimes.ort:open_onnxruntime", "onnxruntime"),
        "torch": ("hifipose.runtimes.torch_runtime:open_torch", "torch"),
        "openvino": ("hifipose.runtimes.openvino_runtime:open_openvino", "openvino"),
    }
)
# Runtimes that can run a model in float16 / bf16 / int8 (SessionOptions.precision).
_PRECISION_RUNTIMES: Final = MappingProxyType(
    {"float16": ("torch",), "bf16": ("openvino",), "int8": ("litert", "openvino")}
)
# Devices only some runtimes have.
_DEVICE_RUNTIMES: Final = MappingProxyType({"gpu": ("openvino",), "npu": ("openvino",)})


def open_session(runtime: str, model_path: Path, options: SessionOptions) -> Session:
    """Open ``model_path`` (a .tflite file) on ``runtime``.

    Args:
        runtime: A runtime name, e.g. ``"litert"``.
        model_path: A verified model file.
        options: Threads and device.

    Returns:
        A ready session.

    Raises:
        ConfigError: The runtime name is unknown, or it has no ``options.precision`` or
            ``options.device`` (``"gpu"``/``"npu"``).
        RuntimeUnavailableError: The runtime is not installed or not available in this build.
        DeviceUnavailableError: The runtime cannot use ``options.device`` here.
    """
    if runtime not in _LOADERS:
        msg = f"unknown runtime {runtime!r}; choose one of: {', '.join(_LOADERS)}"
        raise ConfigError(msg)
    if options.precision not in PRECISIONS:
        msg = f"precision must be one of {PRECISIONS}, got {options.precision!r}"
        raise ConfigError(msg)
    for option, value, table in (
        ("precision", options.precision, _PRECISION_RUNTIMES),
        ("device", options.device, _DEVICE_RUNTIMES),
    ):
        if runtime not in table.get(value, (runtime,)):
            msg = f"{option}={value!r} is available on: {', '.join(table[value])}; not {runtime}"
            raise ConfigError(msg)
    target, _ = _LOADERS[runtime]
    module_name, func_name = target.split(":")
    loader: Callable[[Path, SessionOptions], Session] = getattr(
        importlib.import_module(module_name), func_name
    )
    return loader(model_path, options)


def available_runtimes() -> tuple[str, ...]:
    """Return the names of the model runtimes whose packages are installed (no import done)."""
    return tuple(name for name, (_, module) in _LOADERS.items() if importlib.util.find_spec(module))


def check_output_names(
    requested: Sequence[str] | None, available: tuple[str, ...]
) -> tuple[str, ...]:
    """Return the outputs to fetch: ``requested``, or all of ``available`` when None.

    Raises:
        ConfigError: A requested name is not an output of the (possibly pruned) model.
    """
    if requested is None:
        return available
    unknown = [name for name in requested if name not in available]
    if unknown:
        msg = f"unknown outputs {unknown}; the model has {available}"
        raise ConfigError(msg)
    return tuple(requested)


def check_batch_inputs(
    inputs: Mapping[str, NDArray[np.float32]], shapes: Mapping[str, tuple[int, ...]]
) -> dict[str, NDArray[np.float32]]:
    """Check a batched feed against a model's inputs; return it as C-contiguous float32.

    Args:
        inputs: Tensors by name, batch dimension first (any batch size, the same for all).
        shapes: Each model input's shape without the batch dimension.

    Returns:
        Every model input, float32 and contiguous.

    Raises:
        ConfigError: An unknown or missing input, a wrong shape, or unequal batch sizes.
    """
    unknown = sorted(set(inputs) - set(shapes))
    missing = sorted(set(shapes) - set(inputs))
    if unknown or missing:
        msg = f"the model takes inputs {tuple(shapes)}; unknown {unknown}, missing {missing}"
        raise ConfigError(msg)
    feed = {name: np.ascontiguousarray(value, dtype=np.float32) for name, value in inputs.items()}
    batch_sizes = {value.shape[0] if value.ndim else 0 for value in feed.values()}
    for name, value in feed.items():
        if value.ndim == 0 or value.shape[1:] != shapes[name] or value.shape[0] < 1:
            expected = ", ".join(map(str, shapes[name]))
            msg = f"input {name!r} must have shape (batch, {expected}), got {value.shape}"
            raise ConfigError(msg)
    if len(batch_sizes) > 1:
        msg = f"all inputs must have the same batch size, got {sorted(batch_sizes)}"
        raise ConfigError(msg)
    return feed


Batch = NDArray[np.float32]


def run_item_by_item(
    inputs: Mapping[str, Batch],
    names: Sequence[str],
    infer: Callable[
        [Mapping[str, NDArray[np.float32]], Sequence[str]], dict[str, NDArray[np.float32]]
    ],
) -> dict[str, NDArray[np.float32]]:
    """A batch of N through ``infer`` as N batch-1 runs, outputs concatenated in order.

    For runtimes whose graph keeps the file's batch of 1 (LiteRT, OpenVINO): the inputs
    share one batch size (checked by the caller).
    """
    size = next(iter(inputs.values())).shape[0] if inputs else 1
    if size == 1:
        return infer(inputs, names)
    items = [infer({k: v[i : i + 1] for k, v in inputs.items()}, names) for i in range(size)]
    return {name: np.concatenate([item[name] for item in items]) for name in names}
