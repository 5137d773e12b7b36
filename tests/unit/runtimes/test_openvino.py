"""The openvino runtime's device choice, bf16 and int8 checks (no OpenVINO needed: lists in)."""

import contextlib
import logging

import pytest

from hifipose.errors import ConfigError, DeviceUnavailableError
from hifipose.runtimes._device import note_cpu_fallback
from hifipose.runtimes.openvino_runtime import check_bf16, check_int8, cpu_flags, select_device

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


@pytest.mark.parametrize(
    ("device", "flags", "error"),
    [
        ("CPU", ["avx2", "avx512f", "avx512_vnni"], does_not_raise()),  # Ice Lake on
        ("CPU", ["avx2", "avx_vnni"], does_not_raise()),  # Alder Lake
        ("CPU", ["avx2", "amx_int8"], does_not_raise()),
        ("CPU", ["avx2", "fma", "sse4_2"], pytest.raises(DeviceUnavailableError, match="VNNI")),
        ("CPU", [], pytest.raises(DeviceUnavailableError, match="int8' on litert")),
        ("GPU.0", [], does_not_raise()),  # the CPU's kernels are not the GPU's
    ],
)
def test_check_int8(device, flags, error) -> None:
    with error:
        check_int8(device, flags)


def test_cpu_flags_of_this_machine() -> None:
    flags = cpu_flags()
    assert flags, "no CPU flags read"
    assert all(f == f.lower() and " " not in f for f in flags)
    assert {"sse2", "fp", "asimd"} & flags  # every x86-64 CPU has SSE2; arm64 fp and asimd
