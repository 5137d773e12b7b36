import contextlib

import numpy as np
import pytest
from PIL import Image

from hifipose._checks import check_choice, check_image, check_timestamp_ms, check_unit_interval
from hifipose.errors import ConfigError, InvalidImageError, TimestampError

does_not_raise = contextlib.nullcontext


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (np.zeros((4, 4, 3), np.uint8), does_not_raise()),
        (np.zeros((4, 4, 4), np.uint8), does_not_raise()),  # RGBA: alpha dropped
        (np.zeros((4, 4), np.uint8), does_not_raise()),  # grayscale: replicated
        (np.zeros((4, 4, 1), np.uint8), does_not_raise()),
        (
            np.zeros((4, 4, 3), np.float32),
            pytest.raises(InvalidImageError, match=r"astype\(np.uint8\)"),
        ),
        (np.zeros((4, 4, 3), np.uint16), pytest.raises(InvalidImageError, match="uint8")),
        (
            np.zeros((4, 4, 2), np.uint8),
            pytest.raises(InvalidImageError, match=r"\(height, width, 3\)"),
        ),
        (np.zeros((2, 4, 4, 3), np.uint8), pytest.raises(InvalidImageError, match="shape")),
        (np.zeros((0, 4, 3), np.uint8), pytest.raises(InvalidImageError, match="empty")),
        (np.zeros((4, 0), np.uint8), pytest.raises(InvalidImageError, match="empty")),
        (np.zeros(0, np.uint8), pytest.raises(InvalidImageError, match="shape")),
        ([[0, 0, 0]], pytest.raises(InvalidImageError, match="numpy array")),
        (None, pytest.raises(InvalidImageError, match="NoneType")),
        ("frame.jpg", pytest.raises(InvalidImageError, match="str")),
    ],
)
def test_check_image(value: object, error: contextlib.AbstractContextManager[object]) -> None:
    with error:
        out = check_image(value)
        assert out.shape[2] == 3
        assert out.dtype == np.uint8
        assert out.flags.c_contiguous


def test_check_image_converts_channels_correctly() -> None:
    rgba = np.zeros((2, 3, 4), np.uint8)
    rgba[..., 0], rgba[..., 3] = 10, 255
    np.testing.assert_array_equal(check_image(rgba)[..., 0], 10)
    assert check_image(rgba).shape == (2, 3, 3)
    gray = np.arange(6, dtype=np.uint8).reshape(2, 3)
    np.testing.assert_array_equal(check_image(gray)[..., 2], gray)


def test_check_image_copies_views_it_cannot_use_and_never_writes() -> None:
    base = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)
    view = base[:, ::2]  # non-contiguous
    view.flags.writeable = False
    out = check_image(view)
    assert out.flags.c_contiguous
    np.testing.assert_array_equal(out, view)
    fortran = np.asfortranarray(base)
    np.testing.assert_array_equal(check_image(fortran), base)


def test_check_image_accepts_pil_images() -> None:
    array = np.zeros((5, 7, 3), np.uint8)
    array[..., 1] = 200
    for mode in ("RGB", "RGBA", "L", "P"):
        out = check_image(Image.fromarray(array).convert(mode))
        assert out.shape == (5, 7, 3)
    np.testing.assert_array_equal(check_image(Image.fromarray(array)), array)


@pytest.mark.parametrize("value", [0, 33.3, -5.0, np.float64(7), np.int64(3)])
def test_check_timestamp_ms_accepts_finite_numbers(value: object) -> None:
    assert check_timestamp_ms(value) == float(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "10", True, None])
def test_check_timestamp_ms_rejects(value: object) -> None:
    with pytest.raises(TimestampError):
        check_timestamp_ms(value)


def test_check_unit_interval_and_choice() -> None:
    assert check_unit_interval("p", 1) == 1.0
    for bad in (-0.1, 1.5, "0.5", True):
        with pytest.raises(ConfigError, match="p must be"):
            check_unit_interval("p", bad)
    assert check_choice("m", "lite", ("lite", "full")) == "lite"
    with pytest.raises(ConfigError, match="'lite', 'full'"):
        check_choice("m", "huge", ("lite", "full"))
