"""Cook's distances and outlier replacement against hand calculations."""

import numpy as np
import pytest
from glmstack.nb import blocks
from glmstack.nb.cooks import (
    cooks_cutoff,
    cooks_distance,
    max_cooks,
    n_or_more_in_cell,
    replacement_counts,
    robust_dispersion,
    trimmed_mean,
)
from scipy.stats import f as f_dist

DESIGN = np.column_stack([np.ones(7), [0, 0, 0, 0, 1, 1, 1.0]])


def test_trimmed_mean_as_r():
    x = np.array([[1.0, 2.0, 3.0, 4.0, 100.0, 6.0, 7.0, 8.0, 9.0, 10.0]])
    # R: mean(x, trim = 0.2) drops floor(10 * 0.2) = 2 values at each end
    assert trimmed_mean(x, 0.2)[0] == pytest.approx(np.mean([3.0, 4.0, 6.0, 7.0, 8.0, 9.0]))
    assert trimmed_mean(x, 0.0)[0] == pytest.approx(x.mean())


def test_cells():
    design = np.column_stack([np.ones(6), [0, 0, 0, 1, 1, 0.0], [0, 1, 0, 1, 1, 0.0]])
    # rows: (0,0) x3 , (0,1) x1, (1,1) x2
    np.testing.assert_array_equal(n_or_more_in_cell(design, 3), [True, False, True, False, False, True])


def test_cooks_distance_by_hand():
    counts = np.array([[10.0, 12.0, 9.0, 40.0, 30.0, 33.0, 29.0]])
    mu = np.array([[17.75, 17.75, 17.75, 17.75, 30.6, 30.6, 30.6]])
    hat = np.array([[0.25, 0.25, 0.25, 0.25, 1 / 3, 1 / 3, 1 / 3]])
    normalized = counts
    alpha = robust_dispersion(normalized, DESIGN)
    expected = (counts - mu) ** 2 / (mu + alpha[0] * mu**2) / 2 * hat / (1 - hat) ** 2
    np.testing.assert_allclose(cooks_distance(counts, mu, hat, alpha, 2), expected)


@pytest.mark.parametrize("block_rows", [None, 16])
def test_cooks_distance_in_place_rounds_as_the_expression(block_rows, monkeypatch):
    """Computed operation by operation in place, gene block by gene block, it equals the
    textbook expression bit for bit (hat 1: inf or NaN, as before)."""
    if block_rows is not None:
        monkeypatch.setattr(blocks, "BLOCK_ELEMENTS", block_rows * DESIGN.shape[0])
        assert len(blocks.gene_blocks(300, DESIGN.shape[0])) == 19
    rng = np.random.default_rng(5)
    mu = rng.gamma(2.0, 50.0, (300, 7))
    counts = rng.poisson(mu).astype(float)
    hat = rng.uniform(0.0, 0.9, (300, 7))
    hat[0, 0] = 1.0
    alpha = robust_dispersion(counts, DESIGN)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = (counts - mu) ** 2 / (mu + alpha[:, None] * mu**2) / 2 * hat / (1.0 - hat) ** 2
    np.testing.assert_array_equal(cooks_distance(counts, mu, hat, alpha, 2), expected)


def test_robust_dispersion_floor():
    flat = np.full((1, 7), 100.0)
    assert robust_dispersion(flat, DESIGN)[0] == pytest.approx(0.04)


def test_cutoff_and_max():
    assert cooks_cutoff(7, 2) == pytest.approx(f_dist.ppf(0.99, 2, 5))
    cooks = np.array([[0.1, 0.2, 0.3, 5.0, 0.1, 0.2, 0.4]])
    assert max_cooks(cooks, DESIGN)[0] == 5.0
    # no cell with 3 replicates: NaN
    assert np.isnan(max_cooks(cooks, np.column_stack([np.ones(7), np.arange(7.0)]))[0])


def test_replacement_counts_truncate_like_as_integer():
    normalized = np.array([[1.0, 2.0, 3.0, 4.0, 5.0]])
    sf = np.array([0.5, 1.0, 1.5, 2.0, 2.5])
    # 20 % trimmed mean of 5 values drops one at each end: 3
    np.testing.assert_array_equal(replacement_counts(normalized, sf), [[1.0, 3.0, 4.0, 6.0, 7.0]])
