"""Read pose tables back: one Parquet file, or a whole folder of them as one table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hifipose._optional import require
from hifipose.errors import VideoReadError
from hifipose.io.table import METADATA_KEY, arrow_schema, has_camera_columns

__all__ = ["read_poses"]


def read_poses(path_or_dir: str | Path, *, as_pandas: bool = False) -> Any:  # noqa: ANN401
    """Read pose tables written by ``track -o x.parquet`` or ``batch`` as one table.

    Args:
        path_or_dir: A ``.parquet`` file, or a folder read recursively as one dataset
            (``batch``'s ``OUTDIR/poses``, or ``OUTDIR`` itself).
        as_pandas: Return a ``pandas.DataFrame`` instead of a ``pyarrow.Table``.

    Returns:
        A ``pyarrow.Table`` (or DataFrame) with the columns of :mod:`hifipose.io.table`,
        rows in file order (within a file: frame order). A single file's table keeps its
        ``hifipose`` metadata document on its schema. The camera-space columns are there
        when the file (or any file of the folder) has them; in a folder, files without
        them read as nulls there.

    Raises:
        VideoReadError: The path does not exist or holds no Parquet file.
    """
    pq = require("pyarrow.parquet", extra="parquet")
    ds = require("pyarrow.dataset", extra="parquet")
    path = Path(path_or_dir).expanduser()
    if path.is_file():
        camera = has_camera_columns(pq.read_schema(path).names)
        table = pq.read_table(path, schema=arrow_schema(camera=camera))
        document = pq.read_metadata(path).metadata or {}
        if METADATA_KEY.encode() in document:
            table = table.replace_schema_metadata({METADATA_KEY: document[METADATA_KEY.encode()]})
    elif path.is_dir():
        root = path / "poses" if (path / "poses").is_dir() else path
        files = sorted(str(p) for p in root.rglob("*.parquet") if p.is_file())
        if not files:
            msg = f"no .parquet files under {path}"
            raise VideoReadError(msg)
        camera = any(has_camera_columns(pq.read_schema(f).names) for f in files)
        schema = arrow_schema(camera=camera)
        table = ds.dataset(files, format="parquet", schema=schema).to_table()
    else:
        msg = f"not found: {path}"
        raise VideoReadError(msg)
    if as_pandas:
        require("pandas", extra="pandas")
        return table.to_pandas()
    return table
