"""`quant:` studies against R tximport 1.26 + DESeq2 1.38 (tests/data/tximport_salmon/reference).

The case: IsoformSwitchAnalyzeR's salmon quant.sf files (6 samples, 1092 transcripts, 375
genes), made by make_reference.R beside them. tximport's matrices, DESeq2's normalization
factors, normalized counts, blind VST, dispersions and results with length offsets
(DESeqDataSetFromTximport) are held to tests/tolerances.py; the same counts without offsets
(the "summed by hand" route) match DESeq2's run on them and differ from the offsets run.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
import tolerances as tol
from cases import DATA
from glmstack.io import quant, tximport
from glmstack.nb import size_factors, steps, vst
from glmstack.spec import Analysis
from scipy.stats import spearmanr

CASE = DATA / "tximport_salmon"
CONTRASTS = ("hESC_vs_Fibroblasts", "iPS_vs_Fibroblasts")
ANALYSIS = Analysis.from_study(
    "condition",
    {
        "design": "~ condition",
        "levels": {"condition": ["Fibroblasts", "hESC", "iPS"]},
        "contrasts": {c: ["condition", c.split("_")[0], "Fibroblasts"] for c in CONTRASTS},
    },
)


def sheet() -> pd.DataFrame:
    return pd.read_csv(CASE / "samples.tsv.gz", sep="\t", dtype=str)


def paths() -> dict[str, str]:
    return quant.quant_paths({"type": "salmon", "files": f"{CASE}/quant/{{sample}}/quant.sf.gz"}, sheet(), "samples")


@functools.cache
def genes(counts_from_abundance: str = "no", tx2gene: str = "tx2gene.tsv.gz") -> tximport.GeneMatrices:
    return tximport.import_quant(paths(), "salmon", str(CASE / tx2gene), counts_from_abundance)


def reference(name: str, gene_id: np.ndarray) -> pd.DataFrame:
    """A reference table in our gene order (R sorts ids by locale, we by code point)."""
    table = pd.read_csv(CASE / "reference" / name, sep="\t", index_col=0, keep_default_na=False, na_values=["NA"])
    return table.loc[gene_id]


@pytest.mark.parametrize("counts_from_abundance", tximport.COUNTS_FROM_ABUNDANCE)
@pytest.mark.parametrize("tx2gene", ["tx2gene.tsv.gz", "annotation.gtf.gz"])
def test_tximport_matrices(counts_from_abundance, tx2gene):
    ours = genes(counts_from_abundance, tx2gene)
    assert ours.n_unmapped == 0 and ours.has_offsets == (counts_from_abundance == "no")
    for what in ("counts", "abundance", "length"):
        ref = reference(f"txi_{counts_from_abundance}_{what}.tsv.gz", ours.gene_id).to_numpy()
        np.testing.assert_allclose(getattr(ours, what), ref, rtol=1e-12, atol=0)


@functools.cache
def run(route: str, genes_per_shard: int | None = None) -> tuple[dict, np.ndarray, np.ndarray]:
    """Our workflow's steps on the tximport counts: with offsets, or the summed counts alone."""
    g = genes()
    counts = np.round(g.counts)
    if route == "offsets":
        factors, _ = size_factors.normalization_factors(counts, g.length)
    else:
        factors = size_factors.size_factors(counts)
    return steps.run_analysis(g.gene_id, counts, factors, sheet(), ANALYSIS, genes_per_shard), counts, factors


def test_normalization_factors():
    _, counts, factors = run("offsets")
    ref = reference("offsets/normalization_factors.tsv.gz", genes().gene_id).to_numpy()
    np.testing.assert_allclose(factors, ref, rtol=tol.SIZE_FACTOR_RTOL)
    normalized = reference("offsets/normalized_counts.tsv.gz", genes().gene_id).to_numpy()
    np.testing.assert_allclose(counts / factors, normalized, rtol=tol.SIZE_FACTOR_RTOL)


@pytest.mark.parametrize("route", ["offsets", "summed_counts"])
def test_vst_blind(route):
    _, counts, factors = run(route)
    ref = reference(f"{route}/vst_blind.tsv.gz", genes().gene_id).to_numpy()
    np.testing.assert_allclose(vst.vst(counts, factors), ref, rtol=0, atol=1e-8)


@pytest.mark.parametrize("route", ["offsets", "summed_counts"])
@pytest.mark.parametrize("genes_per_shard", [None, 50])
def test_dispersions_and_results(route, genes_per_shard):
    result, _, _ = run(route, genes_per_shard)
    gene_id = genes().gene_id
    ours = result["dispersions"].set_index("gene_id")
    ref = reference(f"{route}/dispersions.tsv.gz", gene_id)
    np.testing.assert_array_equal(ours["dispersion"].isna(), ref["dispersion"].isna())
    ok = ref["dispersion"].notna().to_numpy()
    d = np.abs(np.log(ours["dispersion"].to_numpy()[ok] / ref["dispersion"].to_numpy()[ok]))
    assert np.median(d) <= tol.DISPERSION_LOG_MEDIAN and np.quantile(d, 0.99) <= tol.DISPERSION_LOG_P99
    np.testing.assert_allclose(ours["baseMean"], ref["baseMean"], rtol=tol.SIZE_FACTOR_RTOL)
    for contrast in CONTRASTS:
        table = result["tables"][contrast].set_index("gene_id")
        r = reference(f"{route}/{contrast}.tsv.gz", gene_id)
        np.testing.assert_array_equal(table["pvalue"].isna(), r["pvalue"].isna())
        np.testing.assert_array_equal(table["padj"].isna(), r["padj"].isna())
        expressed = (r["baseMean"] >= tol.LFC_MIN_BASEMEAN) & r["log2FoldChange"].notna()
        assert np.corrcoef(table["log2FoldChange"][expressed], r["log2FoldChange"][expressed])[0, 1] >= tol.LFC_PEARSON
        both = table["pvalue"].notna() & r["pvalue"].notna()
        assert spearmanr(table["pvalue"][both], r["pvalue"][both]).statistic >= tol.PVALUE_SPEARMAN
        ours_sig, ref_sig = set(table.index[table["padj"] < tol.ALPHA]), set(r.index[r["padj"] < tol.ALPHA])
        assert len(ours_sig & ref_sig) / max(1, len(ours_sig | ref_sig)) >= tol.PADJ_JACCARD


def test_offsets_matter():
    """Counts summed by hand (no offsets) do not give DESeqDataSetFromTximport's results."""
    with_offsets, _, _ = run("offsets")
    summed, _, _ = run("summed_counts")
    gaps, jaccards = [], []
    for contrast in CONTRASTS:
        a = with_offsets["tables"][contrast].set_index("gene_id")
        b = summed["tables"][contrast].set_index("gene_id")
        gaps.append(np.nanmax(np.abs(a["log2FoldChange"] - b["log2FoldChange"])))
        sa, sb = set(a.index[a["padj"] < tol.ALPHA]), set(b.index[b["padj"] < tol.ALPHA])
        jaccards.append(len(sa & sb) / len(sa | sb))
    assert max(gaps) > 0.5  # log2 units
    assert min(jaccards) < tol.PADJ_JACCARD
