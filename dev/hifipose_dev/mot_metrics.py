"""Multi-person tracking scores for the composite clips (pure; no models).

Ground truth: ``frames[i].persons[] = {id, keypoints (33 × [x, y] px), visible (33 bools),
box}`` as ``../shared/tools/make_composite.py`` writes it. A person counts as a target on a
frame when at least half of the 33 keypoints are visible; reported poses matched to a person
that is less visible are neither hits nor false positives.

Matching per frame (CLEAR-MOT, Bernardin and Stiefelhagen 2008, §2.1.1): the error of a
pose against a person is the mean distance over the person's visible keypoints divided by
the person's box diagonal, and a pair counts when it is below ``MATCH_ERROR``. First each
person keeps the track id they were last matched to, when a pose of that id is still a
valid pair; the other poses and persons are then paired by the Hungarian method on the
error. (Without the first step a pose that is as close to two people, as where one hides
the other, goes to whichever is closer by a hair: an id switch on float noise.) Then the
CLEAR-MOT and identity scores:

* MOTA = 1 − (misses + false positives + id switches) / targets;
* an id switch: a target matched to a different track id than the last time it was matched;
* IDF1 = 2·IDTP / (targets + reported poses), IDTP from the best one-to-one map between
  person ids and track ids over the whole clip (Ristani et al. 2016).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

MATCH_ERROR = 0.15
MIN_VISIBLE_SHARE = 0.5


@dataclass
class TrackingScores:
    """The scores of one clip; see the module docstring."""

    targets: int = 0
    matches: int = 0
    misses: int = 0
    false_positives: int = 0
    id_switches: int = 0
    reported: int = 0
    idtp: int = 0
    errors: list[float] = field(default_factory=list)  # per matched pair, fraction of diagonal
    switches: list[str] = field(default_factory=list)  # "frame F: person P track A -> B"

    @property
    def mota(self) -> float:
        return 1.0 - (self.misses + self.false_positives + self.id_switches) / max(self.targets, 1)

    @property
    def idf1(self) -> float:
        return 2.0 * self.idtp / max(self.targets + self.reported, 1)

    @property
    def mean_error(self) -> float:
        return float(np.mean(self.errors)) if self.errors else float("nan")

    def summary(self) -> str:
        return (
            f"MOTA {self.mota:.3f}, IDF1 {self.idf1:.3f}, {self.id_switches} id switches, "
            f"{self.misses} misses, {self.false_positives} false positives of {self.targets} "
            f"targets, keypoint error {100 * self.mean_error:.2f}% of box diagonal"
        )


def _error(person: dict[str, Any], pose: np.ndarray) -> float:
    gt = np.asarray(person["keypoints"], dtype=np.float64)
    visible = np.asarray(person["visible"], dtype=bool)
    if not visible.any():
        return float("inf")
    x0, y0, x1, y1 = person["box"]
    diagonal = max(float(np.hypot(x1 - x0, y1 - y0)), 1.0)
    return float(np.linalg.norm(gt[visible] - pose[visible, :2], axis=1).mean() / diagonal)


def score(
    gt_frames: list[dict[str, Any]], predictions: list[list[tuple[int, np.ndarray]]]
) -> TrackingScores:
    """Score one clip.

    Args:
        gt_frames: The ground truth's ``frames`` list.
        predictions: Per frame, the reported poses as (track_id, (33, ≥2) image keypoints px).

    Returns:
        The scores.
    """
    scores = TrackingScores()
    last_id: dict[int, int] = {}
    pairs: Counter[tuple[int, int]] = Counter()
    for index, (frame, poses) in enumerate(zip(gt_frames, predictions, strict=True)):
        persons = frame["persons"]
        is_target = [np.mean(p["visible"]) >= MIN_VISIBLE_SHARE for p in persons]
        errors = np.array([[_error(p, pose) for _, pose in poses] for p in persons]).reshape(
            len(persons), len(poses)
        )
        person_of: dict[int, int] = {}  # pose index -> person index
        for r, person in enumerate(persons):  # last frame's pairs that still hold
            for c, (track_id, _) in enumerate(poses):
                if (
                    last_id.get(person["id"]) == track_id
                    and c not in person_of
                    and errors[r, c] < MATCH_ERROR
                ):
                    person_of[c] = r
        rest_rows = [r for r in range(len(persons)) if r not in person_of.values()]
        rest_cols = [c for c in range(len(poses)) if c not in person_of]
        if rest_rows and rest_cols:
            rest = np.minimum(errors[np.ix_(rest_rows, rest_cols)], 1e6)
            for r, c in zip(*linear_sum_assignment(rest), strict=True):
                if rest[r, c] < MATCH_ERROR:
                    person_of[rest_cols[c]] = rest_rows[r]
        for c, r in sorted(person_of.items()):
            if not is_target[r]:
                continue
            person_id, track_id = persons[r]["id"], poses[c][0]
            scores.matches += 1
            scores.errors.append(float(errors[r, c]))
            pairs[(person_id, track_id)] += 1
            if person_id in last_id and last_id[person_id] != track_id:
                scores.id_switches += 1
                scores.switches.append(
                    f"frame {index}: person {person_id} track {last_id[person_id]} -> {track_id}"
                )
            last_id[person_id] = track_id
        scores.targets += sum(is_target)
        matched_persons = set(person_of.values())
        scores.misses += sum(1 for r, t in enumerate(is_target) if t and r not in matched_persons)
        unmatched = [c for c in range(len(poses)) if c not in person_of]
        scores.false_positives += len(unmatched)
        # poses matched to a barely visible person are not counted at all
        scores.reported += sum(1 for r in person_of.values() if is_target[r]) + len(unmatched)
    scores.idtp = _idtp(pairs)
    return scores


def _idtp(pairs: Counter[tuple[int, int]]) -> int:
    if not pairs:
        return 0
    people = sorted({p for p, _ in pairs})
    tracks = sorted({t for _, t in pairs})
    counts = np.zeros((len(people), len(tracks)))
    for (p, t), n in pairs.items():
        counts[people.index(p), tracks.index(t)] = n
    rows, cols = linear_sum_assignment(-counts)
    return int(counts[rows, cols].sum())
