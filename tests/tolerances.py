"""Every numeric tolerance the tests use, each with the measurement that set it."""

from __future__ import annotations

from typing import Final

# --- TF.js golden fixture (../shared/data/tfjs_golden/pose.jpg, pose_expected.json) ---------
# The TF.js tests' own tolerances (pose_expected.json "tolerance").
GOLDEN_MAX_PX: Final = 15.0
GOLDEN_MAX_WORLD_M: Final = 0.21
GOLDEN_MIN_MASK_IOU: Final = 0.94
# "Far inside" for the full model. Measured (litert 2.3, OpenCV 5.0): max 8.3 px, world
# max 0.065 m, IoU 0.956; the spec's reference script measured 7.3 px / 0.065 m / 0.956.
GOLDEN_FULL_MAX_PX: Final = 10.0
GOLDEN_FULL_MAX_WORLD_M: Final = 0.09
GOLDEN_FULL_MIN_MASK_IOU: Final = 0.95

# --- Parity with MediaPipe itself (mediapipe==0.10.14, same model files) ---------------------
# Issue #2/#3: mean landmark distance ≤ 0.5 % of the person's box diagonal, world ≤ 1 cm on
# average. Measured static mode, 66 frames: lite 0.17 %, full 0.09 %, heavy 0.07 %; world
# 0.17 cm for all three. MediaPipe's own noise floor is 0.1–0.5 % (design.md §6).
PARITY_MEAN_REL: Final = 0.005
PARITY_MEAN_WORLD_M: Final = 0.01

# --- TF.js video fixtures (pose_squats.full.json / pose_squats_3d.full.json) ---------------
# The TF.js MediaPipe-runtime video tolerances (shared/data/README.md).
VIDEO_MAX_PX: Final = 31.0
VIDEO_MAX_WORLD_M: Final = 0.24

# --- Smoothed masks in video mode against MediaPipe (full model, every clip) ---------------
# Measured: IoU mean 0.969 (worst frame 0.959), mean |Δp| 0.0034 per pixel. The masks follow
# each graph's own ROI, which differ by the landmark noise floor from frame to frame.
VIDEO_MASK_MEAN_IOU: Final = 0.95
VIDEO_MASK_MEAN_ABS: Final = 0.01

# --- Converted graphs (hifipose.convert) against LiteRT, model by model ----------------------
# Error = max |ours − litert| / max(max |litert|, 1), per output (the ", 1" makes it absolute on
# the pose flag, a probability). Issue #5's bar on real inputs (crops of pose.jpg). Measured
# (onnxruntime 1.32, torch 2.13, litert 2.3, 2-core CPU): ≤ 2e-5 on every output but the
# segmentation logits (landmark output Identity_2), ≤ 6e-5 there.
CONVERTED_MAX_REL_REAL: Final = 1e-4
# The segmentation logits sit at float32's noise floor: against a float64 run of the same graph,
# LiteRT itself is 5.8e-5 off on heavy, torch 3.1e-5 (1 thread) or 8.7e-5 (2 threads), so two
# correct float32 runs differ by up to 1.1e-4 (measured: torch, 2 threads, heavy).
CONVERTED_MAX_REL_REAL_SEGMENTATION: Final = 2e-4
# Uniform noise drives the landmark models' activations to ~10³, where float32 summation order
# shows: LiteRT's own XNNPACK and built-in kernels differ by up to 5.7e-4 on seeds 0–3 (and by
# 3e-2 on other draws). Measured on seed 0–3: onnxruntime ≤ 7.6e-4, torch ≤ 8.8e-4.
CONVERTED_MAX_REL_NOISE: Final = 2e-3
# CUDA float32 (torch with TF32 off) is held to the same bar: measured on an H100 (torch 2.11)
# 6e-5 on real and 8e-5 on noise input; with cuDNN's default TF32 it was 2.7e-2 (real).
# Single-op models built by hand (tests/unit/convert/tflite_builder.py): a few roundings apart.
CONVERTED_OP_MAX_REL: Final = 1e-5
# torch float16 on CUDA (opt-in), a real crop: a sanity bound, not a parity claim. Measured on
# an H100 (torch 2.11): landmarks 2.5e-3, heatmaps 2.9e-3, world 3.5e-3 of their range.
CONVERTED_FLOAT16_MAX_REL: Final = 1e-2
# ... and the segmentation mask (sigmoid of logits beyond float16's resolution), mean |Δ|:
# measured 1.7e-4 on that H100.
CONVERTED_FLOAT16_MASK_MEAN_ABS: Final = 1e-3
