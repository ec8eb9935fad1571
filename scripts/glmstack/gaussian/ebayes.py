"""Moderated t and F statistics and the B-statistic (limma eBayes; Smyth 2004).

Moderated t (Smyth 2004 eq. 11 and Theorem 2): t_gj = beta_gj / (u_gj s_post,g), on d0 + d_g
degrees of freedom, where u_gj is the unscaled standard deviation of the coefficient or contrast.
As limma documents, the total degrees of freedom are capped at the pooled residual degrees of
freedom sum_g d_g (so an infinite d0 never gives more df than the data hold).

Moderated F (Smyth 2004 sec. 6, eq. 13's generalisation; limma classifyTestsF): for the K
moderated t-statistics of a feature and their correlation R (shared by all features, from the
design), F = t' R^+ t / r with r = rank(R), on (r, d0 + d) degrees of freedom. A feature with an
inestimable contrast has no F.

B-statistic (Smyth 2004 sec. 5, eq. 15): the log posterior odds that beta_gj != 0 when a
proportion p of features has beta_gj ~ N(0, v0 sigma_g^2):
  B = log(p / (1 - p)) - log(r)/2 + (1 + d_tot)/2 log((t^2 + d_tot) / (t^2 / r + d_tot)),
  r = (u^2 + v0) / u^2,
with the d_tot = inf limit t^2 (1 - 1/r) / 2 (used wherever d0 = inf, as limma does). v0 is estimated per contrast as in Smyth 2004
sec. 6.3: among the ceil(p G / 2) largest |t|, the gene of rank i should have a two-sided tail
probability (i - 0.5)/G under the mixture (1 - p) T + p sqrt(1 + v0/u^2) T, which gives a v0 for
each such gene (0 where the null part alone already exceeds the target); their mean, with each
value kept within stdev.coef.lim^2 / s0^2 (limma's documented default limits on the standard
deviation of true log-fold-changes, 0.1 and 4), is v0. Where features have different total df,
their t-statistics are first carried to the largest df by matching tail probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..constants import LIMMA_F_EIGEN_TOL, LIMMA_PROPORTION, LIMMA_STDEV_COEF_LIM
from ..inference.tails import f_sf, norm_isf, t_isf, t_logsf, t_sf


def total_df(df_residual: np.ndarray, df_prior: np.ndarray) -> np.ndarray:
    """(G,) d0 + d_g capped at the pooled residual df (limma eBayes df.total)."""
    pooled = np.nansum(df_residual)
    return np.minimum(df_prior + df_residual, pooled)


def t_pvalue(t: np.ndarray, df: np.ndarray) -> np.ndarray:
    """Two-sided p-values of t on df (df may be inf); NaN stays NaN."""
    with np.errstate(invalid="ignore"):
        return 2.0 * t_sf(np.abs(t), df)


def moderated_t(estimate: np.ndarray, stdev_unscaled: np.ndarray, s2_post: np.ndarray) -> np.ndarray:
    """(G, K) moderated t: estimate / (stdev_unscaled * sqrt(s2_post))."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return estimate / stdev_unscaled / np.sqrt(s2_post)[:, None]


@dataclass(frozen=True)
class FTest:
    """F (G,), df1 (int), p_value (G,)."""

    F: np.ndarray
    df1: int
    p_value: np.ndarray


def moderated_f(t: np.ndarray, correlation: np.ndarray, df_total: np.ndarray) -> FTest:
    """Moderated F from the (G, K) moderated t-statistics and their (K, K) correlation.

    F = t' R^+ t / r, R^+ from the eigenvectors with eigenvalues above 1e-8 of the largest
    (limma classifyTestsF); r = their number. NaN in any t of a feature gives NaN.
    """
    values, vectors = np.linalg.eigh(correlation)
    keep = values > LIMMA_F_EIGEN_TOL * values.max()
    q = vectors[:, keep] / np.sqrt(values[keep])
    r = int(keep.sum())
    f = np.sum((t @ q) ** 2, axis=1) / r
    with np.errstate(invalid="ignore"):
        p = f_sf(f, r, df_total)
    return FTest(f, r, p)


def _t_to_df(t: np.ndarray, df: np.ndarray, target: float) -> np.ndarray:
    """|t| on df carried to the same tail probability on `target` df."""
    t = np.abs(t)
    out = t.copy()
    lower = df < target
    if np.any(lower):
        p = t_logsf(t[lower], df[lower])
        out[lower] = t_isf(np.exp(p), target) if np.isfinite(target) else norm_isf(np.exp(p))
    return out


def prior_coef_var(
    t: np.ndarray,
    stdev_unscaled: np.ndarray,
    df_total: np.ndarray,
    s2_prior: np.ndarray,
    proportion: float = LIMMA_PROPORTION,
    stdev_coef_lim: tuple[float, float] = LIMMA_STDEV_COEF_LIM,
) -> np.ndarray:
    """(K,) v0: the prior variance of non-zero coefficients in units of sigma^2 (Smyth 2004 sec. 6.3).

    Parameters
    ----------
    t, stdev_unscaled : (G, K); df_total : (G,); s2_prior : (G,) s0^2 (its median sets the limits).
    """
    g, k = t.shape
    lim = np.asarray(stdev_coef_lim, dtype=float) ** 2 / np.median(s2_prior)
    out = np.full(k, np.nan)
    for j in range(k):  # a handful of contrasts
        ok = np.isfinite(t[:, j])
        tj, vj, dj = t[ok, j], stdev_unscaled[ok, j] ** 2, df_total[ok]
        n = tj.size
        target = int(np.ceil(proportion / 2 * n))
        if target < 1:
            continue
        p = max(target / n, proportion)
        max_df = float(np.max(dj))
        tj = _t_to_df(tj, dj, max_df)
        order = np.argsort(-tj, kind="stable")[:target]
        tt, vv = tj[order], vj[order]
        rank = np.arange(1, target + 1)
        p0 = 2 * t_sf(tt, max_df)
        ptarget = ((rank - 0.5) / n - (1 - p) * p0) / p
        v0 = np.zeros(target)
        pos = ptarget > p0
        if np.any(pos):
            qtarget = t_isf(ptarget[pos] / 2, max_df)
            v0[pos] = vv[pos] * ((tt[pos] / qtarget) ** 2 - 1)
        out[j] = np.mean(np.clip(v0, lim[0], lim[1]))
    return np.where(np.isnan(out), 1.0 / np.median(s2_prior), out)


def b_statistic(
    t: np.ndarray,
    stdev_unscaled: np.ndarray,
    df_total: np.ndarray,
    v0: np.ndarray,
    proportion: float = LIMMA_PROPORTION,
    df_prior: np.ndarray | None = None,
) -> np.ndarray:
    """(G, K) log posterior odds of a non-zero coefficient (Smyth 2004 eq. 15).

    Where df_prior (G,) is infinite, the d_tot = inf kernel is used although df_total is capped at
    the pooled df (limma 3.54 does so; probed, tests/data/gaussian/extra/edge_fit.tsv).
    """
    if df_prior is not None:
        df_total = np.where(np.isinf(df_prior), np.inf, df_total)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (stdev_unscaled**2 + v0[None, :]) / stdev_unscaled**2
        t2 = t**2
        d = df_total[:, None] * np.ones_like(t)
        finite = np.isfinite(d)
        d_safe = np.where(finite, d, 1.0)
        kernel = np.where(
            finite,
            (1 + d_safe) / 2 * np.log((t2 + d_safe) / (t2 / r + d_safe)),
            t2 * (1 - 1 / r) / 2,
        )
        return np.log(proportion / (1 - proportion)) - np.log(r) / 2 + kernel
