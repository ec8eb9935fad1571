"""The gene-wise step's fitted means, recomputed from its G x P coefficients by the jobs after
it, are bit for bit the means its own line search used (the MAP step and an LRT's Cook's
distances start from them)."""

import numpy as np
import pytest
from glmstack.nb import steps
from glmstack.nb.genewise import fitted_mu, genewise_dispersion, is_groups_only

RNG = np.random.default_rng(11)
N = 12
GROUPS = np.column_stack([np.ones(N), np.repeat([0.0, 1.0], N // 2)])
# a batch and a continuous trait: not one-way, so mu comes from the NB GLM
REGRESSION = np.column_stack([np.ones(N), np.tile([0.0, 1.0], N // 2), np.linspace(-1.0, 1.0, N)])


def _counts(n_genes: int) -> np.ndarray:
    means = RNG.gamma(0.6, 300.0, size=(n_genes, 1)) * RNG.uniform(0.5, 2.0, size=N)
    counts = RNG.negative_binomial(5.0, 5.0 / (5.0 + means)).astype(float)
    counts[0] = 0.0  # all zero
    counts[1, : N // 2] = 0.0  # a group of zeros: IRLS diverges, the optimiser refits it
    counts[2] = [0.0] * (N - 1) + [500.0]
    return counts


@pytest.mark.parametrize("design", [GROUPS, REGRESSION], ids=["one-way", "glm"])
@pytest.mark.parametrize("factors", ["size", "normalization"])
def test_fitted_mu_from_coefficients_is_the_steps_mu(design, factors):
    counts = _counts(300)
    sf = RNG.uniform(0.6, 1.7, size=N)
    offsets = sf if factors == "size" else sf * RNG.uniform(0.8, 1.25, size=counts.shape)
    nz = counts.sum(axis=1) > 0
    fit = genewise_dispersion(counts[nz], offsets if offsets.ndim == 1 else offsets[nz], design)
    assert is_groups_only(design) == (design is GROUPS)
    np.testing.assert_array_equal(fitted_mu(fit.coef, offsets if offsets.ndim == 1 else offsets[nz], design), fit.mu)
    assert fit.coef.shape == (nz.sum(), design.shape[1])


def test_genewise_step_stores_coefficients_and_genewise_mu_rebuilds_its_rows():
    counts = _counts(200)
    sf = RNG.uniform(0.6, 1.7, size=N)
    result = steps.genewise_step(counts, sf, REGRESSION)
    assert "mu" not in result and result["mu_coef"].shape == (200, 3)
    np.testing.assert_array_equal(np.isnan(result["mu_coef"]).all(axis=1), counts.sum(axis=1) == 0)
    assert result["all_zero"][0] and not np.isnan(result["mu_coef"][~result["all_zero"]]).any()
    nz = np.flatnonzero(~result["all_zero"])
    rebuilt = steps.genewise_mu(result, nz, sf, REGRESSION)
    direct = genewise_dispersion(counts[nz], sf, REGRESSION)
    np.testing.assert_array_equal(rebuilt["mu"], direct.mu)
    np.testing.assert_array_equal(rebuilt["disp_gene_est"], direct.disp)
    assert rebuilt["mu"].min() >= 0.5
