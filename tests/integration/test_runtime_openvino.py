"""runtime="openvino": the precision hint, threads, devices and the bf16 fast mode, for real.

Its outputs against LiteRT's: test_convert.py; the Session contract (batches, bad inputs,
pruning, the missing extra): test_runtimes_converted.py; tracking against MediaPipe:
test_parity_mediapipe.py.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import openvino as ov
import pytest

import hifipose
from hifipose.errors import ConfigError, DeviceUnavailableError
from hifipose.models import ensure_model
from hifipose.runtimes import SessionOptions, open_session, openvino_runtime
from tests.conftest import REPORT
from tests.integration.test_convert import litert_outputs, max_rel_error, model_input


@pytest.fixture(scope="module")
def landmark_path() -> Path:
    return ensure_model("pose_landmark_full", fetch=False)


def _cpu_has_bf16() -> bool:
    """The kernel's CPU flags: AVX512_BF16 or AMX (Linux only)."""
    flags = Path("/proc/cpuinfo").read_text().split()
    return "avx512_bf16" in flags or "amx_bf16" in flags


@pytest.mark.parametrize(("threads", "expected"), [(None, "2"), (1, "1")])
def test_values_hint_is_f32_and_threads_are_passed(threads, expected, landmark_path) -> None:
    # Without the hint OpenVINO runs bf16 by itself on a CPU that has it (this one, and CI's).
    options = SessionOptions(num_threads=threads)
    with contextlib.closing(open_session("openvino", landmark_path, options)) as session:
        # asked for, as well as compiled with: a CPU without bf16 compiles any hint as f32
        assert session.requested["INFERENCE_PRECISION_HINT"] == "f32"  # type: ignore[attr-defined]
        assert session.properties == {  # type: ignore[attr-defined]
            "INFERENCE_PRECISION_HINT": "<Type: 'float32'>",
            "INFERENCE_NUM_THREADS": expected,
        }


def test_exception_cuda_is_refused(landmark_path) -> None:
    with pytest.raises(DeviceUnavailableError, match="no CUDA"):
        open_session("openvino", landmark_path, SessionOptions(device="cuda"))


@pytest.mark.parametrize("device", ["gpu", "npu"])
def test_exception_absent_device_is_a_clear_error(device: str, landmark_path) -> None:
    if any(d.split(".")[0] == device.upper() for d in ov.Core().available_devices):
        pytest.skip(f"OpenVINO has a {device.upper()} here")
    with pytest.raises(DeviceUnavailableError, match=f"no {device.upper()} here"):
        open_session("openvino", landmark_path, SessionOptions(device=device))


@pytest.mark.parametrize("runtime", ["litert", "onnxruntime", "torch"])
def test_exception_bf16_and_openvino_devices_on_other_runtimes(runtime, landmark_path) -> None:
    with pytest.raises(ConfigError, match=r"bf16.*openvino"):
        open_session(runtime, landmark_path, SessionOptions(precision="bf16"))
    with pytest.raises(ConfigError, match=r"gpu.*openvino"):
        open_session(runtime, landmark_path, SessionOptions(device="gpu"))


@pytest.mark.skipif(sys.platform != "linux", reason="reads the CPU flags in /proc/cpuinfo")
def test_bf16_is_offered_exactly_where_the_cpu_has_it(landmark_path) -> None:
    capabilities = ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    assert ("BF16" in capabilities) == _cpu_has_bf16()
    options = SessionOptions(precision="bf16")
    if not _cpu_has_bf16():
        with pytest.raises(DeviceUnavailableError, match="AVX512_BF16 or AMX"):
            open_session("openvino", landmark_path, options)
        return
    expected = litert_outputs(landmark_path, "real")
    with contextlib.closing(open_session("openvino", landmark_path, options)) as session:
        assert session.properties["INFERENCE_PRECISION_HINT"] == "<Type: 'bfloat16'>"  # type: ignore[attr-defined]
        outputs = session.run({"input_1": model_input("pose_landmark_full", "real")})
    errors = {key: max_rel_error(outputs[key], expected[key]) for key in ("Identity", "Identity_1")}
    REPORT.append(f"openvino bf16 pose_landmark_full vs litert fp32: max rel error {errors}")
    # bf16 keeps 8 bits of mantissa: the landmarks move (measured 3.9e-2), they do not break
    assert 1e-4 < errors["Identity"] < 0.15
    assert np.all(np.isfinite(outputs["Identity"]))


@pytest.fixture
def vnni(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CPU check of int8 passes, whatever this CPU is (its other refusals are tested)."""
    monkeypatch.setattr(openvino_runtime, "cpu_flags", lambda: frozenset({"avx512_vnni"}))


def test_exception_int8_on_a_cpu_without_vnni(monkeypatch: pytest.MonkeyPatch) -> None:
    # Measured on an AVX2-only AMD EPYC: heavy's PCK@0.2 fell from 69.4 to 0.4 (saturating
    # u8 x s8 sums); refused before the model is read or quantised, whatever nncf is.
    monkeypatch.setattr(openvino_runtime, "cpu_flags", lambda: frozenset({"avx2", "fma"}))
    with pytest.raises(DeviceUnavailableError, match="needs a CPU with VNNI or AMX"):
        hifipose.create_detector(model_type="lite", runtime="openvino", precision="int8")


def test_exception_int8_for_a_model_without_calibration(vnni: None) -> None:
    # int8 exists for the pinned landmark models only (as on litert)
    detector = ensure_model("pose_detection", fetch=False)
    with pytest.raises(ConfigError, match=r"no calibration for pose_detection\.tflite"):
        open_session("openvino", detector, SessionOptions(precision="int8"))


def test_exception_int8_without_nncf_names_the_extra(tmp_path: Path) -> None:
    # CI installs openvino but not nncf (20 s more); building the int8 model needs it, using
    # a cached one does not. A fresh model folder has none cached.
    source = ensure_model("pose_landmark_lite", fetch=False)
    (tmp_path / source.name).write_bytes(source.read_bytes())
    code = (
        "import sys; sys.modules['nncf'] = None\n"
        "from pathlib import Path\n"
        "from hifipose.errors import RuntimeUnavailableError\n"
        "from hifipose.runtimes import openvino_runtime\n"
        "openvino_runtime.cpu_flags = lambda: frozenset({'avx512_vnni'})\n"
        "from hifipose.runtimes import SessionOptions, open_session\n"
        "try:\n"
        f"    open_session('openvino', Path({str(tmp_path / source.name)!r}),"
        " SessionOptions(precision='int8'))\n"
        "except RuntimeUnavailableError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'hifipose[openvino-int8]'" in out.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == [source.name]  # nothing half-made
