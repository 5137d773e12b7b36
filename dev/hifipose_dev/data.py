"""The shared test data (../shared/data next to the repository): paths, photos, clips, frames."""

from __future__ import annotations

import functools
from pathlib import Path

import cv2
import numpy as np

__all__ = [
    "CPU_RUNTIMES",
    "IMAGE_SUFFIXES",
    "ROOT",
    "SHARED_DATA",
    "VIDEO_SUFFIXES",
    "clip_frames",
    "decode_frames",
    "read_rgb",
    "shared_clips",
    "shared_images",
]

#: The repository root.
ROOT = Path(__file__).resolve().parents[2]
#: The shared data folder: read-only, never copied into the repository.
SHARED_DATA = ROOT.parent / "shared" / "data"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
# The runtimes that run hifipose's own pipeline on the CPU: installed in CI, so a missing one
# fails (style.md C14); only GPU variants skip.
CPU_RUNTIMES = ("litert", "onnxruntime", "torch")
VIDEO_SUFFIXES = (".mp4", ".mov", ".webm", ".avi", ".mkv")


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
    """A photo as an RGB array, read once per process."""
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
    """All frames of a (shared, unchanging) clip as RGB arrays, decoded once per process."""
    frames = decode_frames(path)
    assert frames, f"cannot decode {path}"
    return tuple(frames)
