"""Holistic: each pose's hands and face, placed from the pose (MediaPipe's Holistic graph).

:class:`PartsPipeline` runs after the pose stages of
:class:`~hifipose.detector.BlazePoseDetector`: for every pose of a frame it places the hand
and face search ROIs from the pose's points, refines them (hand recrop model, face
detector), keeps the previous frame's ROI while the tracking rule allows (video mode), and
runs the hand and face landmark models. No part needs another's within a frame, so on
LiteRT the parts run in two lanes at once (the caller's thread and a worker thread, one
interpreter thread each), as MediaPipe's graph runs its hand and face branches; elsewhere
each model runs once per frame on all people's crops together. A part's tracking state
belongs to its person (``track_id``): a hand is only ever looked for from its own body's
wrist, so it cannot pass to another person. See docs/holistic-spec.md; the stages are in
:mod:`hifipose.blazepose.parts`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from queue import Empty, SimpleQueue
from typing import Final, Literal, TypeVar

import numpy as np
from numpy.typing import NDArray

from hifipose.blazepose.crop import crop_image
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
from hifipose.runtimes.base import Fill, Session, run_filled

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
#: Letterbox padding (left, top, right, bottom), fractions of the crop's side.
Padding = tuple[float, float, float, float]
_PartT = TypeVar("_PartT", Hand, Face)


Key = tuple[int, Part]


@dataclass(slots=True)
class _Track:
    """One part of one person, from the previous frame: its landmarks and their ROI."""

    landmarks: NDArray[np.float64]
    roi: Roi


@dataclass(frozen=True, slots=True)
class _Search:
    """Parts of one kind to look for: (pose index, part) keys and their search ROIs."""

    hands: bool
    keys: tuple[Key, ...]
    rois: tuple[Roi, ...]


@dataclass(frozen=True, slots=True)
class _Found:
    """A part found on this frame, with the track it leaves for the next (None: none kept)."""

    key: Key
    result: Hand | Face
    track: _Track | None


class _Lane:
    """One thread's sessions of the part models, with their reused input buffers."""

    def __init__(self, sessions: Mapping[str, Session]) -> None:
        self.sessions = dict(sessions)
        self._buffers: dict[str, NDArray[np.float32]] = {}

    def run(self, name: str, size: int, count: int, fill: Fill) -> dict[str, NDArray[np.float32]]:
        """Model ``name`` on ``count`` (size × size × 3) crops, item i written by ``fill(i, ·)``.

        The crops are written straight into the runtime's input where it allows
        (:func:`~hifipose.runtimes.base.run_filled`), else into this lane's reused buffer.
        """
        session = self.sessions[name]
        buffer = self._buffers.get(name)
        if buffer is None or len(buffer) < count:
            # np.empty: a runtime that takes the crops in its own input never touches it
            buffer = self._buffers[name] = np.empty((count, size, size, 3), np.float32)
        return run_filled(
            session, session.input_names[0], count, fill, output_names=None, buffer=buffer
        )

    def close(self) -> None:
        for session in self.sessions.values():
            session.close()


class PartsPipeline:
    """Hands and face for the poses of each frame; owns the part models' sessions.

    Each part takes two steps: its ROI step (the hand recrop model or the face detector,
    then the tracking rule) and its landmark step. Different parts share nothing within a
    frame, so with ``helper_sessions`` they run in two lanes at once: the caller's thread
    and one worker thread of a pool this pipeline owns, each lane with its own sessions (an
    interpreter serves one thread at a time), each taking the next step that can run (see
    :meth:`_run_steps`). A part's numbers are the same whichever lane ran it: the same crop
    through the same model (LiteRT's XNNPACK gives the same bits on any number of threads).
    Without ``helper_sessions`` the caller runs every step, each model once on all people's
    crops together (the batch a batching runtime wants).

    Args:
        sessions: Open sessions for :func:`holistic_models`, by name: with
            ``face_landmark_with_attention`` in place of ``face_landmark``, each face has 478
            points (the refined lips and eyes, and the irises), else 468.
        fixed_point: Crop as MediaPipe's OpenCV 3.4 does (see :func:`crop_image`).
        helper_sessions: Sessions of the same models for the worker thread's lane (None: one
            lane). The pipeline owns both sets: :meth:`close` closes them and joins the
            worker.
    """

    def __init__(
        self,
        sessions: Mapping[str, Session],
        *,
        fixed_point: bool = False,
        helper_sessions: Mapping[str, Session] | None = None,
    ) -> None:
        self._lanes: list[_Lane] | None = [_Lane(sessions)]
        self._pool: ThreadPoolExecutor | None = None
        if helper_sessions is not None:
            self._lanes.append(_Lane(helper_sessions))
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="hifipose-parts")
        self._fixed_point = fixed_point
        # OpenCV 5.1's warpPerspective does not give the same bits while another thread's
        # OpenCV call runs (measured: in about one hand crop in ten cut alongside another,
        # one value of 150528 moves by a grey level; not with cv2.setNumThreads(1): its row
        # split over its own threads, presumably). The lanes therefore take turns at
        # cropping (~0.3 ms a crop, against 1-10 ms a model run): every crop is cut alone.
        self._crop_turn = threading.Lock()
        self._tracks: dict[Key, _Track] = {}
        self._attention = ATTENTION_FACE_MODEL in sessions

    def reset(self) -> None:
        """Forget every part's previous frame."""
        self._tracks.clear()

    def close(self) -> None:
        """Join the worker thread, release the sessions. Calling it again does nothing."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        for lane in self._lanes or []:
            lane.close()
        self._lanes = None

    def run(self, image: NDArray[np.uint8], poses: list[Pose], *, video: bool) -> list[Pose]:
        """Return ``poses`` with their hands and face found (``Pose.parts`` set).

        Args:
            image: The frame the poses were found on, HxWx3 uint8 RGB.
            poses: The frame's poses; in video mode each has its ``track_id``.
            video: Track each part from its previous frame (by the pose's ``track_id``).

        Raises:
            Whatever a model's session raises, in either lane, as raised there (once the
            other lane has finished the step it was on).
        """
        assert self._lanes is not None  # noqa: S101 - the detector checks it is open
        ids = [p.track_id if video and p.track_id is not None else None for p in poses]
        searches = _searches(poses, one_part_each=self._pool is not None)
        found = {f.key: f for f in self._run_steps(image, searches, ids, video=video)}
        self._tracks = {
            (track_id, key[1]): f.track
            for key, f in found.items()
            if f.track is not None and (track_id := ids[key[0]]) is not None
        }
        out = []
        for i, pose in enumerate(poses):
            left, right, face = (
                found.get((i, part)) for part in ("left_hand", "right_hand", "face")
            )
            parts = HolisticParts(
                left_hand=_result(left, Hand),
                right_hand=_result(right, Hand),
                face=_result(face, Face),
            )
            out.append(pose.replace(parts=parts))
        return out

    def _run_steps(
        self,
        image: NDArray[np.uint8],
        searches: list[_Search],
        ids: list[int | None],
        *,
        video: bool,
    ) -> list[_Found]:
        """Every search's two steps, in the caller's lane or shared out over both lanes.

        A queue holds the steps that can run: at first each search's ROI step; when one is
        done, the landmark step of the parts it kept joins the back of the queue. Each lane
        takes the queue's next step until the queue is empty. Every ROI step so comes before
        any landmark step, and the small face models fill in beside the hand model.
        """
        assert self._lanes is not None  # noqa: S101 - checked by run
        waiting: SimpleQueue[tuple[bool, _Search]] = SimpleQueue()  # (landmark step?, search)
        for search in searches:
            waiting.put((False, search))

        failed = threading.Event()  # a lane raised: the other takes no further step

        def drain(lane: _Lane) -> list[_Found]:
            done: list[_Found] = []
            try:
                while not failed.is_set():
                    try:
                        landmark_step, search = waiting.get_nowait()
                    except Empty:
                        break  # a step this lane queues it takes itself if no one has
                    if landmark_step:
                        done += self._landmarks(lane, image, search, ids, video=video)
                        continue
                    tracked = self._tracking_rois(lane, image, search, ids)
                    if tracked.keys:
                        waiting.put((True, tracked))
            except BaseException:
                failed.set()
                raise
            return done

        if self._pool is None or not searches:
            return drain(self._lanes[0])
        helper = self._pool.submit(drain, self._lanes[1])
        try:
            done = drain(self._lanes[0])
        except BaseException:
            wait([helper])  # its sessions are in use until it returns
            raise
        return done + helper.result()

    def _tracking_rois(
        self, lane: _Lane, image: NDArray[np.uint8], search: _Search, ids: list[int | None]
    ) -> _Search:
        """The ROI step: refined ROIs (recrop model or face detector), then the tracking rule.

        Returns the parts still looked for, with the ROIs their landmark models will crop.
        Reads the previous frame's tracks (no lane writes them: :meth:`run` does, after).
        """
        refine = self._recrop if search.hands else self._face_detect
        rule = HAND_TRACKING if search.hands else FACE_TRACKING
        keys: list[Key] = []
        rois: list[Roi] = []
        for key, refined in zip(search.keys, refine(lane, image, search.rois), strict=True):
            if refined is None:
                continue
            track_id = ids[key[0]]
            track = None if track_id is None else self._tracks.get((track_id, key[1]))
            keys.append(key)
            rois.append(_tracking_roi(track, refined, rule))
        return _Search(search.hands, tuple(keys), tuple(rois))

    def _landmarks(
        self,
        lane: _Lane,
        image: NDArray[np.uint8],
        search: _Search,
        ids: list[int | None],
        *,
        video: bool,
    ) -> list[_Found]:
        """The landmark step: the parts found, each with the track it leaves (video)."""
        if search.hands:
            results: list[Hand | None] | list[Face | None] = self._hands(lane, image, search.rois)
        else:
            results = self._faces(lane, image, search.rois)
        found: list[_Found] = []
        for key, result in zip(search.keys, results, strict=True):
            if result is None:
                continue
            kept = video and ids[key[0]] is not None
            found.append(_Found(key, result, _next_track(result) if kept else None))
        return found

    def _recrop(
        self, lane: _Lane, image: NDArray[np.uint8], rois: Sequence[Roi]
    ) -> list[Roi | None]:
        """The recrop model on each hand search ROI → the refined hand ROIs."""
        if not rois:
            return []
        fill, paddings = self._filler(image, rois, RECROP_INPUT_SIZE)
        out = lane.run("hand_recrop", RECROP_INPUT_SIZE, len(rois), fill)["output_crop"]
        refined: list[Roi | None] = []
        for i, (roi, padding) in enumerate(zip(rois, paddings, strict=True)):
            points = out[i].reshape(2, 2).astype(np.float32) / np.float32(RECROP_INPUT_SIZE)
            xyz = np.concatenate([points, np.zeros((2, 1), np.float32)], axis=1)
            projected = project_landmarks(xyz, roi, padding)[:, :2].astype(np.float64)
            rect = hand_roi_from_recrop(projected)
            refined.append(rect if _usable(rect) else None)
        return refined

    def _face_detect(
        self, lane: _Lane, image: NDArray[np.uint8], rois: Sequence[Roi]
    ) -> list[Roi | None]:
        """The face detector in each face search ROI → the refined face ROIs (None: no face)."""
        if not rois:
            return []
        fill, paddings = self._filler(image, rois, FACE_DETECTOR_SIZE, detector=True)
        model = "face_detection_short_range"
        out = lane.run(model, FACE_DETECTOR_SIZE, len(rois), fill)
        refined: list[Roi | None] = []
        for i, (roi, padding) in enumerate(zip(rois, paddings, strict=True)):
            detections = decode_face_detections(out["regressors"][i], out["classificators"][i])
            if not detections:
                refined.append(None)
                continue
            best = remove_letterbox(detections[0], padding)
            xyz = np.concatenate(
                [best.keypoints, np.zeros((len(best.keypoints), 1), np.float32)], axis=1
            )
            keypoints = project_landmarks(xyz, roi, (0.0, 0.0, 0.0, 0.0))[:, :2].astype(np.float64)
            rect = face_roi_from_detection(keypoints)
            refined.append(rect if _usable(rect) else None)
        return refined

    def _hands(
        self, lane: _Lane, image: NDArray[np.uint8], rois: Sequence[Roi]
    ) -> list[Hand | None]:
        """The hand landmark model on each tracking ROI (None: below the presence gate)."""
        if not rois:
            return []
        fill, paddings = self._filler(image, rois, HAND_INPUT_SIZE)
        out = lane.run("hand_landmark_full", HAND_INPUT_SIZE, len(rois), fill)
        hands: list[Hand | None] = []
        for i, (roi, padding) in enumerate(zip(rois, paddings, strict=True)):
            presence = float(out["Identity_1"][i].reshape(-1)[0])
            if not presence > MIN_HAND_PRESENCE:
                hands.append(None)
                continue
            points = project_landmarks(decode_hand_landmarks(out["Identity"][i]), roi, padding)
            world = rotate_world(out["Identity_3"][i].reshape(21, 3), roi.angle_rad)
            left = float(out["Identity_2"][i].reshape(-1)[0])
            label, score = ("Left", left) if left >= 1.0 - left else ("Right", 1.0 - left)
            hands.append(Hand(points, world, presence, label, score))
        return hands

    def _faces(
        self, lane: _Lane, image: NDArray[np.uint8], rois: Sequence[Roi]
    ) -> list[Face | None]:
        """The face landmark model on each tracking ROI (None: below the presence gate)."""
        if not rois:
            return []
        fill, paddings = self._filler(image, rois, FACE_INPUT_SIZE)
        model = ATTENTION_FACE_MODEL if self._attention else "face_landmark"
        out = lane.run(model, FACE_INPUT_SIZE, len(rois), fill)
        flag = "conv_faceflag" if self._attention else "conv2d_31"
        faces: list[Face | None] = []
        for i, (roi, padding) in enumerate(zip(rois, paddings, strict=True)):
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
            faces.append(Face(project_landmarks(decoded, roi, padding), float(presence)))
        return faces

    def _filler(
        self, image: NDArray[np.uint8], rois: Sequence[Roi], size: int, *, detector: bool = False
    ) -> tuple[Fill, list[Padding]]:
        """A :data:`~hifipose.runtimes.base.Fill` that crops ``rois[i]`` into item i.

        Returns it with the list its calls fill in: each crop's letterbox padding. Landmark
        and recrop models take values 0..1 with the edge replicated, the face detector
        -1..1 with a black border.
        """
        paddings: list[Padding] = [(0.0, 0.0, 0.0, 0.0)] * len(rois)
        value_range = (-1.0, 1.0) if detector else (0.0, 1.0)
        border: Literal["zero", "replicate"] = "zero" if detector else "replicate"

        def fill(i: int, item: NDArray[np.float32]) -> None:
            with self._crop_turn:
                crop = crop_image(
                    image,
                    rois[i],
                    tensor_size=size,
                    value_range=value_range,
                    border=border,
                    fixed_point=self._fixed_point,
                    out=item,
                )
            paddings[i] = crop.padding

        return fill, paddings


def _searches(poses: list[Pose], *, one_part_each: bool) -> list[_Search]:
    """The parts to look for, hands first: one search per part, or one per kind (batched).

    A hand needs a visible wrist; a part whose pose points are not finite, or whose ROI is
    degenerate, is not looked for.
    """
    hands: list[tuple[Key, Roi]] = []
    faces: list[tuple[Key, Roi]] = []
    for i, pose in enumerate(poses):
        points = pose.image_array.astype(np.float64)
        for part, (wrist, pinky, index) in _HAND_POINTS.items():
            corners = points[[wrist, pinky, index], :2]
            if points[wrist, 3] > MIN_WRIST_VISIBILITY and np.isfinite(corners).all():
                roi = hand_roi_from_pose(corners[0], corners[1], corners[2])
                if _usable(roi):
                    hands.append(((i, part), roi))
        if np.isfinite(points[_FACE_POINTS, :2]).all():
            roi = face_roi_from_pose(points[_FACE_POINTS])
            if _usable(roi):
                faces.append(((i, "face"), roi))
    groups = [(True, hands), (False, faces)]
    if one_part_each:
        return [_Search(is_hand, (key,), (roi,)) for is_hand, found in groups for key, roi in found]
    return [
        _Search(is_hand, tuple(k for k, _ in found), tuple(r for _, r in found))
        for is_hand, found in groups
        if found
    ]


def _next_track(result: Hand | Face) -> _Track:
    """The track a part found on this frame leaves for the next: its points and their ROI."""
    landmarks = result.image_array.astype(np.float64)
    if isinstance(result, Face):
        return _Track(landmarks, face_roi_from_landmarks(landmarks))
    return _Track(landmarks, hand_roi_from_landmarks(landmarks))


def _result(found: _Found | None, kind: type[_PartT]) -> _PartT | None:
    """The part ``found`` holds, if it is of ``kind`` (None when nothing was found)."""
    result = None if found is None else found.result
    return result if isinstance(result, kind) else None


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
