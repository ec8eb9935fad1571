"""Direction reverse end to end: snakemake on values (biobase_sample, against MASS::rlm) and on
counts (a seeded synthetic study, vst and log_cpm), at two shard sizes with the same tables."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
import yaml
from cases import DATA
from glmstack.gaussian.voom import log_cpm
from glmstack.nb.vst import vst
from glmstack.reverse import steps
from workflow_runs import snakemake

BIOBASE = DATA / "gaussian" / "biobase_sample"
COLUMNS = ["feature_id", "estimate", "std_error", "statistic", "pvalue_naive", "pvalue", "padj"]
SHARD_SIZES = (100, 1000)  # 4 shards of biobase_sample's 357 features, and one


def read_tsv(path):
    return pd.read_csv(path, sep="\t", dtype={"feature_id": str}, keep_default_na=False, na_values=[""])


def run_study(root, study: dict, files: list) -> object:
    root.mkdir(parents=True, exist_ok=True)
    for path in files:
        shutil.copy(path, root / path.name)
    (root / "study.yaml").write_text(yaml.safe_dump(study))
    done = snakemake(root, "--cores", "2")
    assert done.returncode == 0, done.stderr[-3000:]
    return root / "out"


@pytest.fixture(scope="module")
def biobase(tmp_path_factory):
    study = yaml.safe_load((BIOBASE / "study.yaml").read_text())
    analysis = {**study["analyses"]["score_reverse"], "permutations": 200, "seed": 7}
    files = [BIOBASE / "values.tsv.gz", BIOBASE / "samples.tsv.gz"]
    return {
        size: run_study(
            tmp_path_factory.mktemp(f"biobase{size}"),
            {"values": "values.tsv.gz", "samples": "samples.tsv.gz", "outdir": "out", "genes_per_shard": size,
             "analyses": {"score_reverse": analysis}},
            files,
        )
        for size in SHARD_SIZES
    }


def test_values_table_matches_mass_rlm_and_the_shard_size_changes_nothing(biobase):
    small, whole = (read_tsv(biobase[size] / "score_reverse" / "reverse.tsv") for size in SHARD_SIZES)
    assert list(small.columns) == COLUMNS
    assert [len(json.loads((biobase[s] / "manifest.json").read_text())["shards"]) for s in SHARD_SIZES] == [4, 1]
    pd.testing.assert_frame_equal(small, whole, check_exact=False, rtol=1e-12, atol=0)
    ref = pd.read_csv(BIOBASE / "reference" / "score_reverse" / "rlm.tsv.gz", sep="\t")
    assert list(small["feature_id"]) == list(ref["feature_id"])  # input order
    np.testing.assert_allclose(small["estimate"], ref["estimate"], rtol=1e-6)
    np.testing.assert_allclose(small["std_error"], ref["std_error"], rtol=1e-6)
    assert ((small["pvalue"] > 0) & (small["pvalue"] <= 1)).all()


def test_model_json_records_the_plan_and_the_report_shows_the_analysis(biobase):
    out = biobase[SHARD_SIZES[0]]
    model = json.loads((out / "score_reverse" / "model.json").read_text())
    assert model["calibration"]["seed"] == 7 and model["calibration"]["permutations"] == 200
    assert model["covariate_columns"] == ["Intercept", "sex[T.Male]", "type[T.Case]"]
    assert model["n_tested"] == 357 and model["n_not_converged"] == 0
    plan = np.load(out / "score_reverse" / "reverse" / "plan.npz")
    assert plan["permutations"].shape == (200, 26) and int(plan["seed"]) == 7
    page = (out / "report.html").read_text()
    assert "score_reverse" in page and "calibrated" in page and "Freedman-Lane" in page
    for name in ("qq", "pvalues", "top_features"):
        assert (out / "score_reverse" / "plots" / name / "reverse.png").stat().st_size > 1000


def test_the_top_features_are_drawn_under_their_names(tmp_path):
    """With an `annotation:` table, the reverse table carries its names and the trait-against-
    feature panels are titled by them (the plot job logs the labels it drew); a feature whose
    name is empty keeps its id."""
    study = yaml.safe_load((BIOBASE / "study.yaml").read_text())
    analysis = {**study["analyses"]["score_reverse"], "permutations": 50, "seed": 7}
    ids = pd.read_csv(BIOBASE / "values.tsv.gz", sep="\t", usecols=[0], dtype=str).iloc[:, 0]
    names = pd.DataFrame({"feature_id": ids, "symbol": [f"SYM{i}" for i in range(len(ids))]})
    first = read_tsv(run_study(tmp_path / "plain", {"values": "values.tsv.gz", "samples": "samples.tsv.gz",
                                                     "outdir": "out", "analyses": {"score_reverse": analysis}},
                               [BIOBASE / "values.tsv.gz", BIOBASE / "samples.tsv.gz"])
                     / "score_reverse" / "reverse.tsv")
    best = first.sort_values(["padj", "pvalue"], kind="stable")["feature_id"].iloc[0]
    names.loc[names["feature_id"] == best, "symbol"] = ""  # the best feature has no name
    (tmp_path / "named").mkdir()
    names.to_csv(tmp_path / "named" / "names.tsv", sep="\t", index=False)
    out = run_study(tmp_path / "named", {"values": "values.tsv.gz", "samples": "samples.tsv.gz", "outdir": "out",
                                          "annotation": "names.tsv", "analyses": {"score_reverse": analysis}},
                    [BIOBASE / "values.tsv.gz", BIOBASE / "samples.tsv.gz"])
    table = read_tsv(out / "score_reverse" / "reverse.tsv")
    assert list(table.columns) == [COLUMNS[0], "symbol", *COLUMNS[1:]]
    pd.testing.assert_frame_equal(table.drop(columns=["symbol"]), first)
    top = read_tsv(out / "score_reverse" / "report" / "top_genes" / "reverse.tsv")
    labels = [best if i == best else f"SYM{list(ids).index(i)}" for i in top["feature_id"]]
    assert top["feature_id"].iloc[0] == best
    log = (out / "logs" / "score_reverse" / "plot_reverse.log").read_text()
    assert f"top features drawn: {', '.join(labels)}" in log


def synthetic_counts(tmp_path):
    """300 genes x 16 samples of NB counts; a trait `age` and a covariate `sex`."""
    rng = np.random.default_rng(11)
    n_genes, n_samples = 300, 16
    mean = rng.lognormal(4.0, 1.5, size=(n_genes, 1)) * rng.uniform(0.7, 1.4, size=(1, n_samples))
    counts = rng.negative_binomial(5, 5 / (5 + mean))
    names = [f"s{i:02d}" for i in range(n_samples)]
    frame = pd.DataFrame(counts, columns=names)
    frame.insert(0, "gene_id", [f"g{i:03d}" for i in range(n_genes)])
    frame.to_csv(tmp_path / "counts.tsv", sep="\t", index=False)
    sheet = pd.DataFrame({"sample": names, "sex": ["F", "M"] * 8, "age": rng.normal(50, 10, n_samples).round(1)})
    sheet.to_csv(tmp_path / "samples.tsv", sep="\t", index=False)
    return counts, sheet


@pytest.mark.parametrize("size", [70, 1000])
def test_counts_with_vst_and_log_cpm_match_the_library(tmp_path, size):
    counts, sheet = synthetic_counts(tmp_path)
    entry = {"direction": "reverse", "trait": "age", "covariates": "~ sex", "permutations": 50}
    study = {"counts": "counts.tsv", "samples": "samples.tsv", "outdir": "out", "genes_per_shard": size,
             "analyses": {"age_vst": entry, "age_logcpm": {**entry, "transform": "log_cpm"}}}
    out = run_study(tmp_path / "run", study, [tmp_path / "counts.tsv", tmp_path / "samples.tsv"])
    sf = np.asarray(json.loads((out / "manifest.json").read_text())["size_factors"])
    covariates = np.column_stack([np.ones(16), sheet["sex"].eq("M")]).astype(float)
    plan = steps.plan_step(sheet["age"].to_numpy(float), covariates, 50, 20261126)
    for name, values in (("age_vst", vst(counts, sf)), ("age_logcpm", log_cpm(counts.astype(float), counts.sum(axis=0)))):
        shard = steps.shard_step(values, plan)
        expected = steps.merge_step(np.array([f"g{i:03d}" for i in range(300)]), shard, 16, 2)
        ours = read_tsv(out / name / "reverse.tsv")
        pd.testing.assert_frame_equal(ours, expected, check_exact=False, rtol=1e-9, atol=1e-12)
        assert json.loads((out / name / "model.json").read_text())["transform"] == ("log_cpm" if "log" in name else "vst")


NA_CASE = DATA / "gaussian" / "biobase_sample_na"


@pytest.fixture(scope="module")
def with_missing(tmp_path_factory):
    """biobase_sample_na: 60 features, 25 of them missing samples (make_reference.R)."""
    study = yaml.safe_load((NA_CASE / "study.yaml").read_text())
    analysis = {**study["analyses"]["score_reverse"], "permutations": 100, "seed": 3}
    return {
        size: run_study(
            tmp_path_factory.mktemp(f"missing{size}"),
            {"values": "values.tsv.gz", "samples": "samples.tsv.gz", "outdir": "out", "genes_per_shard": size,
             "analyses": {"score_reverse": analysis}},
            [NA_CASE / "values.tsv.gz", NA_CASE / "samples.tsv.gz"],
        )
        for size in (16, 1000)
    }


def test_features_with_missing_values_are_fitted_on_their_samples(with_missing):
    """Complete-case fits as MASS::rlm, the same tables at 4 shards and 1, and the features that
    cannot be fitted empty with their reason in the shard's log."""
    small, whole = (read_tsv(with_missing[size] / "score_reverse" / "reverse.tsv") for size in (16, 1000))
    pd.testing.assert_frame_equal(small, whole, check_exact=False, rtol=1e-12, atol=0)
    ref = pd.read_csv(NA_CASE / "reference" / "score_reverse" / "rlm.tsv.gz", sep="\t", keep_default_na=False,
                      na_values=["NA"])
    assert list(small["feature_id"]) == list(ref["feature_id"])
    fitted = ref["std_error"].notna().to_numpy()
    np.testing.assert_allclose(small["estimate"][fitted], ref["estimate"][fitted], rtol=1e-6)
    np.testing.assert_allclose(small["std_error"][fitted], ref["std_error"][fitted], rtol=1e-6)
    empty = ["AFFX-HUMTFRR/M11507_3_at", "AFFX-M27830_M_at", "AFFX-M27830_3_at", "AFFX-HSAC07/X00351_3_st"]
    assert small.loc[small["pvalue"].isna(), "feature_id"].tolist() == empty
    out = with_missing[16]
    logs = "".join(p.read_text() for p in sorted((out / "logs" / "score_reverse" / "reverse_shard").glob("*.log")))
    for feature in empty:
        assert f"{feature}: not tested" in logs
    assert "the covariates are not full rank on its observed samples" in logs
    model = json.loads((out / "score_reverse" / "model.json").read_text())
    assert model["n_tested"] == 56 and model["n_with_missing_values"] == 25
    assert sum(model["not_tested"].values()) == 4
    assert (out / "score_reverse" / "plots" / "top_features" / "reverse.png").stat().st_size > 1000
