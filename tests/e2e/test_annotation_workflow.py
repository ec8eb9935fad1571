"""Feature names end to end: an `annotation:` table, and an nf-core/rnaseq-style merged table
(`gene_id, gene_name, samples...`), through Snakemake.

The gene names are synthetic (`GENE<number of the Ensembl id>`): no offline Ensembl-to-symbol
mapping is available to the tests, and the checks are about where names go, not what they are.
"""

from __future__ import annotations

import gzip
import shutil

import numpy as np
import pandas as pd
import pytest
from cases import DATA
from workflow_runs import MARIONI_STUDY, snakemake, write_study

STUDY = MARIONI_STUDY


def synthetic_name(gene_id: str) -> str:
    return f"GENE{int(gene_id[4:])}"  # ENSG00000187634 -> GENE187634 (synthetic, see above)


def read(path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """The study without annotation: the tables every annotated run must agree with."""
    work = write_study(tmp_path_factory.mktemp("plain"), STUDY)
    done = snakemake(work, "--cores", "2", "tables")
    assert done.returncode == 0, done.stderr[-3000:]
    return work / "out"


@pytest.fixture(scope="module")
def annotated(tmp_path_factory):
    """`annotation: genes.csv.gz` (CSV, gzipped), with one feature unnamed, one missing, one
    id that is no feature, and the id in its second column (named like the matrix's)."""
    work = write_study(tmp_path_factory.mktemp("annotated"), {**STUDY, "annotation": "genes.csv.gz"})
    ids = pd.read_csv(work / "counts.tsv.gz", sep="\t", usecols=[0], dtype=str).iloc[:, 0]
    genes = pd.DataFrame({
        "biotype": np.where(np.arange(len(ids)) % 3 == 0, "lncRNA", "protein_coding"),
        "gene_id": ids,
        "gene_name": [synthetic_name(i) for i in ids],
    })  # fmt: skip
    genes.loc[4, "gene_name"] = ""  # a feature without a name: labelled by its id
    genes = pd.concat([genes.drop(index=[6]), pd.DataFrame({"biotype": ["x"], "gene_id": ["ENSG_NOT_A_FEATURE"],
                                                            "gene_name": ["X"]})])  # fmt: skip
    with gzip.open(work / "genes.csv.gz", "wt") as fh:
        genes.to_csv(fh, index=False)
    done = snakemake(work, "--cores", "2")
    assert done.returncode == 0, done.stderr[-3000:]
    return work / "out", ids


def test_annotation_columns_follow_the_id_in_every_table(plain, annotated):
    out, ids = annotated
    for table in ("tissue/liver_vs_kidney.tsv", "tissue/dispersions.tsv", "tissue_lrt/lrt.tsv",
                  "tissue_lrt/dispersions.tsv"):
        got, before = read(out / table), read(plain / table)
        # the annotation's columns in its own order, after the id
        assert list(got.columns) == ["gene_id", "biotype", "gene_name", *before.columns[1:]], table
        # the numbers are those of the run without annotation, features in input order
        pd.testing.assert_frame_equal(got.drop(columns=["gene_name", "biotype"]), before)
        assert got["gene_name"].iloc[0] == synthetic_name(ids.iloc[0])
        assert got["gene_name"].iloc[4] == "" and got["biotype"].iloc[4] == "protein_coding"
        assert got["gene_name"].iloc[6] == "" and got["biotype"].iloc[6] == ""  # not in the annotation
    features = read(out / "features.tsv")
    assert list(features.columns) == ["feature_id", "biotype", "gene_name"]
    assert features["feature_id"].tolist() == ids.tolist()


def test_ids_matching_no_feature_are_counted_in_the_ingest_log(annotated):
    out, _ = annotated
    log = (out / "logs" / "ingest.log").read_text()
    assert "genes.csv.gz: 1 of 5,088 annotation ids match no feature of the matrix (e.g. 'ENSG_NOT_A_FEATURE')" in log


def test_plots_and_report_name_genes_by_their_names(annotated):
    out, _ = annotated
    top = read(out / "tissue" / "report" / "top_genes" / "liver_vs_kidney.tsv")
    assert list(top.columns[:3]) == ["gene_id", "biotype", "gene_name"]
    assert top["gene_name"].tolist() == [synthetic_name(i) for i in top["gene_id"]]
    page = (out / "report.html").read_text()
    first = top.iloc[0]
    assert f"<td>{first['gene_id']}</td><td>{first['biotype']}</td><td>{first['gene_name']}</td>" in page


def test_an_nf_core_merged_table_is_read_with_its_gene_names(plain, tmp_path):
    """salmon.merged.gene_counts.tsv's layout: gene_id, gene_name, then the samples."""
    work = write_study(tmp_path, {**STUDY, "counts": "salmon.merged.gene_counts.tsv"})
    counts = pd.read_csv(DATA / "marioni" / "counts.tsv.gz", sep="\t", dtype={"gene_id": str})
    counts.insert(1, "gene_name", [synthetic_name(i) for i in counts["gene_id"]])
    counts.to_csv(work / "salmon.merged.gene_counts.tsv", sep="\t", index=False)
    done = snakemake(work, "--cores", "2", "tables")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for table in ("tissue/liver_vs_kidney.tsv", "tissue/dispersions.tsv", "tissue_lrt/lrt.tsv"):
        got, before = read(work / "out" / table), read(plain / table)
        assert list(got.columns) == ["gene_id", "gene_name", *before.columns[1:]]
        assert got["gene_name"].tolist() == [synthetic_name(i) for i in got["gene_id"]]
        pd.testing.assert_frame_equal(got.drop(columns=["gene_name"]), before)


def test_a_values_study_carries_its_annotation(tmp_path):
    """Family gaussian: the annotation follows feature_id in limma's tables too."""
    source = DATA / "gaussian" / "golub"
    for name in ("values.tsv.gz", "samples.tsv.gz"):
        shutil.copy(source / name, tmp_path / name)
    ids = pd.read_csv(tmp_path / "values.tsv.gz", sep="\t", usecols=[0], dtype=str).iloc[:, 0]
    pd.DataFrame({"feature_id": ids, "symbol": [f"PROBE{i}" for i in range(len(ids))]}).to_csv(
        tmp_path / "probes.tsv", sep="\t", index=False
    )
    study = {
        "values": "values.tsv.gz", "samples": "samples.tsv.gz", "annotation": "probes.tsv", "outdir": "out",
        "analyses": {"aml": {"design": "~ cell", "levels": {"cell": ["ALL", "AML"]},
                             "contrasts": {"aml_vs_all": ["cell", "AML", "ALL"]}}},
    }  # fmt: skip
    import yaml

    (tmp_path / "study.yaml").write_text(yaml.safe_dump(study))
    done = snakemake(tmp_path, "--cores", "2")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    table = read(tmp_path / "out" / "aml" / "aml_vs_all.tsv")
    assert list(table.columns[:3]) == ["feature_id", "symbol", "logFC"]
    assert table["symbol"].tolist() == [f"PROBE{i}" for i in range(len(ids))]
    top = read(tmp_path / "out" / "aml" / "report" / "top_genes" / "aml_vs_all.tsv")
    assert list(top.columns[:2]) == ["feature_id", "symbol"]


def test_a_values_matrix_with_a_name_column_is_read_with_its_names(tmp_path):
    """A probe matrix with its gene beside the id (`probe, gene, samples...`; some genes NA):
    the gene column is read as annotation, not as a sample; the tables equal the plain run's."""
    import yaml

    source = DATA / "gaussian" / "golub"
    values = pd.read_csv(source / "values.tsv.gz", sep="\t", dtype={0: str})
    study = {
        "values": "values.tsv", "samples": "samples.tsv.gz", "outdir": "out",
        "analyses": {"aml": {"design": "~ cell", "levels": {"cell": ["ALL", "AML"]},
                             "contrasts": {"aml_vs_all": ["cell", "AML", "ALL"]}}},
    }  # fmt: skip
    runs = {}
    for kind in ("plain", "named"):
        work = tmp_path / kind
        work.mkdir()
        shutil.copy(source / "samples.tsv.gz", work / "samples.tsv.gz")
        table = values.copy()
        if kind == "named":
            table.insert(1, "gene", [None if i % 10 == 0 else f"GENE{i}" for i in range(len(table))])
        table.to_csv(work / "values.tsv", sep="\t", index=False, na_rep="NA")
        (work / "study.yaml").write_text(yaml.safe_dump(study))
        done = snakemake(work, "--cores", "2", "tables")
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        runs[kind] = read(work / "out" / "aml" / "aml_vs_all.tsv")
    named, plain = runs["named"], runs["plain"]
    assert list(named.columns[:3]) == ["feature_id", "gene", "logFC"]
    assert named["gene"].tolist() == ["" if i % 10 == 0 else f"GENE{i}" for i in range(len(named))]
    pd.testing.assert_frame_equal(named.drop(columns=["gene"]), plain)
