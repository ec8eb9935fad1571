"""Feature annotation (glmstack.io.annotation, glmstack.io.features and the study checks): one
test per behaviour.

Gene names here are invented (GENE1, ...); the tests are about where names go.
"""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest
from glmstack import study as study_checks
from glmstack.errors import StudyError
from glmstack.io import annotation as ann
from glmstack.io.counts import count_layout, read_counts
from glmstack.io.features import Features, annotate, read_features
from glmstack.io.tables import write_tsv

SAMPLES = "sample\tcondition\na1\tctl\na2\tctl\nb1\ttrt\nb2\ttrt\n"
COUNTS = "gene_id\ta1\ta2\tb1\tb2\ng1\t10\t12\t30\t28\ng2\t0\t1\t4\t2\ng3\t5\t5\t6\t7\n"
NFCORE = (
    "gene_id\tgene_name\ta1\ta2\tb1\tb2\n"
    "g1\tGENE1\t10\t12\t30\t28\ng2\tGENE2\t0\t1\t4\t2\ng3\t\t5\t5\t6\t7\n"
)


def study(tmp_path, counts=COUNTS, annotation=None, **extra) -> dict:
    (tmp_path / "c.tsv").write_text(counts)
    (tmp_path / "s.tsv").write_text(SAMPLES)
    config = {
        "counts": str(tmp_path / "c.tsv"), "samples": str(tmp_path / "s.tsv"), "outdir": str(tmp_path / "out"),
        "exclude_samples": [], "genes_per_shard": "auto", "size_factors_method": "ratio", "round_counts": False,
        "report": {"top_genes": 12, "color_by": None, "pca_genes": 500, "vst_analysis": None},
        "analyses": {"main": {"design": "~ condition", "levels": {"condition": ["ctl", "trt"]}}}, **extra,
    }  # fmt: skip
    if annotation is not None:
        (tmp_path / "genes.tsv").write_text(annotation)
        config["annotation"] = str(tmp_path / "genes.tsv")
    return config


# ---------------------------------------------------------------- reading the annotation table


def test_the_id_column_is_named_like_the_matrix_id_or_first(tmp_path):
    path = tmp_path / "a.csv.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("biotype,Gene_ID,gene_name\nlncRNA,g1,GENE1\nprotein_coding,g2,\n")
    frame = ann.read_annotation(path, "gene_id")
    assert list(frame.columns) == ["Gene_ID", "biotype", "gene_name"]
    assert frame["gene_name"].isna().tolist() == [False, True]
    assert list(ann.read_annotation(path, "other").columns) == ["biotype", "Gene_ID", "gene_name"]


def test_duplicated_annotation_ids_are_refused(tmp_path):
    path = tmp_path / "a.tsv"
    path.write_text("gene_id\tgene_name\ng1\tA\ng1\tB\ng2\tC\n")
    with pytest.raises(StudyError, match=r"a.tsv: duplicated feature ids in column 'gene_id': 'g1'. Fix: one row"):
        ann.read_annotation(path)


def test_an_annotation_of_one_column_is_refused(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("gene_id\tgene_name\ng1\tA\n")  # tabs in a .csv
    with pytest.raises(StudyError, match="has one column .* Fix: check the separator"):
        ann.read_annotation(path)


@pytest.mark.parametrize("column", ["padj", "baseMean", "log2FoldChange_shrunk", "lfcSE_other", "adj.P.Val"])
def test_a_column_named_like_a_result_column_is_refused_with_the_fix(column):
    with pytest.raises(StudyError, match=rf"genes.tsv: annotation column\(s\) '{column}' .* Fix: rename them"):
        ann.check_annotation_columns(["gene_name", column], "genes.tsv")


# ---------------------------------------------------------------- aligning and annotating


def test_features_without_annotation_get_empty_cells_and_unknown_ids_are_counted():
    table = pd.DataFrame({"gene_id": ["g2", "g9", "g1"], "gene_name": ["B", "Z", "A"]})
    features, messages = ann.align_annotation(np.array(["g1", "g2", "g3"]), [table], ["genes.tsv"])
    assert features["feature_id"].tolist() == ["g1", "g2", "g3"]
    assert features["gene_name"].tolist()[:2] == ["A", "B"] and pd.isna(features["gene_name"].iloc[2])
    assert messages == ["genes.tsv: 1 of 3 annotation ids match no feature of the matrix (e.g. 'g9'); they are ignored."]


def test_an_annotation_matching_no_feature_is_an_error():
    table = pd.DataFrame({"gene_id": ["ENSG1.4", "ENSG2.1"], "gene_name": ["A", "B"]})
    with pytest.raises(StudyError, match="none of its 2 feature ids .* Fix: .*version suffix"):
        ann.align_annotation(np.array(["ENSG1", "ENSG2"]), [table], ["genes.tsv"])


def test_annotate_puts_the_columns_after_the_id_matching_rows_by_id():
    features = Features(np.array(["g1", "g2", "g3"]), {"gene_name": np.array(["A", "B", ""])})
    table = pd.DataFrame({"gene_id": ["g3", "g1", "g9"], "baseMean": [1.0, 2.0, 3.0]}, index=[5, 7, 8])
    out = annotate(table, features)
    assert list(out.columns) == ["gene_id", "gene_name", "baseMean"]
    assert out.index.tolist() == [5, 7, 8] and out["baseMean"].tolist() == [1.0, 2.0, 3.0]
    # an empty cell and an unknown id are NaN in a frame, as pandas reads an empty field
    assert pd.isna(out["gene_name"].iloc[0]) and out["gene_name"].iloc[1] == "A" and pd.isna(out["gene_name"].iloc[2])
    assert annotate(table, None) is table
    assert annotate(table, Features(features.ids, {})) is table


def test_annotate_columns_keeps_them_as_columns_and_empty_text_for_missing():
    features = Features(np.array(["g1", "g2"]), {"gene_name": np.array(["A", "B"]), "biotype": np.array(["x", ""])})
    columns = {"gene_id": np.array(["g2", "g7", "g1"]), "stat": np.array([1.0, 2.0, 3.0])}
    out = annotate(columns, features)
    assert list(out) == ["gene_id", "gene_name", "biotype", "stat"] and out["stat"] is columns["stat"]
    assert out["gene_name"].tolist() == ["B", "", "A"] and out["biotype"].tolist() == ["", "", "x"]


def test_annotate_refuses_a_column_the_table_has():
    features = Features(np.array(["g1"]), {"stat": np.array(["x"])})
    with pytest.raises(StudyError, match=r"annotation column\(s\) 'stat' are also columns of this result table"):
        annotate(pd.DataFrame({"gene_id": ["g1"], "stat": [1.0]}), features)


def test_read_features_reads_what_ingest_writes(tmp_path):
    path = tmp_path / "features.tsv"
    write_tsv(path, pd.DataFrame({"feature_id": ["g1", "g2"], "gene_name": ["A", np.nan], "note": ['a\tb "c"', "d"]}))
    features = read_features(path)
    assert features.ids.tolist() == ["g1", "g2"]
    assert features.columns["gene_name"].tolist() == ["A", ""]
    assert features.columns["note"].tolist() == ['a\tb "c"', "d"]


def test_labels_are_names_where_they_exist_else_ids():
    table = pd.DataFrame({"gene_id": ["g1", "g2", "g3"], "Symbol": ["A", "", np.nan], "biotype": ["x", "y", "z"]})
    assert ann.feature_labels(table, ["Symbol", "biotype"]) == ["A", "g2", "g3"]
    assert ann.feature_labels(table, ["biotype"]) == ["g1", "g2", "g3"]  # no name column: ids
    assert ann.feature_labels(table) == ["g1", "g2", "g3"]
    # a dict of columns (the NB table jobs'): empty text where a feature has no name
    columns = {"gene_id": np.array(["g1", "g2", "g3", "g4"]), "Symbol": np.array(["A", "", "  ", "$B"])}
    assert ann.feature_labels(columns, ["Symbol"]) == ["A", "g2", "g3", "$B"]
    assert ann.feature_labels(columns) == ["g1", "g2", "g3", "g4"]


def test_tables_are_read_with_annotation_as_text(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text("gene_id\tentrez\tbaseMean\n001\t1234\t2.5\n002\t\t3.5\n")
    table = ann.read_table(path, ["entrez"])
    assert table["gene_id"].tolist() == ["001", "002"] and table["entrez"].iloc[0] == "1234"
    assert table["baseMean"].dtype == float
    features = tmp_path / "features.tsv"
    features.write_text("feature_id\tentrez\tgene_name\n")
    assert ann.annotation_columns(features) == ["entrez", "gene_name"]


# ---------------------------------------------------------------- nf-core/rnaseq's merged tables


def test_a_leading_text_column_not_in_the_sheet_is_annotation(tmp_path):
    checked = study_checks.check_study(study(tmp_path, counts=NFCORE))
    assert checked.annotation.matrix_columns == ["gene_name"] and checked.n_samples == 4
    counts = read_counts(tmp_path / "c.tsv", text_columns=["gene_name"])
    assert counts.samples == ["a1", "a2", "b1", "b2"] and counts.counts.shape == (3, 4)
    assert counts.annotation["gene_name"].tolist()[:2] == ["GENE1", "GENE2"]
    assert pd.isna(counts.annotation["gene_name"].iloc[2])
    features, _ = ann.study_features(counts.gene_id, tmp_path / "c.tsv", counts.annotation)
    assert list(features.columns) == ["feature_id", "gene_name"]


def test_a_numeric_column_missing_from_the_sheet_is_still_refused(tmp_path):
    counts = "gene_id\tx9\ta1\ta2\tb1\tb2\ng1\t3\t10\t12\t30\t28\n"
    with pytest.raises(StudyError, match="count-matrix columns not in .*s.tsv: 'x9'"):
        study_checks.check_study(study(tmp_path, counts=counts))


def test_a_text_column_after_a_sample_column_is_not_annotation(tmp_path):
    layout = count_layout_of(tmp_path, "gene_id\ta1\tgene_name\ta2\tb1\tb2\ng1\t1\tA\t2\t3\t4\n")
    assert ann.matrix_annotation_columns(layout, {"a1", "a2", "b1", "b2"}) == []


def count_layout_of(tmp_path, text):
    (tmp_path / "m.tsv").write_text(text)
    return count_layout(tmp_path / "m.tsv")


def test_matrix_and_table_annotation_combine_and_clash_by_name(tmp_path):
    checked = study_checks.check_study(study(tmp_path, counts=NFCORE, annotation="gene_id\tbiotype\ng1\tlncRNA\n"))
    assert checked.annotation.columns == ["gene_name", "biotype"]
    with pytest.raises(StudyError, match=r"annotation column\(s\) 'gene_name' are given twice"):
        study_checks.check_study(study(tmp_path, counts=NFCORE, annotation="gene_id\tgene_name\ng1\tX\n"))


def test_study_checks_refuse_a_clashing_annotation_column_before_any_job(tmp_path):
    with pytest.raises(StudyError, match=r"genes.tsv: annotation column\(s\) 'pvalue' have the name of a column"):
        study_checks.check_study(study(tmp_path, annotation="gene_id\tpvalue\ng1\t0.1\n"))


def test_a_study_without_annotation_has_none(tmp_path):
    assert study_checks.check_study(study(tmp_path)).annotation is None
