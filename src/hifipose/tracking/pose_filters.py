"""MediaPipe's smoothing filter bank for one person, and the ROI it yields for the next frame."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Final

import numpy as np
from numpy.typing import NDArray

from hifipose.blazepose.roi import Roi, roi_from_points
from hifipose.blazepose.segmentation import (
    CropMask,
    mask_in_crop,
    supersample_mask,
)
from hifipose.filters import LowPassFilter, OneEuroFilter, smooth_segmentation

__all__ = [
    "AUX_END",
    "AUX_FILTER",
    "AUX_START",
    "DERIVATE_CUTOFF",
    "LANDMARK_FILTER",
    "MASK_BLEND_SUPERSAMPLING",
    "MIN_OBJECT_SCALE",
    "VISIBILITY_ALPHA",
    "WORLD_FILTER",
    "PoseFilters",
    "object_scale",
    "roi_from_aux",
]

#: Object scales below this (pixels) turn the coordinate filters off for the frame.
MIN_OBJECT_SCALE: Final = 1e-6
#: MediaPipe's one-euro settings (min_cutoff, beta) for the 33 image landmarks (pixels).
LANDMARK_FILTER: Final = (0.05, 80.0)
#: ... for the world landmarks (metres, no value scaling).
WORLD_FILTER: Final = (0.1, 40.0)
#: ... for the two auxiliary landmarks (pixels), whose smoothed values give the next ROI.
AUX_FILTER: Final = (0.01, 10.0)
#: The derivative cutoff (Hz) of every one-euro filter bank.
DERIVATE_CUTOFF: Final = 1.0
#: α of the low-pass filter on the landmarks' visibility.
VISIBILITY_ALPHA: Final = 0.1
# The mask blend runs on a crop grid this many times finer than the model's 256×256 (see
# PoseFilters.smooth_mask): IoU 0.984 of the frame-sized blend's masks at 1, 0.996 at 2.
MASK_BLEND_SUPERSAMPLING: Final = 2
AUX_START, AUX_END = 33, 34


def _one_euro(min_cutoff: float, beta: float) -> OneEuroFilter:
    return OneEuroFilter(min_cutoff=min_cutoff, beta=beta, derivate_cutoff=DERIVATE_CUTOFF)


def _image_one_euro() -> OneEuroFilter:
    """The 33 landmarks' and the 2 auxiliary ones' filters as one bank over (35, 3) rows.

    Both banks see the same samples (the same timestamps, value scale and resets); only
    their (min_cutoff, beta) differ, given per row. Every step is elementwise, so each
    row's numbers are those of a bank of its own, in one pass instead of two.
    """
    rows = np.repeat([LANDMARK_FILTER, AUX_FILTER], [AUX_START, AUX_END + 1 - AUX_START], axis=0)
    return OneEuroFilter(min_cutoff=rows[:, :1], beta=rows[:, 1:], derivate_cutoff=DERIVATE_CUTOFF)


@dataclass
class PoseFilters:
    """MediaPipe's ``PoseLandmarkFiltering`` and ``PoseSegmentationFiltering`` for one stream.

    Three one-euro filter banks (:data:`LANDMARK_FILTER` for the 33 landmarks,
    :data:`WORLD_FILTER` for the world landmarks, :data:`AUX_FILTER` for the auxiliary
    ones; each derivative cutoff :data:`DERIVATE_CUTOFF`), plus a low-pass filter of α
    :data:`VISIBILITY_ALPHA` on visibility. The image filters work in pixels with
    values scaled by 1 / object scale, the object scale being the side (pixels) of the
    unexpanded square through the *unfiltered* auxiliary points. The landmarks' and the
    auxiliary points' banks run as one, ``image`` (see :meth:`smooth_image`).
    """

    image: OneEuroFilter = field(default_factory=_image_one_euro)
    world: OneEuroFilter = field(default_factory=lambda: _one_euro(*WORLD_FILTER))
    landmark_visibility: LowPassFilter = field(
        default_factory=lambda: LowPassFilter(VISIBILITY_ALPHA)
    )
    previous_mask: CropMask | None = None

    def smooth_image(
        self, landmarks_px: NDArray[np.float32], t_us: int, *, body: bool = True
    ) -> NDArray[np.float32]:
        """Smooth the (35, 5) image landmarks: 33 body points, then the 2 auxiliary ones.

        The auxiliary points' x, y, z are smoothed always (they give the next ROI, smoothing
        on or off); with ``body`` the body points' x, y, z and visibility too, else those
        rows are returned as they came. The value scale comes from the unfiltered auxiliary
        points; below :data:`MIN_OBJECT_SCALE` no coordinate is filtered on this frame.
        """
        out = landmarks_px.copy()
        if body:
            out[:AUX_START, 3] = self.landmark_visibility.apply_owned(
                landmarks_px[:AUX_START, 3].astype(np.float64)
            )
        scale = object_scale(landmarks_px[AUX_START : AUX_END + 1])
        if scale >= MIN_OBJECT_SCALE:
            xyz = self.image.apply_owned(landmarks_px[:, :3].astype(np.float64), t_us, 1.0 / scale)
            rows = slice(None) if body else slice(AUX_START, None)
            out[rows, :3] = xyz[rows]
        return out

    def smooth_world(self, world_m: NDArray[np.float32], t_us: int) -> NDArray[np.float32]:
        """Smooth the world landmarks (metres, no value scaling).

        MediaPipe also low-passes the world landmarks' copy of the image visibility; that
        filter sees the same inputs, α and resets as the image one, so its output is the
        image visibility already returned: it is not run twice.
        """
        return self.world.apply_owned(world_m.astype(np.float64), t_us, 1.0).astype(np.float32)

    def smooth_mask(self, mask: CropMask) -> CropMask:
        """Blend the mask with the previous smoothed one and remember it.

        MediaPipe blends frame-sized masks; here the blend runs in the current crop, with
        the previous smoothed mask resampled into it
        (:func:`~hifipose.blazepose.segmentation.mask_in_crop`), which reads it at the same
        frame points. Two things differ, both small. Outside the crop the frame-sized blend
        keeps ≤ 3e-5 of the previous mask (see :func:`~hifipose.filters.smooth_segmentation`);
        here it is 0. And the blend, which is not linear, is computed on a grid and then
        interpolated onto the frame rather than the other way round; on a grid
        :data:`MASK_BLEND_SUPERSAMPLING` times finer than the model's
        (:func:`~hifipose.blazepose.segmentation.supersample_mask`) the masks > 0.5 are
        within IoU 0.995 of the frame-sized blend's, whatever the frame size (the mismatch is
        a fraction of a grid cell; the frame only scales it). A first mask (nothing to
        blend) is returned as is; a previous mask of another frame size is not blended.
        """
        previous = self.previous_mask
        smoothed = mask
        if previous is not None and previous.size_wh == mask.size_wh:
            fine = supersample_mask(mask, MASK_BLEND_SUPERSAMPLING)
            side = fine.probabilities.shape[0]
            blended = smooth_segmentation(
                fine.probabilities, mask_in_crop(previous, fine.crop_from_image, side)
            )
            smoothed = CropMask(blended, fine.crop_from_image, mask.size_wh)
        self.previous_mask = smoothed
        return smoothed

    def on_lost(self) -> None:
        """A frame without a pose: reset what MediaPipe resets (2D, aux, mask history)."""
        self.image.reset()
        self.previous_mask = None

    def reset(self) -> None:
        """Forget everything."""
        self.on_lost()
        self.world.reset()
        self.landmark_visibility.reset()


def object_scale(aux_px: NDArray[np.float32]) -> float:
    """The side in pixels of the unexpanded square through the two auxiliary points."""
    start, end = aux_px[0, :2], aux_px[1, :2]
    return 2.0 * math.hypot(float(end[0] - start[0]), float(end[1] - start[1]))


def roi_from_aux(aux_px: NDArray[np.float32]) -> Roi:
    """The next frame's ROI from the (smoothed) auxiliary landmarks 33 and 34, in pixels."""
    return roi_from_points(
        (float(aux_px[0, 0]), float(aux_px[0, 1])), (float(aux_px[1, 0]), float(aux_px[1, 1]))
    )
