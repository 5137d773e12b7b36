"""Answers from keypoints: joint angles, repetition counts, pose classes (pure, on arrays).

* :mod:`~hifipose.analysis.angles`: Sports2D-named joint and segment angles, 2D (image,
  signed) and 3D (world), NaN for points not visible enough, unwrapped over time.
* :mod:`~hifipose.analysis.reps`: a hysteresis repetition counter on any signal, per track.
* :mod:`~hifipose.analysis.classifier`: MediaPipe's pose classification (embedding, k-NN,
  EMA smoothing, repetition counter), trained from images or landmark CSVs.
* :mod:`~hifipose.analysis.presets`: squat, push-up, curl and jumping-jack counters.
* :mod:`~hifipose.analysis.tracks`: per-person series from results or keypoint files.
"""

from __future__ import annotations

from hifipose.analysis.angles import ANGLES, AngleDef, LiveAngles, angle_series, joint_angle
from hifipose.analysis.classifier import (
    EMASmoothing,
    PoseClassifier,
    PoseEmbedder,
    PoseSample,
    RepetitionCounter,
    TrackClassifier,
)
from hifipose.analysis.presets import PRESETS, ExerciseCounter, ExercisePreset, get_preset
from hifipose.analysis.reps import (
    HysteresisCounter,
    RepCount,
    RepEvent,
    TrackCounters,
    hysteresis_counter,
)
from hifipose.analysis.tracks import (
    Track,
    read_tracks,
    tracks_from_results,
    tracks_from_table,
)

__all__ = [
    "ANGLES",
    "PRESETS",
    "AngleDef",
    "EMASmoothing",
    "ExerciseCounter",
    "ExercisePreset",
    "HysteresisCounter",
    "LiveAngles",
    "PoseClassifier",
    "PoseEmbedder",
    "PoseSample",
    "RepCount",
    "RepEvent",
    "RepetitionCounter",
    "Track",
    "TrackClassifier",
    "TrackCounters",
    "angle_series",
    "get_preset",
    "hysteresis_counter",
    "joint_angle",
    "read_tracks",
    "tracks_from_results",
    "tracks_from_table",
]
