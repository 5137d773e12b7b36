"""The Session protocol, its options, and ``open_session`` (runtime name → lazy loader)."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Final, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from hifipose.errors import ConfigError, RuntimeUnavailableError

__all__ = ["Session", "SessionOptions", "available_runtimes", "open_session"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionOptions:
    """How to run a model.

    Attributes:
        num_threads: Inference threads; None lets the runtime choose (LiteRT: 2).
        device: ``"cpu"``, ``"cuda"`` or ``"auto"``.
    """

    num_threads: int | None = None
    device: str = "cpu"


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


# name → ("module:function", the module that must be importable for it)
_LOADERS: Final = MappingProxyType(
    {
        "litert": ("hifipose.runtimes.litert:open_litert", "ai_edge_litert"),
    }
)
_PLANNED: Final = ("onnxruntime", "torch")


def open_session(runtime: str, model_path: Path, options: SessionOptions) -> Session:
    """Open ``model_path`` (a .tflite file) on ``runtime``.

    Args:
        runtime: A runtime name, e.g. ``"litert"``.
        model_path: A verified model file.
        options: Threads and device.

    Returns:
        A ready session.

    Raises:
        ConfigError: The runtime name is unknown.
        RuntimeUnavailableError: The runtime is not installed or not available in this build.
    """
    if runtime in _PLANNED:
        msg = (
            f"runtime {runtime!r} is not available in this version of hifipose yet; "
            f"use one of: {', '.join(_LOADERS)}"
        )
        raise RuntimeUnavailableError(msg)
    if runtime not in _LOADERS:
        msg = f"unknown runtime {runtime!r}; choose one of: {', '.join(_LOADERS)}"
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
