"""Independent filtering, BH and R's lowess."""

import numpy as np
from glmstack.inference.fdr import bh_adjust, independent_filtering
from glmstack.rmath.lowess import r_lowess
from statsmodels.stats.multitest import multipletests

RNG = np.random.default_rng(5)


def test_bh_matches_statsmodels_and_skips_nan():
    p = RNG.uniform(size=200) ** 2
    p[[3, 50]] = np.nan
    ours = bh_adjust(p)
    ok = ~np.isnan(p)
    np.testing.assert_allclose(ours[ok], multipletests(p[ok], method="fdr_bh")[1], rtol=1e-14)
    assert np.isnan(ours[[3, 50]]).all()


def test_bh_equals_scipys_bit_for_bit_with_ties_and_extremes():
    from scipy.stats import false_discovery_control

    for size in (1, 2, 7, 1000):
        p = np.round(RNG.uniform(size=size) ** 3, 3)  # ties
        p[: size // 10] = RNG.choice([0.0, 1.0, 1e-300, 5e-324], size=size // 10)
        np.testing.assert_array_equal(bh_adjust(p), false_discovery_control(p, method="bh"))
    # R 4.2: p.adjust(c(0.01, 0.02, 0.03, 0.04, 0.05, 0.5, NA), "BH")
    p = np.array([0.01, 0.02, 0.03, 0.04, 0.05, 0.5, np.nan])
    np.testing.assert_allclose(bh_adjust(p), [0.06, 0.06, 0.06, 0.06, 0.06, 0.5, np.nan], rtol=1e-15)


def test_r_lowess_matches_r():
    # R 4.2: theta <- seq(0, 0.95, length = 50); lowess(numRej ~ theta, f = 1/5) with the
    # rejection counts below (mouse_diet arm_phase_interaction_lrt reference p-values)
    rejections = np.array([106.0] * 28 + [122, 125, 125, 125, 125, 125, 125, 125, 131, 132, 132, 132, 141, 141,
                                           147, 153, 154, 166, 171, 185, 199, 224])
    r_fit = np.array([106.0] * 28 + [125.0] * 9 + [132.0, 132.0] + [153.0] * 11)
    np.testing.assert_allclose(r_lowess(np.linspace(0, 0.95, 50), rejections, 0.2), r_fit, atol=1e-8)


def test_r_lowess_stops_when_the_mad_is_zero():
    # R: the same call on mouse_diet time_wald's counts returns the first, non-robust fit
    rejections = np.array([37.0] * 28 + [49] * 8 + [51] * 4 + [59, 59, 61, 62, 63, 70, 69, 75, 78, 89])
    fit = r_lowess(np.linspace(0, 0.95, 50), rejections, 0.2)
    np.testing.assert_allclose(fit[27:29], [42.28828015, 43.71232258], atol=1e-7)
    np.testing.assert_allclose(fit[-1], 75.0, atol=1e-7)


def test_filtering_removes_low_counts_and_gains_rejections():
    n = 4000
    base_mean = np.exp(RNG.uniform(-2, 8, n))
    signal = (base_mean > 50) & (RNG.uniform(size=n) < 0.3)
    p = np.where(signal, RNG.uniform(size=n) * 1e-4, RNG.uniform(size=n))
    result = independent_filtering(base_mean, p, 0.1)
    plain = bh_adjust(p)
    assert np.sum(result.padj < 0.1) >= np.sum(plain < 0.1)
    assert result.threshold > 0
    assert np.all(np.isnan(result.padj[base_mean < result.threshold]))


def test_few_rejections_mean_no_filtering():
    p = RNG.uniform(size=500)
    result = independent_filtering(np.exp(RNG.normal(size=500)), p, 0.1)
    assert result.theta == 0.0
    np.testing.assert_allclose(result.padj, bh_adjust(p))
