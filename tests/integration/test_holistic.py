"""Holistic: hands and face against mediapipe 0.10.14's own Holistic, fed the npm model files.

MediaPipe's Holistic runs with the pinned npm hand, recrop, face and face-detector files
(hifipose_dev.holistic_parity links them into a private copy of its resource folder). Each
part is judged by its error as a % of that part's own box diagonal (MediaPipe's points), and
by presence agreement. Static: every shared photo, a fresh MediaPipe graph per photo (its
parts otherwise track across unrelated photos). Video: the squat clip frame by frame; hands
move by ~2 % of their box under ±1 grey of noise in MediaPipe itself, so video is judged by
the median over frames. Bounds are the measured figures (docs/holistic-spec.md §8) with a
margin for another CPU's kernels.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import hifipose
from hifipose.errors import RuntimeUnavailableError
from hifipose.pose import Pose
from hifipose_dev.holistic_parity import holistic_arrays, holistic_solution
from tests.conftest import REPORT, clip_frames, read_rgb, shared_images

PARTS = ("left_hand", "right_hand", "face")
COMPLEXITY = {"lite": 0, "full": 1, "heavy": 2}
# Four photos on which MediaPipe and hifipose both find both hands and the face with lite and
# with heavy (aic fa436c91, crowdpose 106848, mpii 004645041, ochuman 000817): the lite/heavy
# static check's photos. Over all 25 photos the only presence flip is lite's left hand on
# posetrack 012834 (MediaPipe flips presence under ±1 grey of noise on 4-8 % of photos).
FEW_PHOTOS = (1, 8, 9, 14)
# MediaPipe's own video noise floor: the median over frames of its parts' error against itself
# under ±1 grey of uniform integer noise, 5 seeds pooled, whole squat clip, % of each part's box
# (benchmarks/results/holistic_parity.md).
VIDEO_FLOOR = {
    "lite": {"left_hand": 1.54, "right_hand": 0.43, "face": 0.29},
    "heavy": {"left_hand": 1.42, "right_hand": 0.39, "face": 0.26},
}


def _ours(pose: Pose | None, part: str) -> np.ndarray | None:
    found = None if pose is None else getattr(pose, part)
    return None if found is None else found.image_array


def _percent_of_diagonal(
    ours: np.ndarray, reference: np.ndarray, box: np.ndarray | None = None
) -> float:
    """Mean distance as a % of the diagonal of ``box``'s points (default: ``reference``'s)."""
    box = reference if box is None else box
    diagonal = float(np.hypot(*(box[:, :2].max(0) - box[:, :2].min(0))))
    return 100.0 * float(np.hypot(*(ours[:, :2] - reference[:, :2]).T).mean()) / diagonal


def _compare(
    frames: list[np.ndarray], *, static: bool, model: str = "full"
) -> dict[str, tuple[list[float], int]]:
    """Per part: the % errors on frames where both found it, and the presence disagreements."""
    errors: dict[str, list[float]] = {part: [] for part in PARTS}
    mismatches = dict.fromkeys(PARTS, 0)
    with holistic_solution() as mp_holistic:
        solution = None
        with hifipose.create_detector(
            model_type=model, static_image_mode=static, holistic=True, compat="mediapipe-python"
        ) as detector:
            for frame in frames:
                if solution is None or static:
                    if solution is not None:
                        solution.close()
                    solution = mp_holistic.Holistic(
                        static_image_mode=static, model_complexity=COMPLEXITY[model]
                    )
                reference = holistic_arrays(solution.process(frame), frame.shape[1::-1])
                poses = detector.estimate_poses(frame)
                pose = poses[0] if poses else None
                for part in PARTS:
                    ours, theirs = _ours(pose, part), reference[part]
                    if (ours is None) != (theirs is None):
                        mismatches[part] += 1
                    elif ours is not None and theirs is not None:
                        errors[part].append(_percent_of_diagonal(ours, theirs))
        if solution is not None:
            solution.close()
    return {part: (errors[part], mismatches[part]) for part in PARTS}


def test_static_hands_and_face_match_mediapipe_holistic(shared_data: Path) -> None:
    frames = [read_rgb(path) for path in shared_images()[::2]]  # 11 of the 22: CI time
    figures = _compare(frames, static=True)
    for part, (errors, mismatches) in figures.items():
        REPORT.append(
            f"holistic static {part}: {len(errors)} found by both, {mismatches} presence "
            f"mismatches, mean {np.mean(errors):.3f} % max {np.max(errors):.3f} % of its box"
        )
        assert len(errors) >= 3, f"{part}: too few photos with the part to judge"
        assert mismatches == 0, f"{part}: found by one side only on {mismatches} photos"
        # measured: mean 0.07-0.16 %, max 0.52 % (hands), 0.25 % (face)
        assert np.mean(errors) < 0.6, f"{part}: mean error {np.mean(errors):.3f} % of its box"
        assert np.max(errors) < 2.5, f"{part}: worst photo {np.max(errors):.3f} % of its box"


def test_video_hands_and_face_follow_mediapipe_holistic(shared_data: Path) -> None:
    frames = clip_frames(shared_data / "tfjs_golden" / "pose_squats.mp4")[:30]
    figures = _compare(frames, static=False)
    for part, (errors, mismatches) in figures.items():
        median = float(np.median(errors))
        REPORT.append(
            f"holistic video {part}: {len(errors)} of {len(frames)} frames found by both, "
            f"{mismatches} presence mismatches, median {median:.3f} % of its box"
        )
        assert len(errors) >= len(frames) // 2, f"{part}: found on too few frames"
        assert mismatches <= len(frames) // 10, f"{part}: {mismatches} presence mismatches"
        # measured: median 1.84 % / 0.29 % / 0.20 % (left hand, right hand, face) over the whole
        # clip; 0.81 % / 0.26 % / 0.11 % over these 30 frames
        bound = 1.0 if part == "face" else 4.0
        assert median < bound, f"{part}: median error {median:.3f} % of its box"


@pytest.mark.parametrize("model", ["lite", "heavy"])
def test_lite_and_heavy_hands_and_face_match_mediapipe_holistic(
    shared_data: Path, model: str
) -> None:
    """The other two pose models: four photos static, the squat clip's first 20 frames in video.

    Measured (litert, 2-core x86-64): static ≤ 0.28 % of the part's box on these photos (all 25
    photos: mean 0.06-0.22 %, worst 1.12 %, lite's right hand on ochuman 003799); video medians
    over these frames 0.40 / 0.17 / 0.17 % (lite: left hand, right hand, face) and 0.80 / 0.28 /
    0.15 % (heavy), presence flips: heavy's right hand on frames 8-9.
    """
    photos = shared_images()
    figures = _compare([read_rgb(photos[i]) for i in FEW_PHOTOS], static=True, model=model)
    for part, (errors, mismatches) in figures.items():
        REPORT.append(
            f"holistic {model} static {part}: mean {np.mean(errors):.3f} % max "
            f"{np.max(errors):.3f} % of its box, {mismatches} presence mismatches"
        )
        assert mismatches == 0, f"{model} {part}: found by one side only on {mismatches} photos"
        assert len(errors) == len(FEW_PHOTOS), f"{model} {part}: not found on every photo"
        # Static bounds: MediaPipe's own mean error under ±1 grey of noise is ≥ 0.65 % for every
        # part and model (holistic_parity.md); the worst photo of all 25 is 1.12 %.
        assert np.mean(errors) < 0.6, f"{model} {part}: mean {np.mean(errors):.3f} % of its box"
        assert np.max(errors) < 1.5, f"{model} {part}: worst {np.max(errors):.3f} % of its box"
    frames = clip_frames(shared_data / "tfjs_golden" / "pose_squats.mp4")[:20]
    figures = _compare(frames, static=False, model=model)
    for part, (errors, mismatches) in figures.items():
        median = float(np.median(errors))
        REPORT.append(
            f"holistic {model} video {part}: {len(errors)} of {len(frames)} frames by both, "
            f"{mismatches} presence mismatches, median {median:.3f} % of its box"
        )
        assert len(errors) >= len(frames) * 3 // 4, f"{model} {part}: found on too few frames"
        # MediaPipe flips a hand's presence on 2.5-5 % of frames under noise; measured here: 2.
        assert mismatches <= 3, f"{model} {part}: {mismatches} presence mismatches"
        # Video bound: MediaPipe's own median movement under ±1 grey of noise. hifipose's
        # deviation sits under that floor on the whole clip for every part and model, and at
        # 0.26-0.71 of it on these frames (heavy's right hand the closest). A hand tracking ROI
        # 10 % too large (scale 2.2 for 2.0) gives 1.76 / 0.79 % on lite and fails; at twice
        # the floor it would pass.
        bound = VIDEO_FLOOR[model][part]
        assert median < bound, f"{model} {part}: median {median:.3f} % of its box (< {bound})"


#: Photos for the refined face: faces of several sizes and angles (the worst of the 22 on iris
#: error among them), all found by both sides.
REFINE_PHOTOS = ("054d9ce9201beffc76e5ff2169d2af2f027002ca.jpg", "103319.jpg", "003896.jpg")


def test_static_refined_face_matches_mediapipe_holistic(shared_data: Path) -> None:
    """refine_face_landmarks: the 478 points against MediaPipe's Holistic with
    refine_face_landmarks=True, the mesh's 468 and the irises' 10 judged apart. Default runtime:
    LiteRT, with the attention model on onnxruntime (the converted custom operators)."""
    photos = {path.name: path for path in shared_images()}
    frames = [read_rgb(photos[name]) for name in REFINE_PHOTOS]
    mesh_errors, iris_errors = [], []
    with (
        holistic_solution() as mp_holistic,
        hifipose.create_detector(
            static_image_mode=True,
            holistic=True,
            refine_face_landmarks=True,
            compat="mediapipe-python",
        ) as detector,
    ):
        for frame in frames:
            with mp_holistic.Holistic(
                static_image_mode=True, model_complexity=1, refine_face_landmarks=True
            ) as solution:
                theirs = holistic_arrays(solution.process(frame), frame.shape[1::-1])["face"]
            poses = detector.estimate_poses(frame)
            ours = _ours(poses[0] if poses else None, "face")
            assert ours is not None and theirs is not None, "a face found by one side only"
            assert ours.shape == theirs.shape == (478, 3)
            assert len(poses[0].to_dict()["face"]["keypoints"]) == 478  # what JSONL writes
            mesh_errors.append(_percent_of_diagonal(ours[:468], theirs[:468], theirs))
            iris_errors.append(_percent_of_diagonal(ours[468:], theirs[468:], theirs))
    REPORT.append(
        f"holistic refined face, {len(frames)} photos: mesh mean {np.mean(mesh_errors):.3f} % "
        f"max {np.max(mesh_errors):.3f} %, irises mean {np.mean(iris_errors):.3f} % max "
        f"{np.max(iris_errors):.3f} % of the face box"
    )
    # measured: these 3, mesh max 0.16 %, irises max 0.28 %; all 25 photos (17 faces by both)
    # mesh mean 0.09 % max 0.30 %, irises mean 0.13 % max 0.42 % (benchmarks/refine_face_parity.py)
    assert np.max(mesh_errors) < 0.6, f"mesh: {mesh_errors}"
    assert np.max(iris_errors) < 0.8, f"irises: {iris_errors}"


def test_refined_face_on_litert_without_onnxruntime_names_the_extra(
    shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as on the core install
    match = r"refine_face_landmarks on runtime 'litert' .* pip install 'hifipose\[onnx\]'"
    with pytest.raises(RuntimeUnavailableError, match=match):
        hifipose.create_detector(holistic=True, refine_face_landmarks=True)


def _part_workers() -> list[threading.Thread]:
    """The parts pipeline's worker threads alive now (PartsPipeline's second lane)."""
    return [t for t in threading.enumerate() if t.name.startswith("hifipose-parts")]


def test_each_hand_stays_with_the_body_whose_wrist_placed_it(shared_data: Path) -> None:
    """Two people cross: every hand found sits at its own body's wrist (a hand taken from the
    other person would sit at theirs), and each person has at most one of each hand. The
    parts run in two lanes (LiteRT's default 2 threads): closing the detector ends its
    worker thread."""
    frames = clip_frames(shared_data / "multi" / "crossing_squats.mp4")[44:76]  # cross at ~60
    seen = 0
    workers_before = _part_workers()
    with hifipose.create_detector(num_poses=2, holistic=True) as detector:
        for index, frame in enumerate(frames):
            poses = detector.estimate_poses(frame)
            assert len({pose.track_id for pose in poses}) == len(poses)
            for pose in poses:
                for part, wrist in (("left_hand", 15), ("right_hand", 16)):
                    hand = getattr(pose, part)
                    if hand is None:
                        continue
                    seen += 1
                    points = hand.image_array[:, :2]
                    size = float(np.hypot(*np.ptp(points, axis=0)))
                    own = float(np.hypot(*(points[0] - pose.image_array[wrist, :2])))
                    assert own < 1.5 * size, (
                        f"frame {index}: track {pose.track_id}'s {part} is {own:.0f} px from "
                        f"its wrist (hand {size:.0f} px)"
                    )
        assert len(_part_workers()) == len(workers_before) + 1
    assert _part_workers() == workers_before
    assert seen > len(frames), "too few hands found to judge"


def test_a_degenerate_pose_gets_no_parts_and_no_error(model_dir: Path) -> None:
    """All points on one pixel (or not finite): no ROI to crop, so no hand and no face."""
    from hifipose.holistic import HOLISTIC_MODELS, PartsPipeline
    from hifipose.models import ensure_model
    from hifipose.runtimes import SessionOptions, open_session

    sessions = {
        name: open_session("litert", ensure_model(name, fetch=False), SessionOptions())
        for name in HOLISTIC_MODELS
    }
    pipeline = PartsPipeline(sessions)
    try:
        image = np.full((64, 48, 3), 128, np.uint8)
        points = np.zeros((33, 5), np.float32)
        points[:, :2] = (20.0, 30.0)
        points[:, 3:] = 1.0
        nan = points.copy()
        nan[:, 0] = np.linspace(10, 40, 33)  # spread out, but the hands and face not finite
        nan[15:21, 0] = np.nan
        nan[0:11, 1] = np.nan
        poses = [
            Pose(points, np.zeros((33, 3)), 0.9, track_id=1),
            Pose(nan, np.zeros((33, 3)), 0.9),
        ]
        for pose in pipeline.run(image, poses, video=True):
            assert pose.parts is not None
            assert (pose.left_hand, pose.right_hand, pose.face) == (None, None, None)
    finally:
        pipeline.close()
