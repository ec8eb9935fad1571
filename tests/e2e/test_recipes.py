"""Every recipe of the README's table, run through Snakemake, equals the in-process pipeline.

One small study (the first 1,500 marioni genes, two shards; a sample sheet with the variables
each recipe needs) with one analysis per recipe row. Snakemake builds each job's params from
the analysis spec, so a key that never reaches a job (as `bins` once did) fails here. The bins
recipe is also compared with R DESeq2 on a whole case (mouse_diet, test_bins_recipe_...).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import tolerances as tol
import yaml
from cases import DATA, load, read_table
from glmstack.nb import size_factors, steps
from glmstack.nb.cooks import cooks_cutoff, filter_cutoff
from glmstack.spec import Analysis, study_analyses
from workflow_runs import snakemake

N_GENES = 1500

# marioni's 10 samples, with the variables the recipes use
SHEET = pd.DataFrame(
    {
        "sample": ["R1L1Kidney", "R1L2Liver", "R1L3Kidney", "R1L4Liver", "R1L6Liver",
                   "R1L7Kidney", "R1L8Liver", "R2L2Kidney", "R2L3Liver", "R2L6Kidney"],
        "tissue": ["Kidney", "Liver", "Kidney", "Liver", "Liver", "Kidney", "Liver", "Kidney", "Liver", "Kidney"],
        "batch": ["R1"] * 7 + ["R2"] * 3,
        "batch2": ["a", "b", "a", "b", "b", "a", "a", "b", "a", "b"],
        "group": ["A", "B", "A", "C", "B", "C", "A", "B", "C", "C"],
        "patient": ["p1", "p1", "p2", "p2", "p3", "p3", "p4", "p4", "p5", "p5"],
        "visit": ["v1", "v2", "v2", "v1", "v2", "v1", "v1", "v2", "v2", "v1"],
        "drug": ["no", "yes", "no", "yes", "yes", "no", "yes", "no", "yes", "no"],
        "trait": ["1.2", "3.4", "2.2", "5.1", "4.4", "0.8", "3.9", "2.7", "4.8", "1.9"],
        "age": ["23", "35", "41", "52", "60", "29", "47", "33", "55", "38"],
        "time": ["day0"] * 5 + ["day6"] * 5,
        "treatment": ["ctl", "trt", "ctl", "trt", "trt", "ctl", "trt", "ctl", "trt", "ctl"],
    }
)  # fmt: skip

RECIPES = {
    "two_groups": {"design": "~ tissue", "contrasts": {"liver_vs_kidney": ["tissue", "Liver", "Kidney"]}},
    "three_groups": {"design": "~ group", "contrasts": {"b_vs_a": ["group", "B", "A"], "c_vs_b": ["group", "C", "B"]}},
    "batch": {"design": "~ batch + tissue", "contrasts": {"liver_vs_kidney": ["tissue", "Liver", "Kidney"]}},
    "paired": {"design": "~ patient + visit + drug", "contrasts": {"drug": ["drug", "yes", "no"]}},
    "trait_slope": {"design": "~ batch + batch2 + trait", "contrasts": {"per_unit": {"coef": "trait"}}},
    "trait_lrt": {"design": "~ batch + batch2 + trait", "test": "lrt", "reduced": "~ batch + batch2"},
    "spline_lrt": {"design": "~ batch + ns(age, df = 3)", "test": "lrt", "reduced": "~ batch"},
    "bspline": {"design": "~ batch + bs(age, df = 4)"},
    "interaction_lrt": {
        "design": "~ time + treatment + time:treatment",
        "test": "lrt",
        "reduced": "~ time + treatment",
    },
    "interaction_wald": {"design": "~ time * treatment", "contrasts": {"inter": {"coef": "timeday6.treatmenttrt"}}},
    "no_intercept": {"design": "~ 0 + group", "contrasts": {"b_vs_a": {"vector": {"groupB": 1, "groupA": -1}}}},
    "cooks_number": {
        "design": "~ tissue",
        "cooks_cutoff": 2.5,
        "contrasts": {"liver_vs_kidney": ["tissue", "Liver", "Kidney"]},
    },
    "threshold": {
        "design": "~ tissue",
        "lfc_threshold": 1,
        "alt_hypothesis": "greaterAbs",
        "contrasts": {"liver_vs_kidney": ["tissue", "Liver", "Kidney"]},
    },
    "bins": {
        "design": "~ batch + age_group",
        "bins": {"age_group": {"column": "age", "quantiles": 3}},
        "contrasts": {"old_vs_young": ["age_group", "Q3", "Q1"]},
    },
}


def analyses(entries: dict) -> dict[str, Analysis]:
    return study_analyses({"analyses": entries})


@pytest.fixture(scope="module")
def recipe_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("recipes")
    case = load("marioni")
    counts = pd.DataFrame(case.counts[:N_GENES].astype(int), columns=case.sample_ids)
    counts.insert(0, "gene_id", case.gene_id[:N_GENES])
    counts.to_csv(work / "counts.tsv", sep="\t", index=False)
    SHEET.to_csv(work / "samples.tsv", sep="\t", index=False)
    study = {"counts": "counts.tsv", "samples": "samples.tsv", "outdir": "out", "genes_per_shard": 800,
             "analyses": RECIPES}  # fmt: skip
    (work / "study.yaml").write_text(yaml.safe_dump(study))
    targets = [f"out/{name}/{table}.tsv" for name, a in analyses(RECIPES).items() for table in a.table_names]
    targets += [f"out/{name}/model.json" for name in RECIPES]
    done = snakemake(work, "--cores", "2", *targets)  # the tables, not the plots
    assert done.returncode == 0, done.stderr[-3000:]
    return work / "out", case


@pytest.mark.parametrize("name", list(RECIPES))
def test_recipe_through_snakemake_equals_the_in_process_pipeline(recipe_run, name):
    out, case = recipe_run
    counts = case.counts[:N_GENES]
    sf = size_factors.size_factors(counts, "ratio")
    analysis = Analysis.from_study(name, RECIPES[name])
    expected = steps.run_analysis(case.gene_id[:N_GENES], counts, sf, SHEET, analysis, genes_per_shard=800)
    for table in analysis.table_names:
        ours = pd.read_csv(out / name / f"{table}.tsv", sep="\t", dtype={"gene_id": str})
        exp = expected["tables"][table]
        assert list(ours.columns) == list(exp.columns)
        assert ours["pvalue"].notna().sum() > N_GENES / 2  # the model was fitted, not skipped
        for column in ours.columns[1:]:
            np.testing.assert_allclose(ours[column], exp[column], rtol=1e-14, equal_nan=True, err_msg=column)
    dispersions = pd.read_csv(out / name / "dispersions.tsv", sep="\t", dtype={"gene_id": str})
    np.testing.assert_allclose(dispersions["dispersion"], expected["dispersions"]["dispersion"], rtol=1e-14)
    model = json.loads((out / name / "model.json").read_text())
    assert model["design"] == RECIPES[name]["design"]
    # the Cook's filter in use: DESeq2's F(0.99; p, m - p) quantile, or the study's number
    quantile = cooks_cutoff(len(SHEET), len(model["design_columns"]))
    assert model["cooks_distance_cutoff"] == filter_cutoff(RECIPES[name].get("cooks_cutoff", True), quantile)


def test_bins_recipe_through_snakemake_matches_deseq2(tmp_path):
    """mouse_diet's relativeTime in tertiles (R: quantile type 7, cut(right = TRUE, include.lowest
    = TRUE)), ~ mouseID + time_group, against DESeq2 1.38 (tests/data/mouse_diet/reference/
    time_bins, made by the R script beside it), with the golden tests' thresholds."""
    case = load("mouse_diet")
    entry = case.study["analyses"]["time_bins"]
    study = {"counts": str(DATA / "mouse_diet" / case.study["counts"]),
             "samples": str(DATA / "mouse_diet" / case.study["samples"]), "outdir": "out",
             "size_factors_method": "poscounts", "analyses": {"time_bins": entry}}  # fmt: skip
    (tmp_path / "study.yaml").write_text(yaml.safe_dump(study))
    targets = ["out/time_bins/late_vs_early.tsv", "out/time_bins/middle_vs_early.tsv"]
    done = snakemake(tmp_path, "--cores", "2", *targets)
    assert done.returncode == 0, done.stderr[-3000:]
    for table, reference in (("late_vs_early", "results"), ("middle_vs_early", "results.middle_vs_early")):
        ours = pd.read_csv(tmp_path / "out" / "time_bins" / f"{table}.tsv", sep="\t", dtype={"gene_id": str})
        ref = read_table(DATA / "mouse_diet" / "reference" / "time_bins" / f"{reference}.tsv.gz")
        assert list(ours["gene_id"]) == list(ref["gene_id"])
        np.testing.assert_array_equal(ours["pvalue"].isna(), ref["pvalue"].isna())
        ok = ref["baseMean"].to_numpy() >= tol.LFC_MIN_BASEMEAN
        r = np.corrcoef(ours["log2FoldChange"][ok], ref["log2FoldChange"][ok])[0, 1]
        assert r >= tol.LFC_PEARSON
        ours_sig = set(ours["gene_id"][ours["padj"] < tol.ALPHA])
        ref_sig = set(ref["gene_id"][ref["padj"] < tol.ALPHA])
        assert len(ours_sig & ref_sig) / len(ours_sig | ref_sig) >= tol.PADJ_JACCARD


def test_analyses_sharing_a_design_share_their_fit_jobs(recipe_run):
    """two_groups, cooks_number and threshold share `~ tissue`, trait_slope and trait_lrt
    `~ batch + batch2 + trait`: one fit job per shard fits each group (on MAP dispersions made
    once); every other recipe has fit jobs of its own."""
    out, _ = recipe_run
    fits = sorted((out / "models").glob("*/*/fit"))
    assert len(fits) == len(RECIPES) - 3 and all(len(list(f.glob("*.npz"))) == 2 for f in fits)
    assert len(list((out / "models").iterdir())) == len(RECIPES) - 3  # one design thrice, one twice
    shared = []
    for folder in fits:
        with np.load(next(folder.glob("*.npz"))) as arrays:
            analyses = sorted({name.split(".")[0] for name in arrays.files if "." in name})
        if len(analyses) > 1:
            shared.append(analyses)
    assert sorted(shared) == [["cooks_number", "threshold", "two_groups"], ["trait_lrt", "trait_slope"]]
