"""Contrasts of the fitted coefficients (limma contrasts.fit; Smyth 2004 sec. 2).

For a contrast matrix C (P, K) the estimates are beta_g' C. Their unscaled standard deviations
follow limma's documented shortcut: the coefficients' correlation matrix is taken from the
design (the unweighted (X'X)^-1 of all samples) for every feature, combined with the feature's own
unscaled standard deviations, so the design is not refactorised per feature. This is exact
for features without missing values or weights, and for any feature when the coefficients being
combined are uncorrelated; limma documents it as approximate otherwise. `exact=True` uses each
feature's own (X'WX)^-1 instead.

An inestimable coefficient (NaN) with a non-zero weight makes the contrast NaN; with weight 0
it does not matter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .lmfit import LinearFit, estimable_columns


@dataclass(frozen=True)
class ContrastFit:
    """coefficients, stdev_unscaled : (G, K); correlation : (K, K) shared by every feature
    (limma's cov.coefficients scaled to a correlation), used by the moderated F."""

    coefficients: np.ndarray
    stdev_unscaled: np.ndarray
    correlation: np.ndarray


def design_covariance(design: np.ndarray) -> np.ndarray:
    """(P, P) unscaled covariance (X'X)^-1 of the design (limma cov.coefficients); NaN for
    inestimable columns."""
    p = design.shape[1]
    keep = estimable_columns(design)
    cov = np.full((p, p), np.nan)
    xk = design[:, keep]
    cov[np.ix_(keep, keep)] = np.linalg.inv(xk.T @ xk)
    return cov


def _cov_to_cor(cov: np.ndarray) -> np.ndarray:
    sd = np.sqrt(np.diag(cov))
    with np.errstate(invalid="ignore", divide="ignore"):
        return cov / np.outer(sd, sd)


def contrast_fit(fit: LinearFit, design: np.ndarray, contrasts: np.ndarray, exact: bool = False) -> ContrastFit:
    """Estimates and unscaled standard deviations of the contrasts for every feature.

    Parameters
    ----------
    fit : LinearFit of G features on `design`.
    design : (N, P) the design of the fit (its correlation is limma's cov.coefficients).
    contrasts : (P,) or (P, K) contrast weights.
    exact : use each feature's own (X'WX)^-1 instead of limma's shared correlation.

    Returns
    -------
    ContrastFit with (G, K) arrays and the (K, K) correlation of the contrasts.
    """
    c = np.asarray(contrasts, dtype=float)
    if c.ndim == 1:
        c = c[:, None]
    beta = fit.coefficients
    used = c != 0  # (P, K)
    bad = np.isnan(beta)[:, :, None] & used[None]  # (G, P, K)
    nan_out = bad.any(axis=1)
    beta0 = np.where(np.isnan(beta), 0.0, beta)
    estimate = beta0 @ c
    design_cov = design_covariance(design)
    cor = _cov_to_cor(design_cov)
    cor0 = np.where(np.isnan(cor), 0.0, cor)
    if exact:
        cov = np.where(np.isnan(fit.cov_unscaled), 0.0, fit.cov_unscaled)
        var = np.einsum("pk,gpq,qk->gk", c, cov, c)
    else:
        u = np.where(np.isnan(fit.stdev_unscaled), 0.0, fit.stdev_unscaled)[:, :, None] * c[None]  # (G, P, K)
        var = np.einsum("gpk,pq,gqk->gk", u, cor0, u)
    with np.errstate(invalid="ignore"):
        stdev = np.sqrt(np.maximum(var, 0.0))
    estimate[nan_out] = np.nan
    stdev[nan_out] = np.nan
    contrast_cov = c.T @ np.where(np.isnan(design_cov), 0.0, design_cov) @ c
    return ContrastFit(estimate, stdev, _cov_to_cor(contrast_cov))


def dropped_contrasts(design: np.ndarray, reduced: np.ndarray) -> np.ndarray:
    """(P, P - P0) contrasts whose joint nullity is the reduced model (for the moderated F).

    When the reduced design's columns are columns of the full design, these are the unit
    vectors of the full design's other columns (limma's topTable(coef = those columns)); else an
    orthonormal basis of the null space of A', where reduced = design A.
    """
    p = design.shape[1]
    same = [next((j for j in range(p) if np.array_equal(design[:, j], reduced[:, i])), None) for i in range(reduced.shape[1])]
    if all(j is not None for j in same):
        drop = [j for j in range(p) if j not in same]
        return np.eye(p)[:, drop]
    a, *_ = np.linalg.lstsq(design, reduced, rcond=None)  # (P, P0)
    u, s, _ = np.linalg.svd(a, full_matrices=True)
    rank = int(np.sum(s > s.max() * 1e-10)) if s.size else 0
    return u[:, rank:]
