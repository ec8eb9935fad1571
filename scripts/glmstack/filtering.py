"""Independent filtering on the mean of normalised counts, then Benjamini-Hochberg
(DESeq2 pvalueAdjustment with genefilter's filtered_p)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .splines import quantile_type7
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


def _local_linear(x, y, xs, nleft, nright, robustness):
    """Weighted local line at xs over the window nleft..nright (and ties to its right).

    Tricube weights in distance / h, h the larger distance to the window ends; points
    beyond 0.999 h get no weight, points within 0.001 h full weight; the slope is dropped
    when the weighted spread of x is below 0.001 of the range. Returns None if no weight.
    """
    n = x.size
    h = max(xs - x[nleft], x[nright] - xs)
    j = nleft
    w = np.zeros(n)
    while j < n:
        r = abs(x[j] - xs)
        if r <= 0.999 * h:
            w[j] = 1.0 if r <= 0.001 * h else (1.0 - (r / h) ** 3) ** 3
            if robustness is not None:
                w[j] *= robustness[j]
        elif x[j] > xs:
            break
        j += 1
    window = slice(nleft, j)
    total = w[window].sum()
    if total <= 0.0:
        return None
    weights = w[window] / total
    xw = x[window]
    if h > 0.0:
        centre = np.sum(weights * xw)
        spread = np.sum(weights * (xw - centre) ** 2)
        if np.sqrt(spread) > 0.001 * (x[-1] - x[0]):
            weights = weights * ((xs - centre) / spread * (xw - centre) + 1.0)
    return float(np.sum(weights * y[window]))


def r_lowess(x: np.ndarray, y: np.ndarray, frac: float, iterations: int = 3) -> np.ndarray:
    """R's lowess(x, y, f=frac, iter=3) (Cleveland's algorithm as R implements it).

    x must be sorted. statsmodels' lowess differs from R's in its neighbourhood weights,
    its robustness weights and its handling of a zero residual MAD (R stops iterating),
    and independent filtering's choice of threshold turns on this curve, so the steps are
    written out here: nearest-neighbour windows of max(2, floor(f n)) points, local lines
    with tricube weights, linear interpolation over points within delta = 1 % of the range,
    then up to `iterations` refits with bisquare robustness weights (6 MADs).
    """
    n = x.size
    span = max(2, min(n, int(frac * n + 1e-7)))
    delta = 0.01 * (x[-1] - x[0])
    robustness = None
    fitted = np.empty(n)
    for step in range(iterations + 1):
        nleft, nright, last, i = 0, span - 1, -1, 0
        while True:
            if nright < n - 1 and x[i] - x[nleft] > x[nright + 1] - x[i]:
                nleft += 1
                nright += 1
                continue
            value = _local_linear(x, y, x[i], nleft, nright, robustness)
            fitted[i] = y[i] if value is None else value
            if last < i - 1:
                between = np.arange(last + 1, i)
                share = (x[between] - x[last]) / (x[i] - x[last])
                fitted[between] = share * fitted[i] + (1.0 - share) * fitted[last]
            last = i
            cut = x[last] + delta
            i = last + 1
            while i < n and x[i] <= cut:
                if x[i] == x[last]:
                    fitted[i] = fitted[last]
                    last = i
                i += 1
            i = max(last + 1, i - 1)
            if last >= n - 1:
                break
        residual = np.abs(y - fitted)
        if step == iterations:
            break
        cmad = 6.0 * np.median(residual)
        if cmad < 1e-7 * residual.mean():
            break
        robustness = np.where(
            residual <= 0.001 * cmad, 1.0, np.where(residual <= 0.999 * cmad, (1.0 - (residual / cmad) ** 2) ** 2, 0.0)
        )
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
        thetas=thetas,
        rejections=rejections,
    )
