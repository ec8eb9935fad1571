"""A features x samples matrix as each column's distinct values and each cell's place among them.

Numpy only (the VST computes through it; the TSV writer, glmstack.io.tables, formats it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ColumnCodes:
    """A (G, N) matrix as each column's distinct values and each cell's place among them.

    Column j is values[starts[j] + codes[j]]. Formatting a double as text costs ~100 ns, and a
    column of counts holds a few thousand distinct values among 20,000 genes: `tsv_matrices`
    formats each distinct value once and gathers the text. An elementwise function of the
    matrix is the same function of `values` with the same codes (`with_values`).

    values : (K,) float, column 0's distinct values, then column 1's, ...
    starts : (N + 1,) int, column j's values are values[starts[j]:starts[j + 1]].
    codes : (N, G) int32, row j: the index of each of column j's cells among its values.
    """

    values: np.ndarray
    starts: np.ndarray
    codes: np.ndarray

    @property
    def columns(self) -> np.ndarray:
        """(K,) the column of each value (to pick a per-column number for each)."""
        return np.repeat(np.arange(self.starts.size - 1), np.diff(self.starts))

    def with_values(self, values: np.ndarray) -> ColumnCodes:
        """The matrix f(cell) from (K,) values = f(self.values), f elementwise."""
        values = np.asarray(values, dtype=float)
        if values.shape != self.values.shape:
            raise ValueError(f"with_values: {values.shape} values for {self.values.shape}")
        return ColumnCodes(values, self.starts, self.codes)

    def rows(self, index: np.ndarray) -> np.ndarray:
        """(len(index), N) rows of the matrix."""
        return self.values[self.codes[:, index].T + self.starts[:-1]]

    def dense(self) -> np.ndarray:
        """(G, N) the matrix, C-ordered as the matrix it was coded from (filled column by
        column: no (G, N) index array beside it)."""
        matrix = np.empty(self.codes.shape[::-1])
        for j, (start, stop) in enumerate(zip(self.starts[:-1], self.starts[1:])):
            matrix[:, j] = self.values[start:stop][self.codes[j]]
        return matrix


TABLE_LIMIT = 1 << 12  # whole numbers below it are coded through a table of those present


def column_codes(matrix: np.ndarray) -> ColumnCodes:
    """`ColumnCodes` of a (G, N) float matrix: each column's distinct values in increasing order
    of their bits, as np.unique finds them.

    Values are told apart by their bits, not by ==: 0.0 and -0.0 (texts "0" and "-0") and
    NaNs stay apart, so any elementwise function of the matrix comes out bit for bit the same
    through the codes, whatever the matrix holds.

    Counts take a shortcut: where every cell is a whole number in [0, TABLE_LIMIT) or above
    it (most counts are small), a column's small values are found by a count of each whole
    number (np.bincount) and only the few large ones are sorted (np.unique) -- a fifth of the
    time of sorting every cell. Any other matrix is sorted column by column (~15 ns a cell).
    """
    matrix = np.asarray(matrix, dtype=float)
    n_rows, n_columns = matrix.shape
    codes = np.empty((n_columns, n_rows), dtype=np.int32)  # half of intp's memory; G < 2**31
    small = _small_whole(matrix)
    distinct = []
    for j in range(n_columns):
        if small is None:
            bits, codes[j] = np.unique(matrix[:, j].view(np.int64), return_inverse=True)
            distinct.append(bits.view(float))
        else:
            values, codes[j] = _table_codes(matrix[:, j], small[:, j])
            distinct.append(values)
    starts = np.concatenate([[0], np.cumsum([d.size for d in distinct], dtype=np.intp)])
    values = np.concatenate(distinct) if distinct else np.zeros(0)
    return ColumnCodes(values, starts, codes)


def _small_whole(matrix: np.ndarray) -> np.ndarray | None:
    """(G, N) the cells holding a whole number in [0, TABLE_LIMIT) (sign bit clear: not -0.0),
    where every other cell is at least TABLE_LIMIT (so its bits sort after theirs); else None."""
    with np.errstate(invalid="ignore"):
        small = (matrix < TABLE_LIMIT) & (matrix >= 0)
        small &= np.floor(matrix) == matrix
    small &= ~np.signbit(matrix)
    with np.errstate(invalid="ignore"):
        large_ok = small | (matrix >= TABLE_LIMIT)  # NaN is neither
    return small if large_ok.all() else None


def _table_codes(column: np.ndarray, small: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(column, return_inverse=True) of a column whose `small` cells hold whole
    numbers below TABLE_LIMIT and whose other cells are above them."""
    whole = np.where(small, column, TABLE_LIMIT).astype(np.intp)  # the large ones: one bin past
    present = np.bincount(whole, minlength=TABLE_LIMIT + 1)[:TABLE_LIMIT] > 0
    rank = np.cumsum(present, dtype=np.int32) - 1
    codes = rank[np.minimum(whole, TABLE_LIMIT - 1)]
    values = np.flatnonzero(present).astype(float)
    if small.all():
        return values, codes
    large = np.flatnonzero(~small)
    bits, inverse = np.unique(column[large].view(np.int64), return_inverse=True)
    codes[large] = values.size + inverse
    return np.concatenate([values, bits.view(float)]), codes
