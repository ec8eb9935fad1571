"""glmstack.io.files: atomic writes that never follow a planted link, and format versions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from glmstack.io.files import FORMAT_VERSION, atomic_write, read_npz, write_json, write_npz, write_tsv


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


def test_npz_round_trip_and_version(tmp_path):
    path = tmp_path / "a.npz"
    write_npz(path, {"gene_id": np.array(["g1"]), "x": np.array([1.5])})
    assert read_npz(path)["x"].tolist() == [1.5]
    np.savez(tmp_path / "old.npz", format_version=np.array(FORMAT_VERSION - 1), gene_id=np.array(["g"]))
    with pytest.raises(ValueError, match="format_version 1, expected 2; rerun"):
        read_npz(tmp_path / "old.npz")
