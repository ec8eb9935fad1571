"""Gene blocks small enough to stay in the CPU cache.

The iterative steps (dispersion line search, IRLS) touch a handful of (genes x samples) arrays
at every iteration. Run on a whole shard, each pass streams them from memory, and two jobs
side by side compete for memory bandwidth; run block by block, a block's arrays stay in cache
for the whole search. Genes are fitted independently, so each gene's numbers are the same
whichever block it falls in.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, TypeVar

import numpy as np

BLOCK_ELEMENTS = 1 << 18  # 2 MiB per float64 (genes x samples) array

T = TypeVar("T")


def gene_blocks(n_genes: int, n_samples: int) -> list[slice]:
    """Consecutive row slices of about BLOCK_ELEMENTS counts each (one slice if all fit)."""
    rows = max(1, BLOCK_ELEMENTS // max(n_samples, 1))
    return [slice(start, min(start + rows, n_genes)) for start in range(0, n_genes, rows)]


def by_blocks(fit: Callable[[slice], T], n_genes: int, n_samples: int) -> T:
    """fit(block) for each gene block, the (dataclass of arrays) results stacked along genes."""
    blocks = gene_blocks(n_genes, n_samples)
    if len(blocks) <= 1:
        return fit(slice(0, n_genes))
    parts = [fit(block) for block in blocks]
    return dataclasses.replace(
        parts[0],
        **{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in dataclasses.fields(parts[0])},
    )


def rows_by_blocks(compute: Callable[[slice], np.ndarray], n_genes: int, n_samples: int) -> np.ndarray:
    """compute(block) for each gene block, an array whose rows are the block's genes, written
    into one array: an element-wise (genes x samples) expression then makes its temporaries a
    block at a time, in cache and in memory already mapped, not the whole shard's."""
    blocks = gene_blocks(n_genes, n_samples)
    if len(blocks) <= 1:
        return compute(slice(0, n_genes))
    first = compute(blocks[0])
    out = np.empty((n_genes, *first.shape[1:]), dtype=first.dtype)
    out[blocks[0]] = first
    for block in blocks[1:]:
        out[block] = compute(block)
    return out
