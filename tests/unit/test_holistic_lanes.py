"""PartsPipeline's two lanes (the caller's thread and one worker): threads, errors, results.

Fake sessions stand in for the part models (no model file is read): the recrop model puts
each hand's ROI on a fixed spot, the hand model finds a hand there, the face detector finds
no face. What is checked is the concurrency, not the numbers (the real models' outputs with
two lanes are compared bit for bit with one lane's by benchmarks/same_bits.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pytest
from numpy.typing import NDArray

from hifipose.errors import ModelIntegrityError
from hifipose.holistic import HOLISTIC_MODELS, PartsPipeline
from hifipose.pose import Pose

WORKER = "hifipose-parts"
Hook = Callable[[str], None]


class _FakeSession:
    """A part model's stand-in: fixed outputs per item; ``hook(name)`` runs before each run."""

    def __init__(self, name: str, hook: Hook | None = None) -> None:
        self.name = name
        self.input_names = ("input_1",)
        self.output_names: tuple[str, ...] = ()
        self.closed = False
        self._hook = hook

    def run(
        self,
        inputs: Mapping[str, NDArray[np.float32]],
        output_names: Sequence[str] | None = None,
    ) -> dict[str, NDArray[np.float32]]:
        del output_names
        if self._hook is not None:
            self._hook(self.name)
        count = len(inputs["input_1"])
        if self.name == "hand_recrop":  # two points in crop pixels: centre, then fingertip side
            return {"output_crop": np.tile(np.float32([128, 128, 128, 64]), (count, 1))}
        if self.name == "hand_landmark_full":
            points = np.random.default_rng(0).uniform(60, 160, 63).astype(np.float32)
            return {
                "Identity": np.tile(points, (count, 1)),
                "Identity_1": np.full((count, 1), 0.9, np.float32),
                "Identity_2": np.full((count, 1), 0.8, np.float32),
                "Identity_3": np.zeros((count, 63), np.float32),
            }
        if self.name == "face_detection_short_range":  # no face
            return {
                "regressors": np.zeros((count, 896, 16), np.float32),
                "classificators": np.full((count, 896, 1), -10.0, np.float32),
            }
        raise AssertionError(self.name)  # the face model: never reached without a face

    def close(self) -> None:
        self.closed = True


def _sessions(hook: Hook | None = None) -> dict[str, _FakeSession]:
    return {name: _FakeSession(name, hook) for name in HOLISTIC_MODELS}


def _pose(track_id: int = 1) -> Pose:
    """A standing person, both wrists visible: two hands and a face to look for."""
    points = np.zeros((33, 5), np.float32)
    points[:, 0] = np.linspace(200, 300, 33)
    points[:, 1] = np.linspace(100, 400, 33)
    points[:, 3:] = 1.0
    return Pose(points, np.zeros((33, 3)), 0.9, track_id=track_id)


def _workers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(WORKER)]


def test_two_lanes_find_what_one_lane_finds_and_close_joins_the_worker() -> None:
    image = np.full((480, 640, 3), 90, np.uint8)
    one = PartsPipeline(_sessions())
    main, helper = _sessions(), _sessions()
    two = PartsPipeline(main, helper_sessions=helper)
    try:
        for frame in range(3):  # video: the second frame onwards tracks
            expected = one.run(image, [_pose()], video=True)[0]
            got = two.run(image, [_pose()], video=True)[0]
            for part in ("left_hand", "right_hand"):
                assert getattr(got, part) is not None, (frame, part)
                assert getattr(got, part).image_array.tobytes() == (
                    getattr(expected, part).image_array.tobytes()
                )
            assert got.face is None
        assert len(_workers()) == 1
    finally:
        two.close()
        one.close()
    assert _workers() == []
    assert all(s.closed for s in (*main.values(), *helper.values()))
    two.close()  # again: nothing to do


def test_an_error_in_the_worker_lane_is_raised_to_the_caller_as_it_was() -> None:
    """The caller's lane waits until the worker's lane has run its (failing) hand model."""
    failed = threading.Event()
    raised_in: list[str] = []

    def wait_for_the_worker(name: str) -> None:
        if name == "hand_landmark_full":
            assert failed.wait(5.0), "the worker lane never ran a hand"

    def fail(name: str) -> None:
        if name == "hand_landmark_full":
            raised_in.append(threading.current_thread().name)
            failed.set()
            msg = "the hand model's file is damaged"
            raise ModelIntegrityError(msg)

    pipeline = PartsPipeline(_sessions(wait_for_the_worker), helper_sessions=_sessions(fail))
    try:
        with pytest.raises(ModelIntegrityError, match="damaged"):
            pipeline.run(np.zeros((480, 640, 3), np.uint8), [_pose()], video=True)
        assert raised_in and raised_in[0].startswith(WORKER)
    finally:
        pipeline.close()
    assert _workers() == []
