"""Answers from keypoints: angles, repetitions, pose classification (pure, on arrays)."""
