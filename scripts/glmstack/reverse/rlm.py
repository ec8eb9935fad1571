"""Huber M-estimation of trait ~ covariates + feature, batched (MASS::rlm defaults, summary.rlm).

One fit per row: row f regresses trait[f] on the shared covariates and feature[f]. Rows are
features (the observed fits) or (feature, permutation) pairs (the null fits); all rows are
iterated together, and a row leaves the batch once it has converged.

The method, as MASS 7.3's documentation and Venables & Ripley (2002, section 8.3) describe it:

1. start from least squares;
2. each iteration: scale s = median(|r|) / 0.6745 of the current residuals (MAD about zero),
   Huber weights w = min(1, k / |r / s|) with k = 1.345, weighted least squares;
3. stop when the residuals moved little: sqrt(sum((r_old - r_new)^2) / max(1e-20, sum(r_old^2)))
   <= 1e-4, or after 20 iterations (`converged` False); s = 0 stops at once (converged);
4. standard errors (summary.rlm, method "XtX"): Huber's (1981, eq. 7.6.x) asymptotic covariance
   kappa^2 * [sum psi(r/s)^2 s^2 / (n - p)] / [mean psi'(r/s)]^2 * (X'X)^-1 with the
   small-sample factor kappa = 1 + p var(psi') / (n mean(psi')^2) (var with n - 1); the naive
   p-value is the t statistic on n - p degrees of freedom.

The coefficient of the feature and its (X'X)^-1 element do not change when the feature is
replaced by its residual on the covariates and the covariates by an orthonormal basis of their
span, so every fit uses that well-conditioned form: (X'X)^-1 of the feature is 1 / |x~|^2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from ..constants import HUBER_K, LIMMA_QR_TOL, MAD_CONSTANT, RLM_ACC, RLM_MAXIT


@dataclass(frozen=True)
class RlmFit:
    """The feature's coefficient of F robust fits, each (F,) array.

    estimate, std_error, statistic (= estimate / std_error) : as summary.rlm's coefficient row;
    scale : the fit's s (MASS `fit$s`); converged : rlm's flag; iterations : length(fit$conv).
    NaN (converged False, iterations 0) where the feature is missing in a sample, constant, or
    a combination of the covariates.
    """

    estimate: np.ndarray
    std_error: np.ndarray
    statistic: np.ndarray
    scale: np.ndarray
    converged: np.ndarray
    iterations: np.ndarray


def covariate_basis(covariates: np.ndarray) -> np.ndarray:
    """(N, q) orthonormal basis of the covariates' column space (their design has full rank)."""
    q, _ = np.linalg.qr(np.asarray(covariates, dtype=float))
    return q


def residualise(feature: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """(F, N) features minus their least-squares projection on the covariates' basis (N, q)."""
    return feature - (feature @ basis) @ basis.T


def huber_weights(u: np.ndarray, k: float = HUBER_K) -> np.ndarray:
    """psi(u) / u of Huber's psi: min(1, k / |u|) (MASS psi.huber, deriv = 0); 1 at u = 0."""
    with np.errstate(divide="ignore"):
        return np.minimum(1.0, k / np.abs(u))


def mad_scale(resid: np.ndarray, absolute: np.ndarray | None = None) -> np.ndarray:
    """(F,) median(|r|) / 0.6745 per row (MASS rlm scale.est "MAD": not centred).

    absolute : |resid| where the caller has it already (it is not modified).
    """
    work = np.abs(resid) if absolute is None else absolute.copy()
    n = work.shape[1]
    if n == 0:
        return np.full(work.shape[0], np.nan)
    half = n // 2
    kth = [half - 1, half] if n % 2 == 0 else [half]
    work.partition(kth, axis=1)
    median = work[:, half] if n % 2 else (work[:, half - 1] + work[:, half]) / 2.0
    return median / MAD_CONSTANT


def _wls(y: np.ndarray, x: np.ndarray, basis: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted least squares of y on [basis, x] per row; (F, q + 1) coefficients."""
    n_cov = basis.shape[1]
    outer = (basis[:, :, None] * basis[:, None, :]).reshape(basis.shape[0], -1)
    wx, wy = w * x, w * y
    gram = np.empty((y.shape[0], n_cov + 1, n_cov + 1))
    gram[:, :n_cov, :n_cov] = (w @ outer).reshape(-1, n_cov, n_cov)
    gram[:, :n_cov, n_cov] = gram[:, n_cov, :n_cov] = wx @ basis
    gram[:, n_cov, n_cov] = np.einsum("fn,fn->f", wx, x)
    rhs = np.empty((y.shape[0], n_cov + 1, 1))
    rhs[:, :n_cov, 0] = wy @ basis
    rhs[:, n_cov, 0] = np.einsum("fn,fn->f", wy, x)
    return np.linalg.solve(gram, rhs)[:, :, 0]


def _residuals(y: np.ndarray, x: np.ndarray, basis: np.ndarray, coef: np.ndarray) -> np.ndarray:
    resid = coef[:, :-1] @ basis.T
    resid += coef[:, -1:] * x
    np.subtract(y, resid, out=resid)
    return resid


def huber_irls(
    y: np.ndarray, x: np.ndarray, basis: np.ndarray, *, k: float = HUBER_K, acc: float = RLM_ACC, maxit: int = RLM_MAXIT
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """IRLS of MASS rlm (method "M", psi.huber, scale.est "MAD", init "ls", test.vec "resid").

    Parameters
    ----------
    y : (F, N) traits; x : (F, N) features already residualised on `basis`; basis : (N, q)
        orthonormal basis of the covariates.

    Returns
    -------
    coef (F,) of x, resid (F, N) of the last fit (MASS wresid), scale (F,) the last s used,
    converged (F,) bool, iterations (F,) int.
    """
    n_fits = y.shape[0]
    # least squares start: x is orthogonal to the basis, which is orthonormal
    coef = np.concatenate([y @ basis, (np.einsum("fn,fn->f", x, y) / np.einsum("fn,fn->f", x, x))[:, None]], axis=1)
    resid = _residuals(y, x, basis, coef)
    scale = np.full(n_fits, np.nan)
    converged = np.zeros(n_fits, dtype=bool)
    iterations = np.zeros(n_fits, dtype=int)
    active = np.arange(n_fits)
    for iteration in range(1, maxit + 1):
        old = resid[active]
        absolute = np.abs(old)
        s = mad_scale(old, absolute)
        scale[active] = s
        exact = s == 0  # MASS: a zero scale ends the iterations as converged
        if exact.any():
            converged[active[exact]] = True
            active, old, absolute, s = active[~exact], old[~exact], absolute[~exact], s[~exact]
        if active.size == 0:
            break
        with np.errstate(divide="ignore"):  # w = min(1, k / |r / s|): 1 at r = 0
            w = np.minimum(1.0, np.divide((k * s)[:, None], absolute, out=absolute))
        y_a, x_a = y[active], x[active]
        new_coef = _wls(y_a, x_a, basis, w)
        new = _residuals(y_a, x_a, basis, new_coef)
        coef[active], resid[active] = new_coef, new
        iterations[active] = iteration
        old_norm2 = np.einsum("fn,fn->f", old, old)
        np.subtract(old, new, out=old)
        change = np.sqrt(np.einsum("fn,fn->f", old, old) / np.maximum(1e-20, old_norm2))
        done = change <= acc
        converged[active[done]] = True
        active = active[~done]
        if active.size == 0:
            break
    return coef[:, -1], resid, scale, converged, iterations


def huber_std_error(resid: np.ndarray, scale: np.ndarray, x_norm2: np.ndarray, n_coef: int, k: float = HUBER_K) -> np.ndarray:
    """(F,) standard error of the feature's coefficient as summary.rlm (method "XtX") gives it.

    Parameters
    ----------
    resid : (F, N) residuals of the final fit; scale : (F,) its s; x_norm2 : (F,) |x~|^2, the
        inverse of the feature's (X'X)^-1 element; n_coef : p, the coefficients of each fit.
    """
    n = resid.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        u = resid / scale[:, None]
        psi_r = resid * huber_weights(u, k)  # s * psi(r / s)
        spread = np.sum(psi_r**2, axis=1) / (n - n_coef)
        slope = (np.abs(u) <= k).astype(float)  # psi'(r / s) of Huber's psi
        mean_slope = slope.mean(axis=1)
        kappa = 1.0 + n_coef * slope.var(axis=1, ddof=1) / (n * mean_slope**2)
        return np.sqrt(spread) * kappa / mean_slope / np.sqrt(x_norm2)


def rlm_feature(
    trait: np.ndarray,
    covariates: np.ndarray,
    feature: np.ndarray,
    *,
    k: float = HUBER_K,
    acc: float = RLM_ACC,
    maxit: int = RLM_MAXIT,
) -> RlmFit:
    """MASS `rlm(trait ~ covariates + feature)` per row, the feature's coefficient of `summary`.

    Parameters
    ----------
    trait : (N,) one trait for every row, or (F, N) a trait per row (permuted traits).
    covariates : (N, q) design of the covariates (with the intercept), full rank.
    feature : (F, N) one feature per row (NaN: missing).
    k, acc, maxit : psi.huber's k and rlm's acc and maxit (MASS defaults).

    Returns
    -------
    RlmFit of (F,) arrays; a feature with a missing value, or one in the covariates' span
    (constant, e.g.), gets NaN.
    """
    feature = np.atleast_2d(np.asarray(feature, dtype=float))
    n_fits, n = feature.shape
    trait = np.broadcast_to(np.asarray(trait, dtype=float), (n_fits, n))
    basis = covariate_basis(covariates)
    with np.errstate(invalid="ignore"):
        x = residualise(np.nan_to_num(feature), basis)
        x_norm2 = np.einsum("fn,fn->f", x, x)
        norm2 = np.einsum("fn,fn->f", np.nan_to_num(feature), np.nan_to_num(feature))
    ok = np.isfinite(feature).all(axis=1) & np.isfinite(trait).all(axis=1) & (x_norm2 > LIMMA_QR_TOL**2 * norm2)
    estimate = np.full(n_fits, np.nan)
    std_error, scale = estimate.copy(), estimate.copy()
    converged, iterations = np.zeros(n_fits, dtype=bool), np.zeros(n_fits, dtype=int)
    if ok.any():
        coef, resid, s, conv, iters = huber_irls(np.ascontiguousarray(trait[ok]), x[ok], basis, k=k, acc=acc, maxit=maxit)
        estimate[ok], scale[ok], converged[ok], iterations[ok] = coef, s, conv, iters
        std_error[ok] = huber_std_error(resid, s, x_norm2[ok], basis.shape[1] + 1, k)
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = estimate / std_error
    return RlmFit(estimate, std_error, statistic, scale, converged, iterations)


def rlm_fitted(
    trait: np.ndarray, covariates: np.ndarray, *, k: float = HUBER_K, acc: float = RLM_ACC, maxit: int = RLM_MAXIT
) -> np.ndarray:
    """(N,) fitted values of MASS `rlm(trait ~ covariates)` (defaults): one fit, the same IRLS
    as `huber_irls` (least-squares start, MAD scale about zero each iteration, Huber weights,
    weighted least squares, residual change <= acc or maxit iterations; a zero scale stops).

    trait : (N,); covariates : (N, q) design with full column rank.
    """
    y = np.asarray(trait, dtype=float)
    x = np.asarray(covariates, dtype=float)
    coef = np.linalg.lstsq(x, y, rcond=None)[0]
    resid = y - x @ coef
    for _ in range(maxit):
        scale = mad_scale(resid[None, :])[0]
        if scale == 0:
            break
        root_w = np.sqrt(huber_weights(resid / scale, k))
        coef = np.linalg.lstsq(x * root_w[:, None], y * root_w, rcond=None)[0]
        new = y - x @ coef
        change = np.sqrt(np.sum((resid - new) ** 2) / max(1e-20, float(np.sum(resid**2))))
        resid = new
        if change <= acc:
            break
    return x @ coef


def naive_pvalue(statistic: np.ndarray, n_samples: int, n_coef: int) -> np.ndarray:
    """Two-sided p of the t statistic on n - p degrees of freedom (what summary.rlm users compute)."""
    return 2.0 * stats.t.sf(np.abs(statistic), n_samples - n_coef)
