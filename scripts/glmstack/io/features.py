"""features.tsv (written by ingest: the feature ids in input order, then the annotation columns)
read back, and its annotation columns joined to a result table.

Without pandas: the NB table job (`merge`) holds its tables as columns
(a dict of arrays) and import no pandas, 0.2 s of each job's start; frames are annotated too.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import StudyError, preview


@dataclass(frozen=True)
class Features:
    """features.tsv: `ids` (F,) text; `columns` the annotation columns (F,) text, "" where empty."""

    ids: np.ndarray
    columns: dict[str, np.ndarray]


def read_features(path: str | Path) -> Features:
    """features.tsv as ingest writes it (tab-separated, csv quoting where a field needs it)."""
    with open(path, encoding="utf-8", newline="") as fh:
        header, *rows = list(csv.reader(fh, delimiter="\t"))
    cells = [np.array([row[j] for row in rows], dtype=str) for j in range(len(header))]
    return Features(cells[0], dict(zip(header[1:], cells[1:])))


def annotate(table, features: Features | None):
    """`table` with the annotation columns of `features` right after its first column (the id).

    table : a per-feature table whose first column is the feature id (gene_id, feature_id):
        a dict of columns, or a pandas DataFrame (index kept).
    Rows are matched by id, so `table` may hold any subset of features, in any order. A feature
    without annotation gets "" in a dict and NaN in a DataFrame (an empty cell either way).
    Without annotation columns the table is returned unchanged. StudyError when an annotation
    column is already a column of `table`.
    """
    if features is None or not features.columns:
        return table
    names = [str(c) for c in table]
    clash = [c for c in features.columns if c in names]
    if clash:
        raise StudyError(
            f"annotation column(s) {preview(clash)} are also columns of this result table. Fix: rename "
            "them in the annotation table (or the count matrix's header)."
        )
    rows, found = _positions(features.ids, np.asarray(table[names[0]]).astype(str))
    frame = not isinstance(table, Mapping)  # a DataFrame: NaN for missing text, as pandas reads it
    joined = {}
    for name, values in features.columns.items():
        picked = values[rows] if values.size else np.full(rows.size, "")
        text = found & (picked != "")
        if frame:
            joined[name] = picked.astype(object)
            joined[name][~text] = np.nan
        else:
            joined[name] = np.where(text, picked, "")
    if frame:
        import pandas as pd  # a frame's caller has it loaded

        return pd.concat([table.iloc[:, :1], pd.DataFrame(joined, index=table.index), table.iloc[:, 1:]], axis=1)
    first, *rest = names
    return {first: table[first], **joined, **{name: table[name] for name in rest}}


def _positions(ids: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each wanted id's row in `ids` (unique; 0 where absent) and whether it is there, by a
    binary search in the sorted ids rather than a lookup per gene."""
    if ids.size == 0:
        return np.zeros(wanted.size, dtype=np.intp), np.zeros(wanted.size, dtype=bool)
    order = np.argsort(ids, kind="stable")
    at = np.minimum(np.searchsorted(ids, wanted, sorter=order), ids.size - 1)
    rows = order[at]
    found = ids[rows] == wanted
    return np.where(found, rows, 0), found
