"""``runtime="mediapipe"`` with ``holistic=True``: MediaPipe's own legacy Holistic solution.

It is fed the same npm model files as hifipose's own Holistic, so its hands and face must
agree with hifipose's (litert, ``compat="mediapipe-python"``): each part's mean point error
as a % of that part's own box diagonal (MediaPipe's points). Static: two photos, a fresh
MediaPipe graph per photo (``reset()``: its ROIs loop back even in static mode). Video: a
few frames of the squat clip, judged by the median over frames (hands move by ~2 % of their
box under ±1 grey of noise in MediaPipe itself; test_holistic.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import hifipose
from hifipose.errors import ConfigError
from hifipose.models import ensure_model
from hifipose.pose import Pose
from hifipose.runtimes.mediapipe_holistic import MODULE_FILES, NpmResourceDir, holistic_model_files
from hifipose.solutions import holistic as hp_holistic
from tests.conftest import REPORT, clip_frames, read_rgb

pytest.importorskip("mediapipe", reason="the mediapipe runtime needs hifipose[mediapipe]")

PARTS = ("left_hand", "right_hand", "face")


def _percent_of_diagonal(ours: np.ndarray, reference: np.ndarray) -> float:
    diagonal = float(np.hypot(*np.ptp(reference[:, :2], axis=0)))
    return 100.0 * float(np.hypot(*(ours[:, :2] - reference[:, :2]).T).mean()) / diagonal


def _compare(
    frames: list[np.ndarray], *, static: bool
) -> tuple[dict[str, list[float]], dict[str, int], list[Pose]]:
    """Per part: % errors where both found it, presence disagreements; MediaPipe's poses."""
    errors: dict[str, list[float]] = {part: [] for part in PARTS}
    mismatches = dict.fromkeys(PARTS, 0)
    theirs_all: list[Pose] = []
    options = {"static_image_mode": static, "holistic": True}
    with (
        hifipose.create_detector(runtime="mediapipe", **options) as mediapipe,
        hifipose.create_detector(compat="mediapipe-python", **options) as ours,
    ):
        for frame in frames:
            if static:
                mediapipe.reset()  # a fresh graph: no ROI from the previous photo
            (theirs,) = mediapipe.estimate_poses(frame)
            (mine,) = ours.estimate_poses(frame)
            theirs_all.append(theirs)
            for part in PARTS:
                a, b = getattr(mine, part), getattr(theirs, part)
                if (a is None) != (b is None):
                    mismatches[part] += 1
                elif a is not None and b is not None:
                    errors[part].append(_percent_of_diagonal(a.image_array, b.image_array))
    return errors, mismatches, theirs_all


def test_static_parts_agree_with_hifipose_holistic(shared_data: Path) -> None:
    photos = [  # hands without a face; both hands and a face
        shared_data / "tfjs_golden" / "pose.jpg",
        shared_data / "labelled" / "crowdpose" / "106848.jpg",
    ]
    errors, mismatches, poses = _compare([read_rgb(p) for p in photos], static=True)
    for part in PARTS:
        REPORT.append(
            f"runtime=mediapipe holistic static {part}: {len(errors[part])} found by both, "
            f"{mismatches[part]} mismatches, max {max(errors[part], default=0):.3f} % of its box"
        )
        assert mismatches[part] == 0, f"{part}: found by one side only"
        assert errors[part], f"{part}: found on no photo"
        # measured: max 0.23 % (left hand), 0.10 % (right hand), 0.25 % (face)
        assert max(errors[part]) < 1.0, f"{part}: {max(errors[part]):.3f} % of its box"
    for pose in poses:
        assert pose.track_id is None and pose.score == 1.0
        assert np.all(pose.image_array[:, 4] == 1.0)  # presence: not given, see the module
        for part, label in (("left_hand", "Right"), ("right_hand", "Left")):
            hand = getattr(pose, part)
            if hand is not None:
                assert hand.handedness == label
                assert (hand.world_array_m, hand.score, hand.handedness_score) == (None,) * 3
        if pose.face is not None:
            assert pose.face.image_array.shape == (468, 3) and pose.face.score is None


def test_video_parts_follow_hifipose_holistic(shared_data: Path) -> None:
    frames = clip_frames(shared_data / "tfjs_golden" / "pose_squats.mp4")[:8]
    errors, mismatches, _ = _compare(frames, static=False)
    for part in PARTS:
        median = float(np.median(errors[part]))
        REPORT.append(
            f"runtime=mediapipe holistic video {part}: {len(errors[part])} of {len(frames)} "
            f"frames found by both, {mismatches[part]} mismatches, median {median:.3f} %"
        )
        assert len(errors[part]) >= len(frames) // 2, f"{part}: found on too few frames"
        assert mismatches[part] <= 1, f"{part}: {mismatches[part]} presence mismatches"
        # measured (8 frames): median 0.27 % / 0.11 % / 0.11 % (left hand, right hand, face)
        assert median < (0.6 if part == "face" else 1.5), f"{part}: median {median:.3f} %"


def test_one_person_only_and_the_solution_runs_on_it(
    shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Also: the lite model is the npm file, never downloaded into the installed package
    (mediapipe's Holistic would, for model_complexity 0 or 2, where the wheel lacks it)."""
    from mediapipe.python.solutions import download_utils

    def refuse(path: str) -> None:
        pytest.fail(f"MediaPipe tried to download {path}")

    monkeypatch.setattr(download_utils, "download_oss_model", refuse)
    with pytest.raises(ConfigError, match="num_poses must be 1"):
        hifipose.create_detector(runtime="mediapipe", holistic=True, num_poses=2)
    image = read_rgb(shared_data / "tfjs_golden" / "pose.jpg")
    with hp_holistic.Holistic(True, 0, runtime="mediapipe") as solution:  # static, lite
        results = solution.process(image)
    assert results.pose_landmarks is not None and results.pose_world_landmarks is not None
    for hand in (results.left_hand_landmarks, results.right_hand_landmarks):
        assert hand is not None and len(hand.landmark) == 21


def test_the_resource_folder_links_the_npm_files_and_the_wheels_others(model_dir: Path) -> None:
    """The wheel's hand and face builds give the same points to ~0.001 % on these photos, so
    the comparisons above cannot tell which files ran: the folder is checked instead."""
    import mediapipe

    names = holistic_model_files("heavy", refine_face_landmarks=True)
    resources = NpmResourceDir({name: ensure_model(name, fetch=False) for name in names})
    try:
        modules = resources.path / "mediapipe" / "modules"
        for name in names:
            npm = ensure_model(name, fetch=False).resolve()
            assert modules.joinpath(*MODULE_FILES[name]).resolve() == npm
        wheel = Path(str(mediapipe.__file__)).parent / "modules"
        graph = "holistic_landmark/holistic_landmark_cpu.binarypb"
        assert (modules / graph).resolve() == (wheel / graph).resolve()
        full = modules / "pose_landmark" / "pose_landmark_full.tflite"
        assert full.resolve() == (wheel / "pose_landmark" / "pose_landmark_full.tflite").resolve()
    finally:
        resources.cleanup()
    assert not resources.path.exists()
