"""Every output is byte-identical to what the code before the one frame loop wrote.

Issue 22 rebuilt ``track``, ``batch`` and the server on :func:`hifipose.track`; its
constraint is that no output changes. This test runs the same commands with the code of
:data:`BASELINE` (the last commit before that work, taken from this repository's history
with ``git archive``) and with the current code, in two subprocesses on this machine, and
compares the files byte for byte: JSON Lines, CSV, Parquet (metadata included), COCO JSON,
BVH, the overlay video and batch's Parquet, for one person and for three.

The overlay video is compared frame by frame outside its caption box, which shows the
measured frames per second. Left out: ``.rrd`` recordings, whose bytes hold a random
recording id and wall-clock times on every run of any version (two runs of one version
differ too).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from io import BytesIO
from pathlib import Path

import numpy as np

from hifipose_dev.data import ROOT, SHARED_DATA, decode_frames

#: The last commit before issue 22's frame loop (its outputs are the reference).
BASELINE = "1474f81"
# Resolved: batch names its inputs by their resolved paths since issue 24, the old code by
# the path given (they differ where ../shared is a link).
SQUATS = (SHARED_DATA / "tfjs_golden" / "pose_squats.mp4").resolve()
CROSSING = (SHARED_DATA / "multi" / "crossing_squats.mp4").resolve()
FRAMES = ["--max-frames", "12"]
#: The several-people options' values before issue 27 made them depend on ``num_poses``.
OLD = ["--tiles", "1", "--detect-every", "15", "--max-lost-ms", "1000"]

#: ``(name, argv)`` per run; ``{out}`` is the run's output folder.
RUNS: list[tuple[str, list[str]]] = [
    ("jsonl", ["track", str(SQUATS), "-o", "{out}/k.jsonl", "--render", "{out}/o.mp4"]),
    ("csv", ["track", str(SQUATS), "-o", "{out}/k.csv", "--model", "lite"]),
    ("parquet", ["track", str(SQUATS), "-o", "{out}/k.parquet", "--fov", "60"]),
    ("coco", ["track", str(SQUATS), "-o", "{out}/k.json", "--segmentation"]),
    ("bvh", ["track", str(SQUATS), "-o", "{out}/k.bvh", "--smoothing", "offline"]),
    # issue 27 changed the several-people defaults on purpose: the old ones, given
    ("multi_parquet", ["track", str(CROSSING), "-o", "{out}/m.parquet", "--num-poses", "3", *OLD]),
    ("batch", ["batch", str(SQUATS), "-o", "{out}/batch", "--workers", "1", "--model", "lite"]),
]

#: Runs every command with ``hifipose.cli.main`` in one process (models load once per run).
DRIVER = """
import json, sys
from hifipose.cli import main
for argv in json.loads(sys.argv[1]):
    status = main(argv)
    if status != 0:
        raise SystemExit(f"exit {status}: {argv}")
"""


def _baseline_source(folder: Path) -> Path:
    """The ``src`` folder of :data:`BASELINE`, unpacked into ``folder``."""
    command = ["git", "-C", str(ROOT), "archive", "--format=tar", BASELINE, "src"]
    archive = subprocess.run(
        command,
        capture_output=True,
        check=False,
    )
    assert archive.returncode == 0, (
        f"this test needs the repository's history (commit {BASELINE}): "
        + archive.stderr.decode(errors="replace")
    )
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(folder, filter="data")
    return folder / "src"


def _run_all(source: Path, out: Path, model_dir: Path) -> None:
    commands = []
    for name, argv in RUNS:
        folder = out / name
        folder.mkdir(parents=True)
        given = [arg.replace("{out}", str(folder)) for arg in argv]
        extra = [] if given[0] == "batch" else FRAMES
        commands.append([*given, *extra, "--model-dir", str(model_dir), "--quiet"])
    env = {**os.environ, "PYTHONPATH": str(source), "OMP_NUM_THREADS": "2"}
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, json.dumps(commands)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]


def _frames_outside_caption(path: Path) -> list[np.ndarray]:
    """The video's frames with the caption's band (top-left: model, runtime, fps) blanked."""
    frames = decode_frames(path)
    for frame in frames:
        frame[: frame.shape[0] // 8] = 0
    return frames


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and "_hifipose" not in path.parts  # batch's own bookkeeping
    }


def test_every_output_is_byte_identical_to_the_code_before_the_frame_loop(
    tmp_path: Path, model_dir: Path
) -> None:
    old_out, new_out = tmp_path / "old", tmp_path / "new"
    _run_all(_baseline_source(tmp_path / "baseline"), old_out, model_dir)
    _run_all(ROOT / "src", new_out, model_dir)
    old, new = _files(old_out), _files(new_out)
    assert sorted(old) == sorted(new)
    assert len(old) >= len(RUNS) + 1  # the overlay video beside its keypoints, batch's table
    videos = [name for name in old if name.endswith(".mp4")]
    assert videos
    changed = [name for name in old if name not in videos and old[name] != new[name]]
    assert not changed, f"outputs that changed: {changed}"
    for name in videos:
        before = _frames_outside_caption(old_out / name)
        after = _frames_outside_caption(new_out / name)
        assert len(before) == len(after) == int(FRAMES[1])
        for a, b in zip(before, after, strict=True):
            assert np.abs(a.astype(np.int16) - b).mean() < 0.02, name
