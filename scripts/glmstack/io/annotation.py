"""Feature annotation: names (gene_name, biotype, ...) carried beside the feature id.

Two sources, both optional: a study's `annotation:` table (the feature id in its first column,
or in a column named as the matrix's id column; any other columns), and the text columns that
nf-core/rnaseq's merged tables hold between the id and the samples (`gene_id, gene_name,
sample...`). Ingest aligns them to the features, in input order, as `<outdir>/features.tsv`
(the id, then the annotation columns; only the id when there is none). Every table writer
calls `glmstack.io.features.annotate(table, features)`, so the annotation columns follow the
feature id in every table; plots and the report name a feature by `feature_labels` (its name where one exists).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import StudyError, preview
from .files import DECODE_ERRORS, table_header, table_separator, unreadable

if TYPE_CHECKING:  # imported where used: `feature_labels` serves plot jobs that start without pandas
    import pandas as pd

FEATURES_FILE = "features.tsv"  # in outdir: feature ids in input order and their annotation
# columns that name a feature, in order of preference (case-insensitive): the plots' labels
NAME_COLUMNS = ("gene_name", "gene_symbol", "symbol", "external_gene_name", "hgnc_symbol", "mgi_symbol",
                "gene", "name", "feature_name")
# columns of glmstack's tables (nb results and dispersions.tsv, limma's tables): an annotation
# column of the same name would be ambiguous. Names starting with log2FoldChange or lfcSE are
# reserved too (per-contrast and shrunken fold changes).
TABLE_COLUMNS = frozenset(
    {"gene_id", "feature_id", "baseMean", "log2FoldChange", "lfcSE", "stat", "pvalue", "padj",
     "dispGeneEst", "dispFit", "dispersion", "dispOutlier", "maxCooks",
     "logFC", "AveExpr", "t", "P.Value", "adj.P.Val", "B", "F"}
)  # fmt: skip
RESERVED_PREFIXES = ("log2FoldChange", "lfcSE")
MATRIX_SCAN_ROWS = 1000  # rows read at parse time to tell a text column of the matrix from a sample


def reserved_column(name: str) -> bool:
    """Whether a glmstack table has (or may have) a column of this name."""
    return name in TABLE_COLUMNS or name.startswith(RESERVED_PREFIXES)


def read_annotation(path: str | Path, id_column: str | None = None) -> pd.DataFrame:
    """A study's `annotation:` table, checked; all cells text, empty ones NaN.

    Parameters
    ----------
    path : TSV or CSV (.gz ok). id_column : the count matrix's id header; a column of that
        name (case-insensitive) holds the feature ids, else the first column does.

    Returns
    -------
    DataFrame: the id column first (under its own name), then the other columns in file order.

    Raises
    ------
    StudyError : unreadable, no column besides the id, empty column names, blank or duplicated ids.
    """
    import pandas as pd

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(path, sep=table_separator(path), dtype=str, keep_default_na=False,
                                na_values=["", "NA"], index_col=False, encoding="utf-8-sig")  # fmt: skip
    except pd.errors.EmptyDataError:
        raise StudyError(f"{path}: the annotation table is empty. Fix: a header, then one row per feature.") from None
    except DECODE_ERRORS as exc:
        raise unreadable(Path(path), exc) from None
    except (pd.errors.ParserError, pd.errors.ParserWarning) as exc:
        raise StudyError(
            f"{path}: the annotation cannot be read as a {'comma' if table_separator(path) == ',' else 'tab'}"
            f"-separated table ({str(exc).strip()}). Fix: the same number of fields in every row."
        ) from None
    columns = [str(c) for c in frame.columns]
    if any(c.startswith("Unnamed:") for c in columns):
        raise StudyError(f"{path}: the annotation's header has empty column names. Fix: name every column.")
    if len(columns) < 2:
        raise StudyError(
            f"{path}: the annotation has one column ({columns[0]!r}); it needs the feature id and at least "
            "one more (e.g. gene_name). Fix: check the separator (.tsv: tabs, .csv: commas)."
        )
    named = [c for c in columns if id_column is not None and c.lower() == id_column.lower()]
    key = named[0] if named else columns[0]
    frame = frame[[key, *[c for c in columns if c != key]]]
    ids = frame[key]
    blank = np.flatnonzero(ids.isna().to_numpy())
    if blank.size:
        raise StudyError(
            f"{path}: column {key!r} (the feature id) is empty on data rows {preview((blank + 1).tolist())}. "
            "Fix: give every row a feature id, or delete those rows."
        )
    dup = ids[ids.duplicated()].unique().tolist()
    if dup:
        raise StudyError(
            f"{path}: duplicated feature ids in column {key!r}: {preview(dup)}. Fix: one row per feature "
            "(e.g. join the names of duplicated rows, or keep one)."
        )
    return frame


def check_annotation_columns(columns: Sequence[str], where: str) -> None:
    """Annotation column names: none is a column of glmstack's tables, none is repeated."""
    clash = [c for c in columns if reserved_column(c)]
    if clash:
        raise StudyError(
            f"{where}: annotation column(s) {preview(clash)} have the name of a column of glmstack's result "
            "tables, so the tables would hold two columns of that name. Fix: rename them in the annotation "
            f"(e.g. {clash[0]!r} -> {clash[0] + '_annotation'!r})."
        )
    dup = sorted({c for c in columns if list(columns).count(c) > 1})
    if dup:
        raise StudyError(
            f"{where}: annotation column(s) {preview(dup)} are given twice (by the count matrix and the "
            "`annotation:` table, or twice in one of them). Fix: rename or remove one of them."
        )


def matrix_annotation_columns(layout, known_samples: set[str]) -> list[str]:
    """Text columns of a matrix between its id and its samples (nf-core/rnaseq's gene_name).

    A column counts only if it comes before every sample column, is not named in the sample
    sheet (nor in exclude_samples: `known_samples`), and holds text (a value that is not a
    number) in the first MATRIX_SCAN_ROWS rows; the first column that fails ends the run. So a
    sample missing from the sheet is never taken for a name column: it holds numbers, and is
    refused as before. featureCounts tables (their own columns, layout.annotation) have none.
    """
    import pandas as pd

    from .counts import NA_TEXT

    if layout.annotation:
        return []
    leading = []
    for column in layout.columns:
        if column in known_samples:
            break
        leading.append(column)
    if not leading or len(leading) == len(layout.columns):
        return []  # no sample column named in the sheet: the sheet check says what is wrong
    try:
        head = pd.read_csv(
            layout.path, sep=layout.separator, header=None, skiprows=layout.comment_lines + 1,
            usecols=range(1, 1 + len(leading)), nrows=MATRIX_SCAN_ROWS, dtype=str, keep_default_na=False,
            encoding="utf-8-sig", index_col=False,
        )  # fmt: skip
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, *DECODE_ERRORS):
        return []  # a malformed matrix: the sheet check or the ingest job names what is wrong
    found = []
    for j, column in enumerate(leading):
        text = head.iloc[:, j].str.strip()
        text = text[~text.isin(NA_TEXT)]  # blanks and NA say nothing (a values matrix has them)
        if text.empty or pd.to_numeric(text, errors="coerce").notna().all():
            break
        found.append(column)
    return found


def align_annotation(
    feature_id: np.ndarray, tables: Sequence[pd.DataFrame], where: Sequence[str]
) -> tuple[pd.DataFrame, list[str]]:
    """features.tsv: `feature_id` (input order), then every annotation column, matched by id.

    tables : annotation frames, each with its id in the first column (the matrix's own text
    columns, then the `annotation:` table); where : their file names, for messages.
    Features without annotation get empty cells. Returns the frame and warnings (annotation
    ids that match no feature, with a count). StudyError when no id of a table matches.
    """
    import pandas as pd

    out = pd.DataFrame({"feature_id": np.asarray(feature_id, dtype=str)})
    messages = []
    for table, name in zip(tables, where):
        ids = table.iloc[:, 0].astype(str)
        matched = ids.isin(set(out["feature_id"]))
        if not matched.any():
            raise StudyError(
                f"{name}: none of its {len(ids):,} feature ids ({preview(ids.tolist()[:3])}) is a feature "
                f"of the matrix ({preview(out['feature_id'].tolist()[:3])}). Fix: give the annotation the "
                "matrix's ids (same kind and version suffix, e.g. ENSG00000000003 vs ENSG00000000003.15)."
            )
        if not matched.all():
            messages.append(
                f"{name}: {int((~matched).sum()):,} of {len(ids):,} annotation ids match no feature of the "
                f"matrix (e.g. {preview(ids[~matched].tolist()[:3])}); they are ignored."
            )
        values = table.set_index(ids).iloc[:, 1:]
        out = out.join(values, on="feature_id")
    return out, messages


def annotation_columns(features_path: str | Path) -> list[str]:
    """The annotation columns of a study: features.tsv's header after the id."""
    return table_header(features_path)[1:]


def read_table(path: str | Path, annotation: Sequence[str] = ()) -> pd.DataFrame:
    """A table written by glmstack (TSV, empty = NA): the id (first column) and the
    `annotation` columns as text, the other columns as pandas reads them."""
    import pandas as pd

    with open(path, encoding="utf-8") as fh:
        header = fh.readline().rstrip("\r\n").split("\t")
    text = {header[0], *annotation}
    return pd.read_csv(path, sep="\t", dtype={c: str for c in header if c in text}, keep_default_na=False,
                       na_values=[""])  # fmt: skip


def name_column(columns: Sequence[str]) -> str | None:
    """The annotation column that names features (NAME_COLUMNS, case-insensitive), if any."""
    lower = {str(c).lower(): c for c in columns}
    return next((lower[n] for n in NAME_COLUMNS if n in lower), None)


def feature_labels(table, annotation: Sequence[str] = ()) -> list[str]:
    """A label per row: the feature's name where an `annotation` column names features
    (NAME_COLUMNS) and the cell is not blank, else its id (the first column).

    table : a dict of columns (text, "" where empty) or a pandas DataFrame (NaN where empty).
    """
    columns = list(table)
    ids = np.asarray(table[columns[0]]).astype(str)
    column = name_column([c for c in annotation if c in columns])
    if column is None:
        return ids.tolist()
    names = table[column] if isinstance(table, Mapping) else table[column].fillna("")
    names = np.asarray(names).astype(str)
    return np.where(np.char.strip(names) != "", names, ids).tolist()


def study_features(
    feature_id: np.ndarray, matrix_path: str | Path, matrix_text: pd.DataFrame | None = None,
    annotation_path: str | Path | None = None, id_column: str | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """features.tsv of a study (rule ingest): the ids in input order and every annotation column.

    matrix_path : the feature matrix (or, for transcript quantifications, the tx2gene table);
    matrix_text : the matrix's name columns, id first (glmstack.io.counts.Counts.annotation);
    annotation_path : the study's `annotation:` table; id_column : the annotation's id header
    (default: the matrix's id header). Returns the frame and the warnings of `align_annotation`.
    """
    from .counts import count_layout  # the matrix header names the annotation's id column

    if annotation_path and id_column is None:
        id_column = count_layout(matrix_path).id_column
    tables, where = [], []
    if matrix_text is not None and matrix_text.shape[1] > 1:
        tables.append(matrix_text)
        where.append(str(matrix_path))
    if annotation_path:
        tables.append(read_annotation(annotation_path, id_column))
        where.append(str(annotation_path))
    features, messages = align_annotation(feature_id, tables, where)
    check_annotation_columns(list(features.columns[1:]), ", ".join(where) or str(matrix_path))
    return features, messages
