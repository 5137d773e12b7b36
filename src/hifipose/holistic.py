"""Holistic: each pose's hands and face, placed from the pose (MediaPipe's Holistic graph).

:class:`PartsPipeline` runs after the pose stages of
:class:`~hifipose.detector.BlazePoseDetector`: for every pose of a frame it places the hand
and face search ROIs from the pose's points, refines them (hand recrop model, face
detector), keeps the previous frame's ROI while the tracking rule allows (video mode), and
runs the hand and face landmark models. Each model runs once per frame on all people's
crops together. A part's tracking state belongs to its person (``track_id``): a hand is only
ever looked for from its own body's wrist, so it cannot pass to another person.
See docs/holistic-spec.md; the stages are in :mod:`hifipose.blazepose.parts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
from numpy.typing import NDArray

from hifipose.blazepose.crop import Crop, crop_image
from hifipose.blazepose.detection import remove_letterbox
from hifipose.blazepose.landmarks import project_landmarks, rotate_world
from hifipose.blazepose.parts import (
    FACE_DETECTOR_SIZE,
    FACE_INPUT_SIZE,
    FACE_TRACKING,
    HAND_INPUT_SIZE,
    HAND_TRACKING,
    MIN_FACE_PRESENCE,
    MIN_HAND_PRESENCE,
    MIN_WRIST_VISIBILITY,
    RECROP_INPUT_SIZE,
    TrackingRule,
    decode_face_detections,
    decode_face_landmarks,
    decode_face_landmarks_with_attention,
    decode_hand_landmarks,
    face_roi_from_detection,
    face_roi_from_landmarks,
    face_roi_from_pose,
    hand_roi_from_landmarks,
    hand_roi_from_pose,
    hand_roi_from_recrop,
    keep_tracking,
)
from hifipose.blazepose.roi import Roi
from hifipose.pose import Face, Hand, HolisticParts, Pose
from hifipose.runtimes.base import Session

__all__ = ["ATTENTION_FACE_MODEL", "HOLISTIC_MODELS", "PartsPipeline", "holistic_models"]

#: The models Holistic needs beyond the pose's (keys of ``HOLISTIC_SPECS``).
HOLISTIC_MODELS: Final = (
    "hand_recrop",
    "hand_landmark_full",
    "face_detection_short_range",
    "face_landmark",
)
#: The face model that replaces ``face_landmark`` with ``refine_face_landmarks``.
ATTENTION_FACE_MODEL: Final = "face_landmark_with_attention"
_ATTENTION_OUTPUTS: Final = (
    "output_mesh_identity",
    "output_lips",
    "output_left_eye",
    "output_right_eye",
    "output_left_iris",
    "output_right_iris",
)


def holistic_models(*, refine_face_landmarks: bool = False) -> tuple[str, ...]:
    """Return the part models Holistic runs (keys of ``HOLISTIC_SPECS``).

    :data:`HOLISTIC_MODELS`, with :data:`ATTENTION_FACE_MODEL` in place of ``face_landmark``
    when ``refine_face_landmarks``.
    """
    if not refine_face_landmarks:
        return HOLISTIC_MODELS
    return tuple(ATTENTION_FACE_MODEL if m == "face_landmark" else m for m in HOLISTIC_MODELS)


Part = Literal["left_hand", "right_hand", "face"]
#: Pose keypoint indices (wrist, pinky, index) for each hand: the person's own left/right.
_HAND_POINTS: Final[dict[Part, tuple[int, int, int]]] = {
    "left_hand": (15, 17, 19),
    "right_hand": (16, 18, 20),
}
_FACE_POINTS: Final = slice(0, 11)


@dataclass(slots=True)
class _Track:
    """One part of one person, from the previous frame: its landmarks and their ROI."""

    landmarks: NDArray[np.float64]
    roi: Roi


class PartsPipeline:
    """Hands and face for the poses of each frame; owns the part models' sessions.

    Args:
        sessions: Open sessions for :func:`holistic_models`, by name: with
            ``face_landmark_with_attention`` in place of ``face_landmark``, each face has 478
            points (the refined lips and eyes, and the irises), else 468.
        fixed_point: Crop as MediaPipe's OpenCV 3.4 does (see :func:`crop_image`).
    """

    def __init__(self, sessions: dict[str, Session], *, fixed_point: bool = False) -> None:
        self._sessions: dict[str, Session] | None = dict(sessions)
        self._fixed_point = fixed_point
        self._tracks: dict[tuple[int, Part], _Track] = {}
        self._attention = ATTENTION_FACE_MODEL in sessions

    def reset(self) -> None:
        """Forget every part's previous frame."""
        self._tracks.clear()

    def close(self) -> None:
        """Release the sessions. Calling it again does nothing."""
        for session in (self._sessions or {}).values():
            session.close()
        self._sessions = None

    def run(self, image: NDArray[np.uint8], poses: list[Pose], *, video: bool) -> list[Pose]:
        """Return ``poses`` with their hands and face found (``Pose.parts`` set).

        Args:
            image: The frame the poses were found on, HxWx3 uint8 RGB.
            poses: The frame's poses; in video mode each has its ``track_id``.
            video: Track each part from its previous frame (by the pose's ``track_id``).
        """
        assert self._sessions is not None  # noqa: S101 - the detector checks it is open
        keys, searches, face_keys, face_searches = _search_rois(poses)
        refined: dict[tuple[int, Part], Roi] = {}
        for key, found_roi in zip(keys, self._recrop(image, searches), strict=True):
            if found_roi is not None:
                refined[key] = found_roi
        for key, found_roi in zip(face_keys, self._face_detect(image, face_searches), strict=True):
            if found_roi is not None:
                refined[key] = found_roi
        ids = [p.track_id if video and p.track_id is not None else None for p in poses]
        chosen: dict[tuple[int, Part], Roi] = {}
        for (i, part), roi in refined.items():
            track_id = ids[i]
            track = None if track_id is None else self._tracks.get((track_id, part))
            rule = FACE_TRACKING if part == "face" else HAND_TRACKING
            chosen[i, part] = _tracking_roi(track, roi, rule)
        hand_keys = [k for k in chosen if k[1] != "face"]
        face_keys_found = [k for k in chosen if k[1] == "face"]
        hands = self._hands(image, [chosen[k] for k in hand_keys])
        faces = self._faces(image, [chosen[k] for k in face_keys_found])
        found: dict[tuple[int, Part], Hand | Face] = {}
        for key, result in zip([*hand_keys, *face_keys_found], [*hands, *faces], strict=True):
            if result is not None:
                found[key] = result
        self._remember(found, ids, video=video)
        out = []
        for i, pose in enumerate(poses):
            left, right, face = (
                found.get((i, "left_hand")),
                found.get((i, "right_hand")),
                found.get((i, "face")),
            )
            parts = HolisticParts(
                left_hand=left if isinstance(left, Hand) else None,
                right_hand=right if isinstance(right, Hand) else None,
                face=face if isinstance(face, Face) else None,
            )
            out.append(pose.replace(parts=parts))
        return out

    def _remember(
        self, found: dict[tuple[int, Part], Hand | Face], ids: list[int | None], *, video: bool
    ) -> None:
        """Keep this frame's landmarks per (person, part) for the next frame (video only)."""
        if not video:
            self._tracks.clear()
            return
        tracks: dict[tuple[int, Part], _Track] = {}
        for (i, part), result in found.items():
            track_id = ids[i]
            if track_id is None:
                continue
            landmarks = result.image_array.astype(np.float64)
            roi = (
                face_roi_from_landmarks(landmarks)
                if part == "face"
                else hand_roi_from_landmarks(landmarks)
            )
            tracks[track_id, part] = _Track(landmarks, roi)
        self._tracks = tracks

    def _run(self, name: str, tensors: list[NDArray[np.float32]]) -> dict[str, NDArray[np.float32]]:
        assert self._sessions is not None  # noqa: S101 - the detector checks it is open
        session = self._sessions[name]
        batch = tensors[0] if len(tensors) == 1 else np.concatenate(tensors)
        return session.run({session.input_names[0]: batch})

    def _recrop(self, image: NDArray[np.uint8], rois: list[Roi]) -> list[Roi | None]:
        """The recrop model on each hand search ROI → the refined hand ROIs."""
        if not rois:
            return []
        crops = [self._crop(image, roi, RECROP_INPUT_SIZE) for roi in rois]
        out = self._run("hand_recrop", [c.tensor for c in crops])["output_crop"]
        refined: list[Roi | None] = []
        for i, (roi, crop) in enumerate(zip(rois, crops, strict=True)):
            points = out[i].reshape(2, 2).astype(np.float32) / np.float32(RECROP_INPUT_SIZE)
            xyz = np.concatenate([points, np.zeros((2, 1), np.float32)], axis=1)
            projected = project_landmarks(xyz, roi, crop.padding)[:, :2].astype(np.float64)
            rect = hand_roi_from_recrop(projected)
            refined.append(rect if _usable(rect) else None)
        return refined

    def _face_detect(self, image: NDArray[np.uint8], rois: list[Roi]) -> list[Roi | None]:
        """The face detector in each face search ROI → the refined face ROIs (None: no face)."""
        if not rois:
            return []
        crops = [
            crop_image(
                image,
                roi,
                tensor_size=FACE_DETECTOR_SIZE,
                value_range=(-1.0, 1.0),
                border="zero",
                fixed_point=self._fixed_point,
            )
            for roi in rois
        ]
        out = self._run("face_detection_short_range", [c.tensor for c in crops])
        refined: list[Roi | None] = []
        for i, (roi, crop) in enumerate(zip(rois, crops, strict=True)):
            detections = decode_face_detections(out["regressors"][i], out["classificators"][i])
            if not detections:
                refined.append(None)
                continue
            best = remove_letterbox(detections[0], crop.padding)
            xyz = np.concatenate(
                [best.keypoints, np.zeros((len(best.keypoints), 1), np.float32)], axis=1
            )
            keypoints = project_landmarks(xyz, roi, (0.0, 0.0, 0.0, 0.0))[:, :2].astype(np.float64)
            rect = face_roi_from_detection(keypoints)
            refined.append(rect if _usable(rect) else None)
        return refined

    def _hands(self, image: NDArray[np.uint8], rois: list[Roi]) -> list[Hand | None]:
        if not rois:
            return []
        crops = [self._crop(image, roi, HAND_INPUT_SIZE) for roi in rois]
        out = self._run("hand_landmark_full", [c.tensor for c in crops])
        hands: list[Hand | None] = []
        for i, (roi, crop) in enumerate(zip(rois, crops, strict=True)):
            presence = float(out["Identity_1"][i].reshape(-1)[0])
            if not presence > MIN_HAND_PRESENCE:
                hands.append(None)
                continue
            points = project_landmarks(decode_hand_landmarks(out["Identity"][i]), roi, crop.padding)
            world = rotate_world(out["Identity_3"][i].reshape(21, 3), roi.angle_rad)
            left = float(out["Identity_2"][i].reshape(-1)[0])
            label, score = ("Left", left) if left >= 1.0 - left else ("Right", 1.0 - left)
            hands.append(Hand(points, world, presence, label, score))
        return hands

    def _faces(self, image: NDArray[np.uint8], rois: list[Roi]) -> list[Face | None]:
        if not rois:
            return []
        crops = [self._crop(image, roi, FACE_INPUT_SIZE) for roi in rois]
        model = ATTENTION_FACE_MODEL if self._attention else "face_landmark"
        out = self._run(model, [c.tensor for c in crops])
        flag = "conv_faceflag" if self._attention else "conv2d_31"
        faces: list[Face | None] = []
        for i, (roi, crop) in enumerate(zip(rois, crops, strict=True)):
            logit = float(out[flag][i].reshape(-1)[0])
            presence = 1.0 / (1.0 + np.exp(-np.clip(logit, -100.0, 100.0)))
            if not presence > MIN_FACE_PRESENCE:
                faces.append(None)
                continue
            if self._attention:
                mesh, lips, left_eye, right_eye, left_iris, right_iris = (
                    out[name][i] for name in _ATTENTION_OUTPUTS
                )
                decoded = decode_face_landmarks_with_attention(
                    mesh, lips, (left_eye, right_eye), (left_iris, right_iris)
                )
            else:
                decoded = decode_face_landmarks(out["conv2d_21"][i])
            faces.append(Face(project_landmarks(decoded, roi, crop.padding), float(presence)))
        return faces

    def _crop(self, image: NDArray[np.uint8], roi: Roi, size: int) -> Crop:
        return crop_image(
            image,
            roi,
            tensor_size=size,
            value_range=(0.0, 1.0),
            border="replicate",
            fixed_point=self._fixed_point,
        )


def _search_rois(
    poses: list[Pose],
) -> tuple[list[tuple[int, Part]], list[Roi], list[tuple[int, Part]], list[Roi]]:
    """The hands' and faces' search ROIs from the poses.

    Returns (hand keys, hand ROIs, face keys, face ROIs), a key being (pose index, part). A
    hand needs a visible wrist; a part whose pose points are not finite, or whose ROI is
    degenerate, is not looked for.
    """
    keys: list[tuple[int, Part]] = []
    searches: list[Roi] = []
    face_keys: list[tuple[int, Part]] = []
    face_searches: list[Roi] = []
    for i, pose in enumerate(poses):
        points = pose.image_array.astype(np.float64)
        for part, (wrist, pinky, index) in _HAND_POINTS.items():
            corners = points[[wrist, pinky, index], :2]
            if points[wrist, 3] > MIN_WRIST_VISIBILITY and np.isfinite(corners).all():
                roi = hand_roi_from_pose(corners[0], corners[1], corners[2])
                if _usable(roi):
                    keys.append((i, part))
                    searches.append(roi)
        if np.isfinite(points[_FACE_POINTS, :2]).all():
            roi = face_roi_from_pose(points[_FACE_POINTS])
            if _usable(roi):
                face_keys.append((i, "face"))
                face_searches.append(roi)
    return keys, searches, face_keys, face_searches


def _usable(roi: Roi) -> bool:
    """Whether a part's ROI can be cropped: finite, at least a pixel on each side.

    A pose whose points coincide (or are not finite) gives a degenerate ROI: that part is
    not looked for on this frame.
    """
    values = (*roi.center_px, *roi.size_px, roi.angle_rad)
    return all(np.isfinite(values)) and min(roi.size_px) >= 1.0


def _tracking_roi(track: _Track | None, refined: Roi, rule: TrackingRule) -> Roi:
    """The previous frame's ROI if the tracking rule keeps it, else this frame's refined one."""
    if track is not None and keep_tracking(track.roi, track.landmarks, refined, rule):
        return track.roi
    return refined
