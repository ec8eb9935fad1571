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


def test_a_genes_trace_does_not_depend_on_the_genes_beside_it():
    """The Cox-Reid derivative's trace of one gene is the same in a block of 5,088 genes, of
    1,500 or alone (np.sum along the rows rounded differently by the block's size: marioni's
    sharded and unsharded gene-wise dispersions differed in the last bits, then the MAP's)."""
    rng = np.random.default_rng(0)
    design = rng.normal(size=(10, 4))
    n_genes = 5088
    w = np.abs(rng.normal(size=(n_genes, 10))) * np.exp(rng.normal(size=(n_genes, 1)) * 3)
    a = rng.normal(size=(n_genes, 4, 4))
    a = a + a.transpose(0, 2, 1)
    whole = gram.trace_product(a, design, w)
    for start in range(0, n_genes, 1500):
        block = slice(start, start + 1500)
        np.testing.assert_array_equal(gram.trace_product(a[block], design, w[block]), whole[block])
    for g in range(0, n_genes, 7):
        assert gram.trace_product(a[g : g + 1], design, w[g : g + 1])[0] == whole[g]
    expected = np.einsum("gpq,gqp->g", a, np.einsum("np,gn,nq->gpq", design, w, design))
    np.testing.assert_allclose(whole, expected, rtol=1e-9)  # A is not definite: some traces cancel


@pytest.mark.parametrize("n_samples", [40, 12_345])
def test_a_genes_products_with_the_design_do_not_depend_on_the_genes_beside_it(n_samples):
    """Each gene's product is its own BLAS call (numpy's matvec and vecmat): the same bits for a
    gene alone, in a block, or among all (also past 10,000 samples, where OpenBLAS would split
    one long dot product over its threads)."""
    rng = np.random.default_rng(n_samples)
    design = rng.normal(size=(n_samples, 5))
    w = rng.random((301, n_samples))
    beta = rng.normal(size=(301, 5))
    whole = gram.row_products(w, design.T)
    predictor = gram.row_combinations(beta, design.T)
    np.testing.assert_allclose(whole, w @ design, rtol=1e-10, atol=1e-8)
    np.testing.assert_allclose(predictor, beta @ design.T, rtol=1e-9, atol=1e-9)
    for rows in (slice(0, 1), slice(7, 8), slice(3, 260), slice(100, 301)):
        np.testing.assert_array_equal(gram.row_products(w[rows], design.T), whole[rows])
        np.testing.assert_array_equal(gram.row_combinations(beta[rows], design.T), predictor[rows])
