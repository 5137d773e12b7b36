import contextlib

import numpy as np
import pytest
from PIL import Image

from hifipose._checks import (
    MAX_ABS_TIMESTAMP_MS,
    check_choice,
    check_image,
    check_timestamp_ms,
    check_unit_interval,
)
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


@pytest.mark.parametrize(
    "value",
    [
        float("nan"),
        float("inf"),
        -float("inf"),
        "10",
        True,
        np.bool_(True),
        None,
        1e306,  # finite, but its microseconds overflow: an OverflowError before
        -1e306,
        pytest.param(10**400, id="int-beyond-float"),  # beyond float's range
        pytest.param(-(10**400), id="negative-int-beyond-float"),
        np.float64(1e300),
        np.complex128(1 + 2j),
        float(MAX_ABS_TIMESTAMP_MS) * 2,
    ],
)
def test_check_timestamp_ms_rejects(value: object) -> None:
    with pytest.raises(TimestampError):
        check_timestamp_ms(value)


def test_check_timestamp_ms_range_is_signed_64_bit_microseconds() -> None:
    assert check_timestamp_ms(MAX_ABS_TIMESTAMP_MS // 2) == MAX_ABS_TIMESTAMP_MS // 2
    assert check_timestamp_ms(-1e15) == -1e15
    with pytest.raises(TimestampError, match="out of range"):
        check_timestamp_ms(1e306)


# Every mode PIL knows; what an 8-bit mode must convert to (None: refused, as numpy refuses the
# same dtype). The expected values are PIL's own RGB conversion of the source colour.
_HIGH_DEPTH_PIL_MODES = {"I", "I;16", "I;16L", "I;16B", "I;16N", "F"}


@pytest.mark.parametrize("mode", sorted(Image.MODES))
def test_check_image_takes_every_pil_mode_or_refuses_it_clearly(mode: str) -> None:
    array = np.zeros((5, 7, 3), np.uint8)
    array[..., 0], array[..., 1], array[2:, :, 2] = 200, 90, 30
    rgb = Image.fromarray(array)
    image = rgb.convert("LA").convert(mode) if mode == "La" else rgb.convert(mode)
    assert image.mode == mode
    if mode in _HIGH_DEPTH_PIL_MODES:
        # Same class and wording as the numpy path for a non-uint8 array.
        with pytest.raises(InvalidImageError, match=r"must have dtype uint8 \(0\.\.255 RGB\)"):
            check_image(image)
        return
    out = check_image(image)
    assert out.shape == (5, 7, 3)
    assert out.dtype == np.uint8
    expected = np.asarray(image.convert("LA" if mode == "La" else mode).convert("RGB"))
    np.testing.assert_array_equal(out, expected)
    if mode in {"RGB", "RGBA", "RGBX", "CMYK", "YCbCr", "RGBa"}:
        np.testing.assert_allclose(out, array, atol=2)  # colour modes keep the colour


def test_check_image_high_depth_pil_modes_are_not_clipped_silently() -> None:
    # A 16-bit image whose content lies above 255: converting it to RGB clipped it to white,
    # and the detector then found no pose without saying why.
    data = np.linspace(1000, 60000, 5 * 7).reshape(5, 7).astype(np.uint16)
    image = Image.fromarray(data)
    assert image.mode.startswith("I;16")
    with pytest.raises(InvalidImageError, match="I;16"):
        check_image(image)
    with pytest.raises(InvalidImageError, match="uint8"):
        check_image(np.asarray(image))


def test_check_unit_interval_and_choice() -> None:
    assert check_unit_interval("p", 1) == 1.0
    for bad in (-0.1, 1.5, "0.5", True):
        with pytest.raises(ConfigError, match="p must be"):
            check_unit_interval("p", bad)
    assert check_choice("m", "lite", ("lite", "full")) == "lite"
    with pytest.raises(ConfigError, match="'lite', 'full'"):
        check_choice("m", "huge", ("lite", "full"))
