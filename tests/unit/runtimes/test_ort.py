import contextlib

import pytest

from hifipose.errors import DeviceUnavailableError
from hifipose.runtimes._device import note_cpu_fallback
from hifipose.runtimes.ort import select_providers

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
TENSORRT = "TensorrtExecutionProvider"
DML = "DmlExecutionProvider"

does_not_raise = contextlib.nullcontext


@pytest.mark.parametrize(
    ("device", "available", "expected", "error"),
    [
        ("cpu", [CUDA, CPU], [CPU], does_not_raise()),  # cpu means cpu, even with a GPU
        ("cuda", [TENSORRT, CUDA, CPU], [CUDA, CPU], does_not_raise()),  # CUDA first
        ("cuda", [TENSORRT, CPU], [TENSORRT, CPU], does_not_raise()),  # else TensorRT
        ("cuda", [DML, CPU], None, pytest.raises(DeviceUnavailableError, match="onnxruntime-gpu")),
        ("cuda", [CPU], None, pytest.raises(DeviceUnavailableError, match="device='cuda'")),
        ("auto", [DML, CPU], [DML, CPU], does_not_raise()),  # any GPU provider will do
        ("auto", ["AzureExecutionProvider", CPU], [CPU], does_not_raise()),  # CPU fallback
    ],
)
def test_select_providers(device, available, expected, error) -> None:
    note_cpu_fallback.cache_clear()
    with error:
        assert select_providers(device, available) == expected
