"""Variance-stabilising transformation, PCA and sample distances (DESeq2 vst, plotPCA).

The VST turns counts into values whose variance hardly depends on the mean, so that
samples can be compared by Euclidean distance and PCA. As DESeq2's `vst(dds, blind=TRUE)`:

1. size factors as given (the study's), or normalization factors (G, N) where the study has
   them (tximport's length offsets: counts are divided by them, DESeq2's counts(normalized));
2. a dispersion trend fitted on a subset of `nsub` genes (spread evenly over the order of
   mean normalised count, among genes with mean > 5), from gene-wise estimates under the
   design `~ 1` (blind) or the analysis design (`blind=FALSE`);
3. the transform implied by the trend: a closed form for the parametric trend
   `a0 + a1 / mu`, another for a constant dispersion, numerical integration for a local
   trend; each scaled to approach log2 of the normalised count for large counts.

Studies with fewer than `nsub` genes of mean > 5 use every gene for the trend (DESeq2's
`varianceStabilizingTransformation`, which `vst` tells the user to call instead).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..io.column_codes import ColumnCodes, column_codes
from ..io.shards import select_pairs
from .size_factors import base_means, factor_rows
from .trend import DispersionTrend, fit_trend

if TYPE_CHECKING:
    from scipy.interpolate import CubicSpline

NSUB = 1000  # DESeq2 vst(nsub = 1000): genes used to fit the trend
SUBSET_MIN_MEAN = 5.0  # DESeq2 vst: only genes with mean normalised count > 5 join the subset
PCA_TOP_GENES = 500  # DESeq2 plotPCA(ntop = 500): most variable genes used for the PCA
LOCAL_GRID_POINTS = 1000  # DESeq2 getVarianceStabilizedData: grid of the numerical integral
LOCAL_SCALE_QUANTILES = (0.95, 0.999)  # DESeq2: means at which the local VST equals log2


def trend_subset(base_mean: np.ndarray, nsub: int = NSUB) -> np.ndarray:
    """Indices of the genes that inform the VST trend (DESeq2 vst).

    Among genes with baseMean > 5, ordered by baseMean (ties in input order), the ones at
    R's `round(seq(1, n, length = nsub))` positions. Fewer than `nsub` such genes: every
    gene (`varianceStabilizingTransformation`).

    Parameters
    ----------
    base_mean : (G,) mean normalised counts.

    Returns
    -------
    (K,) int indices into the genes, K = nsub or G.
    """
    candidates = np.flatnonzero(base_mean > SUBSET_MIN_MEAN)
    if candidates.size < nsub or nsub < 2:
        return np.arange(base_mean.size)
    order = candidates[np.argsort(base_mean[candidates], kind="stable")]
    n = order.size
    # R's seq(from, to, length.out): from + k * ((to - from) / (length.out - 1)), ends exact
    steps = 1.0 + np.arange(1, nsub - 1) * ((n - 1.0) / (nsub - 1.0))
    positions = np.concatenate([[1.0], steps, [float(n)]])
    return order[np.round(positions).astype(int) - 1]  # numpy and R both round half to even


def vst_trend(
    counts: np.ndarray,
    size_factors: np.ndarray,
    design: np.ndarray | None = None,
    fit_type: str = "parametric",
) -> DispersionTrend:
    """Dispersion trend for the VST from the subset's counts (DESeq2 estimateDispersionsGeneEst + Fit).

    Parameters
    ----------
    counts : (K, N) raw counts of the trend subset (from `trend_subset`).
    size_factors : (N,), or the subset's (K, N) normalization factors (DESeq2's moments
        estimate then uses colMeans over the subset's non-zero genes, as vst does).
    design : (N, P) design of the gene-wise estimates; None = `~ 1` (blind).
    fit_type : "parametric" (DESeq2's default, falls back to local) | "local" | "mean".
    """
    counts = np.ascontiguousarray(counts, dtype=float)
    if design is None:
        design = np.ones((counts.shape[1], 1))
    nonzero = counts.sum(axis=1) > 0
    factors = factor_rows(size_factors, nonzero)
    from .genewise import genewise_dispersion  # here: scipy.special, which pca() does not need

    fit = genewise_dispersion(counts[nonzero], factors, design)
    return fit_trend(base_means(counts[nonzero], factors), fit.disp, fit_type)


@dataclass(frozen=True)
class Stabilizer:
    """The transform implied by a trend; `transform(counts)` gives VST values (log2-like).

    trend : the fitted dispersion trend (its fit_type picks the transform).
    size_factors : (N,) the samples' size factors (counts are divided by them unless
        `transform` is given the block's normalization factors); with normalization factors,
        DESeq2's stand-in exp(colMeans(log(nf))) (the local trend's mean(1/sf) uses them).
    spline, eta, xi : for a local trend, the integral of 1 / sd over asinh(count) and the
        affine map that makes it equal log2 at two high means; unused otherwise.
    """

    trend: DispersionTrend
    size_factors: np.ndarray
    spline: CubicSpline | None = None
    eta: float = 1.0
    xi: float = 0.0

    def transform(self, counts: np.ndarray, factors: np.ndarray | None = None) -> np.ndarray:
        """(G, N) raw counts -> (G, N) VST values, samples in size-factor order.

        factors : the block's (G, N) normalization factors; None: the size factors.
        """
        divisor = self.size_factors if factors is None else factors
        return self.stabilize(np.asarray(counts, dtype=float) / divisor)

    def stabilize(self, q: np.ndarray) -> np.ndarray:
        """VST values of normalised counts q = counts / factors, elementwise (any shape): a
        cell's value depends on its q alone, so distinct q may stand for a whole matrix."""
        q = np.asarray(q, dtype=float)
        kind = self.trend.fit_type
        if kind == "parametric":
            a0 = self.trend.coefficients["asymptDisp"]
            a1 = self.trend.coefficients["extraPois"]
            # integral of 1 / sqrt(mu + (a0 + a1 / mu) mu^2) = 1 / sqrt((1 + a1) mu + a0 mu^2),
            # shifted so that it approaches log2(q) for large q
            inner = 1.0 + a1 + 2.0 * a0 * q + 2.0 * np.sqrt(a0 * q * (1.0 + a1 + a0 * q))
            return np.log(inner / (4.0 * a0)) / np.log(2.0)
        if kind == "mean":
            alpha = self.trend.coefficients["mean"]
            return (2.0 * np.arcsinh(np.sqrt(alpha * q)) - np.log(alpha) - np.log(4.0)) / np.log(2.0)
        if self.spline is None:
            raise ValueError("a local-trend Stabilizer needs its spline (use make_stabilizer)")
        return self.eta * self.spline(np.arcsinh(q)) + self.xi


def make_stabilizer(
    trend: DispersionTrend, size_factors: np.ndarray, base_mean: np.ndarray, max_normalized: float
) -> Stabilizer:
    """The VST of a trend (DESeq2 getVarianceStabilizedData).

    Parameters
    ----------
    trend : from `vst_trend`.
    size_factors : (N,).
    base_mean : (G,) mean normalised count of every gene (local trend: the 95 % and 99.9 %
        quantiles anchor the log2 scale).
    max_normalized : the largest normalised count in the study (local trend: grid range).

    Notes
    -----
    Local trend: 1 / sqrt(f(x) x^2 + mean(1/sf) x) is integrated by the trapezoidal rule on
    a grid even in asinh(x) and interpolated by a cubic spline in asinh(x) with R splinefun's
    end conditions (`fmm_spline`); zero counts lie below the grid and are extrapolated.
    """
    size_factors = np.asarray(size_factors, dtype=float)
    if trend.fit_type != "local":
        return Stabilizer(trend, size_factors)
    from ..rmath.fmm_spline import fmm_spline  # here: scipy.interpolate, which pca() does not need

    grid = np.sinh(np.linspace(0.0, np.arcsinh(max_normalized), LOCAL_GRID_POINTS))[1:]
    with np.errstate(divide="ignore", over="ignore"):
        base_var = trend.evaluate(grid) * grid**2 + np.mean(1.0 / size_factors) * grid
    integrand = 1.0 / np.sqrt(base_var)
    steps = np.diff(grid) * (integrand[1:] + integrand[:-1]) / 2.0
    spline = fmm_spline(np.arcsinh((grid[1:] + grid[:-1]) / 2.0), np.cumsum(steps))
    h1, h2 = np.quantile(base_mean, LOCAL_SCALE_QUANTILES)  # R's type 7 quantiles
    eta = (np.log2(h2) - np.log2(h1)) / (spline(np.arcsinh(h2)) - spline(np.arcsinh(h1)))
    xi = np.log2(h1) - eta * spline(np.arcsinh(h1))
    return Stabilizer(trend, size_factors, spline, float(eta), float(xi))


def vst(
    counts: np.ndarray,
    size_factors: np.ndarray,
    design: np.ndarray | None = None,
    fit_type: str = "parametric",
    nsub: int = NSUB,
) -> np.ndarray:
    """DESeq2 `vst(dds, blind = design is None, nsub, fitType)` for a matrix in memory.

    Parameters
    ----------
    counts : (G, N) raw counts; size_factors : (N,) or (G, N) normalization factors.
    design : (N, P) design for the gene-wise estimates of the trend; None = blind (`~ 1`).

    Returns
    -------
    (G, N) VST values; all-zero genes get the same value in every sample.
    """
    counts = np.asarray(counts, dtype=float)
    base_mean = base_means(counts, size_factors)
    subset = trend_subset(base_mean, nsub)
    trend = vst_trend(counts[subset], factor_rows(size_factors, subset), design, fit_type)
    max_normalized = float(np.max(counts / size_factors)) if counts.size else 0.0
    sf = stand_in_size_factors(size_factors)
    return make_stabilizer(trend, sf, base_mean, max_normalized).transform(counts, size_factors)


def stand_in_size_factors(factors: np.ndarray) -> np.ndarray:
    """(N,) size factors, or for (G, N) normalization factors exp(colMeans(log(nf))) (DESeq2
    getVarianceStabilizedData's stand-in, used by the local trend's transform)."""
    factors = np.asarray(factors, dtype=float)
    return factors if factors.ndim == 1 else np.exp(np.log(factors).mean(axis=0))


# ---------------------------------------------------------------- study-wide, shard by shard


@dataclass(frozen=True)
class StudyVst:
    """What the study QC plots need from the VST, gathered shard by shard.

    trend : the VST's dispersion trend.
    library_sizes : (N,) column sums of the raw counts.
    top_index : (T,) indices (input order) of the T most variable genes after the VST.
    top_values : (T, N) their VST values, in decreasing order of variance.
    distances : (N, N) Euclidean distances between samples over all genes' VST values.
    """

    trend: DispersionTrend
    library_sizes: np.ndarray
    top_index: np.ndarray
    top_values: np.ndarray
    distances: np.ndarray


Blocks = Callable[[], Iterable[tuple[np.ndarray, np.ndarray]]]


def study_stabilizer(
    shards: Blocks, design: np.ndarray | None = None, fit_type: str = "parametric", nsub: int = NSUB
) -> tuple[Stabilizer, np.ndarray]:
    """The VST of a study whose counts come in gene shards (memory O(shard + nsub)).

    Parameters
    ----------
    shards : called twice; each call yields (counts (G_i, N), factors) in input order, factors
        the (N,) size factors or the shard's (G_i, N) normalization factors.
    design : None for blind (DESeq2's default) or the (N, P) design of the trend's estimates.

    Returns
    -------
    The Stabilizer (apply it with each block's factors) and the (N,) library sizes; the
    same numbers as `vst` on the whole matrix.
    """
    means, library_sizes, max_normalized, log_factor_sum, n_genes = [], None, 0.0, None, 0
    for block, factors in shards():
        block = np.asarray(block, dtype=float)
        if library_sizes is None:
            library_sizes, log_factor_sum = np.zeros(block.shape[1]), np.zeros(block.shape[1])
        means.append(base_means(block, factors))
        library_sizes += block.sum(axis=0)
        if np.ndim(factors) == 2:  # for the stand-in size factors below; (N,) ones are used as given
            log_factor_sum += np.log(factors).sum(axis=0)
        n_genes += block.shape[0]
        if block.size:
            max_normalized = max(max_normalized, _max_normalized(block, factors))
    base_mean = np.concatenate(means) if means else np.zeros(0)
    subset = trend_subset(base_mean, nsub)
    counts, factors = select_pairs(shards(), subset)
    trend = vst_trend(counts, factors, design, fit_type)
    sf = np.exp(log_factor_sum / max(n_genes, 1))  # size factors, or DESeq2's stand-in for nf
    if factors.ndim == 1:
        sf = factors
    return make_stabilizer(trend, sf, base_mean, max_normalized), library_sizes


def _max_normalized(counts: np.ndarray, factors: np.ndarray) -> float:
    """max(counts / factors) of a non-empty block; for positive (N,) size factors from the
    column maxima (division by a positive number keeps the order: the same double, without
    a (G, N) temporary)."""
    if np.ndim(factors) == 1 and np.all(factors > 0):
        return float(np.max(counts.max(axis=0) / factors))
    return float(np.max(counts / factors))


def normalized_and_stabilized(
    stabilizer: Stabilizer, counts: np.ndarray, factors: np.ndarray
) -> tuple[np.ndarray | ColumnCodes, np.ndarray | ColumnCodes]:
    """A block's normalised counts q = counts / factors (DESeq2 counts(dds, normalized = TRUE))
    and their VST values, both (G, N); the same doubles whichever form they come in.

    Where `count_codes` finds each column's distinct counts, both are `ColumnCodes`: q and the
    VST computed for the distinct counts only (a column of 20,000 genes holds a few thousand),
    which `tsv_matrices` also formats once each. Otherwise (normalization factors per gene and
    sample, counts that are not whole numbers, few repeated counts) dense arrays, computed
    cell by cell.
    """
    coded = count_codes(counts, factors)
    if coded is None:
        normalized = np.asarray(counts, dtype=float) / factors
        return normalized, stabilizer.stabilize(normalized)
    normalized = coded.with_values(coded.values / factors[coded.columns])  # the same division
    return normalized, normalized.with_values(stabilizer.stabilize(normalized.values))


def count_codes(counts: np.ndarray, factors: np.ndarray) -> ColumnCodes | None:
    """The (G, N) counts as `ColumnCodes` where a cell's normalised count depends on its count
    and column alone and the columns repeat values enough to pay for finding them; else None.

    That is: factors are (N,) size factors (not (G, N) normalization factors, which differ
    from gene to gene); the counts are finite whole numbers >= 0 (other numbers are left to
    the cell-by-cell path, so that unusual data meets the path that has always written it);
    and at most half the cells hold a value new to their column (beyond that, formatting
    the distinct values costs about what formatting every cell does).
    """
    if np.ndim(factors) != 1:
        return None
    coded = column_codes(counts)
    values = coded.values
    with np.errstate(invalid="ignore"):
        whole = np.all(np.isfinite(values) & (values >= 0) & (values == np.floor(values)))
    return coded if whole and values.size <= np.size(counts) / 2 else None


class VstSummary:
    """Top genes and sample distances of VST values given block by block (input order):
    `add` each block, then `result`. Memory O(ntop x N + N^2)."""

    def __init__(self, n_samples: int, ntop: int = PCA_TOP_GENES):
        self.n_samples, self.ntop, self.start = n_samples, ntop, 0
        self.gram = np.zeros((n_samples, n_samples))
        self.top_index, self.top_values, self.top_var = np.zeros(0, dtype=int), np.zeros((0, n_samples)), np.zeros(0)

    def add(self, block: np.ndarray | ColumnCodes) -> None:
        coded = isinstance(block, ColumnCodes)
        values = block.dense() if coded else np.asarray(block, dtype=float)
        # distances ignore gene shifts; a block densified here is centred in place (one (G, N)
        # array less: fresh memory is much of this step's cost) and its rows come from the codes
        centred = np.subtract(values, values.mean(axis=1, keepdims=True), out=values if coded else None)
        self.gram += centred.T @ centred
        index = np.concatenate([self.top_index, self.start + np.arange(values.shape[0])])
        pool_var = np.concatenate([self.top_var, _row_variances(centred)])  # centred is squared now
        keep = np.lexsort((index, -pool_var))[: self.ntop]
        self.top_index, self.top_var = index[keep], pool_var[keep]
        kept = np.empty((keep.size, self.n_samples))  # the kept rows, not the whole pool
        old = keep < len(self.top_values)
        new = keep[~old] - len(self.top_values)
        kept[old], kept[~old] = self.top_values[keep[old]], block.rows(new) if coded else values[new]
        self.top_values = kept
        self.start += values.shape[0]

    def result(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """top_index : (T,) most variable genes (DESeq2 plotPCA: rowVars ranking, ties in input
        order); top_values : (T, N) their values; distances : (N, N) Euclidean distances."""
        norms = np.diag(self.gram)
        distances = np.sqrt(np.maximum(norms[:, None] + norms[None, :] - 2.0 * self.gram, 0.0))
        np.fill_diagonal(distances, 0.0)
        return self.top_index, self.top_values, distances


def _row_variances(centred: np.ndarray) -> np.ndarray:
    """(G,) variances (ddof 1) of the rows of (G, N) values less their row means, squaring
    `centred` in place: the same steps, and so the same doubles, as values.var(axis=1, ddof=1),
    without its (G, N) temporary. Zeros for one sample (no spread to estimate)."""
    n = centred.shape[1]
    if n < 2:
        return np.zeros(centred.shape[0])
    return np.add.reduce(np.square(centred, out=centred), axis=1) / (n - 1)


def vst_summaries(values: Iterable[np.ndarray], n_samples: int, ntop: int = PCA_TOP_GENES):
    """`VstSummary.result` of VST values read block by block (input order)."""
    summary = VstSummary(n_samples, ntop)
    for block in values:
        summary.add(block)
    return summary.result()


def study_vst(
    shards: Callable[[], Iterable[np.ndarray]],
    size_factors: np.ndarray,
    design: np.ndarray | None = None,
    fit_type: str = "parametric",
    ntop: int = PCA_TOP_GENES,
    nsub: int = NSUB,
) -> StudyVst:
    """VST summaries of a study whose counts come in gene shards (memory O(shard + nsub + ntop)).

    Parameters
    ----------
    shards : called three times; each call yields the (G_i, N) raw count blocks in input order.
    size_factors : (N,); design : None for blind (DESeq2's default) or the (N, P) design.
    ntop : genes kept for the PCA (DESeq2 plotPCA: rowVars ranking, ties in input order).

    Returns
    -------
    StudyVst; the same numbers as `vst` on the whole matrix.
    """
    size_factors = np.asarray(size_factors, dtype=float)

    def pairs():
        return ((block, size_factors) for block in shards())

    stabilizer, library_sizes = study_stabilizer(pairs, design, fit_type, nsub)
    if library_sizes is None:
        library_sizes = np.zeros(size_factors.size)
    values = (stabilizer.transform(block) for block in shards())
    top_index, top_values, distances = vst_summaries(values, size_factors.size, ntop)
    return StudyVst(stabilizer.trend, library_sizes, top_index, top_values, distances)


# ---------------------------------------------------------------- PCA and distances


@dataclass(frozen=True)
class Pca:
    """Principal components of samples.

    scores : (N, K) sample coordinates (prcomp's x), K = min(N, genes).
    percent_var : (K,) share of the total variance of each component (0..1).
    loadings : (K, T) gene weights (prcomp's rotation, transposed).
    """

    scores: np.ndarray
    percent_var: np.ndarray
    loadings: np.ndarray


def most_variable(values: np.ndarray, ntop: int = PCA_TOP_GENES) -> np.ndarray:
    """Indices of the `ntop` genes with the largest variance, largest first (ties: input order)."""
    variance = values.var(axis=1, ddof=1) if values.shape[1] > 1 else np.zeros(values.shape[0])
    return np.lexsort((np.arange(values.shape[0]), -variance))[:ntop]


def pca(values: np.ndarray) -> Pca:
    """PCA of samples over genes, centred and not scaled (R prcomp, as DESeq2 plotPCA).

    Parameters
    ----------
    values : (T, N) VST values of the chosen genes (e.g. the 500 most variable).

    Notes
    -----
    A component's sign is arbitrary; each is oriented so that its largest gene weight
    (in absolute value) is positive, which makes plots reproducible.
    """
    x = np.asarray(values, dtype=float).T
    centred = x - x.mean(axis=0)
    u, s, vt = np.linalg.svd(centred, full_matrices=False)
    biggest = np.argmax(np.abs(vt), axis=1)
    signs = np.sign(vt[np.arange(vt.shape[0]), biggest])
    signs[signs == 0] = 1.0
    total = np.sum(s**2)
    percent = s**2 / total if total > 0 else np.zeros_like(s)
    return Pca(scores=u * s * signs, percent_var=percent, loadings=vt * signs[:, None])


def sample_distances(values: np.ndarray) -> np.ndarray:
    """(N, N) Euclidean distances between samples (columns) of (G, N) values (R dist(t(x)))."""
    x = np.asarray(values, dtype=float).T
    diff = x[:, None, :] - x[None, :, :]
    return np.sqrt(np.sum(diff**2, axis=2))


def cluster_linkage(distances: np.ndarray) -> np.ndarray | None:
    """Complete-linkage clustering of samples from their distances (pheatmap's default).

    Returns the scipy linkage matrix ((N - 1, 4)), or None for fewer than 2 samples.
    """
    from scipy.cluster.hierarchy import linkage
    from scipy.spatial.distance import squareform

    if distances.shape[0] < 2:
        return None
    return linkage(squareform(distances, checks=False), method="complete")
