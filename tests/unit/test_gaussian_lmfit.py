"""glmstack.gaussian.lmfit against statsmodels OLS/WLS on single features, NA patterns, shards."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from glmstack.gaussian.lmfit import concatenate, estimable_columns, lm_fit


def _data(g=40, n=12, seed=0):
    rng = np.random.default_rng(seed)
    design = np.column_stack([np.ones(n), np.repeat([0.0, 1.0], n // 2), rng.normal(size=n)])
    values = rng.normal(size=(g, 3)) @ design.T + rng.normal(size=(g, n))
    return values, design


def test_matches_statsmodels_ols_per_feature():
    values, design = _data()
    fit = lm_fit(values, design)
    for i in (0, 17, 39):
        ols = sm.OLS(values[i], design).fit()
        np.testing.assert_allclose(fit.coefficients[i], ols.params, rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(fit.sigma[i], np.sqrt(ols.scale), rtol=1e-12)
        np.testing.assert_allclose(fit.stdev_unscaled[i] * fit.sigma[i], ols.bse, rtol=1e-12)
        np.testing.assert_allclose(fit.cov_unscaled[i] * fit.sigma[i] ** 2, ols.cov_params(), rtol=1e-10, atol=1e-14)
    assert np.all(fit.df_residual == 9)
    np.testing.assert_allclose(fit.amean, values.mean(axis=1), rtol=1e-14)


def test_missing_values_fit_on_observed_samples():
    values, design = _data()
    values[3, [0, 5]] = np.nan
    values[4, [0, 5]] = np.nan  # same pattern as feature 3
    values[7, 11] = np.nan
    fit = lm_fit(values, design)
    for i, keep in ((3, [1, 2, 3, 4, 6, 7, 8, 9, 10, 11]), (7, list(range(11)))):
        ols = sm.OLS(values[i, keep], design[keep]).fit()
        np.testing.assert_allclose(fit.coefficients[i], ols.params, rtol=1e-12)
        np.testing.assert_allclose(fit.sigma[i], np.sqrt(ols.scale), rtol=1e-12)
        assert fit.df_residual[i] == len(keep) - 3
        np.testing.assert_allclose(fit.amean[i], np.nanmean(values[i]), rtol=1e-14)


def test_inestimable_coefficient_is_nan_as_limma():
    values, design = _data()
    values[5, 6:] = np.nan  # group column constant (0) on the observed samples
    values[6, :] = np.nan
    values[8, :10] = np.nan  # two samples of one group: intercept and group alias; rank 2, df 0
    fit = lm_fit(values, design)
    assert np.isnan(fit.coefficients[5, 1]) and np.isnan(fit.stdev_unscaled[5, 1])
    ols = sm.OLS(values[5, :6], design[:6, [0, 2]]).fit()
    np.testing.assert_allclose(fit.coefficients[5, [0, 2]], ols.params, rtol=1e-12)
    assert fit.df_residual[5] == 4
    assert np.all(np.isnan(fit.coefficients[6])) and fit.df_residual[6] == 0 and np.isnan(fit.amean[6])
    assert fit.df_residual[8] == 0 and np.isnan(fit.sigma[8]) and np.isnan(fit.coefficients[8, 1])


def test_estimable_columns_drops_later_dependent_column():
    x = np.column_stack([np.ones(5), np.arange(5.0), 2 * np.arange(5.0) + 1, np.zeros(5)])
    assert estimable_columns(x).tolist() == [True, True, False, False]


def test_weights_match_statsmodels_wls():
    values, design = _data()
    rng = np.random.default_rng(3)
    weights = rng.uniform(0.2, 3.0, size=values.shape)
    values[2, 4] = np.nan
    fit = lm_fit(values, design, weights)
    for i in (0, 2, 30):
        keep = np.isfinite(values[i])
        wls = sm.WLS(values[i, keep], design[keep], weights=weights[i, keep]).fit()
        np.testing.assert_allclose(fit.coefficients[i], wls.params, rtol=1e-11)
        np.testing.assert_allclose(fit.sigma[i], np.sqrt(wls.scale), rtol=1e-11)
        np.testing.assert_allclose(fit.stdev_unscaled[i] * fit.sigma[i], wls.bse, rtol=1e-11)
    # a zero weight is a missing observation
    w0 = weights.copy()
    w0[9, 3] = 0.0
    v0 = values.copy()
    v0[9, 3] = np.nan
    np.testing.assert_allclose(lm_fit(values, design, w0).coefficients[9], lm_fit(v0, design, weights).coefficients[9], rtol=1e-12)


@pytest.mark.parametrize("weighted", [False, True])
def test_shards_give_the_same_fit(weighted):
    values, design = _data(g=60)
    values[np.random.default_rng(1).random(values.shape) < 0.1] = np.nan
    weights = np.random.default_rng(2).uniform(0.5, 2, values.shape) if weighted else None
    whole = lm_fit(values, design, weights)
    parts = [slice(0, 13), slice(13, 41), slice(41, 60)]
    sharded = concatenate([lm_fit(values[s], design, None if weights is None else weights[s]) for s in parts])
    for name in whole.__dataclass_fields__:
        np.testing.assert_allclose(getattr(sharded, name), getattr(whole, name), rtol=1e-12, atol=1e-12, equal_nan=True)


def test_empty_shard():
    _, design = _data()
    fit = lm_fit(np.empty((0, 12)), design)
    assert fit.coefficients.shape == (0, 3) and fit.cov_unscaled.shape == (0, 3, 3) and fit.sigma.shape == (0,)
