"""Likelihood-ratio test of a full against a nested reduced design (DESeq2 nbinomLRT)."""

from __future__ import annotations

import numpy as np

from ..rmath.chisq import chi2_upper_tail


def likelihood_ratio_test(log_like_full: np.ndarray, log_like_reduced: np.ndarray, df: int):
    """LRT statistic 2 (l_full - l_reduced) and its chi-square(df) upper-tail p-value, (G,) each."""
    stat = 2.0 * (log_like_full - log_like_reduced)
    return stat, chi2_upper_tail(stat, df)
