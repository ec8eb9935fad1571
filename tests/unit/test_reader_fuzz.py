"""Fuzzing the table readers: any input ends in a clean result or a StudyError."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from glmstack import study
from glmstack.errors import StudyError
from glmstack.io import counts as count_files
from glmstack.io.samples import read_samples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

CELL = st.one_of(
    st.integers(min_value=0, max_value=10**6).map(str),
    st.integers(min_value=-5, max_value=5).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "NA", "nan", " ", "1e300", "1e400", "abc", "12.5", "0x1F", "3,5", '"7"']),
    st.text(alphabet="ab,\t;\" 0123456789.-", max_size=6),
)


@st.composite
def tables(draw):
    sep = draw(st.sampled_from(["\t", ",", ";", " "]))
    n_cols = draw(st.integers(min_value=0, max_value=4))
    n_rows = draw(st.integers(min_value=0, max_value=5))
    header = ["gene"] + [draw(st.sampled_from(["s1", "s2", "s3", "s4", "", "s1"])) for _ in range(n_cols)]
    rows = []
    for i in range(n_rows):
        width = n_cols + draw(st.sampled_from([0, 0, 0, -1, 1]))
        rows.append([draw(st.sampled_from([f"g{i}", "g0", ""]))] + [draw(CELL) for _ in range(max(width, 0))])
    return sep, "\n".join(sep.join(r) for r in [header] + rows) + draw(st.sampled_from(["", "\n", "\n\n"]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(), st.sampled_from(["c.tsv", "c.csv", "c.txt"]))
def test_count_reader_never_crashes(table, name):
    _, text = table
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_text(text)
        try:
            counts = count_files.read_counts(path)
        except StudyError:
            return
        assert counts.counts.shape == (len(counts.gene_id), len(counts.samples))
        assert np.all(counts.counts >= 0) and np.all(counts.counts == np.round(counts.counts))
        assert len(set(counts.gene_id)) == len(counts.gene_id)


@settings(max_examples=200, deadline=None)
@given(tables())
def test_sample_sheet_reader_never_crashes(table):
    _, text = table
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.tsv"
        path.write_text(text)
        try:
            sheet = read_samples(path)
            study.check_samples(sheet.rename(columns={"gene": "sample"}), "s.tsv", ["g0", "g1"])
        except StudyError:
            return
