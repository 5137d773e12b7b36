"""Output names for several inputs: placeholders, folders, and the clashes refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from hifipose.errors import ConfigError
from hifipose.io.naming import check_distinct, output_names

INPUTS = ["clips/a.mp4", "other/b.mov"]


def test_placeholders_name_each_input() -> None:
    names = output_names("-o", "out/{index}-{stem}.parquet", INPUTS, folder_suffix=".jsonl")
    assert names == ["out/1-a.parquet", "out/2-b.parquet"]


def test_a_folder_gets_one_file_per_input_with_the_default_suffix(tmp_path: Path) -> None:
    assert output_names("--render", "overlays/", INPUTS, folder_suffix=".mp4") == [
        str(Path("overlays/a.mp4")),
        str(Path("overlays/b.mp4")),
    ]
    existing = str(tmp_path)  # an existing folder needs no trailing slash
    assert output_names("-o", existing, INPUTS, folder_suffix=".jsonl") == [
        str(tmp_path / "a.jsonl"),
        str(tmp_path / "b.jsonl"),
    ]


def test_one_name_for_several_inputs_is_refused_with_an_example() -> None:
    with pytest.raises(ConfigError, match=r"each of the 2 inputs.*-o out/\{stem\}\.csv"):
        output_names("-o", "keypoints.csv", INPUTS, folder_suffix=".jsonl")


def test_one_input_keeps_its_name_and_any_other_braces() -> None:
    assert output_names("-o", "k{1}.jsonl", INPUTS[:1], folder_suffix=".jsonl") == ["k{1}.jsonl"]
    assert output_names("-o", "{stem}.csv", INPUTS[:1], folder_suffix=".jsonl") == ["a.csv"]


def test_two_inputs_writing_one_file_are_refused() -> None:
    same_stem = ["x/clip.mp4", "y/clip.mp4"]
    names = {"-o": output_names("-o", "out/", same_stem, folder_suffix=".jsonl")}
    with pytest.raises(ConfigError, match=r"x/clip\.mp4 \(-o\) and y/clip\.mp4 \(-o\).*\{index\}"):
        check_distinct(names, same_stem)
    renamed = {"-o": output_names("-o", "out/{index}_{stem}.jsonl", same_stem, folder_suffix="")}
    check_distinct(renamed, same_stem)


def test_keypoints_and_overlay_of_different_inputs_may_not_meet() -> None:
    names = {"-o": ["out/b.mp4", "out/x.jsonl"], "--render": ["out/a.mp4", "out/b.mp4"]}
    with pytest.raises(ConfigError, match=r"would both write out/b\.mp4"):
        check_distinct(names, INPUTS)


def test_an_output_naming_another_input_is_refused(tmp_path: Path) -> None:
    inputs = [str(tmp_path / "a.mp4"), str(tmp_path / "b.mp4")]
    with pytest.raises(ConfigError, match=r"is the input file .*b\.mp4"):
        check_distinct({"--render": [inputs[1], str(tmp_path / "c.mp4")]}, inputs)


def test_keypoints_and_overlay_of_one_input_in_one_file_are_refused() -> None:
    names = {"-o": ["out/a.x", "out/b.x"], "--render": ["out/c.x", "out/b.x"]}
    with pytest.raises(ConfigError, match=r"-o and --render name the same path out/b\.x"):
        check_distinct(names, INPUTS)
