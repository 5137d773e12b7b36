"""Forward kinematics from a parsed BVH file (the `bvh` package reads it; this composes),
and the error floor of any fixed-length skeleton, to judge FK against."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import least_squares
from scipy.sparse import lil_matrix
from scipy.spatial.transform import Rotation


def rot(axis: str, degrees: np.ndarray) -> np.ndarray:
    a = np.radians(degrees)
    c, s = np.cos(a), np.sin(a)
    out = np.zeros((len(a), 3, 3))
    i = "XYZ".index(axis)
    j, k = (i + 1) % 3, (i + 2) % 3
    out[:, i, i] = 1
    out[:, j, j], out[:, j, k], out[:, k, j], out[:, k, k] = c, -s, s, c
    return out


def forward_kinematics(mocap: Any) -> dict[str, np.ndarray]:
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


def rigid_floor_cm(
    targets: dict[str, np.ndarray], parents: dict[str, str | None], *, symmetric: bool = True
) -> dict[str, np.ndarray]:
    """The error floor of any skeleton with constant bone lengths, per joint, per frame (cm).

    ``targets`` holds every joint's (F, 3) keypoint position; ``parents`` the tree. Joints
    on the same point as an earlier one (the neck and the shoulder joints, all at the
    mid-shoulder) are one point. The fitted skeleton keeps the root on its target; the
    root's children (the pelvis: spine and hip joints) keep fixed offsets in a root frame
    that turns freely in each frame, as in any BVH file; every other bone has one length
    for the whole clip and may point anywhere in each frame. Left and right are mirror
    images when ``symmetric``. That is a looser rig than any BVH file (no twist coupling,
    ball joints everywhere), so its error is a lower bound on what fixed offsets can reach.
    The fit minimises the summed distance (least squares reweighted towards the mean
    distance, which the tests compare).
    """
    names = list(targets)
    point_of: dict[str, str] = {}  # joint → the first joint on the same point
    for name in names:
        same = [n for n in point_of if np.allclose(targets[n], targets[name])]
        point_of[name] = same[0] if same else name
    points = [n for n in names if point_of[n] == n]
    index = {n: i for i, n in enumerate(points)}
    root = points[0]
    parent = {b: point_of[parents[b] or root] for b in points[1:]}
    pelvis = [b for b in points[1:] if parent[b] == root]
    bones = [b for b in points[1:] if parent[b] != root]
    weight = np.array([sum(point_of[n] == p for n in names) for p in points], float)
    mirror = np.array([-1.0, 1.0, 1.0]) if symmetric else np.ones(3)

    def key(name: str) -> str:
        return name.replace("Left", "Right") if symmetric else name

    length_keys = sorted({key(b) for b in bones})
    offset_keys = sorted({key(b) for b in pelvis})
    which = np.array([length_keys.index(key(b)) for b in bones])
    target = np.stack([targets[p] for p in points], axis=1)  # (F, P, 3)
    count, nb, nl, no = len(target), len(bones), len(length_keys), len(offset_keys)
    start = np.stack([target[:, index[b]] - target[:, index[parent[b]]] for b in bones], 1)
    norm = np.linalg.norm(start, axis=-1)
    u = start / norm[..., None]
    pelvis_start = {b: (target[:, index[b]] - target[:, 0]).mean(axis=0) for b in pelvis}
    x0 = np.concatenate(
        [
            [norm[:, which == k].mean() for k in range(nl)],
            *(
                np.mean(
                    [
                        pelvis_start[b] * (mirror if b != key(b) else 1)
                        for b in pelvis
                        if key(b) == k
                    ],
                    axis=0,
                )
                for k in offset_keys
            ),
            np.zeros(count * 3),  # the root's rotation vector per frame
            np.stack(
                [np.arccos(np.clip(u[..., 2], -1, 1)), np.arctan2(u[..., 1], u[..., 0])], -1
            ).ravel(),
        ]
    )
    first_rotation, first_angle = nl + 3 * no, nl + 3 * no + 3 * count

    def place(x: np.ndarray) -> np.ndarray:
        offsets = x[nl:first_rotation].reshape(no, 3)
        turn = Rotation.from_rotvec(x[first_rotation:first_angle].reshape(count, 3))
        angles = x[first_angle:].reshape(count, nb, 2)
        sin = np.sin(angles[..., 0])
        unit = np.stack(
            [sin * np.cos(angles[..., 1]), sin * np.sin(angles[..., 1]), np.cos(angles[..., 0])],
            -1,
        )
        out = np.empty_like(target)
        out[:, 0] = target[:, 0]
        for b in pelvis:
            offset = offsets[offset_keys.index(key(b))] * (mirror if b != key(b) else 1)
            out[:, index[b]] = target[:, 0] + turn.apply(offset)
        for k, b in enumerate(bones):
            out[:, index[b]] = out[:, index[parent[b]]] + x[which[k]] * unit[:, k]
        return out

    below = {b: {b} for b in points}  # the points a bone moves: its own and its descendants'
    for b in reversed(points[1:]):
        below[parent[b]] |= below[b]
    sparsity = lil_matrix((count * len(points) * 3, len(x0)), dtype=np.int8)
    for f in range(count):
        rows = slice(f * len(points) * 3, (f + 1) * len(points) * 3)
        sparsity[rows, first_rotation + 3 * f : first_rotation + 3 * f + 3] = 1
        for b in pelvis:
            col = nl + 3 * offset_keys.index(key(b))
            for moved in below[b]:
                row = (f * len(points) + index[moved]) * 3
                sparsity[row : row + 3, col : col + 3] = 1
        for k, b in enumerate(bones):
            col = first_angle + (f * nb + k) * 2
            for moved in below[b]:
                row = (f * len(points) + index[moved]) * 3
                sparsity[row : row + 3, col : col + 2] = 1
                sparsity[row : row + 3, which[k]] = 1
    x, scale = x0, np.ones((count, len(points)))
    for _ in range(4):
        w = np.sqrt(weight * scale)[..., None]
        x = least_squares(
            lambda x, w=w: ((place(x) - target) * w).ravel(),
            x,
            jac_sparsity=sparsity,
            x_scale="jac",
        ).x
        scale = 1 / np.maximum(np.linalg.norm(place(x) - target, axis=-1), 0.05)
    error = np.linalg.norm(place(x) - target, axis=-1)
    return {n: error[:, index[point_of[n]]] for n in names}
