"""Robust prior of the residual variances (limma squeezeVar(robust = TRUE) / fitFDistRobustly).

Phipson, Lee, Majewski, Alexander & Smyth (2016), Ann. Appl. Stat. 10(2):946-963, sec. 3: a few
hypervariable features should neither inflate the prior's spread (lowering d0 for everyone) nor
be squeezed towards it. The method, as this module computes it (each step matched to limma 3.54
by probing it with constructed inputs, tests/data/gaussian/extra/make_robust.R):

1. z = log s^2 (variances below 1e-5 of the median offset, as squeeze.fit_prior). With a
   covariate (limma-trend: Amean) z is first detrended by R's lowess(covariate, z, f = 0.4,
   iter = 3); features without a variance get the trend by linear interpolation (constant
   beyond the ends).
2. The (detrended) z are Winsorised at their type-7 quantiles 0.05 and 0.9 (tail proportions
   0.05 / 0.1). d0 makes the variance of the Winsorised log F(d, d0) (Winsorised at its own
   0.05 and 0.9 quantiles; moments by quadrature) equal to the sample variance of the
   Winsorised z (denominator n - 1); none larger than the chi-square limit -> d0 = inf.
   d0 is then raised to the non-robust estimate (squeeze.fit_prior) where below it (where that
   is inf, the non-robust prior is the result), and
   log s0^2 = (trend) + mean(Winsorised z) - mean(Winsorised log F(d, d0)).
3. Each feature's right tail p = P(F(d, d0) > s^2 / s0^2) and prob.outlier = 1 - min(1,
   p / ((rank(p) - 0.5) / n)) (a local-fdr-like ratio of p to its expected uniform order
   statistic).
4. The outliers' prior df, d0_out, puts the most extreme F (smallest p) at the median of
   F(d, d0_out): pf(F_max, d, d0_out, upper) = 1/2, by two steps of the fixed-point iteration
   d <- d log(1/2) / log P(F_max; d) from d0 (log P is nearly proportional to d; limma stops
   after two steps, so d0_out is 7-17 % above the exact root; the two steps match limma to
   1e-12 on every probe). Tail probabilities are taken on the log scale, so an F far beyond
   double precision still gives a finite d0_out.
   Where d0 = inf the outliers' df are instead (1 - prob) n d (the pooled residual df times the
   probability of not being an outlier; inf where prob = 0), made non-decreasing in p by the
   running maximum alone (no pooling of the first values; probed).
5. df_prior = (1 - prob) d0 + prob d0_out, made non-decreasing in p: in order of increasing p,
   the first k values are replaced by their mean where k minimises the running mean, then a
   running maximum. Features without a variance get d0.

With fewer than 10 features with a variance the result is the non-robust prior (as limma's).
Features with different residual df (missing values): each s^2 is first carried to the largest
df, d_max, by matching its tail probability under the non-robust prior (F(d, d0) to
F(d_max, d0), scale s0^2), and the method above runs on those values with d = d_max. (Found by
probing: not one summary d such as the mean, median or minimum, nor per-feature centring by
digamma(d/2) - log(d/2), nor the moments of the mixture of log F(d_g, d0); the largest df sets
d, so giving one of 400 features df 100 instead of 4 moves d0 by 8 %. Agreement with limma:
2e-7 or better on constructed inputs, limma's own root-finding tolerance, and 2e-11 on
rrbs_sle.)
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, special, stats

from ..constants import (
    LIMMA_ROBUST_LOWESS_ITER,
    LIMMA_ROBUST_LOWESS_SPAN,
    LIMMA_ROBUST_MIN_FEATURES,
    LIMMA_WINSOR_TAIL_P,
)
from ..rmath.lowess import r_lowess
from ..rmath.quantile import quantile_type7
from . import squeeze

_GL_X, _GL_W = np.polynomial.legendre.leggauss(64)
_GL_NODES, _GL_WEIGHTS = (_GL_X + 1.0) / 2.0, _GL_W / 2.0  # Gauss-Legendre on [0, 1]


def winsorised_log_f_moments(
    d1: float, d2: float, tail: tuple[float, float] = LIMMA_WINSOR_TAIL_P
) -> tuple[float, float]:
    """Mean and variance of log F(d1, d2) Winsorised at its tail[0] and 1 - tail[1] quantiles.

    d2 = inf: log(chi2_d1 / d1). With Q the quantile function of log F, the Winsorised moments
    are tail[0] Q(tail[0])^k + tail[1] Q(1 - tail[1])^k + integral of Q(u)^k over
    [tail[0], 1 - tail[1]]; Q is smooth there, so Gauss-Legendre quadrature is exact to rounding.
    """
    dist = stats.chi2(d1) if np.isinf(d2) else stats.f(d1, d2)
    scale = 1.0 / d1 if np.isinf(d2) else 1.0
    lo = np.log(dist.ppf(tail[0]) * scale)
    hi = np.log(dist.isf(tail[1]) * scale)
    a, b = tail[0], 1.0 - tail[1]
    q = np.log(dist.ppf(a + (b - a) * _GL_NODES) * scale)
    w = (b - a) * _GL_WEIGHTS
    m1 = tail[0] * lo + tail[1] * hi + np.sum(w * q)
    m2 = tail[0] * lo**2 + tail[1] * hi**2 + np.sum(w * q * q)
    return float(m1), float(m2 - m1 * m1)


def _solve_df2(d1: float, target_var: float, tail: tuple[float, float]) -> float:
    """d2 whose Winsorised log-F variance is target_var (inf when at or below the chi-square limit)."""
    if target_var <= winsorised_log_f_moments(d1, np.inf, tail)[1]:
        return np.inf

    def gap(log_d2):
        return winsorised_log_f_moments(d1, np.exp(log_d2), tail)[1] - target_var

    lo, hi = np.log(0.02), np.log(1e10)
    if gap(lo) <= 0:
        return float(np.exp(lo))
    if gap(hi) >= 0:
        return float(np.exp(hi))
    return float(np.exp(optimize.brentq(gap, lo, hi, xtol=1e-13, rtol=1e-14)))


def log_f_sf(f: np.ndarray, d1: float, d2: float) -> np.ndarray:
    """log P(F(d1, d2) > f), finite far beyond where the probability underflows.

    With x = d2 / (d2 + d1 f), P = I_x(d2/2, d1/2) = x^a (1-x)^b / (a B(a, b)) 2F1(a+b, 1; a+1; x)
    (a = d2/2, b = d1/2), used where scipy's log survival function is -inf. d2 = inf: chi-square.
    """
    f = np.asarray(f, dtype=float)
    if np.isinf(d2):
        return stats.chi2.logsf(f * d1, d1)
    out = stats.f.logsf(f, d1, d2)
    far = ~np.isfinite(out) & np.isfinite(f)
    if np.any(far):
        a, b = d2 / 2.0, d1 / 2.0
        x = d2 / (d2 + d1 * f[far])
        out[far] = (
            a * np.log(x)
            + b * np.log1p(-x)
            - np.log(a)
            - special.betaln(a, b)
            + np.log(special.hyp2f1(a + b, 1.0, a + 1.0, x))
        )
    return out


def outlier_df(f_max: float, d1: float, d2: float) -> float:
    """Two fixed-point steps d <- d log(1/2) / log P(F(d1, d) > f_max) from d2 (step 4)."""
    if np.isinf(d2):
        return np.inf
    out = d2
    for _ in range(2):
        out = np.log(0.5) / log_f_sf(np.array([f_max]), d1, out)[0] * out
    return float(out)


def _monotone_in_p(raw: np.ndarray, p_order: np.ndarray, pool: bool = True) -> np.ndarray:
    """raw (n,) made non-decreasing along p_order (step 5); pool=False: the running maximum only."""
    ordered = raw[p_order].copy()
    if pool:
        running_mean = np.cumsum(ordered) / np.arange(1, ordered.size + 1)
        k = int(np.argmin(running_mean))
        ordered[: k + 1] = running_mean[k]
    out = np.empty_like(raw)
    out[p_order] = np.maximum.accumulate(ordered)
    return out


def _trend(covariate: np.ndarray, z: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """(G,) lowess of z on the covariate over the ok features, interpolated at the others."""
    order = np.argsort(covariate[ok], kind="stable")
    xs = covariate[ok][order]
    sorted_fit = r_lowess(xs, z[ok][order], LIMMA_ROBUST_LOWESS_SPAN, LIMMA_ROBUST_LOWESS_ITER)
    fitted = np.empty(xs.size)
    fitted[order] = sorted_fit
    out = np.full(covariate.shape, np.nan)
    out[ok] = fitted
    other = ~ok & np.isfinite(covariate)
    if np.any(other):
        out[other] = np.interp(covariate[other], xs, sorted_fit)
    return out


def _to_common_df(
    s2: np.ndarray, df: np.ndarray, prior: squeeze.Prior, ok: np.ndarray, d_max: float
) -> np.ndarray:
    """(n,) variances of the ok features carried to the largest residual df d_max.

    Under the non-robust prior (s0^2, d0), s^2 / s0^2 ~ F(d, d0) (chi2_d / d where d0 = inf);
    each s^2 becomes the value with the same tail probability under F(d_max, d0) (upper tail
    above the median, lower tail below, for precision; beyond double precision the log tail
    probabilities are matched). Features at d_max are unchanged.
    """
    s20, d0 = prior.s2_prior[ok], float(prior.df_prior[0])
    ratio = np.maximum(s2, 0.0) / s20
    out = s2.copy()
    move = np.flatnonzero(df != d_max)
    d = df[move]
    if np.isinf(d0):
        source, target, u, back = stats.chi2(d), stats.chi2(d_max), ratio[move] * d, 1.0 / d_max
    else:
        source, target, u, back = stats.f(d, d0), stats.f(d_max, d0), ratio[move], 1.0
    upper = source.sf(u)
    with np.errstate(over="ignore"):
        new = np.where(upper < 0.5, target.isf(upper), target.ppf(source.cdf(u))) * back
    for k in np.flatnonzero(~np.isfinite(new) | (upper == 0.0)):
        j = move[k]
        goal = log_f_sf(ratio[j : j + 1], df[j], d0)[0]
        root = optimize.brentq(
            lambda t, goal=goal: log_f_sf(np.exp([t]), d_max, d0)[0] - goal, -50.0, 1000.0, xtol=1e-14
        )
        new[k] = np.exp(root)
    out[move] = new * s20[move]
    return out


def fit_prior_robust(
    s2: np.ndarray,
    df: np.ndarray,
    covariate: np.ndarray | None = None,
    tail: tuple[float, float] = LIMMA_WINSOR_TAIL_P,
) -> squeeze.Prior:
    """Robust prior: per-feature df_prior and s2_prior (limma squeezeVar(robust = TRUE)).

    Parameters
    ----------
    s2 : (G,) residual variances; NaN where not available.
    df : (G,) residual degrees of freedom.
    covariate : optional (G,) covariate of log s0^2 (limma-trend: Amean), fitted by lowess.
    tail : left and right Winsorisation proportions (limma's winsor.tail.p).

    Returns
    -------
    squeeze.Prior with (G,) df_prior (d0 shrunk towards d0_out for outlying variances, d0 for
    features without a variance) and (G,) s2_prior.

    """
    s2 = np.asarray(s2, dtype=float)
    df = np.asarray(df, dtype=float)
    g = s2.shape[0]
    ok = np.isfinite(s2) & np.isfinite(df) & (df > 1e-15)
    cov = None if covariate is None else np.asarray(covariate, dtype=float)
    if cov is not None:
        ok &= np.isfinite(cov)
    n = int(ok.sum())
    if n < LIMMA_ROBUST_MIN_FEATURES:
        return squeeze.fit_prior(s2, df, covariate)  # too few to Winsorise: the non-robust prior (probed)
    d1 = np.unique(df[ok])
    if d1.size > 1:
        mapped = np.where(ok, s2, np.nan)
        mapped[ok] = _to_common_df(s2[ok], df[ok], squeeze.fit_prior(s2, df, covariate), ok, float(d1[-1]))
        return fit_prior_robust(mapped, np.where(ok, d1[-1], df), covariate, tail)
    d1 = float(d1[0])
    z = np.full(g, np.nan)
    z[ok] = np.log(squeeze._offset_small(np.maximum(s2[ok], 0.0)))
    trend = np.zeros(g) if cov is None else _trend(cov, z, ok)
    resid = z[ok] - trend[ok]
    lo, hi = quantile_type7(resid, np.array([tail[0], 1.0 - tail[1]]))
    wins = np.clip(resid, lo, hi)
    d0 = _solve_df2(d1, float(np.var(wins, ddof=1)), tail)
    non_robust = squeeze.fit_prior(s2, df, covariate)
    if d0 < non_robust.df_prior[0]:
        if np.isinf(non_robust.df_prior[0]):
            return non_robust  # raised to d0 = inf: limma returns the non-robust prior itself
        d0 = float(non_robust.df_prior[0])
    log_scale = trend + np.mean(wins) - winsorised_log_f_moments(d1, d0, tail)[0]
    s2_prior = np.exp(log_scale)

    log_p = log_f_sf(np.exp(z[ok] - log_scale[ok]), d1, d0)
    p = np.exp(log_p)
    expected = (stats.rankdata(p) - 0.5) / n
    prob = 1.0 - np.minimum(1.0, p / expected)
    if np.isfinite(d0):
        i = int(np.argmin(log_p))
        d_out = outlier_df(float(np.exp(z[ok][i] - log_scale[ok][i])), d1, d0)
        raw = (1.0 - prob) * d0 + prob * d_out
    else:
        raw = (1.0 - prob) * (d1 * n)  # d0 = inf: interpolates between the pooled df and 0 (probed)
        raw[prob == 0.0] = np.inf
    df_prior = np.full(g, d0)
    df_prior[ok] = _monotone_in_p(raw, np.argsort(p, kind="stable"), pool=bool(np.isfinite(d0)))
    return squeeze.Prior(df_prior, s2_prior)
