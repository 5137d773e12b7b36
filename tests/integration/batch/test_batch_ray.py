"""hifipose batch --engine ray on a local Ray instance (2 CPUs) started by the test."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from hifipose.batch import BatchSummary, run
from tests.integration.batch.conftest import OPTIONS
from tests.integration.batch.corpus import BROKEN
from tests.integration.batch.faults import Fault, TestHooks
from tests.integration.batch.helpers import assert_same_outputs

ray = pytest.importorskip("ray", reason="CI installs ray (hifipose[ray]); it must not skip")


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_ray_engine_matches_the_local_engine(
    local_ray: None,
    tmp_path: Path,
    corpus: tuple[Path, dict[str, int]],
    reference: tuple[Path, BatchSummary],
) -> None:
    out = tmp_path / "ray"
    summary = run([str(corpus[0])], out, options=OPTIONS, engine="ray", workers=2)
    assert summary.exit_code == 3
    assert summary.done == len(corpus[1])
    assert {o.video_id: o.error_class for o in summary.failed} == BROKEN
    assert_same_outputs(out, reference[0])  # the same Parquet data, failure records, job file
    again = run([str(corpus[0])], out, options=OPTIONS, engine="ray", workers=2)
    assert (again.done, again.skipped, again.failed_earlier, again.failed) == (
        0,
        len(corpus[1]),
        len(BROKEN),
        [],
    )


def test_ray_engine_replaces_a_crashed_actor_and_gives_up_after_one_retry(
    local_ray: None,
    tmp_path: Path,
    corpus: tuple[Path, dict[str, int]],
) -> None:
    folder, clips = corpus
    few = sorted(v for v in clips if v.startswith("one/"))[:3]
    markers = tmp_path / "markers"
    markers.mkdir()
    victims = [v.removeprefix("one/") for v in few[:2]]
    inputs = [str(folder / f"{v}.mp4") for v in few]
    # The first video kills its actor once (done on the retry), the second every time
    # (recorded as crashed after two attempts).
    hooks = TestHooks(
        faults=(Fault("kill", victims[0], 1), Fault("kill", victims[1])), markers=markers
    )
    out = tmp_path / "out"
    summary = run(inputs, out, options=OPTIONS, engine="ray", workers=2, hooks=hooks)
    (outcome,) = summary.failed
    assert (outcome.video_id, outcome.status, summary.done) == (victims[1], "crashed", 2)
    record = json.loads((out / "_hifipose" / "failed" / f"{victims[1]}.json").read_text())
    assert (record["error_class"], record["attempts"]) == ("WorkerCrashError", 2)
    assert len(list(markers.iterdir())) == 3
    assert (out / "poses" / f"{victims[0]}.parquet").exists()
