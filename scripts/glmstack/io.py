"""Reading and writing: tables at the edges, npz/json between jobs, always atomically."""

from __future__ import annotations

import json
import os
import warnings
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


def read_samples(path: str | Path) -> pd.DataFrame:
    """Sample sheet as strings (types are decided by the design); "" and NA are missing."""
    from .errors import StudyError

    try:
        with warnings.catch_warnings():
            # rows longer than the header would otherwise shift into the index or be cut
            warnings.simplefilter("error", pd.errors.ParserWarning)
            sheet = pd.read_csv(
                path, sep=table_separator(path), dtype=str, keep_default_na=False, na_values=["", "NA"], index_col=False
            )
    except pd.errors.EmptyDataError:
        raise StudyError(f"{path}: the sample sheet is empty. Fix: one header line, then one row per sample.") from None
    except (pd.errors.ParserError, pd.errors.ParserWarning, UnicodeDecodeError) as exc:
        raise StudyError(
            f"{path}: the sample sheet cannot be read as a {'comma' if table_separator(path) == ',' else 'tab'}"
            f"-separated table ({str(exc).strip()}). Fix: one row per sample, the same number of fields "
            "in every row, no unbalanced quotes."
        ) from None
    mangled = [c for c in sheet.columns if str(c).startswith("Unnamed:")]
    if mangled:
        raise StudyError(f"{path}: the header has empty column names. Fix: name every column.")
    return sheet


def read_size_factors(path: str | Path) -> pd.Series:
    """`sample`, `size_factor` table -> Series indexed by sample."""
    frame = pd.read_csv(path, sep=table_separator(path), dtype={"sample": str})
    return frame.set_index("sample")["size_factor"].astype(float)


def read_shard(path: str | Path) -> dict[str, np.ndarray]:
    return read_npz(path)


def aligned_samples(samples_path: str | Path, samples: list[str]) -> pd.DataFrame:
    """The sample sheet with rows in count-column order (checked before any job ran)."""
    sheet = read_samples(samples_path)
    return sheet.set_index(sheet["sample"].astype(str)).loc[samples].reset_index(drop=True)


class ShardData:
    """One shard's counts with the study-wide sample sheet and size factors."""

    def __init__(self, gene_id, counts, size_factors, samples):
        self.gene_id = gene_id
        self.counts = counts
        self.size_factors = size_factors
        self.samples = samples


PER_SAMPLE_FIT_ARRAYS = ("cooks",)  # (genes x samples) arrays of fit/{shard}.npz


def load_shard_inputs(shard_path, manifest_path, size_factors_path, samples_path) -> ShardData:
    """Counts of one shard, size factors (exact, from the manifest) and the aligned sheet."""
    shard = read_npz(shard_path)
    manifest = read_json(manifest_path)
    sf = np.asarray(manifest["size_factors"], dtype=float)
    return ShardData(shard["gene_id"], shard["counts"], sf, aligned_samples(samples_path, manifest["samples"]))


def concat_npz(paths: list[str], exclude: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """Concatenate per-shard arrays along genes; scalars (per-shard counts) are summed.

    exclude : arrays not to read, e.g. the (genes x samples) ones where per-gene ones will do.
    """
    return concat_shards([read_npz(p, exclude=exclude) for p in paths])


def concat_shards(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Per-shard arrays concatenated along genes; scalars (per-shard counts) summed."""
    out: dict[str, np.ndarray] = {}
    for key in parts[0]:
        values = [p[key] for p in parts]
        out[key] = np.sum(values) if values[0].ndim == 0 else np.concatenate(values)
    return out
