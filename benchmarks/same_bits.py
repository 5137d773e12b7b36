"""Every pose array bit for bit the same as another source tree's, over many configurations.

A speed change that must not move a single output bit (issue 26 item 3) is checked here:
each configuration (model, runtime, precision, options, clip) runs through
``estimate_poses`` in one child process per source tree (``--baseline REV`` of this
repository, extracted with ``git archive``, against this tree's ``src``), and every array of
every pose of every frame is compared as raw bytes: image and world keypoints, score, track
id, and the segmentation mask where asked. Tracking and static-image mode; one person and
several; the accuracy modes; LiteRT, OpenVINO (f32 and bf16) and ONNX Runtime; Holistic
(every hand's and face's arrays too: image and world points, scores, handedness).

    PYTHONPATH=src .venv/bin/python benchmarks/same_bits.py --baseline main

Exit status 1 and the first differing frame of each configuration when anything differs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from _common import DATA, ROOT, read_frames

SQUATS = DATA / "tfjs_golden" / "pose_squats.mp4"
CROSSING = DATA / "multi" / "crossing_squats.mp4"
FRAMES = 40
FRAME_MS = 1000 / 30

#: Holistic (hands and face, issue 25): every model in video and static mode, the refined
#: face, several people, one thread (one lane), MediaPipe's fixed-point crops, onnxruntime.
HOLISTIC_CONFIGS: list[tuple[str, Path, dict[str, Any]]] = [
    *[
        (f"{m} litert holistic{' static' if static else ''}", SQUATS, options)
        for m in ("lite", "full", "heavy")
        for static in (False, True)
        for options in [{"model_type": m, "holistic": True, "static_image_mode": static}]
    ],
    *[
        (
            f"full litert holistic refine_face{' static' if static else ''}",
            SQUATS,
            {
                "model_type": "full",
                "holistic": True,
                "refine_face_landmarks": True,
                "static_image_mode": static,
            },
        )
        for static in (False, True)
    ],
    *[
        (
            f"{m} litert holistic 3 people{' static' if static else ''}",
            CROSSING,
            {"model_type": m, "holistic": True, "num_poses": 3, "static_image_mode": static},
        )
        for m, static in (("full", False), ("lite", True))
    ],
    (
        "lite litert holistic refine_face 3 people",
        CROSSING,
        {"model_type": "lite", "holistic": True, "refine_face_landmarks": True, "num_poses": 3},
    ),
    (
        "lite litert holistic 1 thread",
        SQUATS,
        {"model_type": "lite", "holistic": True, "num_threads": 1},
    ),
    (
        "lite litert holistic 4 threads",
        SQUATS,
        {"model_type": "lite", "holistic": True, "num_threads": 4},
    ),
    (
        "full litert holistic compat",
        SQUATS,
        {"model_type": "full", "holistic": True, "compat": "mediapipe-python"},
    ),
    (
        "lite onnxruntime holistic 3 people",
        CROSSING,
        {"model_type": "lite", "runtime": "onnxruntime", "holistic": True, "num_poses": 3},
    ),
]

#: (name, clip, create_detector options); 25 configurations, then the 15 Holistic ones.
CONFIGS: list[tuple[str, Path, dict[str, Any]]] = [
    *[(f"{m} litert", SQUATS, {"model_type": m}) for m in ("lite", "full", "heavy")],
    *[
        (f"{m} openvino f32", SQUATS, {"model_type": m, "runtime": "openvino"})
        for m in ("lite", "full", "heavy")
    ],
    *[
        (
            f"{m} openvino bf16",
            SQUATS,
            {"model_type": m, "runtime": "openvino", "precision": "bf16"},
        )
        for m in ("lite", "full", "heavy")
    ],
    ("lite onnxruntime", SQUATS, {"model_type": "lite", "runtime": "onnxruntime"}),
    ("lite litert static", SQUATS, {"model_type": "lite", "static_image_mode": True}),
    ("full litert static", SQUATS, {"model_type": "full", "static_image_mode": True}),
    (
        "lite openvino static",
        SQUATS,
        {"model_type": "lite", "runtime": "openvino", "static_image_mode": True},
    ),
    ("lite litert segmentation", SQUATS, {"model_type": "lite", "enable_segmentation": True}),
    (
        "full openvino segmentation",
        SQUATS,
        {"model_type": "full", "runtime": "openvino", "enable_segmentation": True},
    ),
    ("lite litert compat", SQUATS, {"model_type": "lite", "compat": "mediapipe-python"}),
    (
        "full litert compat static segmentation",
        SQUATS,
        {
            "model_type": "full",
            "compat": "mediapipe-python",
            "static_image_mode": True,
            "enable_segmentation": True,
        },
    ),
    ("lite litert flip_tta", SQUATS, {"model_type": "lite", "flip_tta": True}),
    ("lite litert refine_passes=2", SQUATS, {"model_type": "lite", "refine_passes": 2}),
    (
        "full litert refine_passes=2 + flip_tta static",
        SQUATS,
        {"model_type": "full", "refine_passes": 2, "flip_tta": True, "static_image_mode": True},
    ),
    ("lite litert no smoothing", SQUATS, {"model_type": "lite", "enable_smoothing": False}),
    ("lite litert 1 thread", SQUATS, {"model_type": "lite", "num_threads": 1}),
    ("full litert 3 people", CROSSING, {"model_type": "full", "num_poses": 3}),
    (
        "lite openvino 3 people",
        CROSSING,
        {"model_type": "lite", "runtime": "openvino", "num_poses": 3},
    ),
    (
        "lite litert 3 people static",
        CROSSING,
        {"model_type": "lite", "num_poses": 3, "static_image_mode": True},
    ),
    *HOLISTIC_CONFIGS,
]


def child(names: list[str], out: Path) -> None:
    """Run the named configurations with the ``hifipose`` on ``sys.path``; save their arrays."""
    import hifipose

    clips: dict[Path, list[np.ndarray]] = {}
    arrays: dict[str, np.ndarray] = {}
    for name, clip, options in CONFIGS:
        if name not in names:
            continue
        if clip not in clips:
            clips[clip] = list(read_frames(clip, FRAMES, rgb=True))
        with hifipose.create_detector(**options) as detector:
            for index, frame in enumerate(clips[clip]):
                poses = detector.estimate_poses(frame, timestamp_ms=index * FRAME_MS)
                arrays[f"{name}|{index}|count"] = np.array(len(poses))
                for k, pose in enumerate(poses):
                    key = f"{name}|{index}|{k}"
                    arrays[f"{key}|image"] = pose.image_array
                    arrays[f"{key}|world"] = pose.world_array_m
                    arrays[f"{key}|score"] = np.float64(pose.score)
                    track = -1 if pose.track_id is None else pose.track_id
                    arrays[f"{key}|track"] = np.array(track)
                    if pose.segmentation is not None:
                        arrays[f"{key}|mask"] = np.asarray(pose.segmentation)
                    if pose.parts is not None:
                        arrays.update(_part_arrays(key, pose))
    np.savez(out, **arrays)


def _part_arrays(key: str, pose: Any) -> dict[str, np.ndarray]:  # noqa: ANN401 - a Pose
    """A Holistic pose's hands and face as arrays (a missing part: an empty array)."""
    arrays: dict[str, np.ndarray] = {}
    for part in ("left_hand", "right_hand", "face"):
        found = getattr(pose, part)
        if found is None:
            arrays[f"{key}|{part}"] = np.array([])
            continue
        arrays[f"{key}|{part}|image"] = found.image_array
        arrays[f"{key}|{part}|score"] = np.float64(found.score)
        if part != "face":
            arrays[f"{key}|{part}|world"] = found.world_array_m
            arrays[f"{key}|{part}|handedness"] = np.array(found.handedness)
            arrays[f"{key}|{part}|handedness_score"] = np.float64(found.handedness_score)
    return arrays


def _extract(revision: str, into: Path) -> Path:
    archive = into / "src.tar"
    subprocess.run(
        ["git", "-C", str(ROOT), "archive", "-o", str(archive), revision, "src"],  # noqa: S607
        check=True,
    )
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def _run(src: Path, names: list[str], out: Path) -> dict[str, np.ndarray]:
    env = dict(os.environ, PYTHONPATH=str(src))
    command = [sys.executable, __file__, "--child", json.dumps(names), "--out", str(out)]
    subprocess.run(command, check=True, env=env, cwd=ROOT)
    with np.load(out) as data:
        return {key: data[key] for key in data.files}


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal dtype, shape and bytes (NaNs and signed zeros included)."""
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def compare(before: dict[str, np.ndarray], after: dict[str, np.ndarray]) -> dict[str, str]:
    """Per configuration: ``"same"`` with a digest of its arrays, or the first difference."""
    verdicts: dict[str, str] = {}
    for name, _, _ in CONFIGS:
        keys = sorted(k for k in before.keys() | after.keys() if k.startswith(f"{name}|"))
        if not keys:
            continue
        digest = hashlib.sha256()
        verdict = None
        for key in sorted(keys, key=lambda k: (int(k.split("|")[1]), k)):
            if key not in before or key not in after:
                verdict = f"DIFFERENT: {key} only in {'after' if key in after else 'before'}"
                break
            if not _same(before[key], after[key]):
                verdict = f"DIFFERENT: {key}"
                break
            digest.update(after[key].tobytes())
        frames = len({k.split("|")[1] for k in keys})
        poses = sum(int(after.get(f"{name}|{i}|count", 0)) for i in range(frames))
        summary = f"same ({frames} frames, {poses} poses, {digest.hexdigest()[:12]})"
        verdicts[name] = verdict or summary
    return verdicts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--baseline", default="main", help="git revision of the 'before' tree")
    parser.add_argument("--only", help="comma-separated substrings of configuration names")
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.child), args.out)
        return
    names = [name for name, _, _ in CONFIGS]
    if args.only:
        names = [n for n in names if any(part in n for part in args.only.split(","))]
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        before = _run(_extract(args.baseline, folder), names, folder / "before.npz")
        after = _run(ROOT / "src", names, folder / "after.npz")
    verdicts = compare(before, after)
    for name, verdict in verdicts.items():
        print(f"{name}: {verdict}")
    different = sum(v.startswith("DIFFERENT") for v in verdicts.values())
    print(f"{len(verdicts) - different} of {len(verdicts)} configurations the same, bit for bit")
    sys.exit(1 if different else 0)


if __name__ == "__main__":
    main()
