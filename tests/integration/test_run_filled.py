"""A crop written into the runtime's own input tensor gives the outputs of ``run``, bit for bit.

``run_filled`` (LiteRT's interpreter buffer, OpenVINO's request tensor) and the fallback of
:func:`hifipose.runtimes.base.run_filled` (a caller's buffer through ``run``) against ``run``
on the same batch: one crop, as tracking runs it, and two, as several people do. So does
``run_each``, whose ``read`` sees each item's outputs (the runtime's own buffers where it has
them).
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

from hifipose.detector import landmark_outputs
from hifipose.models import ensure_model
from hifipose.runtimes import SessionOptions, open_session
from hifipose.runtimes.base import run_each, run_filled

NAMES = landmark_outputs(enable_segmentation=True)


@pytest.mark.parametrize(
    ("runtime", "direct"), [("litert", True), ("openvino", True), ("onnxruntime", False)]
)
@pytest.mark.parametrize("count", [1, 2])
def test_run_filled_equals_run(runtime: str, direct: bool, count: int) -> None:
    path = ensure_model("pose_landmark_lite", fetch=False)
    batch = np.random.default_rng(count).random((count, 256, 256, 3), dtype=np.float32)
    with contextlib.closing(open_session(runtime, path, SessionOptions())) as session:
        assert hasattr(session, "run_filled") is direct
        expected = session.run({"input_1": batch}, NAMES)
        written: list[int] = []

        def fill(i: int, item: np.ndarray) -> None:
            assert item.shape == (256, 256, 3)
            assert item.dtype == np.float32
            assert item.flags.c_contiguous
            item[...] = batch[i]
            written.append(i)

        buffer = np.full((count + 1, 256, 256, 3), np.nan, np.float32)
        got = run_filled(session, "input_1", count, fill, output_names=NAMES, buffer=buffer)
        assert written == list(range(count))
        assert list(got) == list(NAMES)
        for name in NAMES:
            assert got[name].shape == expected[name].shape
            assert got[name].tobytes() == expected[name].tobytes(), name
        # the outputs are the caller's: the next run does not change them
        kept = {name: value.copy() for name, value in got.items()}
        session.run({"input_1": batch[::-1].copy()}, NAMES)
        for name in NAMES:
            assert got[name].tobytes() == kept[name].tobytes(), name
        # run_each: read sees item i's outputs (batch of 1), and returns what it keeps
        assert hasattr(session, "run_each") is direct
        written.clear()

        def read(i: int, outputs: object) -> dict[str, bytes]:
            assert isinstance(outputs, dict)
            assert list(outputs) == list(NAMES)
            return {name: outputs[name].tobytes() for name in NAMES}

        each = run_each(session, "input_1", count, fill, read, output_names=NAMES, buffer=buffer)
        assert written == list(range(count))
        for i, item in enumerate(each):
            for name in NAMES:
                assert item[name] == expected[name][i : i + 1].tobytes(), name
