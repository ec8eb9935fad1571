"""One-dimensional local regression matching R ``locfit`` with its defaults.

DESeq2's ``localDispersionFit`` (``fitType = "local"``, and the automatic
fallback when the parametric dispersion trend fails) fits

.. code-block:: r

    locfit(logDisps ~ logMeans, data = d, weights = means)

and evaluates the trend with ``predict(fit, data.frame(logMeans = ...))``.
This module reimplements exactly that computation for a single numeric
predictor, following the behaviour of R ``locfit`` 1.5-9.x as observed from
its outputs:

* **Family.** A numeric response gives family ``"qgaussian"`` with the
  identity link, i.e. every local fit is a weighted least-squares fit.
* **Local model.** Local polynomial of degree ``deg = 2`` (``alpha`` and
  ``deg`` are the only smoothing arguments exposed here), tricube kernel
  ``W(u) = (1 - |u|^3)^3`` for ``|u| < 1``, prior ``weights`` multiplying the
  kernel weights.
* **Bandwidth.** Nearest-neighbour bandwidth ``alpha = 0.7``: at a point
  ``x0`` the bandwidth is the ``k``-th smallest ``|x_i - x0|`` with
  ``k = floor(n * alpha)``, counting observations (prior weights play no part
  in it).  When ``k > n`` (``alpha > 1``) the bandwidth is the largest
  distance multiplied by ``k / n``.
* **Evaluation structure.** ``ev = rbox()`` / type ``"tree"`` with
  ``cut = 0.8``: local fits are computed only at the vertices of an adaptive
  binary tree on the data range ``[min(x), max(x)]``.  A cell ``[a, b]`` is
  split at its midpoint while ``(b - a) / h_min > cut``, where ``h_min`` is the
  smallest positive bandwidth at the cell's two vertices (if neither is
  positive the score is ``2 (b - a) / (max(x) - min(x))`` instead).  At every
  vertex the fitted value and fitted first derivative are stored.
* **Parametric component.** locfit also fits one global polynomial of the
  same degree by weighted least squares (prior weights only), expanded
  around the weighted mean of ``x``; the vertex fits are stored as
  departures from it.
* **Prediction.** ``predict`` does *not* refit at new points.  Inside the
  data range it is the parametric component plus the cubic Hermite
  interpolant of the departures (value and slope) between the two vertices
  of the enclosing cell -- for a quadratic parametric component this equals
  cubic Hermite interpolation of the vertex fits themselves.  Outside the
  data range it is the parametric component plus the *linear* extension of
  the departure at the nearest boundary vertex, so the prediction is
  quadratic (for ``deg = 2``) beyond the data.

Numerical agreement with R is limited by locfit's own linear algebra: it
solves each local least-squares problem through an iterative (Jacobi-type)
eigen-decomposition with a loose convergence threshold, so its vertex fits
carry relative errors of roughly ``1e-9``; this module solves the same
problems to machine precision, and the two agree to about that level.

Deliberate differences from R
-----------------------------
* R stops with ``"newsplit: out of vertex space"`` when the tree needs more
  vertices than ``maxk`` allows (about 19 vertices for ``alpha = 0.7``,
  ``maxk = 100``); this module has no such limit other than a large safety
  cap, so it returns a fit where R would fail.
* Rank-deficient local designs (fewer than ``degree + 1`` distinct x values
  with positive kernel weight, which only happens for tiny ``n * alpha``)
  are solved here by a pseudo-inverse; R's regularisation differs, so such
  vertices do not match R.  With DESeq2's data (hundreds of genes or more,
  ``alpha = 0.7``) this never happens.
* A zero bandwidth at a vertex (70% of the x values tied) raises
  ``ValueError``; R fails in that situation too.
* Only the 1-D, ``qgaussian``, tricube, ``ev = "tree"`` configuration is
  implemented.  For ``degree = 0`` the vertices carry no slopes and
  prediction is piecewise linear (end cells extended linearly), as in R.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["LocalFit", "local_fit", "nn_bandwidth", "tricube"]

FloatArray = NDArray[np.float64]

#: locfit's default tree refinement threshold (``rbox(cut = 0.8)``).
DEFAULT_CUT: float = 0.8

#: Safety cap on the number of tree vertices (R's own limit is much lower;
#: see the module docstring).
MAX_VERTICES: int = 1 << 16

#: Relative eigenvalue threshold below which a local design direction is
#: treated as unidentifiable (pseudo-inverse solve).
_EIG_RTOL: float = 1e-12


def tricube(u: ArrayLike) -> FloatArray:
    """Tricube kernel ``(1 - |u|^3)^3`` on ``|u| < 1``, zero elsewhere.

    This is locfit's default ``kern = "tcub"``.

    Parameters
    ----------
    u : array_like
        Scaled distances ``|x - x0| / h``.

    Returns
    -------
    numpy.ndarray
        Kernel weights, same shape as ``u``.
    """
    a = np.abs(np.asarray(u, dtype=np.float64))
    inside = a < 1.0
    out = np.zeros_like(a)
    t = 1.0 - a[inside] ** 3
    out[inside] = t * t * t
    return out


def nn_bandwidth(x: ArrayLike, centres: ArrayLike, alpha: float) -> FloatArray:
    """Nearest-neighbour bandwidths at ``centres`` as locfit computes them.

    Parameters
    ----------
    x : array_like, shape (n,)
        Predictor values of the data.
    centres : array_like, shape (m,)
        Points at which to compute the bandwidth.
    alpha : float
        Nearest-neighbour fraction (R ``alpha``, default 0.7 there).

    Returns
    -------
    numpy.ndarray, shape (m,)
        With ``k = floor(n * alpha)``: the ``k``-th smallest distance from
        each centre to the data when ``k <= n``; otherwise the largest
        distance times ``k / n`` (locfit's rule for ``alpha > 1`` in 1-D).
        Prior weights are ignored, as in locfit.

    Raises
    ------
    ValueError
        If ``floor(n * alpha) < 1``.
    """
    xv = np.asarray(x, dtype=np.float64).ravel()
    cv = np.asarray(centres, dtype=np.float64).ravel()
    n = xv.size
    k = int(np.floor(n * float(alpha)))
    if k < 1:
        raise ValueError(f"alpha={alpha} gives fewer than one nearest neighbour for n={n}")
    if cv.size == 0:
        return np.empty(0, dtype=np.float64)
    dist = np.abs(xv[None, :] - cv[:, None])
    if k <= n:
        return np.asarray(np.partition(dist, k - 1, axis=1)[:, k - 1], dtype=np.float64)
    return np.asarray(dist.max(axis=1) * (k / n), dtype=np.float64)


def _taylor_design(u: FloatArray, degree: int) -> FloatArray:
    """Columns ``u**j / j!`` for ``j = 0..degree`` (locfit's polynomial basis)."""
    cols = [np.ones_like(u)]
    fact = 1.0
    for j in range(1, degree + 1):
        fact *= j
        cols.append(u**j / fact)
    return np.stack(cols, axis=-1)


def _weighted_ls(design: FloatArray, weights: FloatArray, y: FloatArray) -> FloatArray:
    """Batched weighted least squares ``argmin_b sum_i w_i (y_i - X_i b)^2``.

    Parameters
    ----------
    design : numpy.ndarray, shape (m, n, p)
        One design matrix per problem.
    weights : numpy.ndarray, shape (m, n)
        Non-negative observation weights per problem.
    y : numpy.ndarray, shape (n,)
        Response shared by all problems.

    Returns
    -------
    numpy.ndarray, shape (m, p)
        Coefficients.  The normal equations are equilibrated by their
        diagonal and solved through a symmetric eigen-decomposition,
        discarding directions with eigenvalue below ``1e-12`` times the
        largest (a pseudo-inverse, as locfit's eigen-based solver does for
        rank-deficient local designs).
    """
    xw = design * weights[..., None]
    xtwx = np.einsum("mnp,mnq->mpq", xw, design)
    xtwy = np.einsum("mnp,n->mp", xw, y)
    diag = np.einsum("mpp->mp", xtwx)
    scale = np.where(diag > 0.0, 1.0 / np.sqrt(np.where(diag > 0.0, diag, 1.0)), 0.0)
    a = xtwx * scale[:, :, None] * scale[:, None, :]
    b = xtwy * scale
    evals, evecs = np.linalg.eigh(a)
    top = evals.max(axis=1, keepdims=True)
    keep = evals > _EIG_RTOL * np.where(top > 0.0, top, 1.0)
    inv = np.where(keep, 1.0 / np.where(keep, evals, 1.0), 0.0)
    proj = np.einsum("mpq,mp->mq", evecs, b) * inv
    sol = np.einsum("mpq,mq->mp", evecs, proj)
    return np.asarray(sol * scale, dtype=np.float64)


def _local_fits(
    x: FloatArray,
    y: FloatArray,
    w: FloatArray,
    centres: FloatArray,
    bandwidths: FloatArray,
    degree: int,
) -> tuple[FloatArray, FloatArray]:
    """Local polynomial fits at ``centres``: fitted value and first derivative."""
    m = centres.size
    if m == 0:
        empty = np.empty(0, dtype=np.float64)
        return empty, empty
    if np.any(bandwidths <= 0.0) or not np.all(np.isfinite(bandwidths)):
        raise ValueError(
            "zero nearest-neighbour bandwidth at an evaluation vertex "
            "(too many tied x values for this alpha)"
        )
    diff = x[None, :] - centres[:, None]
    h = bandwidths[:, None]
    kw = tricube(diff / h) * w[None, :]
    # Fit in the scaled variable (x - x0) / h for conditioning, then undo.
    coef = _weighted_ls(_taylor_design(diff / h, degree), kw, y)
    values = coef[:, 0]
    slopes = coef[:, 1] / bandwidths if degree >= 1 else np.zeros(m, dtype=np.float64)
    return np.asarray(values, dtype=np.float64), np.asarray(slopes, dtype=np.float64)


def _build_tree(
    x: FloatArray, alpha: float, cut: float
) -> tuple[FloatArray, FloatArray]:
    """Vertices (sorted) and their bandwidths of locfit's 1-D ``"tree"`` structure."""
    lo = float(x.min())
    hi = float(x.max())
    if lo == hi:
        v = np.array([lo], dtype=np.float64)
        return v, nn_bandwidth(x, v, alpha)
    span = hi - lo
    ends = np.array([lo, hi], dtype=np.float64)
    ends_h = nn_bandwidth(x, ends, alpha)
    verts = [ends]
    hs = [ends_h]
    # Cells of the current level: left/right ends and their bandwidths.
    a, b = ends[:1], ends[1:]
    ha, hb = ends_h[:1], ends_h[1:]
    count = 2
    while a.size:
        both = np.stack([ha, hb])
        pos = both > 0.0
        hmin = np.where(pos, both, np.inf).min(axis=0)
        has_h = np.isfinite(hmin)
        score = np.where(has_h, (b - a) / np.where(has_h, hmin, 1.0), 2.0 * (b - a) / span)
        split = score > cut
        if not split.any():
            break
        a, b, ha, hb = a[split], b[split], ha[split], hb[split]
        mid = (a + b) / 2.0
        hm = nn_bandwidth(x, mid, alpha)
        count += mid.size
        if count > MAX_VERTICES:
            raise ValueError("locfit tree: too many evaluation vertices")
        verts.append(mid)
        hs.append(hm)
        a, b = np.concatenate([a, mid]), np.concatenate([mid, b])
        ha, hb = np.concatenate([ha, hm]), np.concatenate([hm, hb])
    v_all = np.concatenate(verts)
    h_all = np.concatenate(hs)
    order = np.argsort(v_all, kind="stable")
    return v_all[order], h_all[order]


@dataclass(frozen=True)
class LocalFit:
    """A fitted 1-D locfit model: tree vertices plus the parametric component.

    Attributes
    ----------
    vertices : numpy.ndarray, shape (m,)
        Evaluation-tree vertices, sorted increasingly; the first and last are
        ``min(x)`` and ``max(x)``.
    values : numpy.ndarray, shape (m,)
        Local polynomial fit at each vertex.
    slopes : numpy.ndarray, shape (m,)
        First derivative of the local polynomial at each vertex.
    bandwidths : numpy.ndarray, shape (m,)
        Nearest-neighbour bandwidth used at each vertex.
    pc_centre : float
        Centre of the global parametric component (prior-weighted mean of x).
    pc_coef : numpy.ndarray, shape (degree + 1,)
        Parametric component coefficients in the Taylor basis
        ``(x - pc_centre)**j / j!``.
    degree : int
        Local polynomial degree.

    Notes
    -----
    Calling the object is the same as :meth:`predict`.
    """

    vertices: FloatArray
    values: FloatArray
    slopes: FloatArray
    bandwidths: FloatArray
    pc_centre: float
    pc_coef: FloatArray
    degree: int

    def to_dict(self) -> dict:
        """Plain lists and numbers (JSON floats round-trip exactly)."""
        return {
            "vertices": self.vertices.tolist(),
            "values": self.values.tolist(),
            "slopes": self.slopes.tolist(),
            "bandwidths": self.bandwidths.tolist(),
            "pc_centre": float(self.pc_centre),
            "pc_coef": self.pc_coef.tolist(),
            "degree": int(self.degree),
        }

    @classmethod
    def from_dict(cls, obj: dict) -> "LocalFit":
        arrays = {k: np.asarray(obj[k], dtype=float) for k in ("vertices", "values", "slopes", "bandwidths", "pc_coef")}
        return cls(pc_centre=float(obj["pc_centre"]), degree=int(obj["degree"]), **arrays)

    def parametric(self, x_new: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Value and first derivative of the global parametric component.

        Parameters
        ----------
        x_new : array_like
            Points at which to evaluate.

        Returns
        -------
        tuple of numpy.ndarray
            ``(value, derivative)``, each shaped like ``x_new``.
        """
        u = np.asarray(x_new, dtype=np.float64) - self.pc_centre
        val = np.zeros_like(u)
        der = np.zeros_like(u)
        fact = 1.0
        for j, c in enumerate(self.pc_coef):
            if j > 0:
                fact *= j
            val += c * u**j / fact
            if j >= 1:
                der += c * u ** (j - 1) / (fact / j)
        return val, der

    def predict(self, x_new: ArrayLike) -> FloatArray:
        """Evaluate the fit, as R ``predict(<locfit>, newdata)``.

        Parameters
        ----------
        x_new : array_like
            Points at which to predict (any shape; NaN gives NaN).

        Returns
        -------
        numpy.ndarray
            Predictions, shaped like ``x_new``.  Inside ``[min(x), max(x)]``:
            parametric component plus cubic Hermite interpolation of the
            vertex departures from it.  Outside: parametric component plus the
            linear extension of the boundary vertex's departure.
        """
        xn = np.asarray(x_new, dtype=np.float64)
        flat = xn.ravel()
        pc_val, pc_der = self.parametric(flat)
        v_pc, v_pcd = self.parametric(self.vertices)
        res = self.values - v_pc
        res_d = self.slopes - v_pcd
        out = np.empty_like(flat)
        m = self.vertices.size
        if m == 1:
            out[:] = res[0] + res_d[0] * (flat - self.vertices[0])
            return (out + pc_val).reshape(xn.shape)
        if self.degree == 0:
            # Local-constant fits carry no slope: locfit interpolates linearly
            # between vertices and extends the two end cells linearly.
            j = np.clip(np.searchsorted(self.vertices, flat, side="right") - 1, 0, m - 2)
            v0 = self.vertices[j]
            frac = (flat - v0) / (self.vertices[j + 1] - v0)
            lin = self.values[j] + frac * (self.values[j + 1] - self.values[j])
            return np.asarray(lin, dtype=np.float64).reshape(xn.shape)
        lo = self.vertices[0]
        hi = self.vertices[-1]
        below = flat < lo
        above = flat > hi
        inside = ~(below | above)
        out[below] = res[0] + res_d[0] * (flat[below] - lo)
        out[above] = res[-1] + res_d[-1] * (flat[above] - hi)
        xi = flat[inside]
        i = np.clip(np.searchsorted(self.vertices, xi, side="right") - 1, 0, m - 2)
        x0 = self.vertices[i]
        dx = self.vertices[i + 1] - x0
        t = (xi - x0) / dx
        t2 = t * t
        t3 = t2 * t
        h00 = 2.0 * t3 - 3.0 * t2 + 1.0
        h10 = t3 - 2.0 * t2 + t
        h01 = -2.0 * t3 + 3.0 * t2
        h11 = t3 - t2
        out[inside] = (
            h00 * res[i] + h10 * dx * res_d[i] + h01 * res[i + 1] + h11 * dx * res_d[i + 1]
        )
        # NaN inputs fall in none of the branches above consistently; force NaN.
        out[np.isnan(flat)] = np.nan
        return (out + pc_val).reshape(xn.shape)

    __call__ = predict


def local_fit(
    x: ArrayLike,
    y: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    alpha: float = 0.7,
    degree: int = 2,
    cut: float = DEFAULT_CUT,
) -> LocalFit:
    """Fit R ``locfit(y ~ x, weights = weights)`` with its defaults (1-D).

    Parameters
    ----------
    x : array_like, shape (n,)
        Predictor (finite).
    y : array_like, shape (n,)
        Response (finite).
    weights : array_like, shape (n,), optional
        Non-negative prior weights (R ``weights``); all ones if omitted.
    alpha : float, default 0.7
        Nearest-neighbour bandwidth fraction (R ``alpha``).
    degree : int, default 2
        Local polynomial degree (R ``deg``), 0, 1 or 2.
    cut : float, default 0.8
        Tree refinement threshold (R ``rbox(cut = )``).

    Returns
    -------
    LocalFit
        The fitted model; ``fit.predict(x_new)`` matches R
        ``predict(fit, newdata)``.

    Raises
    ------
    ValueError
        On mismatched or non-finite inputs, negative weights, an unsupported
        degree, or a zero bandwidth at a vertex.
    """
    xv = np.asarray(x, dtype=np.float64).ravel()
    yv = np.asarray(y, dtype=np.float64).ravel()
    if weights is None:
        wv = np.ones_like(xv)
    else:
        wv = np.broadcast_to(np.asarray(weights, dtype=np.float64), xv.shape).astype(np.float64)
    if xv.size == 0:
        raise ValueError("local_fit needs at least one observation")
    if yv.shape != xv.shape or wv.shape != xv.shape:
        raise ValueError("x, y and weights must have the same length")
    if not (np.all(np.isfinite(xv)) and np.all(np.isfinite(yv)) and np.all(np.isfinite(wv))):
        raise ValueError("x, y and weights must be finite")
    if np.any(wv < 0.0):
        raise ValueError("weights must be non-negative")
    if degree not in (0, 1, 2):
        raise ValueError("degree must be 0, 1 or 2")
    if not alpha > 0.0:
        raise ValueError("alpha must be positive")

    vertices, bandwidths = _build_tree(xv, alpha, cut)
    values, slopes = _local_fits(xv, yv, wv, vertices, bandwidths, degree)

    sw = wv.sum()
    centre = float((wv * xv).sum() / sw) if sw > 0.0 else float(xv.mean())
    pc = _weighted_ls(_taylor_design(xv - centre, degree)[None], wv[None], yv)[0]
    return LocalFit(
        vertices=vertices,
        values=values,
        slopes=slopes,
        bandwidths=bandwidths,
        pc_centre=centre,
        pc_coef=np.asarray(pc, dtype=np.float64),
        degree=degree,
    )
