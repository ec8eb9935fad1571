"""glmstack.io.samples: the sample sheet read with pandas, and columns of it read without."""

from __future__ import annotations

import gzip

import pytest
from glmstack.io.samples import aligned_samples, sample_column, sample_columns

SHEET = (
    "\ufeffsample\tcondition\tage\tnote\n"
    "s2\ttreated\t41\t\"quoted, \"\"with\"\" quotes\"\n"
    "s1\tuntreated\tNA\t\n"
    "\n"  # a blank line: skipped
    "s3\tNA\t7.5\tplain text\n"
    "s4\ttreated\t\t  spaces kept  \n"
)


@pytest.mark.parametrize("name", ["samples.tsv", "samples.csv", "samples.tsv.gz"])
def test_one_column_reads_as_the_aligned_sheet_gives_it(tmp_path, name):
    text = SHEET.replace("\t", ",") if name.endswith(".csv") else SHEET
    path = tmp_path / name
    if name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text, encoding="utf-8")
    order = ["s3", "s1", "s4", "s2"]
    sheet = aligned_samples(path, order)
    columns = sample_columns(path, order, ["sample", "condition", "age", "note"])  # the sheet read once
    for column in ("sample", "condition", "age", "note"):
        for values in (columns[column], sample_column(path, order, column)):
            assert [v if isinstance(v, str) else None for v in values] == [
                v if isinstance(v, str) else None for v in sheet[column]
            ]
    assert [str(v) for v in sample_column(path, order, "age")] == ["7.5", "nan", "nan", "41"]  # missing: NaN
