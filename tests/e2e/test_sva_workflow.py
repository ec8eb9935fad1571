"""Surrogate variables end to end: snakemake with `sva:` on values (golub, family gaussian,
n: auto by Buja & Eyuboglu permutations) and on counts (marioni, family nb, n given).

The workflow's tables equal the library run in this process on the whole matrix at once
(shards of the workflow: results do not depend on the shard size), meet R's sva/limma
thresholds on golub, and an analysis with `sva:` gets its own dispersion fit.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
import yaml
from glmstack.design.model import sva_null_design
from glmstack.gaussian import steps as gaussian_steps
from glmstack.nb import steps as nb_steps
from glmstack.spec import Analysis
from glmstack.sva.blocks import FeatureBlocks, matrix_blocks
from glmstack.sva.covariates import read_covariates
from glmstack.sva.steps import sva_step
from glmstack.sva.tables import read_surrogate_variables
from limma_cases import DATA, load_case, read_tsv
from workflow_runs import snakemake, write_study

GOLUB_SVA = {
    "design": "~ cell",
    "levels": {"cell": ["ALL", "AML"]},
    "sva": {"n": "auto", "method": "be", "null": "~ 1"},
    "contrasts": {"aml_vs_all": ["cell", "AML", "ALL"]},
}
MARIONI = {
    "counts": "counts.tsv.gz",
    "samples": "samples.tsv.gz",
    "outdir": "out",
    "genes_per_shard": 1500,
    "report": {"vst_analysis": "tissue_sva"},  # the VST with the analysis's design: SVs included
    "analyses": {
        "tissue": {"design": "~ tissue", "contrasts": {"liver_vs_kidney": ["tissue", "Liver", "Kidney"]}},
        "tissue_sva": {
            "design": "~ tissue",
            "sva": {"n": 2},
            "contrasts": {"liver_vs_kidney": ["tissue", "Liver", "Kidney"]},
        },
    },
}


def canonical_correlations(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    qa, _ = np.linalg.qr(a - a.mean(0))
    qb, _ = np.linalg.qr(b - b.mean(0))
    return np.linalg.svd(qa.T @ qb, compute_uv=False)


@pytest.fixture(scope="module")
def golub(tmp_path_factory):
    root = tmp_path_factory.mktemp("golub_sva")
    for name in ("values.tsv.gz", "samples.tsv.gz"):
        shutil.copy(DATA / "golub" / name, root / name)
    study = {"values": "values.tsv.gz", "samples": "samples.tsv.gz", "outdir": "out", "genes_per_shard": 1000,
             "analyses": {"aml_vs_all_sva": GOLUB_SVA}}
    (root / "study.yaml").write_text(yaml.safe_dump(study))
    done = snakemake(root, "--cores", "2")
    assert done.returncode == 0, done.stderr[-3000:]
    return root / "out" / "aml_vs_all_sva"


def test_golub_svas_match_the_library_and_r(golub):
    _, samples, ids, values, _ = load_case("golub")
    analysis = Analysis.from_study("aml_vs_all_sva", GOLUB_SVA, "gaussian")
    full, null, _ = sva_null_design(samples, analysis)
    expected = sva_step(FeatureBlocks(matrix_blocks(values, len(values))), full.matrix, null, analysis.sva)
    ours = read_surrogate_variables(golub / "surrogate_variables.tsv")
    assert list(ours.columns) == [f"SV{i}" for i in range(1, 10)]
    np.testing.assert_allclose(ours.to_numpy(), expected["sv"], rtol=0, atol=1e-10)  # 4 shards vs 1 block
    info = json.loads((golub / "surrogate_variables.json").read_text())
    assert info["n"] == 9 and info["seed"] == 20251126 and len(info["iterations"]) == 5
    ref_dir = DATA / "golub" / "reference" / "aml_vs_all_sva"
    ref_sv = read_tsv(ref_dir / "surrogate_variables.tsv.gz").set_index("sample")
    assert canonical_correlations(ours.to_numpy(), ref_sv.to_numpy()).min() >= 0.99
    table = read_tsv(golub / "aml_vs_all.tsv")
    design = np.hstack([full.matrix, expected["sv"]])
    library = gaussian_steps.moderated_tests(ids, values, design, contrasts={"aml_vs_all": np.eye(11)[1]})
    np.testing.assert_allclose(table["t"], library["tables"]["aml_vs_all"]["t"], rtol=1e-8)
    ref = read_tsv(ref_dir / "results.tsv.gz")
    assert np.corrcoef(table["t"], ref["t"])[0, 1] >= 0.999
    a, b = set(table["feature_id"][table["adj.P.Val"] < 0.1]), set(ref["feature_id"][ref["adj.P.Val"] < 0.1])
    assert len(a & b) / len(a | b) >= 0.98
    model = json.loads((golub / "model.json").read_text())
    assert [c["formula_name"] for c in model["design_columns"]][-9:] == [f"SV{i}" for i in range(1, 10)]
    for plot in ("sva_variables", "sva_pca"):
        assert (golub / "plots" / f"{plot}.png").stat().st_size > 0
    r2 = pd.read_csv(golub / "report" / "sva_r2.tsv", sep="\t")
    assert list(r2["variable"]) == ["cell"] and (r2.iloc[0, 1:] < 0.2).all()


@pytest.fixture(scope="module")
def marioni(tmp_path_factory):
    work = write_study(tmp_path_factory.mktemp("marioni_sva"), MARIONI)
    done = snakemake(work, "--cores", "2")
    assert done.returncode == 0, done.stderr[-3000:]
    return work / "out"


def test_nb_analysis_with_svas_matches_the_library_and_fits_its_own_dispersions(marioni):
    from cases import load

    case = load("marioni")
    manifest = json.loads((marioni / "manifest.json").read_text())
    sf = np.asarray(manifest["size_factors"])
    analysis = Analysis.from_study("tissue_sva", MARIONI["analyses"]["tissue_sva"])
    full, null, how = sva_null_design(case.samples, analysis)
    assert how == "design without tissue"
    expected = sva_step(FeatureBlocks(matrix_blocks(case.counts, len(case.counts)), "counts", sf), full.matrix, null,
                        analysis.sva)
    sv = read_covariates(marioni / "tissue_sva" / "surrogate_variables.tsv")
    np.testing.assert_allclose(sv.values, expected["sv"], rtol=0, atol=1e-10)
    tables = nb_steps.run_analysis(case.gene_id, case.counts, sf, case.samples, analysis, covariates=sv)["tables"]
    ours = pd.read_csv(marioni / "tissue_sva" / "liver_vs_kidney.tsv", sep="\t", dtype={"gene_id": str})
    expected_table = tables["liver_vs_kidney"]
    for column in ("log2FoldChange", "stat"):  # shards of 1500 genes vs one: NB fits agree to ~1e-10
        np.testing.assert_allclose(ours[column], expected_table[column], rtol=1e-7, equal_nan=True)
    for column in ("pvalue", "padj"):  # far tails (1e-183) move relatively more: compare log10
        tiny = np.finfo(float).tiny  # p-values of 0 (underflow) in both
        np.testing.assert_allclose(np.log10(np.maximum(ours[column], tiny)),
                                   np.log10(np.maximum(expected_table[column], tiny)), atol=1e-6, equal_nan=True)
    models = json.loads((marioni / "tissue_sva" / "model.json").read_text())
    assert [c["formula_name"] for c in models["design_columns"]] == ["Intercept", "tissue[T.Liver]", "SV1", "SV2"]
    assert len(list((marioni / "models").iterdir())) == 2  # the plain analysis's fit is not shared
    plain = pd.read_csv(marioni / "tissue" / "liver_vs_kidney.tsv", sep="\t")
    assert not np.allclose(plain["stat"], ours["stat"], equal_nan=True)


def test_the_vst_of_an_analysis_with_svas_uses_them(marioni):
    """report.vst_analysis: tissue_sva: vst.tsv is the VST fitted with ~ tissue + SV1 + SV2."""
    from cases import load
    from glmstack.design.model import full_design
    from glmstack.nb import vst

    case = load("marioni")
    sf = np.asarray(json.loads((marioni / "manifest.json").read_text())["size_factors"])
    sv = read_covariates(marioni / "tissue_sva" / "surrogate_variables.tsv")
    analysis = Analysis.from_study("tissue_sva", MARIONI["analyses"]["tissue_sva"])
    design = full_design(case.samples, analysis, sv).matrix
    assert design.shape[1] == 4
    ours = pd.read_csv(marioni / "normalization" / "vst.tsv", sep="\t", index_col=0).to_numpy()
    np.testing.assert_allclose(ours, vst.vst(case.counts.astype(float), sf, design), rtol=1e-12, atol=1e-12)
    without = vst.vst(case.counts.astype(float), sf, full_design(case.samples, analysis).matrix)
    assert not np.allclose(ours, without, rtol=1e-6)
