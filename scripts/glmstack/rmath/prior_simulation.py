"""The simulated histograms of DESeq2's prior-variance estimate for 1 <= m - p <= 3.

DESeq2 1.38 ``estimateDispersionsPriorVar``, when the residual degrees of freedom
``m - p`` are 1, 2 or 3, calls ``set.seed(2)`` and then, for each candidate prior
variance ``x`` of ``seq(0, 8, length = 200)`` in turn, draws
``log(rchisq(10000, m - p)) + rnorm(10000, 0, sqrt(x)) - log(m - p)``, keeps the values
inside (-10, 10) and takes their histogram on the breaks -10, -9.5, ..., 10. These
histograms depend on ``m - p`` only, so they are made once, here, with R's generator
(:class:`glmstack.rmath.random.RRandom`), and shipped as the table
``prior_sim_histograms.npz`` (bin counts, shape (3, 200, 40), for m - p = 1, 2, 3).

Rebuild it with ``python -m glmstack.rmath.prior_simulation`` (about 5 s);
``tests/unit/test_rmath_prior_simulation.py`` checks it against a rebuild and against
the counts R itself computes (``tests/data/rmath/prior_sim_counts.tsv.gz``).
"""

from __future__ import annotations

import functools
import math
import sys
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import numpy as np

from .random import RRandom

__all__ = [
    "BREAKS",
    "DF_VALUES",
    "DRAWS",
    "GRID",
    "SEED",
    "deseq2_simulated_counts",
    "hist_counts",
    "simulated_counts",
    "simulated_values",
]

SEED = 2  # DESeq2 estimateDispersionsPriorVar: set.seed(2)
DF_VALUES = (1, 2, 3)  # DESeq2: the simulation is used when (m - p) <= 3 and m > p
GRID = np.linspace(0.0, 8.0, 200)  # DESeq2: obsVarGrid <- seq(from = 0, to = 8, length = 200)
DRAWS = 10_000  # DESeq2: rchisq(10000, ...) and rnorm(10000, ...) per grid value
BREAKS = np.arange(-20, 21) / 2.0  # DESeq2: brks <- -20:20/2
HIST_FUZZ = 1e-7  # R hist.default: breaks widened by 1e-7 * median(diff(breaks))
TABLE = "prior_sim_histograms.npz"


def hist_counts(values: np.ndarray, breaks: np.ndarray) -> np.ndarray:
    """R's ``hist(values, breaks, plot = FALSE)$counts``: right-closed bins, the first closed.

    The inner breaks move up and the first one down by ``1e-7 * median(diff(breaks))``
    (R's fuzz). Values must lie within the breaks (R stops otherwise).

    Parameters
    ----------
    values : (n,) finite values.
    breaks : (B + 1,) increasing breaks.

    Returns
    -------
    (B,) int64 counts.
    """
    b = np.asarray(breaks, dtype=float)
    fuzz = HIST_FUZZ * float(np.median(np.diff(b)))
    fuzzy = b + fuzz
    fuzzy[0] = b[0] - fuzz
    v = np.asarray(values, dtype=float)
    if np.any(~np.isfinite(v) | (v < fuzzy[0]) | (v > fuzzy[-1])):
        raise ValueError("values must be finite and lie within the breaks")
    idx = np.searchsorted(fuzzy, v, side="left") - 1  # (fuzzy[j], fuzzy[j + 1]] -> j
    return np.bincount(np.clip(idx, 0, b.size - 2), minlength=b.size - 1).astype(np.int64)


def simulated_values(df: int, seed: int = SEED) -> Iterator[np.ndarray]:
    """DESeq2's ``randDist`` for each grid value in turn, before the (-10, 10) filter.

    Parameters
    ----------
    df : residual degrees of freedom ``m - p``.
    seed : R seed (DESeq2 uses 2).

    Yields
    ------
    (DRAWS,) ``log(chisq) + normal - log(df)`` for ``x`` = GRID[0], GRID[1], ...; from one
    R stream, chi-square draws first (at ``x = 0`` R's ``rnorm`` with sd 0 draws nothing).
    """
    rng = RRandom(seed)
    log_df = math.log(df)
    for x in GRID:
        chisq = rng.chisq(DRAWS, df)
        normal = rng.norm(DRAWS, 0.0, math.sqrt(x))
        yield _log(chisq) + normal - log_df


def _log(x: np.ndarray) -> np.ndarray:
    """The C library's log, as R's (numpy's differs in the last bit now and then); log(0) = -inf."""
    return np.fromiter((math.log(v) if v > 0 else -math.inf for v in x.tolist()), float, x.size)


def simulated_counts(df: int, seed: int = SEED) -> np.ndarray:
    """(200, 40) int64: the histogram counts of :func:`simulated_values`, one row per grid value."""
    lo, hi = BREAKS[0], BREAKS[-1]
    rows = [hist_counts(v[(v > lo) & (v < hi)], BREAKS) for v in simulated_values(df, seed)]
    return np.stack(rows)


def build_table() -> np.ndarray:
    """(3, 200, 40) counts for m - p = 1, 2, 3 with DESeq2's seed: the shipped table's content."""
    return np.stack([simulated_counts(df) for df in DF_VALUES])


def write_table(path: Path) -> None:
    """Rebuild and write the table (counts and what they were made with)."""
    counts = build_table()
    np.savez_compressed(
        path,
        counts=counts.astype(np.uint16),
        df=np.asarray(DF_VALUES),
        grid=GRID,
        breaks=BREAKS,
        draws=np.asarray(DRAWS),
        seed=np.asarray(SEED),
    )


@functools.cache
def _table() -> np.ndarray:
    with resources.files(__package__).joinpath(TABLE).open("rb") as handle, np.load(handle) as npz:
        counts = npz["counts"].astype(np.int64)
        same = (
            np.array_equal(npz["df"], DF_VALUES)
            and np.array_equal(npz["grid"], GRID)
            and np.array_equal(npz["breaks"], BREAKS)
            and int(npz["draws"]) == DRAWS
            and int(npz["seed"]) == SEED
        )
    if not same or counts.shape != (len(DF_VALUES), GRID.size, BREAKS.size - 1):
        raise RuntimeError(f"{TABLE} does not match the simulation settings; rebuild it")
    counts.flags.writeable = False
    return counts


def deseq2_simulated_counts(df: int) -> np.ndarray:
    """The histogram counts DESeq2 computes for ``m - p = df``, from the shipped table.

    Parameters
    ----------
    df : 1, 2 or 3.

    Returns
    -------
    (200, 40) read-only int64 counts: row ``i`` for the candidate variance ``GRID[i]``,
    column ``j`` for the bin ``(BREAKS[j], BREAKS[j + 1]]``. Each row sums to the number
    of the 10,000 draws inside (-10, 10).
    """
    if df not in DF_VALUES:
        raise ValueError(f"DESeq2 simulates only for m - p in {DF_VALUES}, not {df}")
    return _table()[DF_VALUES.index(df)]


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name(TABLE)
    write_table(target)
    print(f"wrote {target}")
