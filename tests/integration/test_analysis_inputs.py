"""`hifipose analyze` on keypoint files that are wrong in the ways users' files are wrong.

The keypoints are synthetic squats (known knee angles, no model needed): written with
hifipose's writers, then edited as another tool or a hand edit would. Every refusal is one
line on stderr, exit status 1, before anything is written; nothing else is touched.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from hifipose.analysis import angle_series, read_tracks
from hifipose.cli import main
from hifipose.errors import VideoReadError
from hifipose.io import open_writer
from tests.unit.analysis.synthetic import squat_results


def write(path: Path, results=None, video_id: str = "squats") -> Path:
    with open_writer(path, video_id=video_id) as writer:
        for result in squat_results() if results is None else results:
            writer.write(result)
    return path


def one_line_error(capsys: pytest.CaptureFixture[str], *needles: str) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("hifipose: error:"), err
    for needle in needles:
        assert needle in err, err
    return err


# ---- item 4: outputs that would overwrite the keypoints -------------------------------


@pytest.mark.parametrize(
    "outputs",
    [
        ["-o", "{k}"],
        ["--plot", "{k}"],
        ["-o", "{k}", "--plot", "{k}"],
        ["-o", "{d}/a.csv", "--plot", "{d}/./a.csv"],
    ],
)
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_outputs_that_would_overwrite_the_keypoints_are_refused_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], outputs: list[str], suffix: str
) -> None:
    """`analyze k.csv -o k.csv` used to overwrite the keypoints with the angles (exit 0)."""
    keypoints = write(tmp_path / f"k{suffix}")
    before = keypoints.read_bytes()
    args = [a.format(k=keypoints, d=tmp_path) for a in outputs]
    if suffix == ".parquet" and "--plot" in args and "-o" not in args:
        args[args.index("--plot") + 1] = str(tmp_path / "k.png")  # a picture, but…
        args += ["-o", str(keypoints)]
    assert main(["analyze", str(keypoints), "--count", "squat", *args]) == 1
    one_line_error(capsys)
    assert keypoints.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [keypoints.name]


def test_an_output_naming_a_folder_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keypoints = write(tmp_path / "k.csv")
    (tmp_path / "out.csv").mkdir()
    assert main(["analyze", str(keypoints), "-o", str(tmp_path / "out.csv")]) == 1
    one_line_error(capsys, "existing folder")


# ---- item 8: values that are not what they claim --------------------------------------


def test_an_infinite_coordinate_gives_nan_not_a_number(tmp_path: Path) -> None:
    """`left_knee_x = inf` used to give a knee angle of 135.0° (and 180° for NaN paths)."""
    keypoints = write(tmp_path / "k.csv")
    rows = list(csv.DictReader(keypoints.open(newline="")))
    rows[5]["left_knee_x"] = "inf"
    rows[6]["left_knee_y"] = "-inf"
    rows[7]["left_ankle_x"] = "nan"
    with keypoints.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    out = tmp_path / "angles.csv"
    assert (
        main(["analyze", str(keypoints), "-o", str(out), "--angles", "left_knee,right_knee"]) == 0
    )
    table = pacsv.read_csv(out).to_pydict()
    left = np.array(table["left_knee"], dtype=float)
    right = np.array(table["right_knee"], dtype=float)
    assert np.isnan(left[5:8]).all()
    assert np.isfinite(left[:5]).all() and np.isfinite(left[8:]).all()
    assert np.isfinite(right).all()  # the other leg is untouched
    np.testing.assert_allclose(np.abs(left[8:]), np.abs(right[8:]), atol=0.01)


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan, 1.7e308])  # the last overflows
def test_angle_series_never_makes_a_number_from_a_broken_point(bad: float) -> None:
    results = squat_results(reps=1)
    points = np.stack([r.poses[0].image_array for r in results]).astype(np.float64)
    visibility = points[:, :, 3].copy()
    points[3, 25, 0] = bad  # left knee x
    knee = angle_series(points, visibility, ["left_knee", "right_knee"])
    assert np.isnan(knee["left_knee"][3])
    assert np.isfinite(np.delete(knee["left_knee"], 3)).all()
    assert np.isfinite(knee["right_knee"]).all()
    visibility[4, 25] = bad if not math.isfinite(bad) else math.nan  # not a probability
    assert np.isnan(angle_series(points, visibility, ["left_knee"])["left_knee"][4])


def test_all_nan_world_keypoints_explain_the_zero_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """NaN world keypoints used to print "0 repetitions" and nothing else."""
    keypoints = write(tmp_path / "k.parquet")
    table = pq.read_table(keypoints)
    for i, name in enumerate(table.column_names):
        if "_world_" in name:
            table = table.set_column(i, name, pa.nulls(table.num_rows, pa.float32()))
    pq.write_table(table, keypoints)
    assert main(["analyze", str(keypoints), "--count", "squat", "--space", "world"]) == 0
    out, err = capsys.readouterr()
    assert "0 repetitions (no frame gives the knee signal" in out
    assert "warning: squats #1: no left_knee, right_knee" in err
    assert "--min-visibility 0.5" in err


def test_the_same_file_with_world_keypoints_counts_its_squats(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keypoints = write(tmp_path / "k.parquet")
    assert main(["analyze", str(keypoints), "--count", "squat"]) == 0
    out, err = capsys.readouterr()
    assert "squat: squats #1: 2 repetitions\n" in out
    assert err == ""


@pytest.mark.parametrize("value", ["2", "nan", "-0.1", "inf", "1.0000001"])
def test_min_visibility_outside_zero_to_one_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    keypoints = write(tmp_path / "k.jsonl")
    out = tmp_path / "a.csv"
    assert main(["analyze", str(keypoints), "--min-visibility", value, "-o", str(out)]) == 1
    one_line_error(capsys, "min_visibility must be in [0, 1]")
    assert not out.exists()


@pytest.mark.parametrize("value", ["0", "1"])
def test_min_visibility_at_its_edges_is_accepted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    keypoints = write(tmp_path / "k.jsonl")
    assert main(["analyze", str(keypoints), "--min-visibility", value]) == 0
    out = capsys.readouterr().out
    # visibility is 0.9 everywhere: every angle at 0, none at 1
    assert ("—" in out) == (value == "1")


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_timestamps_that_go_backwards_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str
) -> None:
    results = squat_results()
    results[10], results[11] = (
        results[10].__class__(10, results[11].timestamp_ms, (640, 480), results[10].poses),
        results[11].__class__(11, results[10].timestamp_ms, (640, 480), results[11].poses),
    )
    keypoints = write(tmp_path / f"k{suffix}", results)
    assert main(["analyze", str(keypoints), "-o", str(tmp_path / "a.csv")]) == 1
    one_line_error(capsys, "timestamps go backwards", "frame 11 is at 1000.0 ms")
    assert not (tmp_path / "a.csv").exists()


def test_a_non_numeric_frame_column_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It used to end in a ValueError traceback from int('x')."""
    keypoints = write(tmp_path / "k.csv")
    text = keypoints.read_text().replace("\nsquats,squats.mp4,3,", "\nsquats,squats.mp4,three,")
    keypoints.write_text(text)
    assert main(["analyze", str(keypoints)]) == 1
    one_line_error(capsys, "column frame")


def test_a_bad_plot_name_fails_before_the_table_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`-o a.parquet --plot x.txt` used to write a.parquet, then fail on the plot."""
    keypoints = write(tmp_path / "k.jsonl")
    out = tmp_path / "a.parquet"
    assert main(["analyze", str(keypoints), "-o", str(out), "--plot", str(tmp_path / "x.txt")]) == 1
    one_line_error(capsys, "x.txt", "not a picture format")
    assert not out.exists()


def test_a_batch_outdir_is_analysed_video_by_video(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`analyze OUTDIR` used to be refused although read_poses(OUTDIR) reads it."""
    outdir = tmp_path / "run"
    (outdir / "poses" / "sub").mkdir(parents=True)
    (outdir / "_hifipose").mkdir()
    write(outdir / "poses" / "a.parquet", squat_results(reps=1), video_id="a")
    write(outdir / "poses" / "sub" / "b.parquet", squat_results(reps=2, people=2), "sub/b")
    out = tmp_path / "angles.parquet"
    assert main(["analyze", str(outdir), "--count", "squat", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "squat: a #1: 1 repetitions" in printed
    assert "squat: sub/b #1: 2 repetitions" in printed
    assert "squat: sub/b #2: 2 repetitions" in printed
    table = pq.read_table(out)
    assert sorted(
        set(zip(*[table.column(c).to_pylist() for c in ("video_id", "track_id")], strict=True))
    ) == [
        ("a", 1),
        ("sub/b", 1),
        ("sub/b", 2),
    ]
    # the output may not overwrite one of the folder's files either
    target = outdir / "poses" / "a.parquet"
    assert main(["analyze", str(outdir), "-o", str(target)]) == 1
    one_line_error(capsys, "is the input file")
    assert len(read_tracks(target)) == 1


@pytest.mark.parametrize(
    ("line", "match"),
    [
        ("[1, 2]", "a line is a JSON object"),
        ('{"frame": 1e400, "timestamp_ms": 0, "poses": []}', "whole number"),
        ('{"frame": 0, "timestamp_ms": "soon", "poses": []}', "a number"),
        ('{"frame": 0, "timestamp_ms": 0, "poses": {"a": 1}}', "poses is a list"),
        ('{"frame": 0, "timestamp_ms": 0, "poses": [{"keypoints": [], "keypoints3d": []}]}',
         "33 keypoints"),
        ('{"frame": 0, "timestamp_ms": 0, "poses": [7]}', "a pose is a JSON object"),
        ('{"frame": 0, "timestamp_ms": 0}', "poses"),
        ('{"frame": 2147483648, "timestamp_ms": 0, "poses": []}', "32 bits"),
        ('{"frame": 0, "timestamp_ms": 0, "poses": []}', "missing 'width'"),
    ],
)  # fmt: skip
def test_bad_json_lines_are_read_errors_naming_the_line(
    tmp_path: Path, line: str, match: str
) -> None:
    keypoints = write(tmp_path / "k.jsonl")
    if match != "missing 'width'":  # the frame size is there (track writes it on every line)
        line = line.replace('{"frame"', '{"width": 64, "height": 48, "frame"')
    keypoints.write_text(keypoints.read_text() + line + "\n")
    with pytest.raises(VideoReadError, match=match) as caught:  # as a bad table row is
        read_tracks(keypoints)
    assert f"k.jsonl:{len(squat_results()) + 1}:" in str(caught.value)


@pytest.mark.parametrize("column", ["track_id", "frame"])
def test_ids_beyond_the_tables_int32_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], column: str
) -> None:
    """Found by fuzzing: a track_id of 2**31 was read, then crashed writing -o (ArrowInvalid)."""
    keypoints = write(tmp_path / "k.csv")
    rows = list(csv.DictReader(keypoints.open(newline="")))
    rows[0][column] = str(2**31)
    with keypoints.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    out = tmp_path / "a.parquet"
    assert main(["analyze", str(keypoints), "-o", str(out)]) == 1
    one_line_error(capsys, f"column {column}")
    assert not out.exists()


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_bytes_that_are_not_text_are_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str
) -> None:
    """Found by fuzzing: a CSV whose header is not UTF-8 raised a UnicodeDecodeError."""
    keypoints = tmp_path / f"k{suffix}"
    keypoints.write_bytes(b"\x80\n")
    assert main(["analyze", str(keypoints)]) == 1
    one_line_error(capsys, str(keypoints))
