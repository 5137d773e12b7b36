import numpy as np
import pytest

from hifipose.pose import Box, FrameResult, Pose
from hifipose.topology import KEYPOINT_NAMES


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
