"""R's splinefun(method = "fmm"): scipy has the spline but not Forsythe-Malcolm-Moler's end conditions."""

from __future__ import annotations

import numpy as np
from scipy.interpolate import CubicSpline
from scipy.linalg import solve_banded


def fmm_spline(x: np.ndarray, y: np.ndarray) -> CubicSpline:
    """Interpolating cubic spline with Forsythe-Malcolm-Moler end conditions (R splinefun "fmm").

    At each end the spline's third derivative equals that of the cubic through the four
    nearest points. Solved for the second derivatives M (a tridiagonal system), then handed
    to scipy as the spline with those end second derivatives, which is the same spline.
    Fewer than 4 points: scipy's not-a-knot spline.
    """
    n = x.size
    if n < 4:
        return CubicSpline(x, y)
    h = np.diff(x)
    slope = np.diff(y) / h

    def third_divided_difference(xs: np.ndarray, ys: np.ndarray) -> float:
        d1 = np.diff(ys) / np.diff(xs)
        d2 = np.diff(d1) / (xs[2:] - xs[:-2])
        return float((d2[1] - d2[0]) / (xs[3] - xs[0]))

    bands = np.zeros((3, n))  # solve_banded layout: super-, main and sub-diagonal
    rhs = np.zeros(n)
    bands[0, 2:] = h[1:]
    bands[1, 1:-1] = 2.0 * (h[:-1] + h[1:])
    bands[2, :-2] = h[:-1]
    rhs[1:-1] = 6.0 * np.diff(slope)
    # the third derivative of a cubic is 6 x its third divided difference, and on an end
    # interval it is (M1 - M0) / h0
    bands[1, 0], bands[0, 1] = -1.0 / h[0], 1.0 / h[0]
    rhs[0] = 6.0 * third_divided_difference(x[:4], y[:4])
    bands[2, -2], bands[1, -1] = -1.0 / h[-1], 1.0 / h[-1]
    rhs[-1] = 6.0 * third_divided_difference(x[-4:], y[-4:])
    second = solve_banded((1, 1), bands, rhs)
    return CubicSpline(x, y, bc_type=((2, second[0]), (2, second[-1])))
