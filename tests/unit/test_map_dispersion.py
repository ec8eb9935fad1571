"""MAP dispersions: the prior pulls estimates to the trend; outliers keep their own."""

import numpy as np
from glmstack.nb.genewise import genewise_dispersion
from glmstack.nb.map_dispersion import map_dispersion

RNG = np.random.default_rng(21)
DESIGN = np.column_stack([np.ones(6), [0, 0, 0, 1, 1, 1.0]])
SF = np.array([1.0, 0.9, 1.1, 1.05, 0.95, 1.0])


def test_shrinkage_towards_the_trend_and_outliers():
    mean = np.array([50.0, 50.0, 50.0])
    true_disp = np.array([0.05, 0.4, 3.0])
    mu = mean[:, None] * SF
    counts = RNG.negative_binomial(1 / true_disp[:, None], 1 / (1 + true_disp[:, None] * mu)).astype(float)
    gw = genewise_dispersion(counts, SF, DESIGN)
    trend = np.full(3, 0.1)
    fit = map_dispersion(counts, gw.mu, DESIGN, gw.disp, trend, prior_var=0.5, var_log_disp_ests=0.6)
    between = (np.minimum(gw.disp, trend) <= fit.disp_map + 1e-12) & (fit.disp_map <= np.maximum(gw.disp, trend) + 1e-12)
    assert between.all()
    outlier = np.log(gw.disp) > np.log(trend) + 2 * np.sqrt(0.6)
    np.testing.assert_array_equal(fit.outlier, outlier)
    np.testing.assert_allclose(fit.disp[outlier], gw.disp[outlier])
    np.testing.assert_allclose(fit.disp[~outlier], fit.disp_map[~outlier])


def test_tight_prior_returns_the_trend():
    counts = RNG.poisson(30, size=(4, 6)).astype(float)
    gw = genewise_dispersion(counts, SF, DESIGN)
    fit = map_dispersion(counts, gw.mu, DESIGN, gw.disp, np.full(4, 0.2), prior_var=1e-6, var_log_disp_ests=100.0)
    np.testing.assert_allclose(fit.disp, 0.2, rtol=1e-3)
