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
# OpenVINO and the fast modes (issue 26): the speed table only, LiteRT and MediaPipe in the same
# rounds → benchmarks/results/bench_openvino.{md,json}; accuracy of the fast modes and the
# model alone: benchmarks/bench_openvino.py → benchmarks/results/openvino.{md,json}.
.venv/bin/hifipose bench \
  --input ../shared/data/tfjs_golden/pose_squats.mp4 --frames 65 --size 640x480 \
  --models lite,full,heavy --runtimes litert,openvino --precisions float32,bf16,int8 \
  --threads default --rounds 3 --vs-mediapipe --speed-only \
  --markdown "$out/bench_openvino.md" --json "$out/bench_openvino.json"
