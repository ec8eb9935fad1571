"""glmstack.rmath.prior_simulation: the shipped table is DESeq2's histograms, and its script rebuilds it."""

from __future__ import annotations

import csv
import gzip

import numpy as np
import pytest
from cases import DATA, rmath_reference
from glmstack.nb import prior
from glmstack.rmath.prior_simulation import (
    BREAKS,
    DF_VALUES,
    GRID,
    deseq2_simulated_counts,
    hist_counts,
    simulated_values,
)


def r_counts(df: int) -> np.ndarray:
    """R's hist(...)$counts of DESeq2's simulation (tests/data/rmath/make_random_reference.R)."""
    with gzip.open(DATA / "rmath" / "prior_sim_counts.tsv.gz", "rt") as handle:
        rows = [row for row in csv.reader(handle, delimiter="\t")]
    body = np.array(rows[1:], dtype=np.int64)
    body = body[body[:, 0] == df]
    np.testing.assert_array_equal(body[:, 1], np.arange(1, GRID.size + 1))
    return body[:, 2:]


@pytest.mark.parametrize("df", DF_VALUES)
def test_table_equals_r_counts(df: int) -> None:
    np.testing.assert_array_equal(deseq2_simulated_counts(df), r_counts(df))


def test_table_is_rebuilt_by_its_script() -> None:
    """What `python -m glmstack.rmath.prior_simulation` writes (about 5 s for the three df)."""
    lo, hi = BREAKS[0], BREAKS[-1]
    for df in DF_VALUES:
        values = list(simulated_values(df))
        counts = np.stack([hist_counts(v[(v > lo) & (v < hi)], BREAKS) for v in values])
        np.testing.assert_array_equal(counts, deseq2_simulated_counts(df))
        positions, r_values = rmath_reference()[f"deseq2_prior_sim_df{df}_randDist"]
        np.testing.assert_array_equal(np.concatenate(values)[positions], r_values)


def test_hist_counts_matches_r_hist() -> None:
    # R 4.2.2: hist(c(-9.75, -9.5, -9.5, -9.4, 0, 0.5, 0.50000004, 0.5000001, 3.2, 9.99, 10, -10),
    #               breaks = -20:20/2, plot = FALSE)$counts
    values = np.array([-9.75, -9.5, -9.5, -9.4, 0, 0.5, 0.50000004, 0.5000001, 3.2, 9.99, 10, -10])
    expected = np.zeros(40, dtype=np.int64)
    expected[[0, 1, 19, 20, 21, 26, 39]] = [4, 1, 1, 2, 1, 1, 2]
    np.testing.assert_array_equal(hist_counts(values, BREAKS), expected)
    with pytest.raises(ValueError, match="within the breaks"):
        hist_counts(np.array([10.5]), BREAKS)


def test_prior_uses_the_table_grid_and_breaks() -> None:
    np.testing.assert_array_equal(prior.SIM_BREAKS, BREAKS)
    np.testing.assert_array_equal(np.linspace(0.0, prior.SIM_GRID_MAX, prior.SIM_GRID_POINTS), GRID)


def test_only_deseq2_simulated_df() -> None:
    with pytest.raises(ValueError, match="only for m - p in"):
        deseq2_simulated_counts(4)
