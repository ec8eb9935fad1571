"""Counts of a block of genes, with each gene's distinct counts when the samples are many.

The Cox-Reid posterior sums lgamma(y + 1/a) - lgamma(1/a) (and its derivative digamma(y + 1/a)
- digamma(1/a)) over a gene's samples at every step of the dispersion line search, and these
special functions are most of its cost. A gene has far fewer distinct counts than samples when
the samples are many (a fifth of them at 1,000 samples, two fifths at 200), so there these sums,
and the lgamma terms of IRLS's deviance and of the LRT's log likelihoods, run over the distinct
counts, each term formed as per sample and times how often it occurs. With few samples the
bookkeeping would cost more than it saves, and the sums run over the samples in their order.
Which way a gene's sums run depends on the number of samples alone, never on the other genes
of its block, so a gene's numbers do not depend on the shard or block it falls in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# from this many samples on, sums run over distinct counts (fewer than 2/3 of the samples then)
DISTINCT_COUNTS_MIN_SAMPLES = 100


@dataclass(frozen=True)
class CountRows:
    """counts : (G, N). With `DISTINCT_COUNTS_MIN_SAMPLES` samples or more, also gene by gene
    (G rows one after another) its distinct counts in ascending order (`distinct`, (K,)),
    how often each occurs (`multiplicity`, (K,)) and how many a gene has (`lengths`, (G,));
    else these are None."""

    counts: np.ndarray
    distinct: np.ndarray | None = None
    multiplicity: np.ndarray | None = None
    lengths: np.ndarray | None = None

    @classmethod
    def of(cls, counts: np.ndarray) -> CountRows:
        counts = np.asarray(counts, dtype=float)
        if counts.ndim != 2 or counts.shape[1] < DISTINCT_COUNTS_MIN_SAMPLES or counts.shape[0] == 0:
            return cls(counts)
        ordered = np.sort(counts, axis=1)
        first = np.ones(ordered.shape, dtype=bool)  # each row's first entry starts a run
        np.not_equal(ordered[:, 1:], ordered[:, :-1], out=first[:, 1:])
        starts = np.flatnonzero(first)
        multiplicity = np.diff(np.append(starts, ordered.size)).astype(float)
        return cls(counts, ordered.ravel()[starts], multiplicity, first.sum(axis=1))

    @property
    def by_distinct(self) -> bool:
        return self.distinct is not None

    def check_of(self, counts: np.ndarray) -> None:
        """Raise unless these are the rows of `counts` (its shape is checked, cheaply): for
        callers handed a `CountRows` made for another step beside the counts."""
        if self.counts.shape != np.shape(counts):
            raise ValueError(f"CountRows of {self.counts.shape} counts given with {np.shape(counts)} counts")

    def block(self, rows: slice) -> CountRows:
        """A block of consecutive rows (`nb.blocks`), its distinct counts a view of these."""
        start, stop, _ = rows.indices(self.counts.shape[0])
        if not self.by_distinct or stop <= start:  # as `of` makes them
            return CountRows(self.counts[rows])
        ends = np.cumsum(self.lengths)
        first, last = (ends[start - 1] if start else 0), ends[stop - 1]
        return CountRows(self.counts[rows], self.distinct[first:last], self.multiplicity[first:last],
                         self.lengths[rows])

    def take(self, rows: np.ndarray) -> CountRows:
        """These rows (an index array), in that order."""
        if not self.by_distinct:
            return CountRows(self.counts[rows])
        lengths = self.lengths[rows]
        offsets = np.cumsum(self.lengths) - self.lengths
        new_offsets = np.cumsum(lengths) - lengths
        index = np.arange(lengths.sum()) + np.repeat(offsets[rows] - new_offsets, lengths)
        return CountRows(self.counts[rows], self.distinct[index], self.multiplicity[index], lengths)

    def shifted_sums(self, f: Callable[[np.ndarray], np.ndarray], shift: np.ndarray) -> np.ndarray:
        """(G,) sum over each gene's samples of f(y + shift_g) - f(shift_g), over its distinct
        counts y (only with `by_distinct`). Each term is formed as the per-sample sum would form
        it, then weighted by its multiplicity."""
        terms = f(self.distinct + self.repeat(shift))
        terms -= self.repeat(f(shift))
        return self.total(terms)

    def repeat(self, per_gene: np.ndarray) -> np.ndarray:
        """(K,) each distinct count's gene's value of a (G,) array (`by_distinct`)."""
        return np.repeat(per_gene, self.lengths)

    def total(self, terms: np.ndarray) -> np.ndarray:
        """(G,) sum over each gene's samples of a term given per distinct count, (K,): the
        terms times their multiplicities, summed gene by gene (`by_distinct`)."""
        if terms.size == 0:
            return np.zeros(0)
        return np.add.reduceat(terms * self.multiplicity, np.cumsum(self.lengths) - self.lengths)
