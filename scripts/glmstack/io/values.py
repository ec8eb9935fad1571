"""Value matrices (`values:`): log-scale numbers for the gaussian family, NA allowed.

The same layout as a count matrix (glmstack.io.counts: header, ids as text by position, row
chunks), but any finite number is a value and empty or NA cells are missing observations
(NaN), fitted as limma does: each feature on the samples it has. A feature with no value at
all is kept; its statistics are NA in the tables, as in limma. Text and infinite cells are
refused, each named (file, feature, sample, value), before any fit.
"""

from __future__ import annotations

from collections.abc import Iterator
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
    data_lines,
    numbers_in_pieces,
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


class ValueReader:
    """A value matrix read and checked block by block (memory: one block of rows, not the matrix).

    Parameters
    ----------
    path : TSV/CSV (.gz ok), features x samples, first column the feature id.
    exclude : sample ids to leave out.
    text_columns : the name columns between the id and the samples (a probe's gene symbol,
        found by glmstack.io.annotation.matrix_annotation_columns), collected as `annotation`.

    `blocks()` yields (feature ids, values) in file order; each block is checked (numbers or
    NA in every cell, none infinite) before it is yielded, and the ids of the whole file
    (unique, none empty) after the last. Then `feature_id`, `n_missing`, `n_empty` and
    `annotation` describe the whole matrix. StudyError names the file and the bad cells
    (feature/sample=value) with the fix.
    """

    def __init__(self, path: str | Path, exclude: list[str] | tuple = (), text_columns: list[str] | tuple = ()):
        self.layout = count_layout(path, text_columns)
        self.keep = [j for j, s in enumerate(self.layout.samples) if s not in set(exclude)]
        self.samples = [self.layout.samples[j] for j in self.keep]
        self.feature_id = np.zeros(0, dtype=str)
        self.n_missing = self.n_empty = 0
        self.annotation: pd.DataFrame | None = None

    def blocks(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        layout = self.layout
        text: list | None = [] if layout.annotation else None
        ids: list[np.ndarray] = []
        done = 0
        for piece in numbers_in_pieces(layout, allow_missing=True, text=text):
            if piece is None:  # text somewhere: read the table as text to name the cells
                feature_id, numbers, frame = _read_as_text(layout)
                if text is not None:  # the pieces before it gave their name columns already
                    text.append(frame.iloc[done:])
                piece = feature_id[done:], numbers[done:]
            block_ids, numbers = piece
            numbers = numbers[:, self.keep] if len(self.keep) < len(layout.samples) else numbers
            self._check(block_ids, numbers)
            ids.append(block_ids)
            done += len(block_ids)
            yield block_ids, numbers
        self.feature_id = np.concatenate(ids) if ids else np.zeros(0, dtype=str)
        if self.feature_id.size == 0:
            raise StudyError(f"{layout.path}: the value matrix has a header but no features. Fix: check the file.")
        check_feature_ids(layout, self.feature_id)
        if text is not None:
            self.annotation = pd.concat(text, ignore_index=True)
            self.annotation.columns = [layout.id_column, *layout.annotation]

    def max_rows(self) -> int | None:
        """An upper bound on the features, from the file's lines (None where they are not counted:
        a gzipped file, a lone carriage return; io.counts.data_lines)."""
        return data_lines(self.layout)

    def _check(self, feature_id: np.ndarray, numbers: np.ndarray) -> None:
        infinite = np.isinf(numbers)
        if infinite.any():
            rows, cols = np.nonzero(infinite)
            raise StudyError(
                f"{self.layout.path}: {len(rows)} cells are infinite, e.g. "
                f"{_cells(feature_id, self.samples, rows, cols, numbers)}. Fix: give log-scale values (e.g. log2 "
                "of intensities plus an offset); write NA where missing."
            )
        missing = np.isnan(numbers)
        self.n_missing += int(missing.sum())
        self.n_empty += int(missing.all(axis=1).sum())


def _read_as_text(layout) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """The whole table read as text (ids, numbers, name columns), for the tables Arrow cannot
    parse; StudyError naming the cells that are neither numbers nor NA."""
    frame = _read_text(layout)
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
    return feature_id, numbers, frame.iloc[:, : 1 + len(layout.annotation)]


def read_values(path: str | Path, exclude: list[str] | tuple = (), text_columns: list[str] | tuple = ()) -> Values:
    """The whole value matrix at once (ValueReader's blocks, stacked)."""
    reader = ValueReader(path, exclude, text_columns)
    blocks = [values for _, values in reader.blocks()]
    values = np.concatenate(blocks) if len(blocks) > 1 else np.ascontiguousarray(blocks[0])
    return Values(reader.feature_id, reader.samples, values, reader.n_missing, reader.n_empty, reader.annotation)
