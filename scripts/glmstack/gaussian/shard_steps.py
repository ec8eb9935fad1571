"""limma's and voom's per-shard steps: least squares for every feature, voom's two passes.

Apart from glmstack.gaussian.steps (the genome-wide moderation and tables) so that the shard
jobs import numpy and nothing heavier.
"""

from __future__ import annotations

import numpy as np

from .lmfit import LinearFit, lm_fit
from .voom import (
    Trend,
    effective_library_sizes,
    log_cpm,
    mean_variance,
    mean_variance_trend,
    observation_weights,
)


def fit_step(values: np.ndarray, design: np.ndarray, weights: np.ndarray | None = None) -> LinearFit:
    """Per shard: least squares for every feature (limma lmFit)."""
    return lm_fit(values, design, weights)


def voom_library_sizes(lib_size: np.ndarray, tmm_factor: np.ndarray, normalization: str) -> np.ndarray:
    """(N,) voom's effective library sizes: the column sums, times the TMM factors where asked."""
    return effective_library_sizes(lib_size, tmm_factor if normalization == "tmm" else None)


def voom_points_step(counts: np.ndarray, design: np.ndarray, lib_size: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per shard, voom's first pass: the unweighted fit of log-CPM and each gene's point of the
    mean-variance trend (mean log count, sqrt sd), each (G,); NaN for genes without counts."""
    fit = lm_fit(log_cpm(counts, lib_size), design)
    return mean_variance(fit, lib_size, counts)


def voom_trend_step(mean_log_count: np.ndarray, root_sd: np.ndarray) -> Trend:
    """Genome-wide: voom's lowess trend of sqrt sd on mean log count over every gene."""
    return mean_variance_trend(mean_log_count, root_sd)


def voom_fit_step(
    counts: np.ndarray, design: np.ndarray, lib_size: np.ndarray, trend_x: np.ndarray, trend_y: np.ndarray
) -> LinearFit:
    """Per shard, after the genome-wide trend: voom's weights and the weighted least squares.

    Genes without a count in any sample are not fitted (all NaN: no test, no part in the prior),
    as DESeq2 leaves them untested and as limma users filter them before voom.
    """
    values = log_cpm(counts, lib_size)
    weights = observation_weights(lm_fit(values, design), design, lib_size, trend_x, trend_y)
    values[~(counts.sum(axis=1) > 0)] = np.nan
    return lm_fit(values, design, weights)
