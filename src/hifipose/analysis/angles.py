"""Named joint and segment angles, with Sports2D's names and conventions.

Every angle of Sports2D's ``angle_dict`` that BlazePose can give is here (its ``head``
segment needs a head-top point BlazePose lacks). Names are Sports2D's in snake case
(``"right knee"`` → ``"right_knee"``; both spellings are accepted). ``neck`` is the shoulder
midpoint, ``hip`` the hip midpoint, Sports2D's ``BigToe`` is BlazePose's ``foot_index``.

Conventions (image space, ``space="image"``), as Sports2D computes them:
    Pixels, x right, y down. With points (a, b, c): u = a − b, v = c − b; with
    (a, b, c, d): u = b − a, v = d − c; raw = −atan2(u × v, u · v), in degrees. A segment
    (a, b) is raw = atan2(u_y, u_x) with u = a − b (its direction against the image x axis).
    The angle is then ``(raw + offset) · scale`` wrapped to [−180, 180) ([−90, 90) for
    ``pelvis`` and ``shoulders``). Joint angles read as anatomical flexion for a person seen
    from their right side (0° = straight knee, elbow, hip; ankle 0° = foot at right angle to
    the shank); segment angles are counter-clockwise from the image's x axis as seen on
    screen. ``side`` mirrors x first as Sports2D's ``visible_side`` does: ``"left"`` mirrors
    every point (a person seen from their left reads the same as from their right),
    ``"front"`` the right-side points, ``"back"`` the left-side points, ``"auto"`` picks
    right or left per frame from where the toes point; ``"none"``/``"right"`` mirror nothing.
Conventions (world space, ``space="world"``):
    Metres, camera-aligned axes (x right, y down, z away). A 3D angle has no sign, so the
    raw value is ``sign · atan2(|u × v|, u · v)``, with the per-angle ``sign`` chosen so that
    a movement in the x-y plane, seen from the person's right, gives the image-space value
    (a segment's sign is that of its u_y). World angles do not depend on the camera's view
    of the person, nor on a rotation of the world points.
Missing points:
    An angle is NaN when any point it uses (both points of a midpoint) has visibility below
    ``min_visibility`` (a visibility exactly at it counts as seen), or a coordinate or
    visibility that is not finite (NaN, ±inf, or so huge that the angle overflows): never a
    number from a hallucinated or broken point. Time series from
    :func:`angle_series` are unwrapped (no jump from 179° to −179°; values may leave the
    wrapped range to stay continuous).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hifipose.errors import ConfigError
from hifipose.pose import Pose
from hifipose.topology import KEYPOINT_NAMES, Kp, keypoint_side

__all__ = [
    "ANGLES",
    "DEFAULT_MIN_VISIBILITY",
    "SIDES",
    "AngleDef",
    "LiveAngles",
    "Space",
    "angle_series",
    "check_min_visibility",
    "joint_angle",
    "normalize_angle_name",
]

Space = Literal["image", "world"]
SIDES: Final = ("none", "right", "left", "front", "back", "auto")
DEFAULT_MIN_VISIBILITY: Final = 0.5

#: Midpoints Sports2D adds: (name, the two keypoints averaged).
_MIDPOINTS: Final = {
    "neck": (Kp.LEFT_SHOULDER, Kp.RIGHT_SHOULDER),
    "hip": (Kp.LEFT_HIP, Kp.RIGHT_HIP),
}
_NECK, _HIP = 33, 34  # their rows in the extended (T, 35, D) point array


@dataclass(frozen=True, slots=True)
class AngleDef:
    """One named angle (Sports2D's ``[points, type, offset, scale]`` plus a 3D sign).

    Attributes:
        name: The snake-case name, e.g. ``"right_knee"``.
        points: 2 (segment), 3 (joint at the middle point) or 4 (between two segments)
            keypoint names; ``"neck"`` and ``"hip"`` are midpoints.
        kind: Sports2D's type: ``"flexion"``, ``"dorsiflexion"`` or ``"horizontal"``.
        offset: Degrees added to the raw angle.
        scale: Factor applied after the offset (±1).
        world_sign: The sign given to the unsigned 3D joint angle (see the module).
    """

    name: str
    points: tuple[str, ...]
    kind: str
    offset: float
    scale: float
    world_sign: float = 1.0

    @property
    def half_turn(self) -> bool:
        """Whether the angle wraps to [−90, 90) (pelvis, shoulders) instead of [−180, 180)."""
        return self.name in {"pelvis", "shoulders"}

    @property
    def period(self) -> float:
        """The wrap period in degrees: 180 or 360."""
        return 180.0 if self.half_turn else 360.0


def _joint(
    name: str, points: str, kind: str, offset: float, scale: float, *, sign: float
) -> AngleDef:
    return AngleDef(name, tuple(points.split()), kind, offset, scale, sign)


def _build() -> Mapping[str, AngleDef]:
    defs: list[AngleDef] = []
    for side in ("right", "left"):
        s = side
        defs += [
            _joint(
                f"{s}_ankle",
                f"{s}_knee {s}_ankle {s}_foot_index {s}_heel",
                "dorsiflexion",
                90,
                1,
                sign=-1,
            ),
            _joint(f"{s}_knee", f"{s}_ankle {s}_knee {s}_hip", "flexion", -180, 1, sign=-1),
            _joint(f"{s}_hip", f"{s}_knee {s}_hip hip neck", "flexion", 0, -1, sign=-1),
            _joint(f"{s}_shoulder", f"{s}_elbow {s}_shoulder hip neck", "flexion", 0, -1, sign=-1),
            _joint(f"{s}_elbow", f"{s}_wrist {s}_elbow {s}_shoulder", "flexion", 180, -1, sign=1),
            _joint(f"{s}_wrist", f"{s}_elbow {s}_wrist {s}_index", "flexion", -180, 1, sign=-1),
        ]
    segments = [
        *(
            (f"{s}_{seg}", f"{s}_{a} {s}_{b}")
            for seg, a, b in (
                ("foot", "foot_index", "heel"),
                ("shank", "ankle", "knee"),
                ("thigh", "knee", "hip"),
                ("arm", "elbow", "shoulder"),
                ("forearm", "wrist", "elbow"),
                ("hand", "index", "wrist"),
            )
            for s in ("right", "left")
        ),
        ("pelvis", "left_hip right_hip"),
        ("trunk", "neck hip"),
        ("shoulders", "left_shoulder right_shoulder"),
    ]
    defs += [_joint(name, pts, "horizontal", 0, -1, sign=1) for name, pts in segments]
    for d in defs:
        for point in d.points:
            if point not in KEYPOINT_NAMES and point not in _MIDPOINTS:  # pragma: no cover
                raise AssertionError(point)
    return MappingProxyType({d.name: d for d in defs})


#: Every named angle, by snake-case name (see the module for the conventions).
ANGLES: Final[Mapping[str, AngleDef]] = _build()


def check_min_visibility(value: float) -> float:
    """``value`` if it is a visibility threshold (a finite number in [0, 1]), else ConfigError."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        msg = f"min_visibility must be a number in [0, 1], got {type(value).__name__}"
        raise ConfigError(msg)
    if not 0.0 <= value <= 1.0:  # NaN fails too
        msg = f"min_visibility must be in [0, 1] (visibility is a probability), got {value}"
        raise ConfigError(msg)
    return float(value)


def normalize_angle_name(name: str) -> str:
    """``"Right knee"`` → ``"right_knee"``; raises :class:`ConfigError` for unknown names."""
    key = name.strip().lower().replace(" ", "_").replace("-", "_")
    if key not in ANGLES:
        msg = f"unknown angle {name!r}; known angles: {', '.join(ANGLES)}"
        raise ConfigError(msg)
    return key


def _point_index(name: str) -> int:
    if name == "neck":
        return _NECK
    if name == "hip":
        return _HIP
    return KEYPOINT_NAMES.index(name)


_RIGHT_ROWS: Final = np.array([keypoint_side(kp) == "right" for kp in Kp] + [False, False])
_LEFT_ROWS: Final = np.array([keypoint_side(kp) == "left" for kp in Kp] + [False, False])


def _extend(
    points: NDArray[np.float64], visibility: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Append the neck and hip midpoints (rows 33, 34); their visibility is the lower one."""
    mids = [points[:, [a, b]].mean(axis=1) for a, b in _MIDPOINTS.values()]
    vis = [visibility[:, [a, b]].min(axis=1) for a, b in _MIDPOINTS.values()]
    return (
        np.concatenate([points, np.stack(mids, axis=1)], axis=1),
        np.concatenate([visibility, np.stack(vis, axis=1)], axis=1),
    )


def _mirror(points: NDArray[np.float64], side: str) -> NDArray[np.float64]:
    if side in {"none", "right"}:
        return points
    out = points.copy()
    if side == "left":
        out[..., 0] *= -1
    elif side == "front":
        out[:, _RIGHT_ROWS, 0] *= -1
    elif side == "back":
        out[:, _LEFT_ROWS, 0] *= -1
    else:  # auto: per frame, from where the toes point (Sports2D's rule)
        toes = [Kp.LEFT_FOOT_INDEX, Kp.RIGHT_FOOT_INDEX]
        heels = [Kp.LEFT_HEEL, Kp.RIGHT_HEEL]
        facing = (points[:, toes, 0] - points[:, heels, 0]).sum(axis=1)
        out[facing < 0, :, 0] *= -1
    return out


def _raw_degrees(
    definition: AngleDef, pts: NDArray[np.float64], space: Space
) -> NDArray[np.float64]:
    idx = [_point_index(p) for p in definition.points]
    a = pts[:, idx[0]]
    b = pts[:, idx[1]]
    radians: NDArray[np.float64]
    if len(idx) == 2:
        with np.errstate(over="ignore", invalid="ignore"):
            u = a - b
            if space == "image":
                radians = np.arctan2(u[:, 1], u[:, 0])
            else:
                across = np.linalg.norm(u[:, 1:], axis=1)
                radians = np.sign(u[:, 1]) * np.arctan2(across, u[:, 0])
        radians[~np.isfinite(u).all(axis=1)] = np.nan
        return np.degrees(radians)
    if len(idx) == 3:
        u, v = a - b, pts[:, idx[2]] - b
    else:
        u, v = b - a, pts[:, idx[3]] - pts[:, idx[2]]
    with np.errstate(over="ignore", invalid="ignore"):  # huge values: NaN below, not a number
        dot = (u * v).sum(axis=1)
        if space == "image":
            cross = u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0]
            radians = -np.arctan2(cross, dot)
        else:
            cross = np.linalg.norm(np.cross(u, v), axis=1)
            radians = definition.world_sign * np.arctan2(cross, dot)
    radians[~(np.isfinite(dot) & np.isfinite(cross))] = np.nan
    return np.degrees(radians)


def angle_series(
    points: ArrayLike,
    visibility: ArrayLike,
    names: Sequence[str] | None = None,
    *,
    space: Space = "image",
    min_visibility: float = DEFAULT_MIN_VISIBILITY,
    side: str = "none",
    unwrap: bool = True,
) -> dict[str, NDArray[np.float64]]:
    """Named angles over time from keypoint arrays.

    Args:
        points: (T, 33, D) keypoints: image x, y (D ≥ 2; extra columns are ignored), or
            world x, y, z (D ≥ 3).
        visibility: (T, 33) keypoint visibility in [0, 1] (the image keypoints' score).
        names: Angle names (default: all of :data:`ANGLES`).
        space: ``"image"`` (signed 2D degrees) or ``"world"`` (3D degrees; see the module).
        min_visibility: Below this visibility a point is missing and its angles are NaN
            (a finite number in [0, 1]).
        side: Image space only: Sports2D's visible side (see the module).
        unwrap: Remove ±360° (±180° for pelvis and shoulders) jumps along time.

    Returns:
        One (T,) float64 array of degrees per name (snake case), NaN where missing.

    Raises:
        ConfigError: Unknown name, space or side, arrays of the wrong shape, or a
            ``min_visibility`` outside [0, 1].
    """
    if space not in ("image", "world"):
        msg = f"space must be 'image' or 'world', got {space!r}"
        raise ConfigError(msg)
    if side not in SIDES:
        msg = f"side must be one of {SIDES}, got {side!r}"
        raise ConfigError(msg)
    dims = 2 if space == "image" else 3
    pts = np.asarray(points, dtype=np.float64)
    vis = np.asarray(visibility, dtype=np.float64)
    if pts.ndim != 3 or pts.shape[1] != len(KEYPOINT_NAMES) or pts.shape[2] < dims:
        msg = f"points must have shape (T, 33, >={dims}), got {pts.shape}"
        raise ConfigError(msg)
    if vis.shape != pts.shape[:2]:
        msg = f"visibility must have shape {pts.shape[:2]}, got {vis.shape}"
        raise ConfigError(msg)
    check_min_visibility(min_visibility)
    keys = [normalize_angle_name(n) for n in (ANGLES if names is None else names)]
    with np.errstate(over="ignore", invalid="ignore"):  # a midpoint of huge values: inf
        ext, ext_vis = _extend(pts[:, :, :dims], vis)
    # a point is usable when every coordinate is finite and it is visible enough
    usable = np.isfinite(ext).all(axis=2) & np.isfinite(ext_vis) & (ext_vis >= min_visibility)
    if space == "image":
        ext = _mirror(ext, side)
    out: dict[str, NDArray[np.float64]] = {}
    for key in keys:
        definition = ANGLES[key]
        rows = [_point_index(p) for p in definition.points]
        raw = _raw_degrees(definition, ext, space)
        period = definition.period
        angle = np.mod((raw + definition.offset) * definition.scale + period / 2, period)
        angle -= period / 2
        seen = usable[:, rows].all(axis=1) & np.isfinite(angle)
        angle[~seen] = np.nan
        if unwrap and seen.sum() > 1:
            angle[seen] = np.unwrap(angle[seen], period=period)
        out[key] = angle
    return out


def joint_angle(
    pose: Pose,
    name: str,
    *,
    space: Space = "image",
    min_visibility: float = DEFAULT_MIN_VISIBILITY,
    side: str = "none",
) -> float:
    """One named angle of one pose, in degrees (NaN when a point is not visible enough).

    Example:
        >>> import numpy as np
        >>> image = np.zeros((33, 5)); image[:, 3] = 1.0
        >>> image[28, :2], image[26, :2], image[24, :2] = (0, 2), (0, 1), (0, 0)
        >>> joint_angle(Pose(image, np.zeros((33, 3)), 1.0), "right knee")
        0.0
    """
    points = pose.image_array if space == "image" else pose.world_array_m
    series = angle_series(
        points[None],
        pose.image_array[None, :, 3],
        [name],
        space=space,
        min_visibility=min_visibility,
        side=side,
        unwrap=False,
    )
    return float(next(iter(series.values()))[0]) + 0.0


@dataclass
class LiveAngles:
    """Named angles of each frame's poses as they come, unwrapped per ``track_id``.

    Frame by frame, a track gets the values :func:`angle_series` gives over the whole track
    (the same wrap, then unwrapped against the track's last visible value); poses without a
    ``track_id`` (single images) are not unwrapped.

    Attributes:
        names: Angle names (either spelling; kept in snake case).
        space: ``"image"`` or ``"world"`` (see the module).
        min_visibility: Below this visibility a point is missing and its angles are NaN.
        side: Image space only: Sports2D's visible side.

    Raises:
        ConfigError: An unknown angle name (on construction), space or side (on update).
    """

    names: Sequence[str]
    space: Space = "image"
    min_visibility: float = DEFAULT_MIN_VISIBILITY
    side: str = "none"
    _last: dict[tuple[Hashable, str], float] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.names = tuple(normalize_angle_name(n) for n in self.names)
        check_min_visibility(self.min_visibility)

    def update(self, poses: Sequence[Pose]) -> list[dict[str, float]]:
        """Feed one frame's poses; return each pose's angles (degrees, NaN if unseen)."""
        answers = []
        for pose in poses:
            points = pose.image_array if self.space == "image" else pose.world_array_m
            series = angle_series(
                points[None],
                pose.image_array[None, :, 3],
                self.names,
                space=self.space,
                min_visibility=self.min_visibility,
                side=self.side,
                unwrap=False,
            )
            values = {name: float(v[0]) for name, v in series.items()}
            for name, value in values.items():
                key = (pose.track_id, name)
                if pose.track_id is None or not np.isfinite(value):
                    continue
                if key in self._last:
                    period = ANGLES[name].period
                    values[name] += period * round((self._last[key] - value) / period)
                self._last[key] = values[name]
            answers.append(values)
        return answers
