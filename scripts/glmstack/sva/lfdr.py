"""Empirical-Bayes local false discovery rates of p-values (Efron et al. 2001; Storey 2002 pi0)."""

from __future__ import annotations

import numpy as np
from scipy import interpolate, stats

from ..constants import SVA_KDE_CUT, SVA_KDE_GRID, SVA_LFDR_ADJUST, SVA_LFDR_EPS, SVA_LFDR_LAMBDA

IQR_TO_SD = 1.34  # Silverman's rule (R bw.nrd0): IQR / 1.34 estimates the sd of a normal
NRD0_FACTOR = 0.9  # R bw.nrd0: 0.9 min(sd, IQR / 1.34) n^(-1/5)
BIN_EXTENSION = 4.0  # R density(): the bins reach 4 bandwidths beyond the grid


def bandwidth_nrd0(x: np.ndarray) -> float:
    """Silverman's rule of thumb, R's bw.nrd0: 0.9 min(sd, IQR/1.34) n^(-1/5)."""
    sd = float(np.std(x, ddof=1))
    q75, q25 = np.quantile(x, [0.75, 0.25])
    lo = min(sd, (q75 - q25) / IQR_TO_SD) or sd or abs(float(x[0])) or 1.0
    return NRD0_FACTOR * lo * len(x) ** -0.2


def kernel_density(x: np.ndarray, adjust: float) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian kernel density of x on R density()'s grid (512 points, 3 bandwidths beyond the
    data), from linearly binned data (2 x 512 bins reaching 4 bandwidths beyond the grid)."""
    bw = bandwidth_nrd0(x) * adjust
    lo, hi = x.min() - SVA_KDE_CUT * bw, x.max() + SVA_KDE_CUT * bw
    grid = np.linspace(lo, hi, SVA_KDE_GRID)
    bins = np.linspace(lo - BIN_EXTENSION * bw, hi + BIN_EXTENSION * bw, 2 * SVA_KDE_GRID)
    step = bins[1] - bins[0]
    pos = (x - bins[0]) / step
    left = np.clip(np.floor(pos).astype(int), 0, bins.size - 2)
    frac = pos - left
    weights = np.bincount(left, 1 - frac, bins.size) + np.bincount(left + 1, frac, bins.size)
    weights /= len(x)
    density = stats.norm.pdf((grid[:, None] - bins[None, :]) / bw) @ weights / bw
    return grid, density


def edge_lfdr(p: np.ndarray) -> np.ndarray:
    """Local false discovery rate of each p-value (the model of sva's edge.lfdr, probit scale).

    lfdr(p) = pi0 phi(z) / f(z), z = qnorm(p) (p clipped to [1e-8, 1 - 1e-8]), pi0 =
    min(1, mean(p >= 0.8) / 0.2), f a Gaussian kernel density of z (bandwidth 1.5 x
    Silverman's) interpolated by a cubic spline; capped at 1 and made non-decreasing in p.

    Parameters
    ----------
    p : (G,) p-values.

    Returns
    -------
    (G,) local false discovery rates in [0, 1].
    """
    p = np.asarray(p, dtype=float)
    pi0 = min(1.0, float(np.mean(p >= SVA_LFDR_LAMBDA)) / (1 - SVA_LFDR_LAMBDA))
    z = stats.norm.ppf(np.clip(p, SVA_LFDR_EPS, 1 - SVA_LFDR_EPS))
    grid, density = kernel_density(z, SVA_LFDR_ADJUST)
    fitted = interpolate.CubicSpline(grid, density)(z)
    with np.errstate(divide="ignore"):
        lfdr = np.minimum(pi0 * stats.norm.pdf(z) / np.maximum(fitted, 0), 1.0)
    order = np.argsort(p, kind="stable")
    out = np.empty_like(lfdr)
    out[order] = np.maximum.accumulate(lfdr[order])
    return out
