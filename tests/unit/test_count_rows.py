"""Sums over a gene's distinct counts (many samples) give the per-sample sums' numbers, and a
gene's line search does not depend on the other genes of its block."""

import numpy as np
import pytest
from glmstack.nb.count_rows import DISTINCT_COUNTS_MIN_SAMPLES, CountRows
from glmstack.nb.dispersion import Prior, dlog_posterior, log_posterior, maximise_log_posterior
from scipy.special import digamma, gammaln

RNG = np.random.default_rng(5)
N = DISTINCT_COUNTS_MIN_SAMPLES + 20


def _data(n_genes=40, n_samples=N):
    means = RNG.gamma(0.7, 200.0, size=(n_genes, 1)) * RNG.uniform(0.5, 2.0, size=n_samples)
    counts = RNG.negative_binomial(4.0, 4.0 / (4.0 + means)).astype(float)
    counts[0] = 0.0
    counts[1] = 7.0  # one distinct count
    counts[2, :-1] = 0.0
    counts[2, -1] = 1e7
    mu = np.maximum(means, 0.5)
    design = np.column_stack([np.ones(n_samples), np.arange(n_samples) % 2, np.linspace(0.0, 1.0, n_samples)])
    return counts, mu, design


def test_few_samples_sum_sample_by_sample():
    counts, _, _ = _data(n_samples=DISTINCT_COUNTS_MIN_SAMPLES - 1)
    assert not CountRows.of(counts).by_distinct


def test_distinct_counts_and_multiplicities_rebuild_each_sorted_row():
    counts, _, _ = _data()
    rows = CountRows.of(counts)
    assert rows.by_distinct and rows.lengths[1] == 1 and rows.lengths[2] == 2
    ends = np.cumsum(rows.lengths)
    for g in range(counts.shape[0]):
        part = slice(ends[g] - rows.lengths[g], ends[g])
        rebuilt = np.repeat(rows.distinct[part], rows.multiplicity[part].astype(int))
        np.testing.assert_array_equal(rebuilt, np.sort(counts[g]))


def test_take_is_the_table_of_those_rows():
    counts, _, _ = _data()
    picked = np.array([5, 0, 2, 33, 1, 5])
    taken, direct = CountRows.of(counts).take(picked), CountRows.of(counts[picked])
    for name in ("counts", "distinct", "multiplicity", "lengths"):
        np.testing.assert_array_equal(getattr(taken, name), getattr(direct, name))


@pytest.mark.parametrize("n_samples", [N, DISTINCT_COUNTS_MIN_SAMPLES - 1])
@pytest.mark.parametrize("block", [slice(0, 40), slice(0, 1), slice(3, 17), slice(39, 40), slice(12, 12)])
def test_a_block_is_the_table_of_its_rows(block, n_samples):
    """The table of a whole shard, cut into the blocks the steps run on, is each block's own."""
    counts, _, _ = _data(n_samples=n_samples)
    cut, direct = CountRows.of(counts).block(block), CountRows.of(counts[block])
    assert cut.by_distinct == direct.by_distinct
    for name in ("counts", "distinct", "multiplicity", "lengths"):
        if direct.by_distinct or name == "counts":
            np.testing.assert_array_equal(getattr(cut, name), getattr(direct, name))


@pytest.mark.parametrize("f", [gammaln, digamma])
def test_shifted_sums_equal_the_per_sample_sums(f):
    counts, _, _ = _data()
    shift = 1.0 / RNG.uniform(1e-3, 5.0, size=counts.shape[0])
    direct = np.sum(f(counts + shift[:, None]) - f(shift)[:, None], axis=1)
    np.testing.assert_allclose(CountRows.of(counts).shifted_sums(f, shift), direct, rtol=1e-12, atol=1e-9)
    rows = CountRows.of(counts)
    plain = np.sum(f(counts + 1.0) * shift[:, None], axis=1)
    np.testing.assert_allclose(rows.total(f(rows.distinct + 1.0) * rows.repeat(shift)), plain, rtol=1e-12)


@pytest.mark.parametrize("prior", [None, "prior"])
@pytest.mark.parametrize("disp", [1e-8, 1e-3, 0.2, 5.0])
def test_posterior_and_derivative_by_distinct_counts_equal_sample_by_sample(prior, disp):
    counts, mu, design = _data()
    prior = None if prior is None else Prior(np.full(counts.shape[0], np.log(0.1)), 0.8)
    log_disp = np.full(counts.shape[0], np.log(disp))
    by_sample = CountRows(counts)  # no table: the per-sample sums
    assert CountRows.of(counts).by_distinct and not by_sample.by_distinct
    distinct = log_posterior(log_disp, counts, mu, design, prior)
    direct = log_posterior(log_disp, by_sample, mu, design, prior)
    np.testing.assert_allclose(distinct, direct, rtol=1e-13)
    if disp < 1e-6:
        return  # the derivative is rounding noise times 1/a^2 there, either way
    distinct = dlog_posterior(log_disp, counts, mu, design, prior)
    direct = dlog_posterior(log_disp, by_sample, mu, design, prior)
    np.testing.assert_allclose(distinct, direct, rtol=1e-10, atol=1e-12)


def test_a_genes_line_search_does_not_depend_on_its_block():
    counts, mu, design = _data(n_genes=60)
    counts[3:] += 1.0  # no further all-zero rows
    start = np.log(np.full(counts.shape[0], 0.1))
    whole = maximise_log_posterior(counts, mu, design, start, None)
    some = np.array([7, 3, 41, 12])
    alone = maximise_log_posterior(counts[some], mu[some], design, start[some], None)
    np.testing.assert_array_equal(alone.log_disp, whole.log_disp[some])
    np.testing.assert_array_equal(alone.iterations, whole.iterations[some])


def test_a_count_table_of_other_counts_is_refused():
    counts, mu, design = _data()
    rows = CountRows.of(counts[:10])
    with pytest.raises(ValueError, match="CountRows of"):
        maximise_log_posterior(counts, mu, design, np.zeros(counts.shape[0]), None, count_rows=rows)
