"""Camera-space 3D: where the hip-centred world skeleton stands in front of the camera.

BlazePose's world keypoints are metres with the origin between the hips. With the camera's
intrinsics, the translation ``t`` that puts them where the 2D keypoints see them is found by
least squares (:func:`solve_translation`); :func:`to_camera_space` then gives each pose its
camera-space keypoints: on the 2D keypoints' rays at the depths of ``world + t`` (or
``world + t`` itself with ``rigid=True``).

Conventions:
    Camera space is metres with the camera at the origin, x right, y down, z forward (along
    the optical axis), the same axes as the image and the world keypoints (hifipose rotates
    the world keypoints back by the crop angle, so they are camera-aligned). Pixels follow
    :mod:`hifipose.pose`: origin at the image's top-left corner, x right, y down; a point at
    camera coordinates (X, Y, Z) projects to ``(fx·X/Z + cx, fy·Y/Z + cy)``. Lens distortion
    is not modelled. Depth is only as right as the model's body size (its world keypoints
    are an average adult's): a person k % taller than the model thinks is placed about k %
    too near. Timestamps for the smoother are milliseconds.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hifipose.errors import ConfigError
from hifipose.filters import OneEuroFilter
from hifipose.pose import FrameResult, Pose
from hifipose.topology import KEYPOINT_NAMES

__all__ = [
    "CAMERA_COLUMNS",
    "MIN_DEPTH_M",
    "MIN_POINTS",
    "VISIBILITY_THRESHOLD",
    "CameraSpec",
    "Intrinsics",
    "TranslationSmoother",
    "camera_row_values",
    "solve_translation",
    "to_camera_space",
]

#: Keypoints whose visibility × presence is below this take no part in the solve.
VISIBILITY_THRESHOLD: Final = 0.5
#: Fewer usable keypoints than this and no translation is given (the pose keeps None).
MIN_POINTS: Final = 4
#: Camera-space keypoints are kept at least this far in front of the camera (metres).
MIN_DEPTH_M: Final = 0.05
#: Extra wide-table columns for camera-space keypoints: ``{name}_cam_x/_y/_z`` in metres.
CAMERA_COLUMNS: Final[tuple[str, ...]] = tuple(
    f"{n}_cam_{c}" for n in KEYPOINT_NAMES for c in ("x", "y", "z")
)

Method = Literal["linear", "pnp"]


@dataclass(frozen=True, slots=True)
class Intrinsics:
    """A pinhole camera: focal lengths and principal point in pixels, and the image size.

    Attributes:
        fx: Horizontal focal length in pixels.
        fy: Vertical focal length in pixels.
        cx: Principal point x in pixels (``width / 2`` for a centred lens).
        cy: Principal point y in pixels.
        width: Image width in pixels the values refer to.
        height: Image height in pixels.

    Raises:
        ConfigError: A focal length or the principal point is not a finite number (a NaN
            principal point used to fail deep in the solver), a focal length is not
            positive, or the size is not a positive whole number of pixels.

    Example:
        >>> k = Intrinsics.from_fov(1920, 1080, hfov_deg=90.0)
        >>> round(k.fx, 1), k.cx, k.cy
        (960.0, 960.0, 540.0)
    """

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int

    def __post_init__(self) -> None:
        values = {"fx": self.fx, "fy": self.fy, "cx": self.cx, "cy": self.cy}
        for name, value in values.items():
            if not _is_real(value) or not math.isfinite(value):
                msg = f"camera intrinsics must be finite numbers, got {name}={value!r}"
                raise ConfigError(msg)
        if not (self.fx > 0 and self.fy > 0):
            msg = f"focal lengths must be positive, got fx={self.fx}, fy={self.fy}"
            raise ConfigError(msg)
        for name, size in (("width", self.width), ("height", self.height)):
            if not (isinstance(size, int | np.integer) and not isinstance(size, bool)) or size < 1:
                msg = f"image {name} must be a positive whole number of pixels, got {size!r}"
                raise ConfigError(msg)

    @classmethod
    def default(cls, width: int, height: int) -> Intrinsics:
        """A guess for an unknown camera: ``fx = fy = max(width, height)``, centred.

        That is a horizontal field of view of about 53° on the long side, typical of
        phones and webcams. It is a guess: depth scales with the true focal length, so a
        wrong guess by k % makes depths k % wrong (the 2D fit stays exact).
        """
        focal = float(max(width, height))
        return cls(focal, focal, width / 2, height / 2, width, height)

    @classmethod
    def from_fov(
        cls,
        width: int,
        height: int,
        *,
        hfov_deg: float | None = None,
        vfov_deg: float | None = None,
    ) -> Intrinsics:
        """Square pixels and a centred lens with the given horizontal or vertical field of view.

        Args:
            width: Image width in pixels.
            height: Image height in pixels.
            hfov_deg: Horizontal field of view in degrees (0 < fov < 180).
            vfov_deg: Vertical field of view in degrees; used when ``hfov_deg`` is None.

        Raises:
            ConfigError: Neither or both are given, or the angle is out of range.
        """
        if (hfov_deg is None) == (vfov_deg is None):
            msg = "give exactly one of hfov_deg and vfov_deg"
            raise ConfigError(msg)
        fov, extent = (hfov_deg, width) if hfov_deg is not None else (vfov_deg, height)
        assert fov is not None  # noqa: S101 - narrowed by the check above
        if not 0 < fov < 180:
            msg = f"field of view must be between 0 and 180 degrees, got {fov}"
            raise ConfigError(msg)
        tangent = math.tan(math.radians(fov) / 2)
        if not tangent > 0:  # so narrow that it underflows: no finite focal length
            msg = f"field of view {fov} degrees is too narrow for a focal length"
            raise ConfigError(msg)
        focal = extent / 2 / tangent
        return cls(focal, focal, width / 2, height / 2, width, height)

    @classmethod
    def from_35mm(cls, focal_mm: float, width: int, height: int) -> Intrinsics:
        """From a 35 mm-equivalent focal length (what phones report in EXIF).

        The 35 mm frame is 36 × 24 mm; its diagonal (43.27 mm) is matched to the image's
        diagonal, which is how the equivalent focal length is defined for other aspect
        ratios.
        """
        if not focal_mm > 0:
            msg = f"35 mm focal length must be positive, got {focal_mm}"
            raise ConfigError(msg)
        focal = focal_mm * math.hypot(width, height) / math.hypot(36.0, 24.0)
        return cls(focal, focal, width / 2, height / 2, width, height)

    @classmethod
    def from_matrix(cls, matrix: ArrayLike, width: int, height: int) -> Intrinsics:
        """From a 3×3 camera matrix ``[[fx, s, cx], [0, fy, cy], [0, 0, 1]]`` (skew ignored).

        Raises:
            ConfigError: The matrix is not 3×3 numbers, its last row is not (0, 0, 1), or
                a value is not finite (see the class).
        """
        try:
            k = np.asarray(matrix, dtype=np.float64)
        except (TypeError, ValueError, OverflowError) as exc:
            msg = f"camera matrix must be 3x3 numbers: {exc}"
            raise ConfigError(msg) from exc
        if k.shape != (3, 3) or not np.allclose(k[2], (0.0, 0.0, 1.0)):
            msg = f"camera matrix must be 3x3 with last row (0, 0, 1), got {k.tolist()}"
            raise ConfigError(msg)
        return cls(float(k[0, 0]), float(k[1, 1]), float(k[0, 2]), float(k[1, 2]), width, height)

    @property
    def matrix(self) -> NDArray[np.float64]:
        """The 3×3 camera matrix K."""
        return np.array([[self.fx, 0, self.cx], [0, self.fy, self.cy], [0, 0, 1]], np.float64)

    def project(self, points_m: ArrayLike) -> NDArray[np.float64]:
        """Project (N, 3) camera-space points (metres, z > 0) to (N, 2) pixels."""
        p = np.asarray(points_m, dtype=np.float64)
        return np.stack(
            (self.fx * p[:, 0] / p[:, 2] + self.cx, self.fy * p[:, 1] / p[:, 2] + self.cy), axis=1
        )


@dataclass(frozen=True, slots=True)
class CameraSpec:
    """What the user said about the camera, turned into :class:`Intrinsics` per frame size.

    At most one of ``hfov_deg``, ``focal_35mm`` and ``intrinsics`` is set; with none, the
    :meth:`Intrinsics.default` guess is used. A fixed matrix is only valid for the frame
    size it was given for.
    """

    hfov_deg: float | None = None
    focal_35mm: float | None = None
    intrinsics: Intrinsics | None = None

    def __post_init__(self) -> None:
        given = [v for v in (self.hfov_deg, self.focal_35mm, self.intrinsics) if v is not None]
        if len(given) > 1:
            msg = "give at most one of hfov_deg, focal_35mm and intrinsics"
            raise ConfigError(msg)
        if self.hfov_deg is not None and not (_is_real(self.hfov_deg) and 0 < self.hfov_deg < 180):
            msg = f"field of view must be between 0 and 180 degrees, got {self.hfov_deg!r}"
            raise ConfigError(msg)
        if self.hfov_deg is not None and not math.tan(math.radians(self.hfov_deg) / 2) > 0:
            msg = f"field of view {self.hfov_deg} degrees is too narrow for a focal length"
            raise ConfigError(msg)
        if self.focal_35mm is not None and not (
            _is_real(self.focal_35mm) and 0 < self.focal_35mm < math.inf
        ):
            msg = f"35 mm focal length must be positive and finite, got {self.focal_35mm!r}"
            raise ConfigError(msg)
        if self.intrinsics is not None and not isinstance(self.intrinsics, Intrinsics):
            msg = f"intrinsics must be an Intrinsics, got {type(self.intrinsics).__name__}"
            raise ConfigError(msg)

    @classmethod
    def from_file(cls, path: str | Path) -> CameraSpec:
        """Read the camera from a JSON file.

        The file holds one of ``{"hfov_deg": 60}``, ``{"focal_35mm": 26}`` or
        ``{"width": W, "height": H}`` plus either ``"camera_matrix"`` (3×3, also ``"K"``)
        or ``"fx"``, ``"fy"``, ``"cx"``, ``"cy"``.

        Raises:
            ConfigError: The file cannot be read, holds none of those, or a value is not a
                finite number in its range (whole pixels for the size).
        """
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            msg = f"cannot read camera intrinsics from {path}: {exc}"
            raise ConfigError(msg) from exc
        if not isinstance(data, dict):
            msg = f"{path}: expected a JSON object"
            raise ConfigError(msg)
        try:
            if "hfov_deg" in data:
                return cls(hfov_deg=_number(data["hfov_deg"]))
            if "focal_35mm" in data:
                return cls(focal_35mm=_number(data["focal_35mm"]))
            size = _pixels(data["width"]), _pixels(data["height"])
            matrix = data.get("camera_matrix", data.get("K"))
            if matrix is None:
                matrix = [[data["fx"], 0, data["cx"]], [0, data["fy"], data["cy"]], [0, 0, 1]]
            return cls(intrinsics=Intrinsics.from_matrix(matrix, *size))
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from exc
        except (KeyError, TypeError, ValueError) as exc:
            msg = (
                f"{path}: give hfov_deg, focal_35mm, or width, height and camera_matrix "
                f"(or fx, fy, cx, cy); missing or bad: {exc}"
            )
            raise ConfigError(msg) from exc

    def for_size(self, width: int, height: int) -> Intrinsics:
        """The intrinsics for frames of this size.

        Raises:
            ConfigError: A fixed matrix was given for another frame size.
        """
        if self.intrinsics is not None:
            if (self.intrinsics.width, self.intrinsics.height) != (width, height):
                k = self.intrinsics
                msg = f"intrinsics are for {k.width}x{k.height} frames, got {width}x{height}"
                raise ConfigError(msg)
            return self.intrinsics
        if self.hfov_deg is not None:
            return Intrinsics.from_fov(width, height, hfov_deg=self.hfov_deg)
        if self.focal_35mm is not None:
            return Intrinsics.from_35mm(self.focal_35mm, width, height)
        return Intrinsics.default(width, height)


def _is_real(value: object) -> bool:
    """Whether ``value`` is a real number (an int or float, numpy's too; not a bool)."""
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)


def _number(value: object) -> float:
    """A JSON number as a float; anything else (a string, a bool, null) is a ConfigError."""
    if not _is_real(value):
        msg = f"expected a number, got {type(value).__name__}"
        raise ConfigError(msg)
    try:
        return float(cast("float", value))
    except OverflowError as exc:  # an integer beyond float's range
        msg = "a number is out of range"
        raise ConfigError(msg) from exc


def _pixels(value: object) -> int:
    """A JSON image size: a positive whole number of pixels (2.0 is 2; 2.5 is an error)."""
    number = _number(value)
    if not (math.isfinite(number) and number >= 1 and number == int(number)):
        msg = f"image size must be a positive whole number of pixels, got {number}"
        raise ConfigError(msg)
    return int(number)


def _keypoint_weights(image_array: NDArray[np.float32], threshold: float) -> NDArray[np.float64]:
    w = image_array[:, 3].astype(np.float64) * image_array[:, 4].astype(np.float64)
    return np.where(w >= threshold, w, 0.0)


def solve_translation(
    world_m: ArrayLike,
    image_xy: ArrayLike,
    intrinsics: Intrinsics,
    *,
    weights: ArrayLike | None = None,
    method: Method = "linear",
) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
    """Place hip-centred world keypoints in camera space so that they project onto the 2D ones.

    ``linear`` solves for the translation t only (the world keypoints are already
    camera-aligned): each keypoint gives two equations linear in t,
    ``tx − u'·tz = u'·Z − X`` and ``ty − v'·tz = v'·Z − Y`` with ``u' = (u − cx)/fx``,
    ``v' = (v − cy)/fy``. They are solved by weighted least squares, then once more with
    each row divided by the point's depth from the first solve, so that the residuals are
    reprojection errors (exact without noise either way). ``pnp`` uses OpenCV's SQPnP,
    which also solves a rotation R (it should be near identity); keypoints with zero
    weight are dropped and the others count equally.

    Args:
        world_m: (N, 3) keypoints in metres, hip-centred, camera-aligned axes.
        image_xy: (N, 2) the same keypoints in pixels.
        intrinsics: The camera.
        weights: (N,) non-negative weights; 0 leaves a point out. All 1 when None.
        method: ``"linear"`` or ``"pnp"``.

    Returns:
        ``(t, camera_m)``: t (3,) metres and the (N, 3) camera-space keypoints
        (``world + t`` for linear, ``R·world + t`` for PnP), or None when fewer than
        :data:`MIN_POINTS` points have weight or the solution lies behind the camera.

    Raises:
        ConfigError: Unknown method, or the arrays' shapes do not match.
    """
    world = np.asarray(world_m, dtype=np.float64)
    xy = np.asarray(image_xy, dtype=np.float64)
    w = np.ones(len(world)) if weights is None else np.asarray(weights, dtype=np.float64)
    if (
        world.ndim != 2
        or world.shape[1] != 3
        or xy.shape != (len(world), 2)
        or w.shape != (len(world),)
    ):
        msg = f"expected (N, 3), (N, 2), (N,); got {world.shape}, {xy.shape}, {w.shape}"
        raise ConfigError(msg)
    use = (w > 0) & np.isfinite(world).all(axis=1) & np.isfinite(xy).all(axis=1)
    if use.sum() < MIN_POINTS:
        return None
    if method == "linear":
        t = _linear_translation(world[use], xy[use], w[use], intrinsics)
        camera = world + t
    elif method == "pnp":
        solved = _pnp(world[use], xy[use], intrinsics)
        if solved is None:
            return None
        rotation, t = solved
        camera = world @ rotation.T + t
    else:
        msg = f"unknown camera-space method {method!r}; use 'linear' or 'pnp'"
        raise ConfigError(msg)
    if not (np.isfinite(t).all() and t[2] > 0):
        return None
    return t, camera


def _linear_translation(
    world: NDArray[np.float64], xy: NDArray[np.float64], w: NDArray[np.float64], k: Intrinsics
) -> NDArray[np.float64]:
    """The least-squares t; NaN when the system overflows (absurd intrinsics or points)."""
    no_solution = np.full(3, np.nan)
    with np.errstate(over="ignore", invalid="ignore"):
        u = (xy[:, 0] - k.cx) / k.fx
        v = (xy[:, 1] - k.cy) / k.fy
        n = len(world)
        a = np.zeros((2 * n, 3))
        a[:n, 0] = 1.0
        a[:n, 2] = -u
        a[n:, 1] = 1.0
        a[n:, 2] = -v
        b = np.concatenate((u * world[:, 2] - world[:, 0], v * world[:, 2] - world[:, 1]))
        sqrt_w = np.sqrt(np.concatenate((w, w)))
        a_w, b_w = a * sqrt_w[:, None], b * sqrt_w
    if not (np.isfinite(a_w).all() and np.isfinite(b_w).all()):
        return no_solution
    try:
        t = np.linalg.lstsq(a_w, b_w, rcond=None)[0]
        depth = world[:, 2] + t[2]
        if np.all(depth > 0):
            scale = sqrt_w / np.concatenate((depth, depth))
            with np.errstate(over="ignore", invalid="ignore"):
                a_s, b_s = a * scale[:, None], b * scale
            if np.isfinite(a_s).all() and np.isfinite(b_s).all():
                t = np.linalg.lstsq(a_s, b_s, rcond=None)[0]
    except np.linalg.LinAlgError:  # no convergence on values near float's limits
        return no_solution
    return np.asarray(t, dtype=np.float64)


def _pnp(
    world: NDArray[np.float64], xy: NDArray[np.float64], k: Intrinsics
) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
    import cv2

    try:
        ok, rvec, tvec = cv2.solvePnP(
            world.reshape(-1, 1, 3), xy.reshape(-1, 1, 2), k.matrix, None, flags=cv2.SOLVEPNP_SQPNP
        )
    except cv2.error:  # values OpenCV cannot solve with (near float's limits): no solution
        return None
    if not ok:
        return None
    rotation, _ = cv2.Rodrigues(rvec)
    return np.asarray(rotation, np.float64), np.asarray(tvec, np.float64).reshape(3)


class TranslationSmoother:
    """Smooths each track's translation over time with a one-euro filter (online).

    Tracks are keyed by ``Pose.track_id`` (None is one track of its own). A track absent
    from a frame loses its filter, so a person who comes back starts afresh instead of
    gliding in from where they were last seen.

    The defaults suit a body's root in metres: at rest the cutoff is 0.5 Hz, which removes
    most of the per-frame depth jitter; each m/s of (smoothed) speed adds 1 Hz, so a
    walking person (≈ 1.5 m/s) is followed with about a tenth of a second of lag.

    Args:
        min_cutoff: Cutoff frequency (Hz) when the person stands still.
        beta: How fast the cutoff grows with speed (per m/s).
        derivate_cutoff: Cutoff frequency (Hz) of the speed estimate.
    """

    def __init__(
        self, *, min_cutoff: float = 0.5, beta: float = 1.0, derivate_cutoff: float = 1.0
    ) -> None:
        self._params = {"min_cutoff": min_cutoff, "beta": beta, "derivate_cutoff": derivate_cutoff}
        self._filters: dict[Hashable, OneEuroFilter] = {}

    def smooth(
        self, translations: Mapping[Hashable, NDArray[np.float64]], timestamp_ms: float
    ) -> dict[Hashable, NDArray[np.float64]]:
        """Filter one frame's translations (metres), keyed by track; return them smoothed."""
        self._filters = {k: f for k, f in self._filters.items() if k in translations}
        timestamp_us = round(timestamp_ms * 1000)
        out = {}
        for key, t in translations.items():
            filt = self._filters.setdefault(key, OneEuroFilter(**self._params))
            out[key] = filt.apply(t, timestamp_us)
        return out

    def reset(self) -> None:
        """Forget every track."""
        self._filters.clear()


def to_camera_space(
    result: FrameResult,
    intrinsics: Intrinsics,
    smoother: TranslationSmoother | None = None,
    *,
    method: Method = "linear",
    rigid: bool = False,
    visibility_threshold: float = VISIBILITY_THRESHOLD,
) -> FrameResult:
    """Return ``result`` with each pose's ``camera_array_m`` set.

    A post-processing step: the detector is not involved, so tracking, batch runs and the
    server can all apply it. Per pose, the translation t of the world keypoints is solved
    (:func:`solve_translation`; weights are visibility × presence, keypoints under
    ``visibility_threshold`` left out) and, with a smoother, its depth is smoothed per track
    (see :class:`TranslationSmoother`; x and y always fit the frame's own keypoints, so
    smoothing never makes the skeleton lag behind the video). Then:

    - by default each keypoint is placed on its 2D keypoint's camera ray, at the depth the
      placed world skeleton gives it (``Z = world_z + t_z``, at least 5 cm): the keypoints
      project exactly onto the 2D ones, so a camera-space skeleton drawn through the
      camera lines up with the video, and only the depth comes from the world model;
    - with ``rigid=True`` they are the world keypoints moved by t (``world + t``, or
      ``R·world + t`` for PnP): the body keeps the world model's shape and bone lengths,
      and projects onto the 2D keypoints only up to the disagreement between the model's
      world and image outputs (about 12 px mean on the 1280-pixel-high squat clip).

    A pose whose translation cannot be found (fewer than :data:`MIN_POINTS` visible
    keypoints), or whose camera-space points would not fit in float32 (an absurd focal
    length), keeps ``camera_array_m=None``.

    Raises:
        ConfigError: The intrinsics are for another frame size.
    """
    if (intrinsics.width, intrinsics.height) != result.size_wh:
        msg = (
            f"intrinsics are for {intrinsics.width}x{intrinsics.height} frames, "
            f"frame {result.index} is {result.size_wh[0]}x{result.size_wh[1]}"
        )
        raise ConfigError(msg)
    solved: dict[int, tuple[NDArray[np.float64], NDArray[np.float64]]] = {}
    weights: dict[int, NDArray[np.float64]] = {}
    for i, pose in enumerate(result.poses):
        weights[i] = _keypoint_weights(pose.image_array, visibility_threshold)
        fit = solve_translation(
            pose.world_array_m,
            pose.image_array[:, :2],
            intrinsics,
            weights=weights[i],
            method=method,
        )
        if fit is not None:
            solved[i] = fit
    if smoother is not None:
        # untracked poses (track_id None) are told apart by their place in the frame
        keys: dict[int, Hashable] = {
            i: result.poses[i].track_id if result.poses[i].track_id is not None else ("#", i)
            for i in solved
        }
        smoothed = smoother.smooth(
            {keys[i]: t for i, (t, _) in solved.items()}, result.timestamp_ms
        )
        solved = {
            i: (smoothed[keys[i]], cam + np.array([0.0, 0.0, smoothed[keys[i]][2] - t[2]]))
            for i, (t, cam) in solved.items()
        }
    placed: dict[int, NDArray[np.float32]] = {}
    for i, (_, cam) in solved.items():
        rays = _on_rays(result.poses[i].image_array[:, :2], cam[:, 2], intrinsics)
        points = _refit_lateral(cam, rays, weights[i]) if rigid else rays
        with np.errstate(over="ignore"):
            points32 = points.astype(np.float32)
        if not (np.isinf(points32) & np.isfinite(points)).any():  # else beyond float32: none
            placed[i] = points32
    poses = tuple(
        pose.replace(camera_array_m=placed[i]) if i in placed else pose
        for i, pose in enumerate(result.poses)
    )
    return dataclasses.replace(result, poses=poses)


def _refit_lateral(
    cam: NDArray[np.float64], rays: NDArray[np.float64], w: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Shift ``cam`` sideways (x, y) to best fit the rays at its depths (weights w / z²)."""
    weight = w / np.maximum(cam[:, 2], MIN_DEPTH_M) ** 2
    shift = (weight[:, None] * (rays[:, :2] - cam[:, :2])).sum(axis=0) / weight.sum()
    out: NDArray[np.float64] = cam + np.array([shift[0], shift[1], 0.0])
    return out


def _on_rays(
    image_xy: NDArray[np.float32], depth: NDArray[np.float64], k: Intrinsics
) -> NDArray[np.float64]:
    z = np.maximum(depth, MIN_DEPTH_M)
    xy = image_xy.astype(np.float64)
    return np.stack(((xy[:, 0] - k.cx) / k.fx * z, (xy[:, 1] - k.cy) / k.fy * z, z), axis=1)


def camera_row_values(pose: Pose | None) -> list[float | None]:
    """The :data:`CAMERA_COLUMNS` values of one pose (all None without camera space)."""
    if pose is None or pose.camera_array_m is None:
        return [None] * len(CAMERA_COLUMNS)
    return [float(v) for v in pose.camera_array_m.ravel().tolist()]
