"""One detector shared by several threads: the second caller gets ConcurrentUseError at once.

Before the guard, LiteRT raised its own RuntimeError for most overlapping calls and some
returned keypoints 30-50 px off with no error; the converted runtimes ran the calls
interleaved through one stream's state. Now a call either returns exactly what a lone call
returns, or raises ConcurrentUseError: never anything else.
"""

from __future__ import annotations

import importlib.util
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import hifipose
from tests.conftest import CPU_RUNTIMES, clip_frames, read_rgb

THREADS = 4
CALLS_PER_THREAD = 6
MAX_ROUNDS = 20
RUNTIMES = CPU_RUNTIMES + (("mediapipe",) if importlib.util.find_spec("mediapipe") else ())


def _hammer(detector: hifipose.PoseDetector, image: np.ndarray) -> list[object]:
    """Every outcome of THREADS threads calling the detector at once, CALLS_PER_THREAD each."""
    barrier = threading.Barrier(THREADS)
    outcomes: list[object] = []
    lock = threading.Lock()

    def work() -> None:
        barrier.wait()
        for _ in range(CALLS_PER_THREAD):
            try:
                result: object = detector.estimate_poses(image)
            except Exception as exc:  # noqa: BLE001 - every outcome is recorded and judged
                result = exc
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_concurrent_call_raises_and_no_call_is_wrong(
    runtime: str, shared_data: Path, model_dir: Path
) -> None:
    image = read_rgb(shared_data / "tfjs_golden" / "pose.jpg")
    with hifipose.create_detector(
        model_type="lite", runtime=runtime, static_image_mode=True, model_dir=model_dir
    ) as detector:
        (reference,) = detector.estimate_poses(image)
        refused = succeeded = 0
        for _ in range(MAX_ROUNDS):
            for outcome in _hammer(detector, image):
                if isinstance(outcome, BaseException):
                    assert isinstance(outcome, hifipose.ConcurrentUseError), repr(outcome)
                    assert "create one per thread" in str(outcome)
                    refused += 1
                    continue
                assert isinstance(outcome, list)
                (pose,) = outcome
                np.testing.assert_allclose(pose.image_array, reference.image_array, atol=1e-3)
                np.testing.assert_allclose(pose.world_array_m, reference.world_array_m, atol=1e-4)
                succeeded += 1
            if refused and succeeded:
                break
        assert refused > 0, "the threads never overlapped: the test did not exercise the guard"
        assert succeeded > 0
        # The detector is still usable, by one thread at a time, afterwards.
        (after,) = detector.estimate_poses(image)
        np.testing.assert_allclose(after.image_array, reference.image_array, atol=1e-3)


def test_sequential_use_from_several_threads_is_fine(shared_data: Path, model_dir: Path) -> None:
    # The guard refuses overlap only: handing a detector from thread to thread is allowed.
    image = read_rgb(shared_data / "tfjs_golden" / "pose.jpg")
    results: list[int] = []
    with hifipose.create_detector(model_type="lite", model_dir=model_dir) as detector:
        for _ in range(3):
            thread = threading.Thread(
                target=lambda: results.append(len(detector.estimate_poses(image)))
            )
            thread.start()
            thread.join()
    assert results == [1, 1, 1]


RESETS_WANTED = 40
MAX_FRAMES_FOR_RESETS = 400
RESET_PAUSE_S = 0.0005


def test_reset_from_another_thread_during_a_call_raises_concurrent_use(
    shared_data: Path, model_dir: Path
) -> None:
    """reset() takes the same guard: it never tears the tracker's state under a running call.

    Before, a reset during estimate_poses emptied the tracks while the call was matching them
    and the call died with an IndexError in the duplicate test (52 of 120 calls).
    """
    frames = clip_frames(shared_data / "multi" / "crossing_squats.mp4")[:30]
    with hifipose.create_detector(
        model_type="lite", num_poses=3, detect_every=1, model_dir=model_dir, num_threads=1
    ) as detector:
        stop = threading.Event()
        reset_outcomes: list[BaseException | None] = []

        def keep_resetting() -> None:
            while not stop.is_set():
                try:
                    detector.reset()
                except Exception as exc:  # noqa: BLE001 - every outcome is recorded and judged
                    reset_outcomes.append(exc)
                else:
                    reset_outcomes.append(None)
                time.sleep(RESET_PAUSE_S)  # leave the GIL to the caller now and then

        resetter = threading.Thread(target=keep_resetting)
        resetter.start()
        call_errors: list[BaseException] = []
        calls = 0
        try:
            while calls < MAX_FRAMES_FOR_RESETS:
                try:
                    detector.estimate_poses(frames[calls % len(frames)])
                except Exception as exc:  # noqa: BLE001 - judged below
                    call_errors.append(exc)
                calls += 1
                refused = sum(isinstance(o, BaseException) for o in reset_outcomes)
                if refused >= RESETS_WANTED and calls >= len(frames):
                    break
        finally:
            stop.set()
            resetter.join()
        errors = call_errors + [o for o in reset_outcomes if o is not None]
        assert all(isinstance(e, hifipose.ConcurrentUseError) for e in errors), [
            repr(e) for e in errors if not isinstance(e, hifipose.ConcurrentUseError)
        ][:3]
        refused = [o for o in reset_outcomes if o is not None]
        assert len(refused) >= RESETS_WANTED, "no reset overlapped a call: the guard was not tested"
        assert "create one per thread" in str(refused[0])
        # A reset between calls goes through, and the detector still works.
        detector.reset()
        assert any(detector.estimate_poses(frame) for frame in frames[:5])
