"""Plots of a reverse analysis: QQ plot and histograms of naive and calibrated p-values, and the
trait against the top features (added-variable plots with the robust line)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .plots import BACKGROUND, PALETTE, SIGNIFICANT, _empty, _figure, _finish, plain_text

NAIVE, CALIBRATED = "#d62728", PALETTE[0]


@plain_text
def qq_plot(naive: np.ndarray, calibrated: np.ndarray, path: str | Path, title: str) -> None:
    """-log10 p against the uniform's expected -log10 p, naive and calibrated, with the diagonal."""
    fig = _figure(6.0, 6.0)
    ax = fig.add_subplot()
    top = 0.0
    for pvalue, colour, label in ((naive, NAIVE, "naive (t on n - p df)"), (calibrated, CALIBRATED, "calibrated (permutations)")):
        p = np.sort(pvalue[np.isfinite(pvalue)])
        if p.size == 0:
            continue
        expected = -np.log10((np.arange(1, p.size + 1) - 0.5) / p.size)
        observed = -np.log10(np.maximum(p, 1e-300))
        ax.scatter(expected, observed, s=6, color=colour, label=f"{label}", alpha=0.8, linewidths=0)
        top = max(top, float(expected.max()), float(observed.max()))
    if top == 0.0:
        _empty(ax, "no p-values")
    else:
        ax.plot([0, top], [0, top], color=BACKGROUND, linewidth=1, linestyle="--", label="uniform")
        ax.legend(fontsize=8, loc="upper left")
    ax.set_xlabel("expected -log10 p (uniform)")
    ax.set_ylabel("observed -log10 p")
    ax.set_title(title)
    _finish(fig, path)


@plain_text
def pvalue_histograms(naive: np.ndarray, calibrated: np.ndarray, path: str | Path, title: str) -> None:
    """Side-by-side histograms (0.025 bins) of the naive and the calibrated p-values."""
    fig = _figure(10.0, 4.5)
    bins = np.linspace(0.0, 1.0, 41)
    for i, (pvalue, colour, label) in enumerate(((naive, NAIVE, "naive"), (calibrated, CALIBRATED, "calibrated"))):
        ax = fig.add_subplot(1, 2, i + 1)
        p = pvalue[np.isfinite(pvalue)]
        if p.size == 0:
            _empty(ax, "no p-values")
        else:
            ax.hist(p, bins=bins, color=colour, edgecolor="white", linewidth=0.4)
            ax.axhline(p.size / 40, color=BACKGROUND, linestyle="--", linewidth=1)
            ax.set_xlim(0, 1)
        ax.set_xlabel(f"{label} p-value")
        ax.set_ylabel("features")
        ax.set_title(f"{title}: {label}", fontsize=10)
    _finish(fig, path)


@plain_text
def added_variable_plots(
    trait_resid: np.ndarray,
    feature_resid: np.ndarray,
    slopes: np.ndarray,
    names: list[str],
    padj: np.ndarray,
    alpha: float,
    trait: str,
    path: str | Path,
) -> None:
    """Trait against each top feature, both adjusted for the covariates (least-squares residuals),
    with the robust fit's slope as a line through the origin.

    trait_resid : (N,), or (K, N) one per feature; feature_resid : (K, N) (NaN: a sample the
    feature misses, not drawn); slopes : (K,) rlm estimates; padj : (K,).
    """
    trait_resid = np.broadcast_to(trait_resid, np.shape(feature_resid))
    k = len(names)
    cols = min(4, max(k, 1))
    rows = max(1, int(np.ceil(k / cols)))
    fig = _figure(3.2 * cols, 3.0 * rows)
    if k == 0:
        _empty(fig.add_subplot(), "no feature was tested")
    for i in range(k):
        ax = fig.add_subplot(rows, cols, i + 1)
        x = feature_resid[i]
        colour = SIGNIFICANT if np.isfinite(padj[i]) and padj[i] < alpha else CALIBRATED
        ax.scatter(x, trait_resid[i], s=12, color=colour, alpha=0.8, linewidths=0)
        finite = x[np.isfinite(x)]
        span = np.array([finite.min(), finite.max()]) if finite.size else np.zeros(2)
        if np.isfinite(slopes[i]):
            ax.plot(span, slopes[i] * span, color="#333333", linewidth=1.2)
        ax.set_title(f"{names[i]}\npadj {padj[i]:.3g}", fontsize=8)
        ax.tick_params(labelsize=7)
        if i % cols == 0:
            ax.set_ylabel(f"{trait} | covariates", fontsize=8)
        ax.set_xlabel("feature | covariates", fontsize=8)
    _finish(fig, path)
