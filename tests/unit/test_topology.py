from hifipose.topology import (
    COCO17_FROM_BLAZEPOSE,
    COCO17_NAMES,
    FLIP_PERMUTATION,
    KEYPOINT_NAMES,
    SKELETON_EDGES,
    Kp,
    keypoint_side,
)


def test_names_in_model_order() -> None:
    assert len(KEYPOINT_NAMES) == 33
    assert KEYPOINT_NAMES[0] == "nose"
    assert KEYPOINT_NAMES[11] == "left_shoulder"
    assert KEYPOINT_NAMES[32] == "right_foot_index"
    assert Kp.RIGHT_HEEL == 30


def test_skeleton_has_35_unique_edges() -> None:
    assert len(SKELETON_EDGES) == 35
    assert len({frozenset(edge) for edge in SKELETON_EDGES}) == 35
    assert (Kp.LEFT_SHOULDER, Kp.RIGHT_SHOULDER) in SKELETON_EDGES
    assert all(0 <= a < 33 and 0 <= b < 33 for a, b in SKELETON_EDGES)


def test_coco_mapping_by_name() -> None:
    assert len(COCO17_FROM_BLAZEPOSE) == 17
    assert [KEYPOINT_NAMES[k] for k in COCO17_FROM_BLAZEPOSE] == list(COCO17_NAMES)
    assert COCO17_FROM_BLAZEPOSE[0] == Kp.NOSE
    assert COCO17_FROM_BLAZEPOSE[16] == Kp.RIGHT_ANKLE


def test_sides() -> None:
    assert keypoint_side(Kp.NOSE) == "middle"
    assert keypoint_side(Kp.MOUTH_LEFT) == "left"
    assert keypoint_side(Kp.RIGHT_FOOT_INDEX) == "right"
    assert sum(keypoint_side(kp) == "left" for kp in Kp) == 16


def test_flip_permutation_swaps_sides_and_is_its_own_inverse() -> None:
    perm = FLIP_PERMUTATION
    assert sorted(perm) == list(range(33))
    assert all(perm[perm[i]] == i for i in range(33))
    for kp in Kp:
        mirrored = Kp(perm[kp])
        side, other = keypoint_side(kp), keypoint_side(mirrored)
        assert {side, other} in ({"middle"}, {"left", "right"})
        assert mirrored.name.replace("LEFT", "X").replace("RIGHT", "X") == kp.name.replace(
            "LEFT", "X"
        ).replace("RIGHT", "X")
    assert perm[Kp.NOSE] == Kp.NOSE
    assert perm[Kp.MOUTH_LEFT] == Kp.MOUTH_RIGHT
