"""Moderated t-tests relative to a log-fold-change threshold (limma treat; McCarthy & Smyth 2009).

The null hypothesis is the interval |beta| <= tau (tau = lfc_threshold > 0). Its p-value is the
largest over the interval, reached at the boundary beta = +-tau (McCarthy & Smyth 2009, sec. 2):
  p = P(T > (|b| - tau)/se) + P(T > (|b| + tau)/se),  T ~ t on the moderated df,
with se = u s_post the moderated standard error. The reported statistic is
sign(b) (|b| - tau)/se where |b| > tau and 0 otherwise (what limma's topTreat shows).
No B-statistic or F (limma's treat computes neither).
"""

from __future__ import annotations

import numpy as np

from ..inference.tails import t_sf


def treat_tests(
    estimate: np.ndarray, stdev_unscaled: np.ndarray, s2_post: np.ndarray, df_total: np.ndarray, lfc_threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """(t, p_value), each (G, K), for |beta| > lfc_threshold.

    Parameters
    ----------
    estimate, stdev_unscaled : (G, K); s2_post, df_total : (G,); lfc_threshold : tau >= 0.
    lfc_threshold = 0 gives the ordinary moderated t-test.
    """
    tau = abs(float(lfc_threshold))
    with np.errstate(invalid="ignore", divide="ignore"):
        se = stdev_unscaled * np.sqrt(s2_post)[:, None]
        size = np.abs(estimate)
        right = (size - tau) / se
        left = (size + tau) / se
        df = df_total[:, None]
        p = t_sf(right, df) + t_sf(left, df)
        t = np.where(size > tau, np.sign(estimate) * right, 0.0)
    t = np.where(np.isnan(estimate) | np.isnan(se), np.nan, t)
    return t, p
