"""The onnxruntime, torch and openvino runtimes: the Session contract, batches, devices, extras."""

from __future__ import annotations

import contextlib
import logging
import subprocess
import sys

import numpy as np
import pytest

from hifipose.errors import ConfigError, DetectorClosedError, DeviceUnavailableError
from hifipose.models import ensure_model
from hifipose.runtimes import SessionOptions, available_runtimes, open_session
from hifipose.runtimes._device import note_cpu_fallback
from tests import tolerances as tol
from tests.conftest import REPORT
from tests.integration.test_convert import (
    SEGMENTATION_LOGITS,
    litert_outputs,
    max_rel_error,
    model_input,
)

CONVERTED_RUNTIMES = ("onnxruntime", "torch")
# The runtimes besides litert that run any batch and prune outputs (openvino's devices and
# precisions: test_runtime_openvino.py).
OTHER_RUNTIMES = (*CONVERTED_RUNTIMES, "openvino")


def _cuda_in_torch() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def _cuda_in_onnxruntime() -> bool:
    import onnxruntime

    return "CUDAExecutionProvider" in onnxruntime.get_available_providers()


CUDA = {"torch": _cuda_in_torch, "onnxruntime": _cuda_in_onnxruntime}


@pytest.fixture(scope="module")
def landmark_path():
    return ensure_model("pose_landmark_full", fetch=False)


def test_smoke_converted_runtimes_are_available() -> None:
    assert {"litert", "onnxruntime", "torch"} <= set(available_runtimes())


@pytest.mark.parametrize("runtime", OTHER_RUNTIMES)
def test_shapes_a_batch_equals_single_runs(runtime: str, landmark_path) -> None:
    single = model_input("pose_landmark_full", "real")
    noise = model_input("pose_landmark_full", "noise")
    with contextlib.closing(open_session(runtime, landmark_path, SessionOptions())) as session:
        batch = session.run({"input_1": np.concatenate([single, noise, single])})
        one = session.run({"input_1": single}, ["Identity", "Identity_2"])
        other = session.run({"input_1": noise}, ["Identity"])
    assert set(one) == {"Identity", "Identity_2"}
    assert batch["Identity"].shape == (3, 195)
    assert batch["Identity_2"].shape == (3, 256, 256, 1)
    for name in one:
        np.testing.assert_allclose(batch[name][0], one[name][0], rtol=1e-5, atol=1e-3)
        np.testing.assert_allclose(batch[name][2], one[name][0], rtol=1e-5, atol=1e-3)
    # the middle item is its own crop's (not a copy of another's)
    np.testing.assert_allclose(batch["Identity"][1], other["Identity"][0], rtol=1e-5, atol=1e-3)


def test_shapes_torch_run_batch_runs_a_list_of_rois_in_one_pass(landmark_path) -> None:
    crops = [model_input("pose_landmark_full", kind) for kind in ("real", "noise", "real")]
    with contextlib.closing(open_session("torch", landmark_path, SessionOptions())) as session:
        results = session.run_batch([{"input_1": crop} for crop in crops], ["Identity"])
        alone = session.run({"input_1": crops[1]}, ["Identity"])
    assert [r["Identity"].shape for r in results] == [(1, 195)] * 3
    np.testing.assert_allclose(results[1]["Identity"], alone["Identity"], rtol=1e-5, atol=1e-3)
    with pytest.raises(ConfigError, match="at least one"):
        session.run_batch([])


@pytest.mark.parametrize("runtime", OTHER_RUNTIMES)
@pytest.mark.parametrize(
    ("feed", "match"),
    [
        ({"image": np.zeros((1, 256, 256, 3), np.float32)}, "unknown"),
        ({"input_1": np.zeros((1, 224, 224, 3), np.float32)}, r"\(batch, 256, 256, 3\)"),
        ({"input_1": np.zeros((256, 256, 3), np.float32)}, "shape"),
    ],
)
def test_exception_bad_inputs(runtime: str, feed, match: str, landmark_path) -> None:
    with (
        contextlib.closing(open_session(runtime, landmark_path, SessionOptions())) as session,
        pytest.raises(ConfigError, match=match),
    ):
        session.run(feed)


@pytest.mark.parametrize("runtime", OTHER_RUNTIMES)
def test_exception_closed_session(runtime: str, landmark_path) -> None:
    session = open_session(runtime, landmark_path, SessionOptions())
    session.close()
    with pytest.raises(DetectorClosedError):
        session.run({"input_1": model_input("pose_landmark_full", "real")})


@pytest.mark.parametrize("runtime", ["litert", "onnxruntime"])
def test_exception_float16_only_on_torch(runtime: str, landmark_path) -> None:
    with pytest.raises(ConfigError, match="float16"):
        open_session(runtime, landmark_path, SessionOptions(precision="float16"))


def test_exception_torch_float16_needs_cuda(landmark_path) -> None:
    if _cuda_in_torch():
        pytest.skip("this machine has a CUDA GPU; the CPU-only error cannot happen here")
    with pytest.raises(ConfigError, match="CUDA"):
        open_session("torch", landmark_path, SessionOptions(precision="float16", device="cpu"))


@pytest.mark.parametrize("runtime", CONVERTED_RUNTIMES)
def test_exception_cuda_without_gpu_is_a_clear_error(runtime: str, landmark_path) -> None:
    if CUDA[runtime]():
        pytest.skip(f"{runtime} has CUDA here; covered by the gpu tests")
    with pytest.raises(DeviceUnavailableError, match="device='cuda'"):
        open_session(runtime, landmark_path, SessionOptions(device="cuda"))


@pytest.mark.parametrize("runtime", CONVERTED_RUNTIMES)
def test_smoke_auto_without_gpu_falls_back_to_cpu_and_says_so_once(
    runtime: str, landmark_path, caplog: pytest.LogCaptureFixture
) -> None:
    if CUDA[runtime]():
        pytest.skip(f"{runtime} has CUDA here; device='auto' picks it")
    note_cpu_fallback.cache_clear()
    with caplog.at_level(logging.WARNING, logger="hifipose"):
        for _ in range(2):
            with contextlib.closing(
                open_session(runtime, landmark_path, SessionOptions(device="auto"))
            ) as session:
                session.run({"input_1": model_input("pose_landmark_full", "real")})
    fallbacks = [r for r in caplog.records if "device='auto'" in r.getMessage()]
    assert len(fallbacks) == 1
    assert runtime in fallbacks[0].getMessage()


@pytest.mark.parametrize(
    ("runtime", "module", "extra"),
    [
        ("onnxruntime", "onnxruntime", "onnx"),
        ("torch", "torch", "torch"),
        ("openvino", "openvino", "openvino"),
    ],
)
def test_exception_missing_extra_names_the_install_line(
    runtime, module, extra, landmark_path
) -> None:
    # A fresh interpreter in which the package cannot be imported, as on a machine without it.
    code = (
        f"import sys; sys.modules[{module!r}] = None\n"
        "from pathlib import Path\n"
        "from hifipose.errors import RuntimeUnavailableError\n"
        "from hifipose.runtimes import SessionOptions, open_session\n"
        "try:\n"
        f"    open_session({runtime!r}, Path({str(landmark_path)!r}), SessionOptions())\n"
        "except RuntimeUnavailableError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert f"pip install 'hifipose[{extra}]'" in out.stdout


# ---- GPU: skipped where there is none (CI has none)


@pytest.mark.gpu
@pytest.mark.parametrize("runtime", CONVERTED_RUNTIMES)
@pytest.mark.parametrize("name", ["pose_detection", "pose_landmark_full"])
def test_values_cuda_float32_matches_litert(name: str, runtime: str) -> None:
    if not CUDA[runtime]():
        pytest.skip(f"no CUDA for {runtime} on this machine")
    path = ensure_model(name, fetch=False)
    expected = litert_outputs(path, "real")
    options = SessionOptions(device="cuda")
    with contextlib.closing(open_session(runtime, path, options)) as session:
        outputs = session.run({"input_1": model_input(name, "real")})
    errors = {key: max_rel_error(outputs[key], value) for key, value in expected.items()}
    REPORT.append(f"cuda float32 {name} on {runtime}: {errors}")
    segmentation = errors.pop(SEGMENTATION_LOGITS, 0.0)
    assert segmentation <= tol.CONVERTED_MAX_REL_REAL_SEGMENTATION
    assert max(errors.values()) <= tol.CONVERTED_MAX_REL_REAL, errors


@pytest.mark.gpu
def test_values_torch_cuda_float16_is_close_to_litert(landmark_path) -> None:
    if not _cuda_in_torch():
        pytest.skip("no CUDA for torch on this machine")
    expected = litert_outputs(landmark_path, "real")
    options = SessionOptions(device="cuda", precision="float16")
    with contextlib.closing(open_session("torch", landmark_path, options)) as session:
        outputs = session.run({"input_1": model_input("pose_landmark_full", "real")})
    assert all(value.dtype == np.float32 for value in outputs.values())
    # Segmentation logits reach ~10³, beyond float16's resolution; compare the mask instead.
    mask, mask_expected = (
        0.5 + 0.5 * np.tanh(v[SEGMENTATION_LOGITS] / 2) for v in (outputs, expected)
    )
    mask_error = float(np.abs(mask - mask_expected).mean())
    errors = {key: max_rel_error(outputs[key], value) for key, value in expected.items()}
    REPORT.append(f"cuda float16 pose_landmark_full on torch: {errors}, mask mean |Δ| {mask_error}")
    del errors[SEGMENTATION_LOGITS]
    assert max(errors.values()) <= tol.CONVERTED_FLOAT16_MAX_REL, errors
    assert mask_error <= tol.CONVERTED_FLOAT16_MASK_MEAN_ABS


@pytest.mark.parametrize("runtime", ["litert", *OTHER_RUNTIMES])
def test_runtimes_prune_outputs_nobody_asks_for(runtime: str, landmark_path) -> None:
    wanted = ("Identity", "Identity_1", "Identity_3", "Identity_4")  # all but the mask logits
    image = model_input("pose_landmark_full", "real")
    with (
        contextlib.closing(open_session(runtime, landmark_path, SessionOptions())) as full,
        contextlib.closing(
            open_session(runtime, landmark_path, SessionOptions(outputs=wanted))
        ) as pruned,
    ):
        assert set(pruned.output_names) == set(wanted)
        expected = full.run({"input_1": image}, wanted)
        got = pruned.run({"input_1": image})
        for name in wanted:
            np.testing.assert_array_equal(got[name], expected[name])
        with pytest.raises(ConfigError, match="Identity_2"):
            pruned.run({"input_1": image}, ["Identity_2"])
    with pytest.raises(ConfigError, match="unknown outputs"):
        open_session(runtime, landmark_path, SessionOptions(outputs=("nope",)))
