"""Reading and writing: tables at the edges, npz/json between jobs, always atomically."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

FORMAT_VERSION = 1


def _tmp(path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(path.name + ".tmp")


def write_npz(path: str | Path, arrays: dict[str, np.ndarray]) -> None:
    """Write arrays (must include gene_id) plus format_version; temp file, then rename."""
    tmp = _tmp(path)
    with open(tmp, "wb") as fh:
        np.savez(fh, format_version=np.array(FORMAT_VERSION), **arrays)
    os.replace(tmp, path)


def read_npz(path: str | Path, keys: list[str] | None = None, exclude: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """Read an intermediate written by `write_npz`, checking its format version.

    keys : only these arrays (and gene_id); exclude : arrays not to read (never loaded).
    """
    with np.load(path, allow_pickle=False) as data:
        version = int(data["format_version"])
        if version != FORMAT_VERSION:
            raise ValueError(f"{path}: format_version {version}, expected {FORMAT_VERSION}; rerun the workflow")
        if "gene_id" not in data.files:
            raise ValueError(f"{path}: no gene_id array")
        wanted = data.files if keys is None else ["gene_id", *keys]
        return {k: data[k] for k in wanted if k != "format_version" and k not in exclude}


def write_json(path: str | Path, obj: Any) -> None:
    tmp = _tmp(path)
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n")
    os.replace(tmp, path)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (np.floating, np.integer, np.bool_)):
        return obj.item()
    raise TypeError(f"cannot serialise {type(obj)}")


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text())


def write_tsv(path: str | Path, frame: pd.DataFrame) -> None:
    """Tab-separated, NA as empty, floats with 15 significant digits, as R write.table."""
    tmp = _tmp(path)
    frame.to_csv(tmp, sep="\t", index=False, na_rep="", float_format="%.15g")
    os.replace(tmp, path)


def table_separator(path: str | Path) -> str:
    """',' for .csv(.gz), else tab."""
    name = str(path).lower()
    if name.endswith(".gz"):
        name = name[:-3]
    return "," if name.endswith(".csv") else "\t"


