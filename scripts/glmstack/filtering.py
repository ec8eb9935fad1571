"""Independent filtering on the mean of normalised counts, then Benjamini-Hochberg
(DESeq2 pvalueAdjustment with genefilter's filtered_p)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from statsmodels.nonparametric.smoothers_lowess import lowess

from .constants import (
    FILTER_LOWESS_FRAC,
    FILTER_MIN_REJECTIONS,
    FILTER_THETA_POINTS,
    FILTER_UPPER_QUANTILE,
)


def bh_adjust(pvalues: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values; NaN stays NaN and does not count (R p.adjust)."""
    out = np.full(pvalues.shape, np.nan)
    ok = ~np.isnan(pvalues)
    p = pvalues[ok]
    n = p.size
    if n == 0:
        return out
    order = np.argsort(p)[::-1]
    ranks = np.arange(n, 0, -1)
    adjusted = np.minimum.accumulate(n / ranks * p[order])
    res = np.empty(n)
    res[order] = np.minimum(adjusted, 1.0)
    out[ok] = res
    return out


def r_lowess(x: np.ndarray, y: np.ndarray, frac: float, iterations: int = 3) -> np.ndarray:
    """R's lowess(x, y, f=frac): statsmodels' lowess with R's early stop.

    R stops the robustness iterations when the residual MAD is effectively zero (below
    1e-7 of the mean absolute residual) and returns the fit it has. The rejection curves
    of independent filtering are often flat, so this is the usual case there; statsmodels
    would instead give every non-zero residual weight zero.
    """
    delta = 0.01 * (np.max(x) - np.min(x))
    for k in range(iterations + 1):
        fitted = lowess(y, x, frac=frac, it=k, delta=delta, return_sorted=False)
        if k == iterations:
            break
        residual = np.abs(y - fitted)
        if 6.0 * np.median(residual) < 1e-7 * np.mean(residual):
            break
    return fitted


@dataclass(frozen=True)
class FilterResult:
    """padj (G,); the chosen quantile `theta`, its baseMean `threshold`, and the curve."""

    padj: np.ndarray
    theta: float
    threshold: float
    thetas: np.ndarray
    rejections: np.ndarray


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
    cutoffs = np.quantile(base_mean, thetas)
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
        thetas=thetas,
        rejections=rejections,
    )
