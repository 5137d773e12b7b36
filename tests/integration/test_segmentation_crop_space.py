"""The crop-space mask against the frame-space one it replaced (issue 14, item 4).

Masks stay in the landmark model's crop, are smoothed there and reach the frame only when
read. The reference here is the frame-space pipeline as it was: the unsmoothed frame mask
(bit-identical to the old ``mask_to_image``, see tests/unit/blazepose/test_segmentation.py)
blended frame by frame with the previous frame-sized result by MediaPipe's formula.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import cv2
import numpy as np

import hifipose
from hifipose.filters import smooth_segmentation
from tests import tolerances as tol
from tests.conftest import REPORT, SHARED_DATA, clip_frames

SQUATS = SHARED_DATA / "tfjs_golden" / "pose_squats.mp4"
CROSSING = SHARED_DATA / "multi" / "crossing_squats.mp4"


def _run(
    model_dir: Path, *, smooth: bool, clip: Path = SQUATS, **options: object
) -> list[list[hifipose.Pose]]:
    with hifipose.create_detector(
        model_type="full",
        enable_segmentation=True,
        smooth_segmentation=smooth,
        model_dir=model_dir,
        **options,  # type: ignore[arg-type]
    ) as detector:
        return [detector.estimate_poses(frame) for frame in clip_frames(clip)]


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a > 0.5, b > 0.5
    return float((a & b).sum() / max(1, (a | b).sum()))


def test_smoothed_crop_space_mask_matches_the_frame_space_one(model_dir: Path) -> None:
    ours = _run(model_dir, smooth=True)
    raw = _run(model_dir, smooth=False)
    ious, differences, previous = [], [], None
    for poses, raw_poses in zip(ours, raw, strict=True):
        assert len(poses) == len(raw_poses) == 1  # one person throughout the clip
        # the mask blend never touches the landmarks
        np.testing.assert_array_equal(poses[0].image_array, raw_poses[0].image_array)
        frame_mask = raw_poses[0].segmentation
        assert frame_mask is not None
        previous = smooth_segmentation(frame_mask, previous)  # the frame-space rule
        mask = poses[0].segmentation
        assert mask is not None and mask.shape == previous.shape and mask.dtype == np.float32
        ious.append(_iou(mask, previous))
        differences.append(float(np.abs(mask - previous).mean()))
    REPORT.append(
        f"crop-space vs frame-space smoothed mask, {len(ious)} frames: IoU mean "
        f"{np.mean(ious):.4f}, min {np.min(ious):.4f}; mean |Δp| {np.mean(differences):.5f}, "
        f"max {np.max(differences):.5f}"
    )
    assert ious[0] == 1.0  # the first frame has nothing to blend: the same mask
    # a pose sent to another process (batch, Ray) brings its mask along, unread and small
    sent = pickle.dumps(ours[-1][0])
    assert len(sent) < 2_000_000  # the 512×512 smoothed crop mask, not the frame's
    np.testing.assert_array_equal(
        pickle.loads(sent).segmentation,  # noqa: S301 - our own bytes
        ours[-1][0].segmentation,
    )
    assert float(np.mean(ious)) >= tol.CROP_MASK_MIN_IOU_MEAN
    assert float(np.min(ious)) >= tol.CROP_MASK_MIN_IOU
    assert float(np.max(differences)) <= tol.CROP_MASK_MAX_MEAN_ABS


def test_each_persons_mask_blends_like_the_frame_space_step(model_dir: Path) -> None:
    """Two people: each track's blend step, from its own previous mask, as frame space does."""
    ours = _run(model_dir, smooth=True, clip=CROSSING, num_poses=2)
    raw = _run(model_dir, smooth=False, clip=CROSSING, num_poses=2)
    ious, previous = [], {}
    for poses, raw_poses in zip(ours, raw, strict=True):
        raw_masks = {p.track_id: p.segmentation for p in raw_poses}
        assert raw_masks.keys() == {p.track_id for p in poses}
        current = {}
        for pose in poses:
            mask = pose.segmentation
            assert mask is not None
            if pose.track_id in previous:  # blended from last frame's mask of this person
                expected = smooth_segmentation(raw_masks[pose.track_id], previous[pose.track_id])
                ious.append(_iou(mask, expected))
            current[pose.track_id] = mask
        previous = current
    REPORT.append(
        f"two people, crop-space vs frame-space blend step, {len(ious)} masks: IoU mean "
        f"{np.mean(ious):.4f}, min {np.min(ious):.4f}"
    )
    assert len(ious) > len(ours)  # both people, most frames
    assert float(np.mean(ious)) >= tol.CROP_MASK_MIN_IOU_MEAN
    assert float(np.min(ious)) >= tol.CROP_MASK_MIN_IOU


def test_static_and_unsmoothed_masks_are_the_frame_space_ones(model_dir: Path) -> None:
    """Without the blend the lazy mask is the old frame mask; read small, it is the resized one."""
    frames = clip_frames(SQUATS)[:3]
    with hifipose.create_detector(
        model_type="full", enable_segmentation=True, static_image_mode=True, model_dir=model_dir
    ) as detector:
        static = [detector.estimate_poses(frame)[0] for frame in frames]
    video = _run(model_dir, smooth=False)[:3]
    # the first video frame runs the detector, as static mode does: the same crop, same mask
    assert static[0].segmentation is not None and video[0][0].segmentation is not None
    np.testing.assert_array_equal(static[0].segmentation, video[0][0].segmentation)
    for pose in static:
        frame_mask = pose.segmentation
        assert frame_mask is not None and frame_mask.shape == frames[0].shape[:2]
        height, width = frame_mask.shape
        small = pose.segmentation_at((width // 4, height // 4))
        assert small is not None and small.shape == (height // 4, width // 4)
        # a bilinear read at the same points as resizing the frame mask bilinearly, which
        # reads the crop twice over (its kinks between frame pixels are cut, not kept)
        resized = cv2.resize(frame_mask, (width // 4, height // 4), interpolation=cv2.INTER_LINEAR)
        REPORT.append(
            f"mask read at a quarter vs the frame mask resized: IoU {_iou(small, resized):.4f}, "
            f"mean |Δp| {np.abs(small - resized).mean():.5f}"
        )
        assert _iou(small, resized) >= tol.CROP_MASK_MIN_IOU
        assert float(np.abs(small - resized).mean()) <= tol.CROP_MASK_RESIZED_MEAN_ABS
