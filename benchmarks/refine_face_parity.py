"""refine_face_landmarks against mediapipe 0.10.14's Holistic (refine_face_landmarks=True).

MediaPipe's legacy Holistic runs with the pinned npm model files
(``hifipose_dev.holistic_parity``); hifipose runs ``holistic=True, refine_face_landmarks=True,
compat="mediapipe-python"`` on each runtime given. Per set (every shared photo in static mode,
a fresh MediaPipe graph per photo; the squat clip in video mode), the face's 468 mesh points and
its 10 iris points are scored separately: the mean image distance as a % of the face box's
diagonal (MediaPipe's 478 points), per frame where both found a face, then the mean, median
and max over frames; and the frames where only one side found a face.

Writes Markdown to benchmarks/results/refine_face.md and prints it.

    PYTHONPATH=src .venv/bin/python benchmarks/refine_face_parity.py [RUNTIME ...]
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import cast

import numpy as np
from numpy.typing import NDArray

import hifipose
from hifipose.config import RUNTIME_NAMES, RuntimeName

# The development package (dev/hifipose_dev), not part of the wheel.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dev"))
from hifipose_dev.data import SHARED_DATA, clip_frames, read_rgb, shared_images
from hifipose_dev.holistic_parity import holistic_arrays, holistic_solution

ROOT = Path(__file__).resolve().parents[1]
MESH = 468


def face_errors(ours: NDArray[np.float32], theirs: NDArray[np.float64]) -> tuple[float, float]:
    """(mesh, iris) mean distance as a % of MediaPipe's face box diagonal."""
    diagonal = float(np.hypot(*(theirs[:, :2].max(0) - theirs[:, :2].min(0))))
    distance = 100.0 * np.hypot(*(ours[:, :2] - theirs[:, :2]).T) / diagonal
    return float(distance[:MESH].mean()), float(distance[MESH:].mean())


def run(
    runtime: RuntimeName, frames: list[NDArray[np.uint8]], *, static: bool
) -> tuple[list[tuple[float, float]], int]:
    """Per frame where both found a face: (mesh %, iris %); and the presence mismatches."""
    errors: list[tuple[float, float]] = []
    mismatches = 0
    with (
        holistic_solution() as mp_holistic,
        hifipose.create_detector(
            static_image_mode=static,
            holistic=True,
            refine_face_landmarks=True,
            compat="mediapipe-python",
            runtime=runtime,
        ) as detector,
    ):
        solution = None
        for frame in frames:
            if solution is None or static:
                if solution is not None:
                    solution.close()
                solution = mp_holistic.Holistic(
                    static_image_mode=static, model_complexity=1, refine_face_landmarks=True
                )
            theirs = holistic_arrays(solution.process(frame), frame.shape[1::-1])["face"]
            poses = detector.estimate_poses(frame)
            face = poses[0].face if poses else None
            if (face is None) != (theirs is None):
                mismatches += 1
            elif face is not None and theirs is not None:
                assert face.image_array.shape == (478, 3)
                errors.append(face_errors(face.image_array, theirs))
        if solution is not None:
            solution.close()
    return errors, mismatches


def main(runtimes: list[RuntimeName]) -> None:
    """Score every runtime on the photos and the clip; write and print the table."""
    photos = [read_rgb(path) for path in shared_images()]
    clip = list(clip_frames(SHARED_DATA / "tfjs_golden" / "pose_squats.mp4"))
    lines = [
        "| runtime | set | frames by both | presence mismatches | mesh mean / median / max % "
        "| iris mean / median / max % |",
        "|---|---|---|---|---|---|",
    ]
    for runtime in runtimes:
        for name, frames, static in (
            (f"{len(photos)} photos, static", photos, True),
            (f"pose_squats.mp4 ({len(clip)} frames), video", clip, False),
        ):
            errors, mismatches = run(runtime, frames, static=static)
            table = np.array(errors)
            mesh, iris = table[:, 0], table[:, 1]
            lines.append(
                f"| {runtime} | {name} | {len(errors)} | {mismatches} | "
                f"{mesh.mean():.3f} / {np.median(mesh):.3f} / {mesh.max():.3f} | "
                f"{iris.mean():.3f} / {np.median(iris):.3f} / {iris.max():.3f} |"
            )
            print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    out = ROOT / "benchmarks" / "results" / "refine_face.md"
    out.write_text(text)
    print(text)


if __name__ == "__main__":
    names = sys.argv[1:] or ["litert", "torch"]
    unknown = [name for name in names if name not in RUNTIME_NAMES]
    if unknown:
        sys.exit(f"unknown runtimes {unknown}; choose from {RUNTIME_NAMES}")
    main([cast("RuntimeName", name) for name in names])
