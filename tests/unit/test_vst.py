"""glmstack.vst: DESeq2's variance-stabilising transformation, PCA and sample distances."""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cases import DATA, load
from glmstack.io.column_codes import ColumnCodes, column_codes
from glmstack.io.shards import select_rows
from glmstack.io.tables import tsv_matrices
from glmstack.nb import size_factors, vst
from glmstack.rmath.fmm_spline import fmm_spline

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"

# R 4.2.2, DESeq2 1.38.3 on tests/data/marioni/counts.tsv.gz (all reference numbers below):
#   dds <- DESeqDataSetFromMatrix(counts, data.frame(row.names = colnames(counts)), ~ 1)
#   dds <- estimateSizeFactors(dds)
SAMPLE_GENES = [0, 1, 99, 1999, 5087]  # rows of counts.tsv (0-based)
# assay(vst(dds, blind = TRUE, fitType = "local"))[c(1, 2, 100, 2000, 5088), 1:3]
R_VST_LOCAL = [
    [-1.24022162656168, -1.35542719716703, -2.44397378114391],
    [2.76262521361682, 2.53419748798801, 2.41823298405431],
    [4.90739577046336, 11.50877872935710, 5.44200077044517],
    [-1.59685830231785, -2.44397378114391, -1.25715336600499],
    [-2.44397378114391, -2.44397378114391, -2.44397378114391],
]
# assay(vst(dds, blind = TRUE, fitType = "mean"))[c(1, 2, 100, 2000, 5088), 1:3]
R_VST_MEAN = [
    [1.361368552414173, 1.181173551147146, -0.820838642444326],
    [5.299690045379208, 5.153585705057757, 5.077115298315920],
    [6.506718216488091, 11.057973280936798, 6.786808238809119],
    [0.788785006407343, -0.820838642444326, 1.335184876685250],
    [-0.820838642444326, -0.820838642444326, -0.820838642444326],
]
# p <- plotPCA(vst(dds, blind = TRUE), intgroup = "x", returnData = TRUE)   (x: a dummy column)
R_PERCENT_VAR = [0.97792603625156849, 0.00434577322954408]  # attr(p, "percentVar")
R_PC1_FIRST_SAMPLES = [-41.4529619545201, 41.0876366766116, -40.8367675214295]  # p$PC1[1:3]


@functools.lru_cache(maxsize=1)
def marioni() -> tuple[np.ndarray, np.ndarray]:
    case = load("marioni")
    counts = case.counts.astype(float)
    return counts, size_factors.size_factors(counts, "ratio")


@functools.lru_cache(maxsize=1)
def marioni_vst() -> np.ndarray:
    return vst.vst(*marioni())


def test_blind_vst_matches_deseq2_on_marioni():
    reference = pd.read_csv(DATA / "marioni" / "reference" / "vst_blind.tsv.gz", sep="\t", index_col=0)
    assert list(reference.columns) == load("marioni").sample_ids
    difference = np.abs(marioni_vst() - reference.to_numpy())
    assert difference.max() <= 0.01  # the contract
    assert difference.max() < 1e-8  # what we get (the same trend, the same closed form)


def test_local_and_mean_vst_match_deseq2():
    counts, sf = marioni()
    local = vst.vst(counts, sf, fit_type="local")[SAMPLE_GENES, :3]
    np.testing.assert_allclose(local, R_VST_LOCAL, atol=1e-6)
    mean = vst.vst(counts, sf, fit_type="mean")[SAMPLE_GENES, :3]
    np.testing.assert_allclose(mean, R_VST_MEAN, atol=1e-9)


def test_trend_subset_follows_r_seq_and_round():
    # 8 genes above 5: R round(seq(1, 8, length = 3)) = 1, round(4.5) = 4 (half to even), 8
    base_mean = np.array([50.0, 6, 1, 100, 7, 8, 9, 10, 3, 20])
    above = np.flatnonzero(base_mean > 5)
    order = above[np.argsort(base_mean[above], kind="stable")]
    np.testing.assert_array_equal(vst.trend_subset(base_mean, 3), order[[0, 3, 7]])
    # 6 genes, 4 picks: seq = 1, 2.67, 4.33, 6 -> 1, 3, 4, 6
    six = np.array([6.0, 7, 8, 9, 10, 11])
    np.testing.assert_array_equal(vst.trend_subset(six, 4), [0, 2, 3, 5])


def test_trend_subset_uses_every_gene_when_too_few_have_mean_above_5():
    base_mean = np.array([0.0, 1, 6, 7, 100])
    np.testing.assert_array_equal(vst.trend_subset(base_mean, 4), np.arange(5))


def test_parametric_transform_is_the_closed_form_integral():
    """d vst / d q = sqrt(a0) / (log 2 sd(q)), sd(q)^2 = (1 + a1) q + a0 q^2, and vst -> log2 q.

    sqrt(a0) / log 2 is the scale that makes the transform approach log2 for large q.
    """
    from glmstack.nb.trend import DispersionTrend

    a0, a1, sf = 0.05, 1.5, np.array([1.0])
    stab = vst.make_stabilizer(
        DispersionTrend("parametric", "parametric", {"asymptDisp": a0, "extraPois": a1}), sf, np.ones(3), 1.0
    )
    q = np.array([[3.0], [40.0], [700.0]])
    h = 1e-5
    slope = (stab.transform(q + h) - stab.transform(q - h)) / (2 * h)
    np.testing.assert_allclose(
        slope, np.sqrt(a0) / (np.log(2) * np.sqrt((1 + a1) * q + a0 * q**2)), rtol=1e-7
    )
    big = np.array([[1e9]])
    np.testing.assert_allclose(stab.transform(big), np.log2(big), atol=1e-6)


def test_fmm_spline_matches_r_splinefun():
    # R: splinefun(c(1, 2, 3.5, 4, 6, 7), c(0, 1, 0, 2, 1, 3))(c(0.5, 2.5, 5, 6.5, 8))
    spline = fmm_spline(np.array([1, 2, 3.5, 4, 6, 7.0]), np.array([0, 1, 0, 2, 1, 3.0]))
    expected = [
        -3.475835351089588521,
        0.065986010223298308,
        2.517998385794996352,
        1.252114608555286557,
        13.240225988700565551,
    ]
    np.testing.assert_allclose(spline(np.array([0.5, 2.5, 5, 6.5, 8])), expected, rtol=1e-12)


def test_study_vst_shard_by_shard_equals_the_whole_matrix():
    counts, sf = marioni()
    whole = marioni_vst()
    for size in (700, 5088):
        result = vst.study_vst(lambda: (counts[i : i + size] for i in range(0, len(counts), size)), sf)
        top = vst.most_variable(whole)
        np.testing.assert_array_equal(result.top_index, top)
        np.testing.assert_allclose(result.top_values, whole[top], rtol=1e-13)
        np.testing.assert_allclose(result.distances, vst.sample_distances(whole), rtol=1e-9)
        np.testing.assert_allclose(result.library_sizes, counts.sum(axis=0))
        assert result.trend.fit_type == "parametric"


@functools.lru_cache(maxsize=3)
def marioni_stabilizer(fit_type: str) -> vst.Stabilizer:
    counts, sf = marioni()
    stabilizer, _ = vst.study_stabilizer(lambda: [(counts, sf)], None, fit_type)
    assert stabilizer.trend.fit_type == fit_type
    return stabilizer


def study_counts(seed: int, genes: int, samples: int) -> tuple[np.ndarray, np.ndarray]:
    """Counts with many zeros, a long tail, some 1e7, an all-zero sample; size factors that are
    not round numbers."""
    rng = np.random.default_rng(seed)
    means = rng.lognormal(3, 2, size=(genes, 1))
    counts = rng.negative_binomial(0.5, 0.5 / (0.5 + means), size=(genes, samples)).astype(float)
    counts[rng.random(counts.shape) < 0.002] = 1e7
    if samples > 2:
        counts[:, 2] = 0.0
    return counts, rng.lognormal(0, 0.4, size=samples)


def as_bits(values: np.ndarray | ColumnCodes) -> np.ndarray:
    return (values.dense() if isinstance(values, ColumnCodes) else values).view(np.int64)


@pytest.mark.parametrize("fit_type", ["parametric", "mean", "local"])
@pytest.mark.parametrize("genes, samples", [(3000, 9), (1, 6), (500, 1), (0, 3)])
def test_normalized_counts_and_vst_of_distinct_counts_are_those_of_every_cell(
    tmp_path, fit_type, genes, samples
):
    stabilizer = marioni_stabilizer(fit_type)
    counts, sf = study_counts(genes * samples, genes, samples)
    coded = column_codes(counts)  # as normalized_and_stabilized codes them (one gene too)
    normalized = coded.with_values(coded.values / sf[coded.columns])
    stabilized = normalized.with_values(stabilizer.stabilize(normalized.values))
    cell_normalized, cell_vst = counts / sf, stabilizer.transform(counts, sf)  # cell by cell
    np.testing.assert_array_equal(as_bits(normalized), cell_normalized.view(np.int64))
    np.testing.assert_array_equal(as_bits(stabilized), cell_vst.view(np.int64))
    ids = np.array([f"gene{i}" for i in range(genes)])
    paths = {name: tmp_path / f"{name}.tsv" for name in ("normalized", "vst", "cell_normalized", "cell_vst")}
    with tsv_matrices(paths, [f"s{j}" for j in range(samples)]) as write:
        for name, values in (("normalized", normalized), ("vst", stabilized)):
            write(name, ids, values)
        for name, values in (("cell_normalized", cell_normalized), ("cell_vst", cell_vst)):
            write(name, ids, values)
    assert paths["normalized"].read_bytes() == paths["cell_normalized"].read_bytes()
    assert paths["vst"].read_bytes() == paths["cell_vst"].read_bytes()
    # the job's choice: codes, except for one gene (every value new to its column)
    job_normalized, job_vst = vst.normalized_and_stabilized(stabilizer, counts, sf)
    assert isinstance(job_normalized, ColumnCodes) == isinstance(job_vst, ColumnCodes) == (genes != 1)
    np.testing.assert_array_equal(as_bits(job_normalized), cell_normalized.view(np.int64))
    np.testing.assert_array_equal(as_bits(job_vst), cell_vst.view(np.int64))


def test_marioni_through_distinct_counts_is_its_vst_bit_for_bit():
    counts, sf = marioni()
    for fit_type in ("parametric", "mean", "local"):
        _, stabilized = vst.normalized_and_stabilized(marioni_stabilizer(fit_type), counts, sf)
        assert isinstance(stabilized, ColumnCodes) and stabilized.values.size < counts.size / 2
        cells = marioni_stabilizer(fit_type).transform(counts, sf)
        np.testing.assert_array_equal(as_bits(stabilized), cells.view(np.int64))
    _, stabilized = vst.normalized_and_stabilized(marioni_stabilizer("parametric"), counts, sf)
    np.testing.assert_array_equal(as_bits(stabilized), marioni_vst().view(np.int64))  # vst.vst's


def test_cells_are_computed_one_by_one_where_they_are_not_functions_of_their_count():
    stabilizer = marioni_stabilizer("parametric")
    counts, sf = study_counts(4, 200, 5)
    factors = np.random.default_rng(5).lognormal(0, 0.3, size=counts.shape)  # per gene and sample
    fractional, missing, negative, infinite = counts + 0.0, counts + 0.0, counts + 0.0, counts + 0.0
    fractional[3, 1] = 2.5
    missing[7, 0] = np.nan
    negative[0, 4] = -1.0
    infinite[9, 3] = np.inf
    distinct = np.arange(counts.size, dtype=float).reshape(counts.shape)  # nothing to share
    for cells, divide_by in (
        (counts, factors), (fractional, sf), (missing, sf), (negative, sf), (infinite, sf), (distinct, sf)
    ):
        assert vst.count_codes(cells, divide_by) is None
        with np.errstate(invalid="ignore"):
            normalized, stabilized = vst.normalized_and_stabilized(stabilizer, cells, divide_by)
            expected = stabilizer.transform(cells, divide_by)
        assert type(normalized) is np.ndarray and type(stabilized) is np.ndarray
        np.testing.assert_array_equal(normalized.view(np.int64), (cells / divide_by).view(np.int64))
        np.testing.assert_array_equal(stabilized.view(np.int64), expected.view(np.int64))
    assert isinstance(vst.count_codes(counts, sf), ColumnCodes)  # the same counts, size factors


def test_summary_of_coded_blocks_is_the_summary_of_their_values():
    """VstSummary.add keeps numpy's steps (mean, var(ddof=1), the gram of centred values): the
    same doubles as the whole-block computation below, from arrays or from ColumnCodes."""
    counts, sf = marioni()
    stabilizer = marioni_stabilizer("parametric")
    blocks = [counts[:2000], counts[2000:2001], counts[2001:]]
    summary, coded_summary = vst.VstSummary(counts.shape[1], 300), vst.VstSummary(counts.shape[1], 300)
    for block in blocks:
        summary.add(stabilizer.transform(block, sf))
        coded_summary.add(vst.normalized_and_stabilized(stabilizer, block, sf)[1])
    values = stabilizer.transform(counts, sf)
    gram = np.zeros((counts.shape[1],) * 2)
    for block in blocks:
        part = stabilizer.transform(block, sf)
        centred = part - part.mean(axis=1, keepdims=True)
        gram += centred.T @ centred
    top = np.lexsort((np.arange(len(values)), -values.var(axis=1, ddof=1)))[:300]
    norms = np.diag(gram)
    distances = np.sqrt(np.maximum(norms[:, None] + norms[None, :] - 2.0 * gram, 0.0))
    np.fill_diagonal(distances, 0.0)
    for kept in (summary, coded_summary):
        np.testing.assert_array_equal(kept.top_var, values.var(axis=1, ddof=1)[top])
    for result in (summary.result(), coded_summary.result()):
        np.testing.assert_array_equal(result[0], top)
        np.testing.assert_array_equal(result[1], values[top])
        np.testing.assert_array_equal(result[2], distances)
    one_sample = vst.VstSummary(1, 5)
    one_sample.add(values[:, :1])
    np.testing.assert_array_equal(one_sample.result()[0], np.arange(5))  # no variance: input order


def test_largest_normalized_count_without_dividing_every_cell():
    counts, sf = study_counts(8, 300, 7)
    counts[5, 3] = 7e6  # not the largest count, but the largest once divided
    sf[3] = 0.3
    assert vst._max_normalized(counts, sf) == np.max(counts / sf) == 7e6 / 0.3
    factors = np.random.default_rng(2).lognormal(size=counts.shape)
    assert vst._max_normalized(counts, factors) == np.max(counts / factors)


def test_select_rows_keeps_the_requested_order():
    blocks = [np.arange(6.0).reshape(3, 2), np.arange(6.0, 10).reshape(2, 2)]
    np.testing.assert_array_equal(
        select_rows(iter(blocks), np.array([4, 0, 2]), 2), [[8, 9], [0, 1], [4, 5]]
    )


def test_pca_matches_a_direct_svd():
    rng = np.random.default_rng(3)
    values = rng.normal(size=(60, 7)) + rng.normal(size=(60, 1)) * 3
    result = vst.pca(values)
    x = values.T - values.T.mean(axis=0)
    u, s, vt = np.linalg.svd(x, full_matrices=False)
    signs = np.sign(np.sum(result.scores * (u * s), axis=0))  # component signs are arbitrary
    np.testing.assert_allclose(result.scores, u * s * signs, atol=1e-12)
    np.testing.assert_allclose(result.percent_var, s**2 / np.sum(s**2), rtol=1e-12)
    np.testing.assert_allclose(result.scores @ result.loadings, x, atol=1e-12)  # a full decomposition
    # each component's largest gene weight is positive (reproducible orientation)
    assert np.all(result.loadings[np.arange(7), np.argmax(np.abs(result.loadings), axis=1)] > 0)


def test_pca_of_marioni_matches_deseq2_plotpca():
    whole = marioni_vst()
    result = vst.pca(whole[vst.most_variable(whole, 500)])
    np.testing.assert_allclose(result.percent_var[:2], R_PERCENT_VAR, rtol=1e-9)
    np.testing.assert_allclose(np.abs(result.scores[:3, 0]), np.abs(R_PC1_FIRST_SAMPLES), rtol=1e-9)


def test_most_variable_breaks_ties_in_input_order():
    values = np.array([[0, 1.0], [0, 2], [0, 1], [0, 2], [5, 5]])
    np.testing.assert_array_equal(vst.most_variable(values, 3), [1, 3, 0])


def test_distances_and_clustering():
    values = np.array([[0, 0, 10, 11.0], [0, 1, 10, 10]])
    d = vst.sample_distances(values)
    np.testing.assert_allclose(d, d.T)
    assert (
        d[0, 1] == pytest.approx(1.0)
        and d[2, 3] == pytest.approx(1.0)
        and d[0, 2] == pytest.approx(np.sqrt(200))
    )
    from scipy.cluster.hierarchy import fcluster

    groups = fcluster(vst.cluster_linkage(d), 2, criterion="maxclust")
    assert groups[0] == groups[1] != groups[2] == groups[3]
    assert vst.cluster_linkage(np.zeros((1, 1))) is None


def test_pca_and_distances_come_without_scipy_interpolate_or_special():
    """The study plots import this module for pca() and cluster_linkage(); the VST's spline and
    gene-wise estimates (scipy.interpolate, scipy.special: about 0.3 s) load where they are used."""
    code = "import sys, glmstack.nb.vst; print(' '.join(sorted(sys.modules)))"
    loaded = set(subprocess.run([sys.executable, "-c", code], cwd=SCRIPTS, check=True, capture_output=True,
                                text=True).stdout.split())
    assert not loaded & {"scipy.interpolate", "scipy.special", "pandas"}
