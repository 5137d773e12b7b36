"""The batch corpus (generated once per session) and a reference run over it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hifipose.batch import BatchOptions, BatchSummary, run
from tests.integration.batch.corpus import make_corpus

#: Good clips in the corpus: 100 in CI (about 400 frames); the script
#: benchmarks/bench_batch.py runs larger corpora.
CLIPS = int(os.environ.get("HIFIPOSE_BATCH_CLIPS", "100"))
OPTIONS = BatchOptions(model="lite")


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    folder = tmp_path_factory.mktemp("corpus")
    return folder, make_corpus(folder, CLIPS)


@pytest.fixture(scope="session")
def reference(
    tmp_path_factory: pytest.TempPathFactory,
    corpus: tuple[Path, dict[str, int]],
    model_dir: Path,
) -> tuple[Path, BatchSummary]:
    """An uninterrupted local run over the corpus: the output every other run must equal."""
    out = tmp_path_factory.mktemp("reference")
    summary = run([str(corpus[0])], out, options=OPTIONS, workers=2)
    return out, summary
