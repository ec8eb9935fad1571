"""Freedman-Lane permutations of the trait and the p-values they calibrate.

Freedman & Lane (1983): fit trait ~ covariates, keep the fitted values, permute the residuals
and add them back: y*_b = Z g + P_b e. The test is exact when e are the true errors; the reduced
model is fitted by the Huber M-estimator of the features' fits (MASS rlm defaults) rather than
least squares because with a heavy-tailed trait a least-squares fit lets one outlying trait
value shift the fitted value of every sample that shares its covariates, and those shifted
residuals, permuted onto a feature's extreme sample, are less exchangeable with the observed one
(simulations in the README: with a t(2) trait and features with one extreme sample, least-squares
residuals gave 1.13 % of calibrated p < 0.01 where permuting the true errors gave 1.05 %, robust
residuals 1.01 %). Every feature is tested against the same
B permuted traits (one plan, made once for the study from a seeded numpy Generator and
recorded), so features stay comparable and the null keeps their correlation.

The p-value of a feature comes from its own null statistics (never from other features': a
feature with one extreme sample has a null of its own, the distribution of one trait residual
over the scale, and pooling it with other features' nulls is what makes naive and pooled
p-values too small). With M of B null |t| at least the observed |t|:

* M >= 1: p = (M + 1) / (B + 1), the usual permutation p-value;
* M = 0 (beyond every null statistic, where permutations alone can say only p <= 1 / (B + 1)):
  the tail beyond the feature's top REVERSE_TAIL_SHARE null values is taken as a generalised
  Pareto distribution (Knijnenburg et al. 2009, Bioinformatics 25:i161; Winkler et al. 2016,
  NeuroImage 141:502), fitted per feature by probability-weighted moments (Hosking & Wallis
  1987) with its shape held at >= 0 (an exponential or heavier tail: the extrapolation has no
  end point and errs on the large side); p = share * GPD survival of the excess, at most
  1 / (B + 1).

Extrapolating only beyond the largest null value (Knijnenburg et al. fit the tail below 10
exceedances) matters for features with one extreme sample: their null is lumpy (a few large
trait residuals landing on that sample), and a smooth tail laid over the lumps undercuts the
permutation count inside them (simulations in tests/unit/test_reverse_calibration.py).
"""

from __future__ import annotations

import numpy as np

from ..constants import REVERSE_TAIL_SHARE
from .rlm import rlm_fitted


def permutation_plan(n_samples: int, n_permutations: int, seed: int) -> np.ndarray:
    """(B, N) int: row b is the b-th permutation of the samples (numpy Generator(PCG64(seed)))."""
    rng = np.random.default_rng(seed)
    return np.stack([rng.permutation(n_samples) for _ in range(n_permutations)]) if n_permutations else np.zeros((0, n_samples), dtype=int)


def freedman_lane_traits(trait: np.ndarray, covariates: np.ndarray, plan: np.ndarray) -> np.ndarray:
    """(B, N) permuted traits: robust fit of trait ~ covariates plus its permuted residuals.

    The reduced model is fitted by the same Huber M-estimator as the features' fits
    (`rlm.rlm_fitted`, MASS rlm defaults), not by least squares (see module notes).

    trait : (N,); covariates : (N, q) design; plan : (B, N) from `permutation_plan`.
    """
    fitted = rlm_fitted(trait, covariates)
    return fitted[None, :] + (trait - fitted)[plan]


def observed_permutations(plan: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """(B, m) the plan's permutations restricted to the m observed samples of a feature.

    Row b lists the observed samples in the order permutation b visits them, as indices 0..m-1
    into the observed samples; the j-th observed sample receives the residual of the j-th entry.
    A uniform permutation of all N samples orders any subset uniformly, so these are uniform
    permutations of the observed samples, fixed by the recorded plan (all observed: the plan).

    plan : (B, N) from `permutation_plan`; observed : (N,) bool.
    """
    index = np.full(observed.size, -1)
    index[observed] = np.arange(int(observed.sum()))
    mapped = index[plan]
    return mapped[mapped >= 0].reshape(plan.shape[0], int(observed.sum()))


def exceedances(observed: np.ndarray, null: np.ndarray) -> np.ndarray:
    """(G,) count of null |t| (G, B) at least the observed |t| (G,); NaN nulls never count."""
    with np.errstate(invalid="ignore"):
        return np.sum(np.abs(null) >= np.abs(observed)[:, None], axis=1)


def gpd_fit(excess: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Generalised Pareto scale and shape per row by probability-weighted moments.

    Parameters
    ----------
    excess : (G, K) excesses over the threshold (>= 0), any order.

    Returns
    -------
    scale (G,), shape (G,) in the convention survival(y) = (1 + shape y / scale)^(-1 / shape)
    (Hosking & Wallis 1987: k = -shape), shape held at >= 0.
    """
    y = np.sort(excess, axis=1)
    k = y.shape[1]
    a0 = y.mean(axis=1)
    a1 = (y * ((k - 1 - np.arange(k)) / (k - 1))).mean(axis=1)  # unbiased PWM: E[Y (1 - F(Y))]
    with np.errstate(divide="ignore", invalid="ignore"):
        shape = 2.0 - a0 / (a0 - 2.0 * a1)  # Hosking & Wallis: k = a0 / (a0 - 2 a1) - 2 = -shape
        scale = 2.0 * a0 * a1 / (a0 - 2.0 * a1)
    exponential = ~(shape > 0) | ~np.isfinite(scale) | (scale <= 0)
    shape = np.where(exponential, 0.0, shape)
    scale = np.where(exponential, a0, scale)  # the exponential's ML scale: the mean excess
    return scale, shape


def gpd_survival(y: np.ndarray, scale: np.ndarray, shape: np.ndarray) -> np.ndarray:
    """P(Y > y) of the generalised Pareto with shape >= 0 (exponential at shape 0)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        z = y / scale
        pareto = np.exp(-np.log1p(shape * z) / np.where(shape > 0, shape, 1.0))
        return np.where(shape > 0, pareto, np.exp(-z))


def calibrated_pvalues(
    observed: np.ndarray,
    null: np.ndarray,
    *,
    tail_share: float = REVERSE_TAIL_SHARE,
) -> np.ndarray:
    """Two-sided permutation p-values of each feature from its own null (see module notes).

    Parameters
    ----------
    observed : (G,) statistics; null : (G, B) the same statistic on the B permuted traits.

    Returns
    -------
    (G,) p-values in (0, 1]; NaN where the observed statistic is NaN. A null statistic that is
    NaN (a permuted fit without a scale) is left out of that feature's null.
    """
    observed = np.asarray(observed, dtype=float)
    null = np.abs(np.asarray(null, dtype=float))
    n_valid = np.sum(np.isfinite(null), axis=1)
    count = exceedances(observed, null)
    with np.errstate(divide="ignore", invalid="ignore"):
        pvalue = (count + 1.0) / (n_valid + 1.0)
    n_tail = int(np.floor(tail_share * null.shape[1]))
    tail = np.isfinite(observed) & (count == 0) & (n_valid == null.shape[1]) & (n_tail >= 2)
    if tail.any():
        ordered = np.sort(null[tail], axis=1)
        threshold = ordered[:, -n_tail - 1]
        scale, shape = gpd_fit(ordered[:, -n_tail:] - threshold[:, None])
        excess = np.abs(observed[tail]) - threshold
        fitted = (n_tail / null.shape[1]) * gpd_survival(excess, scale, shape)
        pvalue[tail] = np.minimum(pvalue[tail], fitted)
    pvalue[~np.isfinite(observed)] = np.nan
    return pvalue
