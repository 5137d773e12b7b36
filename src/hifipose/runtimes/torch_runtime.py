"""The torch runtime: the .tflite graph rebuilt as a ``torch.nn.Module`` by :mod:`hifipose.convert`.

Named ``torch_runtime`` so that it does not shadow the ``torch`` package.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from hifipose._optional import require
from hifipose.convert import torch_module
from hifipose.errors import ConfigError, DetectorClosedError, DeviceUnavailableError
from hifipose.runtimes._device import note_cpu_fallback
from hifipose.runtimes.base import SessionOptions, check_batch_inputs, check_output_names

__all__ = ["TorchSession", "open_torch", "select_torch_device"]

logger = logging.getLogger(__name__)


def select_torch_device(torch: ModuleType, device: str) -> Any:  # noqa: ANN401 - a torch.device; torch is imported lazily
    """Map ``"cpu"``, ``"cuda"`` or ``"auto"`` to a ``torch.device``.

    Raises:
        DeviceUnavailableError: ``device="cuda"`` and torch sees no CUDA GPU.
    """
    if device == "cpu":
        return torch.device("cpu")
    if torch.cuda.is_available():
        return torch.device("cuda")
    if device == "cuda":
        build = "a CPU-only build" if torch.version.cuda is None else f"CUDA {torch.version.cuda}"
        msg = (
            f"device='cuda' but torch ({torch.__version__}, {build}) finds no CUDA GPU; "
            "use device='cpu' or device='auto'"
        )
        raise DeviceUnavailableError(msg)
    note_cpu_fallback("torch", "torch finds no CUDA GPU")
    return torch.device("cpu")


def _disable_tf32(torch: ModuleType) -> None:
    """Make CUDA convolutions and matmuls true float32 (process-wide torch flags).

    cuDNN convolutions default to TF32 on Ampere and newer GPUs (10-bit mantissa), which moves
    the landmark model's outputs by up to 3e-2 of their range; float32 here means IEEE float32.
    """
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False


class TorchSession:
    """A converted model on one torch device; also runs a list of inputs in one forward pass.

    Conventions:
        Inputs and outputs are the .tflite's names and NHWC float32 numpy arrays, batch first
        (any batch size). With ``precision="float16"`` the module and its inputs are float16
        on the GPU; outputs still come back as float32. ``precision="float32"`` on CUDA turns
        torch's TF32 shortcuts off, process-wide.
    """

    def __init__(self, model_path: Path, options: SessionOptions) -> None:
        self._torch = require("torch", extra="torch")
        self.device = select_torch_device(self._torch, options.device)
        if options.precision == "float16" and self.device.type != "cuda":
            msg = "precision='float16' needs a CUDA device; use precision='float32' on the CPU"
            raise ConfigError(msg)
        if options.num_threads is not None:  # torch's intra-op pool is process-wide
            self._torch.set_num_threads(options.num_threads)
        if self.device.type == "cuda" and options.precision == "float32":
            _disable_tf32(self._torch)
        self._dtype = self._torch.float16 if options.precision == "float16" else self._torch.float32
        module = torch_module(model_path, options.outputs)
        self._module = module.to(device=self.device, dtype=self._dtype)
        self.input_names: tuple[str, ...] = module.input_names
        self.output_names: tuple[str, ...] = module.output_names
        self._input_shapes = {
            name: tuple(int(d) for d in shape[1:])
            for name, shape in zip(module.input_names, module.input_shapes, strict=True)
        }
        self._closed = False

    def run(
        self,
        inputs: Mapping[str, NDArray[np.float32]],
        output_names: Sequence[str] | None = None,
    ) -> dict[str, NDArray[np.float32]]:
        """Run one forward pass on a batch; return the named outputs (all when None).

        Raises:
            ConfigError: Unknown, missing or misshapen inputs, or unknown output names.
            DetectorClosedError: The session is closed.
        """
        if self._closed:
            msg = "this torch session is closed"
            raise DetectorClosedError(msg)
        feed = check_batch_inputs(inputs, self._input_shapes)
        names = check_output_names(output_names, self.output_names)
        torch = self._torch
        tensors = [
            torch.from_numpy(feed[name]).to(device=self.device, dtype=self._dtype)
            for name in self.input_names
        ]
        with torch.inference_mode():
            outputs = dict(zip(self.output_names, self._module(*tensors), strict=True))
            return {name: outputs[name].float().cpu().numpy() for name in names}

    def run_batch(
        self,
        items: Sequence[Mapping[str, NDArray[np.float32]]],
        output_names: Sequence[str] | None = None,
    ) -> list[dict[str, NDArray[np.float32]]]:
        """Run several inputs (e.g. one crop per ROI) in one forward pass.

        Args:
            items: One feed per item, each with a batch dimension (usually 1).
            output_names: The outputs to return (all when None).

        Returns:
            One output dict per item, in order, each with that item's batch size.

        Raises:
            ConfigError: ``items`` is empty, or an item is invalid (see :meth:`run`).
        """
        if not items:
            msg = "run_batch needs at least one item"
            raise ConfigError(msg)
        feeds = [check_batch_inputs(item, self._input_shapes) for item in items]
        stacked = {name: np.concatenate([f[name] for f in feeds]) for name in self.input_names}
        outputs = self.run(stacked, output_names)
        offsets = np.cumsum([f[self.input_names[0]].shape[0] for f in feeds])[:-1]
        split = {name: np.split(value, offsets) for name, value in outputs.items()}
        return [{name: parts[i] for name, parts in split.items()} for i in range(len(feeds))]

    def close(self) -> None:
        """Release the module; the session may not be used afterwards."""
        self._closed = True
        self.__dict__.pop("_module", None)


def open_torch(model_path: Path, options: SessionOptions) -> TorchSession:
    """Open a .tflite model on torch (rebuilt as an ``nn.Module``, run in inference mode).

    Args:
        model_path: A verified .tflite file.
        options: ``device`` (``"cpu"``, ``"cuda"``, or ``"auto"``: CUDA when torch sees a GPU,
            else the CPU, logged once); ``num_threads`` (sets torch's process-wide intra-op
            thread count; None leaves it alone); ``precision`` (``"float16"`` on CUDA only).

    Returns:
        The session; :meth:`TorchSession.run_batch` runs several inputs in one pass.

    Raises:
        RuntimeUnavailableError: torch is not installed.
        DeviceUnavailableError: ``device="cuda"`` and torch sees no CUDA GPU.
        ConfigError: ``precision="float16"`` on the CPU.
        UnsupportedOperatorError: The model uses an op the converter does not handle.
        ModelIntegrityError: The model cannot be parsed.
    """
    started = time.perf_counter()
    session = TorchSession(model_path, options)
    logger.debug(
        "opened %s on torch (%s, %s) in %.1f ms",
        model_path.name,
        session.device,
        options.precision,
        1e3 * (time.perf_counter() - started),
    )
    return session
