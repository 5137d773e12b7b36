"""Who is who: pure keypoint tests that keep several people's identities apart.

Everything here works on numpy arrays of image keypoints and knows nothing of models or
streams; :class:`~hifipose.tracker.MultiTracker` strings the steps together per frame.

Conventions:
    A pose is a (33, 3) array: x px, y px, visibility in [0, 1] (the first, second and
    fourth columns of :attr:`hifipose.pose.Pose.image_array`). A keypoint counts as seen
    when its visibility is at least :data:`MIN_VISIBILITY`. Similarities are OKS-like, in
    [0, 1]: 1 is the same pose, 0 is nothing in common.

Rules (research: next-design.md §1, A.4):
    * similarity is COCO's object keypoint similarity extended to BlazePose's 33 points
      (each point takes the sigma of the COCO point it is, or the nearest COCO point: eyes
      and mouth the face's, hand points the wrist's, heel and toe the ankle's), with the
      pair's larger landmark-box area as the scale;
    * a pose may match the other pose mirrored left-to-right (BlazePose confuses the sides
      of a person seen from behind), at :data:`FLIP_PENALTY`;
    * two poses are the *same person* when at least :data:`SAME_POINT_SHARE` of the points
      both see lie within :data:`SAME_POINT_TORSO_FRACTION` × the (larger) torso length of
      each other and their landmark boxes overlap (IoU > :data:`SAME_BOX_IOU`): MediaPipe's
      hand de-duplication rule, with the torso as the baseline; a tracker's two crops are
      also one body when their torso centres lie within :data:`SAME_TORSO_DISTANCE` torso
      lengths (:func:`shares_torso`);
    * poses are given to tracks by the Hungarian method on similarity (scipy's
      ``linear_sum_assignment``), never on box overlap; a standing pair may count a margin
      more, so that similarities within noise do not move an id (:func:`assign`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

__all__ = [
    "FLIP_PERMUTATION",
    "KEYPOINT_SIGMAS",
    "MIN_VISIBILITY",
    "assign",
    "bone_lengths",
    "bones_agree",
    "box_iou",
    "dedup",
    "duplicate_of",
    "is_same_person",
    "shares_torso",
    "similarity",
    "similarity_matrix",
    "torso_distance",
    "torso_length",
]

MIN_VISIBILITY: Final = 0.5
#: Points within this fraction of the torso length count as the same point (dedup).
SAME_POINT_TORSO_FRACTION: Final = 0.1
#: At least this share of the commonly seen points must coincide (dedup).
SAME_POINT_SHARE: Final = 0.6
#: ... and the landmark boxes must overlap by more than this IoU (dedup).
SAME_BOX_IOU: Final = 0.2
#: Two torso centres this close, in torso lengths of each pose, are one body (tracking).
SAME_TORSO_DISTANCE: Final = 0.35
#: A mirrored match counts this much less than a direct one.
FLIP_PENALTY: Final = 0.1
#: Bone-length ratios of the same person agree within this relative difference (re-id).
BONE_TOLERANCE: Final = 0.15

_NOSE, _EYE, _EAR, _SHOULDER, _ELBOW, _WRIST, _HIP, _KNEE, _ANKLE = (
    0.026,
    0.025,
    0.035,
    0.079,
    0.072,
    0.062,
    0.107,
    0.087,
    0.089,
)
#: COCO's per-keypoint sigmas on BlazePose's 33 points (nearest COCO point where none).
KEYPOINT_SIGMAS: Final = np.array(
    [_NOSE, *[_EYE] * 6, _EAR, _EAR, _NOSE, _NOSE, _SHOULDER, _SHOULDER, _ELBOW, _ELBOW]
    + [_WRIST] * 8
    + [_HIP, _HIP, _KNEE, _KNEE]
    + [_ANKLE] * 6,
    dtype=np.float64,
)

_PAIRS: Final = [(1, 4), (2, 5), (3, 6), (7, 8), (9, 10)] + [(i, i + 1) for i in range(11, 33, 2)]


def _flip_permutation() -> NDArray[np.intp]:
    perm = np.arange(33)
    for left, right in _PAIRS:
        perm[left], perm[right] = right, left
    return perm


#: Index map that swaps every left keypoint with its right counterpart.
FLIP_PERMUTATION: Final = _flip_permutation()

_BONES: Final = np.array(
    [
        *[(11, 13), (13, 15), (12, 14), (14, 16), (23, 25), (25, 27), (24, 26), (26, 28)],
        *[(11, 12), (23, 24), (11, 23), (12, 24)],
    ]
)


def _seen(pose: NDArray[np.floating]) -> NDArray[np.bool_]:
    return np.asarray(pose[:, 2] >= MIN_VISIBILITY)


def _box(xy: NDArray[np.floating]) -> NDArray[np.float64]:
    return np.concatenate((xy.min(axis=0), xy.max(axis=0)), dtype=np.float64)


def box_iou(a: NDArray[np.floating], b: NDArray[np.floating]) -> float:
    """IoU of two (33, ≥2) poses' tight landmark boxes (all points, seen or not)."""
    box_a, box_b = _box(a[:, :2]), _box(b[:, :2])
    iw = min(box_a[2], box_b[2]) - max(box_a[0], box_b[0])
    ih = min(box_a[3], box_b[3]) - max(box_a[1], box_b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    union = (
        (box_a[2] - box_a[0]) * (box_a[3] - box_a[1])
        + (box_b[2] - box_b[0]) * (box_b[3] - box_b[1])
        - inter
    )
    return float(inter / union) if union > 0 else 0.0


def torso_length(pose: NDArray[np.floating]) -> float:
    """Shoulder-centre to hip-centre distance in pixels."""
    # each centre as np.mean(axis=0) computes it (the sum of the two rows / 2), unwrapped
    shoulders = (pose[11, :2] + pose[12, :2]) / 2
    hips = (pose[23, :2] + pose[24, :2]) / 2
    return float(math.hypot(*(shoulders - hips)))


def torso_distance(a: NDArray[np.floating], b: NDArray[np.floating]) -> float:
    """Distance between two poses' torso centres, in torso lengths of ``b``.

    The torso centre is the mean of the shoulders and hips (all four points, seen or not);
    ``inf`` when ``b``'s torso has no length.
    """
    centre_a, centre_b = a[[11, 12, 23, 24], :2].mean(axis=0), b[[11, 12, 23, 24], :2].mean(axis=0)
    torso = torso_length(b)
    return float(math.hypot(*(centre_a - centre_b)) / torso) if torso > 0 else math.inf


def _oks(a: NDArray[np.floating], b: NDArray[np.floating], area: float) -> float:
    both = _seen(a) & _seen(b)
    if not both.any() or area <= 0:
        return 0.0
    d2 = ((a[both, :2] - b[both, :2]) ** 2).sum(axis=1)
    k2 = (2.0 * KEYPOINT_SIGMAS[both]) ** 2
    # the mean as np.mean computes it (pairwise sum / count), without its wrappers
    terms = np.exp(-d2 / (2.0 * area * k2))
    return float(np.add.reduce(terms) / terms.size)


def similarity(
    a: NDArray[np.floating],
    b: NDArray[np.floating],
    *,
    allow_flip: bool = True,
    area_scale: float = 1.0,
) -> float:
    """OKS-like similarity of two poses, in [0, 1] (see the module rules).

    Args:
        a: (33, 3) pose: x px, y px, visibility.
        b: The other pose, same layout.
        allow_flip: Also try ``a`` mirrored left-to-right, at :data:`FLIP_PENALTY`.
        area_scale: Multiplies the scale area: above 1 widens the gate (a track lost for a
            while may have moved further than its prediction says).

    Returns:
        The similarity; 0 when the poses share no seen point.
    """
    box_a, box_b = _box(a[:, :2]), _box(b[:, :2])
    area = area_scale * max(
        (box_a[2] - box_a[0]) * (box_a[3] - box_a[1]), (box_b[2] - box_b[0]) * (box_b[3] - box_b[1])
    )
    direct = _oks(a, b, area)
    if not allow_flip:
        return direct
    return max(direct, _oks(a[FLIP_PERMUTATION], b, area) - FLIP_PENALTY)


def similarity_matrix(
    poses: list[NDArray[np.floating]],
    others: list[NDArray[np.floating]],
    *,
    allow_flip: bool = True,
    area_scales: list[float] | None = None,
) -> NDArray[np.float64]:
    """(len(poses), len(others)) matrix of :func:`similarity`; ``area_scales`` per other."""
    scales = area_scales if area_scales is not None else [1.0] * len(others)
    out = np.zeros((len(poses), len(others)), dtype=np.float64)
    for i, pose in enumerate(poses):
        for j, other in enumerate(others):
            out[i, j] = similarity(pose, other, allow_flip=allow_flip, area_scale=scales[j])
    return out


def is_same_person(a: NDArray[np.floating], b: NDArray[np.floating]) -> bool:
    """Whether two poses are one person seen twice (the dedup rule of the module)."""
    both = _seen(a) & _seen(b)
    if not both.any():
        return False
    baseline = SAME_POINT_TORSO_FRACTION * max(torso_length(a), torso_length(b))
    distance = np.hypot(*(a[both, :2] - b[both, :2]).T)
    close = np.count_nonzero(distance <= baseline)
    return bool(close >= SAME_POINT_SHARE * both.sum() and box_iou(a, b) > SAME_BOX_IOU)


def shares_torso(a: NDArray[np.floating], b: NDArray[np.floating]) -> bool:
    """Whether two poses' torso centres lie within :data:`SAME_TORSO_DISTANCE` of each other.

    In torso lengths of each pose (:func:`torso_distance` both ways). Two people's torsos
    are never that close in one image unless one hides the other, and then the body seen
    is the front one's: two such poses from a tracker's crops are one body seen twice, even
    where their limbs differ (a crop that slid onto someone else's body gives a blend).
    """
    return max(torso_distance(a, b), torso_distance(b, a)) <= SAME_TORSO_DISTANCE


def duplicate_of(
    poses: list[NDArray[np.floating]], same: Callable[[int, int], bool] | None = None
) -> list[int]:
    """For each pose, the index of the earlier kept pose it repeats, or its own index if kept.

    Args:
        poses: Poses in priority order (the first of two duplicates is kept).
        same: Whether the poses of two indices (a kept one first) are one person; None:
            :func:`is_same_person` of the two.

    Returns:
        One index per pose: its own when it duplicates no earlier kept pose, else the first
        kept pose it is the same person as.
    """

    def same_person(k: int, i: int) -> bool:
        return is_same_person(poses[k], poses[i])

    test = same_person if same is None else same
    out: list[int] = []
    kept: list[int] = []
    for i in range(len(poses)):
        first = next((k for k in kept if test(k, i)), i)
        if first == i:
            kept.append(i)
        out.append(first)
    return out


def dedup(poses: list[NDArray[np.floating]]) -> list[int]:
    """Drop poses that repeat an earlier one; return the indices kept, in order.

    Args:
        poses: Poses in priority order (the first of two duplicates is kept).

    Returns:
        Indices into ``poses`` of the poses that duplicate no earlier kept pose.
    """
    return [i for i, same in enumerate(duplicate_of(poses)) if same == i]


def assign(
    similarities: NDArray[np.float64],
    *,
    min_similarity: float = 0.0,
    standing: Sequence[int | None] | None = None,
    margin: float = 0.0,
) -> list[tuple[int, int]]:
    """Pair rows with columns to maximise total similarity (Hungarian method).

    Args:
        similarities: (rows, cols) similarities in [0, 1].
        min_similarity: Pairs below this are not made.
        standing: Per row, the column it is paired with now (None: none): such a pair
            counts ``margin`` more in the total, so the pairing changes only when another
            gains at least ``margin`` (similarities within noise keep it). The gate
            ``min_similarity`` applies to the similarities themselves.
        margin: The standing pairs' lead (see ``standing``).

    Returns:
        (row, col) pairs, sorted by row.
    """
    if similarities.size == 0:
        return []
    scores = similarities.copy()
    for row, col in enumerate(standing or []):
        if col is not None:
            scores[row, col] += margin
    rows, cols = linear_sum_assignment(-scores)
    return sorted(
        (int(r), int(c))
        for r, c in zip(rows, cols, strict=True)
        if similarities[r, c] >= min_similarity
    )


def bone_lengths(pose: NDArray[np.floating]) -> NDArray[np.float64]:
    """Twelve limb and torso lengths in pixels (NaN where an end point is not seen)."""
    seen = _seen(pose)
    vectors = pose[_BONES[:, 1], :2] - pose[_BONES[:, 0], :2]
    lengths = np.hypot(vectors[:, 0], vectors[:, 1]).astype(np.float64)
    lengths[~(seen[_BONES[:, 0]] & seen[_BONES[:, 1]])] = np.nan
    return lengths


def bones_agree(a: NDArray[np.float64], b: NDArray[np.float64]) -> bool:
    """Whether two :func:`bone_lengths` vectors may be one person's.

    The bones seen in both are scaled to sum 1 (so the person's distance to the camera does
    not count); the median ratio of their proportions must lie within
    ± :data:`BONE_TOLERANCE`. Fewer than four bones in common counts as agreeing: the
    keypoint similarity decides.
    """
    both = np.isfinite(a) & np.isfinite(b) & (a > 0) & (b > 0)
    if np.count_nonzero(both) < 4:
        return True
    share_a, share_b = a[both] / a[both].sum(), b[both] / b[both].sum()
    ratio = float(np.median(share_a / share_b))
    return abs(ratio - 1.0) <= BONE_TOLERANCE
