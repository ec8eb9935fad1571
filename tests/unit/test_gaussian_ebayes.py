"""glmstack.gaussian.ebayes: moderated t, F and B against hand calculations and classical tests."""

from __future__ import annotations

import numpy as np
import statsmodels.api as sm
from glmstack.gaussian.contrasts import contrast_fit
from glmstack.gaussian.ebayes import b_statistic, moderated_f, moderated_t, prior_coef_var, t_pvalue, total_df
from glmstack.gaussian.lmfit import lm_fit
from scipy import stats


def _fit(g=30, n=10, seed=0):
    rng = np.random.default_rng(seed)
    design = np.column_stack([np.ones(n), np.tile([0.0, 1.0], n // 2), rng.normal(size=n)])
    values = rng.normal(size=(g, 3)) @ design.T + rng.normal(size=(g, n))
    return values, design, lm_fit(values, design)


def test_total_df_is_capped_at_pooled_df():
    np.testing.assert_array_equal(total_df(np.array([3.0, 4.0]), np.array([2.0, 2.0])), [5.0, 6.0])
    np.testing.assert_array_equal(total_df(np.array([3.0, 4.0]), np.full(2, np.inf)), [7.0, 7.0])


def test_zero_prior_df_gives_ordinary_t():
    values, design, fit = _fit()
    t = moderated_t(fit.coefficients, fit.stdev_unscaled, fit.sigma**2)
    ols = sm.OLS(values[4], design).fit()
    np.testing.assert_allclose(t[4], ols.tvalues, rtol=1e-10)
    np.testing.assert_allclose(t_pvalue(t, fit.df_residual[:, None])[4], ols.pvalues, rtol=1e-8)


def test_f_of_one_contrast_is_t_squared_and_matches_ols_f():
    values, design, fit = _fit()
    s2 = fit.sigma**2
    t = moderated_t(fit.coefficients, fit.stdev_unscaled, s2)
    one = moderated_f(t[:, [1]], np.eye(1), fit.df_residual)
    np.testing.assert_allclose(one.F, t[:, 1] ** 2, rtol=1e-12)
    cf = contrast_fit(fit, design, np.eye(3)[:, 1:])
    both = moderated_f(moderated_t(cf.coefficients, cf.stdev_unscaled, s2), cf.correlation, fit.df_residual)
    assert both.df1 == 2
    ols = sm.OLS(values[7], design).fit()
    test = ols.f_test(np.eye(3)[1:])
    np.testing.assert_allclose(both.F[7], float(np.squeeze(test.fvalue)), rtol=1e-10)
    np.testing.assert_allclose(both.p_value[7], float(test.pvalue), rtol=1e-8)


def test_f_with_redundant_contrasts_uses_the_rank():
    _, design, fit = _fit()
    c = np.array([[0, 0, 0], [1, 0, 1], [0, 1, 1]], dtype=float)  # third = first + second
    cf = contrast_fit(fit, design, c)
    t = moderated_t(cf.coefficients, cf.stdev_unscaled, fit.sigma**2)
    f = moderated_f(t, cf.correlation, fit.df_residual)
    two = contrast_fit(fit, design, c[:, :2])
    f2 = moderated_f(moderated_t(two.coefficients, two.stdev_unscaled, fit.sigma**2), two.correlation, fit.df_residual)
    assert f.df1 == 2
    np.testing.assert_allclose(f.F, f2.F, rtol=1e-8)


def test_b_statistic_by_hand():
    t = np.array([[0.0], [2.0], [-5.0]])
    u = np.array([[0.5], [0.5], [0.5]])
    d = np.array([10.0, 10.0, np.inf])
    v0 = np.array([2.0])
    b = b_statistic(t, u, d, v0, proportion=0.01)
    r = (0.25 + 2.0) / 0.25
    expected = [
        np.log(0.01 / 0.99) - np.log(r) / 2,
        np.log(0.01 / 0.99) - np.log(r) / 2 + 11 / 2 * np.log((4 + 10) / (4 / r + 10)),
        np.log(0.01 / 0.99) - np.log(r) / 2 + 25 * (1 - 1 / r) / 2,
    ]
    np.testing.assert_allclose(b[:, 0], expected, rtol=1e-12)


def test_prior_coef_var_by_hand():
    # 200 features, proportion 0.01: the single largest |t| decides v0
    t = np.zeros((200, 1))
    t[:, 0] = np.linspace(-2, 2, 200)
    t[17, 0] = 8.0
    u = np.full((200, 1), 0.5)
    d = np.full(200, 20.0)
    v0 = prior_coef_var(t, u, d, np.full(200, 1.0), proportion=0.01, stdev_coef_lim=(0.1, 4.0))
    p0 = 2 * stats.t.sf(8.0, 20)
    ptarget = (0.5 / 200 - 0.99 * p0) / 0.01
    q = stats.t.isf(ptarget / 2, 20)
    np.testing.assert_allclose(v0, 0.25 * ((8.0 / q) ** 2 - 1), rtol=1e-10)
    # the limits bind: a tiny effect gives 0.1^2 / s0^2
    t[17, 0] = 2.1
    np.testing.assert_allclose(prior_coef_var(t, u, d, np.full(200, 4.0)), [0.01 / 4.0])


def test_edge_features_match_limma():
    """df 0, no observation and inestimable coefficients (tests/data/gaussian/extra/make_extra.R)."""
    from pathlib import Path

    import pandas as pd
    from glmstack.gaussian import steps

    extra = Path(__file__).parent.parent / "data" / "gaussian" / "extra"
    values = pd.read_csv(extra / "edge_values.tsv", sep="\t", na_values=["NA"]).to_numpy(dtype=float)
    ref = pd.read_csv(extra / "edge_fit.tsv", sep="\t", na_values=["NA", "NaN"], skipinitialspace=True)
    design = np.column_stack([np.ones(8), np.repeat([0.0, 1.0], 4)])
    ids = np.array([f"f{i}" for i in range(values.shape[0])])
    out = steps.moderated_tests(ids, values, design, {"gb": np.array([0.0, 1.0])})
    table, fit, moderation = out["tables"]["gb"], out["fit"], out["moderation"]
    for ours, column in ((table["logFC"], "coef"), (table["t"], "t"), (table["P.Value"], "P.Value"), (table["B"], "B")):
        np.testing.assert_array_equal(np.isnan(ours.to_numpy()), ref[column].isna().to_numpy(), err_msg=column)
        np.testing.assert_allclose(ours, ref[column], rtol=1e-10, equal_nan=True, err_msg=column)
    np.testing.assert_allclose(fit.sigma, ref["sigma"], rtol=1e-10, equal_nan=True)
    np.testing.assert_array_equal(fit.df_residual, ref["df_residual"])
    np.testing.assert_allclose(moderation.s2_post, ref["s2_post"], rtol=1e-10)
    np.testing.assert_array_equal(moderation.prior.df_prior, ref["df_prior"])
    np.testing.assert_allclose(fit.amean, ref["Amean"], rtol=1e-12, equal_nan=True)
