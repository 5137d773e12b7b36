"""Development helpers shared by tests/, benchmarks/ and scripts/; not part of the wheel.

- :mod:`hifipose_dev.data`: the shared data folder (../shared/data) and its photos and clips.
- :mod:`hifipose_dev.parity`: hifipose against MediaPipe, frame by frame.
- :mod:`hifipose_dev.bvh_fk`: forward kinematics of a parsed BVH file.
- :mod:`hifipose_dev.composites`: multi-person clips made from tests/data/multi's specs.
- :mod:`hifipose_dev.mot_metrics`: CLEAR-MOT and IDF1 scores of a tracking run.

How it is found: pytest puts ``dev/`` on ``sys.path`` (``pythonpath`` in pyproject.toml);
the benchmark and script files insert it themselves, so ``PYTHONPATH=src`` is all they need.
"""
