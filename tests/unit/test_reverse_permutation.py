"""glmstack.reverse.permutation: the plan, Freedman-Lane traits, calibrated p-values."""

from __future__ import annotations

import numpy as np
import pytest
from glmstack.reverse.permutation import (
    calibrated_pvalues,
    freedman_lane_traits,
    gpd_fit,
    gpd_survival,
    permutation_plan,
)
from glmstack.reverse.rlm import rlm_fitted


def test_plan_is_seeded_and_made_of_permutations():
    plan = permutation_plan(12, 50, seed=7)
    assert plan.shape == (50, 12)
    assert (np.sort(plan, axis=1) == np.arange(12)).all()
    np.testing.assert_array_equal(plan, permutation_plan(12, 50, seed=7))
    assert not np.array_equal(plan, permutation_plan(12, 50, seed=8))


def test_freedman_lane_adds_permuted_residuals_to_robust_fitted_values():
    rng = np.random.default_rng(1)
    covariates = np.column_stack([np.ones(10), np.repeat([0.0, 1.0], 5)])
    trait = rng.normal(size=10)
    plan = np.stack([np.arange(10), np.arange(10)[::-1]])
    traits = freedman_lane_traits(trait, covariates, plan)
    np.testing.assert_allclose(traits[0], trait)  # the identity gives the trait back
    fitted = rlm_fitted(trait, covariates)  # the reduced model is fitted robustly
    np.testing.assert_allclose(traits[1], fitted + (trait - fitted)[::-1])


def test_pvalue_counts_exceedances_of_the_features_own_null():
    null = np.tile(np.arange(1.0, 101.0), (3, 1))  # |t| 1..100
    null[1] *= -1  # two-sided: signs do not matter
    observed = np.array([50.5, -50.5, np.nan])
    p = calibrated_pvalues(observed, null)
    np.testing.assert_allclose(p[:2], (50 + 1) / 101)
    assert np.isnan(p[2])


def test_beyond_every_null_value_the_tail_is_generalised_pareto():
    rng = np.random.default_rng(5)
    null = rng.exponential(1.0, size=(200, 1000))
    observed = np.full(200, 12.0)  # beyond every null value (max ~ 7.5)
    p = calibrated_pvalues(observed, null)
    assert (p <= 1 / 1001).all()
    # exponential tail: P(|t| > 12) = exp(-12); the fit finds it within a factor of a few, and
    # errs on the large side (shape estimates near 0 are held at >= 0)
    assert np.exp(-12.0) < np.median(p) < 4 * np.exp(-12.0)


def test_gpd_fit_recovers_shape_and_scale_and_keeps_shape_non_negative():
    rng = np.random.default_rng(9)
    shape, scale = 0.2, 1.5
    u = rng.uniform(size=(1, 20000))
    sample = scale / shape * ((1 - u) ** -shape - 1)  # GPD quantile function
    fitted_scale, fitted_shape = gpd_fit(sample)
    assert fitted_shape[0] == pytest.approx(shape, abs=0.03)
    assert fitted_scale[0] == pytest.approx(scale, rel=0.05)
    bounded = rng.uniform(size=(1, 2000))  # GPD shape -1: held at 0 (exponential)
    assert gpd_fit(bounded)[1][0] == 0.0
    assert gpd_survival(np.array([1.0]), np.array([1.0]), np.array([0.0]))[0] == pytest.approx(np.exp(-1))
