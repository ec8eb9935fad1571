"""The features SVA reads, block by block: values as they are, counts as log(normalised + 1)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from ..constants import SVASEQ_MIN_MEAN, SVASEQ_PSEUDOCOUNT
from ..io.files import read_npz

TILE_ROWS = 4096  # features per tile of every SVA pass (memory: TILE_ROWS x samples)


def log_normalised(counts: np.ndarray, size_factors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """svaseq's scale for counts: log(count / size factor + 1), and the features kept.

    Parameters
    ----------
    counts : (G, N) counts; size_factors : (N,).

    Returns
    -------
    (G, N) natural-log values and a (G,) mask of the features with mean normalised count
    above 1 (DESeq2's vignette filter before svaseq). The base of the logarithm does not
    matter: F statistics, weights and eigenvectors are unchanged by a common scale.
    """
    normalised = counts / size_factors
    keep = normalised.mean(axis=1) > SVASEQ_MIN_MEAN
    return np.log(normalised + SVASEQ_PSEUDOCOUNT), keep


def usable(values: np.ndarray) -> np.ndarray:
    """(G,) mask of features with no missing value and not constant (R's sva needs both)."""
    finite = np.isfinite(values).all(axis=1)
    spread = np.zeros(len(values), dtype=bool)
    spread[finite] = np.ptp(values[finite], axis=1) > 0
    return finite & spread


@dataclass(frozen=True)
class FeatureBlocks:
    """A re-readable sequence of (G_i, N) blocks of the features SVA uses, in feature order.

    read : a callable returning an iterator of (G_i, N) arrays of every feature (one shard
    each); kind : "values" or "counts" (then `size_factors` is needed). Calling the object
    yields the kept features of each block on the analysis scale.
    """

    read: Callable[[], Iterator[np.ndarray]]
    kind: str = "values"
    size_factors: np.ndarray | None = None

    def __call__(self) -> Iterator[np.ndarray]:
        """The kept features in tiles of TILE_ROWS (the last one shorter), whatever the shards:
        every computation sees the same tiles, so results are bit-identical for any shard size
        (the re-weighting iterations amplify rounding differences of a summation order)."""
        pending: list[np.ndarray] = []
        held = 0
        for block in self.read():
            rows = self.scaled(block)[0]
            pending.append(rows)
            held += len(rows)
            if held >= TILE_ROWS:
                joined = np.concatenate(pending)
                cut = len(joined) - len(joined) % TILE_ROWS
                for start in range(0, cut, TILE_ROWS):
                    yield joined[start : start + TILE_ROWS]
                pending, held = [joined[cut:]], len(joined) - cut
        if held:
            yield np.concatenate(pending)

    def scaled(self, block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(kept features on the analysis scale, (G_i,) mask of kept features) of one block."""
        block = np.asarray(block, dtype=float)
        if self.kind == "counts":
            logged, keep = log_normalised(block, self.size_factors)
            keep &= usable(logged)
            return logged[keep], keep
        keep = usable(block)
        return block[keep], keep

    def kept(self) -> np.ndarray:
        """(G,) mask over all features of those used."""
        return np.concatenate([self.scaled(b)[1] for b in self.read()])


def shard_blocks(paths: list[str], key: str) -> Callable[[], Iterator[np.ndarray]]:
    """A reader of the `key` array ("values" or "counts") of the shard files, in order."""

    def read() -> Iterator[np.ndarray]:
        for path in paths:
            yield read_npz(path, [key])[key]

    return read


def matrix_blocks(matrix: np.ndarray, rows: int) -> Callable[[], Iterator[np.ndarray]]:
    """A reader of an in-memory (G, N) matrix in blocks of `rows` features (tests)."""

    def read() -> Iterator[np.ndarray]:
        for start in range(0, len(matrix), rows):
            yield matrix[start : start + rows]

    return read
