"""Optional dependencies: import on first use, or say which extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

from hifipose.errors import RuntimeUnavailableError

__all__ = ["require"]


def require(module: str, *, extra: str) -> ModuleType:
    """Import ``module`` or raise :class:`RuntimeUnavailableError` naming the extra to install.

    Args:
        module: The module to import, e.g. ``"pyarrow"``.
        extra: The hifipose extra that installs it, e.g. ``"parquet"``.

    Returns:
        The imported module.

    Raises:
        RuntimeUnavailableError: The module is not installed.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        msg = (
            f"{module!r} is needed for this feature but is not installed; "
            f"install it with: pip install 'hifipose[{extra}]'"
        )
        raise RuntimeUnavailableError(msg) from exc
