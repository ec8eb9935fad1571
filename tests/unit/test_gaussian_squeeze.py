"""glmstack.gaussian.squeeze: the variance prior against limma 3.54 fitFDist and hand calculations.

References: tests/data/gaussian/extra (make_extra.R records the R calls).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from glmstack.gaussian.ebayes import b_statistic, moderated_t, prior_coef_var, total_df
from glmstack.gaussian.lmfit import lm_fit
from glmstack.gaussian.squeeze import Prior, fit_prior, posterior_var, trigamma, trigamma_inverse
from scipy.special import digamma

EXTRA = Path(__file__).parent.parent / "data" / "gaussian" / "extra"


def test_trigamma_inverse_inverts():
    x = np.array([1e-8, 1e-3, 0.1, 1.0, 10.0, 1e4, 1e8])
    y = trigamma_inverse(x)
    mid = (x >= 1e-6) & (x <= 1e7)
    np.testing.assert_allclose(trigamma(y[mid]), x[mid], rtol=1e-10)
    np.testing.assert_allclose(y[~mid], [1e8, 1e-4], rtol=1e-12)


def test_moments_by_hand():
    rng = np.random.default_rng(5)
    s2 = 0.3 * rng.chisquare(5, 500) / 5 * np.exp(rng.normal(scale=0.7, size=500))
    d = np.full(500, 5.0)
    prior = fit_prior(s2, d)
    e = np.log(s2) - digamma(2.5) + np.log(2.5)
    excess = np.var(e, ddof=1) - trigamma(2.5)
    d0 = 2 * trigamma_inverse(np.array([excess]))[0]
    np.testing.assert_allclose(prior.df_prior, d0, rtol=1e-12)
    np.testing.assert_allclose(prior.s2_prior, np.exp(np.mean(e) + digamma(d0 / 2) - np.log(d0 / 2)), rtol=1e-12)


@pytest.mark.parametrize("label", ["plain", "zeros", "df_zero", "mixed_df", "constant"])
def test_fitfdist_matches_limma(label):
    ref = pd.read_csv(EXTRA / "fitfdist.tsv", sep="\t").set_index("label").loc[label]
    x = pd.read_csv(EXTRA / "fitfdist_x.tsv", sep="\t")["x"].to_numpy()
    d = np.full(200, 4.0)
    if label == "zeros":
        x = x.copy()
        x[:3] = 0.0
    elif label == "df_zero":
        d[:2] = 0.0
    elif label == "mixed_df":
        d[100:] = 2.0
    elif label == "constant":
        x, d = np.ones(50), np.full(50, 4.0)
    prior = fit_prior(x, d)
    np.testing.assert_allclose(prior.df_prior, float(ref["df2"]), rtol=1e-10)
    np.testing.assert_allclose(prior.s2_prior, float(ref["scale"]), rtol=1e-10)


def test_posterior_variance_edges():
    prior = Prior(np.array([4.0, np.inf, 4.0, 4.0]), np.full(4, 0.5))
    s2 = np.array([1.0, 1.0, np.nan, 2.0])
    d = np.array([6.0, 6.0, 0.0, 0.0])
    np.testing.assert_allclose(posterior_var(s2, d, prior), [(4 * 0.5 + 6) / 10, 0.5, 0.5, 0.5])


def test_trend_matches_limma_trend():
    ref = pd.read_csv(EXTRA / "golub_trend.tsv.gz", sep="\t")
    gdir = EXTRA.parent / "golub"
    values = pd.read_csv(gdir / "values.tsv.gz", sep="\t", index_col=0).to_numpy()
    cell = pd.read_csv(gdir / "samples.tsv.gz", sep="\t")["cell"].to_numpy()
    fit = lm_fit(values, np.column_stack([np.ones(cell.size), cell == "AML"]).astype(float))
    prior = fit_prior(fit.sigma**2, fit.df_residual, covariate=fit.amean)
    np.testing.assert_allclose(prior.df_prior, ref["df_prior"], rtol=1e-10)
    np.testing.assert_allclose(prior.s2_prior, ref["s2_prior"], rtol=1e-10)
    s2_post = posterior_var(fit.sigma**2, fit.df_residual, prior)
    np.testing.assert_allclose(s2_post, ref["s2_post"], rtol=1e-10)
    # the B-statistic's v0 limits use the median of a trended s0^2
    u = fit.stdev_unscaled[:, [1]]
    df_total = total_df(fit.df_residual, prior.df_prior)
    t = moderated_t(fit.coefficients[:, [1]], u, s2_post)
    b = b_statistic(t, u, df_total, prior_coef_var(t, u, df_total, prior.s2_prior))
    np.testing.assert_allclose(t[:, 0], ref["t"], rtol=1e-10)
    np.testing.assert_allclose(b[:, 0], ref["B"], rtol=1e-10, atol=1e-12)


def test_no_usable_variance():
    prior = fit_prior(np.array([np.nan, 1.0]), np.array([3.0, 0.0]))
    assert np.all(np.isnan(prior.df_prior)) and np.all(np.isnan(prior.s2_prior))
    empty = fit_prior(np.empty(0), np.empty(0))
    assert empty.df_prior.shape == (0,)
