#!/usr/bin/env bash
# Regenerate the several-people table (README "Several people"): run on a quiet machine.
#   bash benchmarks/run_multi.sh      → benchmarks/results/multi.{md,json}
# One person in view: the squat clip letterboxed to 1280×720 (num_poses=3 against 1).
# Three people: ../shared/data/multi/crossing_squats.mp4 (1280×720), hifipose against
# MediaPipe Tasks with num_poses=3, interleaved in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
out=benchmarks/results
mkdir -p "$out"
.venv/bin/hifipose bench \
  --input ../shared/data/tfjs_golden/pose_squats.mp4 --frames 120 --size 1280x720 \
  --models full --runtimes litert --threads default --rounds 5 --vs-mediapipe \
  --multi ../shared/data/multi/crossing_squats.mp4 \
  --markdown "$out/multi.md" --json "$out/multi.json"
