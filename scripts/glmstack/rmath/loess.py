"""R's loess for one predictor (local quadratic, tricube weights, interpolated kd-tree surface).

No Python library has R's default surface (vertex fits joined by cubic Hermite
interpolation); a direct local fit moves DESeq2's simulated prior variance by 0.03-0.08.
"""

from __future__ import annotations

import numpy as np


def _local_quadratic(
    x: np.ndarray, y: np.ndarray, at: np.ndarray, q: int
) -> tuple[np.ndarray, np.ndarray]:
    """Value and slope at each point of ``at`` of the tricube-weighted local quadratic.

    The neighbourhood is the ``q`` nearest ``x``; ``h`` is the distance to the
    q-th nearest, weights ``(1 - (d / h)^3)^3`` (zero at ``d >= h``); the quadratic
    is in ``x - x0``, so its constant and linear coefficients are the value and
    slope at ``x0`` (Cleveland's loess, as in R's ``loess`` fitting kernel).
    """
    dist = np.abs(x[None, :] - at[:, None])  # (k, n)
    h = np.partition(dist, q - 1, axis=1)[:, q - 1]
    if np.any(h <= 0):
        raise ValueError("neighbourhood of zero width (too many tied x values)")
    u = dist / h[:, None]
    w = np.where(u < 1.0, (1.0 - u**3) ** 3, 0.0)
    t = (x[None, :] - at[:, None]) / h[:, None]  # scaled by h for conditioning
    design = np.stack([np.ones_like(t), t, t * t], axis=2)  # (k, n, 3)
    xtwx = np.einsum("kni,kn,knj->kij", design, w, design)
    xtwy = np.einsum("kni,kn,n->ki", design, w, y)
    try:
        coef = np.linalg.solve(xtwx, xtwy[:, :, None])[:, :, 0]
    except np.linalg.LinAlgError as err:  # R would fall back to a pseudoinverse
        raise ValueError("singular local fit (too many tied x values for the span)") from err
    return coef[:, 0], coef[:, 1] / h


def _kd_vertices(xs: np.ndarray, leaf_size: int) -> np.ndarray:
    """Sorted vertices of loess's k-d tree for one predictor.

    The bounding box is the data range widened by 0.5 % of its width on each side;
    a cell holding more than ``leaf_size`` points is split at its median point
    (the ``floor((l + u) / 2)``-th order statistic, moved to the nearest position
    between two distinct values when tied); a split value equal to a cell bound
    makes the cell a leaf. ``xs`` must be sorted.
    """
    lo, hi = float(xs[0]), float(xs[-1])
    margin = 0.005 * max(hi - lo, 1e-10 * max(abs(lo), abs(hi)) + 1e-30)
    vertices = [lo - margin, hi + margin]
    stack = [(0, xs.size - 1, lo - margin, hi + margin)]
    while stack:
        first, last, lower, upper = stack.pop()
        if last - first + 1 <= leaf_size:
            continue
        mid = (first + last) // 2
        offset = 0
        while first <= mid + offset < last:
            if xs[mid + offset] == xs[mid + offset + 1]:
                offset = -offset + (1 if -offset >= 0 else 0)
                continue
            mid += offset
            break
        split = float(xs[mid])
        if split == lower or split == upper:
            continue
        vertices.append(split)
        stack.append((first, mid, lower, split))
        stack.append((mid + 1, last, split, upper))
    return np.sort(np.asarray(vertices))


def loess_quadratic(
    x: np.ndarray,
    y: np.ndarray,
    new_x: np.ndarray,
    span: float,
    *,
    surface: str = "interpolate",
    cell: float = 0.2,
) -> np.ndarray:
    """R's ``predict(loess(y ~ x, span = span), new_x)`` for one predictor.

    Local quadratic regression (``degree = 2``, ``family = "gaussian"``, tricube
    weights over the ``q = floor(n * span)`` nearest points, R's defaults).

    ``surface = "interpolate"`` (R's default, used by DESeq2) fits the local
    quadratic only at the vertices of R's k-d tree (cells of at most
    ``floor(n * span * cell)`` points, see :func:`_kd_vertices`) and evaluates the
    cubic Hermite interpolant of the vertex values and slopes; ``"direct"`` fits
    at every ``new_x``. Both agree with R to ~1e-13. The choice matters for
    DESeq2's prior variance: on its divergence curves the two surfaces move the
    minimiser by 0.03-0.08, more than the Monte Carlo spread of the estimate.

    Parameters
    ----------
    x : (n,) predictor values.
    y : (n,) responses.
    new_x : (k,) points at which to evaluate the smooth; points outside
        ``[min(x), max(x)]`` give NaN (R ``predict.loess`` gives NA).
    span : fraction of points in each neighbourhood, in (0, 1].
    surface : ``"interpolate"`` or ``"direct"``.
    cell : R's ``loess.control(cell)``.

    Returns
    -------
    (k,) fitted values.
    """
    xv = np.asarray(x, dtype=float).reshape(-1)
    yv = np.asarray(y, dtype=float).reshape(-1)
    x0 = np.asarray(new_x, dtype=float).reshape(-1)
    if not 0 < span <= 1:
        raise ValueError("span must be in (0, 1]")
    n = xv.size
    q = int(np.floor(n * span + 1e-5))  # R loess: floor(n * span + 1e-5)
    if q < 3:
        raise ValueError("span too small: fewer than 3 points in a neighbourhood")
    out = np.full(x0.size, np.nan)
    inside = (x0 >= xv.min()) & (x0 <= xv.max())
    if surface == "direct":
        out[inside] = _local_quadratic(xv, yv, x0[inside], q)[0]
        return out
    if surface != "interpolate":
        raise ValueError("surface must be 'interpolate' or 'direct'")
    xs = np.sort(xv)
    leaf_size = int(np.floor(n * (span * cell)))
    vertices = _kd_vertices(xs, leaf_size)
    value, slope = _local_quadratic(xv, yv, vertices, q)
    xi = x0[inside]
    # leaf cell [v_j, v_{j+1}] with v_j < x <= v_{j+1} (tree descent goes left at ties)
    j = np.clip(np.searchsorted(vertices, xi, side="left") - 1, 0, vertices.size - 2)
    width = vertices[j + 1] - vertices[j]
    s = (xi - vertices[j]) / width
    phi0 = (1 - s) ** 2 * (1 + 2 * s)
    phi1 = s**2 * (3 - 2 * s)
    psi0 = s * (1 - s) ** 2
    psi1 = s**2 * (s - 1)
    out[inside] = (
        phi0 * value[j] + phi1 * value[j + 1] + (psi0 * slope[j] + psi1 * slope[j + 1]) * width
    )
    return out
