"""hifipose.track: the library's frame loop equals ``hifipose track`` for every source kind."""

from __future__ import annotations

import contextlib
import gc
import http.server
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pyarrow as pa
import pytest

import hifipose
from hifipose import ConfigError, VideoReadError
from hifipose.camera import CAMERA_COLUMNS, CameraSpec
from hifipose.cli import main
from hifipose.io import open_writer, read_poses

SQUATS = "tfjs_golden/pose_squats.mp4"
FRAMES = 12
#: Columns that name where a frame came from, not what was found in it.
ORIGIN_COLUMNS = ("video_id", "source")


def _cli(tmp_path: Path, source: str, model_dir: Path, suffix: str, *extra: str) -> Path:
    out = tmp_path / f"cli{suffix}"
    args = ["track", source, "-o", str(out), "--model", "lite", "--model-dir", str(model_dir)]
    assert main([*args, "--quiet", *extra]) == 0
    return out


def _written(results: object, path: Path, video_id: str | None, *, camera: bool = False) -> Path:
    with open_writer(path, video_id=video_id, camera=camera) as writer:
        for result in results:  # type: ignore[attr-defined]
            writer.write(result)
    return path


def _data(path: Path, drop: tuple[str, ...] = ()) -> pa.Table:
    """The pose table without its metadata document (and without the ``drop`` columns)."""
    table = read_poses(path).replace_schema_metadata(None)
    return table.drop_columns(list(drop))


def _assert_tables_equal(ours: pa.Table, cli: pa.Table) -> None:
    assert ours.num_rows == cli.num_rows > 0
    assert ours.column_names == cli.column_names
    for name in cli.column_names:  # column by column, so a failure names the column
        assert ours.column(name).equals(cli.column(name)), name


_EARLIER: set[threading.Thread] = set()


@pytest.fixture(autouse=True)
def _earlier_decoders() -> None:
    """Decoder threads some earlier test left alive are not this test's to answer for."""
    _EARLIER.clear()
    _EARLIER.update(threading.enumerate())


def _decoder_threads() -> list[threading.Thread]:
    """The source decoding threads started during this test and still alive."""
    return [
        t
        for t in threading.enumerate()
        if t.name == "hifipose-decode" and t.is_alive() and t not in _EARLIER
    ]


def _squat_pairs(shared_data: Path, count: int) -> list[tuple[np.ndarray, float]]:
    """The clip's first frames as RGB arrays with their container timestamps."""
    capture = cv2.VideoCapture(str(shared_data / SQUATS))
    pairs = []
    try:
        while len(pairs) < count:
            ok, frame_bgr = capture.read()
            assert ok
            timestamp = capture.get(cv2.CAP_PROP_POS_MSEC)
            pairs.append((cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB), timestamp))
    finally:
        capture.release()
    return pairs


# -- every source kind equals the CLI ------------------------------------------------------


@pytest.mark.parametrize("num_poses", [1, 3])
def test_video_file_equals_cli(
    tmp_path: Path, shared_data: Path, model_dir: Path, num_poses: int
) -> None:
    clip = str(shared_data / SQUATS)
    flags = ("--max-frames", str(FRAMES), "--num-poses", str(num_poses))
    cli = _cli(tmp_path, clip, model_dir, ".parquet", *flags)
    options = {"model_type": "lite", "model_dir": model_dir, "max_frames": FRAMES}
    with hifipose.track(clip, num_poses=num_poses, **options) as results:
        ours = _written(results, tmp_path / "ours.parquet", "pose_squats")
    _assert_tables_equal(_data(ours), _data(cli))
    assert _data(ours).column("source").to_pylist() == [clip] * FRAMES


@pytest.mark.parametrize("kind", ["image", "folder", "glob"])
def test_images_equal_cli(tmp_path: Path, shared_data: Path, model_dir: Path, kind: str) -> None:
    folder = shared_data / "multi"
    source = {
        "image": str(folder / "bus.jpg"),
        "folder": str(folder),
        "glob": str(folder / "*.jpg"),
    }[kind]
    cli = _cli(tmp_path, source, model_dir, ".parquet", "--num-poses", "2")
    results = list(hifipose.track(source, model_type="lite", model_dir=model_dir, num_poses=2))
    names = sorted(p.name for p in folder.glob("*.jpg"))
    assert [r.source for r in results] == (["bus.jpg"] if kind == "image" else names)
    video_id = Path(source).stem or source
    ours = _written(results, tmp_path / "ours.parquet", video_id)
    _assert_tables_equal(_data(ours), _data(cli))


def test_array_pairs_equal_cli(tmp_path: Path, shared_data: Path, model_dir: Path) -> None:
    """(array, container ms) pairs give the video's results; only the origin is unknown."""
    cli = _cli(tmp_path, str(shared_data / SQUATS), model_dir, ".parquet", "--max-frames", "8")
    pairs = _squat_pairs(shared_data, 8)
    results = list(hifipose.track(iter(pairs), model_type="lite", model_dir=model_dir))
    assert [r.source for r in results] == [None] * 8
    ours = _written(results, tmp_path / "ours.parquet", None)
    _assert_tables_equal(_data(ours, ORIGIN_COLUMNS), _data(cli, ORIGIN_COLUMNS))


def test_plain_arrays_equal_cli_static(tmp_path: Path, shared_data: Path, model_dir: Path) -> None:
    """Arrays without timestamps are spaced 1000/30 ms apart; in static mode the poses are
    the CLI's ``--static`` poses, frame for frame."""
    args = ("--max-frames", "6", "--static")
    cli = _cli(tmp_path, str(shared_data / SQUATS), model_dir, ".parquet", *args)
    arrays = np.stack([image for image, _ in _squat_pairs(shared_data, 6)])  # (N, H, W, 3)
    results = list(
        hifipose.track(arrays, model_type="lite", model_dir=model_dir, static_image_mode=True)
    )
    assert [r.timestamp_ms for r in results] == [i * (1000 / 30) for i in range(6)]
    ours = _written(results, tmp_path / "ours.parquet", None)
    drop = (*ORIGIN_COLUMNS, "timestamp_ms")
    _assert_tables_equal(_data(ours, drop), _data(cli, drop))


class _RangeHandler(http.server.BaseHTTPRequestHandler):
    """Serves the server's ``data`` with byte ranges (FFmpeg seeks to an MP4's index)."""

    def do_GET(self) -> None:
        data: bytes = self.server.data  # type: ignore[attr-defined]
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        start, end = 0, len(data) - 1
        if match:
            start, end = int(match[1]), int(match[2]) if match[2] else end
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        else:
            self.send_response(200)
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # FFmpeg hung up
            self.wfile.write(data[start : end + 1])

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def squat_url(shared_data: Path) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RangeHandler)
    server.data = (shared_data / SQUATS).read_bytes()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/pose_squats.mp4"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_http_url_equals_cli(
    tmp_path: Path, shared_data: Path, model_dir: Path, squat_url: str
) -> None:
    cli = _cli(tmp_path, str(shared_data / SQUATS), model_dir, ".parquet", "--max-frames", "8")
    with hifipose.track(squat_url, model_type="lite", model_dir=model_dir, max_frames=8) as s:
        assert s.source.kind == "stream"
        ours = _written(s, tmp_path / "ours.parquet", None)
    _assert_tables_equal(_data(ours, ORIGIN_COLUMNS), _data(cli, ORIGIN_COLUMNS))


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    "source",
    [99, "99", "http://127.0.0.1:{port}/clip.mp4", "rtsp://127.0.0.1:{port}/live"],
    ids=["index", "index-text", "http", "rtsp"],
)
def test_unopenable_camera_or_url_raises_quickly(model_dir: Path, source: object) -> None:
    if isinstance(source, str):
        source = source.format(port=_closed_port())
    started = time.monotonic()
    with pytest.raises(VideoReadError, match="cannot open"):
        hifipose.track(source, model_type="lite", model_dir=model_dir)
    assert time.monotonic() - started < 5
    assert not _decoder_threads()


# -- outputs: hifipose.track + a writer writes what `hifipose track -o` writes -------------


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".json", ".bvh", ".parquet"])
def test_writer_output_is_the_clis(
    tmp_path: Path, shared_data: Path, model_dir: Path, suffix: str
) -> None:
    clip = str(shared_data / SQUATS)
    cli = _cli(tmp_path, clip, model_dir, suffix, "--max-frames", "8")
    camera = CameraSpec() if suffix == ".bvh" else None  # the CLI's default camera for .bvh
    ours = tmp_path / f"ours{suffix}"
    options = {"model_type": "lite", "model_dir": model_dir, "max_frames": 8}
    with hifipose.track(clip, intrinsics=camera, **options) as results:
        _written(results, ours, "pose_squats")
    if suffix == ".parquet":  # the CLI adds its metadata document
        _assert_tables_equal(_data(ours), _data(cli))
    else:
        assert ours.read_bytes() == cli.read_bytes()


@pytest.mark.parametrize(
    ("options", "flags"),
    [
        ({"smoothing": "offline"}, ("--smoothing", "offline")),
        ({"smoothing": "none"}, ("--smoothing", "none")),
        ({"fov": 60.0}, ("--fov", "60")),
        ({"fov": 60.0, "smoothing": "offline"}, ("--fov", "60", "--smoothing", "offline")),
    ],
    ids=["offline", "none", "fov", "fov-offline"],
)
def test_smoothing_and_camera_equal_cli(
    tmp_path: Path, shared_data: Path, model_dir: Path, options: dict, flags: tuple[str, ...]
) -> None:
    clip = str(shared_data / SQUATS)
    cli = _cli(tmp_path, clip, model_dir, ".parquet", "--max-frames", str(FRAMES), *flags)
    camera = "fov" in options
    with hifipose.track(
        clip, model_type="lite", model_dir=model_dir, max_frames=FRAMES, **options
    ) as results:
        ours = _written(results, tmp_path / "ours.parquet", "pose_squats", camera=camera)
    _assert_tables_equal(_data(ours), _data(cli))
    assert (set(CAMERA_COLUMNS) <= set(_data(ours).column_names)) == camera


# -- lifetime: the source and the detector are released ------------------------------------


def test_context_manager_releases_source_and_detector(shared_data: Path, model_dir: Path) -> None:
    clip = str(shared_data / SQUATS)
    with hifipose.track(clip, model_type="lite", model_dir=model_dir) as stream:
        first = next(stream)
        assert first.index == 0
        assert _decoder_threads()
    assert not _decoder_threads()
    assert stream.detector.closed
    assert list(stream) == []  # a closed stream yields nothing more


def test_end_of_source_and_garbage_collection_release(shared_data: Path, model_dir: Path) -> None:
    clip = str(shared_data / SQUATS)
    stream = hifipose.track(clip, model_type="lite", model_dir=model_dir, max_frames=3)
    assert len(list(stream)) == 3
    assert stream.detector.closed
    assert not _decoder_threads()
    dropped = hifipose.track(clip, model_type="lite", model_dir=model_dir)
    next(dropped)
    detector = dropped.detector
    del dropped
    gc.collect()
    assert detector.closed
    deadline = time.monotonic() + 5
    while _decoder_threads() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _decoder_threads()


def test_interrupt_inside_the_loop_leaves_nothing_open(shared_data: Path, model_dir: Path) -> None:
    """Ctrl-C while a frame is read (in the source) or handled (in the caller's body)."""
    closed = []

    def frames() -> Iterator[tuple[np.ndarray, float]]:
        try:
            for index, pair in enumerate(_squat_pairs(shared_data, 4)):
                if index == 2:
                    raise KeyboardInterrupt
                yield pair
        finally:
            closed.append(True)

    stream = hifipose.track(frames(), model_type="lite", model_dir=model_dir)
    with pytest.raises(KeyboardInterrupt):
        for _ in stream:
            pass
    assert closed == [True]
    assert stream.detector.closed

    clip = str(shared_data / SQUATS)
    with (
        pytest.raises(KeyboardInterrupt),
        hifipose.track(clip, model_type="lite", model_dir=model_dir) as stream,
    ):
        for result in stream:
            if result.index == 2:
                raise KeyboardInterrupt
    assert stream.detector.closed
    assert not _decoder_threads()


# -- options -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"num_poses": 0}, "num_poses must be a positive integer"),
        ({"detect_every": "4"}, "detect_every must be a positive integer"),
        ({"model_type": "tiny"}, "model_type"),
        ({"num_pose": 2}, "unknown option num_pose"),
        ({"smoothing": "fast"}, "smoothing must be one of"),
        ({"max_frames": 0}, "max_frames must be a positive integer"),
        ({"fov": 60.0, "intrinsics": CameraSpec()}, "fov or intrinsics"),
        ({"fov": 200.0}, "field of view"),
        ({"enable_smoothing": False, "smoothing": "online"}, "contradicts"),
    ],
)
def test_bad_option_is_a_config_error(shared_data: Path, options: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        hifipose.track(str(shared_data / SQUATS), **options)
    assert not _decoder_threads()


def test_offline_smoothing_needs_a_video(shared_data: Path) -> None:
    with pytest.raises(ConfigError, match="needs a recorded video"):
        hifipose.track(str(shared_data / "multi"), smoothing="offline")


def test_a_single_image_array_is_refused_with_a_hint() -> None:
    with pytest.raises(ConfigError, match=r"\[image\]"):
        hifipose.track(np.zeros((64, 64, 3), np.uint8))


def test_enable_smoothing_alone_picks_the_smoothing(shared_data: Path, model_dir: Path) -> None:
    with hifipose.track(
        str(shared_data / SQUATS), model_type="lite", model_dir=model_dir, enable_smoothing=False
    ) as stream:
        assert stream.run.smoothing == "none"
        assert not stream.config.enable_smoothing


def test_readme_example_runs(tmp_path: Path, shared_data: Path, model_dir: Path) -> None:
    """The composition the issue asks for: track → writer, track → camera space."""
    out = tmp_path / "x.parquet"
    with (
        open_writer(out) as writer,
        hifipose.track(
            str(shared_data / SQUATS), num_poses=3, model_type="lite", model_dir=model_dir
        ) as results,
    ):
        for result in results:
            writer.write(result)
            if result.index == 4:
                break
    assert read_poses(out).column("frame").to_pylist() == [0, 1, 2, 3, 4]
