"""TMM normalisation factors (Robinson & Oshlack 2010, Genome Biology 11:R25; edgeR calcNormFactors).

For each sample k against a reference sample r (Robinson & Oshlack, Methods):
  M_g = log2((Y_gk / N_k) / (Y_gr / N_r)),  A_g = (log2(Y_gk / N_k) + log2(Y_gr / N_r)) / 2,
over genes with both counts non-zero (finite M and A) and A above Acutoff; the genes whose M lies
in the central 1 - 2 * 0.3 and whose A lies in the central 1 - 2 * 0.05 (by rank, ties averaged;
edgeR's defaults logratioTrim 0.3, sumTrim 0.05) are kept, and log2 TMM is their mean of M
weighted by the inverse of the delta-method variances (N_k - Y_gk)/(N_k Y_gk) + (N_r - Y_gr)/(N_r Y_gr)
(doWeighting = TRUE). The factors are then scaled to geometric mean 1. The reference is the sample
whose upper-quartile share (75th percentile of Y_gk / N_k, R's quantile type 7) is closest to the
mean of those shares (edgeR's documented default).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from ..constants import TMM_A_CUTOFF, TMM_LOGRATIO_TRIM, TMM_SUM_TRIM
from ..rmath.quantile import quantile_type7


def reference_sample(counts: np.ndarray, lib_size: np.ndarray) -> int:
    """Index of the sample whose upper-quartile share is closest to the mean share (first on ties)."""
    f75 = np.array([quantile_type7(counts[:, k], np.array([0.75]))[0] for k in range(counts.shape[1])]) / lib_size
    if np.median(f75) < 1e-20:
        return int(np.argmax(np.sum(np.sqrt(counts), axis=0)))
    return int(np.argmin(np.abs(f75 - np.mean(f75))))


def _tmm_one(obs: np.ndarray, ref: np.ndarray, n_obs: float, n_ref: float) -> float:
    """The TMM factor of one sample against the reference (2^weighted trimmed mean of M)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        # M as the log of the ratio of proportions (not a difference of logs): genes with equal
        # proportions must tie exactly, since ties decide who sits at the trimming boundaries
        m = np.log2((obs / n_obs) / (ref / n_ref))
        a = (np.log2(obs / n_obs) + np.log2(ref / n_ref)) / 2
        v = (n_obs - obs) / n_obs / obs + (n_ref - ref) / n_ref / ref
    ok = np.isfinite(m) & np.isfinite(a) & (a > TMM_A_CUTOFF)
    m, a, v = m[ok], a[ok], v[ok]
    if m.size == 0 or np.max(np.abs(m)) < 1e-6:
        return 1.0
    n = m.size
    lo_m = np.floor(n * TMM_LOGRATIO_TRIM) + 1
    hi_m = n + 1 - lo_m
    lo_a = np.floor(n * TMM_SUM_TRIM) + 1
    hi_a = n + 1 - lo_a
    rank_m = rankdata(m)
    rank_a = rankdata(a)
    keep = (rank_m >= lo_m) & (rank_m <= hi_m) & (rank_a >= lo_a) & (rank_a <= hi_a)
    f = np.sum(m[keep] / v[keep]) / np.sum(1.0 / v[keep])
    return float(2.0**f) if np.isfinite(f) else 1.0


def tmm_factors(counts: np.ndarray, lib_size: np.ndarray | None = None) -> np.ndarray:
    """(N,) TMM normalisation factors with geometric mean 1 (edgeR calcNormFactors, method TMM).

    Parameters
    ----------
    counts : (G, N) counts; genes with no count in any sample are ignored.
    lib_size : (N,) library sizes; default the column sums.
    """
    counts = np.asarray(counts, dtype=float)
    counts = counts[np.any(counts > 0, axis=1)]
    lib_size = counts.sum(axis=0) if lib_size is None else np.asarray(lib_size, dtype=float)
    ref = reference_sample(counts, lib_size)
    factors = np.array(
        [_tmm_one(counts[:, k], counts[:, ref], lib_size[k], lib_size[ref]) for k in range(counts.shape[1])]
    )
    return factors / np.exp(np.mean(np.log(factors)))
