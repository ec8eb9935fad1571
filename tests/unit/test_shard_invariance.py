"""Shard count changes nothing: the same study with 50, 500 and one shard gives the same tables."""

import numpy as np
import pandas as pd
import pytest
from cases import load
from glmstack.nb import size_factors, steps
from glmstack.spec import Analysis

ANALYSES = {
    "wald": {"design": "~ run + tissue", "levels": {"run": ["R1", "R2"], "tissue": ["Kidney", "Liver"]},
             "contrasts": {"liver_vs_kidney": ["tissue", "Liver", "Kidney"]}},
    "lrt": {"design": "~ run + tissue", "test": "lrt", "reduced": "~ run",
            "levels": {"run": ["R1", "R2"], "tissue": ["Kidney", "Liver"]},
            "contrasts": {"liver_vs_kidney": {"coef": "tissue_Liver_vs_Kidney"}}},
}


@pytest.mark.parametrize("kind", sorted(ANALYSES))
def test_tables_do_not_depend_on_shard_size(kind):
    case = load("marioni")
    sf = size_factors.size_factors(case.counts, "ratio")
    runs = [
        steps.run_analysis(case.gene_id, case.counts, sf, case.samples, Analysis.from_study(kind, ANALYSES[kind]), genes_per_shard=n)
        for n in (50, 500, 10**6)
    ]
    for other in runs[1:]:
        for name, table in runs[0]["tables"].items():
            for col in ("baseMean", "log2FoldChange", "lfcSE", "stat", "pvalue", "padj"):
                np.testing.assert_allclose(other["tables"][name][col], table[col], rtol=1e-12, atol=0)
        for col in ("dispGeneEst", "dispFit", "dispersion", "maxCooks"):
            np.testing.assert_allclose(other["dispersions"][col], runs[0]["dispersions"][col], rtol=1e-12, atol=0)


@pytest.mark.parametrize("kind", sorted(ANALYSES))
def test_cache_blocks_change_no_bit(kind, monkeypatch):
    """The line searches and IRLS run block by block (glmstack.blocks); the block size, like
    the shard size, must not change any number: the per-gene arithmetic is row by row."""
    from glmstack.nb import blocks

    case = load("marioni")
    sf = size_factors.size_factors(case.counts, "ratio")
    whole = steps.run_analysis(case.gene_id, case.counts, sf, case.samples, Analysis.from_study(kind, ANALYSES[kind]))
    monkeypatch.setattr(blocks, "BLOCK_ELEMENTS", 37 * case.counts.shape[1])
    assert len(blocks.gene_blocks(*case.counts.shape)) > 100
    small = steps.run_analysis(case.gene_id, case.counts, sf, case.samples, Analysis.from_study(kind, ANALYSES[kind]))
    for name, table in whole["tables"].items():
        pd.testing.assert_frame_equal(small["tables"][name], table, check_exact=True)
    pd.testing.assert_frame_equal(small["dispersions"], whole["dispersions"], check_exact=True)


def test_an_analysis_has_the_same_numbers_alone_or_beside_an_lrt():
    """A fit job makes the MAP dispersions, the full-design fit and the Cook's robust
    dispersions once (shared_fit_step) for all its analyses, with the log likelihoods if any
    of them is an LRT. A Wald analysis beside an LRT gets the numbers it gets alone, to the
    last bit, and neither analysis changes what the other reads (in either order)."""
    from glmstack.design.model import build_model

    case = load("marioni")
    sf = size_factors.size_factors(case.counts, "ratio")
    counts = case.counts[:1200]
    analyses = {kind: Analysis.from_study(kind, ANALYSES[kind]) for kind in ("wald", "lrt")}
    models = {kind: build_model(case.samples, analysis) for kind, analysis in analyses.items()}
    design = models["wald"].full.matrix
    np.testing.assert_array_equal(models["lrt"].full.matrix, design)  # one design: one fit job
    genewise = steps.genewise_step(counts, sf, design)
    trend = steps.trend_step(genewise["base_mean"], genewise["disp_gene_est"], "parametric", 10, 3)

    def shared(log_like):
        return steps.shared_fit_step(counts, sf, design, genewise, trend, log_like=log_like)

    def fit(kind, on):
        return steps.fit_step(counts, sf, models[kind], on, trend, analyses[kind])

    wald_alone, lrt_alone = fit("wald", shared(False)), fit("lrt", shared(True))
    job = shared(True)
    lrt_first, wald_second = fit("lrt", job), fit("wald", job)
    job = shared(True)
    wald_first, lrt_second = fit("wald", job), fit("lrt", job)
    for key in wald_alone:
        for got in (wald_first, wald_second):
            np.testing.assert_array_equal(got[key], wald_alone[key], err_msg=key)
        for got in (lrt_first, lrt_second):
            np.testing.assert_array_equal(got[key], lrt_alone[key], err_msg=key)
    # the LRT's Cook's distances use the gene-wise step's mu, the Wald's the full fit's
    assert not np.array_equal(lrt_alone["cooks"], wald_alone["cooks"], equal_nan=True)
