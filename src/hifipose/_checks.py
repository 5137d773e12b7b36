"""Input checks for the public entry points: one helper per kind of value.

Internal stages trust their callers; these run once, at the boundary.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from hifipose.errors import ConfigError, InvalidImageError, TimestampError

__all__ = [
    "MAX_ABS_TIMESTAMP_MS",
    "check_choice",
    "check_image",
    "check_timestamp_ms",
    "check_unit_interval",
]


#: PIL modes whose pixels are not 8-bit: refused like a numpy array of the same dtype, since
#: their value range (12-bit camera data in 16 bits, floats in [0, 1] or [0, 255]) is unknown.
_PIL_HIGH_DEPTH_MODES: Final = {
    "I": "int32",
    "I;16": "uint16",
    "I;16L": "uint16",
    "I;16B": "uint16",
    "I;16N": "uint16",
    "F": "float32",
}
#: PIL modes PIL cannot convert to RGB in one step, and the mode they go through.
_PIL_VIA: Final = {"La": "LA"}


def _from_pil(image: Any, name: str) -> NDArray[np.uint8]:  # noqa: ANN401 - a PIL.Image
    """Return a PIL image's pixels as uint8 (RGB, RGBA or L), or raise InvalidImageError."""
    mode = str(getattr(image, "mode", ""))
    if mode in _PIL_HIGH_DEPTH_MODES or mode.startswith("I;"):
        dtype = _PIL_HIGH_DEPTH_MODES.get(mode, "more than 8 bits")
        msg = (
            f"{name} must have dtype uint8 (0..255 RGB), got a PIL image of mode {mode!r} "
            f"({dtype}); scale it to 0..255 yourself, e.g. "
            "(np.asarray(image) / 257).round().astype(np.uint8) for 16-bit data"
        )
        raise InvalidImageError(msg)
    try:
        if mode not in {"RGB", "RGBA", "L"}:
            if mode in _PIL_VIA:
                image = image.convert(_PIL_VIA[mode])
            image = image.convert("RGB")
        pixels = np.asarray(image)
    except (OSError, ValueError) as exc:  # PIL: an unconvertible mode, or an unreadable file
        msg = f"{name}: cannot convert a PIL image of mode {mode!r} to RGB: {exc}"
        raise InvalidImageError(msg) from exc
    return pixels


def check_image(image: object, *, name: str = "image_rgb") -> NDArray[np.uint8]:
    """Return a C-contiguous HxWx3 uint8 RGB array for ``image``, or raise.

    Accepted: HxWx3 uint8 RGB (returned as is when already C-contiguous, else copied),
    HxWx4 uint8 RGBA (alpha dropped), HxW or HxWx1 uint8 grayscale (replicated to RGB), and
    a ``PIL.Image.Image`` of an 8-bit mode (converted to RGB). PIL's 16-bit, 32-bit and
    float modes (``I;16``, ``I``, ``F``) are refused, as uint16, int32 and float32 arrays
    are: their value range is unknown. The caller's array is never modified.

    Args:
        image: The frame.
        name: The argument's name, for error messages.

    Returns:
        An array that the pipeline may read (it is not written to).

    Raises:
        InvalidImageError: Not an array or PIL image, a dtype other than uint8 (or a PIL mode
            of more than 8 bits), a shape other than those above, or an empty image.
    """
    if type(image).__module__.startswith("PIL.") and hasattr(image, "mode"):
        image = _from_pil(image, name)
    if not isinstance(image, np.ndarray):
        kind = type(image).__name__
        msg = f"{name} must be a numpy array (HxWx3 uint8 RGB) or a PIL image, got {kind}"
        raise InvalidImageError(msg)
    if image.dtype != np.uint8:
        hint = ""
        if np.issubdtype(image.dtype, np.floating):
            hint = "; for floats in [0, 1] use (image * 255).round().clip(0, 255).astype(np.uint8)"
        msg = f"{name} must have dtype uint8 (0..255 RGB), got {image.dtype}{hint}"
        raise InvalidImageError(msg)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 2:
        _check_not_empty(name, image.shape)
        return np.ascontiguousarray(np.repeat(image[:, :, None], 3, axis=2))
    if image.ndim != 3 or image.shape[2] not in {3, 4}:
        msg = (
            f"{name} must have shape (height, width, 3) RGB, (height, width, 4) RGBA or "
            f"(height, width) grayscale, got {image.shape}"
        )
        raise InvalidImageError(msg)
    _check_not_empty(name, image.shape)
    if image.shape[2] == 4:
        image = image[:, :, :3]
    return np.ascontiguousarray(image)


def _check_not_empty(name: str, shape: tuple[int, ...]) -> None:
    if shape[0] == 0 or shape[1] == 0:
        msg = f"{name} is empty: shape {shape}"
        raise InvalidImageError(msg)


#: The largest timestamp magnitude accepted (ms): the stream clock counts signed 64-bit
#: microseconds, as MediaPipe does (about 292 000 years).
MAX_ABS_TIMESTAMP_MS: Final = (2**63 - 1) // 1000


def check_timestamp_ms(timestamp_ms: object) -> float:
    """Return ``timestamp_ms`` as a finite float within ±:data:`MAX_ABS_TIMESTAMP_MS`.

    Raises:
        TimestampError: Not a real number (bools are refused), not finite, or so large that
            its microseconds do not fit a signed 64-bit integer.
    """
    if isinstance(timestamp_ms, bool | np.bool_) or not isinstance(
        timestamp_ms, int | float | np.integer | np.floating
    ):
        msg = f"timestamp_ms must be a number of milliseconds, got {type(timestamp_ms).__name__}"
        raise TimestampError(msg)
    try:
        value = float(timestamp_ms)
    except OverflowError:  # an int beyond float's range
        value = math.inf if timestamp_ms > 0 else -math.inf
    else:
        if not math.isfinite(value):
            msg = f"timestamp_ms must be finite, got {value}"
            raise TimestampError(msg)
    if abs(value) > MAX_ABS_TIMESTAMP_MS:
        msg = (
            f"timestamp_ms {value:g} is out of range: its magnitude must be at most "
            f"{MAX_ABS_TIMESTAMP_MS} ms (signed 64-bit microseconds)"
        )
        raise TimestampError(msg)
    return value


def check_unit_interval(name: str, value: object) -> float:
    """Return ``value`` as a float if it lies in [0, 1], else raise :class:`ConfigError`."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f"{name} must be a number in [0, 1], got {value!r}"
        raise ConfigError(msg)
    if not 0.0 <= float(value) <= 1.0:
        msg = f"{name} must be in [0, 1], got {value!r}"
        raise ConfigError(msg)
    return float(value)


def check_choice(name: str, value: object, choices: Collection[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise :class:`ConfigError`."""
    if not isinstance(value, str) or value not in choices:
        msg = f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}"
        raise ConfigError(msg)
    return value
