"""Shard planning: auto sizes are a power of two of bounded size."""

import pytest
from glmstack.io.shards import AUTO_SHARD_COUNTS, AUTO_SHARD_VALUES, auto_genes_per_shard, shard_bounds


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
