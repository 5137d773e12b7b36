"""Import a hifipose BVH file into Blender (headless) and check Blender's joints against FK.

Not part of CI (Blender is large); run by hand where Debian's ``blender`` is installed:

    PYTHONPATH=src .venv/bin/python scripts/blender_bvh_check.py take.bvh

The script runs itself inside ``blender --background``, where Blender's own BVH importer
(``import_anim.bvh``, default axes: forward −Z, up Y) builds an armature and an action;
it records every pose bone's head, per frame, in world space. Back here, the same file is
parsed with the independent ``bvh`` package and its joints placed by forward kinematics
(``dev/hifipose_dev/bvh_fk.py``); the two must agree. Prints one line of figures.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def inside_blender(bvh_path: str, out_path: str) -> None:
    """Import with Blender's importer; dump the joints' world positions per frame."""
    import bpy  # only inside Blender

    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.preferences.addon_enable(module="io_anim_bvh")
    import io_anim_bvh.import_bvh as importer

    # Debian's Blender 3.4 runs on Python ≥ 3.11, where the importer's open(path, "rU")
    # fails ("invalid mode"); give that module an open() without the obsolete "U"
    def open_without_u(path: str, mode: str = "r", *args: object, **kwargs: object) -> object:
        return open(path, mode.replace("U", ""), *args, **kwargs)  # noqa: PTH123

    importer.open = open_without_u
    bpy.ops.import_anim.bvh(filepath=bvh_path, global_scale=1.0, frame_start=1)
    armature = next(o for o in bpy.context.scene.objects if o.type == "ARMATURE")
    action = armature.animation_data.action
    first, last = (int(f) for f in action.frame_range)
    frames = []
    for frame in range(first, last + 1):
        bpy.context.scene.frame_set(frame)
        frames.append({b.name: list(armature.matrix_world @ b.head) for b in armature.pose.bones})
    Path(out_path).write_text(
        json.dumps(
            {"bones": len(armature.pose.bones), "frames": frames, "version": bpy.app.version_string}
        )
    )


def main(bvh_path: str) -> int:
    """Run Blender on ``bvh_path``, compare its joints with FK; 0 when they agree."""
    import bvh
    import numpy as np

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dev"))
    from hifipose_dev.bvh_fk import forward_kinematics

    blender_exe = shutil.which("blender")
    if blender_exe is None:
        print("blender is not installed (Debian: apt-get install blender)")
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "joints.json"
        subprocess.run(
            [
                blender_exe,
                "--background",
                "--factory-startup",
                "--python-exit-code",
                "1",
                "--python",
                __file__,
                "--",
                "--inside",
                bvh_path,
                str(out),
            ],
            check=True,
            capture_output=True,
        )
        dumped = json.loads(out.read_text())
    mocap = bvh.Bvh(Path(bvh_path).read_text())
    fk = forward_kinematics(mocap)
    names = mocap.get_joints_names()
    # Blender (x, y, z) = BVH (x, −z, y) with the default axes
    blender = {n: np.array([[f[n][0], f[n][2], -f[n][1]] for f in dumped["frames"]]) for n in names}
    errors = {n: float(np.linalg.norm(blender[n] - fk[n], axis=1).max()) for n in names}
    worst = max(errors, key=errors.get)
    print(
        f"Blender {dumped['version']}: imported {dumped['bones']} bones, "
        f"{len(dumped['frames'])} frames (file: {mocap.nframes}); Blender's joints vs FK "
        f"from the bvh package: max {errors[worst]:.4f} cm ({worst})"
    )
    ok = dumped["bones"] == len(names) and len(dumped["frames"]) == mocap.nframes
    return 0 if ok and errors[worst] < 0.01 else 1


if __name__ == "__main__":
    if "--inside" in sys.argv:
        bvh_file, out_file = sys.argv[sys.argv.index("--inside") + 1 :][:2]
        inside_blender(bvh_file, out_file)
    else:
        sys.exit(main(sys.argv[1]))
