"""Counts as predictors: the transform of a reverse analysis on `counts:` (values are used as they are).

vst : DESeq2's blind variance-stabilising transformation (`vst(dds, blind = TRUE)`): its trend
    comes from the whole study, so `transform_summary` gathers it once (the plan job) and
    every shard applies the same transform.
log_cpm : voom's log2((count + 0.5) / (library size + 1) * 1e6), library sizes = column sums
    of the raw counts of the whole study (Law et al. 2014).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

import numpy as np

from ..gaussian.voom import log_cpm
from ..io.shards import select_rows
from ..nb import vst
from ..nb.size_factors import base_means
from ..nb.trend import DispersionTrend


def transform_summary(
    shards: Callable[[], Iterable[np.ndarray]], size_factors: np.ndarray, transform: str
) -> dict[str, np.ndarray]:
    """What every shard needs to transform its counts, from all shards (read twice for vst).

    Parameters
    ----------
    shards : called once or twice; yields the (G_i, N) raw count blocks in input order.
    size_factors : (N,) the study's; transform : "vst" or "log_cpm".

    Returns
    -------
    Arrays for the plan's npz: `transform`; vst: `size_factors`, `vst_trend` (JSON text),
    `base_mean` (G,), `max_normalized`; log_cpm: `lib_size` (N,).
    """
    size_factors = np.asarray(size_factors, dtype=float)
    n_samples = size_factors.size
    if transform == "log_cpm":
        lib_size = np.zeros(n_samples)
        for block in shards():
            lib_size += np.asarray(block, dtype=float).sum(axis=0)
        return {"transform": np.array(transform), "lib_size": lib_size}
    means, max_normalized = [], 0.0
    for block in shards():
        block = np.asarray(block, dtype=float)
        means.append(base_means(block, size_factors))
        if block.size:
            max_normalized = max(max_normalized, float(np.max(block / size_factors)))
    base_mean = np.concatenate(means) if means else np.zeros(0)
    subset = vst.trend_subset(base_mean)
    trend = vst.vst_trend(select_rows(shards(), subset, n_samples), size_factors)
    return {
        "transform": np.array(transform),
        "size_factors": size_factors,
        "vst_trend": np.array(json.dumps(trend.to_dict())),
        "base_mean": base_mean,
        "max_normalized": np.array(max_normalized),
    }


def transform_counts(counts: np.ndarray, summary: dict[str, np.ndarray]) -> np.ndarray:
    """(G, N) raw counts -> (G, N) values with the study-wide transform of `transform_summary`."""
    counts = np.asarray(counts, dtype=float)
    if str(summary["transform"]) == "log_cpm":
        return log_cpm(counts, summary["lib_size"])
    trend = DispersionTrend.from_dict(json.loads(str(summary["vst_trend"])))
    stabilizer = vst.make_stabilizer(trend, summary["size_factors"], summary["base_mean"], float(summary["max_normalized"]))
    return stabilizer.transform(counts)
