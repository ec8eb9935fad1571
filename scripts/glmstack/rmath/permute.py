"""R's row-by-row permutations, ``t(apply(x, 1, sample))``, reproduced without R, fast.

``RowPermuter(seed)`` continues one stream after R's ``set.seed(seed)`` (default kinds:
Mersenne-Twister, Rejection sampling); ``permutations(rows, n)`` returns the (rows, n)
0-based index permutations that ``sample.int(n)`` would return for ``rows`` successive
rows, so ``x[i, perm[i]]`` is R's ``sample(x[i, ])``.

R's ``sample.int(n)`` (without replacement, size n > n/2, so not the hashed version) keeps
a pool ``0..n-1``; draw i takes ``j = R_unif_index(n - i)``, outputs ``pool[j]`` and moves
the pool's last element into slot j. ``R_unif_index(dn)`` (rejection sampling, R >= 3.6):
``bits = ceil(log2(dn))``; draw ``v = floor(65536 u) & (2^bits - 1)`` from one uniform
``u`` (dn < 2^16) until ``v < dn``; ``dn = 1`` still consumes one uniform. With R's uniform
``u = w 2^-32`` of the 32-bit Mersenne-Twister output ``w``, ``floor(65536 u)`` is
``w >> 16`` exactly.

Vectorised: the raw words come from numpy's MT19937 (same generator, state set to R's
seeded state). Which word serves which draw is a sequential chain over the pool position
``k`` (which ``dn = n - k`` a word is tested against). The stream is cut into chunks that are
followed side by side, each from a guessed incoming ``k``; each chunk's guess is then set to
the outgoing ``k`` of the chunk before, until nothing changes. The fixed point is the
sequential answer (the first chunk's ``k = 0`` is exact, so each pass makes at least one more
chunk exact); chains from different ``k`` at one position merge within a few draws (the one
further back in the pool accepts whatever the other accepts, within one power of two), so a
few passes suffice.
"""

from __future__ import annotations

import numpy as np

from .random import MT_N, seeded_state

__all__ = ["RowPermuter"]

UNIF_HIGH_SHIFT = 16  # R rbits: floor(unif_rand() * 65536) is the word's top 16 bits
MAX_POOL = 1 << 16  # larger n need two uniforms per draw (R rbits): not implemented
ROWS_PER_BLOCK = 65536  # rows solved together by the fixed-point iteration
CHUNKS_WANTED = 256  # chunks followed side by side by the fixed-point iteration
MIN_CHUNK, MAX_CHUNK = 32, 8192  # uniforms per chunk


def _expected_words(n: int) -> float:
    """Expected uniforms per row: sum over dn of 2^bits(dn) / dn."""
    dn = np.arange(1, n + 1)
    return float(np.sum(np.exp2(np.ceil(np.log2(dn))) / dn))


class RowPermuter:
    """Successive ``sample.int(n)`` permutations after R's ``set.seed(seed)``."""

    def __init__(self, seed: int) -> None:
        self._bitgen = np.random.MT19937()
        self._bitgen.state = {"bit_generator": "MT19937", "state": {"key": seeded_state(seed), "pos": MT_N}}
        self._buffer = np.empty(0, dtype=np.uint32)  # top 16 bits of the words not yet used
        self._used = 0

    @property
    def uniforms_used(self) -> int:
        """Uniforms consumed so far (R's ``unif_rand`` calls since ``set.seed``)."""
        return self._used

    def _words(self, size: int) -> np.ndarray:
        if self._buffer.size < size:
            more = self._bitgen.random_raw(size - self._buffer.size + 65536).astype(np.uint32)
            self._buffer = np.concatenate([self._buffer, more >> UNIF_HIGH_SHIFT])
        return self._buffer

    def permutations(self, rows: int, n: int) -> np.ndarray:
        """(rows, n) int permutations of 0..n-1, R's ``sample.int(n)`` for each row in turn."""
        if not 1 <= n < MAX_POOL:
            raise ValueError(f"permutations of {n} elements: 1 <= n < {MAX_POOL} supported")
        out = np.empty((rows, n), dtype=np.int64)
        for start in range(0, rows, ROWS_PER_BLOCK):
            stop = min(rows, start + ROWS_PER_BLOCK)
            draws, used = self._block(stop - start, n)
            out[start:stop] = _pool_permutations(draws, n)
            self._buffer = self._buffer[used:]
            self._used += used
        return out

    def _block(self, rows: int, n: int) -> tuple[np.ndarray, int]:
        """The pool indices (rows, n) of `rows` successive rows and the uniforms they use."""
        dn = np.arange(n, 0, -1)
        masks = (np.exp2(np.ceil(np.log2(dn))).astype(np.int64) - 1).astype(np.uint32)
        size = int(rows * _expected_words(n) * 1.1) + 64 * n
        length = int(np.clip(size // CHUNKS_WANTED, MIN_CHUNK, MAX_CHUNK))
        while True:
            chunks = -(-size // length)
            words = self._words(chunks * length)[: chunks * length].reshape(chunks, length)
            accepted, values = _follow_chunks(words, dn, masks)
            flat = np.flatnonzero(accepted.ravel())
            if flat.size >= rows * n:
                last = flat[rows * n - 1]
                return values.ravel()[flat[: rows * n]].reshape(rows, n).astype(np.int64), int(last) + 1
            size = int(size * 1.25)


def _follow_chunks(words: np.ndarray, dn: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Accepted flags and masked draws (chunks, CHUNK) of the stream, starting at k = 0."""
    chunks, length = words.shape
    n = dn.size
    dn = dn.astype(np.uint32)
    incoming = np.zeros(chunks, dtype=np.intp)
    outgoing = np.zeros(chunks, dtype=np.intp)
    accepted = np.empty(words.shape, dtype=bool)
    values = np.empty(words.shape, dtype=np.uint32)
    active = np.arange(chunks)  # chunks whose incoming k changed: followed again
    while active.size:
        k = incoming[active]
        block = np.ascontiguousarray(words[active].T)  # (length, chunks): each step reads a row
        ok_all = np.empty(block.shape, dtype=bool)
        value_all = np.empty(block.shape, dtype=np.uint32)
        for s in range(length):
            value = np.bitwise_and(block[s], masks[k], out=value_all[s])
            ok = np.less(value, dn[k], out=ok_all[s])
            k += ok
            k[k == n] = 0
        accepted[active], values[active], outgoing[active] = ok_all.T, value_all.T, k
        guess = np.concatenate([[0], outgoing[:-1]])
        active = np.flatnonzero(guess != incoming)
        incoming = guess
    return accepted, values


def _pool_permutations(draws: np.ndarray, n: int) -> np.ndarray:
    """R's pool update for every row at once: output pool[j], then pool[j] = pool[last]."""
    rows = draws.shape[0]
    pool = np.tile(np.arange(n), (rows, 1))
    out = np.empty_like(draws)
    index = np.arange(rows)
    for k in range(n):
        j = draws[:, k]
        out[:, k] = pool[index, j]
        pool[index, j] = pool[:, n - 1 - k]
    return out
