"""glmstack.io.files: atomic writes that never follow a planted link, and format versions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from glmstack.io.files import (
    FILE_MODE,
    FORMAT_VERSION,
    atomic_write,
    float_text,
    map_npz,
    read_npz,
    write_json,
    write_npz,
    write_small_tsv,
)
from glmstack.io.tables import read_matrix_blocks, tsv_matrices, write_tsv


def test_a_planted_link_at_the_old_temporary_name_is_not_followed(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    out = tmp_path / "out" / "size_factors.tsv"
    out.parent.mkdir()
    (out.parent / "size_factors.tsv.tmp").symlink_to(victim)  # the name glmstack once used
    write_tsv(out, pd.DataFrame({"sample": ["a"], "size_factor": [1.0]}))
    assert victim.read_text() == "keep me"
    assert out.read_text().startswith("sample\tsize_factor")


def test_a_link_at_the_target_is_replaced_not_written_through(tmp_path):
    victim = tmp_path / "victim.json"
    victim.write_text("{}")
    out = tmp_path / "model.json"
    out.symlink_to(victim)
    write_json(out, {"a": 1})
    assert victim.read_text() == "{}" and not out.is_symlink()


def test_a_failed_write_leaves_neither_file_nor_temporary(tmp_path):
    out = tmp_path / "x.npz"
    with pytest.raises(RuntimeError), atomic_write(out) as fh:
        fh.write(b"half")
        raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_writing_a_file_again_removes_the_temporaries_of_its_killed_writers_alone(tmp_path):
    """A writer killed before its rename (SIGKILL: no cleanup) leaves `.name.XXXXXXXX.tmp`;
    the next write of that file removes it, and nothing of other files or other shapes."""
    out = tmp_path / "dispersion.png"
    left = [tmp_path / ".dispersion.png.k2_9ab0c.tmp", tmp_path / ".dispersion.png.zz00zz00.tmp"]
    kept = [tmp_path / ".cooks.png.k2_9ab0c.tmp", tmp_path / ".dispersion.png.x.png.k2_9ab0c.tmp",
            tmp_path / "dispersion.png.k2_9ab0c.tmp", tmp_path / ".dispersion.png.short.tmp"]
    for path in left + kept:
        path.write_bytes(b"half")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    link = tmp_path / ".dispersion.png.linkabcd.tmp"
    link.symlink_to(victim)
    with atomic_write(out) as fh:
        fh.write(b"whole")
    assert out.read_bytes() == b"whole"
    assert not any(path.exists() for path in left)
    assert all(path.read_bytes() == b"half" for path in kept)
    assert link.is_symlink() and victim.read_text() == "keep me"  # a link is no temporary of ours


def test_a_written_file_has_the_permissions_of_any_new_file(tmp_path):
    """Not mkstemp's 0600: under a umask of 022 the lab's group and others can read the results."""
    out, plain = tmp_path / "results.tsv", tmp_path / "plain.txt"
    write_tsv(out, {"gene": np.array(["a"]), "padj": np.array([0.5])})
    plain.write_text("x")
    assert out.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777 == FILE_MODE


def test_npz_round_trip_and_version(tmp_path):
    path = tmp_path / "a.npz"
    write_npz(path, {"gene_id": np.array(["g1"]), "x": np.array([1.5])})
    assert read_npz(path)["x"].tolist() == [1.5]
    np.savez(tmp_path / "old.npz", format_version=np.array(FORMAT_VERSION - 1), gene_id=np.array(["g"]))
    with pytest.raises(ValueError, match="format_version 1, expected 2; rerun"):
        read_npz(tmp_path / "old.npz")


def test_tables_read_back_exactly_with_empty_missing_values_and_quoted_text(tmp_path):
    rng = np.random.default_rng(5)
    numbers = rng.normal(size=200) * 10.0 ** rng.integers(-300, 300, size=200)
    numbers[[3, 7]] = np.nan
    numbers[8], numbers[9] = np.inf, -np.inf
    frame = pd.DataFrame({
        "feature_id": [f"g{i}" for i in range(200)],
        "name": ["a\tb", 'say "hi"', None, *[f"n{i}" for i in range(197)]],
        "flag": np.arange(200) % 3 == 0,
        "count": np.arange(200),
        "value": numbers,
    })
    write_tsv(tmp_path / "t.tsv", frame)
    text = (tmp_path / "t.tsv").read_text()
    assert text.splitlines()[0] == "feature_id\tname\tflag\tcount\tvalue"
    assert text.splitlines()[4].split("\t")[4] == ""  # NaN: an empty field
    assert text.splitlines()[2].startswith('g1\t"say ""hi"""\tFalse\t1\t')
    back = pd.read_csv(tmp_path / "t.tsv", sep="\t", keep_default_na=False, na_values=[""])
    np.testing.assert_array_equal(back["value"].to_numpy(), numbers)  # every double exactly
    assert back["name"].iloc[0] == "a\tb" and pd.isna(back["name"].iloc[2])
    assert back["flag"].tolist() == frame["flag"].tolist() and back["count"].tolist() == list(range(200))
    # without text to quote, Arrow's CSV writer writes the rows: the same text
    write_tsv(tmp_path / "plain.tsv", frame.assign(name=frame["name"].where(frame.index > 1, "x")))
    plain = (tmp_path / "plain.tsv").read_text().splitlines()
    assert plain[3:] == text.splitlines()[3:] and plain[1] == text.splitlines()[1].replace('"a\tb"', "x")


def test_matrices_written_by_arrow_equal_the_general_writer_and_read_back_exactly(tmp_path):
    rng = np.random.default_rng(6)
    values = rng.lognormal(3, 2, size=(300, 5))
    values[4, 2] = np.nan
    ids = np.array([f"ENSG{i:011d}" for i in range(300)])
    quoted = ids.copy()
    quoted[10] = 'odd"id'  # written through the general writer, which quotes it
    samples = ["s1", "s2", "s3", "s4", "s5"]
    paths = {"plain": tmp_path / "plain.tsv", "quoted": tmp_path / "quoted.tsv"}
    with tsv_matrices(paths, samples) as write:
        for block in (slice(0, 120), slice(120, 300)):
            write("plain", ids[block], values[block])
            write("quoted", quoted[block], values[block])
    plain, odd = paths["plain"].read_bytes(), paths["quoted"].read_bytes()
    assert odd == plain.replace(b"ENSG00000000010\t", b'"odd""id"\t')
    blocks = list(read_matrix_blocks(paths["plain"], rows=100))
    np.testing.assert_array_equal(np.concatenate([v for _, v in blocks]), values)
    assert np.concatenate([i for i, _ in blocks]).tolist() == ids.tolist()


def test_float_text_is_arrows_text_of_every_double(tmp_path):
    rng = np.random.default_rng(8)
    numbers = np.concatenate([
        rng.normal(size=3000) * 10.0 ** rng.integers(-20, 20, size=3000),  # both sides of 1e-6 and 1e10
        np.frombuffer(rng.bytes(8 * 3000), dtype=float),  # any bit pattern: subnormals, NaNs, 1e300
        rng.integers(-10**12, 10**12, size=500).astype(float),
        [0.0, -0.0, np.inf, -np.inf, 5e-324, 1e-6, 1.5e-6, 1e-7, 999999999.0, 1e10, 0.1, 100.0, 1 / 3],
    ])
    write_tsv(tmp_path / "arrow.tsv", pd.DataFrame({"x": numbers}))
    assert [float_text(v) for v in numbers.tolist()] == (tmp_path / "arrow.tsv").read_text().splitlines()[1:]


def test_small_tables_are_written_as_the_arrow_writer_writes_them(tmp_path):
    rng = np.random.default_rng(9)
    numbers = rng.normal(size=40) * 10.0 ** rng.integers(-9, 12, size=40)
    numbers[[2, 5]] = np.nan
    columns = {
        "feature_id": [f"g{i}" for i in range(40)],
        "name": ["a\tb", 'say "hi"', None, "line\nbreak", "cr\r", np.nan, *[f"n{i}" for i in range(34)]],
        "flag": np.arange(40) % 3 == 0,
        "count": np.arange(40),
        'odd "name"': numbers,
        "text": [f"t{i}" for i in range(38)] + ["nan", np.nan],  # a missing text (sample_column's NaN)
    }
    write_tsv(tmp_path / "arrow.tsv", pd.DataFrame(columns))
    write_small_tsv(tmp_path / "small.tsv", columns)
    assert (tmp_path / "small.tsv").read_bytes() == (tmp_path / "arrow.tsv").read_bytes()
    plain = {"item": ["design", "genes"], "value": ["~ batch + condition", "20,000 (3 all zero)"]}
    write_tsv(tmp_path / "arrow.tsv", pd.DataFrame(plain))
    write_small_tsv(tmp_path / "small.tsv", plain)
    assert (tmp_path / "small.tsv").read_bytes() == (tmp_path / "arrow.tsv").read_bytes()


def test_mapped_arrays_are_read_only_memory_maps_of_the_same_numbers(tmp_path):
    rng = np.random.default_rng(10)
    arrays = {"gene_id": np.array(["a", "b", "c"]), "counts": rng.poisson(5, (3, 4)).astype(float),
              "fortran": np.asfortranarray(rng.normal(size=(3, 2))), "none": np.zeros((0, 4))}
    write_npz(tmp_path / "s.npz", arrays)
    mapped = map_npz(tmp_path / "s.npz", ["counts", "fortran", "none", "absent"])
    assert set(mapped) == {"counts", "fortran", "none"}  # an array it lacks is left out
    assert isinstance(mapped["counts"], np.memmap) and isinstance(mapped["fortran"], np.memmap)
    for key in ("counts", "fortran", "none"):
        np.testing.assert_array_equal(mapped[key], arrays[key])
    np.testing.assert_array_equal(mapped["counts"][[2, 0]], arrays["counts"][[2, 0]])
    with pytest.raises(ValueError, match="read-only"):
        mapped["counts"][0, 0] = 1.0
    # compressed members (not written by write_npz) are read whole, the same numbers
    np.savez_compressed(tmp_path / "z.npz", format_version=np.array(FORMAT_VERSION), **arrays)
    packed = map_npz(tmp_path / "z.npz", ["counts"])
    assert not isinstance(packed["counts"], np.memmap)
    np.testing.assert_array_equal(packed["counts"], arrays["counts"])
    np.savez(tmp_path / "old.npz", format_version=np.array(1), **arrays)
    with pytest.raises(ValueError, match="format_version 1, expected 2; rerun"):
        map_npz(tmp_path / "old.npz", ["counts"])
