"""One least-squares fit per design: gaussian and voom analyses with the same lmfit keys share it.

golub (values: two gaussian analyses on `~ cell`, a moderated t and the moderated F of test: lrt)
and human_gender (counts: two voom analyses on `~ sex`, a moderated t and a robust treat table)
each run in one study, where the benchmarks show ONE lmfit job per shard (and for voom one
voom_points job per shard and one voom_trend) under models/<lmfit id>/, and no per-analysis fit.
Every table equals, frame for frame, that of the same analysis run alone in its own study.
"""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
import yaml
from glmstack.spec import study_analyses
from limma_cases import DATA, read_tsv
from workflow_runs import rule_kind, snakemake

CELL = {"design": "~ cell", "levels": {"cell": ["ALL", "AML"]}}
SEX = {"family": "voom", "design": "~ sex", "levels": {"sex": ["Female", "Male"]}}
GOLUB = {
    "values": "values.tsv.gz",
    "samples": "samples.tsv.gz",
    "outdir": "out",
    "genes_per_shard": 1000,
    "analyses": {
        "aml_t": {**CELL, "contrasts": {"aml_vs_all": ["cell", "AML", "ALL"]}},
        "aml_f": {**CELL, "test": "lrt", "reduced": "~ 1", "moderation": {"trend": True}},
    },
}
VOOM = {
    "counts": "counts.tsv.gz",
    "samples": "samples.tsv.gz",
    "outdir": "out",
    "genes_per_shard": 2500,
    "analyses": {
        "sex_t": {**SEX, "contrasts": {"male_vs_female": ["sex", "Male", "Female"]}},
        "sex_treat": {
            **SEX,
            "lfc_threshold": 0.5,
            "moderation": {"robust": True},
            "alpha": 0.05,
            "contrasts": {"male_vs_female": ["sex", "Male", "Female"]},
        },
    },
}
STUDIES = {"golub": GOLUB, "voom": VOOM}


def run_study(root, case: str, study: dict):
    root.mkdir(parents=True)
    if case == "golub":
        for name in ("values.tsv.gz", "samples.tsv.gz"):
            shutil.copy(DATA / "golub" / name, root / name)
    else:
        shutil.copy(DATA.parent / "human_gender" / "counts.tsv.gz", root / "counts.tsv.gz")
        shutil.copy(DATA / "human_gender_voom" / "samples.tsv.gz", root / "samples.tsv.gz")
    (root / "study.yaml").write_text(yaml.safe_dump(study, sort_keys=False))
    done = snakemake(root, "--cores", "2", "tables")
    assert done.returncode == 0, done.stderr[-3000:]
    return root / "out"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """case -> {"together": outdir, analysis name: outdir of the analysis alone}."""
    out = {}
    for case, study in STUDIES.items():
        root = tmp_path_factory.mktemp(case)
        out[case] = {"together": run_study(root / "together", case, study)}
        for name, entry in study["analyses"].items():
            out[case][name] = run_study(root / name, case, {**study, "analyses": {name: entry}})
    return out


@pytest.mark.parametrize("case", STUDIES)
def test_one_lmfit_job_per_shard_for_the_design(runs, case):
    out = runs[case]["together"]
    (lmfit_id,) = {a.shape_id("lmfit") for a in study_analyses(STUDIES[case]).values()}
    n_shards = len(json.loads((out / "manifest.json").read_text())["shards"])
    assert n_shards > 1
    benchmarks = out / "benchmarks" / "models"
    assert [p.name for p in benchmarks.iterdir()] == [lmfit_id]
    assert len(list((benchmarks / lmfit_id / "lmfit").glob("*.tsv"))) == n_shards
    assert len(list((out / "models" / lmfit_id / "lmfit").glob("*.npz"))) == n_shards
    if case == "voom":
        assert len(list((benchmarks / lmfit_id / "voom").glob("*.tsv"))) == n_shards
        assert (benchmarks / lmfit_id / "voom_trend.tsv").exists()
    # one moderation job for the analyses of the fit: their tables and model.json
    assert (benchmarks / lmfit_id / "moderate.tsv").exists()
    for name in STUDIES[case]["analyses"]:
        assert not (out / "benchmarks" / name / "lmfit").exists()
        assert not (out / "benchmarks" / name / "voom").exists()
        assert not (out / name / "lmfit").exists()
    # the shared jobs' stamps carry the lmfit keys, named by the id (not by one of the analyses)
    stamp = json.loads((out / "stamps" / "lmfit" / f"{lmfit_id}.json").read_text())
    assert stamp["params"]["name"] == lmfit_id
    assert not {"contrasts", "test", "reduced", "lfc_threshold", "moderation", "alpha"} & set(stamp["params"])


@pytest.mark.parametrize(("case", "analysis"), [(c, a) for c, s in STUDIES.items() for a in s["analyses"]])
def test_tables_equal_those_of_the_analysis_alone(runs, case, analysis):
    tables = [t for a in study_analyses(STUDIES[case]).values() if a.name == analysis for t in a.table_names]
    for table in tables:
        together = read_tsv(runs[case]["together"] / analysis / f"{table}.tsv")
        alone = read_tsv(runs[case][analysis] / analysis / f"{table}.tsv")
        assert together["P.Value"].notna().sum() > 1000
        pd.testing.assert_frame_equal(together, alone, check_exact=True)
    together = json.loads((runs[case]["together"] / analysis / "model.json").read_text())
    alone = json.loads((runs[case][analysis] / analysis / "model.json").read_text())
    assert together == alone


def test_an_edit_to_one_analysis_keeps_the_shared_fit(runs, tmp_path):
    """A new contrast in one analysis reruns its tables, not the shared lmfit jobs."""
    root = runs["golub"]["together"].parent
    study = yaml.safe_load((root / "study.yaml").read_text())
    study["analyses"]["aml_t"]["contrasts"]["all_vs_aml"] = ["cell", "ALL", "AML"]
    edited = tmp_path / "edited.yaml"
    edited.write_text(yaml.safe_dump(study, sort_keys=False))
    done = snakemake(root, "-n", "tables", configfile=edited)
    assert done.returncode == 0, done.stderr[-3000:]
    planned = done.stdout + done.stderr
    rules = {rule_kind(line.split()[1].rstrip(":")) for line in planned.splitlines() if line.startswith("rule ")}
    assert "moderate" in rules and "lmfit" not in rules

