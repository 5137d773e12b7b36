"""Rerun recordings: a ``.rrd`` file, or a live viewer, of the video and its skeletons.

Entities (``{track}`` is the pose's ``track_id``, or ``p{i}`` for the i-th pose of a frame
without track ids):

- ``video``: the frame (JPEG-compressed), with a ``Pinhole`` from the camera intrinsics
  when camera space is known, so 2D and 3D line up in the viewer;
- ``video/pose/{track}``: the 2D keypoints (pixels) with the skeleton's edges;
- ``video/mask/{track}``: the person mask (1 = person), when segmentation was asked for;
- with Holistic (``Pose.parts``): ``video/pose/{track}/left_hand`` and ``…/right_hand``,
  each hand's 21 points (pixels) with its 21 edges (class 2, "hand"), and
  ``video/pose/{track}/face``, the face's 468 or 478 points as small dots (class 3,
  "face"); cleared on a frame where that part was not found;
- ``world/pose/{track}``: the 3D world keypoints (metres, origin between the hips); with
  Holistic, ``world/pose/{track}/left_hand`` and ``…/right_hand``: the hand model's metric
  points, moved so that the hand's wrist sits on the body's world wrist (the hand model's
  origin is the hand's own centre; none where the runtime gives no hand world points,
  ``runtime="mediapipe"``);
- ``camera/pose/{track}``: the camera-space keypoints (metres, camera at the origin);
- ``poses/count``: the number of poses in the frame (a scalar, logged on every frame);
- ``angles/{track}/{name}``: angles in degrees (scalars) when given to :meth:`write`,
  e.g. from :class:`hifipose.analysis.LiveAngles` (NaN where a point is not visible enough).

Conventions:
    Timelines: ``frame`` (sequence: the frame index) and ``time`` (duration: the frame's
    timestamp in seconds). All 3D spaces use hifipose's axes, x right, y down, z forward
    (Rerun's ``RDF``). Skeleton edges and keypoint names come from
    :mod:`hifipose.topology` in one annotation context (class 1, "person"). When a track
    leaves, its entities are cleared at that frame, so a track's data exists exactly on the
    frames where the track does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from hifipose._optional import require
from hifipose._publish import Publication
from hifipose.camera import Intrinsics
from hifipose.errors import OutputError
from hifipose.io.writers.base import ResultWriter
from hifipose.pose import FrameResult, Pose
from hifipose.topology import HAND_EDGES, HAND_KEYPOINT_NAMES, KEYPOINT_NAMES, SKELETON_EDGES, Kp

__all__ = ["FACE_CLASS", "HAND_CLASS", "PERSON_CLASS", "RerunWriter", "track_key"]

PERSON_CLASS: Final = 1
HAND_CLASS: Final = 2
FACE_CLASS: Final = 3
FACE_RGBA: Final = (224, 224, 224, 200)
FACE_RADIUS_PX: Final = 0.8
_HANDS: Final = (("left_hand", Kp.LEFT_WRIST), ("right_hand", Kp.RIGHT_WRIST))
JPEG_QUALITY: Final = 75
PERSON_RGBA: Final = (255, 140, 0, 160)  # skeletons, and masks at this opacity


def track_key(pose: Pose, index: int) -> str:
    """The entity-path name of a pose's track: its ``track_id``, or ``p{index}`` without one."""
    return str(pose.track_id) if pose.track_id is not None else f"p{index}"


class RerunWriter(ResultWriter):
    """Logs frame results (and, when given, the frames) to a ``.rrd`` file and/or a viewer.

    Args:
        path: The ``.rrd`` file to write (published on a clean close, written to
            its partial file until then, deleted on abort), or None for a live viewer only.
        live: None (no viewer), ``"spawn"`` (start a local viewer), or the gRPC URL of a
            running viewer (e.g. ``rerun+http://127.0.0.1:9876/proxy``).
        application_id: The recording's application id in the viewer.

    Raises:
        RuntimeUnavailableError: rerun-sdk is missing (``pip install 'hifipose[rerun]'``).
        OutputError: Neither a path nor a viewer was given, or the file cannot be created.
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        live: str | None = None,
        application_id: str = "hifipose",
    ) -> None:
        self._rr: Any = require("rerun", extra="rerun")
        rr = self._rr
        if path is None and live is None:
            msg = "a Rerun writer needs a .rrd path, a viewer, or both"
            raise OutputError(msg)
        self.path = Path(path) if path is not None else None
        self._publication: Publication | None = None
        self._closed = False
        self._recording: Any = rr.RecordingStream(application_id)
        sinks = []
        if self.path is not None:
            try:
                self._publication = Publication(self.path)
                self._publication.partial.touch()
            except OSError as exc:
                msg = f"cannot write {self.path}: {exc.strerror or exc}"
                raise OutputError(msg) from exc
            sinks.append(rr.FileSink(str(self._publication.partial)))
        if live == "spawn":
            rr.spawn(connect=False, recording=self._recording)
            sinks.append(rr.GrpcSink())
        elif live is not None:
            sinks.append(rr.GrpcSink(live))
        self._recording.set_sinks(*sinks, default_blueprint=_blueprint(rr, angles=False))
        self._log_static()
        self._tracks: set[str] = set()
        self._plots_angles = False
        self._intrinsics: Intrinsics | None = None
        self._pinhole: Intrinsics | None = None

    def _log_static(self) -> None:
        rr, rec = self._rr, self._recording
        rec.log(
            "/",
            rr.AnnotationContext(
                [
                    # class 0 is a mask's background: transparent
                    rr.AnnotationInfo(id=0, label="background", color=(0, 0, 0, 0)),
                    rr.ClassDescription(
                        info=rr.AnnotationInfo(id=PERSON_CLASS, label="person", color=PERSON_RGBA),
                        keypoint_annotations=[
                            rr.AnnotationInfo(id=i, label=name)
                            for i, name in enumerate(KEYPOINT_NAMES)
                        ],
                        keypoint_connections=[(int(a), int(b)) for a, b in SKELETON_EDGES],
                    ),
                    rr.ClassDescription(
                        info=rr.AnnotationInfo(id=HAND_CLASS, label="hand", color=PERSON_RGBA),
                        keypoint_annotations=[
                            rr.AnnotationInfo(id=i, label=name)
                            for i, name in enumerate(HAND_KEYPOINT_NAMES)
                        ],
                        keypoint_connections=list(HAND_EDGES),
                    ),
                    rr.AnnotationInfo(id=FACE_CLASS, label="face", color=FACE_RGBA),
                ]
            ),
            static=True,
        )
        rec.log("/", rr.ViewCoordinates.RDF, static=True)
        rec.log("world", rr.ViewCoordinates.RDF, static=True)

    def set_intrinsics(self, intrinsics: Intrinsics) -> None:
        """Use this camera from the next frame on: a ``Pinhole`` on ``video``, logged on change."""
        self._intrinsics = intrinsics

    def _log_pinhole(self) -> None:
        if self._intrinsics is None or self._intrinsics == self._pinhole:
            return
        k = self._pinhole = self._intrinsics
        self._recording.log(
            "video",
            self._rr.Pinhole(
                image_from_camera=k.matrix,
                resolution=[k.width, k.height],
                camera_xyz=self._rr.ViewCoordinates.RDF,
            ),
        )

    def write(
        self,
        result: FrameResult,
        image_rgb: NDArray[np.uint8] | None = None,
        angles: Sequence[Mapping[str, float]] | None = None,
    ) -> None:
        """Log one frame's poses, its picture when ``image_rgb`` is given, and angles.

        Args:
            result: The frame's poses.
            image_rgb: The frame (H, W, 3) RGB, or None.
            angles: One ``{name: degrees}`` per pose of ``result``, in the same order,
                logged as ``angles/{track}/{name}``; None for no angles. The first
                angles add a plot of them to the default layout.

        Raises:
            OutputError: The writer is closed, or ``angles`` does not match the poses.
        """
        if self._closed:
            msg = f"{self.path or 'the Rerun recording'} is already closed"
            raise OutputError(msg)
        if angles is not None and len(angles) != len(result.poses):
            msg = (
                f"frame {result.index}: {len(angles)} sets of angles for {len(result.poses)} poses"
            )
            raise OutputError(msg)
        rr, rec = self._rr, self._recording
        rec.set_time("frame", sequence=result.index)
        rec.set_time("time", duration=result.timestamp_ms / 1000.0)
        self._log_pinhole()
        if image_rgb is not None:
            rec.log("video", rr.Image(image_rgb).compress(jpeg_quality=JPEG_QUALITY))
        if angles and any(angles) and not self._plots_angles:  # the layout gains a plot
            self._plots_angles = True
            rec.send_blueprint(_blueprint(rr, angles=True))
        rec.log("poses/count", rr.Scalars(float(len(result.poses))))
        present = set()
        for i, pose in enumerate(result.poses):
            key = track_key(pose, i)
            present.add(key)
            self._log_pose(key, pose)
            for name, degrees in (angles[i] if angles is not None else {}).items():
                rec.log(f"angles/{key}/{name}", rr.Scalars(float(degrees)))
        for key in self._tracks - present:
            for root in ("video/pose", "video/mask", "world/pose", "camera/pose", "angles"):
                rec.log(f"{root}/{key}", rr.Clear(recursive=True))
        self._tracks = present

    def _log_pose(self, key: str, pose: Pose) -> None:
        rr, rec = self._rr, self._recording
        ids = np.arange(len(KEYPOINT_NAMES))
        rec.log(
            f"video/pose/{key}",
            rr.Points2D(pose.image_array[:, :2], class_ids=PERSON_CLASS, keypoint_ids=ids),
        )
        rec.log(
            f"world/pose/{key}",
            rr.Points3D(pose.world_array_m, class_ids=PERSON_CLASS, keypoint_ids=ids),
        )
        if pose.camera_array_m is not None:
            rec.log(
                f"camera/pose/{key}",
                rr.Points3D(pose.camera_array_m, class_ids=PERSON_CLASS, keypoint_ids=ids),
            )
        if pose.segmentation is not None:
            mask = (pose.segmentation > 0.5).astype(np.uint8) * PERSON_CLASS
            rec.log(f"video/mask/{key}", rr.SegmentationImage(mask))
        if pose.parts is not None:
            self._log_parts(key, pose)

    def _log_parts(self, key: str, pose: Pose) -> None:
        """The hands and face of a Holistic pose; a part not found is cleared."""
        rr, rec = self._rr, self._recording
        ids = np.arange(len(HAND_KEYPOINT_NAMES))
        for name, wrist in _HANDS:
            hand = getattr(pose, name)
            if hand is None:
                rec.log(f"video/pose/{key}/{name}", rr.Clear(recursive=False))
                rec.log(f"world/pose/{key}/{name}", rr.Clear(recursive=False))
                continue
            rec.log(
                f"video/pose/{key}/{name}",
                rr.Points2D(hand.image_array[:, :2], class_ids=HAND_CLASS, keypoint_ids=ids),
            )
            world = hand.world_array_m
            if world is None:  # the runtime gives no hand world points
                rec.log(f"world/pose/{key}/{name}", rr.Clear(recursive=False))
                continue
            placed = world - world[0] + pose.world_array_m[wrist]
            rec.log(
                f"world/pose/{key}/{name}",
                rr.Points3D(placed, class_ids=HAND_CLASS, keypoint_ids=ids),
            )
        face = pose.face
        if face is None:
            rec.log(f"video/pose/{key}/face", rr.Clear(recursive=False))
        else:
            rec.log(
                f"video/pose/{key}/face",
                rr.Points2D(face.image_array[:, :2], class_ids=FACE_CLASS, radii=FACE_RADIUS_PX),
            )

    def close(self) -> None:
        """Flush, disconnect and publish the file. Calling it again does nothing."""
        if self._closed:
            return
        self._closed = True
        self._recording.flush()
        self._recording.disconnect()
        if self._publication is not None:
            self._publication.publish()

    def abort(self) -> None:
        """Stop; the partial file is deleted and nothing is published."""
        if not self._closed:
            self._closed = True
            self._recording.flush()
            self._recording.disconnect()
            if self._publication is not None:
                self._publication.discard()


def _blueprint(rr: Any, *, angles: bool) -> Any:  # noqa: ANN401 - rerun's types, lazy
    """The default layout: the video with 2D skeletons, the world skeletons, camera space.

    With ``angles``, a plot of them below.
    """
    rrb = rr.blueprint
    views = rrb.Horizontal(
        rrb.Spatial2DView(name="video", origin="video"),
        rrb.Spatial3DView(name="world (hip-centred)", origin="world"),
        rrb.Spatial3DView(name="camera space", origin="/", contents=["camera/**", "video"]),
    )
    if angles:
        plot = rrb.TimeSeriesView(name="angles (degrees)", origin="angles")
        views = rrb.Vertical(views, plot, row_shares=[3, 1])
    return rrb.Blueprint(views, collapse_panels=True)
