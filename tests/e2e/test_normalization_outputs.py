"""End to end: a `quant:` study (salmon, tximport, DESeq2's length offsets) and the study-wide
matrices <outdir>/normalization/{normalized_counts,vst,normalization_factors}.tsv.

The salmon case runs through snakemake in 4 shards and is held to R tximport + DESeq2
(tests/data/tximport_salmon/reference, the golden thresholds); a counts study checks that
normalized_counts.tsv is counts / size factors, vst.tsv DESeq2's blind VST, and that the
report's PCA is the PCA of vst.tsv.
"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
import tolerances as tol
import yaml
from cases import DATA
from glmstack.nb import vst
from workflow_runs import snakemake

SALMON = DATA / "tximport_salmon"
CONTRASTS = ("hESC_vs_Fibroblasts", "iPS_vs_Fibroblasts")


def read(path, index=True) -> pd.DataFrame:
    table = pd.read_csv(path, sep="\t", dtype={0: str}, keep_default_na=False, na_values=["", "NA"])
    return table.set_index(table.columns[0]) if index else table


@pytest.fixture(scope="module")
def salmon_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("salmon")
    for name in ("quant", "samples.tsv.gz", "tx2gene.tsv.gz"):
        (shutil.copytree if name == "quant" else shutil.copy)(SALMON / name, work / name)
    study = yaml.safe_load((SALMON / "quant_study.yaml").read_text())
    study["analyses"]["condition"]["lfc_shrink"] = "normal"  # with the length offsets
    (work / "study.yaml").write_text(yaml.safe_dump({**study, "genes_per_shard": 100, "outdir": "out"}))
    run = snakemake(work, "--cores", "2")
    assert run.returncode == 0, run.stderr[-3000:]
    return work / "out"


def reference(name: str, order) -> pd.DataFrame:
    return read(SALMON / "reference" / name).loc[list(order)]


def test_salmon_results_meet_the_golden_thresholds(salmon_run):
    assert len(yaml.safe_load((salmon_run / "manifest.json").read_text())["shards"]) == 4
    dispersions = read(salmon_run / "condition" / "dispersions.tsv")
    ref = reference("offsets/dispersions.tsv.gz", dispersions.index)
    ok = ref["dispersion"].notna()
    np.testing.assert_array_equal(dispersions["dispersion"].notna(), ok)
    d = np.abs(np.log(dispersions["dispersion"][ok] / ref["dispersion"][ok]))
    assert np.median(d) <= tol.DISPERSION_LOG_MEDIAN and np.quantile(d, 0.99) <= tol.DISPERSION_LOG_P99
    for contrast in CONTRASTS:
        ours = read(salmon_run / "condition" / f"{contrast}.tsv")
        r = reference(f"offsets/{contrast}.tsv.gz", ours.index)
        np.testing.assert_array_equal(ours["padj"].isna(), r["padj"].isna())
        np.testing.assert_allclose(ours["baseMean"], r["baseMean"], rtol=tol.SIZE_FACTOR_RTOL)
        expressed = (r["baseMean"] >= tol.LFC_MIN_BASEMEAN) & r["log2FoldChange"].notna()
        assert np.corrcoef(ours["log2FoldChange"][expressed], r["log2FoldChange"][expressed])[0, 1] >= tol.LFC_PEARSON
        sig, ref_sig = set(ours.index[ours["padj"] < tol.ALPHA]), set(r.index[r["padj"] < tol.ALPHA])
        assert len(sig & ref_sig) / len(sig | ref_sig) >= tol.PADJ_JACCARD


def test_salmon_shrunken_fold_changes_equal_deseq2s(salmon_run):
    # lfcShrink(type = "normal") after DESeqDataSetFromTximport (make_shrink_reference.R):
    # measured agreement 4e-10 (log2FoldChange) and 8e-9 (lfcSE)
    for contrast in CONTRASTS:
        ours = read(salmon_run / "condition" / f"{contrast}.tsv")
        r = reference(f"offsets/shrink_normal_{contrast}.tsv.gz", ours.index)
        np.testing.assert_array_equal(ours["log2FoldChange_shrunk"].isna(), r["log2FoldChange"].isna())
        np.testing.assert_allclose(ours["log2FoldChange_shrunk"], r["log2FoldChange"], rtol=0, atol=1e-6)
        np.testing.assert_allclose(ours["lfcSE_shrunk"], r["lfcSE"], rtol=0, atol=1e-6)


def test_salmon_matrices_equal_deseq2s(salmon_run):
    folder = salmon_run / "normalization"
    factors = read(folder / "normalization_factors.tsv")
    assert factors.index.name == "feature_id"
    for ours, name, rtol in (
        (factors, "normalization_factors", tol.SIZE_FACTOR_RTOL),
        (read(folder / "normalized_counts.tsv"), "normalized_counts", tol.SIZE_FACTOR_RTOL),
    ):
        np.testing.assert_allclose(ours, reference(f"offsets/{name}.tsv.gz", ours.index), rtol=rtol)
    values = read(folder / "vst.tsv")
    np.testing.assert_allclose(values, reference("offsets/vst_blind.tsv.gz", values.index), atol=1e-8)
    assert list(values.index) == list(factors.index)  # features in one order everywhere


def pca_of_vst_table(path, n_top):
    values = read(path).to_numpy()
    _, top_values, _ = vst.vst_summaries([values], values.shape[1], n_top)
    return vst.pca(top_values).scores


def test_counts_study_matrices(tmp_path):
    """normalized_counts = counts / size factors, vst.tsv = DESeq2's blind VST (the function the
    golden tests hold to R), the PCA table = the PCA of vst.tsv; no normalization factors."""
    case = DATA / "small_marioni_2v2"
    shutil.copy(case / "counts.tsv.gz", tmp_path / "counts.tsv.gz")
    shutil.copy(case / "samples.tsv.gz", tmp_path / "samples.tsv.gz")
    study = yaml.safe_load((case / "study.yaml").read_text())
    study["analyses"] = {"tissue": study["analyses"]["tissue"]}
    (tmp_path / "study.yaml").write_text(yaml.safe_dump({**study, "genes_per_shard": 5000, "outdir": "out"}))
    run = snakemake(tmp_path, "--cores", "2")
    assert run.returncode == 0, run.stderr[-3000:]
    folder = tmp_path / "out" / "normalization"
    counts = read(case / "counts.tsv.gz")
    sf = read(folder / "size_factors.tsv")["size_factor"].to_numpy()
    normalized = read(folder / "normalized_counts.tsv")
    assert list(normalized.index) == list(counts.index) and list(normalized.columns) == list(counts.columns)
    np.testing.assert_allclose(normalized.to_numpy(), counts.to_numpy() / sf, rtol=1e-14)
    values = read(folder / "vst.tsv")
    np.testing.assert_allclose(values.to_numpy(), vst.vst(counts.to_numpy(dtype=float), sf), rtol=1e-13, atol=1e-13)
    assert not (folder / "normalization_factors.tsv").exists()
    pca = read(tmp_path / "out" / "qc" / "pca.tsv")
    scores = pca_of_vst_table(folder / "vst.tsv", 500)
    np.testing.assert_allclose(pca[[c for c in pca.columns if c.startswith("PC")]].to_numpy(), scores[:, :4], atol=1e-12)


def test_length_scaled_tpm_from_a_sheet_column(tmp_path):
    """counts_from_abundance: lengthScaledTPM, files named in a sheet column: DESeq2 then uses
    round(counts) with size factors only (no normalization_factors.tsv)."""
    shutil.copytree(SALMON / "quant", tmp_path / "data")
    shutil.copy(SALMON / "annotation.gtf.gz", tmp_path / "genes.gtf.gz")
    sheet = pd.read_csv(SALMON / "samples.tsv.gz", sep="\t")
    sheet["salmon"] = [f"data/{s}/quant.sf.gz" for s in sheet["sample"]]
    sheet.to_csv(tmp_path / "samples.tsv", sep="\t", index=False)
    study = yaml.safe_load((SALMON / "quant_study.yaml").read_text())
    study["quant"] = {"type": "salmon", "files": "salmon", "tx2gene": "genes.gtf.gz",
                      "counts_from_abundance": "lengthScaledTPM"}
    (tmp_path / "study.yaml").write_text(yaml.safe_dump({**study, "samples": "samples.tsv", "outdir": "out"}))
    run = snakemake(tmp_path, "--cores", "2", "out/normalization/normalized_counts.tsv")
    assert run.returncode == 0, run.stderr[-3000:]
    folder = tmp_path / "out" / "normalization"
    normalized = read(folder / "normalized_counts.tsv")
    sf = read(folder / "size_factors.tsv")["size_factor"].to_numpy()
    expected = np.round(reference("txi_lengthScaledTPM_counts.tsv.gz", normalized.index).to_numpy())
    np.testing.assert_allclose(normalized.to_numpy() * sf, expected, rtol=1e-12, atol=1e-9)
    assert not (folder / "normalization_factors.tsv").exists()
