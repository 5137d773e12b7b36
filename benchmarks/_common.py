"""What several benchmark scripts share: the shared data and its clips' frames.

Not a script. The scripts run as ``.venv/bin/python benchmarks/<script>.py`` from the
repository root; Python puts ``benchmarks/`` first on ``sys.path``, so they import this as
``_common``. It imports nothing from hifipose: ``bench_serve_memory.py`` measures servers
of other source trees (``--src``) with a client that must not depend on this one's.

Conventions: frames are HxWx3 uint8 arrays, BGR as OpenCV decodes them unless a name says
RGB; sizes are (width, height) in pixels.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

#: The repository root.
ROOT = Path(__file__).resolve().parents[1]
#: The shared real data (videos, photos), next to the repository: ``../shared/data``.
DATA = ROOT.parent / "shared" / "data"


# --- frames of the shared clips ----------------------------------------------------------


def read_frames(
    path: Path, limit: int | None = None, *, rgb: bool = False
) -> Iterator[NDArray[np.uint8]]:
    """The frames of the video at ``path`` as they are decoded: the first ``limit`` (None: all).

    BGR, or RGB (what hifipose takes) when ``rgb``. Nothing is kept: a caller that wants a
    list makes it from what it keeps of each frame. An unreadable file yields no frame.
    """
    capture = cv2.VideoCapture(str(path))
    try:
        count = 0
        while limit is None or count < limit:
            ok, frame = capture.read()
            if not ok:
                return
            yield np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB) if rgb else frame, np.uint8)
            count += 1
    finally:
        capture.release()


def letterbox_frame(frame: NDArray[np.uint8], size_wh: tuple[int, int]) -> NDArray[np.uint8]:
    """``frame`` scaled to fit ``size_wh``, its aspect kept, centred on a black canvas.

    Bilinear (OpenCV's default), where :func:`hifipose.bench.letterbox` averages areas: the
    committed colour and track_io results were made with this one.
    """
    width, height = size_wh
    scale = min(width / frame.shape[1], height / frame.shape[0])
    small = cv2.resize(frame, (round(frame.shape[1] * scale), round(frame.shape[0] * scale)))
    canvas = np.zeros((height, width, 3), np.uint8)
    x, y = (width - small.shape[1]) // 2, (height - small.shape[0]) // 2
    canvas[y : y + small.shape[0], x : x + small.shape[1]] = small
    return canvas


def clip_jpegs(path: Path, width: int, limit: int | None = None) -> list[bytes]:
    """The first ``limit`` frames (None: all) of ``path`` as JPEGs (quality 80), ``width`` wide.

    Scaled by area averaging, the aspect kept. Exits the script when no frame can be read.
    """
    out = []
    for frame in read_frames(path, limit):
        height = round(frame.shape[0] * width / frame.shape[1])
        small = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
        out.append(cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes())
    if not out:
        sys.exit(f"cannot read {path}")
    return out
