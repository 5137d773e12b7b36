"""Forward kinematics from a parsed BVH file (the `bvh` package reads it; this composes)."""

from __future__ import annotations

import numpy as np


def rot(axis: str, degrees: np.ndarray) -> np.ndarray:
    a = np.radians(degrees)
    c, s = np.cos(a), np.sin(a)
    out = np.zeros((len(a), 3, 3))
    i = "XYZ".index(axis)
    j, k = (i + 1) % 3, (i + 2) % 3
    out[:, i, i] = 1
    out[:, j, j], out[:, j, k], out[:, k, j], out[:, k, k] = c, -s, s, c
    return out


def forward_kinematics(mocap) -> dict[str, np.ndarray]:
    """{joint name: (F, 3) global position in BVH units} from a bvh.Bvh."""
    frames = np.array(mocap.frames, dtype=np.float64)
    names = mocap.get_joints_names()
    column = 0
    columns: dict[str, list[tuple[str, int]]] = {}
    for name in names:
        channels = mocap.joint_channels(name)
        columns[name] = [(c, column + i) for i, c in enumerate(channels)]
        column += len(channels)
    glob_r: dict[str, np.ndarray] = {}
    glob_p: dict[str, np.ndarray] = {}
    for name in names:
        offset = np.array(mocap.joint_offset(name), dtype=np.float64)
        local = np.broadcast_to(np.eye(3), (len(frames), 3, 3)).copy()
        position = np.broadcast_to(offset, (len(frames), 3)).copy()
        for channel, col in columns[name]:
            if channel.endswith("rotation"):
                local = local @ rot(channel[0], frames[:, col])
            else:
                position[:, "XYZ".index(channel[0])] = frames[:, col]
        parent = mocap.joint_parent(name)
        if parent is None:
            glob_r[name], glob_p[name] = local, position
        else:
            pr, pp = glob_r[parent.name], glob_p[parent.name]
            glob_p[name] = pp + np.einsum("fij,j->fi", pr, offset)
            glob_r[name] = pr @ local
    return glob_p
