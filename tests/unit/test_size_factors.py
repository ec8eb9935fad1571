"""Size factors against hand calculations."""

import numpy as np
import pytest
from glmstack.errors import StudyError
from glmstack.nb.size_factors import base_means, column_medians, size_factors


def test_ratio_by_hand():
    counts = np.array([[10.0, 20.0, 40.0], [5.0, 10.0, 20.0], [3.0, 3.0, 3.0]])
    # per gene: ratios to the geometric mean; sample 1 ratios: 10/20, 5/10, 3/3
    geo = np.exp(np.log(counts).mean(axis=1))
    expected = np.median(counts / geo[:, None], axis=0)
    np.testing.assert_allclose(size_factors(counts, "ratio"), expected, rtol=1e-15)
    assert expected[1] == pytest.approx(1.0)


def test_ratio_ignores_genes_with_a_zero():
    counts = np.array([[10.0, 20.0], [0.0, 7.0], [4.0, 8.0]])
    np.testing.assert_allclose(size_factors(counts, "ratio"), np.sqrt([0.5, 2.0]), rtol=1e-15)


def test_poscounts_scaled_to_geometric_mean_one():
    counts = np.array([[0.0, 4.0, 8.0], [2.0, 0.0, 6.0], [1.0, 3.0, 9.0]])
    sf = size_factors(counts, "poscounts")
    assert np.exp(np.mean(np.log(sf))) == pytest.approx(1.0)
    # gene 1's pseudo-reference: product of positive counts, n-th root over all n samples
    log_geo = np.array([np.log(32.0) / 3, np.log(12.0) / 3, np.log(27.0) / 3])
    ratios = np.where(counts > 0, np.log(np.where(counts > 0, counts, 1)) - log_geo[:, None], np.nan)
    raw = np.exp(np.nanmedian(ratios, axis=0))
    np.testing.assert_allclose(sf, raw / np.exp(np.mean(np.log(raw))), rtol=1e-14)


def test_every_gene_with_a_zero_suggests_poscounts():
    counts = np.array([[0.0, 1.0], [1.0, 0.0]])
    with pytest.raises(StudyError, match="size_factors_method: poscounts"):
        size_factors(counts, "ratio")


def test_base_means_are_means_of_normalised_counts():
    counts = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    sf = np.array([0.5, 1.0, 2.0])
    np.testing.assert_allclose(base_means(counts, sf), [(2.0 + 2.0 + 1.5) / 3, 0.0], rtol=1e-15)


def test_memory_layout_changes_no_bit():
    rng = np.random.default_rng(7)
    counts = rng.negative_binomial(3, 0.02, size=(3000, 9)).astype(float) + 1
    np.testing.assert_array_equal(size_factors(np.asfortranarray(counts)), size_factors(counts))


def test_ratio_factors_are_the_nan_aware_medians_bit_for_bit():
    """Without zeros among the reference genes the plain column median is taken (nanmedian
    goes column by column in Python): the same doubles."""
    rng = np.random.default_rng(5)
    counts = rng.negative_binomial(3, 0.02, size=(3000, 41)).astype(float)
    usable = np.all(counts > 0, axis=1)
    log_geo = np.log(counts[usable]).mean(axis=1)
    expected = np.exp(np.nanmedian(np.log(counts[usable]) - log_geo[:, None], axis=0))
    assert np.array_equal(size_factors(counts).view(np.int64), expected.view(np.int64))


@pytest.mark.parametrize("n_genes", [1, 2, 7, 1000, 1001])
def test_column_medians_are_numpys(n_genes):
    """The median of each column from its middle order statistics equals np.median's, to the
    last bit (odd and even counts, ties), and the matrix is left as it was in either layout."""
    rng = np.random.default_rng(n_genes)
    values = rng.normal(size=(n_genes, 9)) * rng.choice([1.0, 1e-8, 1e5], size=(n_genes, 9))
    values[:, 3] = np.round(values[:, 3], 1)
    values[:, 5] = 0.25
    for layout in (values, np.asfortranarray(values)):
        before = layout.copy()
        np.testing.assert_array_equal(column_medians(layout), np.median(values, axis=0))
        np.testing.assert_array_equal(layout, before)
