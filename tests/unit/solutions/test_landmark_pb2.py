"""The plain-Python landmark containers behave like MediaPipe's protobuf messages."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from hifipose.solutions.landmark_pb2 import (
    Landmark,
    LandmarkList,
    NormalizedLandmark,
    NormalizedLandmarkList,
    format_float32,
)


def test_values_are_float32_and_unset_fields_read_zero() -> None:
    point = NormalizedLandmark(x=0.1, y=0.2)
    assert point.x == float(np.float32(0.1)) != 0.1
    assert (point.z, point.visibility, point.presence) == (0.0, 0.0, 0.0)
    assert point.HasField("x") and point.HasField("y")
    assert not point.HasField("z") and not point.HasField("presence")
    point.presence = 0.0  # setting a field to its default still marks it set (proto2)
    assert point.HasField("presence")
    point.ClearField("presence")
    assert not point.HasField("presence")
    point.visibility = 1e40  # beyond float32: infinity, as protobuf stores it
    assert point.visibility == float("inf")


def test_list_fields_in_field_number_order() -> None:
    point = Landmark(presence=0.5, x=1.0, visibility=0.25)
    assert [(f.name, f.number, v) for f, v in point.ListFields()] == [
        ("x", 1, 1.0),
        ("visibility", 4, 0.25),
        ("presence", 5, 0.5),
    ]
    point.Clear()
    assert point.ListFields() == []


@pytest.mark.parametrize("method", ["HasField", "ClearField"])
def test_an_unknown_field_is_a_value_error(method: str) -> None:
    with pytest.raises(ValueError, match='has no "score" field'):
        getattr(NormalizedLandmark(), method)("score")


def test_a_non_number_is_a_type_error_and_changes_nothing() -> None:
    point = NormalizedLandmark(x=0.5)
    with pytest.raises(TypeError, match=r"NormalizedLandmark\.x"):
        point.x = "0.7"  # type: ignore[assignment]
    with pytest.raises(TypeError):
        point.y = None  # type: ignore[assignment]
    assert point.x == 0.5 and not point.HasField("y")
    with pytest.raises(AttributeError):
        point.score = 1.0  # type: ignore[attr-defined] - no such field, no __dict__


def test_copy_from_and_merge_from() -> None:
    source = NormalizedLandmark(x=0.25, visibility=0.75)
    target = NormalizedLandmark(y=0.5)
    target.MergeFrom(source)
    assert (target.x, target.y, target.visibility) == (0.25, 0.5, 0.75)
    target.CopyFrom(source)
    assert target == source and not target.HasField("y")
    source.x = 0.125  # a copy, not an alias
    assert target.x == 0.25
    with pytest.raises(TypeError, match="same class"):
        target.CopyFrom(Landmark(x=0.25))  # type: ignore[arg-type]


def test_equality_counts_set_fields() -> None:
    assert NormalizedLandmark(x=0.5) == NormalizedLandmark(x=0.5)
    assert NormalizedLandmark(x=0.5) != NormalizedLandmark(x=0.5, z=0.0)
    assert NormalizedLandmark(x=0.5) != Landmark(x=0.5)
    with pytest.raises(TypeError):
        hash(NormalizedLandmark())


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.463277131, "0.463277131"),  # needs 9 digits to read back as the same float32
        (0.5, "0.5"),
        (-0.192821264, "-0.192821264"),
        (0.99999094, "0.99999094"),
        (1e-7, "1e-07"),
        (250.0, "250"),
        (float("nan"), "nan"),
        (float("-inf"), "-inf"),
    ],
)
def test_text_format_of_a_float(value: float, text: str) -> None:
    assert format_float32(NormalizedLandmark(x=value).x) == text


def test_str_is_protobuf_text_format() -> None:
    point = NormalizedLandmark(x=0.463277131, y=0.5, visibility=1.0)
    assert str(point) == "x: 0.463277131\ny: 0.5\nvisibility: 1\n"
    assert str(NormalizedLandmarkList(landmark=[point])) == (
        "landmark {\n  x: 0.463277131\n  y: 0.5\n  visibility: 1\n}\n"
    )


def test_repeated_field_is_list_like() -> None:
    landmarks = NormalizedLandmarkList()
    first = landmarks.landmark.add(x=0.1, y=0.2)
    landmarks.landmark.extend([NormalizedLandmark(x=0.3), NormalizedLandmark(x=0.4)])
    assert len(landmarks.landmark) == 3
    assert landmarks.landmark[0] is first
    assert [p.x for p in landmarks.landmark] == [float(np.float32(v)) for v in (0.1, 0.3, 0.4)]
    assert landmarks.landmark[-1].x == landmarks.landmark[1:][-1].x
    landmarks.landmark[2].y = 0.9  # changed in place
    assert landmarks.landmark[2].HasField("y")
    with pytest.raises(TypeError, match="assignment"):
        landmarks.landmark[0] = NormalizedLandmark()  # type: ignore[index]
    with pytest.raises(AttributeError, match="repeated field"):
        landmarks.landmark = []  # type: ignore[assignment]
    with pytest.raises(TypeError, match="NormalizedLandmark"):
        landmarks.landmark.append(Landmark())  # type: ignore[arg-type]
    del landmarks.landmark[0]
    assert len(landmarks.landmark) == 2 and landmarks.landmark[0].x == pytest.approx(0.3)
    with pytest.raises(IndexError):
        landmarks.landmark[2]


def test_append_copies_as_protobuf_does() -> None:
    point = NormalizedLandmark(x=0.5)
    landmarks = NormalizedLandmarkList()
    landmarks.landmark.append(point)
    point.x = 0.25
    assert landmarks.landmark[0].x == 0.5


def test_list_copy_from_is_a_deep_copy() -> None:
    source = LandmarkList(landmark=[Landmark(x=1.0), Landmark(x=2.0)])
    target = LandmarkList(landmark=[Landmark(x=9.0)])
    target.CopyFrom(source)
    assert target == source
    source.landmark[0].x = 5.0
    assert target.landmark[0].x == 1.0
    target.CopyFrom(target)  # onto itself: unchanged
    assert len(target.landmark) == 2
    target.MergeFrom(source)
    assert [p.x for p in target.landmark] == [1.0, 2.0, 5.0, 2.0]
    assert [f.name for f, _ in target.ListFields()] == ["landmark"]
    target.ClearField("landmark")
    assert target.ListFields() == [] and len(target.landmark) == 0
    with pytest.raises(ValueError, match="singular"):
        target.HasField("landmark")
    with pytest.raises(TypeError, match="same class"):
        target.CopyFrom(NormalizedLandmarkList())  # type: ignore[arg-type]


def test_a_landmark_list_is_always_true_like_a_message() -> None:
    # MediaPipe's drawing code tests `if not landmark_list`: an empty message is still true.
    assert NormalizedLandmarkList()


@pytest.mark.parametrize(
    "clone",
    [copy.copy, copy.deepcopy, lambda m: pickle.loads(pickle.dumps(m))],  # noqa: S301 - our own bytes
)
def test_copies_and_pickles_keep_set_fields(clone) -> None:
    landmarks = NormalizedLandmarkList(landmark=[NormalizedLandmark(x=0.5, visibility=0.25)])
    again = clone(landmarks)
    assert again == landmarks
    point = clone(landmarks.landmark[0])
    assert point == landmarks.landmark[0] and not point.HasField("presence")
