import importlib
import pkgutil
import subprocess
import sys

import pytest

import hifipose

HEAVY = (
    "torch",
    "onnxruntime",
    "mediapipe",
    "pyarrow",
    "matplotlib",
    "skimage",
    "ai_edge_litert",
    "rerun",
)


def test_import_hifipose_pulls_in_no_heavy_module() -> None:
    code = f"import sys, hifipose; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(hifipose.__path__, prefix="hifipose.")
    if "__main__" not in m.name
)


#: The modules that are an optional extra's own code and import it at the top (style.md: only
#: they may). Where the extra is not installed (scripts/check_pythons' venvs) they skip; the
#: main environment has every extra, so there they run.
EXTRA_MODULES = {"hifipose.convert.onnx_export": "onnx", "hifipose.convert.torch_export": "torch"}


@pytest.mark.parametrize("module", MODULES)
def test_each_module_imports_alone(module: str) -> None:
    if module in EXTRA_MODULES:
        pytest.importorskip(EXTRA_MODULES[module])
    importlib.import_module(module)  # cheap check in-process first
    subprocess.run([sys.executable, "-c", f"import {module}"], check=True, capture_output=True)
