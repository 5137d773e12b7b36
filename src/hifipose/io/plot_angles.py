"""A picture of angle curves over time, one panel per person, with repetitions marked.

Needs matplotlib (the ``plot`` extra). Times are seconds, values degrees; NaN samples
leave gaps in the curves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from hifipose._optional import require
from hifipose._publish import publishing
from hifipose.errors import ConfigError, OutputError

__all__ = ["AnglePanel", "check_plot_path", "plot_angle_panels"]


@dataclass(frozen=True)
class AnglePanel:
    """One person's curves: a title, times (s), named series (degrees), rep times (s)."""

    title: str
    seconds: NDArray[np.float64]
    series: Mapping[str, NDArray[np.float64]]
    rep_seconds: Sequence[float] = field(default_factory=tuple)


def check_plot_path(path: str | Path) -> Path:
    """``path`` if matplotlib can write a picture there (by its suffix), checked before any work.

    Raises:
        RuntimeUnavailableError: matplotlib is not installed.
        ConfigError: The suffix is not a picture format matplotlib writes.
    """
    require("matplotlib", extra="plot")
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    target = Path(path)
    formats = FigureCanvasAgg.get_supported_filetypes()
    if target.suffix.lower().lstrip(".") not in formats:
        shown = ", ".join(f".{s}" for s in ("png", "svg", "pdf") if s in formats)
        msg = f"cannot plot to {target.name}: not a picture format; end it in {shown}"
        raise ConfigError(msg)
    return target


def plot_angle_panels(path: str | Path, panels: Sequence[AnglePanel]) -> Path:
    """Write the panels, stacked, to an image file (PNG, SVG, PDF by suffix); atomic.

    Raises:
        RuntimeUnavailableError: matplotlib is not installed.
        ConfigError: The suffix is not a picture format (:func:`check_plot_path`).
        OutputError: The file cannot be written.
    """
    check_plot_path(path)
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt

    target = Path(path)
    rows = max(1, len(panels))
    fig, axes = plt.subplots(rows, 1, figsize=(10, 2.8 * rows), squeeze=False, sharex=True)
    try:
        for ax, panel in zip(axes[:, 0], panels, strict=False):
            for name, values in panel.series.items():
                ax.plot(panel.seconds, values, label=name, linewidth=1.4)
            for i, t in enumerate(panel.rep_seconds):
                ax.axvline(t, color="black", linestyle="--", linewidth=0.8)
                ax.annotate(
                    f"{i + 1}", (t, 1.0), xycoords=("data", "axes fraction"), ha="left", va="top"
                )
            reps = f" — {len(panel.rep_seconds)} repetitions" if panel.rep_seconds else ""
            ax.set_title(f"{panel.title}{reps}", loc="left", fontsize=10)
            ax.set_ylabel("degrees")
            ax.grid(alpha=0.3)
            ax.legend(loc="upper right", fontsize=8, ncols=2)
        axes[-1, 0].set_xlabel("time (s)")
        fig.tight_layout()
        with publishing(target) as partial:
            fig.savefig(partial, dpi=110)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from exc
    finally:
        plt.close(fig)
    return target
