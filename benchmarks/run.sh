#!/usr/bin/env bash
# Regenerate the committed benchmark tables (README "Speed"): run on a quiet machine.
#   bash benchmarks/run.sh            → benchmarks/results/bench.{md,json}
# Frames: the squat clip from ../shared/data, letterboxed to 640×480. hifipose, MediaPipe
# Tasks and MediaPipe's legacy solution are timed interleaved in the same run (ratios).
set -euo pipefail
cd "$(dirname "$0")/.."
out=benchmarks/results
mkdir -p "$out"
.venv/bin/hifipose bench \
  --input ../shared/data/tfjs_golden/pose_squats.mp4 --frames 65 --size 640x480 \
  --models lite,full,heavy --runtimes litert,onnxruntime --threads default,1 --rounds 5 \
  --vs-mediapipe --cold-start --memory-frames 10000 \
  --markdown "$out/bench.md" --json "$out/bench.json"
