"""A matplotlib view of one pose's 3D world skeleton.

Conventions:
    World keypoints are metres, origin between the hips, x right, y down, z away from the
    camera. The plot shows height upwards (−y) and depth into the page (z).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hifipose._optional import require
from hifipose._publish import publishing
from hifipose.io.render import DEFAULT_STYLE, DrawStyle
from hifipose.pose import Pose
from hifipose.topology import SKELETON_EDGES, keypoint_side

__all__ = ["plot_world_pose", "save_world_pose_png"]


def plot_world_pose(
    pose: Pose,
    *,
    ax: Any = None,  # noqa: ANN401 - a matplotlib Axes3D; matplotlib ships no usable types
    elev: float = 10.0,
    azim: float = -70.0,
    style: DrawStyle = DEFAULT_STYLE,
) -> Any:  # noqa: ANN401 - see ax
    """Draw the 35-edge world skeleton of ``pose`` in 3D.

    Args:
        pose: The pose.
        ax: A 3D axes to draw into; a new figure (no pyplot state) is made when None.
        elev: Camera elevation in degrees.
        azim: Camera azimuth in degrees.
        style: Colours (RGB) for the person's left, right and middle.

    Returns:
        The 3D axes.

    Raises:
        RuntimeUnavailableError: matplotlib is missing (``pip install 'hifipose[plot]'``).
    """
    figure_module = require("matplotlib.figure", extra="plot")
    if ax is None:
        ax = figure_module.Figure(figsize=(5, 5)).add_subplot(projection="3d")
    xyz = pose.world_array_m
    # plot axes: x → x, depth z → plot y, up (−y) → plot z
    points = [(x, z, -y) for x, y, z in xyz.tolist()]
    colours = {"left": style.left_rgb, "right": style.right_rgb, "middle": style.middle_rgb}
    for start, end in SKELETON_EDGES:
        side = keypoint_side(start) if keypoint_side(start) == keypoint_side(end) else "middle"
        rgb = [c / 255 for c in colours[side]]
        ax.plot(
            *zip(points[start], points[end], strict=True), color=rgb if side != "middle" else "0.3"
        )
    ax.scatter(*zip(*points, strict=True), s=8, color="0.2")
    ax.set_xlabel("x (m)")
    ax.set_ylabel("z (m, depth)")
    ax.set_zlabel("up (m)")
    ax.set_xlim(-1, 1)
    ax.set_ylim(-1, 1)
    ax.set_zlim(-1, 1)
    ax.view_init(elev=elev, azim=azim)
    return ax


def save_world_pose_png(pose: Pose, path: str | Path, **kwargs: Any) -> Path:  # noqa: ANN401
    """Plot ``pose``'s world skeleton and save it as a PNG (published whole); return the path."""
    ax = plot_world_pose(pose, **kwargs)
    with publishing(path) as partial:
        ax.figure.savefig(str(partial), dpi=100)
    return Path(path)
