"""Dispersion trend: the parametric fit recovers known coefficients, fallbacks work."""

import numpy as np
import pytest
from glmstack.nb.trend import DispersionTrend, TrendFitError, fit_trend, mean_trend, parametric_trend

RNG = np.random.default_rng(11)


def synthetic(a0=0.05, a1=2.0, n=4000):
    means = np.exp(RNG.uniform(np.log(1), np.log(1e4), n))
    # gene-wise estimates scatter around the trend like a scaled chi-square
    disps = (a0 + a1 / means) * RNG.chisquare(8, n) / 8
    return means, disps


def test_parametric_recovers_coefficients():
    means, disps = synthetic()
    coefs = parametric_trend(means, disps)
    assert coefs["asymptDisp"] == pytest.approx(0.05, rel=0.05)
    assert coefs["extraPois"] == pytest.approx(2.0, rel=0.05)


def test_parametric_failure_is_reported():
    means = np.exp(np.linspace(0, 8, 500))
    disps = 1e-3 * means  # increasing with the mean: a1 must turn negative
    with pytest.raises(TrendFitError):
        parametric_trend(means, disps)


def test_fallback_to_local(caplog):
    means = np.exp(np.linspace(0, 8, 500))
    disps = 1e-3 * means * np.exp(RNG.normal(0, 0.1, 500))
    trend = fit_trend(means, disps, "parametric")
    assert trend.fit_type == "local" and trend.requested == "parametric"
    assert "local regression" in caplog.text
    np.testing.assert_allclose(trend.evaluate(means), 1e-3 * means, rtol=0.1)


def test_mean_trend_is_trimmed_mean_above_floor():
    disps = np.concatenate([np.full(998, 0.1), [1e-9, 1e-9], [50.0, 0.2]])
    # 0.1 % trimmed mean of the 1000 estimates above 1e-7: drops the largest (50) and one
    # smallest (0.1)
    assert mean_trend(disps) == pytest.approx((997 * 0.1 + 0.2) / 998)
    trend = fit_trend(np.ones(disps.size), disps, "mean")
    assert isinstance(trend, DispersionTrend) and trend.evaluate(np.ones(3))[0] == trend.coefficients["mean"]


def test_parametric_evaluate():
    trend = DispersionTrend("parametric", "parametric", {"asymptDisp": 0.1, "extraPois": 2.0})
    np.testing.assert_allclose(trend.evaluate(np.array([1.0, 10.0])), [2.1, 0.3])


def test_too_few_genes_for_a_local_trend_is_a_clear_error():
    from glmstack.errors import StudyError

    with pytest.raises(StudyError, match="only 2 gene.* too few for a local dispersion trend.*fit_type: mean"):
        fit_trend(np.array([10.0, 100.0]), np.array([0.1, 0.05]), "local")
