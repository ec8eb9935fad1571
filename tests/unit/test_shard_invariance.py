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


@pytest.mark.parametrize("kind", ["lrt", "wald"])
def test_the_shared_fit_and_the_fit_an_analysis_makes_alone_are_the_same(kind):
    """An analysis alone on its design computes its MAP dispersions and full-design fit inside
    its fit step; a fit job of several analyses makes them once (shared_fit_step) for all, with
    the log likelihoods if any of them is an LRT. Same arithmetic: equal to the last bit."""
    from glmstack.design.model import build_model

    case = load("marioni")
    sf = size_factors.size_factors(case.counts, "ratio")
    analysis = Analysis.from_study(kind, ANALYSES[kind])
    model = build_model(case.samples, analysis)
    counts = case.counts[:1200]
    genewise = steps.genewise_step(counts, sf, model.full.matrix)
    trend = steps.trend_step(genewise["base_mean"], genewise["disp_gene_est"], "parametric", 10, 3)
    alone = steps.fit_step(counts, sf, model, genewise, None, trend, analysis)
    for log_like in (True, False) if kind == "wald" else (True,):
        shared = steps.shared_fit_step(counts, sf, model.full.matrix, genewise, trend, log_like=log_like)
        via_shared = steps.fit_step(counts, sf, model, genewise, shared, trend, analysis)
        assert via_shared.keys() == alone.keys()
        for key in via_shared:
            np.testing.assert_array_equal(via_shared[key], alone[key], err_msg=key)
