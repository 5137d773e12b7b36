import csv
import functools
import json
import threading
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pyarrow.parquet as pq
import pytest
from numpy.typing import NDArray

from hifipose.camera import CAMERA_COLUMNS, CameraSpec, Intrinsics
from hifipose.errors import ConfigError, OutputError, VideoReadError
from hifipose.io import draw_poses, open_renderer, open_source, open_writer, read_poses
from hifipose.io.annotate import draw_pose_labels
from hifipose.io.render import DEFAULT_STYLE, OverlayVideoWriter
from hifipose.io.table import camera_metadata
from hifipose.io.writers import COLUMNS
from hifipose.pose import FrameResult, Pose


def _make_video(path: Path, frames: int = 10, fps: float = 10.0, fourcc: str = "mp4v") -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*fourcc), fps, (64, 48))
    for i in range(frames):
        frame_bgr = np.zeros((48, 64, 3), np.uint8)
        frame_bgr[:, :, 2] = 200  # red in BGR
        frame_bgr[:, : 4 + 5 * i, 1] = 255
        writer.write(frame_bgr)
    writer.release()


def test_video_source_timestamps_and_rgb(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    _make_video(path)
    with open_source(path) as source:
        assert source.kind == "video"
        assert source.size_wh == (64, 48)
        frames = list(source)
    assert [f.index for f in frames] == list(range(10))
    np.testing.assert_allclose([f.timestamp_ms for f in frames], np.arange(10) * 100.0, atol=1e-6)
    assert frames[0].image_rgb[0, -1, 0] > 150  # red lands in channel 0 (RGB)
    assert frames[0].image_rgb[0, -1, 2] < 50


def test_truncated_video_is_reported_incomplete(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "clip.avi"
    _make_video(path, frames=40, fourcc="MJPG")
    with open_source(path) as source:
        assert len(list(source)) == 40
    assert (source.frames_read, source.frames_declared, source.complete) == (40, 40, True)
    data = path.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: len(data) // 2])
    with caplog.at_level("WARNING"), open_source(cut) as source:
        frames = list(source)
    assert 0 < len(frames) < 30
    assert source.frames_declared == 40
    assert source.complete is False
    assert [r.message for r in caplog.records if "truncated" in r.message] == [
        f"{cut} looks truncated: {len(frames)} of the 40 frames its container declares were decoded"
    ]
    with open_source(cut, max_frames=3) as source:  # stopped early: not judged
        assert len(list(source)) == 3
    assert source.complete is None


def test_an_image_named_like_a_video_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "photo.mp4"
    cv2.imwrite(str(tmp_path / "p.jpg"), np.zeros((8, 8, 3), np.uint8))
    fake.write_bytes((tmp_path / "p.jpg").read_bytes())
    with pytest.raises(VideoReadError, match="JPEG image, not a video"):
        open_source(fake)


def test_early_break_stops_the_decoder_thread(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    _make_video(path, frames=30)
    before = threading.active_count()
    with open_source(path, prefetch=2) as source:
        for frame in source:
            if frame.index == 2:
                break
    assert threading.active_count() == before
    with open_source(path, max_frames=4) as source:
        assert len(list(source)) == 4


def test_images_folder_and_glob(tmp_path: Path) -> None:
    for i in (10, 2, 1):
        cv2.imwrite(str(tmp_path / f"img{i}.png"), np.full((8, 8, 3), i, np.uint8))
    (tmp_path / "notes.txt").write_text("not an image")
    with open_source(tmp_path) as source:
        frames = list(source)
    assert [int(f.image_rgb[0, 0, 0]) for f in frames] == [1, 2, 10]  # natural order
    with open_source(str(tmp_path / "img1*.png")) as source:
        assert len(list(source)) == 2
    with open_source(tmp_path / "img2.png") as source:
        assert source.kind == "image"
        assert len(list(source)) == 1


@pytest.mark.parametrize("kind", ["missing", "corrupt", "empty_dir", "bad_glob", "bad_image"])
def test_unreadable_inputs_raise_video_read_error(tmp_path: Path, kind: str) -> None:
    if kind == "missing":
        spec = tmp_path / "nope.mp4"
    elif kind == "corrupt":
        spec = tmp_path / "fake.mp4"
        spec.write_text("this is not a video")
    elif kind == "empty_dir":
        spec = tmp_path
    elif kind == "bad_glob":
        spec = tmp_path / "*.jpg"
    else:
        spec = tmp_path / "broken.jpg"
        spec.write_bytes(b"\xff\xd8 broken")
    with pytest.raises(VideoReadError), open_source(spec) as source:
        list(source)


def _pose(x: float = 10.0, visibility: float = 0.9, track_id: int | None = None) -> Pose:
    image = np.zeros((33, 5), np.float32)
    image[:, 0], image[:, 1] = x + np.arange(33), 20.0
    image[:, 3], image[:, 4] = visibility, 0.95
    return Pose(image, np.full((33, 3), 0.25, np.float32), score=0.8, track_id=track_id)


RESULTS = [
    FrameResult(0, 0.0, (64, 48), (_pose(),), source="a.png"),
    FrameResult(1, 33.3, (64, 48), (), source="b.png"),
    FrameResult(2, 66.7, (64, 48), (_pose(5.0),)),
]
# Two people in frame 0 (ids 1 and 2), nobody in frame 1, one in frame 2 (id 2).
MULTI = [
    FrameResult(0, 0.0, (64, 48), (_pose(track_id=1), _pose(30.0, track_id=2)), source="v.mp4"),
    FrameResult(1, 33.3, (64, 48), (), source="v.mp4"),
    FrameResult(2, 66.7, (64, 48), (_pose(31.0, track_id=2),), source="v.mp4"),
]


def test_jsonl_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    with open_writer(path) as writer:
        for result in RESULTS:
            writer.write(result)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["frame"] for line in lines] == [0, 1, 2]
    assert [line["source"] for line in lines] == ["a.png", "b.png", None]
    assert lines[0]["poses"][0]["track_id"] is None
    assert lines[1]["poses"] == []
    assert lines[0]["poses"][0]["keypoints"][32]["name"] == "right_foot_index"
    assert lines[2]["poses"][0]["keypoints"][1]["x"] == pytest.approx(6.0)


def test_csv_and_parquet_share_fixed_columns(tmp_path: Path) -> None:
    for suffix in (".csv", ".parquet"):
        with open_writer(tmp_path / f"out{suffix}", video_id="clip") as writer:
            for result in RESULTS:
                writer.write(result)
    with (tmp_path / "out.csv").open() as file:
        rows = list(csv.DictReader(file))
    assert tuple(rows[0]) == COLUMNS
    assert len(rows) == 3
    assert [r["video_id"] for r in rows] == ["clip"] * 3
    assert [r["source"] for r in rows] == ["a.png", "b.png", ""]
    assert rows[1]["nose_x"] == rows[1]["track_id"] == rows[1]["score"] == ""  # no pose
    assert float(rows[2]["nose_x"]) == pytest.approx(5.0)
    assert float(rows[0]["left_shoulder_world_z"]) == pytest.approx(0.25)
    assert float(rows[0]["box_xmax"]) == pytest.approx(42.0)
    table = pq.read_table(tmp_path / "out.parquet")
    assert tuple(table.column_names) == COLUMNS
    types = {name: str(table.schema.field(name).type) for name in COLUMNS[:8]}
    assert types == {
        "video_id": "string",
        "source": "string",
        "frame": "int32",
        "timestamp_ms": "double",
        "width": "int32",
        "height": "int32",
        "track_id": "int32",
        "score": "float",
    }
    assert str(table.schema.field("nose_x").type) == "float"
    assert table.column("nose_x").to_pylist()[1] is None
    assert table.column("nose_visibility").to_pylist()[0] == pytest.approx(0.9)
    assert table.column("nose_presence").to_pylist()[0] == pytest.approx(0.95)
    assert table.column("video_id").to_pylist() == ["clip"] * 3


def test_several_poses_give_one_row_each_and_a_null_row_for_an_empty_frame(
    tmp_path: Path,
) -> None:
    for suffix in (".csv", ".parquet", ".json", ".jsonl"):
        with open_writer(tmp_path / f"m{suffix}") as writer:
            for result in MULTI:
                writer.write(result)
    table = read_poses(tmp_path / "m.parquet")
    assert table.column("frame").to_pylist() == [0, 0, 1, 2]
    assert table.column("track_id").to_pylist() == [1, 2, None, 2]
    assert table.column("nose_x").to_pylist() == [10.0, 30.0, None, 31.0]
    assert table.column("video_id").to_pylist() == ["m"] * 4
    assert json.loads(table.schema.metadata[b"hifipose"])["schema_version"] == 3
    with (tmp_path / "m.csv").open() as file:
        rows = list(csv.DictReader(file))
    assert [(r["frame"], r["track_id"]) for r in rows] == [
        ("0", "1"),
        ("0", "2"),
        ("1", ""),
        ("2", "2"),
    ]
    coco = json.loads((tmp_path / "m.json").read_text())
    assert [a["track_id"] for a in coco["annotations"]] == [1, 2, 2]
    lines = [json.loads(x) for x in (tmp_path / "m.jsonl").read_text().splitlines()]
    assert [[p["track_id"] for p in line["poses"]] for line in lines] == [[1, 2], [], [2]]


def test_read_poses_reads_a_folder_as_one_table(tmp_path: Path) -> None:
    for name in ("a", "sub/b"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        with open_writer(tmp_path / f"{name}.parquet", video_id=name) as writer:
            for result in MULTI:
                writer.write(result)
    table = read_poses(tmp_path)
    assert table.num_rows == 8
    assert sorted(set(table.column("video_id").to_pylist())) == ["a", "sub/b"]
    frame = read_poses(tmp_path, as_pandas=True)
    assert list(frame.columns) == list(COLUMNS)
    with pytest.raises(VideoReadError):
        read_poses(tmp_path / "missing")


def test_camera_columns_only_with_a_camera_and_read_back(tmp_path: Path) -> None:
    # Frame 0: person 1 placed in camera space, person 2 not (too few visible points);
    # frame 1: nobody; frame 2: person 2 placed.
    k = Intrinsics.from_fov(64, 48, hfov_deg=60.0)
    cams = [np.arange(99, dtype=np.float32).reshape(33, 3) / 10 + i for i in range(2)]
    placed = [
        FrameResult(
            0,
            0.0,
            (64, 48),
            (replace(MULTI[0].poses[0], camera_array_m=cams[0]), MULTI[0].poses[1]),
            source="v.mp4",
        ),
        MULTI[1],
        FrameResult(
            2, 66.7, (64, 48), (replace(MULTI[2].poses[0], camera_array_m=cams[1]),), source="v.mp4"
        ),
    ]
    (tmp_path / "cam").mkdir()
    for name, camera in (("plain", False), ("cam/with", True)):
        for suffix in (".csv", ".parquet"):
            with open_writer(tmp_path / f"{name}{suffix}", camera=camera) as writer:
                for result in placed:
                    writer.write(result)
    names = [*COLUMNS, *CAMERA_COLUMNS]
    assert tuple(read_poses(tmp_path / "plain.parquet").column_names) == COLUMNS
    with (tmp_path / "plain.csv").open() as file:
        assert tuple(next(csv.reader(file))) == COLUMNS
    table = read_poses(tmp_path / "cam" / "with.parquet")
    assert table.column_names == names
    assert {str(table.schema.field(c).type) for c in CAMERA_COLUMNS} == {"float"}
    values = np.array([table.column(c).to_pylist() for c in CAMERA_COLUMNS], dtype=object).T
    np.testing.assert_array_equal(values[0].astype(np.float32), cams[0].ravel())
    assert all(v is None for v in values[1]) and all(v is None for v in values[2])
    np.testing.assert_array_equal(values[3].astype(np.float32), cams[1].ravel())
    with (tmp_path / "cam" / "with.csv").open() as file:
        rows = list(csv.DictReader(file))
    assert list(rows[0]) == names
    assert float(rows[0]["left_hip_cam_z"]) == pytest.approx(cams[0][23, 2], abs=1e-4)
    assert rows[1]["nose_cam_x"] == rows[2]["nose_cam_x"] == ""
    # A folder mixing both reads as one table; files without camera columns give nulls.
    both = read_poses(tmp_path)
    assert both.column_names == names
    assert both.num_rows == 8
    assert both.column("nose_cam_z").null_count == 6
    # The metadata document names the intrinsics used.
    document = camera_metadata(CameraSpec(hfov_deg=60.0), (64, 48))
    assert document["intrinsics"] == {
        "fx": k.fx,
        "fy": k.fy,
        "cx": 32.0,
        "cy": 24.0,
        "width": 64,
        "height": 48,
    }
    assert document["spec"]["hfov_deg"] == 60.0
    json.dumps(document)


def test_coco_results_schema(tmp_path: Path) -> None:
    with open_writer(tmp_path / "out.json") as writer:
        for result in RESULTS:
            writer.write(result)
    document = json.loads((tmp_path / "out.json").read_text())
    assert [(i["id"], i["file_name"]) for i in document["images"]] == [
        (0, "a.png"),
        (1, "b.png"),
        (2, "frame_000002"),
    ]
    entries = document["annotations"]
    assert [e["image_id"] for e in entries] == [0, 2]
    assert [e["track_id"] for e in entries] == [None, None]
    assert all(e["category_id"] == 1 and len(e["keypoints"]) == 51 for e in entries)
    assert entries[0]["keypoints"][3] == pytest.approx(12.0)  # COCO left_eye = BlazePose 2
    assert entries[0]["score"] == pytest.approx(0.8)


def test_text_writers_keep_4_decimals_and_coco_v_is_visibility(tmp_path: Path) -> None:
    pose = _pose(x=10.123456, visibility=0.876543)  # presence 0.95 is another value
    result = FrameResult(0, 0.0, (64, 48), (pose,))
    for name in ("out.jsonl", "out.csv", "out.json"):
        with open_writer(tmp_path / name) as writer:
            writer.write(result)
    (line,) = (json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines())
    assert line["poses"][0]["keypoints"][0]["x"] == 10.1235
    with (tmp_path / "out.csv").open() as file:
        (row,) = csv.DictReader(file)
    assert row["nose_x"] == "10.1235"
    assert row["nose_visibility"] == "0.8765"
    (entry,) = json.loads((tmp_path / "out.json").read_text())["annotations"]
    # COCO [x, y, v] per keypoint; v is the visibility score, not the presence
    assert entry["keypoints"][:3] == [10.1235, 20.0, 0.8765]
    assert entry["keypoints"][2::3] == [0.8765] * 17


def test_exception_inside_with_publishes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    with pytest.raises(KeyboardInterrupt), open_writer(path) as writer:
        writer.write(RESULTS[0])
        raise KeyboardInterrupt
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []  # and the partial file is gone too


def test_writer_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\.jsonl"):
        open_writer(tmp_path / "out.xlsx")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError):
        open_writer(blocker / "out.csv")
    writer = open_writer(tmp_path / "ok.csv")
    writer.close()
    writer.close()
    with pytest.raises(OutputError, match="closed"):
        writer.write(RESULTS[0])


def test_draw_poses_hides_low_visibility_and_leaves_input_alone() -> None:
    image = np.zeros((48, 96, 3), np.uint8)
    drawn = draw_poses(image, [_pose()])
    assert drawn.shape == image.shape
    assert image.max() == 0
    assert drawn.max() > 0
    hidden = draw_poses(image, [_pose(visibility=0.1)])
    assert hidden.max() == 0


def test_draw_poses_draws_hands_and_face_points_where_found() -> None:
    from hifipose.io.render import DEFAULT_STYLE
    from hifipose.pose import Face, Hand, HolisticParts

    image = np.zeros((48, 96, 3), np.uint8)
    hand = np.zeros((21, 3), np.float32)
    hand[:, 0], hand[:, 1] = 70.0 + np.arange(21), 40.0  # a line of hand points, low right
    face = np.zeros((468, 3), np.float32)
    face[:, 0], face[:, 1] = 5.0, 3.0  # every face point on one pixel, top left
    face[0, :2] = (500.0, 500.0)  # one outside the frame: skipped
    body = _pose(visibility=0.1)  # body hidden: only the parts show
    parts = HolisticParts(left_hand=Hand(hand, hand, 0.9, "Left", 0.9), face=Face(face, 0.9))
    drawn = draw_poses(image, [body.replace(parts=parts)])
    assert tuple(drawn[3, 5]) == DEFAULT_STYLE.face_rgb
    assert drawn[38:43, 70:90].max() > 0
    assert drawn[:, :60][drawn[:, :60].any(axis=2)].shape[0] == 1  # the face pixel, nothing else
    assert image.max() == 0


def test_overlay_video_has_the_input_size_and_frame_count(tmp_path: Path) -> None:
    path = tmp_path / "overlay.mp4"
    with open_renderer(path, 12.0, (64, 48)) as renderer:  # type: ignore[union-attr]
        for _ in range(7):
            renderer.write(np.zeros((48, 64, 3), np.uint8))
    capture = cv2.VideoCapture(str(path))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 7
    assert (capture.get(cv2.CAP_PROP_FRAME_WIDTH), capture.get(cv2.CAP_PROP_FRAME_HEIGHT)) == (
        64,
        48,
    )
    pngs = open_renderer(tmp_path / "pngs", 12.0, (64, 48))
    pngs.write(np.zeros((48, 64, 3), np.uint8))
    assert (tmp_path / "pngs" / "frame_000000.png").exists()


def test_world_pose_png(tmp_path: Path) -> None:
    from hifipose.io.plot3d import save_world_pose_png

    path = save_world_pose_png(_pose(), tmp_path / "world.png")
    image = cv2.imread(str(path))
    assert image is not None
    assert image.shape[:2] == (500, 500)


@pytest.mark.parametrize("by", ["pixels", "draw"])
def test_overlay_video_keeps_every_frame_in_order(tmp_path: Path, by: str) -> None:
    # More frames than the encoder queue holds, so write() must wait rather than drop. The
    # index is either in the frame written, or drawn by the writer's thread (``draw``).
    path = tmp_path / "ordered.mp4"
    bits = 5  # the frame index, in binary, as 5 black or white stripes of 12 x 48 pixels

    def mark(frame: NDArray[np.uint8], index: int) -> None:
        for bit in range(bits):
            frame[:, 2 + 12 * bit : 12 * (bit + 1) - 2] = 255 * ((index >> bit) & 1)

    written = []
    with OverlayVideoWriter(path, 12.0, (64, 48), queue_frames=2) as renderer:
        for index in range(30):
            frame = np.zeros((48, 64, 3), np.uint8)
            if by == "pixels":
                mark(frame, index)
                renderer.write(frame)
            else:
                renderer.write(frame, functools.partial(mark, index=index))
            written.append(frame)
    if by == "draw":  # the writer drew on its own BGR copy; the frames written are untouched
        assert all(frame.max() == 0 for frame in written)
    capture = cv2.VideoCapture(str(path))
    decoded = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        stripes = [frame[:, 2 + 12 * bit : 12 * (bit + 1) - 2].mean() > 128 for bit in range(bits)]
        decoded.append(sum(int(on) << bit for bit, on in enumerate(stripes)))
    assert decoded == list(range(30))


def test_drawing_in_bgr_is_the_rgb_drawing_with_channels_swapped() -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    mask = np.zeros((120, 160), np.float32)
    mask[30:90, 20:70] = rng.random((60, 50), dtype=np.float32)
    poses = [replace(_pose(10.0), segmentation=mask), replace(_pose(60.0), track_id=3)]
    drawn = draw_poses(image, poses, segmentation=True, caption="full | litert")
    drawn = draw_pose_labels(drawn, poses, ["squat 3", None], out=drawn)
    bgr = np.ascontiguousarray(image[..., ::-1])
    draw_poses(bgr, poses, out=bgr, segmentation=True, caption="full | litert", bgr=True)
    draw_pose_labels(bgr, poses, ["squat 3", None], out=bgr, bgr=True)
    assert not np.array_equal(drawn, image)
    np.testing.assert_array_equal(bgr[..., ::-1], drawn)


def test_mask_tint_is_the_blend_rounded_and_leaves_the_rest_alone() -> None:
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (90, 120, 3), dtype=np.uint8)
    mask = np.zeros((90, 120), np.float32)
    mask[10:50, 70:110] = rng.random((40, 40), dtype=np.float32)
    mask[60:, :40] = 0.002  # below half a level of tint: no pixel changes there
    mask[5, 3] = 0.7  # a lone pixel far from the rest widens the box
    pose = replace(_pose(visibility=0.0), segmentation=mask)  # only the tint is drawn
    style = DEFAULT_STYLE
    alpha = (mask * style.mask_opacity)[..., None]
    exact = image + alpha * (np.array(style.mask_rgb, np.float32) - image)
    drawn = draw_poses(image, [pose], segmentation=True)
    assert np.abs(drawn - exact).max() < 0.51  # the nearest level (to float rounding)
    np.testing.assert_array_equal(drawn[60:, :40], image[60:, :40])
    assert (drawn[10:50, 70:110] != image[10:50, 70:110]).mean() > 0.5
    empty = replace(pose, segmentation=np.zeros_like(mask))
    np.testing.assert_array_equal(draw_poses(image, [empty], segmentation=True), image)


def test_overlay_video_encoding_error_is_raised_and_nothing_published(tmp_path: Path) -> None:
    path = tmp_path / "broken.mp4"
    renderer = OverlayVideoWriter(path, 12.0, (64, 48))
    renderer.write(np.zeros((48, 64, 3), np.int64))  # right size, a dtype OpenCV cannot convert
    with pytest.raises(OutputError, match="encoding the overlay video"):
        for _ in range(50):  # the error surfaces at a later write once the encoder has seen it
            renderer.write(np.zeros((48, 64, 3), np.uint8))
        renderer.close()
    renderer.abort()
    assert not path.exists()
    with pytest.raises(OutputError, match="closed"):
        renderer.write(np.zeros((48, 64, 3), np.uint8))


def test_video_source_with_explicit_decode_threads(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    _make_video(path)
    for threads in (0, 1, 2):
        with open_source(path, threads=threads) as source:
            assert len(list(source)) == 10
    with pytest.raises(ConfigError, match="threads"):
        open_source(path, threads=-1)


def test_tracked_poses_are_drawn_in_their_ids_colour_with_the_id() -> None:
    from dataclasses import replace

    from hifipose.io.render import track_colour

    image = np.zeros((200, 200, 3), np.uint8)
    first, second = replace(_pose(10.0), track_id=1), replace(_pose(120.0), track_id=2)
    plain = draw_poses(image, [_pose(10.0)])
    drawn = draw_poses(image, [first, second])
    colours = {tuple(int(c) for c in px) for px in drawn.reshape(-1, 3)}
    assert track_colour(1) in colours
    assert track_colour(2) in colours
    assert track_colour(1) != track_colour(2)
    assert track_colour(11) == track_colour(1)  # the palette cycles; an id keeps its colour
    # the id label: a filled box of the id's colour above the pose, not drawn without an id
    label_area = drawn[:14, :60].reshape(-1, 3)
    assert (label_area == track_colour(1)).all(axis=1).sum() > 50
    assert not (plain[:14, :60] != 0).any()
