"""Tail probabilities and quantiles of t, F and the normal, as scipy.stats computes them.

scipy.stats takes about 0.4 s to import (it parses its docstrings), more than a moderation job's
arithmetic. Its t, F and normal tails are scipy.special calls plus the edge cases below, so these
give its values bit for bit (tests/unit/test_tails.py) at the cost of scipy.special alone.
"""

from __future__ import annotations

import numpy as np
from scipy import special


def _args(*arrays) -> list[np.ndarray]:
    return list(np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in arrays)))


def _valid(*dfs: np.ndarray) -> np.ndarray:
    ok = np.ones(np.shape(dfs[0]), dtype=bool)
    for df in dfs:
        ok &= df > 0  # False for NaN
    return ok


def t_sf(x, df) -> np.ndarray:
    """P(T > x), T ~ t on df (df may be inf): scipy.stats.t.sf."""
    x, df = _args(x, df)
    with np.errstate(invalid="ignore"):
        out = special.stdtr(df, -x)
    out = np.where(x == np.inf, 0.0, np.where(x == -np.inf, 1.0, out))
    return np.where(_valid(df) & ~np.isnan(x), out, np.nan)[()]


def t_logsf(x, df) -> np.ndarray:
    """log P(T > x): log of the upper tail above the median, log1p of the lower one below it
    (scipy.stats.t.logsf)."""
    x, df = _args(x, df)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(x > 0, np.log(special.stdtr(df, -x)), np.log1p(-special.stdtr(df, x)))
    out = np.where(x == np.inf, -np.inf, np.where(x == -np.inf, 0.0, out))
    return np.where(_valid(df) & ~np.isnan(x), out, np.nan)[()]


def t_isf(q, df) -> np.ndarray:
    """x with P(T > x) = q: scipy.stats.t.isf."""
    q, df = _args(q, df)
    inside = (q > 0) & (q < 1)
    with np.errstate(invalid="ignore"):
        out = np.where(inside, -special.stdtrit(df, np.where(inside, q, 0.5)), np.nan)
    out = np.where(q == 0, np.inf, np.where(q == 1, -np.inf, out))
    return np.where(_valid(df) & ~np.isnan(q), out, np.nan)[()]


def f_sf(x, df1, df2) -> np.ndarray:
    """P(F > x), F ~ F(df1, df2): scipy.stats.f.sf."""
    x, df1, df2 = _args(x, df1, df2)
    with np.errstate(invalid="ignore"):
        out = special.fdtrc(df1, df2, np.where(x > 0, x, 1.0))
    out = np.where(x <= 0, 1.0, np.where(x == np.inf, 0.0, out))
    return np.where(_valid(df1, df2) & ~np.isnan(x), out, np.nan)[()]


def norm_isf(q) -> np.ndarray:
    """z with P(Z > z) = q: scipy.stats.norm.isf."""
    q = np.asarray(q, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where((q >= 0) & (q <= 1), -special.ndtri(q), np.nan)[()]
