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
from glmstack.io.shards import select_rows
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
