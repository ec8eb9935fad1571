"""voom: log-CPM values and precision weights from the mean-variance trend (Law, Chen, Shi & Smyth
2014, Genome Biology 15:R29; limma voom with its documented defaults).

Steps of Law et al. (Methods, "voom: variance modelling at the observational level"):
1. log-CPM y_gi = log2((r_gi + 0.5) / (R_i + 1) * 1e6), R_i the library size (times the TMM
   factor where one is given).
2. An unweighted linear model per gene (lmfit) gives the residual sd s_g and the average log-CPM;
   the mean log count is Amean_g + mean_i log2(R_i + 1) - log2(1e6).
3. A lowess curve (R's lowess, span 0.5) of sqrt(s_g) on the mean log count.
4. Each observation's fitted log count, log2(mu_gi (R_i + 1) / 1e6) with mu_gi the fitted log-CPM,
   is mapped through the curve, interpolated linearly and held constant beyond its ends
   (R's approxfun(rule = 2), tied x values averaged); the weight is curve^-4.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..constants import VOOM_LOWESS_SPAN, VOOM_PRIOR_COUNT
from ..rmath.lowess import r_lowess
from .lmfit import LinearFit, lm_fit


@dataclass(frozen=True)
class Voom:
    """values : (G, N) log-CPM; weights : (G, N); lib_size : (N,) effective library sizes;
    trend_x, trend_y : the lowess curve (sorted mean log count, sqrt sd) for plots."""

    values: np.ndarray
    weights: np.ndarray
    lib_size: np.ndarray
    trend_x: np.ndarray
    trend_y: np.ndarray


def log_cpm(counts: np.ndarray, lib_size: np.ndarray) -> np.ndarray:
    """(G, N) log2((counts + 0.5) / (lib_size + 1) * 1e6)."""
    return np.log2((counts + VOOM_PRIOR_COUNT) / (lib_size + 1.0) * 1e6)


def _approx_rule2(x: np.ndarray, y: np.ndarray, at: np.ndarray) -> np.ndarray:
    """R's approxfun(x, y, rule = 2, ties = mean) at `at`; x sorted."""
    ux, inverse = np.unique(x, return_inverse=True)
    if ux.size < x.size:
        y = np.bincount(inverse, weights=y) / np.bincount(inverse)
    return np.interp(at, ux, y)


def effective_library_sizes(lib_size: np.ndarray, norm_factors: np.ndarray | None = None) -> np.ndarray:
    """(N,) library sizes times the normalisation factors (edgeR's effective library size)."""
    lib = np.asarray(lib_size, dtype=float)
    return lib if norm_factors is None else lib * np.asarray(norm_factors, dtype=float)


def mean_variance(fit: LinearFit, lib_size: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per gene, the points of voom's trend: (mean log count, sqrt residual sd), each (G,).

    fit : the unweighted least-squares fit of the log-CPM values; lib_size : (N,) effective
    library sizes. Genes with no count in any sample get NaN: they stay out of the trend, as in
    limma's voom (adding all-zero genes changes no other gene's weights; checked with limma 3.54).
    """
    mean_log_count = fit.amean + np.mean(np.log2(lib_size + 1.0)) - np.log2(1e6)
    root_sd = np.sqrt(fit.sigma)
    usable = np.isfinite(root_sd) & (np.asarray(counts).sum(axis=1) > 0)
    return np.where(usable, mean_log_count, np.nan), np.where(usable, root_sd, np.nan)


@dataclass(frozen=True)
class Trend:
    """voom's mean-variance trend: index (K,) of the genes on it, in order of x; x (K,) their
    mean log counts (sorted); y (K,) R's lowess of their sqrt residual sd."""

    index: np.ndarray
    x: np.ndarray
    y: np.ndarray


def mean_variance_trend(mean_log_count: np.ndarray, root_sd: np.ndarray, span: float = VOOM_LOWESS_SPAN) -> Trend:
    """voom's trend over every gene (genome-wide: all genes in input order; NaN points left out).

    The sort is stable, so tied x values keep input order whatever the sharding.
    """
    ok = np.flatnonzero(np.isfinite(mean_log_count) & np.isfinite(root_sd))
    index = ok[np.argsort(mean_log_count[ok], kind="stable")]
    x = mean_log_count[index]
    return Trend(index, x, r_lowess(x, root_sd[index], span))


def observation_weights(
    fit: LinearFit, design: np.ndarray, lib_size: np.ndarray, trend_x: np.ndarray, trend_y: np.ndarray
) -> np.ndarray:
    """(G, N) voom precision weights: the trend at each observation's fitted log count, to the power -4.

    fit : the unweighted fit of the log-CPM values (inestimable coefficients count as 0).
    """
    beta = np.where(np.isnan(fit.coefficients), 0.0, fit.coefficients)
    fitted_log_count = np.log2(1e-6 * 2.0 ** (beta @ design.T) * (lib_size + 1.0))
    return 1.0 / _approx_rule2(trend_x, trend_y, fitted_log_count) ** 4


def voom(
    counts: np.ndarray,
    design: np.ndarray,
    lib_size: np.ndarray | None = None,
    norm_factors: np.ndarray | None = None,
    span: float = VOOM_LOWESS_SPAN,
) -> Voom:
    """log-CPM and voom precision weights for every gene, in one process (the workflow runs the
    same steps sharded: mean_variance per shard, mean_variance_trend genome-wide, then
    observation_weights per shard).

    Parameters
    ----------
    counts : (G, N) counts.
    design : (N, P) model matrix.
    lib_size : (N,) library sizes, default the column sums; norm_factors : (N,) (e.g. TMM)
        multiplied in.
    span : lowess span (voom's default 0.5).
    """
    counts = np.asarray(counts, dtype=float)
    lib = effective_library_sizes(counts.sum(axis=0) if lib_size is None else lib_size, norm_factors)
    y = log_cpm(counts, lib)
    fit = lm_fit(y, design)
    trend = mean_variance_trend(*mean_variance(fit, lib, counts), span)
    return Voom(y, observation_weights(fit, design, lib, trend.x, trend.y), lib, trend.x, trend.y)
