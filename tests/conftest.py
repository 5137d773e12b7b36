"""Shared fixtures: the shared data folder, the model files, decoded clips, MediaPipe."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
# The runtimes that run hifipose's own pipeline on the CPU: installed in CI, so a missing one
# fails (style.md C14); only GPU variants skip.
CPU_RUNTIMES = ("litert", "onnxruntime", "torch")
VIDEO_SUFFIXES = (".mp4", ".mov", ".webm", ".avi", ".mkv")


class CountingMask:
    """A lazy person mask (``hifipose.pose.MaskSource``) that records its reads.

    The pipeline's own is ``CropMask``; this one lets a test see whether, and at what size,
    a mask was made: ``reads`` holds each read's ``size_wh`` (None: the frame's size).
    """

    def __init__(self, size_wh: tuple[int, int] = (8, 6), value: float = 0.75) -> None:
        self.size_wh = size_wh
        self.value = value
        self.reads: list[tuple[int, int] | None] = []

    def to_image(self, size_wh: tuple[int, int] | None = None) -> np.ndarray:
        self.reads.append(size_wh)
        width, height = size_wh or self.size_wh
        return np.full((height, width), self.value, np.float32)


def _is_photo(path: Path) -> bool:
    # Reference masks (e.g. pose_segmentation.png) are data, not pictures of people.
    return path.suffix.lower() in IMAGE_SUFFIXES and "segmentation" not in path.stem


def shared_images() -> list[Path]:
    """Every photo in ../shared/data (recursively)."""
    return sorted(p for p in SHARED_DATA.rglob("*") if _is_photo(p))


def shared_clips() -> list[Path]:
    """Every video clip in ../shared/data (recursively)."""
    return sorted(p for p in SHARED_DATA.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES)


@functools.cache
def read_rgb(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert image is not None, f"cannot read {path}"
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def decode_frames(path: Path) -> list[np.ndarray]:
    """Every frame of a video as RGB arrays, decoded now (for files a test writes)."""
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    capture.release()
    return frames


@functools.cache
def clip_frames(path: Path) -> tuple[np.ndarray, ...]:
    """All frames of a (shared, unchanging) clip as RGB arrays, decoded once per session."""
    frames = decode_frames(path)
    assert frames, f"cannot decode {path}"
    return tuple(frames)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"the shared test data is missing: expected it at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def model_dir() -> Path:
    """The verified model cache (filled by `hifipose models fetch` before the tests)."""
    from hifipose.models import MODEL_SPECS, ensure_model

    paths = [ensure_model(name, fetch=False) for name in MODEL_SPECS]
    return paths[0].parent


@pytest.fixture(scope="session")
def mediapipe_solution(model_dir: Path) -> Iterator[object]:
    """mediapipe.solutions.pose, with the npm lite/heavy models placed where it looks first.

    mediapipe 0.10.14 bundles the full landmark model (byte-identical to the npm file) and
    looks in its own ``modules/pose_landmark/`` folder before downloading lite or heavy.
    """
    from mediapipe.python.solutions import pose as mp_pose

    from hifipose.bench import install_solution_models

    install_solution_models()
    return mp_pose


@pytest.fixture(scope="session")
def mediapipe_reference(mediapipe_solution):
    """MediaPipe's per-frame results for (frames key, static mode, model type), computed once.

    Returns a function ``get(key, frames, *, static, model_type)``; every runtime's parity test
    compares against the same reference run instead of running MediaPipe again.
    """
    from tests.integration.helpers import COMPLEXITY, mediapipe_references

    cache: dict[tuple[str, bool, str], list] = {}

    def get(key: str, frames, *, static: bool, model_type: str) -> list:
        if (key, static, model_type) not in cache:
            with mediapipe_solution.Pose(
                static_image_mode=static, model_complexity=COMPLEXITY[model_type]
            ) as solution:
                cache[key, static, model_type] = mediapipe_references(frames, solution)
        return cache[key, static, model_type]

    return get


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    integration = False
    for item in items:
        if "tests/integration" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.integration)
            integration = True
    # Integration tests collect their clips and photos from the shared data at import: without
    # it they would quietly run on nothing. Fail the run instead (pyproject also sets
    # empty_parameter_set_mark = "fail_at_collect").
    if integration and not SHARED_DATA.is_dir():
        msg = f"the shared test data is missing: expected it at {SHARED_DATA}"
        raise pytest.UsageError(msg)


# Figures that parity tests report; printed at the end of the run.
REPORT: list[str] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if REPORT:
        terminalreporter.section("hifipose fidelity figures")
        for line in REPORT:
            terminalreporter.write_line(line)
