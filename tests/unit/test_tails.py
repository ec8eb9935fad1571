"""glmstack.inference.tails gives scipy.stats's t, F and normal tails bit for bit, edge cases included."""

from __future__ import annotations

import numpy as np
import pytest
from glmstack.inference import tails
from scipy import stats

X = np.concatenate([[-np.inf, -1e300, -50.0, -3.0, -1e-300, 0.0, 1e-300, 0.5, 1.0, 7.5, 40.0, 1e5, 1e300, np.inf,
                     np.nan], np.random.default_rng(1).standard_t(3, 200) * 4])
DF = np.array([-1.0, 0.0, 1e-3, 0.5, 1.0, 2.7, 4.0, 30.0, 1e3, 1e7, np.inf, np.nan])
Q = np.concatenate([[-0.1, 0.0, 5e-324, 1e-300, 1e-20, 0.025, 0.5, 0.975, 1 - 1e-16, 1.0, 1.5, np.nan],
                    np.random.default_rng(2).uniform(size=100)])


@pytest.mark.parametrize(("ours", "theirs"), [(tails.t_sf, stats.t.sf), (tails.t_logsf, stats.t.logsf)])
def test_t_tails_match_scipy_stats(ours, theirs):
    x, df = np.meshgrid(X, DF)
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(ours(x, df), theirs(x, df))


def test_t_quantiles_match_scipy_stats():
    q, df = np.meshgrid(Q, DF)
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(tails.t_isf(q, df), stats.t.isf(q, df))


def test_f_tail_matches_scipy_stats():
    x, d1, d2 = np.meshgrid(np.abs(X[:40]) * np.sign(X[:40] + 3), DF, DF)
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(tails.f_sf(x, d1, d2), stats.f.sf(x, d1, d2))


def test_normal_quantile_matches_scipy_stats():
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(tails.norm_isf(Q), stats.norm.isf(Q))


def test_scalars_stay_scalars():
    assert isinstance(tails.t_sf(1.0, 3.0), float) and tails.t_isf(0.025, np.inf) == stats.t.isf(0.025, np.inf)
