"""Write ``src/hifipose/solutions/face_mesh_edges.json``: the face-mesh edge sets, as data.

The sets are facts about the 468/478-point face mesh (which points are joined in drawings).
They are read from the npm package ``@mediapipe/holistic`` (the version hifipose pins for the
Holistic models, ``HOLISTIC_NPM_PACKAGE``): its script exports them as constants, which
``node`` evaluates here (one ``npm pack``, 52 MB). That package lacks one set, the nose
(``FACEMESH_NOSE``, used only by the second face contour style): it is read from the
installed mediapipe 0.10.14 wheel's ``face_mesh_connections`` module, the only place it is
published. Derived sets (the contours, the two irises together) are not stored: the package
builds them from the stored ones, and this script checks that npm's unions are those.

Run from the project root (needs npm, node and the dev environment's mediapipe)::

    PYTHONPATH=src .venv/bin/python scripts/face_mesh_edges.py

tests/unit/solutions/test_connections.py checks the stored sets against mediapipe 0.10.14's.
"""

from __future__ import annotations

import json
import subprocess
import tarfile
import tempfile
from pathlib import Path

from hifipose.models.registry import HOLISTIC_NPM_PACKAGE

OUTPUT = Path(__file__).resolve().parents[1] / "src/hifipose/solutions/face_mesh_edges.json"
#: The sets stored, in this order (the npm package's names).
STORED = (
    "FACEMESH_LIPS",
    "FACEMESH_LEFT_EYE",
    "FACEMESH_LEFT_EYEBROW",
    "FACEMESH_LEFT_IRIS",
    "FACEMESH_RIGHT_EYE",
    "FACEMESH_RIGHT_EYEBROW",
    "FACEMESH_RIGHT_IRIS",
    "FACEMESH_FACE_OVAL",
    "FACEMESH_TESSELATION",
)
CONTOUR_PARTS = (
    "FACEMESH_LIPS",
    "FACEMESH_LEFT_EYE",
    "FACEMESH_LEFT_EYEBROW",
    "FACEMESH_RIGHT_EYE",
    "FACEMESH_RIGHT_EYEBROW",
    "FACEMESH_FACE_OVAL",
)
_DUMP = (
    "const m = require(process.argv[1]); const out = {};"
    "for (const k of Object.keys(m)) if (k.startsWith('FACEMESH_')) out[k] = m[k];"
    "process.stdout.write(JSON.stringify(out));"
)
_PAIRS_PER_LINE = 12


def npm_sets() -> dict[str, list[list[int]]]:
    """The package's exported ``FACEMESH_*`` constants, as lists of [start, end] pairs."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            ["npm", "pack", "--silent", HOLISTIC_NPM_PACKAGE],  # noqa: S607 - the user's npm
            cwd=tmp,
            check=True,
            capture_output=True,
        )
        (tarball,) = Path(tmp).glob("*.tgz")
        with tarfile.open(tarball) as archive:
            archive.extract("package/holistic.js", tmp, filter="data")
        out = subprocess.run(
            ["node", "-e", _DUMP, str(Path(tmp) / "package" / "holistic.js")],  # noqa: S607
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    sets: dict[str, list[list[int]]] = json.loads(out)
    return sets


def _pairs_text(pairs: list[list[int]]) -> str:
    lines = [
        ", ".join(f"[{a}, {b}]" for a, b in pairs[i : i + _PAIRS_PER_LINE])
        for i in range(0, len(pairs), _PAIRS_PER_LINE)
    ]
    return "[\n    " + ",\n    ".join(lines) + "\n  ]"


def main() -> None:
    """Fetch, check and write the sets."""
    from mediapipe.python.solutions import face_mesh_connections

    sets = npm_sets()
    contours = {tuple(p) for name in CONTOUR_PARTS for p in sets[name]}
    if contours != {tuple(p) for p in sets["FACEMESH_CONTOURS"]}:
        msg = "npm's FACEMESH_CONTOURS is not the union of its parts"
        raise SystemExit(msg)
    stored = {name: sets[name] for name in STORED}
    stored["FACEMESH_NOSE"] = [list(p) for p in sorted(face_mesh_connections.FACEMESH_NOSE)]
    source = {
        "npm": HOLISTIC_NPM_PACKAGE + " (holistic.js exports)",
        "FACEMESH_NOSE": "mediapipe 0.10.14 wheel, face_mesh_connections (not in the npm package)",
        "generated_by": "scripts/face_mesh_edges.py",
    }
    body = ",\n".join(f'  "{name}": {_pairs_text(pairs)}' for name, pairs in stored.items())
    OUTPUT.write_text(f'{{\n  "source": {json.dumps(source)},\n{body}\n}}\n')
    print(f"wrote {OUTPUT} ({sum(len(p) for p in stored.values())} edges)")


if __name__ == "__main__":
    main()
