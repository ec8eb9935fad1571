"""Value matrices (`values:`): log-scale numbers for the gaussian family, NA allowed.

The same layout as a count matrix (glmstack.io.counts: header, ids as text by position, row
chunks), but any finite number is a value and empty or NA cells are missing observations
(NaN), fitted as limma does: each feature on the samples it has. A feature with no value at
all is kept; its statistics are NA in the tables, as in limma. Text and infinite cells are
refused, each named (file, feature, sample, value), before any fit.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import StudyError
from .counts import (
    NA_TEXT,
    _cells,
    _read_text,
    check_feature_ids,
    count_layout,
    read_numbers,
)


@dataclass(frozen=True)
class Values:
    """feature_id (G,) text; samples (N,) ids; values (G, N) float64, NaN where missing;
    n_missing : missing cells; n_empty : features with no value at all (kept, NA in tables)."""

    feature_id: np.ndarray
    samples: list[str]
    values: np.ndarray
    n_missing: int
    n_empty: int
    annotation: pd.DataFrame | None = None


def read_values(path: str | Path, exclude: list[str] | tuple = (), text_columns: list[str] | tuple = ()) -> Values:
    """Read and check a value matrix: unique ids, numbers or NA in every cell, none infinite.

    Parameters
    ----------
    path : TSV/CSV (.gz ok), features x samples, first column the feature id.
    exclude : sample ids to leave out.
    text_columns : the name columns between the id and the samples (a probe's gene symbol,
        found by glmstack.io.annotation.matrix_annotation_columns), returned as `annotation`.

    Raises
    ------
    StudyError : naming the file and the bad cells (feature/sample=value) with the fix.
    """
    layout = count_layout(path, text_columns)
    text_chunks: list | None = [] if text_columns else None
    table = read_numbers(layout, allow_missing=True, text=text_chunks)
    if table is None:  # slow path: the cells as text, to name the ones that are not numbers
        frame = _read_text(layout)
        if text_chunks is not None:
            text_chunks[:] = [frame.iloc[:, : 1 + len(layout.annotation)]]
        feature_id = frame.iloc[:, 0].astype(str).to_numpy(dtype=str)
        text = frame.iloc[:, 1 + len(layout.annotation) :].to_numpy(dtype=str)
        numbers = pd.DataFrame(text).apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
        missing = np.isin(np.char.strip(text), NA_TEXT + ["nan", "None"])
        bad = np.isnan(numbers) & ~missing
        if bad.any():
            rows, cols = np.nonzero(bad)
            raise StudyError(
                f"{layout.path}: {bad.sum()} cells are not numbers, e.g. "
                f"{_cells(feature_id, layout.samples, rows, cols, text)}. Fix: every cell must be a "
                "number on the log scale, or empty / NA where the value is missing."
            )
    else:
        feature_id, numbers = table
    if feature_id.size == 0:
        raise StudyError(f"{layout.path}: the value matrix has a header but no features. Fix: check the file.")
    check_feature_ids(layout, feature_id)
    keep = [j for j, s in enumerate(layout.samples) if s not in set(exclude)]
    numbers = numbers[:, keep] if len(keep) < len(layout.samples) else numbers
    samples = [layout.samples[j] for j in keep]
    infinite = np.isinf(numbers)
    if infinite.any():
        rows, cols = np.nonzero(infinite)
        raise StudyError(
            f"{layout.path}: {len(rows)} cells are infinite, e.g. {_cells(feature_id, samples, rows, cols, numbers)}. "
            "Fix: give log-scale values (e.g. log2 of intensities plus an offset); write NA where missing."
        )
    missing = np.isnan(numbers)
    n_empty = int(np.sum(missing.all(axis=1)))
    annotation = None
    if text_chunks is not None:
        annotation = pd.concat(text_chunks, ignore_index=True)
        annotation.columns = [layout.id_column, *layout.annotation]
    return Values(feature_id, samples, np.ascontiguousarray(numbers), int(missing.sum()), n_empty, annotation)
