"""Shards: contiguous gene ranges planned once by the ingest step, read back by every job."""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .files import map_npz, read_json, read_npz, write_npz

AUTO_SHARD_COUNTS = 10_000_000  # counts per shard at most: ~10 s of work per job, ~1 GB of memory
# values per shard at most (values: studies): least squares costs ~1 % of a negative-binomial
# fit per cell, so shards this large still take a few seconds (~0.8 GB of memory per job)
AUTO_SHARD_VALUES = 25_000_000
# below this many cells one shard: a second job would save less than its start-up (~0.5 s of
# imports) and take a core from the study-wide jobs that run beside the fit
AUTO_SPLIT_CELLS = 1_000_000


def auto_genes_per_shard(n_genes: int, n_samples: int, cells: int = AUTO_SHARD_COUNTS) -> int:
    """Shard size from the matrix alone (never from the cores, so reruns plan the same jobs).

    The number of shards is the smallest power of two that keeps shards at or below `cells`
    matrix cells (each job's work then outweighs its start-up) and, for matrices of 1000
    genes and a million cells or more, at least two; a power of two so that the shards of a
    step split evenly over 2, 4, 8, ... cores, without a last round where one job runs alone.
    """
    if n_genes < 1000 or n_genes * n_samples < AUTO_SPLIT_CELLS:
        return max(1, n_genes)
    n_shards = 2
    while n_shards * cells < n_genes * n_samples:
        n_shards *= 2
    return -(-n_genes // n_shards)


def shard_bounds(n_genes: int, genes_per_shard: int) -> list[dict]:
    """Contiguous gene ranges; ids zero-padded to one width (at least 4 digits), so name order
    is numeric order however many shards there are."""
    n_shards = max(1, -(-n_genes // genes_per_shard))
    width = max(4, len(str(n_shards - 1)))
    return [
        {
            "id": f"{i:0{width}d}",
            "start": i * genes_per_shard,
            "stop": min(n_genes, (i + 1) * genes_per_shard),
        }
        for i in range(n_shards)
    ]


def write_shards(
    folder: str, feature_id: np.ndarray, arrays: dict[str, np.ndarray], genes_per_shard, cells: int = AUTO_SHARD_COUNTS
) -> list[dict]:
    """Write `folder`/{id}.npz with rows of feature_id and of each (G, ...) array; the plan.

    genes_per_shard : an int or "auto" (auto_genes_per_shard with `cells`). Returns shard_bounds's list.
    """
    size = genes_per_shard
    if size == "auto":
        size = auto_genes_per_shard(*next(iter(arrays.values())).shape, cells)
    shards = shard_bounds(len(feature_id), size)
    for shard in shards:
        rows = slice(shard["start"], shard["stop"])
        write_npz(f"{folder}/{shard['id']}.npz", {"gene_id": feature_id[rows], **{k: a[rows] for k, a in arrays.items()}})
    return shards


def write_block_shards(
    folder: str,
    blocks: Iterable[tuple[np.ndarray, np.ndarray]],
    key: str,
    genes_per_shard,
    cells: int,
    max_rows: int | None = None,
) -> tuple[list[dict], np.ndarray]:
    """`write_shards` for rows that arrive in blocks (ids, (rows, N) values), holding one block
    and one shard at a time, never the matrix. Returns the plan and every feature id in order.

    max_rows : the number of rows, or an upper bound on it (a file's lines). With it, each shard
    is written as soon as its rows have arrived, `genes_per_shard: auto` planning from the bound.
    Without it the rows wait in an unnamed temporary file beside the shards (gone when closed, or
    when the job dies) until their number, and so the plan, is known.
    """
    Path(folder).mkdir(parents=True, exist_ok=True)
    blocks = iter(blocks)
    first = next(blocks, None)
    if first is None:
        raise ValueError("write_block_shards: no blocks")
    blocks = itertools.chain([first], blocks)
    n_columns = np.shape(first[1])[1]
    if max_rows is None:
        return _spilled(folder, blocks, key, genes_per_shard, cells, n_columns)
    size = auto_genes_per_shard(max_rows, n_columns, cells) if genes_per_shard == "auto" else genes_per_shard
    return _as_they_come(folder, blocks, key, size, max_rows, n_columns)


def _as_they_come(folder, blocks, key, size, max_rows, n_columns) -> tuple[list[dict], np.ndarray]:
    """Shards of `size` rows, each written when full (the last with what is left)."""
    width = len(shard_bounds(max(max_rows, 1), size)[0]["id"])  # renamed below if the rows need fewer digits
    values = np.empty((max(1, min(size, max_rows)), n_columns))
    ids, shard_ids, filled, written = [], [], 0, 0
    for block_ids, block in blocks:
        block_ids = np.asarray(block_ids)
        ids.append(block_ids)
        done = 0
        while done < len(block_ids):
            if filled == len(values):  # more rows than max_rows said: room for a whole shard
                values = np.concatenate([values, np.empty((size - len(values), n_columns))])
            take = min(len(values) - filled, len(block_ids) - done)
            values[filled : filled + take] = block[done : done + take]
            shard_ids.append(block_ids[done : done + take])
            filled, done = filled + take, done + take
            if filled == size:
                write_npz(f"{folder}/{written:0{width}d}.npz", {"gene_id": np.concatenate(shard_ids), key: values})
                written, filled, shard_ids = written + 1, 0, []
    if filled:
        write_npz(f"{folder}/{written:0{width}d}.npz", {"gene_id": np.concatenate(shard_ids), key: values[:filled]})
    feature_id = np.concatenate(ids)
    shards = shard_bounds(len(feature_id), size)
    for index, shard in enumerate(shards):
        if f"{index:0{width}d}" != shard["id"]:
            os.replace(f"{folder}/{index:0{width}d}.npz", f"{folder}/{shard['id']}.npz")
    return shards, feature_id


def _spilled(folder, blocks, key, genes_per_shard, cells, n_columns) -> tuple[list[dict], np.ndarray]:
    """Every row through a temporary file, then the shards, once the rows are counted."""
    ids = []
    with tempfile.TemporaryFile(dir=folder) as spill:
        for block_ids, values in blocks:
            spill.write(memoryview(np.ascontiguousarray(values, dtype=float)).cast("B"))
            ids.append(np.asarray(block_ids))
        feature_id = np.concatenate(ids)
        size = auto_genes_per_shard(len(feature_id), n_columns, cells) if genes_per_shard == "auto" else genes_per_shard
        shards = shard_bounds(len(feature_id), size)
        spill.seek(0)
        for shard in shards:
            values = np.empty((shard["stop"] - shard["start"], n_columns))
            spill.readinto(memoryview(values).cast("B"))
            write_npz(f"{folder}/{shard['id']}.npz", {"gene_id": feature_id[shard["start"] : shard["stop"]], key: values})
    return shards, feature_id


@dataclass(frozen=True)
class ShardData:
    """One shard's counts (G, N) with the study's size factors (N,) and sample ids (N,).

    norm_factors : (G, N) normalization factors where the study has them (tximport's length
    offsets, DESeq2 normalizationFactors), else None; xim : the study's moments_xim over its
    non-zero genes where norm_factors are given (DESeq2 momentsDispEstimate), else None.
    """

    gene_id: np.ndarray
    counts: np.ndarray
    size_factors: np.ndarray
    samples: list[str]
    norm_factors: np.ndarray | None = None
    xim: float | None = None

    @property
    def factors(self) -> np.ndarray:
        """What the NB steps divide counts by: (G, N) normalization or (N,) size factors."""
        return self.size_factors if self.norm_factors is None else self.norm_factors


PER_SAMPLE_FIT_ARRAYS = ("cooks",)  # (genes x samples) arrays of fit/{shard}.npz


def load_shard_inputs(shard_path, manifest_path) -> ShardData:
    """Counts of one shard, size factors (exact, from the manifest) and the sample ids."""
    shard = read_npz(shard_path)
    manifest = read_json(manifest_path)
    sf = np.asarray(manifest["size_factors"], dtype=float)
    return ShardData(
        shard["gene_id"], shard["counts"], sf, manifest["samples"], shard.get("norm_factors"),
        manifest.get("moments_xim"),
    )  # fmt: skip


def read_shard_counts(path: str, size_factors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A shard's counts (G, N) and what divides them: its (G, N) normalization factors where
    the study has them, else the study's (N,) size factors."""
    shard = read_npz(path, exclude=("gene_id",))
    return shard["counts"], shard.get("norm_factors", np.asarray(size_factors, dtype=float))


def map_shard_counts(path: str, size_factors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`read_shard_counts` as read-only memory maps (`map_npz`): for `select_pairs` of a few
    rows, which then reads those rows only."""
    shard = map_npz(path, ["counts", "norm_factors"])
    return shard["counts"], shard.get("norm_factors", np.asarray(size_factors, dtype=float))


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


def fit_arrays(analysis: str, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """An nb analysis's arrays named for a fit file: rule fit fits every analysis of one design
    and trend type in one job per shard and writes each one's arrays as `<analysis>.<array>`."""
    return {f"{analysis}.{key}": value for key, value in arrays.items()}


def read_fit(
    path: str, analysis: str, keys: list[str] | None = None, exclude: tuple[str, ...] = ()
) -> dict[str, np.ndarray]:
    """One analysis's arrays of a fit file (`fit_arrays`), under their own names, with gene_id;
    keys : only these (default all of the analysis's); exclude : arrays not to read."""
    prefix = f"{analysis}."
    with np.load(path, allow_pickle=False) as data:
        held = [name[len(prefix) :] for name in data.files if name.startswith(prefix)]
    missing = [key for key in keys or () if key not in held]
    if not held or missing:
        raise ValueError(f"{path}: no arrays {missing or ''} of analysis {analysis!r}; rerun its fit job")
    wanted = [key for key in (held if keys is None else keys) if key not in exclude]
    arrays = read_npz(path, [prefix + key for key in wanted])
    return {"gene_id": arrays["gene_id"], **{key: arrays[prefix + key] for key in wanted}}


def map_fit_array(path: str, analysis: str, key: str) -> np.ndarray:
    """One array of an analysis in a fit file (`fit_arrays`) as a read-only memory map (`map_npz`):
    the (genes x samples) Cook's distances of a shard, read as they are used, not copied first."""
    name = f"{analysis}.{key}"
    arrays = map_npz(path, [name])
    if name not in arrays:
        raise ValueError(f"{path}: no array {key!r} of analysis {analysis!r}; rerun its fit job")
    return arrays[name]


def concat_fits(paths: list[str], analysis: str, exclude: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """`concat_npz` of one analysis's arrays in the fit files of every shard."""
    return concat_shards([read_fit(p, analysis, exclude=exclude) for p in paths])


def select_rows(blocks: Iterable[np.ndarray], index: np.ndarray, n_samples: int) -> np.ndarray:
    """Rows `index` (positions in the concatenation of `blocks`) in the order given, (K, N) float."""
    index = np.asarray(index, dtype=int)
    out = np.zeros((index.size, n_samples))
    start = 0
    for block in blocks:
        stop = start + block.shape[0]
        inside = np.flatnonzero((index >= start) & (index < stop))
        out[inside] = np.asarray(block, dtype=float)[index[inside] - start]
        start = stop
    return out


def select_pairs(blocks: Iterable[tuple[np.ndarray, np.ndarray]], index: np.ndarray):
    """Rows `index` of the concatenated (counts, factors) blocks: (K, N) counts and the factors
    ((N,) size factors as they are, or the (K, N) rows of normalization factors)."""
    counts, factors, vector = [], [], None
    for block, f in blocks:
        counts.append(np.asarray(block, dtype=float))
        vector = np.ndim(f) == 1
        factors.append(f if vector else np.asarray(f, dtype=float))
    if vector or vector is None:
        n = counts[0].shape[1] if counts else 0
        return select_rows(counts, index, n), (factors[0] if factors else np.ones(n))
    n = counts[0].shape[1]
    return select_rows(counts, index, n), select_rows(factors, index, n)
