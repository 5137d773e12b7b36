import json
from pathlib import Path

import pytest

from hifipose.batch import BatchOptions, discover
from hifipose.batch.discovery import check_outdir, read_list_file, source_identity
from hifipose.camera import CameraSpec, Intrinsics
from hifipose.errors import ConfigError


def _touch(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_folders_files_and_globs_get_ids_relative_to_the_common_root(tmp_path: Path) -> None:
    _touch(tmp_path / "in" / "a" / "one.mp4")
    _touch(tmp_path / "in" / "a" / "b" / "two.MOV")
    _touch(tmp_path / "in" / "notes.txt")
    _touch(tmp_path / "in" / "c" / "three.webm")
    jobs = discover([str(tmp_path / "in")])
    assert [j.video_id for j in jobs] == ["a/b/two", "a/one", "c/three"]
    assert all(Path(j.path).is_absolute() for j in jobs)
    jobs = discover([str(tmp_path / "in" / "a" / "*.mp4"), str(tmp_path / "in" / "c")])
    assert [j.video_id for j in jobs] == ["a/one", "c/three"]
    (missing,) = discover([str(tmp_path / "gone.mp4")])  # kept: it fails and is recorded
    assert missing.video_id == "gone"


def test_list_files_lines_or_csv(tmp_path: Path) -> None:
    _touch(tmp_path / "v" / "x.mp4")
    lines = _touch(tmp_path / "list.txt", b"# my videos\nv/x.mp4\n\n")
    assert read_list_file(lines) == [tmp_path / "v" / "x.mp4"]
    table = _touch(tmp_path / "list.csv", b"id,path\n1,v/x.mp4\n")
    assert [j.video_id for j in discover([], table)] == ["x"]


def test_bad_inputs_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no inputs"):
        discover([])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no videos in"):
        discover([str(tmp_path / "empty")])
    with pytest.raises(ConfigError, match="no videos match"):
        discover([str(tmp_path / "*.mp4")])
    _touch(tmp_path / "d" / "clip.mp4")
    _touch(tmp_path / "d" / "clip.avi")
    with pytest.raises(ConfigError, match=r"both be written to poses/clip\.parquet"):
        discover([str(tmp_path / "d")])


def test_outdir_overlapping_the_inputs_is_refused(tmp_path: Path) -> None:
    video = _touch(tmp_path / "in" / "clip.mp4")
    jobs = discover([str(tmp_path / "in")])
    for outdir in (tmp_path / "in", tmp_path / "in" / "out", video):
        with pytest.raises(ConfigError, match="inside the input"):
            check_outdir(str(outdir), [str(tmp_path / "in")], jobs)
    with pytest.raises(ConfigError, match="inside the output folder"):
        check_outdir(str(tmp_path), [str(video)], discover([str(video)]))
    check_outdir(str(tmp_path / "out"), [str(tmp_path / "in")], jobs)


def test_source_identity_notices_a_changed_middle(tmp_path: Path) -> None:
    data = bytearray(5 << 20)
    path = _touch(tmp_path / "big.mp4", bytes(data))
    before = source_identity(str(path))
    data[len(data) // 2] = 1
    path.write_bytes(bytes(data))
    after = source_identity(str(path))
    assert before["size"] == after["size"]
    assert before["sha256_sample"] != after["sha256_sample"]


def test_fingerprint_holds_every_result_affecting_option() -> None:
    options = BatchOptions(model="lite", smoothing="none", min_tracking_confidence=0.7)
    fingerprint = options.fingerprint()
    assert fingerprint["options"] == {
        "model": "lite",
        "runtime": "litert",
        "device": "cpu",
        "num_poses": 1,
        "segmentation": False,
        "smoothing": "none",
        "min_detection_confidence": 0.5,
        "min_tracking_confidence": 0.7,
        "camera": None,
    }
    assert set(fingerprint["models"]) == {"pose_detection", "pose_landmark_lite"}
    with pytest.raises(ConfigError, match="smoothing"):
        BatchOptions(smoothing="sometimes")  # type: ignore[arg-type]
    # The camera is result-affecting; its fingerprint is JSON and round-trips.
    camera = BatchOptions(smoothing="offline", camera=CameraSpec(hfov_deg=60.0)).fingerprint()
    assert camera["options"]["smoothing"] == "offline"
    assert camera["options"]["camera"] == {"hfov_deg": 60.0, "focal_35mm": None, "intrinsics": None}
    matrix = CameraSpec(intrinsics=Intrinsics(900.0, 900.0, 320.0, 240.0, 640, 480))
    fixed = BatchOptions(camera=matrix).fingerprint()
    assert json.loads(json.dumps(fixed)) == fixed
    assert fixed["options"]["camera"]["intrinsics"]["fx"] == 900.0
    with pytest.raises(ConfigError, match="field of view"):
        BatchOptions(camera=CameraSpec(hfov_deg=190.0))
