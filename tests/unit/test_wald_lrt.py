"""Wald tests (with fold-change thresholds) and the LRT against hand calculations."""

import numpy as np
import pytest
from glmstack.inference.nested import likelihood_ratio_test
from glmstack.inference.wald import LOG2E, contrast_estimate, wald_test
from glmstack.rmath.chisq import chi2_upper_tail
from scipy.stats import chi2, norm

LFC = np.array([2.0, -0.5, 0.2, -3.0])
SE = np.array([0.5, 0.25, 0.1, 1.0])


def test_plain_wald():
    stat, p = wald_test(LFC, SE)
    np.testing.assert_allclose(stat, LFC / SE)
    np.testing.assert_allclose(p, 2 * norm.sf(np.abs(LFC / SE)))


def test_greater_abs_threshold():
    stat, p = wald_test(LFC, SE, 1.0, "greaterAbs")
    np.testing.assert_allclose(stat, [2.0, 0.0, 0.0, -2.0])
    np.testing.assert_allclose(p, np.minimum(1, 2 * norm.sf((np.abs(LFC) - 1) / SE)))


def test_less_abs_threshold():
    stat, p = wald_test(LFC, SE, 1.0, "lessAbs")
    # |lfc| < 1: the larger of the two one-sided p-values
    expected = np.maximum(norm.sf((1 - LFC) / SE), norm.sf((LFC + 1) / SE))
    np.testing.assert_allclose(p, expected)
    assert p[2] < 1e-10 and p[0] > 0.9
    assert stat[1] == pytest.approx(2.0)


def test_one_sided_thresholds():
    _, greater = wald_test(LFC, SE, 0.5, "greater")
    np.testing.assert_allclose(greater, norm.sf((LFC - 0.5) / SE))
    _, less = wald_test(LFC, SE, 0.5, "less")
    np.testing.assert_allclose(less, norm.sf((-0.5 - LFC) / SE))


def test_contrast_estimate_uses_the_covariance():
    beta = np.array([[1.0, 0.5, -0.25]])
    cov = np.array([[[0.04, 0.01, 0.0], [0.01, 0.09, 0.02], [0.0, 0.02, 0.16]]])
    c = np.array([0.0, 1.0, -1.0])
    lfc, se = contrast_estimate(beta, cov, c)
    assert lfc[0] == pytest.approx(0.75 * LOG2E)
    assert se[0] == pytest.approx(np.sqrt(0.09 + 0.16 - 2 * 0.02) * LOG2E)


def test_lrt_statistic_and_p_value():
    stat, p = likelihood_ratio_test(np.array([-10.0, -50.0]), np.array([-12.5, -50.0]), 2)
    np.testing.assert_allclose(stat, [5.0, 0.0])
    np.testing.assert_allclose(p, chi2.sf([5.0, 0.0], 2))


def test_lrt_statistic_just_below_zero_is_p_one():
    _, p = likelihood_ratio_test(np.array([-10.0]), np.array([-10.0 + 1e-12]), 1)
    assert p[0] == 1.0


def test_lrt_p_values_reach_the_subnormal_range_like_r():
    # R 4.2: pchisq(c(1450, 1480, 1490), 3, lower.tail = FALSE)
    r_values = np.array([4.16316752324202e-314, 1.28654694177061e-320, 8.89318162514244e-323])
    ours = chi2_upper_tail(np.array([1450.0, 1480.0, 1490.0]), 3)
    np.testing.assert_allclose(ours, r_values, rtol=1e-3)  # subnormals keep few digits
    assert np.all(np.diff(ours) < 0)
