"""R's default sample quantile (type 7).

numpy's "linear" method is the same rule but computes the interpolation differently, so ties
at a quantile (filter thresholds, spline knots, bin edges) can land one ulp apart from R.
"""

from __future__ import annotations

import numpy as np


def quantile_type7(x: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Sample quantiles by R's default rule (``stats::quantile(x, probs, type = 7)``).

    With ``n`` sorted values and ``index = 1 + (n - 1) p`` (1-based), the quantile is
    ``x[lo]`` when ``index`` is integral or the two neighbours are equal, otherwise
    ``(1 - h) x[lo] + h x[hi]`` with ``h = index - lo``; the same arithmetic as R, so
    knots agree bit for bit in ordinary cases.

    Parameters
    ----------
    x : (n,) finite values, n >= 1.
    probs : (q,) probabilities in [0, 1].

    Returns
    -------
    (q,) quantiles.
    """
    xs = np.sort(np.asarray(x, dtype=float))
    n = xs.size
    if n == 0:
        raise ValueError("quantile of an empty vector")
    p = np.clip(np.asarray(probs, dtype=float), 0.0, 1.0)
    index = 1.0 + max(n - 1, 0) * p
    lo = np.floor(index).astype(int)
    hi = np.ceil(index).astype(int)
    qs = xs[lo - 1].copy()
    x_hi = xs[hi - 1]
    interp = (index > lo) & (x_hi != qs)
    h = (index - lo)[interp]
    qs[interp] = (1.0 - h) * qs[interp] + h * x_hi[interp]
    return qs
