"""The command line works on the core install: no optional extra is imported to build it.

``hifipose --help`` and every subcommand's ``--help`` run with each extra's packages made
unimportable (as after ``pip install hifipose`` alone); ``scripts/setup`` without ``--dev``
runs ``hifipose models fetch`` on exactly such an install. A subcommand module that imports
an extra's package while declaring its flags breaks every command, not only its own.
"""

from __future__ import annotations

import subprocess
import sys

from hifipose.cli import COMMANDS

#: The top-level packages of every extra in pyproject.toml (and the mediapipe oracle).
EXTRA_PACKAGES = (
    "pyarrow",
    "pandas",
    "matplotlib",
    "skimage",
    "mediapipe",
    "onnx",
    "onnxruntime",
    "torch",
    "rerun",
    "ray",
    "pycocotools",
    "starlette",
    "uvicorn",
    "websockets",
    "anyio",
    "openvino",
    "nncf",
    "mkdocs",
)

SCRIPT = """
import importlib.abc, sys
blocked = set(sys.argv[1].split(","))

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in blocked:
            raise ModuleNotFoundError(f"No module named {name!r} (blocked)", name=name)
        return None

sys.meta_path.insert(0, Block())
from hifipose.cli import main
for argv in [["--help"], *[[command, "--help"] for command in sys.argv[2].split(",")]]:
    try:
        main(argv)
    except SystemExit as exc:
        assert exc.code == 0, (argv, exc.code)
loaded = sorted(name for name in sys.modules if name.split(".")[0] in blocked)
assert not loaded, loaded
"""


def test_every_commands_help_runs_without_any_extra() -> None:
    names = ",".join(command.__name__.rpartition(".")[2] for command in COMMANDS)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, ",".join(EXTRA_PACKAGES), names],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "serve" in done.stdout and "batch" in done.stdout
