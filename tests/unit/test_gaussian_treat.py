"""glmstack.gaussian.treat: the interval-null test of McCarthy & Smyth (2009) by hand."""

from __future__ import annotations

import numpy as np
from glmstack.gaussian.ebayes import moderated_t, t_pvalue
from glmstack.gaussian.treat import treat_tests
from scipy import stats


def test_zero_threshold_is_the_moderated_t_test():
    est = np.array([[0.3], [-2.0], [np.nan]])
    u = np.array([[0.4], [0.4], [0.4]])
    s2 = np.array([0.5, 0.7, 0.5])
    df = np.array([12.0, 12.0, 12.0])
    t, p = treat_tests(est, u, s2, df, 0.0)
    np.testing.assert_allclose(t, moderated_t(est, u, s2), rtol=1e-14)
    np.testing.assert_allclose(p, t_pvalue(moderated_t(est, u, s2), df[:, None]), rtol=1e-12)


def test_threshold_by_hand():
    est = np.array([[0.5], [-2.5]])
    u = np.array([[0.5], [0.5]])
    s2 = np.array([1.0, 1.0])
    df = np.array([8.0, 8.0])
    t, p = treat_tests(est, u, s2, df, 1.0)
    se = 0.5
    np.testing.assert_allclose(t[:, 0], [0.0, -(2.5 - 1.0) / se])
    np.testing.assert_allclose(
        p[:, 0],
        [stats.t.sf((0.5 - 1) / se, 8) + stats.t.sf(1.5 / se, 8), stats.t.sf(1.5 / se, 8) + stats.t.sf(3.5 / se, 8)],
        rtol=1e-12,
    )
