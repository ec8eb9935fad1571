"""Independent filtering on the mean of normalised counts, then Benjamini-Hochberg
(DESeq2 pvalueAdjustment with genefilter's filtered_p)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..constants import (
    FILTER_LOWESS_FRAC,
    FILTER_MIN_REJECTIONS,
    FILTER_THETA_POINTS,
    FILTER_UPPER_QUANTILE,
)
from ..rmath.lowess import r_lowess
from ..rmath.quantile import quantile_type7


def bh_adjust(pvalues: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values; NaN stays NaN and does not count (R p.adjust).

    R's three steps (n / i times the i-th smallest p, the running minimum from the largest, at
    most 1) rather than scipy.stats.false_discovery_control, whose numbers they equal bit for bit
    (tests/unit/test_fdr.py): importing scipy.stats costs every table job ~0.3 s.
    """
    out = np.full(pvalues.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(pvalues))
    n = ok.size
    if n:
        order = np.argsort(pvalues[ok], kind="stable")
        descending = (n / np.arange(n, 0, -1)) * pvalues[ok][order][::-1]  # ranks n, n - 1, ..., 1
        out[ok[order]] = np.minimum(np.minimum.accumulate(descending)[::-1], 1.0)
    return out


@dataclass(frozen=True)
class FilterResult:
    """padj (G,); the chosen quantile `theta` and its baseMean `threshold`."""

    padj: np.ndarray
    theta: float
    threshold: float


def independent_filtering(base_mean: np.ndarray, pvalues: np.ndarray, alpha: float) -> FilterResult:
    """Choose the baseMean quantile that maximises BH rejections at `alpha` (DESeq2's rule).

    For 50 quantiles theta from the share of zero means up to 0.95 (or 1), adjust the
    p-values of genes with baseMean >= the quantile; smooth rejections against theta by
    lowess (f = 1/5) and take the first theta whose rejections exceed the smoothed maximum
    minus the root mean squared residual. With at most 10 rejections anywhere, no filtering.
    """
    lower = float(np.mean(base_mean == 0))
    upper = FILTER_UPPER_QUANTILE if lower < FILTER_UPPER_QUANTILE else 1.0
    thetas = np.linspace(lower, upper, FILTER_THETA_POINTS)
    cutoffs = quantile_type7(base_mean, thetas)
    padj_all = np.full((base_mean.size, thetas.size), np.nan)
    for j, cutoff in enumerate(cutoffs):
        use = base_mean >= cutoff
        padj_all[use, j] = bh_adjust(pvalues[use])
    with np.errstate(invalid="ignore"):
        rejections = np.sum(padj_all < alpha, axis=0)
    if rejections.max() <= FILTER_MIN_REJECTIONS:
        j = 0
    else:
        fitted = r_lowess(thetas, rejections.astype(float), FILTER_LOWESS_FRAC)
        positive = rejections > 0
        residual = rejections[positive] - fitted[positive]
        threshold = fitted.max() - np.sqrt(np.mean(residual**2))
        above = np.flatnonzero(rejections > threshold)
        j = int(above[0]) if above.size else 0
    return FilterResult(
        padj=padj_all[:, j],
        theta=float(thetas[j]),
        threshold=float(cutoffs[j]),
    )
