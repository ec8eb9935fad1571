"""glmstack.io.tables: matrices written from each column's distinct values (`ColumnCodes`) are
byte for byte the matrices written cell by cell."""

from __future__ import annotations

import numpy as np
import pytest
from glmstack.io.column_codes import column_codes
from glmstack.io.tables import tsv_matrices


def counts_like(rng: np.random.Generator, genes: int, samples: int) -> np.ndarray:
    """Counts as a study has them: many zeros, a long tail, a few huge ones, one empty sample."""
    means = rng.lognormal(3, 2, size=(genes, 1))
    counts = rng.negative_binomial(0.5, 0.5 / (0.5 + means), size=(genes, samples)).astype(float)
    counts[rng.random(counts.shape) < 0.001] = 1e7
    if samples > 2:
        counts[:, 1] = 0.0
    return counts


@pytest.mark.parametrize("genes, samples", [(2000, 12), (1, 7), (300, 1), (0, 4)])
def test_normalized_counts_from_distinct_counts_are_the_bytes_written_cell_by_cell(tmp_path, genes, samples):
    rng = np.random.default_rng(genes + samples)
    counts = counts_like(rng, genes, samples)
    size_factors = rng.lognormal(0, 0.4, size=samples)  # no round numbers
    ids = np.array([f"ENSG{i:011d}" for i in range(genes)])
    coded = column_codes(counts)
    normalized = coded.with_values(coded.values / size_factors[coded.columns])
    np.testing.assert_array_equal(normalized.dense().view(np.int64), (counts / size_factors).view(np.int64))

    paths = {"cells": tmp_path / "cells.tsv", "coded": tmp_path / "coded.tsv"}
    with tsv_matrices(paths, [f"s{j}" for j in range(samples)]) as write:
        write("cells", ids, counts / size_factors)
        write("coded", ids, normalized)
    cells, coded_bytes = paths["cells"].read_bytes(), paths["coded"].read_bytes()
    assert coded_bytes == cells
    assert cells.count(b"\n") == genes + 1
    if genes > 100 and samples > 2:  # zeros, the empty sample and the huge counts are there
        assert (counts == 0).sum() > genes and (counts == 1e7).any() and not counts[:, 1].any()


def test_codes_hold_few_values_and_rebuild_the_matrix():
    counts = np.array([[0.0, 5.0], [3.0, 5.0], [0.0, 5.0], [3.0, 1e7]])
    coded = column_codes(counts)
    np.testing.assert_array_equal(coded.starts, [0, 2, 4])
    np.testing.assert_array_equal(coded.values, [0.0, 3.0, 5.0, 1e7])
    np.testing.assert_array_equal(coded.codes, [[0, 1, 0, 1], [0, 0, 0, 1]])
    np.testing.assert_array_equal(coded.columns, [0, 0, 1, 1])
    dense = coded.dense()
    assert dense.flags.c_contiguous
    np.testing.assert_array_equal(dense, counts)
    np.testing.assert_array_equal(coded.rows(np.array([3, 0])), counts[[3, 0]])
    with pytest.raises(ValueError, match="with_values"):
        coded.with_values(np.zeros(3))


@pytest.mark.parametrize("genes", [3000, 1, 0])
def test_counts_coded_through_the_table_of_small_counts_are_coded_as_sorted(genes, monkeypatch):
    """Whole counts below TABLE_LIMIT are found by a count of each number, the others sorted:
    the same values, starts and codes as sorting every cell (np.unique), at and around the
    limit, in a column of small counts only, of large ones only, and of both."""
    from glmstack.io import column_codes as module

    rng = np.random.default_rng(genes)
    limit = module.TABLE_LIMIT
    counts = counts_like(rng, genes, 6)
    counts[:, 2] = rng.integers(0, 50, size=genes)  # small only
    counts[:, 3] = rng.integers(limit, 3 * limit, size=genes)  # large only
    counts[: genes // 2, 4] = rng.choice([limit - 1.0, float(limit), limit + 1.0, 0.0], size=genes // 2)
    assert module._small_whole(counts) is not None  # the table path
    tabled = module.column_codes(counts)
    monkeypatch.setattr(module, "_small_whole", lambda matrix: None)
    sorted_ = module.column_codes(counts)
    np.testing.assert_array_equal(tabled.values.view(np.int64), sorted_.values.view(np.int64))
    np.testing.assert_array_equal(tabled.starts, sorted_.starts)
    np.testing.assert_array_equal(tabled.codes, sorted_.codes)
    np.testing.assert_array_equal(tabled.dense(), counts)


@pytest.mark.parametrize("odd", [0.5, -0.0, np.nan, -1.0])
def test_a_matrix_with_a_value_that_is_not_a_whole_count_is_sorted(odd):
    from glmstack.io import column_codes as module

    counts = np.array([[0.0, 5.0], [3.0, 5.0], [odd, 1e7]])
    assert module._small_whole(counts) is None
    coded = module.column_codes(counts)
    np.testing.assert_array_equal(coded.dense().view(np.int64), counts.view(np.int64))


def test_values_are_told_apart_by_their_bits_so_odd_values_keep_their_text(tmp_path):
    # 0.0 and -0.0 are == but are written "0" and "-0"; NaN is an empty field, inf is "inf";
    # below them doubles of every magnitude, some repeated: each distinct one formatted once
    odd = np.array([[0.0, np.nan], [-0.0, 1.5], [np.inf, np.nan], [0.0, -np.inf], [5e-324, 0.1]])
    rng = np.random.default_rng(9)
    wide = rng.normal(size=(300, 2)) * 10.0 ** rng.integers(-300, 300, size=(300, 2))
    values = np.vstack([odd, wide, wide[::3]])
    coded = column_codes(values)
    assert coded.values.size == 2 * (4 + 300)
    np.testing.assert_array_equal(coded.dense().view(np.int64), values.view(np.int64))
    ids = np.array([f"f{i}" for i in range(len(values))])
    paths = {"cells": tmp_path / "cells.tsv", "coded": tmp_path / "coded.tsv"}
    with tsv_matrices(paths, ["x", "y"]) as write:
        write("cells", ids, values)
        write("coded", ids, coded)
    text = paths["coded"].read_text()
    assert text == paths["cells"].read_text()
    assert text.splitlines()[1:6] == ["f0\t0\t", "f1\t-0\t1.5", "f2\tinf\t", "f3\t0\t-inf", "f4\t5e-324\t0.1"]


def test_ids_that_need_quotes_are_quoted_beside_coded_values(tmp_path):
    rng = np.random.default_rng(11)
    counts = counts_like(rng, 50, 4)
    ids = np.array([f"g{i}" for i in range(50)], dtype="<U8")
    ids[3] = 'odd"id'
    ids[7] = "tab\tid"
    counts[5, 2] = np.nan  # an empty field in the quoted lines too
    paths = {"cells": tmp_path / "cells.tsv", "coded": tmp_path / "coded.tsv"}
    with tsv_matrices(paths, ["a", "b", "c", "d"]) as write:
        write("cells", ids, counts / 1.37)
        coded = column_codes(counts)
        write("coded", ids, coded.with_values(coded.values / 1.37))
    written = paths["coded"].read_bytes()
    assert written == paths["cells"].read_bytes()
    assert b'"odd""id"\t' in written and b'"tab\tid"\t' in written and b"\ng5\t" in written
    assert written.split(b"\n")[6].split(b"\t")[3] == b""


def test_a_dict_of_columns_is_written_as_its_frame_and_without_pandas(tmp_path):
    """The NB table jobs write dicts of columns (no pandas: 0.2 s of their start): the same bytes
    as the frame, NaN and missing text as empty fields, quotes where a field needs them."""
    import subprocess
    import sys

    import pandas as pd

    code = """
import sys
import numpy as np
from glmstack.io.tables import write_tsv
write_tsv(sys.argv[1], {
    "gene_id": np.array(["g1", 'g"2', "g\\t3", "g4"]),
    "baseMean": np.array([0.1, np.nan, 1e-300, 123456789.5]),
    "padj": np.array([np.inf, -0.0, 5e-324, np.nan]),
    "dispOutlier": np.array(["True", "", "False", "True"]),
    "flag": np.array([True, False, True, False]),
    "n": np.arange(4),
})
from glmstack.io.column_codes import column_codes
from glmstack.io.tables import tsv_matrices
with tsv_matrices({"m": sys.argv[1] + ".matrix"}, ["s1", "s2"]) as write:
    write("m", np.array(["g1", "g2"]), column_codes(np.array([[1.0, 0.0], [3.0, 1.0]])))
assert "pandas" not in sys.modules, "write_tsv or tsv_matrices imported pandas"
"""
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "dict.tsv")], check=True)
    frame = pd.DataFrame({
        "gene_id": ["g1", 'g"2', "g\t3", "g4"],
        "baseMean": [0.1, np.nan, 1e-300, 123456789.5],
        "padj": [np.inf, -0.0, 5e-324, np.nan],
        "dispOutlier": pd.array([True, None, False, True], dtype="boolean"),
        "flag": [True, False, True, False],
        "n": np.arange(4),
    })  # fmt: skip
    from glmstack.io.tables import write_tsv

    write_tsv(tmp_path / "frame.tsv", frame)
    assert (tmp_path / "dict.tsv").read_bytes() == (tmp_path / "frame.tsv").read_bytes()
    assert (tmp_path / "dict.tsv.matrix").read_text() == "feature_id\ts1\ts2\ng1\t1\t0\ng2\t3\t1\n"
    assert pd.read_csv(tmp_path / "dict.tsv", sep="\t")["gene_id"].tolist() == ["g1", 'g"2', "g\t3", "g4"]
