"""Property-based fuzzing of keypoint files and camera intrinsics files.

Keypoint files: a real pose table (two synthetic people squatting) written as CSV, Parquet
or JSON Lines, then damaged as other tools and hand edits damage files: columns dropped,
renamed or replaced by text, booleans, integers or nulls; cells set to NaN, ±inf, huge or
tiny values; rows reversed, shuffled, duplicated or cut; JSON lines with keys removed or
values replaced by any JSON; or plain random bytes. Each goes into ``read_poses``,
``read_tracks`` → ``analyze_tracks`` (angles in both spaces, the squat counter) →
``analysis_table``, and ``hifipose analyze`` itself (its Python entry point, in process).
Intrinsics files: any JSON object over the keys ``CameraSpec.from_file`` reads (numbers
including NaN, ±inf and integers beyond float's range, text, booleans, nulls, nested
lists), then ``for_size`` and ``to_camera_space`` on a pose of that frame size.

Passing means 0 crashes, 0 exceptions outside hifipose.errors, and ``analyze`` exiting 0 or 1
with a one-line error. Bounded in CI (HIFIPOSE_FUZZ_EXAMPLES, default 150 per test); run it
long with ``bash scripts/fuzz 10000``.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hifipose.analysis import read_tracks
from hifipose.analysis.presets import get_preset
from hifipose.analysis.report import analysis_table, analyze_tracks
from hifipose.camera import CameraSpec, Intrinsics, to_camera_space
from hifipose.cli import main
from hifipose.errors import HifiposeError
from hifipose.io import read_poses
from hifipose.io.table import build_table
from hifipose.io.writers import JsonlWriter
from hifipose.pose import FrameResult
from tests.unit.analysis.synthetic import squat_pose, squat_results

EXAMPLES = int(os.environ.get("HIFIPOSE_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # nothing written into the repository
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

RESULTS = squat_results(reps=1, people=2)
TABLE = build_table(RESULTS, "squats")
SQUAT = get_preset("squat")

_NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, 1e38, -1e300, 3.5e38, 0.0, -0.0, 1e-45]),
    st.integers(-(10**30), 10**30),
)
_JSON = st.recursive(
    st.none() | st.booleans() | _NUMBERS | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=12,
)


def _column_of(draw: st.DrawFn, rows: int) -> pa.Array:
    kind = draw(st.sampled_from(["text", "bool", "int", "null", "float", "huge"]))
    if kind == "text":
        return pa.array(draw(st.lists(st.text(max_size=4), min_size=rows, max_size=rows)))
    if kind == "bool":
        return pa.array(draw(st.lists(st.booleans(), min_size=rows, max_size=rows)))
    if kind == "int":
        values = draw(st.lists(st.integers(-(2**62), 2**62), min_size=rows, max_size=rows))
        return pa.array(values, pa.int64())
    if kind == "null":
        return pa.nulls(rows)
    if kind == "huge":
        return pa.array([1e300] * rows, pa.float64())
    values = draw(st.lists(_NUMBERS.map(float), min_size=rows, max_size=rows))
    return pa.array(values, pa.float64())


@st.composite
def _tables(draw: st.DrawFn) -> pa.Table:
    table = TABLE
    for _ in range(draw(st.integers(0, 4))):
        names = table.column_names
        if not names:
            break
        action = draw(st.sampled_from(["drop", "rename", "replace", "cells", "rows"]))
        index = draw(st.integers(0, len(names) - 1))
        name = names[index]
        if action == "drop":
            table = table.remove_column(index)
        elif action == "rename":
            table = table.rename_columns(
                [draw(st.text(max_size=12)) if i == index else n for i, n in enumerate(names)]
            )
        elif action == "replace":
            table = table.set_column(index, name, _column_of(draw, table.num_rows))
        elif action == "cells" and table.num_rows:
            values = table.column(index).to_pylist()
            for _ in range(draw(st.integers(1, 5))):
                row = draw(st.integers(0, table.num_rows - 1))
                values[row] = draw(st.one_of(st.none(), _NUMBERS, st.text(max_size=3)))
            try:
                array = pa.array(values)
            except (pa.ArrowException, OverflowError):  # mixed kinds: text, as CSV would
                array = pa.array([None if v is None else str(v) for v in values])
            table = table.set_column(index, name, array)
        elif action == "rows" and table.num_rows:
            order = draw(st.sampled_from(["reverse", "shuffle", "duplicate", "cut", "empty"]))
            n = table.num_rows
            take = {
                "reverse": list(range(n - 1, -1, -1)),
                "shuffle": draw(st.permutations(list(range(n)))),
                "duplicate": [*range(n), *range(draw(st.integers(0, n - 1)), n)],
                "cut": list(range(draw(st.integers(0, n - 1)))),
                "empty": [],
            }[order]
            table = table.take(pa.array(take, pa.int64()))
    return table


def _jsonl_text(draw: st.DrawFn) -> str:
    lines = [json.loads(line) for line in _jsonl_lines()]
    for _ in range(draw(st.integers(0, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        target: object = lines[i]
        path = draw(st.lists(st.integers(0, 40), max_size=4))
        for step in path:  # walk into the document
            if isinstance(target, dict) and target:
                key = sorted(target)[step % len(target)]
                if not isinstance(target[key], dict | list):
                    break
                target = target[key]
            elif isinstance(target, list) and target:
                item = target[step % len(target)]
                if not isinstance(item, dict | list):
                    break
                target = item
        if isinstance(target, dict) and target:
            key = sorted(target)[draw(st.integers(0, len(target) - 1))]
            if draw(st.booleans()):
                del target[key]
            else:
                target[key] = draw(_JSON)
        elif isinstance(target, list) and target:
            target[draw(st.integers(0, len(target) - 1))] = draw(_JSON)
    return "\n".join(json.dumps(line) for line in lines) + "\n"


@functools.cache
def _jsonl_lines() -> tuple[str, ...]:
    """The squats as ``track -o x.jsonl`` writes them (made once)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "k.jsonl"
        with JsonlWriter(path) as writer:
            for result in RESULTS:
                writer.write(result)
        return tuple(path.read_text().splitlines())


@st.composite
def _keypoint_files(draw: st.DrawFn) -> tuple[str, bytes]:
    suffix = draw(st.sampled_from([".csv", ".parquet", ".jsonl"]))
    if draw(st.integers(0, 9)) == 0:
        return suffix, draw(st.binary(max_size=300))
    if suffix == ".jsonl":
        return suffix, _jsonl_text(draw).encode()
    table = draw(_tables())
    sink = pa.BufferOutputStream()
    try:
        if suffix == ".csv":
            pacsv.write_csv(table, sink)
        else:
            pq.write_table(table, sink)
    except pa.ArrowException:  # a table pyarrow cannot write (e.g. a duplicated name): text
        return suffix, b"video_id,frame\nx,1\n"
    return suffix, sink.getvalue().to_pybytes()


def _analyze_cli(path: Path, out: Path) -> None:
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = main(["analyze", str(path), "--count", "squat", "-o", str(out)])
    assert status in {0, 1}, (status, stderr.getvalue())
    if status == 1:
        lines = stderr.getvalue().strip().splitlines()
        assert len(lines) == 1, stderr.getvalue()
    else:
        assert out.is_file()


@pytest.mark.filterwarnings("error::RuntimeWarning")  # numpy's overflow lines are no output
@FUZZ
@given(_keypoint_files())
def test_any_keypoint_file_gives_tracks_or_a_hifipose_error(file: tuple[str, bytes]) -> None:
    suffix, data = file
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"k{suffix}"
        path.write_bytes(data)
        if suffix != ".jsonl":
            try:
                table = read_poses(path)
            except HifiposeError:
                pass
            else:
                assert table.num_columns >= 271
        try:
            tracks = read_tracks(path)
        except HifiposeError:
            tracks = None
        if tracks:  # world space here; `analyze` below does image space
            names = ("left_knee", "right_knee", "trunk")
            analyses = analyze_tracks(tracks, names, space="world", preset=SQUAT)
            for analysis in analyses:
                for values in analysis.angles.values():
                    assert values.shape == (len(analysis.track),)
                    assert not np.isinf(values).any()
            analysis_table(analyses, SQUAT)
        _analyze_cli(path, Path(folder) / "angles.csv")


_KEYS = ("hfov_deg", "focal_35mm", "width", "height", "camera_matrix", "K", "fx", "fy", "cx", "cy")
_MATRICES = st.lists(st.lists(_NUMBERS | st.text(max_size=2), min_size=3, max_size=3), max_size=4)


@st.composite
def _intrinsics_documents(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.text(max_size=40))
    document: dict[str, object] = {}
    for key in draw(st.lists(st.sampled_from(_KEYS), max_size=7, unique=True)):
        if key in {"camera_matrix", "K"}:
            document[key] = draw(_MATRICES | _JSON)
        elif key in {"width", "height"} and draw(st.booleans()):
            document[key] = draw(st.sampled_from([640, 480, 0, -1, 640.0, 640.5, 10**400]))
        else:
            document[key] = draw(_NUMBERS | _JSON)
    if draw(st.booleans()):  # a plausible camera with one bad value
        document = {"width": 640, "height": 480, "fx": 500, "fy": 500, "cx": 320, "cy": 240}
        document[draw(st.sampled_from(sorted(document)))] = draw(_NUMBERS | _JSON)
    return json.dumps(document)


_METHODS = st.sampled_from(["linear", "pnp"])


@FUZZ
@given(_intrinsics_documents(), st.sampled_from([(640, 480), (1, 1), (4000, 3000)]), _METHODS)
def test_any_intrinsics_file_gives_a_camera_or_a_config_error(
    document: str, size: tuple[int, int], method: str
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "k.json"
        path.write_text(document)
        try:
            camera = CameraSpec.from_file(path).for_size(*size)
        except HifiposeError:
            return
    assert isinstance(camera, Intrinsics)
    assert all(math.isfinite(v) for v in (camera.fx, camera.fy, camera.cx, camera.cy))
    result = FrameResult(0, 0.0, size, (squat_pose(40.0),))
    placed = to_camera_space(result, camera, method=method).poses[0].camera_array_m  # type: ignore[arg-type]
    assert placed is None or placed.shape == (33, 3)


@FUZZ
@given(
    st.tuples(*([_NUMBERS | st.text(max_size=2) | st.none()] * 4)),
    st.integers(-2, 5000),
    _METHODS,
)
def test_any_intrinsics_values_give_a_camera_or_a_config_error(
    values: tuple[object, ...], width: int, method: str
) -> None:
    try:
        camera = Intrinsics(*values, width, 480)  # type: ignore[arg-type]
    except HifiposeError:
        return
    result = FrameResult(0, 0.0, (width, 480), (squat_pose(40.0),))
    placed = to_camera_space(result, camera, method=method).poses[0].camera_array_m  # type: ignore[arg-type]
    assert placed is None or placed.shape == (33, 3)
