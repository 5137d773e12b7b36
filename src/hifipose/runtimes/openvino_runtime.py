"""The OpenVINO runtime: OpenVINO reads the .tflite files itself (no conversion of ours).

Named ``openvino_runtime`` so that it does not shadow the ``openvino`` package.

Precision: OpenVINO's CPU plugin runs a model in bfloat16 by itself on a CPU with
AVX512_BF16 or AMX (its GPU plugin: float16), which moves the landmarks by about 1–2 % of
the box diagonal. This runtime always sets ``INFERENCE_PRECISION_HINT``: ``f32`` (the
default: LiteRT's numbers) unless ``precision="bf16"`` asks for the fast mode.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from hifipose._optional import require
from hifipose.errors import (
    ConfigError,
    DetectorClosedError,
    DeviceUnavailableError,
    ModelIntegrityError,
)
from hifipose.runtimes._device import note_cpu_fallback
from hifipose.runtimes.base import (
    Fill,
    Read,
    Session,
    SessionOptions,
    T,
    check_batch_inputs,
    check_output_names,
    run_item_by_item,
    stack_items,
)

__all__ = [
    "DEFAULT_NUM_THREADS",
    "INT8_CPU_FLAGS",
    "check_bf16",
    "check_int8",
    "cpu_flags",
    "open_openvino",
    "select_device",
]

logger = logging.getLogger(__name__)

#: Inference threads when ``num_threads`` is None (as LiteRT's default).
DEFAULT_NUM_THREADS: Final = 2
# hifipose device name → OpenVINO device family ("GPU" matches "GPU", "GPU.0", "GPU.1", …).
_FAMILIES: Final = {"cpu": "CPU", "gpu": "GPU", "npu": "NPU"}
# device="auto": the first of these that is present, else the CPU.
_AUTO_ORDER: Final = ("GPU",)
# SessionOptions.precision → INFERENCE_PRECISION_HINT (int8 models run their int8 ops as
# quantised and the rest in f32).
_HINTS: Final = {"float32": "f32", "bf16": "bf16", "int8": "f32"}
#: The CPU instructions (Linux's names) one of which ``precision="int8"`` on openvino needs:
#: the int8 dot products of VNNI or AMX. Without them (AVX2 only) OpenVINO multiplies
#: u8 × s8 pairs into int16 sums that saturate, and the quantised landmark models lose the
#: pose. Measured on an AMD EPYC (Zen 3, AVX2): PCK@0.2 on the labelled photos fell from
#: 63.1 / 69.4 (fp32) to 8.7 / 0.4 for full / heavy, the pose lost on 139 of 185 clip frames
#: for heavy; NNCF's overflow fix (7-bit weights) brought full back to 57.4, heavy not (0.8).
INT8_CPU_FLAGS: Final = ("avx512_vnni", "avx_vnni", "amx_int8")
# numpy's names for the CPU features it reports where /proc/cpuinfo is absent.
_NUMPY_FLAGS: Final = {"AVX512VNNI": "avx512_vnni"}


def select_device(device: str, available: Sequence[str]) -> str:
    """Choose the OpenVINO device for hifipose's ``device``.

    Args:
        device: ``"cpu"``, ``"gpu"``, ``"npu"`` (that OpenVINO device, the first one if
            several), ``"auto"`` (the first GPU if any, else the CPU, logged once) or
            ``"cuda"`` (refused: OpenVINO has no CUDA device).
        available: ``openvino.Core().available_devices``, e.g. ``["CPU", "GPU.0"]``.

    Returns:
        An OpenVINO device name from ``available`` (e.g. ``"GPU.0"``), or ``"CPU"``.

    Raises:
        DeviceUnavailableError: ``"gpu"``/``"npu"`` is not present, or ``"cuda"``.
        ConfigError: ``device`` is none of these.
    """

    def first(family: str) -> str | None:
        return next((d for d in available if d.split(".")[0] == family), None)

    if device == "auto":
        chosen = next(filter(None, map(first, _AUTO_ORDER)), None)
        if chosen is None:
            note_cpu_fallback("openvino", "OpenVINO finds no GPU here")
            return "CPU"
        return chosen
    if device == "cuda":
        msg = "the openvino runtime has no CUDA device; use device='cpu', 'gpu', 'npu' or 'auto'"
        raise DeviceUnavailableError(msg)
    if device not in _FAMILIES:
        msg = f"unknown device {device!r} for openvino; choose cpu, gpu, npu or auto"
        raise ConfigError(msg)
    found = first(_FAMILIES[device])
    if found is None:
        msg = (
            f"device={device!r}: OpenVINO finds no {_FAMILIES[device]} here "
            f"(its devices: {', '.join(available) or 'none'}); use device='cpu' or 'auto'"
        )
        raise DeviceUnavailableError(msg)
    return found


def check_bf16(device: str, capabilities: Sequence[str]) -> None:
    """Refuse ``precision="bf16"`` where OpenVINO cannot run bfloat16.

    Args:
        device: The chosen OpenVINO device (bf16 is a CPU mode: the GPU plugin has f16).
        capabilities: The device's ``OPTIMIZATION_CAPABILITIES``; OpenVINO's CPU plugin lists
            ``"BF16"`` when the CPU has AVX512_BF16 or AMX.

    Raises:
        DeviceUnavailableError: Not the CPU, or a CPU without bfloat16 instructions.
    """
    if device != "CPU":
        msg = f"precision='bf16' runs on OpenVINO's CPU device only, not {device}"
        raise DeviceUnavailableError(msg)
    if "BF16" not in capabilities:
        msg = (
            "precision='bf16' needs a CPU with AVX512_BF16 or AMX; this one has neither "
            f"(OpenVINO lists {', '.join(capabilities)}); use precision='float32'"
        )
        raise DeviceUnavailableError(msg)


def check_int8(device: str, flags: Iterable[str]) -> None:
    """Refuse ``precision="int8"`` on a CPU whose int8 kernels lose the pose (see above).

    Args:
        device: The chosen OpenVINO device (other devices are not checked).
        flags: The CPU's feature flags, as :func:`cpu_flags` returns them.

    Raises:
        DeviceUnavailableError: The CPU has none of :data:`INT8_CPU_FLAGS`.
    """
    if device != "CPU" or not set(INT8_CPU_FLAGS).isdisjoint(flags):
        return
    msg = (
        "precision='int8' on openvino needs a CPU with VNNI or AMX (avx512_vnni, avx_vnni or "
        "amx_int8); on this one OpenVINO's int8 kernels saturate and lose the pose; use "
        "precision='float32', or precision='int8' on litert"
    )
    raise DeviceUnavailableError(msg)


@functools.cache
def cpu_flags() -> frozenset[str]:
    """This CPU's feature flags, lower case as Linux names them (``"avx2"``, ``"avx512_vnni"``).

    From ``/proc/cpuinfo`` where it exists, else from the features numpy detected (which name
    AVX512_VNNI but not AVX_VNNI or AMX: those CPUs are refused int8 there).
    """
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        from numpy._core._multiarray_umath import (  # type: ignore[import-not-found]
            __cpu_features__ as features,
        )

        return frozenset(_NUMPY_FLAGS[k] for k, on in features.items() if on and k in _NUMPY_FLAGS)
    return frozenset(
        flag
        for line in text.splitlines()
        if line.startswith(("flags", "Features"))
        for flag in line.partition(":")[2].split()
    )


@functools.cache
def _core() -> Any:  # noqa: ANN401 - openvino.Core (no stubs needed here)
    """One OpenVINO Core per process (it holds the plugins; creating it costs ~50 ms)."""
    ov = require("openvino", extra="openvino")
    return ov.Core()


class _OpenVINOSession:
    """A compiled OpenVINO model (batch 1) with NHWC tensors addressed by their .tflite names.

    A batch of N runs as N requests of the batch-1 model in one ``run`` call, as on LiteRT:
    a model compiled for a dynamic batch costs more per batch-1 frame, and recompiling for
    each new number of people would stall the stream.
    """

    def __init__(self, model_path: Path, options: SessionOptions) -> None:
        ov = require("openvino", extra="openvino")
        core = _core()
        self.device = select_device(options.device, core.available_devices)
        if options.precision == "bf16":
            check_bf16(self.device, core.get_property(self.device, "OPTIMIZATION_CAPABILITIES"))
        if options.precision == "int8":
            check_int8(self.device, cpu_flags())
        model = self._read(core, model_path, options.precision)
        names = [output.get_any_name() for output in model.outputs]
        if options.outputs is not None:  # keep only what the outputs need, as prune_tflite
            check_output_names(options.outputs, tuple(names))
            kept = [model.outputs[names.index(name)].get_node() for name in options.outputs]
            model = ov.Model(kept, model.get_parameters(), model.get_friendly_name())
        config: dict[str, object] = {
            "INFERENCE_PRECISION_HINT": _HINTS[options.precision],
            "PERFORMANCE_HINT": "LATENCY",
        }
        if self.device == "CPU":
            config["INFERENCE_NUM_THREADS"] = options.num_threads or DEFAULT_NUM_THREADS
        try:
            compiled = core.compile_model(model, self.device, config)
        except RuntimeError as exc:
            msg = f"OpenVINO cannot compile {model_path.name} for {self.device}: {exc}"
            raise ModelIntegrityError(msg) from exc
        self._request = compiled.create_infer_request()
        #: What hifipose asked OpenVINO for. It can differ from :attr:`properties`: a CPU
        #: without bf16 compiles a ``bf16`` hint as f32.
        self.requested: dict[str, object] = dict(config)
        #: What OpenVINO compiled with, read back from it: the precision hint (and threads).
        self.properties: dict[str, str] = {
            key: str(compiled.get_property(key))
            for key in ("INFERENCE_PRECISION_HINT", "INFERENCE_NUM_THREADS")
            if key in config
        }
        self.input_names = tuple(i.get_any_name() for i in compiled.inputs)
        self.output_names = tuple(o.get_any_name() for o in compiled.outputs)
        self._outputs = {o.get_any_name(): o for o in compiled.outputs}
        self._inputs = {i.get_any_name(): i for i in compiled.inputs}
        self._input_shapes = {
            i.get_any_name(): tuple(i.get_partial_shape().to_shape())[1:] for i in compiled.inputs
        }
        self._closed = False

    @staticmethod
    def _read(core: Any, model_path: Path, precision: str) -> Any:  # noqa: ANN401
        if precision == "int8":
            from hifipose.convert.openvino_int8 import openvino_int8_model

            logger.warning(
                "precision='int8' on openvino is experimental: it failed hifipose's acceptance "
                "(PCK@0.2 4-14 points below fp32 on the labelled photos, people lost; "
                "benchmarks/results/openvino.md); precision='bf16' passed it"
            )
            return openvino_int8_model(model_path)
        try:
            return core.read_model(model_path)
        except RuntimeError as exc:
            msg = f"OpenVINO cannot read {model_path}: {exc}"
            raise ModelIntegrityError(msg) from exc

    def run(
        self,
        inputs: Mapping[str, NDArray[np.float32]],
        output_names: Sequence[str] | None = None,
    ) -> dict[str, NDArray[np.float32]]:
        if self._closed:
            msg = "this OpenVINO session is closed"
            raise DetectorClosedError(msg)
        feed = check_batch_inputs(inputs, self._input_shapes)
        names = check_output_names(output_names, self.output_names)
        return run_item_by_item(feed, names, self._infer)

    def _infer(
        self, feed: Mapping[str, NDArray[np.float32]], names: Sequence[str]
    ) -> dict[str, NDArray[np.float32]]:
        # share_outputs: infer() then returns views, not a copy of every output (the
        # heatmap is 0.6 MB); the outputs asked for are copied below
        self._request.infer(feed, share_outputs=True)
        return self._copy_outputs(names)

    def _copy_outputs(self, names: Sequence[str]) -> dict[str, NDArray[np.float32]]:
        # copies: the request's output buffers are overwritten by the next inference
        return {name: self._request.get_tensor(self._outputs[name]).data.copy() for name in names}

    def run_filled(
        self, name: str, count: int, fill: Fill, output_names: Sequence[str] | None = None
    ) -> dict[str, NDArray[np.float32]]:
        """Run ``count`` items of input ``name``, each written by ``fill`` into the request.

        ``fill`` writes into the infer request's own input tensor, which ``infer`` would
        otherwise copy a caller's array into.
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

        Both get the infer request's own tensors (no copy in, none out); the next
        inference overwrites what ``read`` was shown.
        """
        if self._closed:
            msg = "this OpenVINO session is closed"
            raise DetectorClosedError(msg)
        if name not in self._inputs or len(self._inputs) != 1:
            msg = f"run_filled needs the model's one input; it takes {self.input_names}"
            raise ConfigError(msg)
        names = check_output_names(output_names, self.output_names)
        request = self._request
        item = request.get_tensor(self._inputs[name]).data[0]
        ports = [(n, self._outputs[n]) for n in names]
        results = []
        for i in range(count):
            fill(i, item)
            # share_outputs: the results are views of the request's tensors, not copies
            shared = request.infer(share_outputs=True)
            results.append(read(i, {n: shared[port] for n, port in ports}))
        return results

    def close(self) -> None:
        self._closed = True
        self.__dict__.pop("_request", None)
        self.__dict__.pop("_outputs", None)


def _copies(_: int, outputs: Mapping[str, NDArray[np.float32]]) -> dict[str, NDArray[np.float32]]:
    """A :data:`~hifipose.runtimes.base.Read` that keeps a copy of every output."""
    return {name: value.copy() for name, value in outputs.items()}


def open_openvino(model_path: Path, options: SessionOptions) -> Session:
    """Open a .tflite model on OpenVINO (it reads the flatbuffer itself).

    Conventions:
        Inputs and outputs are the .tflite's names and NHWC float32 shapes; the batch
        dimension may be any size (run as batch-1 requests).

    Args:
        model_path: A verified .tflite file.
        options: ``num_threads`` (default 2, on the CPU); ``device`` (``"cpu"``;
            ``"gpu"``/``"npu"``: that OpenVINO device where present; ``"auto"``: a GPU if
            any, else the CPU); ``precision``: ``"float32"`` (LiteRT's numbers: the hint
            is set to f32), ``"bf16"`` (CPU with AVX512_BF16 or AMX) or ``"int8"`` (a
            landmark model quantised by NNCF, see
            :func:`~hifipose.convert.openvino_int8.openvino_int8_model`); ``outputs``: the
            graph keeps only the branches they need.

    Returns:
        The session.

    Raises:
        RuntimeUnavailableError: openvino is not installed.
        DeviceUnavailableError: The device is absent or ``"cuda"``; bf16 on a CPU without it;
            int8 on a CPU without VNNI or AMX (:func:`check_int8`).
        ConfigError: An entry of ``options.outputs`` is not an output of the model; int8 for
            a model with no calibration.
        ModelIntegrityError: OpenVINO cannot read or compile the file.
    """
    started = time.perf_counter()
    session = _OpenVINOSession(model_path, options)
    logger.debug(
        "opened %s on openvino (%s, %s) in %.1f ms",
        model_path.name,
        session.device,
        options.precision,
        1e3 * (time.perf_counter() - started),
    )
    return session
