"""Iteratively re-weighted surrogate variable estimation (Leek & Storey 2008, PNAS 105:18718).

Start: the leading eigenvectors of the residual cross-product of the full design. Each
iteration: per feature, the F-test p-value of the full design against the null design (both
with the current surrogate variables) gives the posterior probability that the feature is
associated with the variables of interest, and the F-test of the null design with the
surrogate variables against the null design alone the probability that it is associated
with the surrogate variables (one minus the local false discovery rate, `edge_lfdr`). Weight
= P(associated with the SVs) x (1 - P(associated with the variables of interest)); the
weighted features, centred per feature, give the next cross-product and its eigenvectors.
Two passes over the features per iteration (p-values; cross-product), each one block at a
time; the p-values and weights (one number per feature) are kept between them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import numpy as np

from .blocks import FeatureBlocks
from .lfdr import edge_lfdr
from .linear import basis, crossprod, eigen_desc, f_pvalues, residuals


def canonical_signs(vectors: np.ndarray) -> np.ndarray:
    """Eigenvectors with the sign that makes each one's largest-magnitude entry positive."""
    idx = np.argmax(np.abs(vectors), axis=0)
    signs = np.sign(vectors[idx, np.arange(vectors.shape[1])])
    return vectors * np.where(signs == 0, 1, signs)


def _weighted_centred(pieces: Iterator[np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    """Block -> its rows times their weights (the next piece), centred per feature."""

    def weighted(y: np.ndarray) -> np.ndarray:
        w = y * next(pieces)[:, None]
        return w - w.mean(axis=1, keepdims=True)

    return weighted


def irw_sva(blocks: FeatureBlocks, design: np.ndarray, null: np.ndarray, k: int, iterations: int = 5) -> dict:
    """k surrogate variables by iteratively re-weighted SVA (sva's method "irw").

    Parameters
    ----------
    blocks : the features (kept ones, analysis scale), block by block.
    design : (N, P) full design; null : (N, P0) null design nested in it.
    k : number of surrogate variables (>= 1); iterations : re-weightings (sva's B = 5).

    Returns
    -------
    {"sv": (N, k) unit-norm surrogate variables, "iterations": list of per-iteration
    summaries (mean weights, features with weight > 0.5, eigenvalue shares)}
    """
    q = basis(design)
    vectors = eigen_desc(crossprod(blocks(), lambda y: residuals(y, q)))[1]
    history = []
    for _ in range(iterations):
        sv = vectors[:, :k]
        full_b, null_b = np.hstack([design, sv]), np.hstack([null, sv])
        p_b, p_gam = [], []
        for y in blocks():
            p_b.append(f_pvalues(y, full_b, null_b))
            p_gam.append(f_pvalues(y, null_b, null))
        prob_b = 1 - edge_lfdr(np.concatenate(p_b))
        prob_gam = 1 - edge_lfdr(np.concatenate(p_gam))
        weights = prob_gam * (1 - prob_b)
        offsets = np.cumsum([0] + [len(p) for p in p_b])
        pieces = [weights[a:b] for a, b in itertools.pairwise(offsets)]
        values, vectors = eigen_desc(crossprod(blocks(), _weighted_centred(iter(pieces))))
        history.append(
            {
                "mean_weight": float(weights.mean()),
                "features_weight_above_half": int((weights > 0.5).sum()),
                "mean_prob_primary": float(prob_b.mean()),
                "mean_prob_surrogate": float(prob_gam.mean()),
                "variance_shares": (values[:k] / values.sum()).tolist(),
            }
        )
    return {"sv": canonical_signs(vectors[:, :k]), "iterations": history}
