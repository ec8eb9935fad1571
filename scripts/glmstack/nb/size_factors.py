"""Library size normalisation (DESeq2 estimateSizeFactorsForMatrix)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..errors import StudyError, preview

if TYPE_CHECKING:
    import pandas as pd


def log_geometric_means(counts: np.ndarray, method: str) -> np.ndarray:
    """Per-gene log geometric mean of the counts, the pseudo-reference sample.

    Parameters
    ----------
    counts : (G, N) raw counts.
    method : "ratio" (DESeq2 default: -inf for any gene with a zero) or "poscounts"
        (zeros contribute log 1 = 0, so the n-th root of the product of the positive
        counts; -inf only for all-zero genes).

    Returns
    -------
    (G,) log geometric means on the natural-log scale.
    """
    with np.errstate(divide="ignore"):
        log_counts = np.log(counts)
    if method == "ratio":
        return log_counts.mean(axis=1)
    if method == "poscounts":
        finite = np.where(np.isfinite(log_counts), log_counts, 0.0)
        out = finite.mean(axis=1)
        out[counts.sum(axis=1) == 0] = -np.inf
        return out
    raise ValueError(f"unknown size factor method {method!r}")


def size_factors(counts: np.ndarray, method: str = "ratio", log_geo: np.ndarray | None = None) -> np.ndarray:
    """Median-of-ratios size factors, one per sample.

    For each sample, the median over genes with a finite log geometric mean and a
    positive count of log(count) - log geometric mean, exponentiated. "poscounts"
    then scales the factors to geometric mean 1, as DESeq2 does whenever the
    geometric means are given rather than computed by the ratio rule.

    Parameters
    ----------
    counts : (G, N) raw counts.
    method : "ratio" | "poscounts".
    log_geo : (G,) log geometric means to use instead of those of `counts` (DESeq2's
        `geoMeans`; estimateNormFactors passes those of the raw counts for poscounts).

    Returns
    -------
    (N,) size factors.

    Raises
    ------
    StudyError if no gene can serve as reference (every gene has a zero for "ratio").
    """
    # C order: the row means then round the same way whatever the caller's layout
    counts = np.ascontiguousarray(counts, dtype=float)
    if log_geo is None:
        log_geo = log_geometric_means(counts, method)
    usable = np.isfinite(log_geo)
    if not usable.any():
        if method == "ratio":
            raise StudyError(
                "counts: every gene has a zero count in at least one sample, so the "
                "'ratio' size factors (median of ratios to the geometric mean) cannot be "
                "computed. Fix: set `size_factors_method: poscounts` in the study YAML "
                "(DESeq2's choice for zero-heavy data such as 16S or single-cell counts)."
            )
        raise StudyError("counts: every gene is zero in every sample; nothing to normalise.")
    sub = counts[usable]
    with np.errstate(divide="ignore"):
        log_ratio = np.log(sub) - log_geo[usable, None]
    log_ratio = np.where(sub > 0, log_ratio, np.nan)
    empty = np.all(np.isnan(log_ratio), axis=0)
    if empty.any():
        raise StudyError(
            "counts: some samples have no positive count among the reference genes, so "
            "their size factor is undefined. Fix: remove these samples or use "
            "`size_factors_method: poscounts`."
        )
    # without zeros (ratio: every reference gene is positive) the plain median, the same
    # numbers: nanmedian takes the columns one by one in Python, 0.3 s at 1,000 samples
    missing = np.isnan(log_ratio).any()
    sf = np.exp(np.nanmedian(log_ratio, axis=0) if missing else column_medians(log_ratio))
    if method == "poscounts":
        sf = sf / np.exp(np.mean(np.log(sf)))
    return sf


def column_medians(values: np.ndarray) -> np.ndarray:
    """np.median(values, axis=0) of a (G, N) matrix without NaN, the same numbers: each column,
    as a row of the transpose, partitioned around its middle (the order statistics a sort would
    put there, in a third of its time), then its middle value or the mean of its two middle
    ones. numpy's median partitions along the strided axis instead, at twice a sort's time
    (this runs in the ingest job that every other job waits for)."""
    rows = np.array(values.T, order="C")  # a copy, partitioned in place
    n = rows.shape[1]
    middle = [n // 2] if n % 2 else [n // 2 - 1, n // 2]
    rows.partition(middle, axis=1)
    if n % 2:
        return rows[:, n // 2].copy()
    return (rows[:, n // 2 - 1] + rows[:, n // 2]) / 2


def normalization_factors(counts: np.ndarray, lengths: np.ndarray, method: str = "ratio") -> tuple[np.ndarray, np.ndarray]:
    """Normalization factors from average transcript lengths (DESeq2 estimateSizeFactors with
    an "avgTxLength" assay, i.e. estimateNormFactors).

    The lengths, divided by each gene's geometric mean, are the offsets; size factors are
    the median-of-ratios factors of counts / offsets (for poscounts with the geometric means
    of the raw counts); normalization factors = offsets x size factors, each gene's row then
    divided by its geometric mean.

    Parameters
    ----------
    counts : (G, N) raw counts; lengths : (G, N) average transcript lengths, all > 0.
    method : "ratio" | "poscounts".

    Returns
    -------
    norm_factors : (G, N); size_factors : (N,) the library-size part alone.
    """
    counts = np.ascontiguousarray(counts, dtype=float)
    log_len = np.log(lengths)
    offsets = np.exp(log_len - log_len.mean(axis=1, keepdims=True))
    log_geo = log_geometric_means(counts, method) if method == "poscounts" else None
    sf = size_factors(counts / offsets, method, log_geo)
    log_nf = np.log(offsets * sf)
    return np.exp(log_nf - log_nf.mean(axis=1, keepdims=True)), sf


def factor_rows(factors: np.ndarray, rows) -> np.ndarray:
    """Rows of a (G, N) normalization-factor matrix; (N,) size factors are every gene's."""
    return factors if np.ndim(factors) == 1 else factors[rows]


def moments_xim(factors: np.ndarray) -> float:
    """DESeq2 momentsDispEstimate's xim: mean(1 / sf), or mean(1 / colMeans(nf)) over the
    genes given (DESeq2: the genes the step sees, e.g. every non-zero gene of the study)."""
    means = factors if np.ndim(factors) == 1 else factors.mean(axis=0)
    return float(np.mean(1.0 / means))


def base_means(counts: np.ndarray, size_factors: np.ndarray) -> np.ndarray:
    """Mean of normalised counts per gene, rounded as R's rowMeans (DESeq2 baseMean).

    size_factors : (N,) size factors or (G, N) normalization factors.

    Independent filtering keeps genes with baseMean >= a quantile of the baseMeans, so the
    last bit decides which of two nearly tied genes is kept: we round as R does.
    """
    from ..rmath.summation import row_means

    return row_means(counts / size_factors)


def study_size_factors(counts: np.ndarray, samples: list[str], method: str, given: pd.Series | None, where: str) -> np.ndarray:
    """Size factors from the counts, or the user's table aligned to the count columns."""

    if given is None:
        return size_factors(counts, method)
    missing = [s for s in samples if s not in given.index]
    if missing:
        raise StudyError(f"{where}: no size factor for samples {preview(missing)}. Fix: add a row per sample.")
    values = given.loc[samples].to_numpy(dtype=float)
    bad = [s for s, v in zip(samples, values) if not np.isfinite(v) or v <= 0]
    if bad:
        raise StudyError(f"{where}: size factors must be positive numbers; check samples {preview(bad)}.")
    return values
