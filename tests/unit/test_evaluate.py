"""hifipose.evaluate on hand-made labels: the formats, matching, PCK, recall, AP, bootstrap."""

import json
from pathlib import Path

import numpy as np
import pytest

from hifipose.errors import ConfigError
from hifipose.evaluate import (
    COCO_SIGMAS,
    ImageTruth,
    PersonPrediction,
    PersonTruth,
    coco_ground_truth,
    evaluate_predictions,
    load_annotations,
    oks,
    paired_bootstrap,
)


def _person(
    x0: float, y0: float, scale: float = 100.0, unlabelled: tuple[int, ...] = ()
) -> PersonTruth:
    rng = np.random.default_rng(int(x0 + y0))
    points = np.column_stack(
        [x0 + rng.uniform(0, scale, 17), y0 + rng.uniform(0, 2 * scale, 17), np.full(17, 2.0)]
    )
    points[[5, 6, 11, 12], 0] = x0 + np.array([0.3, 0.7, 0.3, 0.7]) * scale
    points[5:7, 1] = y0 + 0.2 * scale  # shoulders
    points[11:13, 1] = y0 + 1.0 * scale  # hips: torso 0.8 × scale
    points[list(unlabelled)] = 0
    return PersonTruth(points, (x0, y0, scale, 2 * scale), 2 * scale * scale)


def _exact(person: PersonTruth, score: float = 0.9) -> PersonPrediction:
    points = person.keypoints.copy()
    points[:, 2] = 1.0
    return PersonPrediction(points, score)


TRUTH = [
    ImageTruth(1, "a.jpg", (_person(10, 10), _person(300, 20, unlabelled=(0, 1, 2)))),
    ImageTruth(2, "b.jpg", (_person(50, 40, scale=60),)),
]


def test_perfect_predictions_score_one() -> None:
    predictions = {i.image_id: [_exact(p) for p in i.persons] for i in TRUTH}
    report = evaluate_predictions(TRUTH, predictions)
    assert report.pck == report.pck_found == report.recall == 1.0
    assert report.coco["AP"] == pytest.approx(1.0)
    assert report.persons == 3
    assert report.persons_with_torso == 3


def test_a_missed_person_counts_as_wrong_and_a_moved_point_misses() -> None:
    moved = _exact(TRUTH[0].persons[0])
    moved.keypoints[9, :2] += 0.25 * 80  # left wrist 0.25 torso away: a miss at PCK@0.2
    moved.keypoints[10, :2] += 0.15 * 80 / np.sqrt(2)  # 0.15 torso away: a hit
    predictions = {1: [moved], 2: [_exact(TRUTH[1].persons[0])]}  # a.jpg's second: missed
    report = evaluate_predictions(TRUTH, predictions)
    labelled = 17 + 14 + 17
    assert report.pck == pytest.approx((labelled - 14 - 1) / labelled)
    assert report.pck_found == pytest.approx((34 - 1) / 34)
    assert report.recall == pytest.approx(2 / 3)
    assert report.per_image[0].recalled == 1


def test_matching_is_one_to_one_whatever_the_order() -> None:
    a, b = TRUTH[0].persons
    predictions = {1: [_exact(b, 0.5), _exact(a, 0.8)], 2: []}
    report = evaluate_predictions(TRUTH[:1], predictions)
    assert report.pck == 1.0
    assert report.recall == 1.0


def test_oks_agrees_with_pycocotools() -> None:
    from pycocotools.cocoeval import COCOeval

    np.testing.assert_allclose(COCOeval(iouType="keypoints").params.kpt_oks_sigmas, COCO_SIGMAS)
    person = TRUTH[0].persons[1]
    rng = np.random.default_rng(7)
    prediction = PersonPrediction(person.keypoints + rng.normal(0, 8, (17, 3)), 1.0)
    gt = coco_ground_truth(TRUTH[:1])
    g = np.array(gt["annotations"][1]["keypoints"])
    d = prediction.keypoints[:, :2].ravel()
    # COCOeval.computeOks's formula, written out for one pair
    dx, dy = d[0::2] - g[0::3], d[1::2] - g[1::3]
    e = (dx**2 + dy**2) / (2 * COCO_SIGMAS) ** 2 / (person.area + np.spacing(1)) / 2
    expected = np.exp(-e[g[2::3] > 0]).mean()
    assert oks(person, prediction) == pytest.approx(expected)


def test_both_file_formats_load_the_same_people(tmp_path: Path) -> None:
    simple = [
        {
            "image": "a.jpg",
            "persons": [
                {
                    "keypoints_coco17": TRUTH[0].persons[0].keypoints.tolist(),
                    "bbox": [10, 10, 100, 200],
                },
                {"keypoints_coco17": TRUTH[0].persons[1].keypoints.tolist(), "bbox": None},
            ],
        }
    ]
    (tmp_path / "simple.json").write_text(json.dumps(simple))
    (tmp_path / "coco.json").write_text(json.dumps(coco_ground_truth(TRUTH[:1])))
    from_simple = load_annotations(tmp_path / "simple.json")
    from_coco = load_annotations(tmp_path / "coco.json")
    assert [i.file_name for i in from_simple] == [i.file_name for i in from_coco] == ["a.jpg"]
    for a, b in zip(from_simple[0].persons, from_coco[0].persons, strict=True):
        np.testing.assert_array_equal(a.labelled, b.labelled)
        np.testing.assert_allclose(a.keypoints[a.labelled, :2], b.keypoints[b.labelled, :2])
    # no box: the labelled keypoints' extent
    box = from_simple[0].persons[1].bbox
    labelled = TRUTH[0].persons[1].keypoints[3:, :2]
    assert box[:2] == pytest.approx(tuple(labelled.min(0)))


@pytest.mark.parametrize("content", ["{", "{}", '[{"image": "a.jpg"}]', '[{"persons": []}]'])
def test_a_bad_annotation_file_is_a_config_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=r"bad\.json"):
        load_annotations(path)


def test_bootstrap_of_a_run_against_itself_is_zero_and_a_gain_is_inside_its_interval() -> None:
    predictions = {i.image_id: [_exact(p) for p in i.persons] for i in TRUTH}
    full = evaluate_predictions(TRUTH, predictions)
    missing = evaluate_predictions(TRUTH, {1: predictions[1][:1], 2: predictions[2]})
    assert paired_bootstrap(full, full) == (0.0, 0.0, 0.0)
    gain, low, high = paired_bootstrap(missing, full, resamples=500)
    assert gain == pytest.approx(full.pck - missing.pck)
    assert 0 <= low <= gain <= high


def test_a_person_without_labelled_keypoints_is_not_counted() -> None:
    nobody = _person(400, 300, unlabelled=tuple(range(17)))
    truth = [ImageTruth(1, "a.jpg", (TRUTH[0].persons[0], nobody))]
    report = evaluate_predictions(truth, {1: [_exact(TRUTH[0].persons[0])]})
    assert report.persons == 1
    assert report.recall == 1.0
