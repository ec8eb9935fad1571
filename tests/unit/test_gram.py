"""Weighted Gram matrices, Cox-Reid traces and hat diagonals against plain sums."""

import numpy as np
import pytest
from glmstack.nb import gram


@pytest.mark.parametrize("n_coef", [1, 2, 3, 6])
def test_gram_helpers_match_the_plain_sums(n_coef):
    rng = np.random.default_rng(n_coef)
    design = rng.normal(size=(11, n_coef))
    w = rng.random((7, 11))
    a = rng.normal(size=(7, n_coef, n_coef))
    a = a + a.transpose(0, 2, 1)  # symmetric, as the inverses the callers pass
    expected = np.stack([design.T @ np.diag(wg) @ design for wg in w])
    np.testing.assert_allclose(gram.weighted_gram(design, w), expected, rtol=1e-13)
    quad = np.stack([np.einsum("np,pq,nq->n", design, ag, design) for ag in a])
    np.testing.assert_allclose(gram.quadratic_diagonal(design, a), quad, rtol=1e-12, atol=1e-12)
    trace = np.array([np.trace(ag @ eg) for ag, eg in zip(a, expected)])
    np.testing.assert_allclose(gram.trace_product(a, design, w), trace, rtol=1e-12, atol=1e-12)


def test_gram_of_a_gene_does_not_depend_on_its_neighbours():
    rng = np.random.default_rng(3)
    design = rng.normal(size=(40, 3))
    w = rng.random((300, 40))
    whole = gram.weighted_gram(design, w)
    for g in (0, 137, 299):
        assert np.array_equal(gram.weighted_gram(design, w[g : g + 1])[0], whole[g])
