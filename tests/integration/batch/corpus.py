"""Short test clips cut from ../shared/data, and broken files, for the batch tests."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from tests.conftest import SHARED_DATA

FRAMES_PER_CLIP = 4
# (folder, people in view): clips cycle through these three kinds.
KINDS = (("one", 1), ("several", 3), ("nobody", 0))
#: The broken files and the error class each must be recorded with.
BROKEN = {
    "broken/zero_bytes": "VideoReadError",
    "broken/text": "VideoReadError",
    "broken/truncated": "TruncatedVideoError",
    "broken/photo": "VideoReadError",
    "broken/unreadable": "VideoReadError",
}


def _frames(path: Path, size: tuple[int, int]) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(cv2.resize(frame, size, interpolation=cv2.INTER_AREA))
    capture.release()
    return frames


def _write(path: Path, frames: list[np.ndarray], fps: float, fourcc: str = "mp4v") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*fourcc), fps, (width, height))
    for frame in frames:
        writer.write(frame)
    writer.release()


def make_corpus(folder: Path, clips: int) -> dict[str, int]:
    """Write ``clips`` good clips and the :data:`BROKEN` files under ``folder``.

    Returns:
        Each good clip's ``video_id`` and its frame count.
    """
    squats = _frames(SHARED_DATA / "tfjs_golden" / "pose_squats.mp4", (144, 256))
    crossing = _frames(SHARED_DATA / "multi" / "crossing_squats.mp4", (320, 180))
    background = cv2.imread(str(SHARED_DATA / "multi" / "background_building.jpg"))
    empty = [
        cv2.resize(np.roll(background, 7 * i, axis=1), (320, 180)) for i in range(FRAMES_PER_CLIP)
    ]
    made: dict[str, int] = {}
    for index in range(clips):
        kind, _ = KINDS[index % len(KINDS)]
        start = (index // len(KINDS)) * 2
        if kind == "one":
            frames, fps = squats[start % (len(squats) - 4) :][:FRAMES_PER_CLIP], 5.0
        elif kind == "several":
            frames, fps = crossing[start % (len(crossing) - 4) :][:FRAMES_PER_CLIP], 10.0
        else:
            frames, fps = empty, 10.0
        video_id = f"{kind}/clip{index:03d}"
        _write(folder / f"{video_id}.mp4", frames, fps)
        made[video_id] = len(frames)
    broken = folder / "broken"
    broken.mkdir(parents=True, exist_ok=True)
    (broken / "zero_bytes.mp4").write_bytes(b"")
    (broken / "text.mp4").write_text("this is a text file, not a video\n")
    _write(broken / "whole.avi", crossing[:40], 10.0, fourcc="MJPG")
    data = (broken / "whole.avi").read_bytes()
    (broken / "truncated.avi").write_bytes(data[: len(data) // 2])
    (broken / "whole.avi").unlink()
    (broken / "photo.mp4").write_bytes((SHARED_DATA / "multi" / "bus.jpg").read_bytes())
    (broken / "unreadable.mp4").symlink_to(broken / "no_such_file.mp4")
    return made
