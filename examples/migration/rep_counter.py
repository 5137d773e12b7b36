"""Squat counter in the style of the many mp.solutions.pose tutorials.

Written against MediaPipe's legacy API; runs on hifipose after changing only the import line
(`import mediapipe as mp` -> `import hifipose as mp`). Usage: python rep_counter.py VIDEO
"""

import sys

import cv2
import mediapipe as mp
import numpy as np

mp_pose = mp.solutions.pose


def calculate_angle(a, b, c):
    a = np.array(a)
    b = np.array(b)
    c = np.array(c)
    radians = np.arctan2(c[1] - b[1], c[0] - b[0]) - np.arctan2(a[1] - b[1], a[0] - b[0])
    angle = np.abs(radians * 180.0 / np.pi)
    if angle > 180.0:
        angle = 360 - angle
    return angle


cap = cv2.VideoCapture(sys.argv[1])
counter = 0
stage = None
frames = 0

with mp_pose.Pose(min_detection_confidence=0.5, min_tracking_confidence=0.5) as pose:
    while cap.isOpened():
        ret, frame = cap.read()
        if not ret:
            break
        frames += 1
        image = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        image.flags.writeable = False
        results = pose.process(image)
        image.flags.writeable = True

        try:
            landmarks = results.pose_landmarks.landmark
            hip = [landmarks[mp_pose.PoseLandmark.LEFT_HIP.value].x,
                   landmarks[mp_pose.PoseLandmark.LEFT_HIP.value].y]
            knee = [landmarks[mp_pose.PoseLandmark.LEFT_KNEE.value].x,
                    landmarks[mp_pose.PoseLandmark.LEFT_KNEE.value].y]
            ankle = [landmarks[mp_pose.PoseLandmark.LEFT_ANKLE.value].x,
                     landmarks[mp_pose.PoseLandmark.LEFT_ANKLE.value].y]
            angle = calculate_angle(hip, knee, ankle)

            if angle > 160:
                stage = "up"
            if angle < 100 and stage == "up":
                stage = "down"
                counter += 1
                print(f"Rep {counter} at frame {frames}")
        except AttributeError:
            pass

cap.release()
print(f"Total reps: {counter} in {frames} frames")
