"""How many surrogate variables: Buja & Eyuboglu (1992) permutations, or Leek (2011)'s
asymptotic rule. Both read the features block by block and keep samples x samples matrices."""

from __future__ import annotations

import numpy as np

from ..constants import SVA_BE_SIGNIFICANCE, SVA_LEEK_SUBSETS, SVA_LEEK_THRESHOLDS
from ..rmath.permute import RowPermuter
from .blocks import FeatureBlocks
from .linear import basis, crossprod, eigen_desc, residuals

EIGEN_ZERO = 1e-9  # eigenvalues this small relative to the largest are zero (the design's span)


def variance_shares(cross: np.ndarray, ndf: int) -> np.ndarray:
    """Share of the residual variance of each of the first `ndf` components (d_i^2 / sum)."""
    values = np.clip(eigen_desc(cross)[0][:ndf], 0, None)
    return values / values.sum()


def num_sv_be(blocks: FeatureBlocks, design: np.ndarray, seed: int, permutations: int = 20) -> dict:
    """Buja & Eyuboglu's permutation count of significant residual components (sva num.sv "be").

    The residuals of every feature on `design` give the variance share of each component
    (eigenvalues of the N x N residual cross-product); each of `permutations` rounds permutes
    every feature's residuals across samples independently (R's ``sample`` stream after
    ``set.seed(seed)``, feature by feature in input order), takes residuals again and records
    the shares. Component i's p-value is the share of rounds with a permuted share at least
    the observed, made non-decreasing in i; the count is the number with p <= 0.1.

    Parameters
    ----------
    blocks : the features, block by block; design : (N, P) full design.

    Returns
    -------
    {"n": count, "pvalues": (ndf,), "observed": (ndf,) shares, "permuted": (B, ndf)}
    """
    q = basis(design)
    n = design.shape[0]
    ndf = n - q.shape[1]
    observed = variance_shares(crossprod(blocks(), lambda y: residuals(y, q)), ndf)
    rng = RowPermuter(seed)
    permuted = np.empty((permutations, ndf))
    for b in range(permutations):

        def shuffled(y: np.ndarray) -> np.ndarray:
            res = residuals(y, q)
            res = np.take_along_axis(res, rng.permutations(len(res), n), axis=1)
            return residuals(res, q)

        permuted[b] = variance_shares(crossprod(blocks(), shuffled), ndf)
    pvalues = np.maximum.accumulate((permuted >= observed).mean(axis=0))
    return {
        "n": int(np.sum(pvalues <= SVA_BE_SIGNIFICANCE)),
        "pvalues": pvalues,
        "observed": observed,
        "permuted": permuted,
        "uniforms_used": rng.uniforms_used,
    }


def num_sv_leek(blocks: FeatureBlocks, design: np.ndarray) -> dict:
    """Leek (2011)'s asymptotic count of components (sva num.sv "leek").

    On the first j/10 of the features (j = 1..10, input order, m_j features): the residual
    cross-product over m_j less the noise level (smallest eigenvalue of the raw cross-product
    over m_j) times the residual projection; its eigenvalues above a m_j^(-1/3) N count as
    components, for 100 thresholds a in [0, 2]. The thresholds kept are those past the first
    rise of the variance of the counts across j where that variance settles; the count is
    the most frequent count over them on all features (j = 10). Eigenvalues below 1e-9 of the
    largest are zero (the design's span), so the counts do not depend on rounding.

    Returns
    -------
    {"n": count, "counts": (100, 10) counts by threshold and subset}
    """
    q = basis(design)
    n = design.shape[0]
    proj = np.eye(n) - q @ q.T
    m = sum(len(b) for b in blocks())
    step = m // SVA_LEEK_SUBSETS
    if step == 0:
        return {"n": 0, "counts": np.zeros((SVA_LEEK_THRESHOLDS, SVA_LEEK_SUBSETS), dtype=int)}
    raw, res = _prefix_crossprods(blocks, q, [step * (j + 1) for j in range(SVA_LEEK_SUBSETS)])
    a = np.linspace(0, 2, SVA_LEEK_THRESHOLDS)
    counts = np.empty((SVA_LEEK_THRESHOLDS, SVA_LEEK_SUBSETS), dtype=int)
    for j in range(SVA_LEEK_SUBSETS):
        rows = step * (j + 1)
        sigbar = eigen_desc(raw[j])[0][-1] / rows
        values = eigen_desc(res[j] / rows - proj * sigbar)[0]
        values[np.abs(values) <= EIGEN_ZERO * np.abs(values).max()] = 0.0  # rounding, not signal
        thresholds = a * rows ** (-1 / 3) * n
        counts[:, j] = (values[None, :] > thresholds[:, None]).sum(axis=1)
    return {"n": _stable_count(counts), "counts": counts}


def _prefix_crossprods(blocks: FeatureBlocks, q: np.ndarray, stops: list[int]) -> tuple[list, list]:
    """Raw and residual cross-products over the first `stops[j]` features, for every j."""
    n = q.shape[0]
    raw_total, res_total = np.zeros((n, n)), np.zeros((n, n))
    raw, res = [], []
    seen = 0
    for block in blocks():
        start = 0
        while start < len(block):
            target = next((s for s in stops if s > seen), None)
            take = len(block) - start if target is None else min(len(block) - start, target - seen)
            part = block[start : start + take]
            raw_total += part.T @ part
            r = residuals(part, q)
            res_total += r.T @ r
            seen += take
            start += take
            if seen in stops and len(raw) < stops.index(seen) + 1:
                raw.append(raw_total.copy())
                res.append(res_total.copy())
    return raw, res


def _smallest_spread(subsets: int) -> float:
    """Variance (n - 1 denominator) of `subsets` counts of which one differs by one."""
    return float(np.var([0] * (subsets - 1) + [1], ddof=1))


def _stable_count(counts: np.ndarray) -> int:
    """The count over the thresholds where it is stable across the subsets (see num_sv_leek)."""
    spread = counts.var(axis=1, ddof=1)
    # the spread at a = 0 is the baseline; eigenvalues in the design's span are zero, not
    # rounding noise of either sign, so a count is stable there: the baseline is then the
    # smallest spread a count can have (one subset off by one)
    first = max(spread[0], _smallest_spread(counts.shape[1]))
    k = len(spread)
    bump = int(np.argmax(spread > 2 * first))  # first rise (0 when none)
    after = np.where(np.arange(k) <= bump, np.inf, spread)
    start = int(np.argmax(after < 0.5 * first))  # settled again (0 when never)
    finish = int(np.argmax(np.where(np.arange(k) <= start, 0, spread) > first))
    finish = k - 1 if finish == 0 else finish
    window = counts[start : finish + 1, -1]
    values, freq = np.unique(window, return_counts=True)
    return int(values[np.argmax(freq)])
