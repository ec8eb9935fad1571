"""The helpers behind the speed work: Gram matrices, shard sizes, the allocator setting."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from glmstack import gram, stages
from glmstack.allocator import retain_freed_memory


@pytest.mark.parametrize("n_coef", [1, 2, 3, 6])
def test_gram_helpers_match_the_plain_sums(n_coef):
    rng = np.random.default_rng(n_coef)
    design = rng.normal(size=(11, n_coef))
    w = rng.random((7, 11))
    a = rng.normal(size=(7, n_coef, n_coef))
    a = a + a.transpose(0, 2, 1)  # symmetric, as the inverses the callers pass
    expected = np.stack([design.T @ np.diag(wg) @ design for wg in w])
    np.testing.assert_allclose(gram.weighted_gram(design, w), expected, rtol=1e-13)
    quad = np.stack([np.einsum("np,pq,nq->n", design, ag, design) for ag in a])
    np.testing.assert_allclose(gram.quadratic_diagonal(design, a), quad, rtol=1e-12, atol=1e-12)
    trace = np.array([np.trace(ag @ eg) for ag, eg in zip(a, expected)])
    np.testing.assert_allclose(gram.trace_product(a, design, w), trace, rtol=1e-12, atol=1e-12)


def test_gram_of_a_gene_does_not_depend_on_its_neighbours():
    rng = np.random.default_rng(3)
    design = rng.normal(size=(40, 3))
    w = rng.random((300, 40))
    whole = gram.weighted_gram(design, w)
    for g in (0, 137, 299):
        assert np.array_equal(gram.weighted_gram(design, w[g : g + 1])[0], whole[g])


@pytest.mark.parametrize(
    "genes, samples, shards",
    [(20_000, 8, 2), (20_000, 200, 2), (20_000, 1000, 2), (60_000, 200, 2), (60_000, 1000, 8), (500_000, 1000, 64), (999, 50, 1)],
)
def test_auto_shards_are_a_power_of_two_of_bounded_size(genes, samples, shards):
    per_shard = stages.auto_genes_per_shard(genes, samples)
    n_shards = len(stages.shard_bounds(genes, per_shard))
    assert n_shards == shards
    if genes >= 1000:
        assert per_shard * samples <= stages.AUTO_SHARD_COUNTS or n_shards == 2


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc settings")
def test_retained_memory_is_reused_without_page_faults():
    """After retain_freed_memory, a shard-sized temporary (40 MB, above the largest mmap
    threshold glibc picks by itself) reuses freed pages instead of mapping fresh ones."""
    probe = textwrap.dedent(
        """
        import resource, sys
        import numpy as np
        from glmstack.allocator import retain_freed_memory
        if sys.argv[1] == "retain":
            assert retain_freed_memory()
        np.ones((5000, 1000)).sum()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(20):
            np.ones((5000, 1000)).sum()
        print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
        """
    )
    faults = {
        mode: int(subprocess.run([sys.executable, "-c", probe, mode], capture_output=True, text=True, check=True,
                                 env={"PYTHONPATH": ":".join(sys.path)}).stdout)
        for mode in ("default", "retain")
    }  # fmt: skip
    # fresh pages for every array by default (fewer faults with transparent huge pages)
    assert faults["default"] >= 20 * 10
    assert faults["retain"] * 10 < faults["default"]
    assert retain_freed_memory() in (True, False)
