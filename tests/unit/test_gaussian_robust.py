"""glmstack.gaussian.robust: robust empirical Bayes (Phipson et al. 2016) against limma 3.54.1.

References: tests/data/gaussian/extra/make_robust.R (squeezeVar(robust = TRUE) on constructed
inputs, fitFDistRobustly's bulk and outlier df, and eBayes(robust = TRUE) with and without
trend = TRUE on golub and on rrbs_sle, whose missing values give unequal residual df).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from glmstack.gaussian import steps
from glmstack.gaussian.robust import (
    fit_prior_robust,
    log_f_sf,
    outlier_df,
    winsorised_log_f_moments,
)
from glmstack.gaussian.squeeze import fit_prior
from limma_cases import load_case
from scipy import integrate, optimize, stats

EXTRA = Path(__file__).parent.parent / "data" / "gaussian" / "extra"
CASES = pd.read_csv(EXTRA / "robust_cases.tsv.gz", sep="\t", na_values=["NA"])
SUMMARY = pd.read_csv(EXTRA / "robust_outlier_df.tsv", sep="\t").set_index("case")


def _case(label):
    rows = CASES[CASES["case"].str.strip() == label]
    covariate = rows["covariate"].to_numpy(dtype=float)
    return (
        rows["var"].to_numpy(dtype=float),
        rows["df"].to_numpy(dtype=float),
        None if np.all(np.isnan(covariate)) else covariate,
        rows,
    )


@pytest.mark.parametrize("label", list(SUMMARY.index))
def test_squeezevar_robust_matches_limma(label):
    var, df, covariate, rows = _case(label)
    prior = fit_prior_robust(var, df, covariate)
    rtol = 1e-6 if label == "mixed_df_trend" else 1e-7  # two outliers at 2e-7: limma's root tolerance
    np.testing.assert_allclose(prior.df_prior, rows["df_prior"], rtol=rtol, atol=1e-12)  # "ten": 0 vs R 2e-16
    np.testing.assert_allclose(prior.s2_prior, rows["var_prior"], rtol=1e-8)
    ok = np.isfinite(var)
    assert prior.df_prior[ok].max() == pytest.approx(SUMMARY.loc[label, "df2"], rel=1e-7)
    if np.isfinite(SUMMARY.loc[label, "df2_outlier"]):
        assert prior.df_prior[ok].min() >= SUMMARY.loc[label, "df2_outlier"] * (1 - 1e-7)
    np.testing.assert_array_equal(prior.df_prior[~ok], prior.df_prior[ok].max())  # no variance: the bulk d0


@pytest.mark.parametrize(
    "label",
    [c for c in SUMMARY.index if np.isfinite(SUMMARY.loc[c, "df2_outlier"]) and not c.startswith("mixed")],
)
def test_outlier_df_is_two_fixed_point_steps(label):
    """limma's df2.outlier = two steps of d <- d log(1/2) / log P(F > F_max; d) from the bulk d0."""
    var, df, covariate, _ = _case(label)
    prior = fit_prior_robust(var, df, covariate)
    ok = np.isfinite(var)
    f_max = np.max(np.maximum(var[ok], 1e-5 * np.median(var[ok])) / prior.s2_prior[ok])
    d0, expected = SUMMARY.loc[label, "df2"], SUMMARY.loc[label, "df2_outlier"]
    assert outlier_df(f_max, df[0], d0) == pytest.approx(expected, rel=1e-7)
    # the exact root of P(F(d, d_out) > F_max) = 1/2 lies below limma's value (it stops after two steps)
    exact = optimize.brentq(lambda v: np.exp(log_f_sf(np.array([f_max]), df[0], v)[0]) - 0.5, 1e-6, d0)
    assert 0.8 < exact / expected < 1.0


def test_outlier_df_survives_underflow():
    assert stats.f.sf(1e300, 4, 6.0) == 0.0
    log_p = log_f_sf(np.array([1e300, 1e6]), 4.0, 6.0)
    assert np.isfinite(log_p[0])
    assert log_p[1] == pytest.approx(stats.f.logsf(1e6, 4, 6.0), rel=1e-10)
    assert log_f_sf(np.array([1e12]), 4.0, 6.0)[0] == pytest.approx(
        np.log(stats.f.sf(1e12, 4, 6.0)), rel=1e-8
    )


@pytest.mark.parametrize("d2", [0.5, 4.0, 40.0, np.inf])
def test_winsorised_moments_by_density_quadrature(d2):
    dist, scale = (stats.chi2(4), 0.25) if np.isinf(d2) else (stats.f(4, d2), 1.0)
    lo, hi = np.log(dist.ppf(0.05) * scale), np.log(dist.isf(0.1) * scale)

    def dens(z):
        return dist.pdf(np.exp(z) / scale) * np.exp(z) / scale

    m1 = integrate.quad(lambda z: z * dens(z), lo, hi, epsabs=1e-13)[0] + 0.05 * lo + 0.1 * hi
    m2 = integrate.quad(lambda z: z * z * dens(z), lo, hi, epsabs=1e-13)[0] + 0.05 * lo**2 + 0.1 * hi**2
    mean, var = winsorised_log_f_moments(4.0, d2)
    assert mean == pytest.approx(m1, rel=1e-9, abs=1e-12)
    assert var == pytest.approx(m2 - m1**2, rel=1e-9)


def test_scale_and_order_equivariance():
    var, df, covariate, _ = _case("trend")
    prior = fit_prior_robust(var, df, covariate)
    scaled = fit_prior_robust(3.0 * var, df, covariate)
    np.testing.assert_allclose(scaled.s2_prior, 3.0 * prior.s2_prior, rtol=1e-10)
    np.testing.assert_allclose(scaled.df_prior, prior.df_prior, rtol=1e-9)
    order = np.random.default_rng(1).permutation(var.size)
    shuffled = fit_prior_robust(var[order], df[order], covariate[order])
    np.testing.assert_allclose(shuffled.df_prior, prior.df_prior[order], rtol=1e-12)
    np.testing.assert_allclose(shuffled.s2_prior, prior.s2_prior[order], rtol=1e-12)


def test_infinite_d0():
    """d0 = inf: outliers get (1 - prob.outlier) x the pooled df; raised to inf: the non-robust prior."""
    var, df, _, _ = _case("inf")
    prior = fit_prior_robust(var, df)
    finite = np.isfinite(prior.df_prior)
    assert 0 < finite.sum() < 10 and np.all(prior.df_prior[finite] < df.sum())
    var, df, _, _ = _case("inf_non_robust")
    prior, non_robust = fit_prior_robust(var, df), fit_prior(var, df)
    np.testing.assert_array_equal(prior.df_prior, np.inf)
    np.testing.assert_array_equal(prior.s2_prior, non_robust.s2_prior)


def test_robust_d0_is_never_below_the_non_robust_one():
    var, df, _, _ = _case("raised")
    robust = fit_prior_robust(var, df)
    assert robust.df_prior.max() == pytest.approx(fit_prior(var, df).df_prior[0], rel=1e-12)


def test_unequal_df_are_carried_to_the_largest_df():
    """Features at the largest df keep their variance; the others are mapped before the robust fit."""
    var, df, _, rows = _case("mixed_df")
    same = fit_prior_robust(var[df == 6], df[df == 6])
    assert np.all(np.isfinite(same.df_prior))
    prior = fit_prior_robust(var, df)
    np.testing.assert_allclose(prior.df_prior, rows["df_prior"], rtol=1e-7)
    order = np.random.default_rng(2).permutation(var.size)
    np.testing.assert_allclose(
        fit_prior_robust(var[order], df[order]).df_prior, prior.df_prior[order], rtol=1e-12
    )


@pytest.fixture(scope="module")
def golub():
    _, samples, ids, values, _ = load_case("golub")
    cell = (samples["cell"] == "AML").to_numpy(dtype=float)
    design = np.column_stack([np.ones_like(cell), cell])
    ref = pd.read_csv(EXTRA / "golub_robust.tsv.gz", sep="\t")
    assert list(ref["feature_id"]) == list(ids)
    return ids, values, design, ref


@pytest.mark.parametrize("trend", [False, True])
def test_golub_ebayes_robust_matches_limma(golub, trend):
    ids, values, design, ref = golub
    result = steps.moderated_tests(
        ids, values, design, {"aml": np.array([0.0, 1.0])}, trend=trend, robust=True
    )
    prefix = "trend_" if trend else ""
    moderation = result["moderation"]
    np.testing.assert_allclose(moderation.prior.df_prior, ref[prefix + "df_prior"], rtol=1e-8)
    np.testing.assert_allclose(moderation.prior.s2_prior, ref[prefix + "s2_prior"], rtol=1e-9)
    np.testing.assert_allclose(moderation.s2_post, ref[prefix + "s2_post"], rtol=1e-9)
    table = result["tables"]["aml"]
    np.testing.assert_allclose(table["t"], ref[prefix + "t"], rtol=1e-8)
    np.testing.assert_allclose(np.log10(table["P.Value"]), np.log10(ref[prefix + "P.Value"]), atol=1e-8)
    assert (moderation.prior.df_prior < moderation.prior.df_prior.max()).sum() > 100  # outliers were shrunk


@pytest.mark.parametrize("trend", [False, True])
def test_rrbs_with_missing_values_matches_limma(trend):
    """rrbs_sle: residual df 1 to 13 (missing values); eBayes(robust = TRUE) to 1e-9."""
    _, samples, ids, values, _ = load_case("rrbs_sle")
    cell = (samples["cell"] == "aN").to_numpy(dtype=float)
    case = (samples["case"] == "SLE").to_numpy(dtype=float)
    design = np.column_stack([np.ones_like(cell), cell, case])
    ref = pd.read_csv(EXTRA / "rrbs_robust.tsv.gz", sep="\t")
    result = steps.moderated_tests(
        ids, values, design, {"sle": np.array([0.0, 0.0, 1.0])}, trend=trend, robust=True
    )
    np.testing.assert_array_equal(result["fit"].df_residual, ref["df_residual"])
    assert np.unique(ref["df_residual"]).size > 5
    prefix = "trend_" if trend else ""
    prior, table = result["moderation"].prior, result["tables"]["sle"]
    np.testing.assert_allclose(prior.df_prior, ref[prefix + "df_prior"], rtol=1e-9)
    np.testing.assert_allclose(prior.s2_prior, ref[prefix + "s2_prior"], rtol=1e-9)
    np.testing.assert_allclose(table["t"], ref[prefix + "t"], rtol=1e-9, equal_nan=True)
    np.testing.assert_allclose(
        np.log10(table["P.Value"]), np.log10(ref[prefix + "P.Value"]), atol=1e-9, equal_nan=True
    )
