"""Horizontal-flip test-time averaging: one crop and its mirror image through the landmark model.

The landmark model is run on the crop and on the crop mirrored left to right (the same
pixels, columns reversed). The mirrored view's outputs are mapped back (x → 1 − x in the
crop, world x → −x, mask columns reversed) and relabelled (the person's left and right
swap in a mirror: :data:`hifipose.topology.FLIP_PERMUTATION`), then the two views are
averaged. Both views are refined with their own heatmap before the merge.

Conventions:
    Everything here is in the crop's frame, before letterbox removal and projection:
    landmarks crop-normalised (x right, y down, fractions of the 256-pixel crop), world
    landmarks in metres in the crop's orientation (before the ROI rotation), mask logits
    as the model returns them (rows = y, columns = x).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from hifipose.topology import FLIP_PERMUTATION

__all__ = ["LANDMARK_FLIP_PERMUTATION", "CropView", "average_views", "flip_tensor", "unflip_view"]

#: :data:`~hifipose.topology.FLIP_PERMUTATION` over the model's 39 landmarks: the 33 body
#: points swap sides; the auxiliary points 33–38 (hip centre, size/rotation point, unused)
#: lie on the body's midline and keep their index.
LANDMARK_FLIP_PERMUTATION: tuple[int, ...] = (*FLIP_PERMUTATION, 33, 34, 35, 36, 37, 38)


@dataclass(frozen=True, slots=True)
class CropView:
    """One crop's decoded landmark-model outputs, in the crop's frame.

    Attributes:
        score: Pose presence (probability).
        landmarks: (39, 5) refined crop-normalised x, y, z, visibility, presence.
        world: (39, 3) world landmarks, metres, crop orientation (not yet rotated).
        mask_logits: The segmentation logits, or None without segmentation.
    """

    score: float
    landmarks: NDArray[np.float32]
    world: NDArray[np.float32]
    mask_logits: NDArray[np.float32] | None


def flip_tensor(tensor: NDArray[np.float32]) -> NDArray[np.float32]:
    """Mirror an (N, H, W, C) model input left to right (a new contiguous array)."""
    return np.ascontiguousarray(tensor[:, :, ::-1, :])


def unflip_view(view: CropView) -> CropView:
    """Map the outputs of a mirrored crop back to the unmirrored crop's frame.

    x becomes 1 − x (crop-normalised), world x becomes −x, the mask's columns are reversed,
    and the points are relabelled with :data:`LANDMARK_FLIP_PERMUTATION`. z, visibility and
    presence are unchanged by a horizontal mirror.
    """
    perm = list(LANDMARK_FLIP_PERMUTATION)
    landmarks = view.landmarks[perm].copy()
    landmarks[:, 0] = np.float32(1.0) - landmarks[:, 0]
    world = view.world[perm].copy()
    world[:, 0] = -world[:, 0]
    mask = view.mask_logits
    if mask is not None:
        mask = np.ascontiguousarray(np.flip(mask, axis=-2 if mask.ndim == 4 else 1))
    return CropView(view.score, landmarks, world, mask)


def average_views(view: CropView, mirrored: CropView) -> CropView:
    """The mean of a crop's outputs and its mirrored crop's (already :func:`unflip_view`-ed).

    Scores, landmarks (all five columns), world landmarks and mask logits are averaged.
    """
    mask = None
    if view.mask_logits is not None and mirrored.mask_logits is not None:
        mask = (view.mask_logits + mirrored.mask_logits) * np.float32(0.5)
    return CropView(
        score=0.5 * (view.score + mirrored.score),
        landmarks=(view.landmarks + mirrored.landmarks) * np.float32(0.5),
        world=(view.world + mirrored.world) * np.float32(0.5),
        mask_logits=mask,
    )
