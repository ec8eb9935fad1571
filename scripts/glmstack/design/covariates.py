"""Covariates derived from the sample sheet before the design is built (bins of a numeric column)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import StudyError, preview
from ..io.samples import aligned_samples, sample_columns
from ..rmath.quantile import quantile_type7

if TYPE_CHECKING:  # imported where used: `design_sheet` serves plot jobs that start without pandas
    import pandas as pd

    from ..spec import Analysis


def add_bins(samples: pd.DataFrame, bins: dict, where: str) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Factors made by binning numeric columns, for designs that want groups, not a slope.

    bins: name -> {"column": c, "quantiles": k} (k equal-count groups, labelled Q1..Qk,
    breaks at R's type-7 quantiles, lowest value included) or {"column": c, "breaks": [b0,
    ..., bk]} (intervals (b_i, b_i+1], the first closed, labelled "b0-b1", ...). Returns the
    sheet with the new columns and their level order (first bin = reference).
    """
    import pandas as pd  # here: the plots of a design without bins read its sheet without pandas

    out = samples.copy()
    levels: dict[str, list[str]] = {}
    for name, spec in (bins or {}).items():
        column = spec["column"]
        if column not in samples.columns:
            raise StudyError(f"{where}.bins.{name}: column {column!r} is not in the sample sheet.")
        values = pd.to_numeric(samples[column], errors="coerce")
        if values.isna().any():
            bad = samples.loc[values.isna(), column].tolist()
            raise StudyError(
                f"{where}.bins.{name}: column {column!r} has values that are not numbers: {preview(bad)}. "
                "Fix: bin a numeric column, or use the column as a factor directly."
            )
        x = values.to_numpy(dtype=float)
        if "quantiles" in spec:
            k = int(spec["quantiles"])
            edges = quantile_type7(x, np.linspace(0, 1, k + 1))
            labels = [f"Q{i}" for i in range(1, k + 1)]
        else:
            edges = np.asarray(spec["breaks"], dtype=float)
            labels = [f"{lo:g}-{hi:g}" for lo, hi in zip(edges[:-1], edges[1:])]
        if np.any(np.diff(edges) <= 0):
            raise StudyError(
                f"{where}.bins.{name}: the bin edges {edges.tolist()} are not increasing "
                f"(ties in {column!r}?). Fix: use fewer quantiles or explicit breaks."
            )
        outside = x[(x < edges[0]) | (x > edges[-1])]
        if outside.size:
            raise StudyError(
                f"{where}.bins.{name}: values {preview(outside.tolist())} of {column!r} lie outside the "
                f"breaks {edges.tolist()}. Fix: widen the first or last break."
            )
        index = np.clip(np.searchsorted(edges, x, side="left") - 1, 0, len(labels) - 1)
        out[name] = [labels[i] for i in index]
        levels[name] = [lv for lv in labels if lv in set(out[name])]
    return out, levels


def design_samples(samples: pd.DataFrame, analysis: Analysis) -> tuple[pd.DataFrame, dict[str, list]]:
    """The sheet with the analysis's derived covariates, and the level order of every factor."""
    samples, bin_levels = add_bins(samples, analysis.bins or {}, f"analyses.{analysis.name}")
    return samples, {**bin_levels, **(analysis.levels or {})}


def design_sheet(
    samples_path: str | Path, samples: list[str], analysis: Analysis, columns: Sequence[str] | None
) -> pd.DataFrame | dict[str, list]:
    """The sample sheet as the design sees it (`design_samples` of `aligned_samples`): rows in
    count-column order, binned covariates added.

    columns : the columns wanted; where none of them is a bin, they are read without pandas
    (0.2 s of a plot job's start) and returned as {column: texts, NaN where missing}
    (`sample_columns`); else, or for None (the whole sheet), the DataFrame.
    """
    if columns is not None and not set(columns) & set(analysis.bins or {}):
        return sample_columns(samples_path, samples, columns)
    # a bin or the whole sheet (a trait's fitted curves; rare): read and binned with pandas
    sheet, _ = design_samples(aligned_samples(samples_path, samples), analysis)
    return sheet
