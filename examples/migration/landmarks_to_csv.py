"""Export the 33 pose landmarks of every image in a folder to CSV (a dataset-building script).

Written against MediaPipe's legacy API; runs on hifipose after changing only the import line.
Usage: python landmarks_to_csv.py IMAGE_FOLDER OUT.csv
"""

import csv
import os
import sys

import cv2
import mediapipe as mp

mp_pose = mp.solutions.pose

folder, out_path = sys.argv[1], sys.argv[2]
names = sorted(f for f in os.listdir(folder) if f.lower().endswith((".jpg", ".png")))
header = ["image"]
for lm in mp_pose.PoseLandmark:
    header += [f"{lm.name.lower()}_{k}" for k in ("x", "y", "z", "v")]

rows = 0
with mp_pose.Pose(static_image_mode=True, model_complexity=1) as pose, \
        open(out_path, "w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(header)
    for name in names:
        image = cv2.imread(os.path.join(folder, name))
        results = pose.process(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
        if not results.pose_landmarks:
            print(f"{name}: no person")
            continue
        row = [name]
        for landmark in results.pose_landmarks.landmark:
            row += [round(landmark.x, 3), round(landmark.y, 3), round(landmark.z, 3),
                    round(landmark.visibility, 3)]
        writer.writerow(row)
        rows += 1
        nose = results.pose_landmarks.landmark[mp_pose.PoseLandmark.NOSE]
        print(f"{name}: nose at ({nose.x:.3f}, {nose.y:.3f})")
print(f"{rows} of {len(names)} images exported to {out_path}")
