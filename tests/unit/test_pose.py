import json
import pickle

import numpy as np
import pytest

from hifipose.pose import Box, Face, FrameResult, Hand, HolisticParts, Pose
from hifipose.topology import KEYPOINT_NAMES
from tests.conftest import CountingMask


def _pose() -> Pose:
    image = np.zeros((33, 5), np.float32)
    image[:, 0] = np.arange(33) + 10  # x
    image[:, 1] = 2 * np.arange(33) + 5  # y
    image[:, 3] = 0.9
    image[:, 4] = 0.8
    world = np.tile(np.array([0.1, -0.2, 0.3], np.float32), (33, 1))
    return Pose(image, world, score=0.7)


def test_smoke_keypoints_and_names() -> None:
    pose = _pose()
    assert len(pose.keypoints) == len(pose.keypoints3d) == 33
    assert [kp.name for kp in pose.keypoints] == list(KEYPOINT_NAMES)
    nose = pose.keypoints[0]
    assert (nose.x, nose.y, nose.score, nose.presence) == pytest.approx((10, 5, 0.9, 0.8))
    assert pose.keypoints3d[5].y == pytest.approx(-0.2)
    assert pose.keypoints3d[5].score == pytest.approx(0.9)


def test_values_box_and_to_numpy() -> None:
    pose = _pose()
    assert pose.box == Box(10.0, 5.0, 42.0, 69.0)
    array = pose.to_numpy()
    array[0, 0] = -1  # a copy: the pose is unchanged
    assert pose.image_array[0, 0] == 10


def test_arrays_are_read_only_copies() -> None:
    source = np.zeros((33, 5), np.float32)
    pose = Pose(source, np.zeros((33, 3)), score=1.0)
    source[0, 0] = 99
    assert pose.image_array[0, 0] == 0
    with pytest.raises(ValueError, match="read-only"):
        pose.image_array[0, 0] = 1


def test_exception_wrong_shapes() -> None:
    with pytest.raises(ValueError, match=r"\(33, 5\)"):
        Pose(np.zeros((17, 5)), np.zeros((33, 3)), score=1.0)
    with pytest.raises(ValueError, match=r"\(33, 3\)"):
        Pose(np.zeros((33, 5)), np.zeros((33, 4)), score=1.0)


def test_to_dict_is_json_ready() -> None:
    import json

    result = FrameResult(index=3, timestamp_ms=100.0, size_wh=(64, 48), poses=(_pose(),))
    data = json.loads(json.dumps(result.to_dict()))
    assert data["frame"] == 3
    assert data["poses"][0]["keypoints"][0]["name"] == "nose"
    assert len(data["poses"][0]["keypoints3d"]) == 33


def test_lazy_mask_is_made_on_the_first_read_and_kept() -> None:
    source = CountingMask()
    pose = Pose(np.zeros((33, 5)), np.zeros((33, 3)), 0.9, segmentation=source)
    assert source.reads == []  # building the pose reads nothing
    first = pose.segmentation
    assert first is not None and first.shape == (6, 8) and first.dtype == np.float32
    assert pose.segmentation is first  # kept
    assert source.reads == [None]
    small = pose.segmentation_at((4, 3))
    assert small is not None and small.shape == (3, 4)
    assert source.reads == [None, (4, 3)]  # read at that size from the source
    assert pose.segmentation_at((8, 6)) is first


def test_eager_mask_is_kept_as_given_and_resized_on_request() -> None:
    mask = np.zeros((6, 8), np.float32)
    mask[:, 4:] = 1.0
    pose = Pose(np.zeros((33, 5)), np.zeros((33, 3)), 0.9, mask)  # positional, as before
    assert pose.segmentation is mask
    small = pose.segmentation_at((4, 3))
    assert small is not None and small.shape == (3, 4)
    np.testing.assert_array_equal(small[:, 2:], 1.0)
    np.testing.assert_array_equal(small[:, :2], 0.0)
    assert _pose().segmentation is None and _pose().segmentation_at((4, 3)) is None
    with pytest.raises(ValueError, match="positive integers"):
        pose.segmentation_at((0, 3))


def test_pickle_sends_the_source_not_the_frame_array() -> None:
    import pickle

    from hifipose.blazepose.segmentation import CropMask

    probabilities = np.full((256, 256), 0.8, np.float32)
    source = CropMask(probabilities, np.diag([0.25, 0.25, 1.0]), (1920, 1080))
    pose = Pose(np.ones((33, 5)), np.zeros((33, 3)), 0.9, segmentation=source, track_id=4)
    frame = pose.segmentation
    assert frame is not None and frame.shape == (1080, 1920)
    data = pickle.dumps(pose)
    assert len(data) < 300_000  # the 256×256 crop, not the 8 MB frame mask
    again = pickle.loads(data)  # noqa: S301 - our own bytes
    assert again.track_id == 4 and again.score == pytest.approx(0.9)
    np.testing.assert_array_equal(again.image_array, pose.image_array)
    assert not again.image_array.flags.writeable
    np.testing.assert_array_equal(again.segmentation, frame)
    eager = Pose(np.ones((33, 5)), np.zeros((33, 3)), 0.9, segmentation=np.ones((2, 3)))
    eager_again = pickle.loads(pickle.dumps(eager))  # noqa: S301 - our own bytes
    np.testing.assert_array_equal(eager_again.segmentation, np.ones((2, 3)))


def test_replace_keeps_or_drops_the_mask() -> None:
    import dataclasses

    source = CountingMask()
    pose = Pose(np.zeros((33, 5)), np.zeros((33, 3)), 0.9, segmentation=source)
    dropped = dataclasses.replace(pose, segmentation=None)
    assert dropped.segmentation is None and source.reads == []  # nothing made to drop it
    moved = dataclasses.replace(pose, track_id=2)
    assert moved.track_id == 2 and moved.segmentation is not None
    np.testing.assert_array_equal(moved.segmentation, 0.75)
    with pytest.raises(AttributeError, match="no attribute 'masks'"):
        _ = pose.masks  # type: ignore[attr-defined]


def test_pose_replace_keeps_an_unread_mask_unread() -> None:
    source = CountingMask()
    pose = Pose(np.zeros((33, 5)), np.zeros((33, 3)), 0.9, segmentation=source, track_id=1)
    moved = pose.replace(track_id=2, camera_array_m=np.ones((33, 3)))
    assert (moved.track_id, pose.track_id) == (2, 1)
    np.testing.assert_array_equal(moved.camera_array_m, 1.0)
    assert source.reads == []  # the copy carries the source, not a frame-sized array
    np.testing.assert_array_equal(moved.segmentation, 0.75)
    assert source.reads == [None]
    assert pose.replace(segmentation=None).segmentation is None


def test_pose_replace_keeps_a_read_mask_and_rejects_unknown_fields() -> None:
    source = CountingMask()
    pose = Pose(np.zeros((33, 5)), np.zeros((33, 3)), 0.9, segmentation=source)
    frame = pose.segmentation
    again = pose.replace(score=0.5)
    assert again.segmentation is frame and source.reads == [None]  # not made twice
    assert again.score == pytest.approx(0.5)
    eager = _pose().replace(segmentation=np.ones((2, 3), np.float32))
    np.testing.assert_array_equal(eager.segmentation, 1.0)
    with pytest.raises(TypeError, match="no field"):
        pose.replace(masks=None)
    with pytest.raises(ValueError, match="shape"):
        pose.replace(world_array_m=np.zeros((3, 3)))


# ---- Holistic parts (issue 25) ------------------------------------------------------------


def _parts() -> tuple[HolisticParts, np.ndarray, np.ndarray]:
    hand_points = np.arange(63, dtype=np.float32).reshape(21, 3)
    face_points = np.ones((468, 3), np.float32)
    parts = HolisticParts(
        left_hand=Hand(hand_points, hand_points / 100, 0.9, "Right", 0.8),
        face=Face(face_points, 0.7),
    )
    return parts, hand_points, face_points


def test_holistic_keys_appear_only_with_holistic_and_are_null_when_not_found() -> None:
    pose = Pose(np.zeros((33, 5)), np.zeros((33, 3)), score=0.9)
    assert "left_hand" not in pose.to_dict()
    assert pose.left_hand is None and pose.face is None
    parts, hand_points, _ = _parts()
    data = pose.replace(parts=parts).to_dict()
    assert data["right_hand"] is None
    assert data["left_hand"]["keypoints"] == hand_points.tolist()
    assert data["left_hand"]["handedness"] == "Right"
    assert len(data["face"]["keypoints"]) == 468
    assert json.loads(json.dumps(data)) == data


def test_parts_survive_replace_and_pickling_and_are_read_only() -> None:
    parts, hand_points, _ = _parts()
    pose = Pose(np.zeros((33, 5)), np.zeros((33, 3)), score=0.9, parts=parts)
    again = pickle.loads(pickle.dumps(pose.replace(track_id=3)))  # noqa: S301 - our own bytes
    assert again.left_hand is not None
    assert np.array_equal(again.left_hand.image_array, hand_points)
    assert not again.left_hand.image_array.flags.writeable
    assert again.track_id == 3


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Hand(np.zeros((20, 3)), np.zeros((21, 3)), 0.9, "Left", 0.9), "shape"),
        (lambda: Hand(np.zeros((21, 3)), np.zeros((21, 3)), 0.9, "left", 0.9), "handedness"),
        (lambda: Face(np.zeros((470, 3)), 0.9), "shape"),
    ],
)
def test_parts_refuse_wrong_shapes_and_labels(make, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make()
