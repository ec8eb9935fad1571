"""Wald tests of coefficients and contrasts (DESeq2 nbinomWaldTest / results)."""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

LOG2E = 1.0 / np.log(2.0)

ALT_HYPOTHESES = ("greaterAbs", "lessAbs", "greater", "less")


def contrast_estimate(beta: np.ndarray, covariance: np.ndarray, contrast: np.ndarray):
    """Log2 fold change and its standard error for a numeric contrast.

    Parameters
    ----------
    beta : (G, P) natural-log coefficients; covariance : (G, P, P); contrast : (P,).

    Returns
    -------
    lfc, lfc_se : (G,) on the log2 scale.
    """
    lfc = np.einsum("gp,p->g", beta, contrast) * LOG2E
    var = np.einsum("p,gpq,q->g", contrast, covariance, contrast)
    return lfc, np.sqrt(np.maximum(var, 0.0)) * LOG2E


def wald_test(lfc: np.ndarray, se: np.ndarray, lfc_threshold: float = 0.0, alt: str = "greaterAbs"):
    """Wald statistic and normal p-value, optionally against a fold-change threshold.

    With threshold T (DESeq2 results(lfcThreshold, altHypothesis)):
    greaterAbs: |lfc| > T, two-sided, statistic sign(lfc) max((|lfc| - T)/se, 0);
    lessAbs: |lfc| < T, the larger of the two one-sided p-values;
    greater: lfc > T; less: lfc < -T.

    Returns
    -------
    stat, pvalue : (G,).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        if lfc_threshold == 0 and alt == "greaterAbs":
            stat = lfc / se
            return stat, 2.0 * ndtr(-np.abs(stat))
        t = lfc_threshold
        if alt == "greaterAbs":
            z = (np.abs(lfc) - t) / se
            return np.sign(lfc) * np.maximum(z, 0.0), np.minimum(1.0, 2.0 * ndtr(-z))
        if alt == "lessAbs":
            above, below = (t - lfc) / se, (lfc + t) / se
            stat = np.minimum(np.maximum(above, 0.0), np.maximum(below, 0.0))
            return stat, np.maximum(ndtr(-above), ndtr(-below))
        if alt == "greater":
            z = (lfc - t) / se
            return np.maximum(z, 0.0), ndtr(-z)
        if alt == "less":
            z = (lfc + t) / se
            return np.minimum(z, 0.0), ndtr(z)
    raise ValueError(f"unknown alt_hypothesis {alt!r}; expected one of {ALT_HYPOTHESES}")
