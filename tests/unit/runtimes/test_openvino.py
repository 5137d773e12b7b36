"""The openvino runtime's device choice and bf16 check (no OpenVINO needed: lists in, name out)."""

import contextlib
import logging

import pytest

from hifipose.errors import ConfigError, DeviceUnavailableError
from hifipose.runtimes._device import note_cpu_fallback
from hifipose.runtimes.openvino_runtime import check_bf16, select_device

does_not_raise = contextlib.nullcontext


@pytest.mark.parametrize(
    ("device", "available", "expected", "error"),
    [
        ("cpu", ["CPU", "GPU"], "CPU", does_not_raise()),  # cpu means cpu, even with a GPU
        ("gpu", ["CPU", "GPU.0", "GPU.1"], "GPU.0", does_not_raise()),  # the first GPU
        ("npu", ["CPU", "NPU"], "NPU", does_not_raise()),
        ("auto", ["CPU", "NPU", "GPU"], "GPU", does_not_raise()),  # auto: a GPU, not the NPU
        ("auto", ["CPU", "NPU"], "CPU", does_not_raise()),
        ("gpu", ["CPU", "NPU"], None, pytest.raises(DeviceUnavailableError, match="no GPU")),
        ("npu", ["CPU"], None, pytest.raises(DeviceUnavailableError, match=r"no NPU.*: CPU")),
        ("cuda", ["CPU", "GPU"], None, pytest.raises(DeviceUnavailableError, match="no CUDA")),
        ("tpu", ["CPU"], None, pytest.raises(ConfigError, match="unknown device 'tpu'")),
    ],
)
def test_select_device(device, available, expected, error) -> None:
    with error:
        assert select_device(device, available) == expected


def test_auto_without_gpu_says_so_once(caplog: pytest.LogCaptureFixture) -> None:
    note_cpu_fallback.cache_clear()
    with caplog.at_level(logging.WARNING, logger="hifipose"):
        assert [select_device("auto", ["CPU"]) for _ in range(2)] == ["CPU", "CPU"]
    assert [r.getMessage() for r in caplog.records if "openvino" in r.getMessage()] == [
        "device='auto': OpenVINO finds no GPU here; the openvino runtime runs on the CPU"
    ]


@pytest.mark.parametrize(
    ("device", "capabilities", "error"),
    [
        ("CPU", ["BF16", "FP32", "INT8"], does_not_raise()),
        ("CPU", ["FP32", "FP16", "INT8"], pytest.raises(DeviceUnavailableError, match="AMX")),
        ("GPU.0", ["BF16", "FP16"], pytest.raises(DeviceUnavailableError, match="CPU device")),
    ],
)
def test_check_bf16(device, capabilities, error) -> None:
    with error:
        check_bf16(device, capabilities)
