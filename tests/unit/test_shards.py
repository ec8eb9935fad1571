"""Shard planning: auto sizes are a power of two of bounded size."""

import itertools

import numpy as np
import pytest
from glmstack.io import shards
from glmstack.io.files import read_npz
from glmstack.io.shards import (
    AUTO_SHARD_COUNTS,
    AUTO_SHARD_VALUES,
    auto_genes_per_shard,
    shard_bounds,
    write_block_shards,
    write_shards,
)


@pytest.mark.parametrize(
    "genes, samples, shards",
    [(20_000, 8, 1), (20_000, 48, 1), (20_000, 60, 2), (20_000, 200, 2), (20_000, 1000, 2), (60_000, 200, 2), (60_000, 1000, 8), (500_000, 1000, 64), (999, 50, 1)],
)
def test_auto_shards_are_a_power_of_two_of_bounded_size(genes, samples, shards):
    per_shard = auto_genes_per_shard(genes, samples)
    n_shards = len(shard_bounds(genes, per_shard))
    assert n_shards == shards
    if genes * samples >= 1_000_000:
        assert per_shard * samples <= AUTO_SHARD_COUNTS or n_shards == 2


@pytest.mark.parametrize("features, samples, shards", [(500_000, 100, 2), (50_000, 1000, 2), (850_000, 450, 16)])
def test_value_matrices_get_larger_shards(features, samples, shards):
    per_shard = auto_genes_per_shard(features, samples, AUTO_SHARD_VALUES)
    assert len(shard_bounds(features, per_shard)) == shards
    assert per_shard * samples <= AUTO_SHARD_VALUES or shards == 2


def test_more_than_ten_thousand_shards_keep_numeric_order():
    shards = shard_bounds(20_001, 2)
    ids = [s["id"] for s in shards]
    assert len(ids) == 10_001 and ids[0] == "00000" and ids[-1] == "10000"
    assert ids == sorted(ids) and len({len(i) for i in ids}) == 1
    assert [s["id"] for s in shard_bounds(10, 3)] == ["0000", "0001", "0002", "0003"]


def test_config_comment_states_the_auto_shard_size():
    """config/config.yaml documents genes_per_shard: auto with the constant the code uses."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "config" / "config.yaml").read_text()
    said = re.search(r"at most (\d+)\s*(?:#\s*)?million counts", text)
    assert said is not None, "config/config.yaml no longer states the auto shard size"
    assert int(said.group(1)) * 1_000_000 == AUTO_SHARD_COUNTS


def blocks_of(ids, values, cuts=(0, 1, 2, 50, 51, 190, 300)):
    return ((ids[a:b], values[a:b]) for a, b in itertools.pairwise(cuts))


def random_matrix(rows=300):
    rng = np.random.default_rng(3)
    values = rng.standard_normal((rows, 5)) * 10.0 ** rng.integers(-300, 300, (rows, 5))
    values[[4, 80], [1, 3]] = np.nan
    return np.array([f"g{i}" for i in range(rows)]), values


def assert_same_shards(folder, other, plan):
    for shard in plan:
        ours, expected = read_npz(folder / f"{shard['id']}.npz"), read_npz(other / f"{shard['id']}.npz")
        np.testing.assert_array_equal(ours["values"], expected["values"])
        assert ours["gene_id"].tolist() == expected["gene_id"].tolist()
    assert sorted(p.name for p in folder.iterdir()) == [f"{s['id']}.npz" for s in plan]  # nothing else left


@pytest.mark.parametrize("max_rows", [None, 300, 10, 1000])
@pytest.mark.parametrize("genes_per_shard", ["auto", 7, 100, 300])
def test_shards_written_from_blocks_equal_those_of_the_whole_matrix(tmp_path, genes_per_shard, max_rows):
    """write_block_shards (ingest of `values:`, a block of rows at a time) writes what
    write_shards writes from the whole matrix, bit for bit, whatever the blocks: through a
    temporary file (no max_rows) or as the rows come (max_rows exact, too small, too large)."""
    ids, values = random_matrix()
    cells = 400  # auto: one shard (below a million cells)
    plan, feature_id = write_block_shards(str(tmp_path / "blocks"), blocks_of(ids, values), "values",
                                          genes_per_shard, cells, max_rows)
    # auto plans from max_rows where given (a bound of 10 rows: shards of 10)
    size = auto_genes_per_shard(max_rows or 300, 5, cells) if genes_per_shard == "auto" else genes_per_shard
    whole = write_shards(str(tmp_path / "whole"), ids, {"values": values}, size, cells)
    assert plan == whole and feature_id.tolist() == ids.tolist() and len(plan) == -(-300 // size)
    assert_same_shards(tmp_path / "blocks", tmp_path / "whole", plan)


def test_auto_shards_written_as_the_rows_come_are_planned_from_the_bound(tmp_path, monkeypatch):
    """With an upper bound (a file's lines), auto plans from it: a power of two of shards for
    the bound, the rows that came cut at that size."""
    monkeypatch.setattr(shards, "AUTO_SPLIT_CELLS", 0)  # split below a million cells
    ids, values = random_matrix(3000)
    cells = 2000
    size = auto_genes_per_shard(3000 + 500, 5, cells)
    plan, _ = write_block_shards(str(tmp_path / "blocks"), blocks_of(ids, values, (0, 1000, 2999, 3000)), "values",
                                 "auto", cells, 3000 + 500)
    whole = write_shards(str(tmp_path / "whole"), ids, {"values": values}, size, cells)
    assert plan == whole == shard_bounds(3000, size) and len(plan) > 1
    assert_same_shards(tmp_path / "blocks", tmp_path / "whole", plan)


def test_shards_named_for_a_bound_of_many_shards_are_renamed_to_the_plan(tmp_path):
    """A bound of more than 10,000 shards pads names to 5 digits; 300 rows need 4."""
    ids, values = random_matrix()
    plan, _ = write_block_shards(str(tmp_path / "blocks"), blocks_of(ids, values), "values", 1, 400, 20_000)
    whole = write_shards(str(tmp_path / "whole"), ids, {"values": values}, 1, 400)
    assert plan == whole and plan[-1]["id"] == "0299"
    assert_same_shards(tmp_path / "blocks", tmp_path / "whole", plan)


@pytest.mark.parametrize("with_factors", [False, True])
def test_rows_of_mapped_shards_equal_those_of_read_shards(tmp_path, with_factors):
    """plot_analysis takes the top genes' rows from memory-mapped shards (only those rows read)."""
    rng = np.random.default_rng(13)
    counts = rng.poisson(20, (25, 6)).astype(float)
    arrays = {"counts": counts}
    if with_factors:
        arrays["norm_factors"] = rng.uniform(0.5, 2, (25, 6))
    plan = write_shards(str(tmp_path), np.array([f"g{i}" for i in range(25)]), arrays, 7)
    paths = [str(tmp_path / f"{s['id']}.npz") for s in plan]
    sf, rows = rng.uniform(0.5, 2, 6), np.array([24, 3, 7, 0, 13])
    mapped = shards.select_pairs((shards.map_shard_counts(p, sf) for p in paths), rows)
    read = shards.select_pairs((shards.read_shard_counts(p, sf) for p in paths), rows)
    np.testing.assert_array_equal(mapped[0], counts[rows])
    np.testing.assert_array_equal(mapped[0], read[0])
    np.testing.assert_array_equal(mapped[1], read[1])
    assert mapped[1].shape == ((5, 6) if with_factors else (6,))


def test_a_mapped_fit_array_names_a_missing_one(tmp_path):
    path = str(tmp_path / "fit.npz")
    shards.write_npz(path, {"gene_id": np.array(["a", "b"]), "condition.cooks": np.ones((2, 3))})
    np.testing.assert_array_equal(shards.map_fit_array(path, "condition", "cooks"), np.ones((2, 3)))
    with pytest.raises(ValueError, match="no array 'cooks' of analysis 'other'; rerun its fit job"):
        shards.map_fit_array(path, "other", "cooks")
