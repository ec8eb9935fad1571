"""R's lowess (Cleveland's algorithm as R's stats::lowess implements it).

statsmodels' lowess differs from R's in its neighbourhood and robustness weights and in the
zero-MAD case, and independent filtering's threshold turns on this curve.
"""

from __future__ import annotations

import numpy as np


def _local_linear(x, y, xs, nleft, nright, robustness):
    """Weighted local line at xs over the window nleft..nright (and ties to its right).

    Tricube weights in distance / h, h the larger distance to the window ends; points
    beyond 0.999 h get no weight, points within 0.001 h full weight; the slope is dropped
    when the weighted spread of x is below 0.001 of the range. Returns None if no weight.
    """
    n = x.size
    h = max(xs - x[nleft], x[nright] - xs)
    j = nleft
    w = np.zeros(n)
    while j < n:
        r = abs(x[j] - xs)
        if r <= 0.999 * h:
            w[j] = 1.0 if r <= 0.001 * h else (1.0 - (r / h) ** 3) ** 3
            if robustness is not None:
                w[j] *= robustness[j]
        elif x[j] > xs:
            break
        j += 1
    window = slice(nleft, j)
    total = w[window].sum()
    if total <= 0.0:
        return None
    weights = w[window] / total
    xw = x[window]
    if h > 0.0:
        centre = np.sum(weights * xw)
        spread = np.sum(weights * (xw - centre) ** 2)
        if np.sqrt(spread) > 0.001 * (x[-1] - x[0]):
            weights = weights * ((xs - centre) / spread * (xw - centre) + 1.0)
    return float(np.sum(weights * y[window]))


def r_lowess(x: np.ndarray, y: np.ndarray, frac: float, iterations: int = 3) -> np.ndarray:
    """R's lowess(x, y, f=frac, iter=3) (Cleveland's algorithm as R implements it).

    x must be sorted. statsmodels' lowess differs from R's in its neighbourhood weights,
    its robustness weights and its handling of a zero residual MAD (R stops iterating),
    and independent filtering's choice of threshold turns on this curve, so the steps are
    written out here: nearest-neighbour windows of max(2, floor(f n)) points, local lines
    with tricube weights, linear interpolation over points within delta = 1 % of the range,
    then up to `iterations` refits with bisquare robustness weights (6 MADs).
    """
    n = x.size
    span = max(2, min(n, int(frac * n + 1e-7)))
    delta = 0.01 * (x[-1] - x[0])
    robustness = None
    fitted = np.empty(n)
    for step in range(iterations + 1):
        nleft, nright, last, i = 0, span - 1, -1, 0
        while True:
            if nright < n - 1 and x[i] - x[nleft] > x[nright + 1] - x[i]:
                nleft += 1
                nright += 1
                continue
            value = _local_linear(x, y, x[i], nleft, nright, robustness)
            fitted[i] = y[i] if value is None else value
            if last < i - 1:
                between = np.arange(last + 1, i)
                share = (x[between] - x[last]) / (x[i] - x[last])
                fitted[between] = share * fitted[i] + (1.0 - share) * fitted[last]
            last = i
            cut = x[last] + delta
            i = last + 1
            while i < n and x[i] <= cut:
                if x[i] == x[last]:
                    fitted[i] = fitted[last]
                    last = i
                i += 1
            i = max(last + 1, i - 1)
            if last >= n - 1:
                break
        residual = np.abs(y - fitted)
        if step == iterations:
            break
        cmad = 6.0 * np.median(residual)
        if cmad < 1e-7 * residual.mean():
            break
        robustness = np.where(
            residual <= 0.001 * cmad, 1.0, np.where(residual <= 0.999 * cmad, (1.0 - (residual / cmad) ** 2) ** 2, 0.0)
        )
    return fitted
