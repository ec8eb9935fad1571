"""glmstack.gaussian.contrasts: contrast estimates and limma's shared-correlation standard errors."""

from __future__ import annotations

import numpy as np
import statsmodels.api as sm
from glmstack.gaussian.contrasts import contrast_fit, dropped_contrasts
from glmstack.gaussian.lmfit import lm_fit


def _data(g=25, n=12, seed=0):
    rng = np.random.default_rng(seed)
    group = np.repeat([0, 1, 2], n // 3)
    design = np.column_stack([np.ones(n), group == 1, group == 2, rng.normal(size=n)]).astype(float)
    return rng.normal(size=(g, 4)) @ design.T + rng.normal(size=(g, n)), design


def test_contrast_matches_ols_t_test():
    values, design = _data()
    c = np.array([0.0, -1.0, 1.0, 0.0])
    fit = lm_fit(values, design)
    cf = contrast_fit(fit, design, c)
    ols = sm.OLS(values[3], design).fit()
    test = ols.t_test(c)
    np.testing.assert_allclose(cf.coefficients[3, 0], float(np.squeeze(test.effect)), rtol=1e-12)
    np.testing.assert_allclose(cf.stdev_unscaled[3, 0] * fit.sigma[3], float(np.squeeze(test.sd)), rtol=1e-10)


def test_shared_correlation_is_exact_without_missing_values_and_approximate_with():
    values, design = _data()
    c = np.array([0.0, -1.0, 1.0, 0.5])
    values[2, [0, 4, 8]] = np.nan
    fit = lm_fit(values, design)
    limma_way = contrast_fit(fit, design, c)
    exact = contrast_fit(fit, design, c, exact=True)
    complete = np.isfinite(values).all(axis=1)
    np.testing.assert_allclose(limma_way.stdev_unscaled[complete], exact.stdev_unscaled[complete], rtol=1e-12)
    assert not np.isclose(limma_way.stdev_unscaled[2, 0], exact.stdev_unscaled[2, 0], rtol=1e-6)
    keep = np.isfinite(values[2])
    ols = sm.OLS(values[2, keep], design[keep]).fit()
    np.testing.assert_allclose(exact.stdev_unscaled[2, 0] * fit.sigma[2], float(np.squeeze(ols.t_test(c).sd)), rtol=1e-10)


def test_inestimable_coefficient_only_matters_with_weight():
    values, design = _data()
    values[1, 4:8] = np.nan  # group 1 unobserved: its column is inestimable
    fit = lm_fit(values, design)
    assert np.isnan(fit.coefficients[1, 1])
    cf = contrast_fit(fit, design, np.array([[0, 0], [1, 0], [0, 1], [0, 0]], dtype=float))
    assert np.isnan(cf.coefficients[1, 0]) and np.isnan(cf.stdev_unscaled[1, 0])
    assert np.isfinite(cf.coefficients[1, 1]) and np.isfinite(cf.stdev_unscaled[1, 1])


def test_dropped_contrasts():
    _, design = _data()
    np.testing.assert_array_equal(dropped_contrasts(design, design[:, [0, 3]]), np.eye(4)[:, [1, 2]])
    # a reduced design that is not a column subset: group 1 and 2 merged
    reduced = np.column_stack([design[:, 0], design[:, 1] + design[:, 2], design[:, 3]])
    c = dropped_contrasts(design, reduced)
    assert c.shape == (4, 1)
    np.testing.assert_allclose(np.abs(c[:, 0]) , np.array([0, 1, 1, 0]) / np.sqrt(2), atol=1e-12)
