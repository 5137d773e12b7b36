"""Tracking-mode speed of hifipose vs MediaPipe (Tasks and the legacy solution), same run.

Usage: .venv/bin/python benchmarks/bench_tracking.py [--frames 65] [--rounds 5] [--out FILE]

Frames: the squat clip from ../shared/data, letterboxed to 640×480 (and 1920×1080 for the
overhead rows). The engines run interleaved, round by round, on the same frames; each cell
is the median over rounds, and the table reports ratios, since absolute times on a shared
machine drift. "Outside inference" is wall time per frame minus the time spent inside the
two LiteRT sessions (measured by wrapping them): cropping, decoding, refinement,
projection, smoothing, checks. MediaPipe Tasks gets a .task bundle built from the same npm
model files with the image-normalisation metadata it needs (design.md §5).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import zipfile
from pathlib import Path

import cv2
import numpy as np

import hifipose
from hifipose.models import ensure_model, landmark_model_name

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT.parent / "shared" / "data" / "tfjs_golden" / "pose_squats.mp4"
COMPLEXITY = {"lite": 0, "full": 1, "heavy": 2}


def letterboxed_frames(size_wh: tuple[int, int], limit: int) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(CLIP))
    frames = []
    width, height = size_wh
    while len(frames) < limit:
        ok, frame_bgr = capture.read()
        if not ok:
            break
        scale = min(width / frame_bgr.shape[1], height / frame_bgr.shape[0])
        resized = cv2.resize(frame_bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        canvas = np.zeros((height, width, 3), np.uint8)
        y0, x0 = (height - resized.shape[0]) // 2, (width - resized.shape[1]) // 2
        canvas[y0 : y0 + resized.shape[0], x0 : x0 + resized.shape[1]] = resized
        frames.append(cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB))
    return frames


class TimedSession:
    """Wraps a session and adds up the time spent inside ``run``."""

    def __init__(self, inner: object) -> None:
        self.inner, self.seconds = inner, 0.0

    def run(self, *args: object, **kwargs: object) -> object:
        started = time.perf_counter()
        try:
            return self.inner.run(*args, **kwargs)  # type: ignore[attr-defined]
        finally:
            self.seconds += time.perf_counter() - started

    def close(self) -> None:
        self.inner.close()  # type: ignore[attr-defined]


def run_hifipose(model: str, frames: list[np.ndarray], threads: int | None) -> tuple[float, float]:
    """Return (ms per frame, ms per frame outside inference) for one tracking pass."""
    with hifipose.create_detector(model_type=model, num_threads=threads) as detector:
        detector.estimate_poses(frames[0])  # warm-up: first detection, allocations
        detector.reset()
        sessions = [TimedSession(detector._detector), TimedSession(detector._landmarks)]
        detector._detector, detector._landmarks = sessions
        started = time.perf_counter()
        for i, frame in enumerate(frames):
            detector.estimate_poses(frame, timestamp_ms=i * 33.333)
        total = time.perf_counter() - started
    inference = sum(s.seconds for s in sessions)
    return 1e3 * total / len(frames), 1e3 * (total - inference) / len(frames)


def task_bundle(model: str, folder: Path) -> Path:
    from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer

    def with_metadata(path: Path, mean: float, std: float) -> bytes:
        writer = metadata_writer.MetadataWriter.create(path.read_bytes())
        writer.add_general_info(path.stem, "npm @mediapipe/pose")
        writer.add_image_input([mean], [std])
        return writer.populate()[0]

    bundle = folder / f"pose_{model}.task"
    with zipfile.ZipFile(bundle, "w") as archive:
        detector = with_metadata(ensure_model("pose_detection"), 127.5, 127.5)
        archive.writestr("pose_detector.tflite", detector)
        archive.writestr(
            "pose_landmarks_detector.tflite",
            with_metadata(ensure_model(landmark_model_name(model)), 0.0, 255.0),
        )
    return bundle


def run_tasks(bundle: Path, frames: list[np.ndarray]) -> float:
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    options = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(bundle)),
        running_mode=vision.RunningMode.VIDEO,
    )
    with vision.PoseLandmarker.create_from_options(options) as landmarker:
        images = [mp.Image(image_format=mp.ImageFormat.SRGB, data=f) for f in frames]
        landmarker.detect_for_video(images[0], 0)
        started = time.perf_counter()
        for i, image in enumerate(images):
            landmarker.detect_for_video(image, 33 * (i + 1))
        return 1e3 * (time.perf_counter() - started) / len(frames)


def run_solution(model: str, frames: list[np.ndarray]) -> float:
    from mediapipe.python.solutions import pose as mp_pose

    with mp_pose.Pose(model_complexity=COMPLEXITY[model]) as solution:
        solution.process(frames[0])
        started = time.perf_counter()
        for frame in frames:
            solution.process(frame)
        return 1e3 * (time.perf_counter() - started) / len(frames)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=65)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--models", default="lite,full,heavy")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    frames = letterboxed_frames((640, 480), args.frames)
    frames_1080 = letterboxed_frames((1920, 1080), min(args.frames, 30))
    lines = [
        f"Tracking mode, {len(frames)} frames of 640×480 (squat clip, letterboxed), median of "
        f"{args.rounds} interleaved rounds. Ratios > 1 mean hifipose is faster.",
        "",
        "| model | hifipose ms/frame (2 thr) | MediaPipe Tasks ms | legacy solution ms | "
        "speed vs Tasks | hifipose 1 thr ms | 1 thr vs Tasks | "
        "outside inference ms, 640×480 | 1080p |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for model in args.models.split(","):
            bundle = task_bundle(model, Path(tmp))
            keys = ("h2", "o2", "h1", "tasks", "sol", "o1080")
            cells: dict[str, list[float]] = {k: [] for k in keys}
            for _ in range(args.rounds):
                ms, outside = run_hifipose(model, frames, None)
                cells["h2"].append(ms)
                cells["o2"].append(outside)
                cells["h1"].append(run_hifipose(model, frames, 1)[0])
                cells["tasks"].append(run_tasks(bundle, frames))
                cells["sol"].append(run_solution(model, frames))
                cells["o1080"].append(run_hifipose(model, frames_1080, None)[1])
            m = {k: statistics.median(v) for k, v in cells.items()}
            lines.append(
                f"| {model} | {m['h2']:.2f} | {m['tasks']:.2f} | {m['sol']:.2f} | "
                f"{m['tasks'] / m['h2']:.2f}× | {m['h1']:.2f} | {m['tasks'] / m['h1']:.2f}× | "
                f"{m['o2']:.2f} | {m['o1080']:.2f} |"
            )
            print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
