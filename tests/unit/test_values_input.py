"""Studies on a `values:` matrix: the reader (NA kept, bad cells named) and the family checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from cases import write_text as write
from glmstack import study as study_checks
from glmstack.errors import StudyError
from glmstack.io import counts as count_files
from glmstack.io import values as value_files
from glmstack.spec import study_analyses

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = yaml.safe_load((ROOT / "config" / "schema.yaml").read_text())
GOOD = "feature\ta1\ta2\ta3\tb1\tb2\tb3\nf1\t1.5\t-0.25\t2\t3.125\t2.5\t3\nf2\tNA\t1\t\t4\t2\t3\nf3\tNA\tNA\tNA\tNA\tNA\tNA\n"


def study(**analysis) -> dict:
    base = {"design": "~ condition", "contrasts": {"t": ["condition", "trt", "ctl"]}}
    return {"values": "v.tsv", "samples": "s.tsv", "analyses": {"main": {**base, **analysis}}}


def test_values_keep_na_as_nan_and_count_empty_features(tmp_path):
    data = value_files.read_values(write(tmp_path, "v.tsv", GOOD))
    assert data.feature_id.tolist() == ["f1", "f2", "f3"] and data.samples == ["a1", "a2", "a3", "b1", "b2", "b3"]
    np.testing.assert_array_equal(data.values[0], [1.5, -0.25, 2, 3.125, 2.5, 3])
    assert np.isnan(data.values[1, [0, 2]]).all() and data.n_missing == 8 and data.n_empty == 1


def test_gzip_csv_and_small_pieces_give_the_same_values(tmp_path, monkeypatch):
    whole = value_files.read_values(write(tmp_path, "v.tsv", GOOD))
    csv = value_files.read_values(write(tmp_path, "v.csv.gz", GOOD.replace("\t", ",")))
    monkeypatch.setattr(count_files, "PIECE_BYTES", 8)  # about a line per piece
    pieces = value_files.read_values(write(tmp_path, "w.tsv", GOOD))
    monkeypatch.setattr(count_files, "_parse_arrow", lambda *args: None)  # the table read as text
    text = value_files.read_values(write(tmp_path, "x.tsv", GOOD))
    for other in (csv, pieces, text):
        np.testing.assert_array_equal(other.values, whole.values)
        assert other.feature_id.tolist() == whole.feature_id.tolist()
        assert (other.n_missing, other.n_empty) == (whole.n_missing, whole.n_empty)


def random_values(tmp_path: Path, cells: np.ndarray, late: str | None = None) -> Path:
    text = [[repr(float(x)) for x in row] for row in cells]
    text[5][2], text[17][0], text[300][5] = "NA", "", "123456789012345678901"
    if late is not None:
        text[350][4] = late
    body = "".join(f"f{i}\t" + "\t".join(row) + "\n" for i, row in enumerate(text))
    return write(tmp_path, "v.tsv", GOOD.splitlines(keepends=True)[0] + body)


def test_pieces_and_arrows_batches_give_the_text_readers_values(tmp_path, monkeypatch):
    """The matrix read in many pieces of many Arrow batches equals the table read as text, bit
    for bit: signs, exponents, 17 digits, NA, integers past 2**53; one block per piece."""
    rng = np.random.default_rng(7)
    path = random_values(tmp_path, rng.standard_normal((400, 6)) * 10.0 ** rng.integers(-30, 30, (400, 6)))
    monkeypatch.setattr(count_files, "ARROW_BLOCK_BYTES", 1 << 10)  # ~ 8 rows a batch
    monkeypatch.setattr(count_files, "PIECE_BYTES", 1 << 12)  # ~ 30 rows a piece
    reader = value_files.ValueReader(path)
    blocks = list(reader.blocks())
    assert len(blocks) > 10 and max(len(ids) for ids, _ in blocks) < 50  # memory: a piece at a time
    fast = value_files.read_values(path)
    monkeypatch.setattr(count_files, "_parse_arrow", lambda *args: None)
    text = value_files.read_values(path)
    np.testing.assert_array_equal(fast.values, text.values)
    np.testing.assert_array_equal(np.concatenate([v for _, v in blocks]), text.values)
    assert fast.values[300, 5] == 123456789012345678901.0 and np.isnan(fast.values[[5, 17], [2, 0]]).all()
    assert fast.feature_id.tolist() == text.feature_id.tolist() and fast.values.flags.c_contiguous


def test_text_in_a_late_piece_is_named_by_its_feature(tmp_path, monkeypatch):
    rng = np.random.default_rng(8)
    path = random_values(tmp_path, rng.standard_normal((400, 6)), late="high")
    monkeypatch.setattr(count_files, "PIECE_BYTES", 1 << 12)
    with pytest.raises(StudyError, match=r"1 cells are not numbers, e.g. f350/b2='high'"):
        list(value_files.ValueReader(path).blocks())


def test_the_whole_files_ids_are_checked_after_the_last_block(tmp_path, monkeypatch):
    rng = np.random.default_rng(9)
    path = random_values(tmp_path, rng.standard_normal((400, 6)))
    path.write_text(path.read_text().replace("f399\t", "f3\t"))
    monkeypatch.setattr(count_files, "PIECE_BYTES", 1 << 12)
    with pytest.raises(StudyError, match="duplicated feature ids in column 'feature': 'f3'"):
        list(value_files.ValueReader(path).blocks())


@pytest.mark.parametrize(
    "name, text, bound",
    [
        ("v.tsv", GOOD, 3),
        ("v.tsv", GOOD.rstrip("\n"), 3),  # no newline after the last row
        ("v.tsv", "# featureCounts\n# command\n" + GOOD, 3),  # comment lines are not rows
        ("v.tsv", GOOD.replace("\nf2", "\n\nf2") + "\n", 5),  # blank lines: an upper bound
        ("v.tsv", GOOD.splitlines(keepends=True)[0], 0),  # a header only
        ("v.tsv.gz", GOOD, None),  # gzipped: not counted (a second decompression)
        ("v.tsv", GOOD.replace("\n", "\r\n"), 3),  # Windows line ends
        ("v.tsv", GOOD.replace("\nf3", "\rf3"), None),  # a carriage return alone: lines not counted
    ],
)
@pytest.mark.parametrize("block", [1 << 24, 1, 2, 7])  # a \r\n split between blocks too
def test_max_rows_bounds_the_features_before_reading_them(tmp_path, monkeypatch, name, text, bound, block):
    monkeypatch.setattr(count_files, "LINE_COUNT_BYTES", block)
    reader = value_files.ValueReader(write(tmp_path, name, text))
    assert reader.max_rows() == bound


@pytest.mark.parametrize("reader", [value_files.read_values, count_files.read_counts])
def test_a_file_whose_lines_end_in_carriage_returns_alone_is_refused_with_the_fix(tmp_path, reader):
    """Classic Mac OS text: the rows would be read as one line; the error says how to convert it."""
    with pytest.raises(StudyError, match=r"mac.tsv: its lines end with a carriage return alone.*Fix: .*tr"):
        reader(write(tmp_path, "mac.tsv", GOOD.replace("NA", "0").replace("\t\t", "\t0\t").replace("\n", "\r")))


def test_text_cells_are_named(tmp_path):
    path = write(tmp_path, "v.tsv", GOOD.replace("3.125", "high"))
    with pytest.raises(StudyError, match=r"v.tsv: 1 cells are not numbers, e.g. f1/b1='high'"):
        value_files.read_values(path)


def test_infinite_values_are_named(tmp_path):
    with pytest.raises(StudyError, match=r"1 cells are infinite, e.g. f1/a3"):
        value_files.read_values(write(tmp_path, "v.tsv", GOOD.replace("\t2\t3.125", "\tinf\t3.125")))


def test_ids_are_text_and_duplicates_refused(tmp_path):
    ids = value_files.read_values(write(tmp_path, "v.tsv", GOOD.replace("f1", "007").replace("f2", "1e5")))
    assert ids.feature_id.tolist()[:2] == ["007", "1e5"]
    with pytest.raises(StudyError, match="duplicated feature ids"):
        value_files.read_values(write(tmp_path, "w.tsv", GOOD.replace("f2", "f1")))


def test_excluded_samples_are_left_out(tmp_path):
    data = value_files.read_values(write(tmp_path, "v.tsv", GOOD), exclude=["a2"])
    assert data.samples == ["a1", "a3", "b1", "b2", "b3"] and data.values.shape == (3, 5)


def test_counts_reader_still_refuses_na(tmp_path):
    with pytest.raises(StudyError, match="blank or NA"):
        count_files.read_counts(write(tmp_path, "c.tsv", GOOD.replace("-0.25", "0").replace(".", "")))


def test_both_counts_and_values_are_refused():
    config = {**study(), "counts": "c.tsv"}
    with pytest.raises(StudyError, match="both `counts:` and `values:` are given"):
        study_checks.check_config(config, SCHEMA)


def test_neither_counts_nor_values_is_refused():
    config = study()
    del config["values"]
    with pytest.raises(StudyError, match="missing key 'counts' .*or 'values'"):
        study_checks.check_config(config, SCHEMA)


def families(config: dict) -> None:
    study_checks.check_families(study_analyses(config), config)


def test_gaussian_on_counts_is_refused_with_the_fix_voom():
    config = {**study(family="gaussian"), "counts": "c.tsv"}
    del config["values"]
    with pytest.raises(StudyError, match="family gaussian does not fit a study with `counts:`.*family: voom"):
        families(config)


@pytest.mark.parametrize("family", ["nb", "voom"])
def test_count_families_on_values_are_refused(family):
    with pytest.raises(StudyError, match=f"family {family} does not fit a study with `values:`"):
        families(study(family=family))


def test_robust_moderation_is_accepted():
    families(study(moderation={"robust": True, "trend": True}))


def test_voom_on_counts_is_accepted():
    config = {**study(family="voom", normalization="tmm"), "counts": "c.tsv"}
    del config["values"]
    families(config)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"alt_hypothesis": "less"}, "alt_hypothesis less is not available for family gaussian"),
        ({"normalization": "tmm"}, "is a setting of family voom"),
    ],
)
def test_keys_of_other_families_are_refused(entry, message):
    with pytest.raises(StudyError, match=message):
        families(study(**entry))


def test_moderation_on_an_nb_analysis_is_refused():
    config = {**study(moderation={"trend": True}), "counts": "c.tsv"}
    del config["values"]
    with pytest.raises(StudyError, match="`moderation:` is a setting of family gaussian"):
        families(config)


def test_a_good_values_study_passes():
    families(study(moderation={"trend": True}, lfc_threshold=0.5))


@pytest.mark.parametrize(("key", "value"), [("size_factors_file", "sf.tsv"), ("round_counts", True)])
def test_count_settings_on_a_values_study_are_refused(key, value):
    with pytest.raises(StudyError, match=f"{key} applies to `counts:`"):
        families({**study(), key: value})
