"""QC and result plots (PNG): one function per plot, each writes its figure to a path.

Figures are made with matplotlib's object API (`Figure` + Agg canvas), never pyplot, so
no global state or GUI backend is involved and many figures in one process leak nothing.
The statistics come in as arrays; the only computations here are what a plot needs to
place things (axis ranges, the fitted curve of a count plot, which variable to show).
pandas, formulaic and scipy are imported inside the functions that use them, so that the study,
analysis and contrast plots start without them (pandas alone is 0.2 s).
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib import cbook, rc_context, rcParams
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, NullLocator

from ..io.files import atomic_write

if TYPE_CHECKING:
    import pandas as pd

    from ..design.formula import Design
    from ..design.model import Model

DPI = 100
# zlib level of the PNGs: 1 writes files 10-50 % larger than the default 6 in a third of the time
# (the distance heatmap of 1000 samples, a million noisy cells: 0.3 s -> 0.1 s)
PNG_COMPRESSION = 1
SIGNIFICANT = "#c0392b"  # padj < alpha
BACKGROUND = "#9a9a9a"  # everything else
TREND = "#d62728"
FINAL = "#1f77b4"
PALETTE = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
]
PALETTE_20 = PALETTE + [
    "#aec7e8",
    "#ffbb78",
    "#98df8a",
    "#ff9896",
    "#c5b0d5",
    "#c49c94",
    "#f7b6d2",
    "#c7c7c7",
    "#dbdb8d",
    "#9edae5",
]  # matplotlib tab10 + the light half of tab20
MAX_DODGE = 4  # colour levels that get their own boxes within each level of the x factor
MAX_LABELS = 10  # genes named on MA and volcano plots
# samples named on a per-sample axis; beyond, names would overlap (the tables have them) and
# each tick label costs a text layout: the axis shows sample positions and the figure keeps its size
MAX_SAMPLE_LABELS = 60
PSEUDOCOUNT = 0.5  # DESeq2 plotCounts: added before the log axis
CURVE_POINTS = 200


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def plain_text(plot: Callable) -> Callable:
    """Decorate a plot function: every text it makes is shown as written. Ids and levels are
    data, and a `$` in a gene or sample id must not switch matplotlib to math mode (or fail to
    parse as math). Texts read the setting when they are made, tick labels while drawing: both
    happen inside the function."""

    @functools.wraps(plot)
    def plot_plainly(*args, **kwargs):
        with rc_context({"text.parse_math": False}):
            return plot(*args, **kwargs)

    plot_plainly.plain_text = True
    return plot_plainly


def _save(fig: Figure, path: str | Path) -> None:
    """Write a PNG atomically (io.files.atomic_write)."""
    with atomic_write(path) as fh:
        fig.savefig(fh, format="png", dpi=DPI, metadata={"Software": None},
                    pil_kwargs={"compress_level": PNG_COMPRESSION})


def _finish_single(fig: Figure, path: str | Path) -> None:
    """`_save` a one-panel figure with fixed margins (inches: room for tick labels of up to
    six characters and the axis labels): tight_layout would draw the figure twice."""
    width, height = fig.get_size_inches()
    fig.subplots_adjust(left=0.95 / width, right=1 - 0.25 / width, bottom=0.65 / height, top=1 - 0.45 / height)
    _save(fig, path)


def _finish(fig: Figure, path: str | Path, **tight_layout) -> None:
    """Tight layout, then `_save`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "tight layout not applied" for crowded figures: harmless
        fig.tight_layout(**tight_layout)
    _save(fig, path)


def _empty(ax, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="0.4")
    ax.set_xticks([])
    ax.set_yticks([])


def _colours(groups: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """One colour per distinct group value, in order of first appearance."""
    levels = list(dict.fromkeys(str(g) for g in groups))
    palette = PALETTE if len(levels) <= len(PALETTE) else PALETTE_20
    lookup = {lv: palette[i % len(palette)] for i, lv in enumerate(levels)}
    return [lookup[str(g)] for g in groups], lookup


def _numeric(values: Sequence) -> np.ndarray | None:
    """The values as floats when they all are numbers with more than 5 distinct values.

    A number is what pandas.to_numeric reads as one (the study plots do without pandas, 0.2 s
    of their start): float()'s text less its extras, digit-group underscores and non-ASCII digits.
    """
    numbers = np.empty(len(values))
    for i, value in enumerate(values):
        text = str(value)
        if "_" in text or not text.isascii():
            return None
        try:
            numbers[i] = float(text)
        except ValueError:
            return None
    if np.isnan(numbers).any() or np.unique(numbers).size <= 5:
        return None
    return numbers


# ---------------------------------------------------------------- study-wide


def _sample_axis(ax, axis: str, positions: np.ndarray, samples: Sequence[str], rotation: int = 0) -> None:
    """Name the samples on an axis (x or y), or for more than MAX_SAMPLE_LABELS say how many."""
    n = len(samples)
    set_ticks, set_label = (ax.set_xticks, ax.set_xlabel) if axis == "x" else (ax.set_yticks, ax.set_ylabel)
    if n <= MAX_SAMPLE_LABELS:
        set_ticks(positions, [str(s) for s in samples], rotation=rotation, fontsize=max(5, min(9, 300 / max(n, 1))))
    else:
        set_ticks([])
        set_label(f"{n} samples (names in the tables)")


@plain_text
def size_factor_plot(
    samples: Sequence[str], size_factors: np.ndarray, library_sizes: np.ndarray, path: str | Path
) -> None:
    """Bars per sample: size factor (left) and library size in millions of reads (right)."""
    n = len(samples)
    many = n > MAX_SAMPLE_LABELS
    fig = _figure(10, 6.0 if many else max(3.5, 0.25 * n + 1.5))
    left, right = fig.subplots(1, 2, sharey=True)
    y = np.arange(n)
    for ax, values, colour in ((left, size_factors, PALETTE[0]), (right, np.asarray(library_sizes) / 1e6, PALETTE[1])):
        if many:  # a point per sample instead of a bar (a patch) per sample
            ax.scatter(values, y, s=6, c=colour, linewidths=0, rasterized=True)
            ax.set_xlim(left=0)
        else:
            ax.barh(y, values, color=colour)
    left.axvline(1.0, color="0.3", linestyle="--", linewidth=0.8)
    left.set_xlabel("size factor")
    _sample_axis(left, "y", y, samples)
    left.set_ylim(n - 0.5, -0.5)  # the first sample on top
    right.set_xlabel("library size (million counts)")
    fig.suptitle("Size factors and library sizes")
    _finish(fig, path)


@plain_text
def pca_plot(
    scores: np.ndarray,
    percent_var: np.ndarray,
    samples: Sequence[str],
    groups: Sequence[str],
    colour_by: str,
    path: str | Path,
    n_genes: int,
    what: str = "VST counts",
) -> None:
    """PC1 against PC2 of the VST (or of `what`), coloured by a sample column, beside a scree plot."""
    fig = _figure(10, 5.5)
    grid = fig.add_gridspec(1, 3)
    ax = fig.add_subplot(grid[0, :2])
    scree = fig.add_subplot(grid[0, 2])
    n = len(samples)
    if scores.shape[1] < 2:
        _empty(ax, "fewer than two principal components")
    else:
        numbers = _numeric(groups)
        if numbers is not None:
            points = ax.scatter(
                scores[:, 0], scores[:, 1], c=numbers, cmap="viridis", s=45, edgecolor="k", linewidth=0.4
            )
            fig.colorbar(points, ax=ax, label=colour_by)
        else:
            colours, lookup = _colours(groups)
            ax.scatter(scores[:, 0], scores[:, 1], c=colours, s=45, edgecolor="k", linewidth=0.4)
            for level, colour in lookup.items():
                ax.scatter([], [], c=colour, label=level, s=45, edgecolor="k", linewidth=0.4)
            ax.legend(title=colour_by, fontsize=8, title_fontsize=8, loc="best", framealpha=0.8)
        if n <= 40:
            for name, x, yv in zip(samples, scores[:, 0], scores[:, 1]):
                ax.annotate(
                    str(name), (x, yv), fontsize=7, xytext=(3, 3), textcoords="offset points", color="0.25"
                )
        ax.set_xlabel(f"PC1: {100 * percent_var[0]:.1f}% variance")
        ax.set_ylabel(f"PC2: {100 * percent_var[1]:.1f}% variance")
        unit = "genes" if what == "VST counts" else "features"
        ax.set_title(f"PCA of {what} ({n_genes} most variable {unit})")
    k = min(10, percent_var.size)
    scree.bar(np.arange(1, k + 1), 100 * percent_var[:k], color=PALETTE[0])
    scree.set_xlabel("principal component")
    scree.set_ylabel("% of variance")
    scree.set_xticks(np.arange(1, k + 1))
    scree.set_title("Variance per component")
    _finish(fig, path)


@plain_text
def distance_heatmap(
    distances: np.ndarray,
    linkage: np.ndarray | None,
    samples: Sequence[str],
    groups: Sequence[str],
    colour_by: str,
    path: str | Path,
) -> None:
    """Sample-to-sample Euclidean distances of the VST, rows and columns in clustering order.

    linkage : scipy linkage matrix (complete linkage) or None for no clustering; its
    dendrogram is drawn above the heatmap and a strip shows the colouring column.
    """
    from scipy.cluster.hierarchy import dendrogram

    n = len(samples)
    size = max(6.0, min(16.0, 0.28 * n + 3.5))
    fig = _figure(size + 1.5, size + 1.0)
    grid = fig.add_gridspec(
        3, 2, height_ratios=[1.2, 0.25, size], width_ratios=[size, 0.35], hspace=0.02, wspace=0.05
    )
    tree = fig.add_subplot(grid[0, 0])
    strip = fig.add_subplot(grid[1, 0])
    heat = fig.add_subplot(grid[2, 0])
    bar = fig.add_subplot(grid[2, 1])
    order = np.arange(n)
    if linkage is not None and n >= 2:
        info = dendrogram(linkage, ax=tree, no_labels=True, color_threshold=0, above_threshold_color="0.3")
        order = np.asarray(info["leaves"])
        tree.set_xlim(0, 10 * n)  # scipy puts leaf i at x = 10 i + 5: align with the heatmap cells
    tree.set_axis_off()
    colours, lookup = _colours([groups[i] for i in order])
    from matplotlib.colors import to_rgb

    strip.imshow(np.array([[to_rgb(c) for c in colours]]), aspect="auto")
    strip.set_xticks([])
    strip.set_yticks([0], [colour_by], fontsize=8)
    image = heat.imshow(
        distances[np.ix_(order, order)], cmap="Blues_r", aspect="auto", interpolation="nearest"
    )
    names = [str(samples[i]) for i in order]
    _sample_axis(heat, "x", np.arange(n), names, rotation=90)
    _sample_axis(heat, "y", np.arange(n), names)
    fig.colorbar(image, cax=bar, label="Euclidean distance (VST)")
    handles = [strip.scatter([], [], c=c, marker="s", label=lv) for lv, c in lookup.items()]
    if len(handles) <= 12:
        tree.legend(
            handles=handles, title=colour_by, fontsize=7, title_fontsize=7, loc="upper right", frameon=False
        )
    fig.suptitle("Sample-to-sample distances")
    margin = 0.18 if n <= MAX_SAMPLE_LABELS else 0.08  # room for the sample names, where written
    fig.subplots_adjust(left=margin, bottom=margin, right=0.92, top=0.94)
    _save(fig, path)


# ---------------------------------------------------------------- per analysis


@plain_text
def dispersion_plot(
    base_mean: np.ndarray,
    disp_gene_est: np.ndarray,
    disp_fit: np.ndarray,
    dispersion: np.ndarray,
    disp_outlier: np.ndarray,
    path: str | Path,
    title: str,
) -> None:
    """DESeq2 plotDispEsts: gene-wise (black), trend (red), final MAP (blue), outliers ringed.

    Log-log axes; gene-wise estimates far below the others are drawn at the bottom edge as
    triangles, as DESeq2 does. All-zero genes (NaN) are left out.
    """
    fig = _figure(7.5, 5.5)
    ax = fig.add_subplot()
    use = np.isfinite(disp_gene_est) & (base_mean > 0)
    if not use.any():
        _empty(ax, "no gene with counts")
    else:
        x = base_mean[use]
        gene, fit, final = disp_gene_est[use], disp_fit[use], dispersion[use]
        outlier = np.nan_to_num(disp_outlier[use]) == 1
        positive = gene[gene > 0]
        floor = 10 ** (np.floor(np.log10(np.min(positive))) - 0.1) if positive.size else 1e-8
        floor = max(floor, 10 ** (np.log10(np.median(final)) - 6))
        low = gene < floor
        size = 4 if x.size > 2000 else 8
        ax.scatter(
            x[~low], gene[~low], s=size, c="k", linewidths=0, label="gene-wise estimate", rasterized=True
        )
        ax.scatter(
            x[low], np.full(low.sum(), floor), s=size * 2, c="k", marker="v", linewidths=0, rasterized=True
        )
        ax.scatter(
            x[~outlier], final[~outlier], s=size, c=FINAL, linewidths=0, label="final (MAP)", rasterized=True
        )
        ax.scatter(
            x[outlier],
            final[outlier],
            s=size * 6,
            facecolors="none",
            edgecolors=FINAL,
            linewidths=0.8,
            label="dispersion outlier (gene-wise kept)",
        )
        order = np.argsort(x)
        ax.plot(x[order], fit[order], color=TREND, linewidth=1.8, label="fitted trend")
        _plain_log_scale(ax, "x")
        _plain_log_scale(ax, "y")
        ax.set_ylim(bottom=floor * 0.8)
        ax.legend(fontsize=8, loc="lower left", markerscale=1.5)
    ax.set_xlabel("mean of normalised counts")
    ax.set_ylabel("dispersion")
    ax.set_title(title)
    _finish_single(fig, path)


def box_statistics(blocks: Iterable[np.ndarray]) -> np.ndarray:
    """Each column's minimum, quartiles and maximum over the rows of `blocks` that are finite.

    Parameters
    ----------
    blocks : (G_b, N) arrays whose rows stack to (G, N), e.g. one per shard; a row with a
        non-finite value is left out (Cook's distances of all-zero genes). Single-precision
        blocks are gathered and sorted as they are.

    Returns
    -------
    (5, N): min, 25 %, 50 %, 75 %, max: the numbers of matplotlib's boxplot with whis=(0, 100)
    (cbook.boxplot_stats: np.percentile, linear interpolation) of the values as doubles. NaN
    where no row is finite.

    Notes
    -----
    The finite rows are gathered once into an (N, G) buffer (a column's values contiguous) and
    each column is sorted in place, which numpy does several times faster than np.percentile
    partitions it; the quartiles are then read off the sorted values (`sorted_percentiles`).
    """
    blocks = [np.asarray(block) for block in blocks]  # memory maps stay maps
    n = blocks[0].shape[1] if blocks else 0
    single = bool(blocks) and all(block.dtype == np.float32 for block in blocks)
    columns = np.empty((n, sum(block.shape[0] for block in blocks)), dtype=np.float32 if single else float)
    filled = 0
    for block in blocks:
        keep = np.all(np.isfinite(block), axis=1)
        finite = block if keep.all() else block[keep]
        columns[:, filled : filled + finite.shape[0]] = finite.T
        filled += finite.shape[0]
    if filled == 0:
        return np.full((5, n), np.nan)
    columns = columns[:, :filled]
    columns.sort(axis=1)
    return sorted_percentiles(columns, [0, 25, 50, 75, 100])


def sorted_percentiles(rows: np.ndarray, percents: Sequence[float]) -> np.ndarray:
    """np.percentile(rows, percents, axis=1) (linear interpolation) of rows already sorted, (R, M)
    with M >= 1, as doubles: the same virtual index, neighbours and interpolation (numpy's
    _lerp, which interpolates from the upper neighbour past the midpoint), so the same numbers."""
    m = rows.shape[1]
    out = np.empty((len(percents), rows.shape[0]))
    for k, percent in enumerate(percents):
        index = (m - 1) * (percent / 100)
        lower = min(int(np.floor(index)), m - 1)
        gamma = index - lower
        below = rows[:, lower].astype(float)
        above = rows[:, min(lower + 1, m - 1)].astype(float)
        difference = above - below
        out[k] = above - difference * (1 - gamma) if gamma >= 0.5 else below + difference * gamma
    return out


@plain_text
def cooks_boxplot(
    cooks: np.ndarray | Sequence[np.ndarray],
    samples: Sequence[str],
    cutoff: float | None,
    path: str | Path,
    title: str,
) -> None:
    """log10 Cook's distance per sample over all genes (box = quartiles, whiskers = range, as
    DESeq2's vignette draws them: boxplot(log10(assays(dds)[["cooks"]]), range = 0)).

    cooks : (G, N), or its (G_b, N) row blocks (one per shard: not stacked); NaN rows (all-zero
    genes) are left out. cutoff : DESeq2's F(0.99; p, m - p) outlier threshold, drawn as a
    dashed line (None: not drawn).
    """
    n = len(samples)
    fig = _figure(max(6.0, min(16.0, 0.3 * n + 2.5)), 5.0)
    ax = fig.add_subplot()
    stats = box_statistics([cooks] if isinstance(cooks, np.ndarray) else cooks)
    if stats.shape[1] == 0 or np.isnan(stats[0, 0]):
        _empty(ax, "no Cook's distances (no gene with counts)")
    else:
        # per sample; the quantiles of the distances, then their log10 (the logarithm of 20 million
        # distances cost more than the plot; it is monotone, so only the interpolation between two
        # neighbouring distances differs, by less than a pixel)
        low, q1, median, q3, high = np.log10(np.maximum(stats, np.finfo(float).tiny))
        x = np.arange(1, n + 1)
        if n <= MAX_SAMPLE_LABELS:
            stats = [
                {"whislo": a, "q1": b, "med": c, "q3": d, "whishi": e, "fliers": []}
                for a, b, c, d, e in zip(low, q1, median, q3, high)
            ]
            ax.bxp(stats, positions=x, widths=0.6, patch_artist=True, boxprops={"facecolor": "#cfe0f1"},
                   medianprops={"color": "k"})
        else:  # the same box and whiskers as three line collections, not artists per sample
            ax.vlines(x, low, high, color="0.35", linewidth=0.5)
            ax.vlines(x, q1, q3, color="#7fa7d1", linewidth=max(0.8, 600 / n))
            ax.scatter(x, median, marker="_", c="k", s=max(4.0, 2000 / n), linewidths=0.8)
            ax.set_xlim(0, n + 1)
        _sample_axis(ax, "x", x, samples, rotation=90)
        if cutoff is not None and np.isfinite(cutoff):
            ax.axhline(
                np.log10(cutoff),
                color=SIGNIFICANT,
                linestyle="--",
                linewidth=1,
                label=f"outlier cutoff F(0.99) = {cutoff:.2f}",
            )
            ax.legend(fontsize=8, loc="lower right")
    ax.set_ylabel("log10 Cook's distance")
    ax.set_title(title)
    _finish(fig, path)


def _label_genes(ax, x: np.ndarray, y: np.ndarray, names: Sequence[str]) -> None:
    """Name points, with labels spread vertically so that they do not overlap (10 px apart)."""
    if len(names) == 0:
        return
    ax.autoscale_view()
    points = ax.transData.transform(np.column_stack([x, y]))
    order = np.argsort(points[:, 1])
    target = points[order, 1].copy()
    gap = 10.0
    for i in range(1, target.size):  # push up from the lowest label
        target[i] = max(target[i], target[i - 1] + gap)
    top = ax.transAxes.transform((0, 1))[1] - gap
    if target[-1] > top:  # then pull the column down from the top edge if it overflowed
        target[-1] = top
        for i in range(target.size - 2, -1, -1):
            target[i] = min(target[i], target[i + 1] - gap)
    scale = 72.0 / ax.figure.dpi  # pixels -> points for the offsets
    (left, _), (right, _) = ax.transAxes.transform([(0, 0), (1, 0)])
    for k, i in enumerate(order):
        dy = (target[k] - points[i, 1]) * scale
        on_left = points[i, 0] > left + 0.7 * (right - left)  # near the right edge: label to the left
        ax.annotate(
            str(names[i]),
            (x[i], y[i]),
            fontsize=7,
            xytext=(-12 if on_left else 12, dy),
            textcoords="offset points",
            va="center",
            ha="right" if on_left else "left",
            arrowprops={"arrowstyle": "-", "color": "0.4", "linewidth": 0.5, "shrinkA": 0, "shrinkB": 2},
        )


@plain_text
def ma_plot(
    base_mean: np.ndarray,
    lfc: np.ndarray,
    padj: np.ndarray,
    alpha: float,
    labels: np.ndarray,
    names: Sequence[str],
    path: str | Path,
    title: str,
    lfc_threshold: float = 0.0,
    x_label: str | None = None,
    y_label: str = "log2 fold change",
) -> None:
    """DESeq2 plotMA: log2 fold change against mean normalised count, padj < alpha in red.

    labels : indices of the genes to name. Points beyond the y range (the 0.1 %-99.9 %
    quantiles, widened to at least +-1) are drawn at the edge as triangles.
    x_label : None for counts (mean of normalised counts, log axis); else the label of a
    log-scale mean drawn on a linear axis (limma's AveExpr).
    y_label : the fold changes' label (the shrunken ones say so).
    """
    fig = _figure(7.5, 5.5)
    ax = fig.add_subplot()
    use = (np.isfinite(base_mean) if x_label else base_mean > 0) & np.isfinite(lfc)
    if not use.any():
        _empty(ax, "no gene with a fold change")
    else:
        with np.errstate(invalid="ignore"):
            significant = np.nan_to_num(padj, nan=1.0) < alpha
        lim = max(1.0, float(np.quantile(np.abs(lfc[use]), 0.999)) * 1.1)
        shown = np.clip(lfc, -lim, lim)
        edge = use & (np.abs(lfc) > lim)
        size = 4 if use.sum() > 2000 else 8
        for mask, colour, label in (
            (use & ~significant, BACKGROUND, "not significant"),
            (use & significant, SIGNIFICANT, f"padj < {alpha:g} ({int((use & significant).sum())})"),
        ):
            inner = mask & ~edge
            ax.scatter(
                base_mean[inner], shown[inner], s=size, c=colour, linewidths=0, label=label, rasterized=True
            )
            for sign, marker in ((1, "^"), (-1, "v")):
                outer = mask & edge & (np.sign(lfc) == sign)
                ax.scatter(
                    base_mean[outer],
                    shown[outer],
                    s=size * 3,
                    c=colour,
                    linewidths=0,
                    marker=marker,
                    rasterized=True,
                )
        ax.axhline(0, color="0.2", linewidth=0.8)
        if lfc_threshold > 0:
            for sign in (-1, 1):
                ax.axhline(sign * lfc_threshold, color="0.2", linewidth=0.8, linestyle="--")
        if x_label is None:
            _plain_log_scale(ax, "x")
        ax.set_ylim(-lim * 1.05, lim * 1.05)
        chosen = np.asarray([i for i in labels if use[i]], dtype=int)
        _label_genes(ax, base_mean[chosen], shown[chosen], [names[i] for i in chosen])
        ax.legend(fontsize=8, loc="upper right", markerscale=2)
    ax.set_xlabel(x_label or "mean of normalised counts")
    ax.set_ylabel(y_label)
    ax.set_title(title)
    _finish_single(fig, path)


@plain_text
def volcano_plot(
    lfc: np.ndarray,
    pvalue: np.ndarray,
    padj: np.ndarray,
    alpha: float,
    labels: np.ndarray,
    names: Sequence[str],
    path: str | Path,
    title: str,
) -> None:
    """-log10 p-value against log2 fold change; padj < alpha in red; p = 0 drawn at the top."""
    fig = _figure(7.5, 5.5)
    ax = fig.add_subplot()
    use = np.isfinite(lfc) & np.isfinite(pvalue)
    if not use.any():
        _empty(ax, "no gene with a p-value")
    else:
        positive = pvalue[use & (pvalue > 0)]
        smallest = float(np.min(positive)) if positive.size else 1e-300
        with np.errstate(divide="ignore", invalid="ignore"):
            y = -np.log10(np.maximum(pvalue, smallest))
            significant = np.nan_to_num(padj, nan=1.0) < alpha
        size = 4 if use.sum() > 2000 else 8
        ax.scatter(
            lfc[use & ~significant],
            y[use & ~significant],
            s=size,
            c=BACKGROUND,
            linewidths=0,
            label="not significant",
            rasterized=True,
        )
        ax.scatter(
            lfc[use & significant],
            y[use & significant],
            s=size,
            c=SIGNIFICANT,
            linewidths=0,
            label=f"padj < {alpha:g} ({int((use & significant).sum())})",
            rasterized=True,
        )
        ax.axvline(0, color="0.2", linewidth=0.8)
        chosen = np.asarray([i for i in labels if use[i]], dtype=int)
        _label_genes(ax, lfc[chosen], y[chosen], [names[i] for i in chosen])
        ax.legend(fontsize=8, loc="upper left", markerscale=2)
    ax.set_xlabel("log2 fold change")
    ax.set_ylabel("-log10 p-value")
    ax.set_title(title)
    _finish_single(fig, path)


@plain_text
def pvalue_histogram(
    pvalue: np.ndarray, padj: np.ndarray, path: str | Path, title: str, filtering: bool = True
) -> None:
    """Histogram of p-values in 0.025 bins, stacked: kept by independent filtering / filtered out.

    Genes without a p-value (all zero, Cook's outliers) are counted in the legend only.
    filtering : False where no independent filtering was done (limma): one bar per bin.
    """
    fig = _figure(7.0, 5.0)
    ax = fig.add_subplot()
    tested = np.isfinite(pvalue)
    filtered = tested & ~np.isfinite(padj)
    bins = np.linspace(0.0, 1.0, 41)
    if not tested.any():
        _empty(ax, "no p-values")
    else:
        ax.hist(
            [pvalue[tested & ~filtered], pvalue[filtered]],
            bins=bins,
            stacked=True,
            color=[PALETTE[0], "#bbbbbb"],
            label=[
                (
                    f"kept by independent filtering ({int((tested & ~filtered).sum())})"
                    if filtering
                    else f"tested ({int(tested.sum())})"
                ),
                f"removed by independent filtering ({int(filtered.sum())})",
            ],
            edgecolor="white",
            linewidth=0.4,
        )
        ax.legend(fontsize=8, title=f"no p-value: {int((~tested).sum())} genes", title_fontsize=8)
        ax.set_xlim(0, 1)
    ax.set_xlabel("p-value")
    ax.set_ylabel("genes")
    ax.set_title(title)
    _finish_single(fig, path)


def table_plots(
    table, labels: np.ndarray, alpha: float, lfc_threshold: float, paths: dict, title: str,
    annotation: Sequence[str] = (),
) -> None:
    """MA plot, volcano plot and p-value histogram of one results table (DESeq2's columns): a
    dict of columns (glmstack.nb.results) or a pandas DataFrame.

    The MA plot shows log2FoldChange_shrunk where the table has it (lfc_shrink), as DESeq2's
    vignette plots lfcShrink's fold changes; the volcano plot keeps the MLE fold changes.

    labels : row positions of the genes to name; paths : {"ma", "volcano", "pvalues"} -> PNG path.
    annotation : the table's annotation columns; genes are named by their gene_name where
    one exists (glmstack.io.annotation.feature_labels), else by their id.
    """
    from ..io.annotation import feature_labels

    col = {c: np.asarray(table[c], dtype=float) for c in ("baseMean", "log2FoldChange", "pvalue", "padj")}
    names = feature_labels(table, annotation)
    lfc, padj = col["log2FoldChange"], col["padj"]
    if "log2FoldChange_shrunk" in table:  # lfc_shrink: the MA plot shows the shrunken ones
        shrunk = np.asarray(table["log2FoldChange_shrunk"], dtype=float)
        y_label = "shrunken log2 fold change (log2FoldChange_shrunk)"
        ma_plot(col["baseMean"], shrunk, padj, alpha, labels, names, paths["ma"], title, lfc_threshold, None, y_label)
    else:
        ma_plot(col["baseMean"], lfc, padj, alpha, labels, names, paths["ma"], title, lfc_threshold)
    volcano_plot(lfc, col["pvalue"], padj, alpha, labels, names, paths["volcano"], title)
    pvalue_histogram(col["pvalue"], padj, paths["pvalues"], title)


def limma_table_plots(
    table: pd.DataFrame, labels: np.ndarray, alpha: float, lfc_threshold: float, paths: dict, title: str,
    annotation: Sequence[str] = (),
) -> None:
    """MA plot (AveExpr against logFC), volcano plot and p-value histogram of a limma table.

    A moderated F table (no logFC) gets the p-value histogram, and MA and volcano plots of its
    first coefficient (the first column after the id and the `annotation` columns).
    """
    lfc_column = "logFC" if "logFC" in table.columns else table.columns[1 + len(annotation)]
    from ..io.annotation import feature_labels

    col = {c: table[c].to_numpy(dtype=float) for c in (lfc_column, "AveExpr", "P.Value", "adj.P.Val")}
    names = feature_labels(table, annotation)
    lfc, padj = col[lfc_column], col["adj.P.Val"]
    x_label = "average log-expression (AveExpr)"
    ma_plot(col["AveExpr"], lfc, padj, alpha, labels, names, paths["ma"], title, lfc_threshold, x_label)
    volcano_plot(lfc, col["P.Value"], padj, alpha, labels, names, paths["volcano"], title)
    pvalue_histogram(col["P.Value"], padj, paths["pvalues"], title, filtering=False)


@plain_text
def sigma_mean_plot(amean: np.ndarray, sigma: np.ndarray, s2_prior: np.ndarray, path: str | Path, title: str) -> None:
    """limma plotSA: sqrt(sigma) of every feature against its average value, with the prior.

    s2_prior : (G,) the prior variance s0^2 (a constant, or the trend over AveExpr); drawn as
    sqrt(s0) so that it sits on the points' scale.
    """
    use = np.isfinite(amean) & np.isfinite(sigma)
    order = np.argsort(amean[use], kind="stable")
    curve = (amean[use][order], np.sqrt(np.sqrt(s2_prior[use][order])), "prior (sqrt(s0))")
    _points_and_curve(amean, np.sqrt(sigma), curve, "features", "no feature with residual degrees of freedom",
                      ("average log-expression (AveExpr)", "sqrt(sigma)"), path, title)


@plain_text
def voom_trend_plot(
    mean_log_count: np.ndarray, root_sd: np.ndarray, trend_x: np.ndarray, trend_y: np.ndarray, path: str | Path, title: str
) -> None:
    """voom's mean-variance trend (limma voom(plot = TRUE)): sqrt residual sd of every gene's
    unweighted log-CPM fit against its mean log count, and the lowess curve the weights come from."""
    _points_and_curve(mean_log_count, root_sd, (trend_x, trend_y, "lowess trend"), "genes",
                      "no gene with counts and residual degrees of freedom",
                      ("log2(count size + 0.5)", "sqrt(standard deviation)"), path, title)


def _points_and_curve(x, y, curve, points_label: str, empty: str, axes: tuple[str, str], path, title: str) -> None:
    """A scatter of every feature's (x, y) (finite ones; rasterised) with one curve (x, y, label)
    over it: limma's plotSA and voom's trend plot."""
    fig = _figure(7.5, 5.5)
    ax = fig.add_subplot()
    use = np.isfinite(x) & np.isfinite(y)
    if not use.any():
        _empty(ax, empty)
    else:
        size = 4 if use.sum() > 2000 else 8
        ax.scatter(x[use], y[use], s=size, c=BACKGROUND, linewidths=0, rasterized=True,
                   label=f"{points_label} ({int(use.sum())})")
        ax.plot(curve[0], curve[1], color=SIGNIFICANT, linewidth=1.5, label=curve[2])
        ax.legend(fontsize=8, loc="upper right", markerscale=2)
    ax.set_xlabel(axes[0])
    ax.set_ylabel(axes[1])
    ax.set_title(title)
    _finish(fig, path)


# ---------------------------------------------------------------- counts of top genes


def term_variables(term: str, variables: Sequence[str]) -> list[str]:
    """Design variables named in a term label such as `tissue`, `time:treatment`, `ns(age, df=3)`."""
    return [v for v in variables if re.search(rf"(?<![\w.]){re.escape(v)}(?![\w.])", term)]


def tested_variables(design: Design, columns: Sequence[int]) -> list[str]:
    """Variables of the design terms that hold the tested columns, in design order.

    design : glmstack.design.Design; columns : indices of the columns a contrast weighs
    (or the full-design columns an LRT drops).
    """
    variables = list(design.factors) + list(design.numeric)
    found: list[str] = []
    for term, idx in design.terms.items():
        if set(idx) & set(columns):
            found += [v for v in term_variables(term, variables) if v not in found]
    return sorted(found, key=variables.index)


def plot_axes(design: Design, columns: Sequence[int]) -> tuple[str | None, str | None]:
    """(x variable, colour variable) of a count plot.

    x: the first tested numeric variable (a continuous trait), else the first tested factor.
    colour: another tested variable, else the first other design variable; None when the
    design has a single variable.
    """
    tested = tested_variables(design, columns)
    numeric = [v for v in tested if v in design.numeric]
    x = numeric[0] if numeric else (tested[0] if tested else None)
    variables = list(design.factors) + list(design.numeric)
    if x is None and variables:
        x = variables[0]
    others = [v for v in tested if v != x] + [v for v in variables if v not in tested and v != x]
    return x, (others[0] if others else None)


def trait_curves(
    samples: pd.DataFrame,
    formula: str,
    levels: dict,
    trait: str,
    colour: str | None,
    beta_log2: np.ndarray,
    log_link: bool = True,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Fitted mean normalised count along a numeric trait, from the model's coefficients
    (log_link False: the fitted value itself, for linear models of log-scale values).

    Other factors at their reference level, other numeric variables at their median; one
    curve per level of `colour` when it is a factor. The design is rebuilt with formulaic
    and evaluated on the grid with the same spline knots (stateful transforms).

    Parameters
    ----------
    samples : the (binned) sample sheet in count-column order; levels : factor -> levels.
    beta_log2 : (K, P) log2 coefficients of the K genes.

    Returns
    -------
    grid (C,), {colour level or "": (K, C) fitted normalised means}.
    """
    import formulaic
    import pandas as pd

    from ..design.formula import formula_context, formula_variables, prepare_variables

    variables = formula_variables(formula)
    data, factors, numeric = prepare_variables(samples, variables, levels)
    spec = formulaic.model_matrix(formula, data, context=formula_context()).model_spec
    x = data[trait].to_numpy(dtype=float)
    grid = np.linspace(np.min(x), np.max(x), CURVE_POINTS)
    groups = factors[colour] if colour in factors else [""]
    curves = {}
    for group in groups:
        frame = pd.DataFrame(index=range(grid.size))
        for var in variables:
            if var == trait:
                frame[var] = grid
            elif var in factors:
                value = group if var == colour else factors[var][0]
                frame[var] = pd.Categorical([value] * grid.size, categories=factors[var])
            else:
                frame[var] = float(np.median(data[var].to_numpy(dtype=float)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # formulaic notes unused categories on the grid
            matrix = np.asarray(spec.get_model_matrix(frame, context=formula_context()), dtype=float)
        fitted = beta_log2 @ matrix.T
        curves[group] = 2.0**fitted if log_link else fitted
    return grid, curves


def _plain_log_scale(ax, which: str, subs: tuple[float, ...] = (1.0,), minor: bool = True) -> None:
    """A log scale on axis `which` ("x" or "y") whose labels are plain numbers (`1,000`, `0.01`):
    matplotlib's own are mathtext (`$10^{3}$`), which every figure here shows as written
    (`plain_text`). subs : the labelled ticks in each decade; minor : unlabelled minor ticks."""
    (ax.set_xscale if which == "x" else ax.set_yscale)("log")
    axis = ax.xaxis if which == "x" else ax.yaxis
    axis.set_major_locator(LogLocator(base=10, subs=subs))
    axis.set_major_formatter(FuncFormatter(_plain_number))
    if minor:
        axis.set_minor_formatter(NullFormatter())
    else:
        axis.set_minor_locator(NullLocator())


def _plain_number(value: float, _position=None) -> str:
    return f"{value:,.0f}" if value >= 1 else f"{value:g}"


@dataclass(frozen=True)
class CountPanel:
    """One gene of a count plot: normalised counts (N,) and, for a trait, fitted curves."""

    gene_id: str
    padj: float
    normalized: np.ndarray
    curves: dict[str, np.ndarray] | None = None


@plain_text
def count_plot(
    panels: Sequence[CountPanel],
    x_values: Sequence,
    x_label: str,
    x_levels: Sequence[str] | None,
    colour_values: Sequence | None,
    colour_label: str | None,
    path: str | Path,
    title: str,
    grid: np.ndarray | None = None,
    y_label: str = "normalised count + 0.5",
    p_label: str = "padj",
    counts: bool = True,
) -> None:
    """Normalised counts (+0.5, log axis) of the top genes, one panel per gene.

    x_levels given: x is a factor -> box per level plus jittered points; else x is numeric
    -> scatter plus the fitted curve(s) on `grid`. Points are coloured by `colour_values`.
    counts False: the panels hold log-scale values (no pseudocount, linear axis); y_label : the
    axis label; p_label : the name of the adjusted p-value in the panel titles.
    """
    k = len(panels)
    cols = min(4, max(1, k))
    rows = max(1, -(-k // cols))
    fig = _figure(3.2 * cols + 1.2, 2.8 * rows + 0.9)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    if colour_values is not None:
        colours, lookup = _colours(colour_values)
    else:
        colours, lookup = [PALETTE[0]] * len(x_values), {}
    rng = np.random.default_rng(0)  # same jitter every run
    if x_levels is not None:
        positions = np.array([list(x_levels).index(str(v)) for v in x_values], dtype=float)
        # a factor colour with few levels gets its own box within each x level (dodged)
        dodge = list(lookup) if colour_values is not None and 1 < len(lookup) <= MAX_DODGE else [None]
        width = 0.8 / len(dodge)
        cells = []  # (position, sample mask, edge colour)
        for i in range(len(x_levels)):
            for j, level in enumerate(dodge):
                mask = positions == i
                if level is not None:
                    mask = mask & (np.asarray(colour_values, dtype=str) == level)
                cells.append((i - 0.4 + width * (j + 0.5), mask, lookup.get(level, "k") if level else "k"))
        jitter = np.zeros(positions.size)
        for centre, mask, _ in cells:
            jitter[mask] = centre + rng.uniform(-0.3 * width, 0.3 * width, int(mask.sum()))
        cells = [cell for cell in cells if cell[1].any()]
    # one scatter per colour: a single-colour scatter is drawn as one stamped marker (Agg's
    # draw_markers), a scatter of many colours as a path per point
    groups = [(c, np.flatnonzero(np.asarray(colours) == c)) for c in dict.fromkeys(colours)]
    if len(x_values) > MAX_SAMPLE_LABELS:  # small light points, the boxes drawn over them
        points, box_z = {"s": 6, "linewidths": 0, "alpha": 0.45, "zorder": 3}, 4.0
    else:
        points, box_z = {"s": 14, "edgecolor": "k", "linewidth": 0.3, "zorder": 3}, 2.0
    for ax, panel in zip(axes, panels):
        y = panel.normalized + PSEUDOCOUNT if counts else panel.normalized
        if x_levels is not None:
            stats = [cbook.boxplot_stats(y[mask])[0] for _, mask, _ in cells]  # ax.boxplot's numbers
            _boxes(ax, stats, [cell[0] for cell in cells], 0.75 * width, [cell[2] for cell in cells], box_z)
            for colour, members in groups:
                ax.scatter(jitter[members], y[members], c=colour, **points)
            ax.set_xlim(-0.6, len(x_levels) - 0.4)
            ax.set_xticks(
                np.arange(len(x_levels)), list(x_levels), rotation=30 if len(x_levels) > 3 else 0, fontsize=7
            )
        else:
            x = np.asarray(x_values, dtype=float)
            for colour, members in groups:
                ax.scatter(x[members], y[members], c=colour, **points)
            for group, curve in (panel.curves or {}).items():
                ax.plot(grid, curve, color=lookup.get(group, "0.2"), linewidth=1.4)
            ax.set_xlabel(x_label, fontsize=7)
        if counts:
            # ticks at 1, 2, 5 x 10^k, so that a panel spanning less than a decade still has
            # labels; no minor ticks (twelve panels of them were a third of the drawing)
            _plain_log_scale(ax, "y", subs=(1.0, 2.0, 5.0), minor=False)
        ax.tick_params(labelsize=7)
        if not np.isfinite(panel.padj):
            padj = "NA"
        else:
            padj = f"{panel.padj:.2g}" if panel.padj > 0 else "< 1e-300"
        # a fixed title height: matplotlib would otherwise measure every panel to place it
        ax.set_title(f"{panel.gene_id}\n{p_label} {padj}", fontsize=8, y=1.0, pad=4)
    for ax in axes[k:]:
        ax.set_axis_off()
    if k == 0:
        _empty(axes[0], "nothing to show (report.top_genes: 0 or nothing tested)")
    if lookup and colour_label:
        handles = [
            axes[0].scatter([], [], c=c, s=14, edgecolor="k", linewidth=0.3, label=lv)
            for lv, c in lookup.items()
        ]
        if len(handles) <= 20:
            fig.legend(handles=handles, title=colour_label, fontsize=7, title_fontsize=7, loc="upper right")
    fig.supylabel(y_label, fontsize=9)
    fig.suptitle(title, fontsize=10)
    # fixed margins in inches (panels have a fixed size): tight_layout would cost a second
    # draw of every panel, as much as the drawing itself
    width, height = fig.get_size_inches()
    legend = 1.1 if lookup and colour_label else 0.2
    fig.subplots_adjust(left=1.0 / width, right=1 - legend / width, bottom=0.55 / height,
                        top=1 - 0.75 / height, wspace=0.38, hspace=0.6)
    _save(fig, path)


def _boxes(ax, stats: Sequence[dict], positions: Sequence[float], width: float, colours: Sequence[str],
           zorder: float = 2.0) -> None:
    """What ax.boxplot(showfliers=False) draws for each box's `stats` (cbook.boxplot_stats), as
    two line collections instead of six lines per box: box, whiskers and caps in the box's
    colour, the median in black above them; bxp's coordinates (caps half the box width), line
    widths and styles. zorder : the boxes' (boxplot's is 2), the medians' 0.1 above. Fifty
    boxes of six lines were a quarter of a count plot's drawing."""
    lines, line_colours, medians = [], [], []
    for box, centre, colour in zip(stats, positions, colours):
        left, right = centre - width / 2, centre + width / 2
        cap_left, cap_right = centre - width / 4, centre + width / 4
        q1, q3, low, high = box["q1"], box["q3"], box["whislo"], box["whishi"]
        lines += [
            [(left, q1), (right, q1), (right, q3), (left, q3), (left, q1)],
            [(centre, q1), (centre, low)],
            [(centre, q3), (centre, high)],
            [(cap_left, low), (cap_right, low)],
            [(cap_left, high), (cap_right, high)],
        ]
        line_colours += [colour] * 5
        medians.append([(left, box["med"]), (right, box["med"])])
    style = {"linestyles": "solid", "capstyle": rcParams["lines.solid_capstyle"],
             "joinstyle": rcParams["lines.solid_joinstyle"]}
    ax.add_collection(LineCollection(lines, colors=line_colours, zorder=zorder,
                                     linewidths=rcParams["boxplot.boxprops.linewidth"], **style))
    ax.add_collection(LineCollection(medians, colors="k", zorder=zorder + 0.1,
                                     linewidths=rcParams["boxplot.medianprops.linewidth"], **style))


def tested_columns(model: Model, table: str) -> np.ndarray:
    """Design columns a result table tests: the contrast's weighted columns, or the LRT's dropped ones.

    model : glmstack.design.matrices.Model; table : a contrast name or "lrt".
    """
    full = model.full
    if table == "lrt" and model.reduced is not None:
        kept = set(model.reduced.columns)
        return np.array([j for j, c in enumerate(full.columns) if c not in kept], dtype=int)
    names = [c.name for c in model.contrasts]
    return np.flatnonzero(model.contrasts[names.index(table)].vector)


def top_gene_counts(
    model: Model,
    table: str,
    gene_ids: Sequence[str],
    padj: np.ndarray,
    counts: np.ndarray,
    size_factors: np.ndarray,
    beta_log2: np.ndarray,
    path: str | Path,
    title: str,
) -> None:
    """Count plot of the top genes of one result table (DESeq2 plotCounts, one panel per gene).

    counts : (K, N) raw counts of the K genes; size_factors : (N,), or (K, N) normalization
    factors; beta_log2 : (K, P) their log2 coefficients.
    The x axis is the tested variable, the colour another design variable (`plot_axes`).
    """
    normalized = np.asarray(counts, dtype=float) / size_factors
    _top_panels(model, table, gene_ids, padj, normalized, beta_log2, path, title, log_link=True)


def top_feature_values(
    model: Model,
    table: str,
    feature_ids: Sequence[str],
    adj_p: np.ndarray,
    values: np.ndarray,
    coefficients: np.ndarray,
    path: str | Path,
    title: str,
    y_label: str = "value",
) -> None:
    """The values of the top features of a limma table against the tested variable, one panel each.

    values : (K, N) log-scale values (log-CPM for voom), NaN where missing; coefficients :
    (K, P) their least-squares coefficients (the fitted line of a continuous trait).
    """
    _top_panels(model, table, feature_ids, adj_p, values, coefficients, path, title, log_link=False, y_label=y_label)


def count_plot_columns(model: Model, table: str) -> list[str] | None:
    """The sample-sheet columns that the count plot of a result table reads: its x and colour
    variables (`plot_axes`); None where it reads the whole sheet, for a numeric x (a trait),
    whose fitted curves rebuild the design from it (`trait_curves`)."""
    x, colour = plot_axes(model.full, tested_columns(model, table))
    if x is not None and x not in model.full.factors:
        return None
    return [v for v in (x, colour) if v is not None]


def _texts(values: Iterable) -> list[str]:
    """The values as text, as pandas' astype(str) writes a sheet's column (NaN as "nan")."""
    return [str(v) for v in values]


def _top_panels(model, table, ids, p_adjusted, values, coefficients, path, title, log_link, y_label="") -> None:
    """One panel per feature against the tested variable (`plot_axes`), fitted curves for a trait.

    model.samples : the sheet as a DataFrame, or a dict of the columns `count_plot_columns` names.
    """
    x, colour = plot_axes(model.full, tested_columns(model, table))
    sheet = model.samples
    colour_values = _texts(sheet[colour]) if colour is not None else None
    if x is None:
        x_values, x_levels = ["all"] * model.full.matrix.shape[0], ["all"]
    elif x in model.full.factors:
        x_values, x_levels = _texts(sheet[x]), model.full.factors[x]
    else:
        x_values, x_levels = np.asarray(sheet[x], dtype=float).tolist(), None
    grid, curves = None, {}
    if x_levels is None and len(ids):
        coefficients = np.where(np.isnan(coefficients), 0.0, coefficients)  # inestimable: no term
        grid, curves = trait_curves(sheet, model.full.formula, model.full.factors, x, colour, coefficients, log_link)
    panels = [
        CountPanel(str(g), float(p), values[i], {k: v[i] for k, v in curves.items()} if curves else None)
        for i, (g, p) in enumerate(zip(ids, p_adjusted))
    ]
    if log_link:
        count_plot(panels, x_values, x or "", x_levels, colour_values, colour, path, title, grid)
    else:
        count_plot(panels, x_values, x or "", x_levels, colour_values, colour, path, title, grid,
                   y_label=y_label, p_label="adj.P.Val", counts=False)
