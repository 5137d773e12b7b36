"""Synthetic squatting people as frame results: known knee angles, no model needed."""

from __future__ import annotations

import math

import numpy as np

from hifipose.pose import FrameResult, Pose
from hifipose.topology import Kp

#: Image pixels per world metre, and where the hips are in the image.
SCALE, ORIGIN = 500.0, np.array([320.0, 120.0])


def squat_pose(flexion_deg: float, track_id: int | None = 1, dx: float = 0.0) -> Pose:
    """A standing skeleton whose knees are bent by ``flexion_deg`` in the x-y plane.

    World: hips at y = 0, thighs straight down 0.45 m, shanks 0.45 m swung by the flexion
    (both knee angles are exactly ``flexion_deg`` in world and image space); everything else
    sits on the trunk. Image = world · 500 px/m + (320, 120), visibility 0.9.
    """
    world = np.zeros((33, 3))
    world[:, 1] = -0.5  # head, arms: on the trunk, above the hips
    theta = math.radians(flexion_deg)
    for hip, knee, ankle, heel, toe, x in (
        (Kp.LEFT_HIP, Kp.LEFT_KNEE, Kp.LEFT_ANKLE, Kp.LEFT_HEEL, Kp.LEFT_FOOT_INDEX, 0.1),
        (Kp.RIGHT_HIP, Kp.RIGHT_KNEE, Kp.RIGHT_ANKLE, Kp.RIGHT_HEEL, Kp.RIGHT_FOOT_INDEX, -0.1),
    ):
        world[hip] = (x, 0.0, 0.0)
        world[knee] = (x, 0.45, 0.0)
        world[ankle] = world[knee] + 0.45 * np.array([math.sin(theta), math.cos(theta), 0.0])
        world[heel] = world[ankle] + (0.0, 0.05, 0.0)
        world[toe] = world[ankle] + (0.1, 0.05, 0.0)
    world[Kp.LEFT_SHOULDER] = (0.15, -0.5, 0.0)
    world[Kp.RIGHT_SHOULDER] = (-0.15, -0.5, 0.0)
    image = np.zeros((33, 5))
    image[:, :2] = world[:, :2] * SCALE + ORIGIN + (dx, 0.0)
    image[:, 3], image[:, 4] = 0.9, 0.95
    return Pose(image.astype(np.float32), world.astype(np.float32), 0.9, track_id=track_id)


def squat_results(reps: int = 2, fps: float = 10.0, people: int = 1) -> list[FrameResult]:
    """``reps`` squats (10° → 100° → 10°, 20 frames each) by each of ``people`` people."""
    flexions = [10.0 + 90.0 * math.sin(math.pi * i / 20) ** 2 for i in range(20 * reps)]
    flexions.append(10.0)
    return [
        FrameResult(
            i,
            i * 1000.0 / fps,
            (640, 480),
            tuple(squat_pose(f, track_id=p + 1, dx=150.0 * p) for p in range(people)),
            source="squats.mp4",
        )
        for i, f in enumerate(flexions)
    ]
