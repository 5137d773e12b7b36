"""BVH motion capture export: a rig built from the 33 keypoints, one file per track.

Conventions:
    BVH space is Y-up, right-handed, in centimetres: hifipose's axes (x right, y down,
    z away from the camera) map to ``(x, −y, −z) × 100``, so a person facing the camera
    faces +Z with their left at +X, the rest pose of most rigs. Rotation channels are
    degrees, applied in the order listed (``Zrotation Yrotation Xrotation`` is
    R = Rz·Ry·Rx); each joint's order puts its own bone axis in the middle, where Euler
    angles lock, because the twist about a bone stays small (ZYX for the spine, neck and
    legs, ZXY for the arms, XZY for the head and feet; YXZ for the root). The root adds
    ``Xposition Yposition Zposition`` first. The rest pose is a T-pose.

The hierarchy (each joint sits at the point named; its bone runs to its child)::

    Hips (mid-hip)
    ├─ Spine (half-way to mid-shoulder)
    │  ├─ Neck (mid-shoulder) ─ Head (mid-ear) ─ End Site (nose)
    │  ├─ LeftShoulder (mid-shoulder) ─ LeftArm (shoulder) ─ LeftForeArm (elbow)
    │  │    ─ LeftHand (wrist) ─ End Site (mid of index and pinky)
    │  └─ RightShoulder … mirror
    ├─ LeftUpLeg (hip) ─ LeftLeg (knee) ─ LeftFoot (ankle) ─ LeftToe (foot index) ─ End Site
    └─ RightUpLeg … mirror

Bone lengths (the offsets) are the median over the clip, from frames where the bone's
keypoints are visible, averaged between left and right; the hip joints, which sit beside
the spine rather than on a bone, get the median of where they sit in the hips' frame.
Each joint's rotation turns its rest bone direction onto the bone's direction: for the
bones that carry joints, the one that puts forward kinematics, with the fixed offsets,
nearest the keypoints (least squares over the joints below, per frame), so that one bone's
length error is not passed on as a tilt of the bones after it; for the hips and the bones
ending in an end site (hands, head), the keypoints' own. The twist about the
bone comes from a secondary axis where the keypoints give one (hip line for the hips,
shoulder line for the spine, ear line for the neck and head, pinky→index for the hands)
and is otherwise the parent's (the smallest rotation, no added twist). Euler angles take,
frame by frame, the one of the two equivalent solutions nearest the previous frame, then
are unwrapped, so no channel jumps by more than 180°. The world keypoints' bone lengths
change a little from frame to frame; fixed offsets cannot follow that, so forward
kinematics lands within that variation of the keypoints, not exactly on them (on the squat
clip 1.4 cm mean, where the best any fixed-length skeleton can do is 1.2 cm).

The root position is the camera-space mid-hip (:mod:`hifipose.camera`) when the poses
have it, else the world mid-hip (about 0). A track's file starts at the frame where the
track first appears; frames where it is missing in between repeat its last pose.
"""

from __future__ import annotations

import glob
import logging
import re
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hifipose._publish import publish_text
from hifipose.errors import ConfigError, OutputError
from hifipose.io.writers.base import ResultWriter
from hifipose.pose import FrameResult
from hifipose.topology import Kp

logger = logging.getLogger(__name__)

__all__ = ["JOINTS", "BvhWriter", "Joint", "bvh_text"]

VISIBLE: Final = 0.5
END_SITE_FRACTION: Final = 0.4  # the toes' end site, as a fraction of the foot bone
FIT_SWEEPS: Final = 10  # coordinate-descent sweeps fitting the bone directions (converged by 10)

UP: Final = (0.0, 1.0, 0.0)
DOWN: Final = (0.0, -1.0, 0.0)
LEFT: Final = (1.0, 0.0, 0.0)  # the person's left, facing +Z
RIGHT: Final = (-1.0, 0.0, 0.0)
FORWARD: Final = (0.0, 0.0, 1.0)

# Derived points: each is the mean of these keypoints (the spine point is special-cased).
POINTS: Final[dict[str, tuple[Kp, ...]]] = {
    "mid_hip": (Kp.LEFT_HIP, Kp.RIGHT_HIP),
    "mid_shoulder": (Kp.LEFT_SHOULDER, Kp.RIGHT_SHOULDER),
    "spine": (Kp.LEFT_HIP, Kp.RIGHT_HIP, Kp.LEFT_SHOULDER, Kp.RIGHT_SHOULDER),
    "mid_ear": (Kp.LEFT_EAR, Kp.RIGHT_EAR),
    "nose": (Kp.NOSE,),
    **{
        f"{side}_{part}": (Kp[f"{side.upper()}_{kp}"],)
        for side in ("left", "right")
        for part, kp in (
            ("shoulder", "SHOULDER"),
            ("elbow", "ELBOW"),
            ("wrist", "WRIST"),
            ("hip", "HIP"),
            ("knee", "KNEE"),
            ("ankle", "ANKLE"),
            ("toe", "FOOT_INDEX"),
            ("ear", "EAR"),
            ("index", "INDEX"),
            ("pinky", "PINKY"),
        )
    },
    "left_hand": (Kp.LEFT_INDEX, Kp.LEFT_PINKY),
    "right_hand": (Kp.RIGHT_INDEX, Kp.RIGHT_PINKY),
}


@dataclass(frozen=True)
class Joint:
    """One joint of the rig.

    Attributes:
        name: The BVH joint name.
        parent: The parent joint's name (None for the root).
        at: The point the joint sits on (a key of ``POINTS``).
        rest: Unit direction of the offset from the parent in the rest pose.
        aim: The point its bone points to (None: the toe, which follows its parent).
        aim_rest: Unit direction of the bone in the rest pose.
        twist: Points ``(a, b)`` whose vector ``b − a`` fixes the twist about the bone, and
            its rest direction; None takes the parent's twist.
        end: The end site's point (None for no end site, or the toe's fixed one).
    """

    name: str
    parent: str | None
    at: str
    rest: tuple[float, float, float]
    aim: str | None
    aim_rest: tuple[float, float, float]
    twist: tuple[str, str, tuple[float, float, float]] | None = None
    end: str | None = None


def _side(side: str, lateral: tuple[float, float, float]) -> tuple[Joint, ...]:
    s, c = side, side.capitalize()
    return (
        Joint(f"{c}Shoulder", "Spine", "mid_shoulder", UP, f"{s}_shoulder", lateral),
        Joint(f"{c}Arm", f"{c}Shoulder", f"{s}_shoulder", lateral, f"{s}_elbow", lateral),
        Joint(f"{c}ForeArm", f"{c}Arm", f"{s}_elbow", lateral, f"{s}_wrist", lateral),
        Joint(
            f"{c}Hand",
            f"{c}ForeArm",
            f"{s}_wrist",
            lateral,
            f"{s}_hand",
            lateral,
            twist=(f"{s}_pinky", f"{s}_index", FORWARD),
            end=f"{s}_hand",
        ),
    )


def _leg(side: str, lateral: tuple[float, float, float]) -> tuple[Joint, ...]:
    s, c = side, side.capitalize()
    return (
        Joint(f"{c}UpLeg", "Hips", f"{s}_hip", lateral, f"{s}_knee", DOWN),
        Joint(f"{c}Leg", f"{c}UpLeg", f"{s}_knee", DOWN, f"{s}_ankle", DOWN),
        Joint(f"{c}Foot", f"{c}Leg", f"{s}_ankle", DOWN, f"{s}_toe", FORWARD),
        Joint(f"{c}Toe", f"{c}Foot", f"{s}_toe", FORWARD, None, FORWARD),
    )


#: The rig, parents before children, in the order the hierarchy is written.
JOINTS: Final[tuple[Joint, ...]] = (
    Joint("Hips", None, "mid_hip", UP, "mid_shoulder", UP, twist=("right_hip", "left_hip", LEFT)),
    Joint(
        "Spine",
        "Hips",
        "spine",
        UP,
        "mid_shoulder",
        UP,
        twist=("right_shoulder", "left_shoulder", LEFT),
    ),
    Joint(
        "Neck", "Spine", "mid_shoulder", UP, "mid_ear", UP, twist=("right_ear", "left_ear", LEFT)
    ),
    Joint(
        "Head",
        "Neck",
        "mid_ear",
        UP,
        "nose",
        FORWARD,
        twist=("right_ear", "left_ear", LEFT),
        end="nose",
    ),
    *_side("left", LEFT),
    *_side("right", RIGHT),
    *_leg("left", LEFT),
    *_leg("right", RIGHT),
)
_INDEX: Final = {j.name: i for i, j in enumerate(JOINTS)}
_JOINT_POINTS: Final = frozenset(j.at for j in JOINTS)

F64 = NDArray[np.float64]
#: Per derived point: (F, 3) positions and (F,) visibility (the least of its keypoints').
Points = dict[str, tuple[F64, F64]]
#: One pose kept for a track: frame index, timestamp (ms), world (33, 3), visibility (33,),
#: camera-space mid-hip (3,) or None.
_Row = tuple[int, float, NDArray[np.float32], NDArray[np.float32], NDArray[np.float32] | None]


def _to_bvh_cm(xyz_m: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(xyz_m * np.array([100.0, -100.0, -100.0]), dtype=np.float64)


def _points(xyz: F64, vis: F64) -> Points:
    out: Points = {}
    for name, kps in POINTS.items():
        idx = list(kps)
        out[name] = (xyz[:, idx].mean(axis=1), vis[:, idx].min(axis=1))
    return out


def _unit(v: NDArray[np.float64]) -> NDArray[np.float64]:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.asarray(np.divide(v, n, out=np.zeros_like(v), where=n > 1e-12), dtype=np.float64)


def _frames(primary: NDArray[np.float64], secondary: NDArray[np.float64]) -> NDArray[np.float64]:
    """(F, 3, 3) orthonormal frames, columns: primary, secondary ⟂ primary, their cross."""
    e1 = _unit(primary)
    e2 = _unit(secondary - (secondary * e1).sum(-1, keepdims=True) * e1)
    return np.stack((e1, e2, np.cross(e1, e2)), axis=-1)


def _swing(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """(F, 3, 3) smallest rotations turning unit vectors a onto unit vectors b."""
    axis = np.cross(a, b)
    sin = np.linalg.norm(axis, axis=-1)
    cos = (a * b).sum(-1)
    # opposite vectors: any axis perpendicular to a
    other = np.where(np.abs(a[:, :1]) < 0.9, [[1.0, 0.0, 0.0]], [[0.0, 1.0, 0.0]])
    axis = np.where((sin < 1e-9)[:, None] & (cos < 0)[:, None], np.cross(a, other), axis)
    k = _unit(axis)
    angle = np.arctan2(sin, cos)
    kx = np.zeros((len(a), 3, 3))
    kx[:, 0, 1], kx[:, 0, 2], kx[:, 1, 2] = -k[:, 2], k[:, 1], -k[:, 0]
    kx = kx - kx.transpose(0, 2, 1)
    s, c = np.sin(angle)[:, None, None], (1 - np.cos(angle))[:, None, None]
    return np.asarray(np.eye(3) + s * kx + c * (kx @ kx), dtype=np.float64)


def _rotation_order(joint: Joint) -> str:
    """The joint's Euler order, e.g. ``"ZYX"``: R = Rz·Ry·Rx.

    The middle angle of an Euler triple locks at ±90°, so it goes to the rotation that stays
    small: the twist about the joint's own rest bone for every joint (its rotation is
    mostly a swing of that bone), and for the root, whose yaw can be anything, the pitch
    (the root turns about Y first, then X, then Z).
    """
    if joint.parent is None:
        return "YXZ"
    middle = "XYZ"[int(np.argmax(np.abs(joint.aim_rest)))]
    first, last = (a for a in "ZXY" if a != middle)
    return first + middle + last


def _euler(local: NDArray[np.float64], order: str) -> NDArray[np.float64]:
    """(F, 3) degrees for R = R_order[0]·R_order[1]·R_order[2], continuous over frames."""
    i, j, k = ("XYZ".index(a) for a in order)
    sign = 1.0 if (j - i) % 3 == 1 else -1.0  # +1 for cyclic orders (XYZ, YZX, ZXY)
    b = np.arcsin(np.clip(sign * local[:, i, k], -1.0, 1.0))
    a = np.arctan2(-sign * local[:, j, k], local[:, k, k])
    c = np.arctan2(-sign * local[:, i, j], local[:, i, i])
    first = np.stack((a, b, c), axis=1)
    second = np.stack((a + np.pi, np.pi - b, c + np.pi), axis=1)
    out = np.empty_like(first)
    previous = first[0]
    for f in range(len(first)):
        best = None
        for candidate in (first[f], second[f]):
            near = candidate - 2 * np.pi * np.round((candidate - previous) / (2 * np.pi))
            if best is None or np.abs(near - previous).sum() < np.abs(best - previous).sum():
                best = near
        out[f] = previous = best
    return np.asarray(np.degrees(out), dtype=np.float64)


def _bone_lengths(points: Points) -> dict[str, float]:
    lengths: dict[str, float] = {}
    for joint in JOINTS[1:]:
        parent = JOINTS[_INDEX[joint.parent or ""]]
        (p, pv), (q, qv) = points[parent.at], points[joint.at]
        lengths[joint.name] = _median_length(q - p, np.minimum(pv, qv))
    for joint in JOINTS:
        if joint.end is not None:
            (p, pv), (q, qv) = points[joint.at], points[joint.end]
            lengths[joint.name + "/end"] = _median_length(q - p, np.minimum(pv, qv))
    for name in list(lengths):
        if name.startswith("Left"):
            mirror = "Right" + name[4:]
            lengths[name] = lengths[mirror] = (lengths[name] + lengths[mirror]) / 2
    return lengths


def _median_length(v: NDArray[np.float64], visibility: NDArray[np.float64]) -> float:
    n = np.linalg.norm(v, axis=-1)
    seen = visibility >= VISIBLE
    return float(np.median(n[seen] if seen.any() else n))


def bvh_text(
    world_m: ArrayLike,
    visibility: ArrayLike,
    frame_time_s: float,
    root_m: ArrayLike | None = None,
) -> str:
    """The BVH file for one track (see the module docstring for the rig and axes).

    Args:
        world_m: (F, 33, 3) world keypoints in metres (hifipose axes), one row per frame.
        visibility: (F, 33) visibility × presence, for choosing the frames bone lengths
            are measured on.
        frame_time_s: Seconds per frame.
        root_m: (F, 3) the mid-hip in camera space (metres, camera axes), or None to use
            the world mid-hip.

    Returns:
        The file's text.
    """
    xyz = _to_bvh_cm(np.asarray(world_m, dtype=np.float64))
    points = _points(xyz, np.asarray(visibility, dtype=np.float64))
    lengths = _bone_lengths(points)
    # the keypoints' own bone directions place the off-bone joints (the hips) in their
    # parent's frame; the rotations written then point the bones so that forward
    # kinematics with the fixed offsets lands nearest the keypoints
    keypoint_rotations = _rotations(points)
    offsets = _offsets(points, keypoint_rotations, lengths)
    rotations = _rotations(points, _fit_aims(points, offsets, keypoint_rotations))
    root = points["mid_hip"][0] if root_m is None else _to_bvh_cm(np.asarray(root_m, np.float64))
    channels = [root]
    for i, joint in enumerate(JOINTS):
        parent_r = np.eye(3) if joint.parent is None else rotations[_INDEX[joint.parent]]
        local = np.swapaxes(parent_r, -1, -2) @ rotations[i]
        channels.append(_euler(local, _rotation_order(joint)))
    return _hierarchy(offsets, lengths) + _motion(np.concatenate(channels, axis=1), frame_time_s)


def _rotations(points: Points, aims: dict[str, F64] | None = None) -> F64:
    """(J, F, 3, 3) each joint's rotation, rest pose to frame (BVH axes), parents first.

    Each rotation turns the joint's rest bone direction onto the bone's direction, then
    about that bone by the secondary axis (or the parent's twist). The bone's direction is
    ``aims[name]`` where given, else the keypoints' own (from the joint's point to the
    point it aims at).
    """
    count = len(points["mid_hip"][0])
    rotations = np.empty((len(JOINTS), count, 3, 3))
    for i, joint in enumerate(JOINTS):
        parent_r = np.broadcast_to(np.eye(3), (count, 3, 3))
        if joint.parent is not None:
            parent_r = rotations[_INDEX[joint.parent]]
        if joint.aim is None:
            rotations[i] = parent_r
            continue
        bone = points[joint.aim][0] - points[joint.at][0]
        if aims is not None and joint.name in aims:
            bone = aims[joint.name]
        swung = _swing(_unit(parent_r @ np.array(joint.aim_rest)), _unit(bone)) @ parent_r
        if joint.twist is None:
            rotations[i] = swung
            continue
        a, b, twist_rest = joint.twist
        secondary = points[b][0] - points[a][0]
        current = _frames(bone, secondary)
        rest = _frames(np.array([joint.aim_rest]), np.array([twist_rest]))
        twisted = current @ rest.transpose(0, 2, 1)
        # a secondary axis (nearly) along the bone gives no twist: keep the parent's there
        cross = np.linalg.norm(np.cross(_unit(bone), _unit(secondary)), axis=-1)
        rotations[i] = np.where((cross > 0.1)[:, None, None], twisted, swung)
    return rotations


def _fit_aims(points: Points, offsets: dict[str, F64], start: F64) -> dict[str, F64]:
    """Bone directions that put forward kinematics nearest the keypoints, per frame.

    The bones that carry joints (not the hips', which keep the keypoints' pelvis, nor the
    ones ending in an end site) are fitted, with their fixed lengths, by coordinate descent
    on the summed squared distance of every joint to its keypoint: each bone in turn takes
    the direction that minimises it with the others held (a closed form: the length-weighted
    mean of where the joints below it should move), from a start aimed from where forward
    kinematics puts each joint. With lengths that change from frame to frame no rigid rig
    reaches every keypoint; this spreads the difference over a limb's joints instead of
    piling it onto the last. ``start`` holds the rotations from the keypoints' own bones,
    which place the joints on the bones not fitted.
    """
    root = JOINTS[0].name
    target = {j.name: points[j.at][0] for j in JOINTS}
    length = {name: float(np.linalg.norm(v)) for name, v in offsets.items()}
    children = {j.name: [c for c in JOINTS if c.parent == j.name] for j in JOINTS}
    fitted = [  # bones carrying joints, all of them on the bone
        j
        for j in JOINTS[1:]
        if j.aim in _JOINT_POINTS and all(c.rest == j.aim_rest for c in children[j.name])
    ]
    below: dict[str, list[str]] = {j.name: [] for j in JOINTS}  # each joint's descendants
    for joint in reversed(JOINTS[1:]):
        below[joint.parent or root] += [joint.name, *below[joint.name]]
    position = {root: target[root]}
    aims: dict[str, F64] = {}
    for joint in JOINTS[1:]:
        parent = joint.parent or root
        if parent in aims:
            position[joint.name] = position[parent] + length[joint.name] * aims[parent]
        else:
            position[joint.name] = position[parent] + start[_INDEX[parent]] @ offsets[joint.name]
        if joint in fitted:
            aims[joint.name] = _unit(points[joint.aim or ""][0] - position[joint.name])
    for _ in range(FIT_SWEEPS):
        for joint in fitted:
            old = aims[joint.name]
            pull = np.zeros_like(old)
            for child in (c.name for c in children[joint.name]):
                for moved in (child, *below[child]):
                    pull += length[child] * (target[moved] - position[moved])
                pull += length[child] * length[child] * (1 + len(below[child])) * old
            new = np.where(np.linalg.norm(pull, axis=-1, keepdims=True) > 1e-9, _unit(pull), old)
            for child in (c.name for c in children[joint.name]):
                shift = length[child] * (new - old)
                for moved in (child, *below[child]):
                    position[moved] = position[moved] + shift
            aims[joint.name] = new
    return aims


def _offsets(points: Points, rotations: F64, lengths: dict[str, float]) -> dict[str, F64]:
    """Each joint's offset from its parent (cm, in the parent's rest frame), symmetrised.

    A joint on its parent's bone gets the bone's median length along the rest direction.
    A joint off it (the hips, beside the spine) gets the median of where it actually sits
    in its parent's frame, so that, e.g., a pelvis that is not square to the spine
    still puts the hip joints where the keypoints are.
    """
    offsets: dict[str, F64] = {}
    for joint in JOINTS[1:]:
        parent = JOINTS[_INDEX[joint.parent or ""]]
        if joint.rest == parent.aim_rest:
            offsets[joint.name] = lengths[joint.name] * np.array(joint.rest)
            continue
        (p, pv), (q, qv) = points[parent.at], points[joint.at]
        local = np.einsum("fji,fj->fi", rotations[_INDEX[parent.name]], q - p)
        seen = np.minimum(pv, qv) >= VISIBLE
        offsets[joint.name] = np.median(local[seen] if seen.any() else local, axis=0)
    mirror = np.array([-1.0, 1.0, 1.0])
    for name in list(offsets):
        if name.startswith("Left"):
            other = "Right" + name[4:]
            mean = (offsets[name] + offsets[other] * mirror) / 2
            offsets[name], offsets[other] = mean, mean * mirror
    return offsets


def _hierarchy(offsets: dict[str, F64], lengths: dict[str, float]) -> str:
    lines = ["HIERARCHY"]
    children: dict[str | None, list[Joint]] = {}
    for joint in JOINTS:
        children.setdefault(joint.parent, []).append(joint)

    def emit(joint: Joint, depth: int) -> None:
        pad = "  " * depth
        if joint.parent is None:
            lines.append(f"{pad}ROOT {joint.name}")
            offset = (0.0, 0.0, 0.0)
            chans = "CHANNELS 6 Xposition Yposition Zposition"
        else:
            lines.append(f"{pad}JOINT {joint.name}")
            offset = tuple(offsets[joint.name])
            chans = "CHANNELS 3"
        chans += "".join(f" {axis}rotation" for axis in _rotation_order(joint))
        lines.extend([f"{pad}{{", f"{pad}  OFFSET {_fmt(offset)}", f"{pad}  {chans}"])
        for child in children.get(joint.name, []):
            emit(child, depth + 1)
        if joint.end is not None or joint.aim is None:
            end_length = (
                lengths[joint.name + "/end"]
                if joint.end is not None
                else END_SITE_FRACTION * lengths[joint.name]
            )
            end = tuple(end_length * np.array(joint.aim_rest))
            lines.extend(
                [f"{pad}  End Site", f"{pad}  {{", f"{pad}    OFFSET {_fmt(end)}", f"{pad}  }}"]
            )
        lines.append(f"{pad}}}")

    emit(JOINTS[0], 0)
    return "\n".join(lines) + "\n"


def _fmt(values: tuple[float, ...] | NDArray[np.float64]) -> str:
    return " ".join(f"{v:.4f}" for v in values)


def _motion(channels: NDArray[np.float64], frame_time_s: float) -> str:
    lines = ["MOTION", f"Frames: {len(channels)}", f"Frame Time: {frame_time_s:.6f}"]
    lines += [_fmt(row) for row in channels]
    return "\n".join(lines) + "\n"


class BvhWriter(ResultWriter):
    """Collects every frame's poses and writes BVH files on close.

    One track (or untracked single-person video) writes ``path`` itself; several write
    ``<stem>.<track_id>.bvh`` beside it, one per track. Files appear only on a clean close,
    each written to its partial file first (:func:`~hifipose.io.writers.base.partial_path`)
    and renamed; a failed write deletes it. After all are published, the files of an earlier
    run to the same ``path`` that this one replaces are deleted: ``path`` itself and any
    ``<stem>.<number>.bvh`` this run did not write, so the folder never mixes people of two
    runs. :attr:`written` then lists the files written, :attr:`removed` those deleted.

    Raises:
        OutputError: The folder cannot be created; on close, no pose in any frame.
        ConfigError: A frame holds several poses without track ids (BVH needs identities:
            track in video mode).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            msg = f"cannot write {self.path}: {exc.strerror or exc}"
            raise OutputError(msg) from exc
        self._tracks: dict[Hashable, list[_Row]] = {}
        self._closed = False
        self.written: tuple[Path, ...] = ()
        self.removed: tuple[Path, ...] = ()

    def write(self, result: FrameResult) -> None:
        """Keep one frame's poses (per ``track_id``) for the files written on close."""
        if self._closed:
            msg = f"{self.path} is already closed"
            raise OutputError(msg)
        untracked = [p for p in result.poses if p.track_id is None]
        if len(untracked) > 1:
            msg = (
                f"frame {result.index} has {len(untracked)} poses without track ids; BVH "
                "needs one identity per file (track a video, not single images)"
            )
            raise ConfigError(msg)
        for pose in result.poses:
            vis = pose.image_array[:, 3] * pose.image_array[:, 4]
            root = None
            if pose.camera_array_m is not None:
                root = pose.camera_array_m[[Kp.LEFT_HIP, Kp.RIGHT_HIP]].mean(axis=0)
            self._tracks.setdefault(pose.track_id, []).append(
                (result.index, result.timestamp_ms, pose.world_array_m, vis, root)
            )

    def paths(self) -> dict[Hashable, Path]:
        """The file each track seen so far goes to."""
        if len(self._tracks) <= 1:
            return dict.fromkeys(self._tracks, self.path)
        return {
            key: self.path.with_name(f"{self.path.stem}.{key}{self.path.suffix}")
            for key in self._tracks
        }

    def close(self) -> None:
        """Write and publish one file per track. Calling it again does nothing.

        Raises:
            OutputError: No frame had a pose, or a file cannot be written.
        """
        if self._closed:
            return
        self._closed = True
        if not self._tracks:
            msg = f"no pose in any frame: nothing to write to {self.path}"
            raise OutputError(msg)
        written = []
        for key, path in self.paths().items():
            text = _track_text(self._tracks[key])
            try:
                publish_text(path, text)
            except OSError as exc:
                msg = f"cannot write {path}: {exc.strerror or exc}"
                raise OutputError(msg) from exc
            written.append(path)
        self.written = tuple(written)
        self.removed = tuple(_remove_replaced(self.path, self.written))

    def abort(self) -> None:
        """Stop without writing anything."""
        self._closed = True
        self._tracks.clear()


def _remove_replaced(path: Path, written: tuple[Path, ...]) -> list[Path]:
    """Delete ``path`` and ``<stem>.<number><suffix>`` beside it unless just ``written``."""
    family = re.compile(re.escape(path.stem) + r"(\.\d+)?" + re.escape(path.suffix) + r"\Z")
    removed: list[Path] = []
    try:
        candidates = sorted(path.parent.glob(f"{glob.escape(path.stem)}*{path.suffix}"))
    except OSError:
        return removed
    for candidate in candidates:
        if candidate in written or not family.match(candidate.name) or not candidate.is_file():
            continue
        try:
            candidate.unlink()
        except OSError as exc:  # not ours to delete: say so, keep going
            logger.warning("cannot delete %s of an earlier run: %s", candidate, exc)
            continue
        removed.append(candidate)
    return removed


def _track_text(rows: list[_Row]) -> str:
    first, last = rows[0][0], rows[-1][0]
    by_index = {row[0]: row for row in rows}
    filled: list[_Row] = []
    for index in range(first, last + 1):
        filled.append(by_index.get(index, filled[-1] if filled else rows[0]))
    world = np.stack([row[2] for row in filled])
    vis = np.stack([row[3] for row in filled])
    roots = [row[4] for row in filled]
    root = None
    if any(r is not None for r in roots):
        known = [r for r in roots if r is not None]
        held, out = known[0], []
        for r in roots:  # a frame whose translation failed keeps the last one
            held = r if r is not None else held
            out.append(held)
        root = np.stack(out)
    stamps = np.array([row[1] for row in rows])
    indices = np.array([row[0] for row in rows])
    frame_time = 0.0
    if len(rows) > 1:
        frame_time = float(np.median(np.diff(stamps) / np.diff(indices))) / 1000
    if not frame_time > 0:  # one frame, or images without timestamps: assume 30 fps
        frame_time = 1 / 30
    return bvh_text(world, vis, frame_time, root)
