"""Input checks for the public entry points: one helper per kind of value.

Internal stages trust their callers; these run once, at the boundary.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any

import numpy as np
from numpy.typing import NDArray

from hifipose.errors import ConfigError, InvalidImageError, TimestampError

__all__ = ["check_choice", "check_image", "check_timestamp_ms", "check_unit_interval"]


def _from_pil(image: Any) -> NDArray[np.uint8]:  # noqa: ANN401 - a PIL.Image of any mode
    if image.mode not in {"RGB", "RGBA", "L"}:
        image = image.convert("RGB")
    return np.asarray(image)


def check_image(image: object, *, name: str = "image_rgb") -> NDArray[np.uint8]:
    """Return a C-contiguous HxWx3 uint8 RGB array for ``image``, or raise.

    Accepted: HxWx3 uint8 RGB (returned as is when already C-contiguous, else copied),
    HxWx4 uint8 RGBA (alpha dropped), HxW or HxWx1 uint8 grayscale (replicated to RGB), and
    a ``PIL.Image.Image`` (converted). The caller's array is never modified.

    Args:
        image: The frame.
        name: The argument's name, for error messages.

    Returns:
        An array that the pipeline may read (it is not written to).

    Raises:
        InvalidImageError: Not an array or PIL image, a dtype other than uint8, a shape other
            than those above, or an empty image.
    """
    if type(image).__module__.startswith("PIL.") and hasattr(image, "mode"):
        image = _from_pil(image)
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


def check_timestamp_ms(timestamp_ms: object) -> float:
    """Return ``timestamp_ms`` as a finite float, or raise :class:`TimestampError`."""
    if isinstance(timestamp_ms, bool) or not isinstance(timestamp_ms, int | float | np.number):
        msg = f"timestamp_ms must be a number of milliseconds, got {type(timestamp_ms).__name__}"
        raise TimestampError(msg)
    value = float(timestamp_ms)
    if not math.isfinite(value):
        msg = f"timestamp_ms must be finite, got {value}"
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
