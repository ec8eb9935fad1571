"""The prior of the residual variances and the posterior variances (limma squeezeVar/fitFDist).

Smyth (2004), sec. 3 and 6.2: given sigma_g^2, s_g^2 ~ sigma_g^2 chi2_{d_g} / d_g and
1/sigma_g^2 ~ chi2_{d0} / (d0 s0^2), s_g^2 ~ s0^2 F(d_g, d0). The hyperparameters come from the
first two moments of z_g = log s_g^2 (eqs. 17-19 of the 2009 corrected preprint):
  e_g = z_g - digamma(d_g/2) + log(d_g/2),  mean(e) = log s0^2 - digamma(d0/2) + log(d0/2),
  var(e) - mean(trigamma(d_g/2)) = trigamma(d0/2),
solved by inverting trigamma (Newton iteration of the paper's appendix). A non-positive excess
variance means d0 = Inf (no variation of the true variances) and s0^2 = mean(s^2) (with a covariate: exp of the trend of e;
both limma's values, found by probing limma 3.54).
The posterior variance (eq. 10) is s2_post = (d0 s0^2 + d s^2) / (d0 + d); s2_post = s0^2 where
d0 = Inf or d = 0.

Only features with d > 0 and a finite s^2 inform the prior. Exact zeros would give log 0: as limma
documents ("zero sample variances ... offset away from zero"), variances below 1e-5 times the
median are raised to that value before the logarithm (checked against limma 3.54 by probing).

With a covariate (limma-trend, Phipson et al. 2016 sec. 3.2 / limma's trend=TRUE), log s0^2
depends on it: e is regressed on a natural cubic spline basis of the covariate (R's
ns(covariate, df, intercept = TRUE)) and the residuals replace e - mean(e), their variance being
corrected for the spline's degrees of freedom.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy.special import digamma, polygamma

from ..constants import LIMMA_TRIGAMMA_INV_TOL, LIMMA_ZERO_VAR_SHARE
from ..design.splines import SplineBasis, ns

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prior:
    """Scaled inverse chi-square prior of the variances.

    df_prior : (G,) d0 (the same value repeated unless robust); may be inf.
    s2_prior : (G,) s0^2 (constant unless a covariate was given).
    """

    df_prior: np.ndarray
    s2_prior: np.ndarray


def trigamma(x: np.ndarray) -> np.ndarray:
    """The trigamma function psi'(x)."""
    return polygamma(1, x)


def trigamma_inverse(x: np.ndarray) -> np.ndarray:
    """y with trigamma(y) = x, elementwise (Smyth 2004's Newton iteration on 1/trigamma).

    Starts at 0.5 + 1/x; trigamma is convex and decreasing, so the iteration on 1/trigamma(y),
    which is nearly linear in y, converges monotonically. x > 1e7 -> 1/sqrt(x); x < 1e-6 -> 1/x.
    """
    x = np.asarray(x, dtype=float)
    out = np.full(x.shape, np.nan)
    big = x > 1e7
    small = x < 1e-6
    mid = ~big & ~small & np.isfinite(x) & (x > 0)
    out[big] = 1.0 / np.sqrt(x[big])
    out[small] = 1.0 / x[small]
    y = 0.5 + 1.0 / x[mid]
    target = x[mid]
    for _ in range(50):
        tri = trigamma(y)
        step = tri * (1.0 - tri / target) / polygamma(2, y)
        y = y + step
        if np.all(-step / y < LIMMA_TRIGAMMA_INV_TOL):
            break
    out[mid] = y
    return out


def _offset_small(s2: np.ndarray) -> np.ndarray:
    """Variances raised to at least 1e-5 of their median (of 1 when the median is 0), as limma."""
    median = np.median(s2)
    if median == 0:
        log.warning("more than half of the residual variances are zero; the prior uses an offset of 1e-5")
        median = 1.0
    return np.maximum(s2, LIMMA_ZERO_VAR_SHARE * median)


def fit_prior(s2: np.ndarray, df: np.ndarray, covariate: np.ndarray | None = None) -> Prior:
    """Method-of-moments prior (d0, s0^2) from the variances (limma fitFDist; Smyth 2004 sec. 6.2).

    Parameters
    ----------
    s2 : (G,) residual variances sigma^2; NaN where not available.
    df : (G,) residual degrees of freedom.
    covariate : optional (G,) covariate of log s0^2 (limma-trend: Amean).

    Returns
    -------
    Prior with (G,) arrays. No usable feature -> NaN; one -> d0 = 0, s0^2 = its s^2.
    """
    s2 = np.asarray(s2, dtype=float)
    df = np.asarray(df, dtype=float)
    g = s2.shape[0]
    ok = np.isfinite(s2) & np.isfinite(df) & (df > 1e-15)
    if covariate is not None:
        ok &= np.isfinite(covariate)
    n = int(ok.sum())
    if n == 0:
        return Prior(np.full(g, np.nan), np.full(g, np.nan))
    if n == 1:
        return Prior(np.zeros(g), np.full(g, s2[ok][0]))
    x = _offset_small(np.maximum(s2[ok], 0.0))
    d = df[ok]
    e = np.log(x) - digamma(d / 2) + np.log(d / 2)
    if covariate is None:
        centre = np.full(g, np.mean(e))
        residual = e - centre[0]
        evar = np.sum(residual**2) / (n - 1)
    else:
        cov = np.asarray(covariate, dtype=float)
        spline_df = min(_spline_df(n), np.unique(cov[ok]).size)
        if spline_df < 2:
            centre = np.full(g, np.mean(e))
            residual = e - centre[0]
            evar = np.sum(residual**2) / (n - 1)
        else:
            basis = ns(cov[ok], df=spline_df, intercept=True)
            basis_matrix = basis.basis
            coef, *_ = np.linalg.lstsq(basis_matrix, e, rcond=None)
            residual = e - basis_matrix @ coef
            evar = np.sum(residual**2) / (n - spline_df)
            centre = _spline_predict(cov, basis, coef)
    evar -= np.mean(trigamma(d / 2))
    if evar > 0:
        d0 = 2.0 * trigamma_inverse(np.array([evar]))[0]
        s20 = np.exp(centre + digamma(d0 / 2) - np.log(d0 / 2))
    elif covariate is None:
        # no excess variation: s^2 ~ s0^2 chi2_d / d, whose mean is s0^2 (limma's value, probed)
        d0 = np.inf
        s20 = np.full(g, np.mean(x))
    else:
        d0 = np.inf
        s20 = np.exp(centre)
    return Prior(np.full(g, d0), s20)


def _spline_df(n: int) -> int:
    """Spline degrees of freedom for the trend: 1 + (n >= 3) + (n >= 6) + (n >= 30)."""
    return 1 + (n >= 3) + (n >= 6) + (n >= 30)


def _spline_predict(covariate: np.ndarray, basis: SplineBasis, coef: np.ndarray) -> np.ndarray:
    """The fitted trend at every covariate value (linear extrapolation outside the knots, as ns)."""
    out = np.full(covariate.shape, np.nan)
    ok = np.isfinite(covariate)
    full = ns(covariate[ok], knots=basis.knots, boundary_knots=basis.boundary_knots, intercept=True)
    out[ok] = full.basis @ coef
    return out


def posterior_var(s2: np.ndarray, df: np.ndarray, prior: Prior) -> np.ndarray:
    """(G,) posterior variances (Smyth 2004 eq. 10); s0^2 where d0 = inf or d = 0 or s2 is NaN."""
    d0 = prior.df_prior
    with np.errstate(invalid="ignore"):
        s2_post = (d0 * prior.s2_prior + df * np.where(df > 0, s2, 0.0)) / (d0 + df)
    return np.where(np.isinf(d0) | ~(df > 0), prior.s2_prior, s2_post)
