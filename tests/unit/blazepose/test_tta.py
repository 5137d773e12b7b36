import numpy as np
import pytest

from hifipose.blazepose.tta import (
    LANDMARK_FLIP_PERMUTATION,
    CropView,
    average_views,
    flip_tensor,
    unflip_view,
)
from hifipose.topology import Kp


def _view(seed: int, *, mask: bool = True) -> CropView:
    rng = np.random.default_rng(seed)
    return CropView(
        score=float(rng.uniform()),
        landmarks=rng.uniform(0, 1, (39, 5)).astype(np.float32),
        world=rng.normal(0, 0.3, (39, 3)).astype(np.float32),
        mask_logits=rng.normal(0, 1, (1, 256, 256, 1)).astype(np.float32) if mask else None,
    )


def _mirrored(view: CropView) -> CropView:
    """What a perfectly mirror-equivariant model would return for the mirrored crop."""
    perm = list(LANDMARK_FLIP_PERMUTATION)
    landmarks = view.landmarks[perm].copy()
    landmarks[:, 0] = 1 - landmarks[:, 0]
    world = view.world[perm].copy()
    world[:, 0] *= -1
    assert view.mask_logits is not None
    return CropView(view.score, landmarks, world, view.mask_logits[:, :, ::-1, :].copy())


def test_permutation_swaps_body_sides_and_keeps_the_auxiliary_points() -> None:
    perm = LANDMARK_FLIP_PERMUTATION
    assert len(perm) == 39
    assert perm[Kp.LEFT_WRIST] == Kp.RIGHT_WRIST
    assert perm[Kp.RIGHT_HIP] == Kp.LEFT_HIP
    assert perm[33:] == (33, 34, 35, 36, 37, 38)


def test_unflip_maps_the_mirrored_outputs_back() -> None:
    view = _view(1)
    back = unflip_view(_mirrored(view))
    np.testing.assert_allclose(back.landmarks, view.landmarks, atol=1e-6)
    np.testing.assert_allclose(back.world, view.world, atol=1e-7)
    assert back.mask_logits is not None
    np.testing.assert_array_equal(back.mask_logits, view.mask_logits)
    merged = average_views(view, back)
    np.testing.assert_allclose(merged.landmarks, view.landmarks, atol=1e-6)
    assert merged.score == pytest.approx(view.score)


def test_average_is_the_mean_of_both_views() -> None:
    a, b = _view(2), _view(3)
    merged = average_views(a, b)
    np.testing.assert_allclose(merged.landmarks, (a.landmarks + b.landmarks) / 2, rtol=1e-6)
    np.testing.assert_allclose(merged.world, (a.world + b.world) / 2, rtol=1e-6)
    assert merged.score == pytest.approx((a.score + b.score) / 2)
    assert average_views(_view(4, mask=False), _view(5, mask=False)).mask_logits is None


def test_flip_tensor_reverses_columns_only() -> None:
    tensor = np.arange(2 * 3 * 4 * 3, dtype=np.float32).reshape(2, 3, 4, 3)
    flipped = flip_tensor(tensor)
    assert flipped.flags.c_contiguous
    np.testing.assert_array_equal(flipped[:, :, 0, :], tensor[:, :, 3, :])
    np.testing.assert_array_equal(flip_tensor(flipped), tensor)
