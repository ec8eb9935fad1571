"""Regression spline bases that reproduce R's ``splines::ns`` and ``splines::bs``.

DESeq2 designs such as ``~ mouseID + ns(relativeTime, df = 3)`` are expanded by R's
``model.matrix``, which calls ``splines::ns``. The functions here rebuild the same
basis matrices (to rounding, ~1e-15) from the method:

* interior knots, when only ``df`` is given, are quantiles of ``x`` (R's quantile
  type 7) at equally spaced probabilities, excluding 0 and 1;
* boundary knots default to ``range(x)``;
* the B-spline basis of the augmented knot sequence (R's ``splineDesign``) is
  scipy's ``BSpline`` (agrees with R to ~1e-15);
* ``ns`` projects the cubic B-spline basis onto the null space of the second
  derivatives at the two boundary knots, using the full orthogonal factor of a
  Householder QR of the constraint matrix (R's ``qr``/``qr.qty``), and extrapolates
  linearly beyond the boundary knots;
* ``bs`` extrapolates beyond the boundary knots by the Taylor polynomial of the
  basis at a pivot a quarter of the way into the first/last knot interval.

The formulaic terms ``ns(...)``/``bs(...)`` built on these bases, and R's names of
their columns, are in :mod:`glmstack.design.spline_terms`; this module imports only
numpy, so code that needs a basis (limma's trend) does not load the formula library.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Optional, Union

import numpy as np
from numpy.typing import ArrayLike

from ..rmath.quantile import quantile_type7

__all__ = ["SplineBasis", "bs", "ns", "spline_design"]


@dataclass(frozen=True)
class SplineBasis:
    """A spline basis matrix and the knots that define it.

    Attributes
    ----------
    basis : (n, k) float array; rows of missing ``x`` are NaN (R keeps NA rows).
    knots : (K,) interior knots used (R attribute ``knots``; empty when none).
    boundary_knots : (2,) boundary knots (R attribute ``Boundary.knots``).
    degree : polynomial degree (3 for ``ns``).
    intercept : whether the first basis function was kept (R ``intercept``).
    kind : ``"ns"`` or ``"bs"``.
    """

    basis: np.ndarray
    knots: np.ndarray
    boundary_knots: np.ndarray
    degree: int
    intercept: bool
    kind: str

    @property
    def column_names(self) -> list[str]:
        """R's column names of the basis: ``"1"``, ``"2"``, ..., ``str(k)``."""
        return [str(j) for j in range(1, self.basis.shape[1] + 1)]


# ----------------------------------------------------------------------------- helpers


def _equal_probs(n_interior: int) -> np.ndarray:
    """Probabilities of R's ``seq.int(0, 1, length.out = K + 2)[-c(1, K + 2)]``."""
    step = 1.0 / (n_interior + 1)
    return np.arange(1, n_interior + 1, dtype=float) * step


def spline_design(
    knots: ArrayLike, x: ArrayLike, order: int = 4, derivs: Union[int, ArrayLike] = 0
) -> np.ndarray:
    """B-spline basis (or a derivative of it) at ``x``, as R's ``splines::splineDesign``.

    Parameters
    ----------
    knots : (m,) non-decreasing knot sequence (boundary knots repeated ``order`` times).
    x : (n,) evaluation points within ``[knots[order-1], knots[m-order]]``; points
        outside are evaluated with the polynomial piece of the nearest interval
        (R's ``outer.ok = TRUE`` would give 0 there; callers here never ask).
    order : spline order (degree + 1).
    derivs : derivative order, one for all points or one per point (R ``derivs``).

    Returns
    -------
    (n, m - order) matrix; row i holds the ``m - order`` basis functions (or their
    ``derivs[i]``-th derivatives) at ``x[i]``. At the right boundary knot the limit
    from the left is used, except that the (piecewise constant) derivative of order
    ``order - 1`` is 0 there, as in R; at interior knots derivatives are taken from
    the right.
    """
    t = np.asarray(knots, dtype=float)
    xv = np.atleast_1d(np.asarray(x, dtype=float))
    n = xv.size
    n_basis = t.size - order
    if order < 1 or n_basis < 1:
        raise ValueError("need at least `order` + 1 knots")
    if np.any(np.diff(t) < 0):
        raise ValueError("knots must be non-decreasing")
    d = np.broadcast_to(np.asarray(derivs, dtype=int), (n,))
    out = np.zeros((n, n_basis))
    if n == 0:
        return out
    # imported here: modules that use a basis only sometimes (limma's trend) skip its ~0.15 s at start-up
    from scipy.interpolate import BSpline

    # every basis function at once: a spline whose coefficients are the identity
    basis = BSpline(t, np.eye(n_basis), order - 1, extrapolate=True)
    for dd in np.unique(d):
        rows = np.flatnonzero(d == dd)
        if dd >= order:
            continue  # derivative of order >= spline order is identically zero
        out[rows] = basis(xv[rows], nu=int(dd))
        if dd == order - 1:
            # R sets the piecewise-constant top derivative to 0 at the right end knot
            out[rows[xv[rows] == t[n_basis]]] = 0.0
    return out


def _householder_qty_cols(constraint_t: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """``basis @ Q`` with Q the full orthogonal factor of a Householder QR of ``constraint_t``.

    Matches R's ``t(qr.qty(qr(constraint_t), t(basis)))`` (LINPACK ``dqrdc2``: each
    reflection sends the column to ``-sign(x_1) ||x|| e_1``; no pivoting is needed
    for the full-rank k x 2 constraint of a natural spline).
    """
    a = np.array(constraint_t, dtype=float)
    b = np.array(basis, dtype=float)
    k, c = a.shape
    for j in range(min(c, k)):
        col = a[j:, j]
        norm = float(np.sqrt(np.sum(col * col)))
        if norm == 0.0:
            continue
        if col[0] != 0.0:
            norm = math.copysign(norm, col[0])
        u = col / norm
        u[0] += 1.0
        # H = I - u u^T / u[0]; apply to remaining columns of a and to rows of b^T
        a[j:, j + 1 :] -= np.outer(u, (u @ a[j:, j + 1 :]) / u[0])
        a[j:, j] = 0.0
        a[j, j] = -norm
        b[:, j:] -= np.outer((b[:, j:] @ u) / u[0], u)
    return b


def _prepare_x(x: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    xv = np.asarray(x, dtype=float).reshape(-1)
    missing = np.isnan(xv)
    return xv[~missing], missing


def _restore_missing(basis: np.ndarray, missing: np.ndarray) -> np.ndarray:
    if not missing.any():
        return basis
    full = np.full((missing.size, basis.shape[1]), np.nan)
    full[~missing] = basis
    return full


def _boundary(
    x: np.ndarray, boundary_knots: Optional[ArrayLike], single_point_rule: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boundary knots and masks of points left / right of them (R's ``outside``)."""
    if boundary_knots is not None:
        bk = np.sort(np.asarray(boundary_knots, dtype=float).reshape(-1))
        if bk.size != 2 or not np.all(np.isfinite(bk)):
            raise ValueError("boundary_knots must be two finite numbers")
        return bk, x < bk[0], x > bk[1]
    if x.size == 0:
        raise ValueError("x has no non-missing values")
    if single_point_rule and x.size == 1:
        bk = x[0] * np.array([7.0, 9.0]) / 8.0
    else:
        bk = np.array([np.min(x), np.max(x)])
    none = np.zeros(x.size, dtype=bool)
    return bk, none, none


def _interior_knots(
    x: np.ndarray,
    inside: np.ndarray,
    df: Optional[int],
    knots: Optional[ArrayLike],
    n_interior_for_df: Callable[[int], int],
    smallest_df: int,
) -> np.ndarray:
    if df is not None and knots is None:
        n_interior = n_interior_for_df(int(df))
        if n_interior < 0:
            warnings.warn(f"'df' was too small; have used {smallest_df}", UserWarning, stacklevel=3)
            n_interior = 0
        if n_interior == 0:
            return np.zeros(0)
        return quantile_type7(x[inside], _equal_probs(n_interior))
    if knots is None:
        return np.zeros(0)
    return np.asarray(knots, dtype=float).reshape(-1)


def _check_knots(interior: np.ndarray, bk: np.ndarray) -> None:
    if not np.all(np.isfinite(interior)):
        raise ValueError("knots must be finite")
    if bk[0] >= bk[1]:
        raise ValueError(
            "boundary knots must differ (x has a single distinct value); "
            "a spline of a constant cannot be built"
        )
    if np.any((interior < bk[0]) | (interior > bk[1])):
        raise ValueError("interior knots must lie within the boundary knots")


# ----------------------------------------------------------------------------- bases


def ns(
    x: ArrayLike,
    df: Optional[int] = None,
    knots: Optional[ArrayLike] = None,
    intercept: bool = False,
    boundary_knots: Optional[ArrayLike] = None,
) -> SplineBasis:
    """Natural cubic spline basis, as R's ``splines::ns`` (R 4.2).

    Parameters
    ----------
    x : (n,) predictor; NaN rows give NaN basis rows (R's NA handling).
    df : degrees of freedom; when ``knots`` is None, ``df - 1 - intercept`` interior
        knots are placed at type-7 quantiles of the non-missing ``x`` inside the
        boundary knots (R warns and uses ``1 + intercept`` when ``df`` is too small;
        so does this function).
    knots : interior knots (R ``knots``); takes precedence over ``df`` as in R.
    intercept : keep the first basis function (R ``intercept = TRUE``).
    boundary_knots : R ``Boundary.knots``; default ``range(x)`` (a single ``x``
        gives ``x * c(7, 9) / 8`` as in R). Points outside are extrapolated linearly
        from the value and first derivative at the nearest boundary knot.

    Returns
    -------
    SplineBasis with ``basis`` of shape (n, len(knots) + 1 + intercept), equal to
    ``unclass(ns(...))`` in R, and the knots used.

    Notes
    -----
    Deviation from R: interior knots outside the boundary knots and a constant ``x``
    raise ``ValueError`` (R builds a degenerate basis or fails later). An interior
    knot equal to the upper boundary knot (heavy ties at ``max(x)``) raises
    ``ValueError``, where R stops with an error from ``qr``; one equal to the lower
    boundary knot is allowed and matches R.
    """
    xv, missing = _prepare_x(x)
    bk, left, right = _boundary(xv, boundary_knots, single_point_rule=True)
    interior = _interior_knots(
        xv, ~(left | right), df, knots, lambda d: d - 1 - int(intercept), 1 + int(intercept)
    )
    _check_knots(interior, bk)
    if np.any(interior == bk[1]):
        # R: the boundary constraint is NaN there and qr() stops
        raise ValueError(
            "an interior knot equals the upper boundary knot (heavily tied x); "
            "R's ns() fails here too: use fewer df or explicit knots"
        )
    aknots = np.sort(np.concatenate([np.repeat(bk, 4), interior]))
    n_basis = aknots.size - 4
    basis = np.zeros((xv.size, n_basis))
    inside = ~(left | right)
    if inside.any():
        basis[inside] = spline_design(aknots, xv[inside], 4)
    for mask, pivot in ((left, bk[0]), (right, bk[1])):
        if mask.any():
            taylor = spline_design(aknots, np.array([pivot, pivot]), 4, [0, 1])
            lin = np.column_stack([np.ones(int(mask.sum())), xv[mask] - pivot])
            basis[mask] = lin @ taylor
    const = spline_design(aknots, bk, 4, [2, 2])
    if not intercept:
        const = const[:, 1:]
        basis = basis[:, 1:]
    projected = _householder_qty_cols(const.T, basis)[:, 2:]
    return SplineBasis(
        basis=_restore_missing(projected, missing),
        knots=interior.copy(),
        boundary_knots=bk,
        degree=3,
        intercept=bool(intercept),
        kind="ns",
    )


def bs(
    x: ArrayLike,
    df: Optional[int] = None,
    knots: Optional[ArrayLike] = None,
    degree: int = 3,
    intercept: bool = False,
    boundary_knots: Optional[ArrayLike] = None,
) -> SplineBasis:
    """B-spline basis, as R's ``splines::bs`` (R 4.2).

    Parameters
    ----------
    x : (n,) predictor; NaN rows give NaN basis rows (R's NA handling).
    df : degrees of freedom; when ``knots`` is None, ``df - degree - intercept``
        interior knots at type-7 quantiles of the non-missing ``x`` inside the
        boundary knots (too small a ``df`` warns and uses none, as R).
    knots : interior knots (R ``knots``); takes precedence over ``df``.
    degree : polynomial degree, >= 1.
    intercept : keep the first basis function (R ``intercept = TRUE``).
    boundary_knots : R ``Boundary.knots``; default ``range(x)``. Points outside
        are evaluated by the degree-``degree`` Taylor expansion of the basis at a
        pivot a quarter into the first/last knot interval, with R's warning
        "some 'x' values beyond boundary knots may cause ill-conditioned bases".

    Returns
    -------
    SplineBasis with ``basis`` of shape (n, len(knots) + degree + intercept), equal
    to ``unclass(bs(...))`` in R, and the knots used.

    Notes
    -----
    Deviation from R: interior knots outside the boundary knots and a constant ``x``
    raise ``ValueError``.
    """
    degree = int(degree)
    if degree < 1:
        raise ValueError("'degree' must be integer >= 1")
    order = degree + 1
    xv, missing = _prepare_x(x)
    bk, left, right = _boundary(xv, boundary_knots, single_point_rule=False)
    interior = _interior_knots(
        xv,
        ~(left | right),
        df,
        knots,
        lambda d: d - order + (1 - int(intercept)),
        order - (1 - int(intercept)),
    )
    _check_knots(interior, bk)
    aknots = np.sort(np.concatenate([np.repeat(bk, order), interior]))
    n_basis = aknots.size - order
    basis = np.zeros((xv.size, n_basis))
    inside = ~(left | right)
    if inside.any():
        basis[inside] = spline_design(aknots, xv[inside], order)
    if not inside.all():
        warnings.warn(
            "some 'x' values beyond boundary knots may cause ill-conditioned bases",
            UserWarning,
            stacklevel=2,
        )
        scale = np.array([math.gamma(j) for j in range(1, order + 1)])
        pivots = (
            (left, 0.75 * bk[0] + 0.25 * aknots[order]),
            (right, 0.75 * bk[1] + 0.25 * aknots[aknots.size - order - 1]),
        )
        for mask, pivot in pivots:
            if mask.any():
                taylor = spline_design(aknots, np.full(order, pivot), order, np.arange(order))
                powers = (xv[mask] - pivot)[:, None] ** np.arange(order)[None, :]
                basis[mask] = powers @ (taylor / scale[:, None])
    if not intercept:
        basis = basis[:, 1:]
    return SplineBasis(
        basis=_restore_missing(basis, missing),
        knots=interior.copy(),
        boundary_knots=bk,
        degree=degree,
        intercept=bool(intercept),
        kind="bs",
    )
