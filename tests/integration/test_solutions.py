"""hifipose.solutions against MediaPipe: its own pose and holistic tests, its numbers, its pixels.

- MediaPipe's own ``pose_test.py`` and ``holistic_test.py`` (../shared/peer, run unchanged by
  the peer runner) pass 10 of 10 each against ``hifipose.solutions`` (mediapipe 0.10.14
  itself passes 9 and 10).
- The numbers through the shim are mediapipe 0.10.14's ``solutions.pose`` (fed the same model
  files) within the compat target, 0.15 % of the box diagonal (mean), on a subset of stills
  and clip frames per model in static and video mode; the full sweep is
  benchmarks/bench_solutions.py --accuracy. The shim adds nothing to the compat pipeline's
  numbers (same landmarks as ``create_detector(compat="mediapipe-python")``, to float32),
  which tests/integration/test_compat_mediapipe.py holds on every input.
- ``holistic.Holistic`` adds nothing to ``create_detector(holistic=True)``'s hands and face
  (tests/integration/test_holistic.py holds those against MediaPipe's Holistic).
- draw_landmarks on real results draws MediaPipe's pixels.
- Bad input raises MediaPipe's error kinds and loses nothing.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

import hifipose
from hifipose.solutions import drawing_styles, drawing_utils
from hifipose.solutions import holistic as hp_holistic
from hifipose.solutions import pose as hp_pose
from tests import tolerances as tol
from tests.conftest import REPORT, ROOT, SHARED_DATA, clip_frames, read_rgb
from tests.integration.helpers import COMPLEXITY, ParityStats

PEER_RUNNER = ROOT.parent / "shared" / "peer" / "run_mp_solution_tests.py"
MODEL_TYPES = ("lite", "full", "heavy")
#: The CI subset: three stills of different kinds, and the first frames of two clips (the
#: crossing clip's before the two people overlap, frame 41: see test_compat_mediapipe.py).
STILLS = ("tfjs_golden/pose.jpg", "multi/three_people.jpg", "labelled/coco/000000000785.jpg")
CLIP_FRAMES = {"tfjs_golden/pose_squats.mp4": 24, "multi/crossing_squats.mp4": 16}


def _env_with_this_checkout() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "src"), env.get("PYTHONPATH")) if p)
    return env


@pytest.mark.parametrize("solution", ["pose", "holistic"])
def test_mediapipes_own_solution_test_passes_unchanged(solution: str, tmp_path: Path) -> None:
    # MediaPipe's tests write their annotated frames to the temporary folder: this test's own.
    env = {**_env_with_this_checkout(), "TMPDIR": str(tmp_path)}
    run = subprocess.run(
        [sys.executable, str(PEER_RUNNER), "--impl", "hifipose", "--tests", solution],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    lines = run.stdout.strip().splitlines()
    assert lines, run.stderr[-2000:]
    REPORT.append(f"MediaPipe's {solution}_test.py against hifipose.solutions: {lines[-1]}")
    assert lines[-1] == "hifipose: 10 passed, 0 failed", run.stdout[-3000:] + run.stderr[-2000:]
    assert run.returncode == 0


def _arrays(results, size_wh: tuple[int, int]) -> tuple[np.ndarray, np.ndarray] | None:
    if results.pose_landmarks is None:
        return None
    width, height = size_wh
    image = np.array(
        [
            [p.x * width, p.y * height, p.z * width, p.visibility]
            for p in results.pose_landmarks.landmark
        ]
    )
    world = np.array([[p.x, p.y, p.z] for p in results.pose_world_landmarks.landmark])
    return image, world


def _shim_stats(
    frames, references, model_type: str, model_dir: Path, *, static: bool
) -> ParityStats:
    stats = ParityStats()
    with hp_pose.Pose(
        static_image_mode=static, model_complexity=COMPLEXITY[model_type], model_dir=model_dir
    ) as solution:
        for index, (frame, reference) in enumerate(zip(frames, references, strict=True)):
            ours = _arrays(solution.process(frame), (frame.shape[1], frame.shape[0]))
            stats.frames += 1
            if (ours is None) != (reference is None):
                stats.presence_mismatches.append(index)
            elif ours is not None:
                stats.add(index, ours[0], ours[1], reference)
    return stats


@pytest.mark.parametrize("static", [True, False], ids=["static", "video"])
@pytest.mark.parametrize("model_type", MODEL_TYPES)
def test_numbers_through_the_shim_are_mediapipes(
    model_type: str, static: bool, model_dir: Path, mediapipe_reference
) -> None:
    inputs = [(name, [read_rgb(SHARED_DATA / name)]) for name in STILLS] if static else []
    inputs += [
        (name, list(clip_frames(SHARED_DATA / name)[:count])) for name, count in CLIP_FRAMES.items()
    ]
    failures = []
    for name, frames in inputs:
        key = f"solutions-subset/{name}"
        references = mediapipe_reference(key, frames, static=static, model_type=model_type)
        stats = _shim_stats(frames, references, model_type, model_dir, static=static)
        if stats.presence_mismatches or stats.other_person:
            failures.append(f"{name}: {stats.summary()}")
            continue
        if not stats.rel_errors:
            continue  # neither finds a pose (agreed just above)
        mean = float(np.mean(stats.rel_errors))
        REPORT.append(
            f"solutions {'static' if static else 'video'} {model_type} {name} "
            f"({len(frames)} frames): mean {100 * mean:.3f}% of the box diagonal"
        )
        if mean > tol.COMPAT_TARGET_REL_MEAN:
            failures.append(f"{name}: {stats.summary()}")
    assert not failures, "\n".join(failures)


def test_the_shim_adds_nothing_to_the_compat_pipeline(model_dir: Path) -> None:
    """Same landmarks as create_detector(compat="mediapipe-python"), to float32 rounding."""
    frames = clip_frames(SHARED_DATA / "tfjs_golden" / "pose_squats.mp4")[:20]
    height, width = frames[0].shape[:2]
    scale = np.array([width, height, width], np.float32)
    with (
        hp_pose.Pose(model_dir=model_dir, enable_segmentation=True) as solution,
        hifipose.create_detector(
            model_dir=model_dir, compat="mediapipe-python", enable_segmentation=True
        ) as detector,
    ):
        for frame in frames:
            results = solution.process(frame)
            (pose,) = detector.estimate_poses(frame)
            image = np.array(
                [[p.x, p.y, p.z, p.visibility] for p in results.pose_landmarks.landmark]
            )
            np.testing.assert_allclose(
                image[:, :3] * scale, pose.image_array[:, :3], rtol=1e-6, atol=1e-4
            )
            np.testing.assert_array_equal(image[:, 3], pose.image_array[:, 3])
            world = [[p.x, p.y, p.z] for p in results.pose_world_landmarks.landmark]
            np.testing.assert_array_equal(world, pose.world_array_m)
            np.testing.assert_array_equal(results.segmentation_mask, pose.segmentation)
            assert results.segmentation_mask.dtype == np.float32
            assert results.segmentation_mask.shape == (height, width)


def test_holistic_adds_nothing_to_hifiposes_holistic(model_dir: Path) -> None:
    """Same pose, hands and face as create_detector(holistic=True, compat="mediapipe-python"),
    the person's left hand as left_hand_landmarks, to float32 rounding."""
    frames = clip_frames(SHARED_DATA / "tfjs_golden" / "pose_squats.mp4")[:8]
    height, width = frames[0].shape[:2]
    scale = np.array([width, height, width], np.float32)
    found = {"left_hand": 0, "right_hand": 0, "face": 0}
    with (
        hp_holistic.Holistic(model_dir=model_dir) as solution,
        hifipose.create_detector(
            model_dir=model_dir, compat="mediapipe-python", holistic=True
        ) as detector,
    ):
        for frame in frames:
            results = solution.process(frame)
            (pose,) = detector.estimate_poses(frame)
            pairs = {
                "left_hand": (results.left_hand_landmarks, pose.left_hand),
                "right_hand": (results.right_hand_landmarks, pose.right_hand),
                "face": (results.face_landmarks, pose.face),
            }
            for part, (theirs, ours) in pairs.items():
                assert (theirs is None) == (ours is None), part
                if ours is None:
                    continue
                found[part] += 1
                got = np.array([[p.x, p.y, p.z] for p in theirs.landmark]) * scale
                np.testing.assert_allclose(got, ours.image_array, rtol=1e-6, atol=1e-3)
            image = np.array([[p.x, p.y, p.z] for p in results.pose_landmarks.landmark])
            np.testing.assert_allclose(image * scale, pose.image_array[:, :3], rtol=1e-6, atol=1e-4)
    assert all(count > 0 for count in found.values()), found


def test_draw_landmarks_on_real_results_draws_mediapipes_pixels(model_dir: Path) -> None:
    mp_drawing = pytest.importorskip("mediapipe.python.solutions.drawing_utils")
    landmark_pb2 = pytest.importorskip("mediapipe.framework.formats.landmark_pb2")
    frames = [read_rgb(SHARED_DATA / name) for name in STILLS]
    frames += list(clip_frames(SHARED_DATA / "multi" / "crossing_squats.mp4")[:60:20])
    with hp_pose.Pose(static_image_mode=True, model_dir=model_dir) as solution:
        for frame in frames:
            results = solution.process(frame)
            theirs = landmark_pb2.NormalizedLandmarkList()
            for point in results.pose_landmarks.landmark:
                theirs.landmark.add(x=point.x, y=point.y, z=point.z, visibility=point.visibility)
            bgr = cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)
            mine, original = bgr.copy(), bgr.copy()
            style = drawing_styles.get_default_pose_landmarks_style()
            drawing_utils.draw_landmarks(
                mine, results.pose_landmarks, hp_pose.POSE_CONNECTIONS, style
            )
            mp_drawing.draw_landmarks(original, theirs, hp_pose.POSE_CONNECTIONS, style)
            assert not np.array_equal(original, bgr)
            np.testing.assert_array_equal(mine, original)


def test_holistic_bad_input_and_close_are_mediapipes(model_dir: Path) -> None:
    with hp_holistic.Holistic(static_image_mode=True, model_dir=model_dir) as solution:
        with pytest.raises(
            ValueError, match=re.escape("Input image must contain three channel rgb data.")
        ):
            solution.process(np.arange(36, dtype=np.uint8).reshape(3, 3, 4))
        blank = solution.process(np.full((100, 100, 3), 255, np.uint8))
        assert blank == (None,) * 6
    solution.close()  # again: nothing happens
    with pytest.raises(ValueError, match="this Holistic is closed"):
        solution.process(np.zeros((8, 8, 3), np.uint8))


def test_bad_input_raises_mediapipes_errors_and_loses_nothing(model_dir: Path) -> None:
    frames = clip_frames(SHARED_DATA / "tfjs_golden" / "pose_squats.mp4")
    with hp_pose.Pose(model_dir=model_dir) as solution:
        first = solution.process(frames[0])
        with pytest.raises(
            ValueError, match=re.escape("Input image must contain three channel rgb data.")
        ):
            solution.process(np.zeros((64, 64, 4), np.uint8))
        with pytest.raises(TypeError, match="dtype"):
            solution.process(frames[1].astype(np.float32))
        with pytest.raises(ValueError, match="empty"):
            solution.process(
                np.zeros((0, 64, 3), np.uint8)
            )  # MediaPipe's graph broke for good here
        after = solution.process(frames[1])  # still tracking, as if the bad frames never came
        assert after.pose_landmarks is not None and first.pose_landmarks is not None
        blank = solution.process(np.full((100, 100, 3), 255, np.uint8))
        assert blank == (None, None, None)
        solution.reset()
        assert solution.process(frames[0]).pose_landmarks == first.pose_landmarks  # a new stream
    solution.close()  # again: nothing happens
    with pytest.raises(ValueError, match="closed"):
        solution.process(frames[0])
    with pytest.raises(ValueError, match="closed"):
        solution.reset()


def test_extra_keyword_arguments_pick_the_runtime(model_dir: Path) -> None:
    frame = read_rgb(SHARED_DATA / "tfjs_golden" / "pose.jpg")
    with (
        hp_pose.Pose(static_image_mode=True, model_dir=model_dir) as litert,
        hp_pose.Pose(
            static_image_mode=True, model_dir=model_dir, runtime="onnxruntime", num_threads=1
        ) as onnx,
    ):
        assert onnx.detector.config.runtime == "onnxruntime"
        assert onnx.detector.config.num_threads == 1
        a = _arrays(litert.process(frame), (frame.shape[1], frame.shape[0]))
        b = _arrays(onnx.process(frame), (frame.shape[1], frame.shape[0]))
    assert a is not None and b is not None
    np.testing.assert_allclose(a[0][:, :2], b[0][:, :2], atol=0.05)  # float32 summation order


def test_runtime_mediapipe_is_mediapipe_tasks_without_a_compat_mode(model_dir: Path) -> None:
    """``Pose(runtime="mediapipe")`` is Tasks' landmarker: the compat default does not apply."""
    frame = read_rgb(SHARED_DATA / "tfjs_golden" / "pose.jpg")
    with (
        hp_pose.Pose(static_image_mode=True, model_dir=model_dir) as ours,
        hp_pose.Pose(static_image_mode=True, model_dir=model_dir, runtime="mediapipe") as tasks,
    ):
        assert tasks.detector.config.compat == "graph"
        a = _arrays(ours.process(frame), (frame.shape[1], frame.shape[0]))
        b = _arrays(tasks.process(frame), (frame.shape[1], frame.shape[0]))
    assert a is not None and b is not None
    np.testing.assert_allclose(a[0][:, :2], b[0][:, :2], atol=2.0)  # px; measured ≤ 1.07
