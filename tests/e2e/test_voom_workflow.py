"""Family voom end to end: snakemake on human_gender's counts against limma 3.54's voom.

Both analyses of tests/data/gaussian/human_gender_voom (voom on the library sizes, voom after TMM)
run through the workflow: library sizes and TMM factors (genome-wide), voom's unweighted fit per
shard, the mean-variance trend over every gene, the weighted fits per shard, the moderation. The
tables equal the in-process library result (glmstack.gaussian.steps.voom_tests) to 1e-12 and meet
the limma reference thresholds. A second run with 300 all-zero genes added in front and one shard
instead of seven gives the same numbers for every other gene (limma's voom and edgeR's
calcNormFactors ignore all-zero genes: tests/data/gaussian/extra/voom_zero_rows.R) and no test for the
added genes.
"""

from __future__ import annotations

import gzip
import json

import numpy as np
import pandas as pd
import pytest
import yaml
from glmstack.spec import Analysis
from limma_cases import DATA, assert_matches_limma, read_tsv, run
from workflow_runs import snakemake

CASE = DATA / "human_gender_voom"
STUDY = yaml.safe_load((CASE / "study.yaml").read_text())
TABLE = "male_vs_female"
ANALYSES = list(STUDY["analyses"])
N_ZERO = 300
SVA_ANALYSIS = {**STUDY["analyses"]["sex_voom"], "sva": {"n": 2}}  # voom with two surrogate variables
# Tables agree to 1e-12 relative, or 1e-12 absolute for values near 0 (logFC, t): the least
# squares of a shard run through BLAS blocks that depend on the shard's size, so coefficients
# differ at about 1e-16 of the intercept (log-CPM ~ 5), which is ~1e-10 relative to a logFC of 1e-4.
RTOL = ATOL = 1e-12


def write_study(root, counts: pd.DataFrame, genes_per_shard: int, extra: dict | None = None):
    root.mkdir(parents=True)
    with gzip.open(root / "counts.tsv.gz", "wt") as fh:
        counts.to_csv(fh, sep="\t")
    (root / "samples.tsv.gz").write_bytes((CASE / "samples.tsv.gz").read_bytes())
    study = {**STUDY, "counts": "counts.tsv.gz", "samples": "samples.tsv.gz", "outdir": "out",
             "genes_per_shard": genes_per_shard}
    study["analyses"] = {**study["analyses"], **(extra or {})}
    (root / "study.yaml").write_text(yaml.safe_dump(study, sort_keys=False))
    done = snakemake(root, "--cores", "2")
    assert done.returncode == 0, done.stderr[-3000:]
    return root / "out"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    counts = pd.read_csv(DATA.parent / "human_gender" / "counts.tsv.gz", sep="\t", index_col=0)
    zeros = pd.DataFrame(0, index=[f"ZERO{i:03d}" for i in range(N_ZERO)], columns=counts.columns)
    root = tmp_path_factory.mktemp("voom")
    return {
        "sharded": write_study(root / "sharded", counts, 1500, {"sex_voom_sva": SVA_ANALYSIS}),
        "zeros": write_study(root / "zeros", pd.concat([zeros, counts]), 100_000),
    }


@pytest.mark.parametrize("analysis", ANALYSES)
def test_voom_tables_match_the_library_and_limma(runs, analysis):
    ours = read_tsv(runs["sharded"] / analysis / f"{TABLE}.tsv")
    expected = run("human_gender_voom", analysis)["tables"][TABLE]
    assert list(ours["feature_id"]) == list(expected["feature_id"])
    for column in ours.columns[1:]:
        np.testing.assert_allclose(ours[column], expected[column], rtol=RTOL, atol=ATOL, equal_nan=True, err_msg=column)
    assert_matches_limma(ours, "human_gender_voom", analysis, "t")


@pytest.mark.parametrize("analysis", ANALYSES)
def test_all_zero_genes_and_shards_change_nothing(runs, analysis):
    sharded = read_tsv(runs["sharded"] / analysis / f"{TABLE}.tsv")
    zeros = read_tsv(runs["zeros"] / analysis / f"{TABLE}.tsv")
    assert [len(json.loads((runs[k] / "manifest.json").read_text())["shards"]) for k in runs] == [7, 1]
    added = zeros.iloc[:N_ZERO]
    assert added["feature_id"].str.startswith("ZERO").all()
    assert added.drop(columns="feature_id").isna().all().all()  # not tested, not in the prior
    pd.testing.assert_frame_equal(
        zeros.iloc[N_ZERO:].reset_index(drop=True), sharded, check_exact=False, rtol=RTOL, atol=ATOL
    )


def lmfit_id(analysis: str) -> str:
    """The id of the analysis's least-squares fit: its outputs are under models/<id>/."""
    return Analysis.from_study(analysis, STUDY["analyses"][analysis], "voom").shape_id("lmfit")


def test_the_two_normalizations_fit_apart(runs):
    """voom on the library sizes and voom after TMM: two lmfit ids, each with its trend and fits."""
    out = runs["sharded"]
    ids = [lmfit_id(analysis) for analysis in ANALYSES]
    assert len(set(ids)) == len(ids)
    for key in ids:
        assert len(list((out / "models" / key / "lmfit").glob("*.npz"))) == 7
        assert len(list((out / "models" / key / "voom").glob("0*.npz"))) == 7


def test_library_sizes_and_tmm_factors(runs):
    sizes = read_tsv(runs["sharded"] / "normalization" / "library_sizes.tsv")
    meta = json.loads((CASE / "reference" / "sex_voom_tmm" / "meta.json").read_text())
    np.testing.assert_allclose(sizes["tmm_factor"], [meta["norm_factors"][s] for s in sizes["sample"]], rtol=1e-9)
    zero_run = read_tsv(runs["zeros"] / "normalization" / "library_sizes.tsv")
    pd.testing.assert_frame_equal(zero_run, sizes)


def test_model_json_and_report_show_voom(runs):
    out = runs["sharded"]
    for analysis in ANALYSES:
        model = json.loads((out / analysis / "model.json").read_text())
        assert model["family"] == "voom"
        assert (out / analysis / "plots" / "voom_trend.png").stat().st_size > 0
        assert (out / analysis / "plots" / "values" / f"{TABLE}.png").stat().st_size > 0
        trend = np.load(out / "models" / lmfit_id(analysis) / "voom" / "trend.npz")  # shared
        assert np.all(np.diff(trend["x"]) >= 0) and trend["x"].size == len(read_tsv(out / analysis / f"{TABLE}.tsv"))
    assert "voom mean-variance trend" in (out / "report.html").read_text()


def test_voom_with_surrogate_variables_fits_them_in_the_design(runs):
    from glmstack.design.formula import build_design
    from glmstack.gaussian import steps

    out = runs["sharded"]
    sv = read_tsv(out / "sex_voom_sva" / "surrogate_variables.tsv")
    assert list(sv.columns) == ["sample", "SV1", "SV2"]
    counts = pd.read_csv(DATA.parent / "human_gender" / "counts.tsv.gz", sep="\t", index_col=0)
    samples = read_tsv(CASE / "samples.tsv.gz").set_index("sample").loc[counts.columns].reset_index()
    design = build_design(samples, "~ sex", {"sex": ["Female", "Male"]}).matrix
    design = np.column_stack([design, sv.set_index("sample").loc[samples["sample"]].to_numpy()])
    expected = steps.voom_tests(counts.index.to_numpy(), counts.to_numpy(float), design, {TABLE: np.array([0.0, 1, 0, 0])})
    ours = read_tsv(out / "sex_voom_sva" / f"{TABLE}.tsv")
    for column in ours.columns[1:]:
        np.testing.assert_allclose(ours[column], expected["tables"][TABLE][column], rtol=RTOL, atol=ATOL,
                                   equal_nan=True, err_msg=column)
    columns = json.loads((out / "sex_voom_sva" / "model.json").read_text())["design_columns"]
    assert [c["r_name"] for c in columns[-2:]] == ["SV1", "SV2"]
