"""The onnxruntime runtime: the .tflite graph converted to ONNX by :mod:`hifipose.convert`.

Named ``ort`` so that it does not shadow the ``onnxruntime`` package.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from hifipose._optional import require
from hifipose.convert import onnx_model_bytes, prune_onnx
from hifipose.errors import (
    ConfigError,
    DetectorClosedError,
    DeviceUnavailableError,
    ModelIntegrityError,
)
from hifipose.runtimes._device import note_cpu_fallback
from hifipose.runtimes.base import (
    Session,
    SessionOptions,
    check_batch_inputs,
    check_output_names,
)

__all__ = ["GPU_PROVIDERS", "open_onnxruntime", "select_providers"]

logger = logging.getLogger(__name__)

_CPU: Final = "CPUExecutionProvider"
# Execution providers that run on an accelerator, in the order device="auto" prefers them.
GPU_PROVIDERS: Final = (
    "CUDAExecutionProvider",
    "TensorrtExecutionProvider",
    "DmlExecutionProvider",
    "CoreMLExecutionProvider",
    "OpenVINOExecutionProvider",
)
_CUDA_PROVIDERS: Final = GPU_PROVIDERS[:2]  # device="cuda": CUDA, else TensorRT


def select_providers(device: str, available: Sequence[str]) -> list[str]:
    """Choose onnxruntime execution providers for ``device``.

    Args:
        device: ``"cpu"``, ``"cuda"`` (CUDA, else TensorRT) or ``"auto"`` (the first of
            :data:`GPU_PROVIDERS` that this build has, else the CPU).
        available: ``onnxruntime.get_available_providers()``.

    Returns:
        Providers in priority order, always ending with the CPU one (it runs any node the
        others cannot).

    Raises:
        DeviceUnavailableError: ``device="cuda"`` and this build has neither CUDA nor TensorRT.
    """
    if device == "cpu":
        return [_CPU]
    wanted = _CUDA_PROVIDERS if device == "cuda" else GPU_PROVIDERS
    chosen = next((p for p in wanted if p in available), None)
    if chosen is None:
        if device == "cuda":
            msg = (
                "device='cuda' needs an onnxruntime build with the CUDA or TensorRT execution "
                f"provider (pip install onnxruntime-gpu); this one has: {', '.join(available)}"
            )
            raise DeviceUnavailableError(msg)
        note_cpu_fallback("onnxruntime", "this onnxruntime build has no GPU execution provider")
        return [_CPU]
    return [chosen, _CPU]


class _OrtSession:
    """An onnxruntime InferenceSession with NHWC tensors addressed by their .tflite names."""

    def __init__(self, model_path: Path, options: SessionOptions) -> None:
        ort = require("onnxruntime", extra="onnx")
        providers = select_providers(options.device, ort.get_available_providers())
        session_options = ort.SessionOptions()
        session_options.log_severity_level = 3  # errors only; hifipose logs what matters
        if options.num_threads is not None:
            session_options.intra_op_num_threads = options.num_threads
            session_options.inter_op_num_threads = 1
        self._session = self._load(ort, model_path, session_options, providers, options.outputs)
        active = self._session.get_providers()
        if providers[0] != _CPU and providers[0] not in active:
            reason = f"{providers[0]} is in this build but could not start (no usable GPU?)"
            if options.device == "cuda":
                msg = f"device='cuda': {reason}; use device='cpu' or device='auto'"
                raise DeviceUnavailableError(msg)
            note_cpu_fallback("onnxruntime", reason)
        self.providers: tuple[str, ...] = tuple(active)
        self.input_names = tuple(i.name for i in self._session.get_inputs())
        self.output_names = tuple(o.name for o in self._session.get_outputs())
        self._input_shapes = {i.name: tuple(i.shape[1:]) for i in self._session.get_inputs()}
        self._closed = False

    @staticmethod
    def _load(
        ort: ModuleType,
        model_path: Path,
        session_options: Any,  # noqa: ANN401 - onnxruntime ships no types
        providers: list[str],
        outputs: tuple[str, ...] | None,
    ) -> Any:  # noqa: ANN401
        state = ort.capi.onnxruntime_pybind11_state
        errors = (
            state.Fail,
            state.InvalidProtobuf,
            state.InvalidGraph,
            RuntimeError,
            ValueError,
            ModelIntegrityError,
        )

        def build(*, refresh: bool) -> Any:  # noqa: ANN401
            blob = onnx_model_bytes(model_path, refresh=refresh)
            if outputs is not None:
                blob = prune_onnx(blob, outputs)
            return ort.InferenceSession(blob, session_options, providers=providers)

        try:
            return build(refresh=False)
        except ConfigError:  # a wrong output name (a ValueError): not the file's fault
            raise
        except errors as exc:  # a damaged cached conversion: convert again, once
            logger.warning("reconverting %s: the cached ONNX file failed (%s)", model_path, exc)
        try:
            return build(refresh=True)
        except errors as exc:
            msg = f"onnxruntime cannot load the conversion of {model_path}: {exc}"
            raise ModelIntegrityError(msg) from exc

    def run(
        self,
        inputs: Mapping[str, NDArray[np.float32]],
        output_names: Sequence[str] | None = None,
    ) -> dict[str, NDArray[np.float32]]:
        if self._closed:
            msg = "this onnxruntime session is closed"
            raise DetectorClosedError(msg)
        feed = check_batch_inputs(inputs, self._input_shapes)
        names = check_output_names(output_names, self.output_names)
        values = self._session.run(list(names), feed)
        return dict(zip(names, values, strict=True))

    def close(self) -> None:
        self._closed = True
        self.__dict__.pop("_session", None)


def open_onnxruntime(model_path: Path, options: SessionOptions) -> Session:
    """Open a .tflite model on onnxruntime, through its cached ONNX conversion.

    Conventions:
        Inputs and outputs are the .tflite's names and NHWC float32 shapes; the batch
        dimension may be any size (the pipeline sends 1).

    Args:
        model_path: A verified .tflite file.
        options: ``num_threads`` (None: onnxruntime's default), ``device`` (``"cpu"``;
            ``"cuda"``: CUDA or TensorRT; ``"auto"``: the best GPU provider this onnxruntime
            build has, else the CPU, logged once). ``precision`` must be ``"float32"``.

    Returns:
        The session.

    Raises:
        RuntimeUnavailableError: onnxruntime (or, to convert a model not yet cached, onnx)
            is not installed.
        DeviceUnavailableError: ``device="cuda"`` and no CUDA/TensorRT provider can start.
        UnsupportedOperatorError: The model uses an op the converter does not handle.
        ModelIntegrityError: The model cannot be parsed or loaded.
    """
    started = time.perf_counter()
    session = _OrtSession(model_path, options)
    logger.debug(
        "opened %s on onnxruntime (%s) in %.1f ms",
        model_path.name,
        ", ".join(session.providers),
        1e3 * (time.perf_counter() - started),
    )
    return session
