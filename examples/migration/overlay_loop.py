"""The webcam loop of the mp.solutions.pose tutorials, reading a video file instead of a camera.

Draws the skeleton with the default style and the left elbow angle on each frame and writes the
annotated video. Written against MediaPipe's legacy API; runs on hifipose after changing only
the import line. Usage: python overlay_loop.py VIDEO OUT.mp4
"""

import math
import sys

import cv2
import mediapipe as mp

mp_drawing = mp.solutions.drawing_utils
mp_drawing_styles = mp.solutions.drawing_styles
mp_pose = mp.solutions.pose


def angle_at(landmarks, a, b, c):
    """Angle ABC in degrees, from the normalised landmarks."""
    pa, pb, pc = landmarks[a], landmarks[b], landmarks[c]
    ab = math.atan2(pa.y - pb.y, pa.x - pb.x)
    cb = math.atan2(pc.y - pb.y, pc.x - pb.x)
    deg = abs(math.degrees(cb - ab))
    return 360 - deg if deg > 180 else deg


cap = cv2.VideoCapture(sys.argv[1])
fps = cap.get(cv2.CAP_PROP_FPS) or 30
width = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
height = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
out = cv2.VideoWriter(sys.argv[2], cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
frame_count = 0
with mp_pose.Pose(min_detection_confidence=0.5, min_tracking_confidence=0.5) as pose:
    while cap.isOpened():
        success, image = cap.read()
        if not success:
            break
        frame_count += 1
        image.flags.writeable = False
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        results = pose.process(image)

        image.flags.writeable = True
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        mp_drawing.draw_landmarks(
            image,
            results.pose_landmarks,
            mp_pose.POSE_CONNECTIONS,
            landmark_drawing_spec=mp_drawing_styles.get_default_pose_landmarks_style())
        if results.pose_landmarks:
            lm = results.pose_landmarks.landmark
            elbow = angle_at(lm, mp_pose.PoseLandmark.LEFT_SHOULDER,
                             mp_pose.PoseLandmark.LEFT_ELBOW, mp_pose.PoseLandmark.LEFT_WRIST)
            cv2.putText(image, f"{elbow:.0f}", (20, 40), cv2.FONT_HERSHEY_SIMPLEX, 1,
                        (255, 255, 255), 2, cv2.LINE_AA)
            if frame_count % 10 == 0:
                print(f"frame {frame_count}: left elbow {elbow:.0f} deg")
        else:
            print(f"frame {frame_count}: no pose")
        out.write(image)
cap.release()
out.release()
print(f"wrote {frame_count} frames to {sys.argv[2]}")
