"""Every DetectorConfig field is reachable from ``track``, ``batch`` and ``serve`` flags.

For each command and field: parse the field's flag with a value other than its default and
see the value land in the detector's configuration (``track``: the
:class:`~hifipose.stream.PoseStream` it opens; ``batch``: ``BatchOptions.detector_config``;
``serve``: the :class:`~hifipose.serve.ServeConfig` fields its detectors start from), or
find the field in :data:`UNREACHABLE` with the reason (issue 22 item 3).
"""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from hifipose.batch import BatchOptions
from hifipose.batch.options import BATCH_FIXED_FIELDS
from hifipose.cli import build_parser
from hifipose.cli._common import detector_flag
from hifipose.cli.batch import batch_options
from hifipose.cli.serve import serve_config
from hifipose.cli.track import TRACK_OWN_FIELDS, _stream_options
from hifipose.config import DetectorConfig
from hifipose.errors import ConfigError
from hifipose.serve.config import SERVE_FIXED_FIELDS, ServeConfig
from hifipose.stream import PoseStream, RunOptions

FIELDS = [field.name for field in dataclasses.fields(DetectorConfig)]

#: A value other than the default per field, and the flag arguments that give it (None:
#: the field's own flag with ``str(value)``).
CHANGED: dict[str, tuple[Any, list[str] | None]] = {
    "model_type": ("lite", None),
    "runtime": ("onnxruntime", None),
    "device": ("auto", None),
    "static_image_mode": (True, ["--static"]),
    "enable_smoothing": (False, ["--smoothing", "none"]),
    "enable_segmentation": (True, ["--segmentation"]),
    "min_detection_confidence": (0.25, None),
    "min_tracking_confidence": (0.75, None),
    "num_poses": (3, None),
    "detect_every": (7, None),
    "max_lost_ms": (250.0, None),
    "detector_tiles": (2, None),
    "model_dir": (Path("/tmp/models-x"), None),
    "precision": ("int8", None),
    "compat": ("mediapipe-python", None),
    "refine_passes": (2, None),
    "flip_tta": (True, ["--flip-tta"]),
    "smooth_segmentation": (False, ["--no-smooth-segmentation"]),
    "num_threads": (3, None),
    "strict_timestamps": (True, ["--strict-timestamps"]),
    "holistic": (True, ["--holistic"]),
    "refine_face_landmarks": (True, ["--holistic", "--refine-face-landmarks"]),
}

#: (command, field) pairs no flag reaches, and why: each command's own table.
UNREACHABLE: dict[tuple[str, str], str] = {
    **{("track", name): why for name, why in TRACK_OWN_FIELDS.items()},
    **{("batch", name): why for name, why in BATCH_FIXED_FIELDS.items()},
    **{("serve", name): why for name, why in SERVE_FIXED_FIELDS.items()},
}


def _reachable(command: str) -> list[str]:
    return [name for name in FIELDS if (command, name) not in UNREACHABLE]


def _flag_args(name: str) -> list[str]:
    value, given = CHANGED[name]
    return given if given is not None else [detector_flag(name), str(value)]


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("reach") / "gray.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (64, 48))
    for _ in range(3):
        writer.write(np.full((48, 64, 3), 128, np.uint8))
    writer.release()
    return path


def _track_config(argv: list[str], video: Path) -> DetectorConfig:
    args = build_parser().parse_args(["track", str(video), "-o", "x.jsonl", *argv])
    with PoseStream(args.input, _stream_options(args, None)) as stream:
        return stream.config


def _batch_options(argv: list[str]) -> BatchOptions:
    return batch_options(build_parser().parse_args(["batch", "in.mp4", "-o", "out", *argv]))


def _batch_config(argv: list[str]) -> DetectorConfig:
    return _batch_options(argv).detector_config(None)


def _serve_value(argv: list[str], name: str) -> object:
    return getattr(serve_config(build_parser().parse_args(["serve", *argv]), None).detector, name)


def test_every_field_has_a_changed_value_or_no_flag_anywhere() -> None:
    covered = set(CHANGED) | {name for (_, name) in UNREACHABLE}
    assert covered == set(FIELDS)
    for name, (value, _) in CHANGED.items():
        assert value != getattr(DetectorConfig(), name), name


@pytest.mark.parametrize("name", _reachable("track"))
def test_track_reaches(name: str, video: Path) -> None:
    config = _track_config(_flag_args(name), video)
    assert getattr(config, name) == CHANGED[name][0]


@pytest.mark.parametrize("name", _reachable("batch"))
def test_batch_reaches(name: str) -> None:
    assert getattr(_batch_config(_flag_args(name)), name) == CHANGED[name][0]


@pytest.mark.parametrize("name", _reachable("serve"))
def test_serve_reaches(name: str) -> None:
    assert _serve_value(_flag_args(name), name) == CHANGED[name][0]


def test_unchanged_flags_give_the_records_defaults(video: Path) -> None:
    assert _track_config([], video) == DetectorConfig()
    defaults = DetectorConfig()
    batch = _batch_config([])
    assert all(getattr(batch, n) == getattr(defaults, n) for n in FIELDS if n != "num_threads")


@pytest.mark.parametrize(("command", "name"), sorted(UNREACHABLE))
def test_a_field_listed_as_unreachable_has_no_flag(command: str, name: str) -> None:
    """A stale entry fails: once the command gains the flag, the test above must cover it."""
    head = {"track": ["track", "in.mp4"], "batch": ["batch", "in.mp4", "-o", "out"]}
    argv = [*head.get(command, [command]), detector_flag(name), "1"]
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(argv)
    assert exited.value.code == 1


def test_batch_fingerprint_leaves_added_options_out_at_their_default() -> None:
    """Outputs published before batch had the detector flags stay done (same fingerprint)."""
    plain = _batch_options([]).fingerprint()["options"]
    assert "detect_every" not in plain
    assert "detector_tiles" not in plain
    tiled = _batch_options(["--tiles", "2", "--detect-every", "7"]).fingerprint()["options"]
    assert (tiled["detector_tiles"], tiled["detect_every"]) == (2, 7)
    assert {k: v for k, v in tiled.items() if k in plain} == plain


def test_create_detector_takes_every_field_with_the_records_default() -> None:
    """``create_detector`` keeps its keywords; their defaults are read from DetectorConfig."""
    from hifipose import create_detector

    parameters = dict(inspect.signature(create_detector).parameters)
    assert parameters.pop("family").default == "blazepose"
    assert list(parameters) == FIELDS
    defaults = DetectorConfig()
    for name, parameter in parameters.items():
        expected = None if name == "compat" else getattr(defaults, name)  # None: "graph"
        assert parameter.default == expected, name


def test_batch_and_serve_records_compose_the_detector_options() -> None:
    """Flat names and records give one BatchOptions / ServeConfig; fixed fields are refused."""
    flat = BatchOptions(model="lite", num_poses=3, detector_tiles=2, smoothing="offline")
    composed = BatchOptions(
        detector=DetectorConfig(model_type="lite", num_poses=3, detector_tiles=2),
        run=RunOptions(smoothing="offline"),
    )
    assert flat == composed
    assert flat.detector.enable_smoothing is False  # offline: the filters stay off
    with pytest.raises(ConfigError, match="static_image_mode"):
        BatchOptions(static_image_mode=True)
    with pytest.raises(ConfigError, match="max_frames"):
        BatchOptions(max_frames=5)
    with pytest.raises(ConfigError, match="no option colour"):
        BatchOptions(colour="red")
    serve = ServeConfig(detector_tiles=2, model_type="full")
    assert (serve.detector.detector_tiles, serve.model_type) == (2, "full")
    assert ServeConfig().detector == DetectorConfig(model_type="lite")
    with pytest.raises(ConfigError, match="num_threads"):
        ServeConfig(num_threads=4)


def test_batch_fingerprint_marks_the_several_people_defaults() -> None:
    """With --num-poses > 1 the defaults changed (issue 27): older outputs are not done."""
    several = _batch_options(["--num-poses", "3"]).fingerprint()["options"]
    assert {several[n] for n in ("detect_every", "max_lost_ms", "detector_tiles")} == {"auto"}
    given = _batch_options(["--num-poses", "3", "--tiles", "1"]).fingerprint()["options"]
    assert "detector_tiles" not in given  # 1 is what --num-poses 3 meant before
