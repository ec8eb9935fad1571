"""Every kind of bad input gets one clear StudyError naming the file, the field and the fix."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from cases import write_text as write
from glmstack import study as study_checks
from glmstack.errors import StudyError
from glmstack.io import counts as count_files
from glmstack.io.samples import read_samples
from glmstack.nb.size_factors import size_factors, study_size_factors
from glmstack.spec import study_analyses

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = yaml.safe_load((ROOT / "config" / "schema.yaml").read_text())

SHEET = pd.DataFrame(
    {
        "sample": ["a1", "a2", "a3", "b1", "b2", "b3"],
        "condition": ["ctl", "ctl", "ctl", "trt", "trt", "trt"],
        "batch": ["x", "y", "x", "y", "x", "y"],
        "dose": ["1", "2", "1", "3", "2", "3"],
    }
)


def study(**analysis) -> dict:
    base = {"design": "~ condition", "test": "wald", "contrasts": {"t": ["condition", "trt", "ctl"]}}
    return {"counts": "c.tsv", "samples": "s.tsv", "analyses": {"main": {**base, **analysis}}}


def check_analyses(config: dict, sheet: pd.DataFrame) -> list[str]:
    return study_checks.check_analyses(study_analyses(config), sheet, "s.tsv")


GOOD = "gene\ta1\ta2\ta3\tb1\tb2\tb3\ng1\t10\t12\t9\t30\t28\t35\ng2\t0\t1\t0\t4\t2\t3\n"


# ---------------------------------------------------------------- config


def test_unknown_key_suggests_the_closest():
    config = study()
    config["size_factor_method"] = "ratio"
    with pytest.raises(StudyError, match="unknown key 'size_factor_method' \\(did you mean 'size_factors_method'\\?\\)"):
        study_checks.check_config(config, SCHEMA)


def test_unknown_analysis_key_suggests():
    with pytest.raises(StudyError, match="analyses.main: unknown key 'contrast' \\(did you mean 'contrasts'\\?\\)"):
        study_checks.check_config(study(contrast={}), SCHEMA)


@pytest.mark.parametrize("key", ["counts", "samples", "analyses"])
def test_missing_required_key(key):
    config = study()
    del config[key]
    with pytest.raises(StudyError, match=f"missing key '{key}'"):
        study_checks.check_config(config, SCHEMA)


def test_unsafe_analysis_name():
    config = study()
    config["analyses"]["../evil"] = config["analyses"].pop("main")
    with pytest.raises(StudyError, match="'../evil' is not a safe file name"):
        study_checks.check_config(config, SCHEMA)


@pytest.mark.parametrize(("key", "value"), [("fit_type", "parametic"), ("alt_hypothesis", "greater_abs"), ("test", "LRT")])
def test_unknown_enumerated_value(key, value):
    with pytest.raises(StudyError, match=f"analyses.main.{key}: '{value}' is not one of"):
        study_checks.check_config(study(**{key: value}), SCHEMA)


def test_reserved_contrast_name():
    with pytest.raises(StudyError, match="'dispersions' cannot name a results file"):
        study_checks.check_config(study(contrasts={"dispersions": ["condition", "trt", "ctl"]}), SCHEMA)


def test_lrt_without_reduced():
    with pytest.raises(StudyError, match="analyses.main: test: lrt needs `reduced:`"):
        check_analyses(study(test="lrt"), SHEET)


def test_reduced_not_nested():
    with pytest.raises(StudyError, match="reduced design '~ batch' is not nested"):
        check_analyses(study(test="lrt", reduced="~ batch"), SHEET)


def test_contrast_factor_missing():
    with pytest.raises(StudyError, match="contrast 't' names factor 'tissue'"):
        check_analyses(study(contrasts={"t": ["tissue", "a", "b"]}), SHEET)


def test_contrast_level_missing():
    with pytest.raises(StudyError, match="level\\(s\\) 'treated' of 'condition', which has levels ctl, trt"):
        check_analyses(study(contrasts={"t": ["condition", "treated", "ctl"]}), SHEET)


def test_contrast_vector_unknown_names():
    with pytest.raises(StudyError, match="weights for 'conditionTRT'"):
        check_analyses(study(contrasts={"t": {"vector": {"conditionTRT": 1}}}), SHEET)


def test_contrast_coef_unknown():
    with pytest.raises(StudyError, match="coefficient 'condition_treated_vs_ctl'.*condition_trt_vs_ctl"):
        check_analyses(study(contrasts={"t": {"coef": "condition_treated_vs_ctl"}}), SHEET)


def test_levels_not_matching_the_data():
    with pytest.raises(StudyError, match="levels.condition: levels 'treated'.*values 'trt'"):
        check_analyses(study(levels={"condition": ["ctl", "treated"]}), SHEET)


# ---------------------------------------------------------------- sample sheet


def test_no_sample_column():
    with pytest.raises(StudyError, match="s.tsv: no column 'sample'. Columns present: id, condition"):
        study_checks.check_samples(SHEET.rename(columns={"sample": "id"}), "s.tsv", list(SHEET["sample"]))


def test_duplicated_sample_ids():
    sheet = SHEET.assign(sample=["a1", "a1", "a3", "b1", "b2", "b3"])
    with pytest.raises(StudyError, match="duplicated sample ids 'a1'"):
        study_checks.check_samples(sheet, "s.tsv", list(SHEET["sample"]))


def test_design_variable_missing():
    with pytest.raises(StudyError, match="s.tsv: column\\(s\\) 'genotype' used in analyses.main.design"):
        check_analyses(study(design="~ genotype + condition"), SHEET)


def test_factor_with_one_level():
    sheet = SHEET.assign(batch="x")
    with pytest.raises(StudyError, match="factor 'batch' .* has a single level \\('x'\\)"):
        check_analyses(study(design="~ batch + condition"), sheet)


def test_na_in_design_variable():
    sheet = SHEET.assign(batch=["x", None, "x", "y", None, "y"])
    with pytest.raises(StudyError, match="column 'batch' .* empty or NA for samples 'a2', 'b2'"):
        check_analyses(study(design="~ batch + condition"), sheet)


def test_numeric_codes_warn_and_say_how_to_force_a_factor():
    warnings = check_analyses(study(design="~ dose + condition"), SHEET)
    assert any("'dose'" in w and "levels: {dose: [...]}" in w for w in warnings)


def test_a_reference_level_chosen_alphabetically_is_named_with_the_fix():
    sheet = SHEET.assign(condition=["trt", "trt", "trt", "untrt", "untrt", "untrt"])
    config = study(design="~ batch + condition", contrasts={"t": ["condition", "trt", "untrt"]})
    warnings = check_analyses(config, sheet)
    assert (
        "analyses.main: factor `condition` has no levels: entry; its reference level is `trt` "
        "(alphabetical first). Fix: levels: {condition: [untrt, trt]} (first = reference)"
    ) in warnings
    assert any("factor `batch` has no levels: entry; its reference level is `x`" in w for w in warnings)
    given = check_analyses({**config, "analyses": {"main": {**config["analyses"]["main"],
                            "levels": {"condition": ["untrt", "trt"], "batch": ["x", "y"]}}}}, sheet)
    assert not [w for w in given if "reference level" in w]


def test_samples_missing_from_counts_and_sheet_are_named():
    with pytest.raises(StudyError, match="in s.tsv but not in the count matrix: 'b3'.*count-matrix columns not in s.tsv: 'c1'"):
        study_checks.check_samples(SHEET, "s.tsv", ["a1", "a2", "a3", "b1", "b2", "c1"])


def test_exclude_samples_is_the_explicit_way_out():
    sheet = study_checks.check_samples(SHEET, "s.tsv", ["a1", "a2", "a3", "b1", "b2", "c1"], exclude=["b3", "c1"])
    assert list(sheet["sample"]) == ["a1", "a2", "a3", "b1", "b2"]
    with pytest.raises(StudyError, match="exclude_samples names 'zz'"):
        study_checks.check_samples(SHEET, "s.tsv", list(SHEET["sample"]), exclude=["zz"])


# ---------------------------------------------------------------- count matrix


def test_empty_file(tmp_path):
    with pytest.raises(StudyError, match="c.tsv: the count matrix is empty"):
        count_files.read_counts(write(tmp_path, "c.tsv", ""))


def test_wrong_delimiter(tmp_path):
    with pytest.raises(StudyError, match="c.csv: the header has one column.*comma-separated.*contains tabs"):
        count_files.read_counts(write(tmp_path, "c.csv", GOOD))


def test_duplicated_gene_ids(tmp_path):
    text = GOOD + "g1\t1\t1\t1\t1\t1\t1\n"
    with pytest.raises(StudyError, match="duplicated feature ids in column 'gene': 'g1'"):
        count_files.read_counts(write(tmp_path, "c.tsv", text))


def test_duplicated_gene_ids_are_listed_once_in_order_of_repeat(tmp_path):
    text = GOOD + "g2\t1\t1\t1\t1\t1\t1\ng1\t1\t1\t1\t1\t1\t1\ng2\t2\t2\t2\t2\t2\t2\n"
    with pytest.raises(StudyError, match="duplicated feature ids in column 'gene': 'g2', 'g1'. Fix"):
        count_files.read_counts(write(tmp_path, "c.tsv", text))


def test_duplicated_column_names(tmp_path):
    text = GOOD.replace("\tb3", "\tb2", 1)
    with pytest.raises(StudyError, match="duplicated column names 'b2'"):
        count_files.read_counts(write(tmp_path, "c.tsv", text))


def test_non_integer_counts_offer_round_counts(tmp_path):
    path = write(tmp_path, "c.tsv", GOOD.replace("\t12\t", "\t12.4\t"))
    with pytest.raises(StudyError, match="1 counts are not integers, e.g. g1/a2=12.4.*round_counts: true"):
        count_files.read_counts(path)
    counts = count_files.read_counts(path, round_counts=True)
    assert counts.counts[0, 1] == 12 and counts.n_rounded == 1


def test_negative_counts(tmp_path):
    with pytest.raises(StudyError, match="1 negative counts, e.g. g2/b1"):
        count_files.read_counts(write(tmp_path, "c.tsv", GOOD.replace("\t4\t", "\t-4\t")))


@pytest.mark.parametrize("cell", ["", "NA"])
def test_blank_or_na_cells(tmp_path, cell):
    with pytest.raises(StudyError, match="1 cells are blank or NA, e.g. g2/a2"):
        count_files.read_counts(write(tmp_path, "c.tsv", GOOD.replace("\t1\t0\t4", f"\t{cell}\t0\t4")))


def test_text_cells(tmp_path):
    with pytest.raises(StudyError, match="1 cells are not numbers, e.g. g1/b2='twenty'"):
        count_files.read_counts(write(tmp_path, "c.tsv", GOOD.replace("\t28\t", "\ttwenty\t")))


def test_ragged_rows(tmp_path):
    with pytest.raises(StudyError, match="rows do not all have the header's 7 fields"):
        count_files.read_counts(write(tmp_path, "c.tsv", GOOD + "g3\t1\t2\t3\t4\t5\t6\t7\t8\n"))


def test_featurecounts_output_is_read_properly(tmp_path):
    text = (
        "# Program:featureCounts v2.0.3; Command:\"featureCounts\" -a genes.gtf -o counts.txt a1.bam a2.bam\n"
        "Geneid\tChr\tStart\tEnd\tStrand\tLength\t/data/a1.sorted.bam\t/data/a2.bam\n"
        "g1\tchr1\t100\t200\t+\t101\t5\t7\n"
        "g2\tchr1\t300\t400\t-\t101\t0\t3\n"
    )
    counts = count_files.read_counts(write(tmp_path, "fc.txt", text))
    assert counts.samples == ["a1", "a2"]
    np.testing.assert_array_equal(counts.counts, [[5, 7], [0, 3]])


def test_gzip_and_csv_inputs(tmp_path):
    counts = count_files.read_counts(write(tmp_path, "c.csv.gz", GOOD.replace("\t", ",")))
    assert counts.samples == list(SHEET["sample"]) and counts.counts.shape == (2, 6)


# ---------------------------------------------------------------- design and data


def test_design_not_full_rank_names_the_columns():
    sheet = SHEET.assign(site=SHEET["condition"].map({"ctl": "s1", "trt": "s2"}))
    with pytest.raises(StudyError, match="not full rank: column\\(s\\) 'site\\[T.s2\\]'"):
        check_analyses(study(design="~ condition + site"), sheet)


def test_no_residual_degrees_of_freedom():
    sheet = SHEET.iloc[[0, 3]].reset_index(drop=True)
    with pytest.raises(StudyError, match="no residual degrees of freedom"):
        check_analyses(study(), sheet)


def test_all_genes_zero():
    with pytest.raises(StudyError, match="every count is zero"):
        count_files.zero_samples(np.zeros((3, 6)) + np.eye(3, 6) * 0, list(SHEET["sample"]), "c.tsv")


def test_sample_with_all_zeros_is_refused():
    counts = np.array([[1.0, 0, 3], [2, 0, 1]])
    with pytest.raises(StudyError, match="sample\\(s\\) 'a2' have zero counts for every feature"):
        count_files.zero_samples(counts, ["a1", "a2", "a3"], "c.tsv")


def test_every_gene_with_a_zero_suggests_poscounts():
    counts = np.array([[0.0, 1, 2], [3, 0, 1]])
    with pytest.raises(StudyError, match="every gene has a zero.*size_factors_method: poscounts"):
        size_factors(counts, "ratio")


def test_size_factor_file_must_cover_every_sample():
    given = pd.Series({"a1": 1.0, "a2": 0.9})
    with pytest.raises(StudyError, match="sf.tsv: no size factor for samples 'a3'"):
        study_size_factors(np.ones((2, 3)), ["a1", "a2", "a3"], "ratio", given, "sf.tsv")
    with pytest.raises(StudyError, match="must be positive numbers; check samples 'a2'"):
        study_size_factors(np.ones((2, 2)), ["a1", "a2"], "ratio", pd.Series({"a1": 1.0, "a2": -1.0}), "sf.tsv")


def test_reader_roundtrip_of_the_sample_sheet(tmp_path):
    path = tmp_path / "s.csv"
    SHEET.to_csv(path, index=False)
    assert read_samples(path)["dose"].tolist() == ["1", "2", "1", "3", "2", "3"]


def test_matrix_is_read_in_row_chunks_with_the_same_result(tmp_path, monkeypatch):
    """The ingest step reads the matrix chunk by chunk; chunking changes nothing, and a bad cell or a
    ragged row in a later chunk is still found and named."""
    rows = "".join(f"g{i}\t{i}\t1\t2\t3\t4\t{i % 7}\n" for i in range(3, 40))
    path = write(tmp_path, "c.tsv", GOOD + rows)
    whole = count_files.read_counts(path)
    monkeypatch.setattr(count_files, "READ_CHUNK_CELLS", 6 * 5)  # five rows a chunk
    monkeypatch.setattr(count_files, "_read_numbers_arrow", lambda *args: None)  # not Arrow's reader
    chunked = count_files.read_counts(path)
    np.testing.assert_array_equal(chunked.gene_id, whole.gene_id)
    np.testing.assert_array_equal(chunked.counts, whole.counts)
    assert chunked.counts.shape == (39, 6) and chunked.samples == whole.samples
    late_text = write(tmp_path, "t.tsv", GOOD + rows.replace("g33\t33\t1", "g33\t33\tx"))
    with pytest.raises(StudyError, match="1 cells are not numbers, e.g. g33/a2='x'"):
        count_files.read_counts(late_text)
    late_ragged = write(tmp_path, "r.tsv", GOOD + rows + "g99\t1\t2\t3\t4\t5\t6\t7\n")
    with pytest.raises(StudyError, match="rows do not all have the header's 7 fields"):
        count_files.read_counts(late_ragged)


# ---------------------------------------------------------------- ids and encodings


NUMERIC_IDS = "gene\ta1\ta2\ta3\tb1\tb2\tb3\n000012\t10\t12\t9\t30\t28\t35\n000013\t0\t1\t0\t4\t2\t3\n"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("bom.tsv", ("\ufeff" + NUMERIC_IDS).encode()),  # Excel's "CSV UTF-8"
        ("r_write_table.tsv", ('""' + NUMERIC_IDS[4:]).encode()),  # write.table(col.names = NA)
        ("r_write_csv.csv", NUMERIC_IDS.replace("\t", ",").replace("gene", '""').encode()),
        ("quoted.csv", b'"gene","a1","a2","a3","b1","b2","b3"\n"000012",10,12,9,30,28,35\n"000013",0,1,0,4,2,3\n'),
    ],
)
def test_feature_ids_are_text_whatever_the_header(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    counts = count_files.read_counts(path)
    assert counts.gene_id.tolist() == ["000012", "000013"]
    assert counts.samples == ["a1", "a2", "a3", "b1", "b2", "b3"]


@pytest.mark.parametrize("bad_id", ["NA", "", "NaN"])
def test_na_or_empty_feature_id_is_refused(tmp_path, bad_id):
    path = write(tmp_path, "c.tsv", GOOD.replace("\ng2\t", f"\n{bad_id}\t"))
    with pytest.raises(StudyError, match="c.tsv: feature ids are empty or NA on data rows 2"):
        count_files.read_counts(path)


@pytest.mark.parametrize(
    ("name", "data", "what"),
    [
        ("latin1.tsv", GOOD.replace("g1", "g\xe9ne").encode("latin-1"), "not UTF-8 text"),
        ("utf16.tsv", GOOD.encode("utf-16"), "UTF-16 text"),
        ("zipped.tsv", gzip.compress(GOOD.encode()), "gzip-compressed but not named .gz"),
        ("c.tsv.gz", gzip.compress(("gene\ta1\n" + "".join(f"g{i}\t{i * 7919 % 1000}\n" for i in range(9000))).encode())[:3000],
         "a damaged or truncated archive"),
    ],
)  # fmt: skip
def test_unreadable_files_are_named_with_the_fix(tmp_path, name, data, what):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(StudyError, match=f"{name}: cannot be read: the file is {what}.*Fix:"):
        count_files.read_counts(path)


def test_sample_sheet_with_a_bom_and_one_in_latin1(tmp_path):
    path = tmp_path / "s.tsv"
    path.write_bytes(("\ufeff" + SHEET.to_csv(sep="\t", index=False)).encode())
    assert list(read_samples(path).columns)[0] == "sample"
    path.write_bytes(SHEET.assign(condition="Kn\xf6del").to_csv(sep="\t", index=False).encode("latin-1"))
    with pytest.raises(StudyError, match="s.tsv: cannot be read: the file is not UTF-8 text"):
        read_samples(path)


@pytest.mark.parametrize("name", ["normalization", "qc", "shards", "models", "stamps", "benchmarks", "logs", "report.html"])
def test_analysis_named_like_a_study_folder_is_refused(name):
    config = study()
    config["analyses"] = {name: config["analyses"]["main"]}
    with pytest.raises(StudyError, match=f"analysis name '{name}' is the name of a study-wide folder"):
        study_checks.check_config(config, SCHEMA)


def test_very_long_names_are_refused_before_any_job():
    long = "c" * 250
    with pytest.raises(StudyError, match="contrasts: 'c+'... is longer than 100 characters"):
        study_checks.check_config(study(contrasts={long: ["condition", "trt", "ctl"]}), SCHEMA)


# ---------------------------------------------------------------- outdir


@pytest.mark.parametrize(("outdir", "message"), [
    ("", "`outdir` is empty"),
    ("  ", "`outdir` is empty"),
    ("/", "is the filesystem root"),
    (".", "is the directory snakemake runs in"),
    ("..", "or a folder above it"),
    ("run/..", "is the directory snakemake runs in"),
])  # fmt: skip
def test_outdir_that_would_hold_the_users_files_is_refused(tmp_path, outdir, message):
    with pytest.raises(StudyError, match=message):
        study_checks.check_outdir(outdir, tmp_path)


def test_an_existing_folder_of_someone_elses_files_is_refused(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.docx").write_text("x")
    with pytest.raises(StudyError, match="already exists and holds files glmstack did not write .'thesis.docx'."):
        study_checks.check_outdir("mine", tmp_path)
    (tmp_path / "afile").write_text("x")
    with pytest.raises(StudyError, match="is a file, not a folder"):
        study_checks.check_outdir("afile", tmp_path)


def test_new_empty_and_glmstack_folders_are_accepted(tmp_path):
    assert study_checks.check_outdir("results/", tmp_path) == "results"
    (tmp_path / "empty").mkdir()
    assert study_checks.check_outdir("empty", tmp_path) == "empty"
    study_checks.mark_outdir(str(tmp_path / "ours"))  # what a run writes first
    (tmp_path / "ours" / "logs").mkdir()  # and a first run that stopped during ingest
    assert study_checks.check_outdir("ours", tmp_path) == "ours"
    older = tmp_path / "older"  # a run of a glmstack that wrote no marker
    (older / "shards").mkdir(parents=True)
    (older / "manifest.json").write_text("{}")
    (older / "an_analysis").mkdir()
    assert study_checks.check_outdir("older", tmp_path) == "older"
    (older / "manifest.json").unlink()  # someone else's folder with a `shards` in it
    with pytest.raises(StudyError, match="already exists and holds files glmstack did not write"):
        study_checks.check_outdir("older", tmp_path)


@pytest.mark.parametrize(("values", "shown"), [
    (["23", "35", "41", "52", "60", "29"], "mean 40 and sd 14."),  # ages in years
    (["0.0021", "0.0032", "0.0024", "0.0030", "0.0027", "0.0025"], "mean 0.00265 and sd 0.000"),  # x 1e-3
])  # fmt: skip
def test_numeric_covariate_far_from_unit_scale_warns_with_the_rescaling(values, shown):
    sheet = SHEET.assign(age=values)
    warnings = check_analyses(study(design="~ age + condition"), sheet)
    text = " ".join(warnings)
    assert "column 'age'" in text and "not invariant to a covariate's scale" in text
    assert "I((age - " in text and shown in text


def test_unit_scale_covariate_does_not_warn():
    sheet = SHEET.assign(score=["-1.2", "0.3", "0.8", "-0.4", "1.1", "0.1"])
    warnings = check_analyses(study(design="~ score + condition", levels={"condition": ["ctl", "trt"]}), sheet)
    assert warnings == []


def test_decimal_comma_numbers_used_as_a_factor_warn():
    sheet = SHEET.assign(dose=["7,5", "2,5", "7,5", "10,0", "2,5", "10,0"])
    warnings = check_analyses(study(design="~ dose + condition"), sheet)
    assert any("decimal comma" in w and "used as a factor with 3 levels" in w for w in warnings)


def test_a_yaml_alias_bomb_is_refused_without_expanding_it():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{b}: &{b} [*{a}, *{a}, *{a}, *{a}, *{a}, *{a}, *{a}, *{a}, *{a}, *{a}]\n" for a, b in zip("abcdefgh", "bcdefghi")
    )
    config = study()
    config["report"] = {"top_genes": yaml.safe_load(bomb)["i"]}  # 10^9 values if expanded
    with pytest.raises(StudyError, match="expands to 1,111,111,1.. values through YAML anchors and aliases"):
        study_checks.check_config(config, SCHEMA)


def test_a_few_harmless_aliases_are_accepted():
    text = "analyses:\n  a: &a {design: '~ condition'}\n  b: *a\ncounts: c.tsv\nsamples: s.tsv\n"
    study_checks.check_config(yaml.safe_load(text), SCHEMA)


@pytest.mark.parametrize("target", ["/dev/zero", "folder"])
def test_counts_that_are_not_a_regular_file_are_refused(tmp_path, target):
    (tmp_path / "folder").mkdir()
    path = target if target.startswith("/") else str(tmp_path / target)
    with pytest.raises(StudyError, match="is not a regular file"):
        study_checks.check_input_files({"counts": path, "samples": path}, tmp_path)


def test_a_header_without_line_break_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(count_files, "MAX_HEADER_CHARS", 100)
    path = write(tmp_path, "c.tsv", "\t".join(f"s{i}" for i in range(200)))
    with pytest.raises(StudyError, match="c.tsv: the first 100 characters hold no line break"):
        count_files.read_counts(path)


@pytest.mark.parametrize("name", ["c.tsv", "c.csv.gz", "fc.txt", "nfcore.tsv"])
def test_arrows_reader_and_the_chunked_reader_read_the_same(tmp_path, monkeypatch, name):
    """Plain tables go through Arrow's parallel reader; its ids, counts, samples and name columns
    equal the chunked reader's (featureCounts' layout, nf-core's gene_name with an NA among them)."""
    rows = "".join(f"g{i:05d}\t{i}\t{i * 7 % 11}\t2\t3\t{i % 5}\t{i % 7}\n" for i in range(300))
    text = {
        "c.tsv": GOOD + rows,
        "c.csv.gz": (GOOD + rows).replace("\t", ","),
        "fc.txt": "# Program:featureCounts v2.0.3\nGeneid\tChr\tStart\tEnd\tStrand\tLength\t"
        + "\t".join(f"/data/{s}.bam" for s in ("a1", "a2", "a3", "b1", "b2", "b3")) + "\n"
        + "".join(f"g{i}\tchr1;chr1\t1;5\t4;9\t+;+\t8\t{i}\t1\t2\t3\t4\t5\n" for i in range(50)),
        "nfcore.tsv": "gene_id\tgene_name\ta1\ta2\ta3\tb1\tb2\tb3\n"
        + "".join(f"g{i}\t{'NA' if i == 3 else f'NAME{i}'}\t{i}\t1\t2\t3\t4\t5\n" for i in range(50)),
    }[name]
    path = write(tmp_path, name, text)
    columns = ["gene_name"] if name == "nfcore.tsv" else []
    taken = []
    arrow_reader = count_files._read_numbers_arrow
    monkeypatch.setattr(count_files, "_read_numbers_arrow", lambda *a: taken.append(arrow_reader(*a)) or taken[-1])
    fast = count_files.read_counts(path, text_columns=columns)
    assert taken[-1] is not None and fast.counts.shape[0] in (50, 302)  # Arrow read it
    monkeypatch.setattr(count_files, "_read_numbers_arrow", lambda *args: None)
    chunked = count_files.read_counts(path, text_columns=columns)
    np.testing.assert_array_equal(fast.counts, chunked.counts)
    assert fast.gene_id.tolist() == chunked.gene_id.tolist() and fast.samples == chunked.samples
    if columns:
        pd.testing.assert_frame_equal(fast.annotation, chunked.annotation)
        assert fast.annotation.iloc[3].isna().any()


def test_a_plain_matrix_is_read_without_pandas(tmp_path):
    """Arrow parses a plain matrix and its values come from Arrow's buffers: pandas (0.2 s of
    every ingest) is imported only to name what is wrong in a bad one. Missing values (a values
    matrix) are NaN, here too."""
    import subprocess
    import sys

    path = write(tmp_path, "c.tsv", GOOD)
    values = write(tmp_path, "v.tsv", "feature\ts1\ts2\nf1\t1.5\tNA\nf2\t\t-2\n")
    code = f"""
import sys
import numpy as np
from glmstack.io import counts
table = counts.read_counts({str(path)!r})
assert table.gene_id.tolist() == ["g1", "g2"] and table.counts.tolist()[1] == [0, 1, 0, 4, 2, 3]
ids, numbers = counts.read_numbers(counts.count_layout({str(values)!r}), allow_missing=True)
assert ids.tolist() == ["f1", "f2"] and np.array_equal(numbers, [[1.5, np.nan], [np.nan, -2]], equal_nan=True)
assert "pandas" not in sys.modules, "reading a plain matrix imported pandas"
"""
    subprocess.run([sys.executable, "-c", code], check=True)
