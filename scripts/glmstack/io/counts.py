"""Count matrices: the header (featureCounts recognised), then the numbers in row chunks.

Every bad cell is named (file, feature, sample, value) with the fix, before any fit.
"""

from __future__ import annotations

import csv
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

from ..errors import StudyError, preview
from .files import DECODE_ERRORS, open_binary, open_text, table_separator, unreadable

if TYPE_CHECKING:  # pandas reads a matrix only where Arrow cannot (and its text columns):
    import pandas as pd  # a plain matrix is read and checked without it (0.2 s of ingest)

FEATURECOUNTS_ANNOTATION = ["Chr", "Start", "End", "Strand", "Length"]
_ALIGNMENT_SUFFIX = re.compile(r"(\.sorted)?\.(bam|sam|cram)$")


@dataclass(frozen=True)
class CountLayout:
    """How a count table is laid out, read from its first lines.

    comment_lines : leading lines starting with '#' (featureCounts writes its command there).
    annotation : columns between the id and the samples: featureCounts' Chr/Start/End/Strand/
    Length (dropped when reading), or the text columns named by `text_columns` (nf-core's
    gene_name: read as text, see glmstack.io.annotation).
    columns : the sample columns as written; samples : their sample ids (for featureCounts
    the BAM paths' file names without .bam).
    """

    path: Path
    separator: str
    comment_lines: int
    id_column: str
    annotation: list[str]
    columns: list[str]
    samples: list[str]


def count_layout(path: str | Path, text_columns: list[str] | tuple = ()) -> CountLayout:
    """Read and check the header of the count matrix (and detect featureCounts output).

    text_columns : the leading columns after the id that hold feature names, not samples
    (found by glmstack.io.annotation.matrix_annotation_columns before any job).
    """
    path = Path(path)
    sep = table_separator(path)
    comments = 0
    line = ""
    try:
        with open_text(path) as fh:
            while line := fh.readline(MAX_HEADER_CHARS):
                if len(line) == MAX_HEADER_CHARS and not line.endswith("\n"):
                    raise StudyError(
                        f"{path}: the first {MAX_HEADER_CHARS:,} characters hold no line break, so this "
                        "is not a table. Fix: point `counts` at a tab- or comma-separated table."
                    )
                if line.startswith("#"):
                    comments += 1
                    continue
                break
    except DECODE_ERRORS as exc:
        raise unreadable(path, exc) from None
    if line.endswith("\r"):  # read with universal newlines here; the readers of the rows split at \n
        raise StudyError(
            f"{path}: its lines end with a carriage return alone (classic Mac OS text); glmstack reads "
            "lines that end in \\n or \\r\\n. Fix: convert it, e.g. `tr '\\r' '\\n' < old.tsv > new.tsv`."
        )
    line = line.rstrip("\r\n")
    if not line:
        raise StudyError(f"{path}: the count matrix is empty. Fix: point `counts` at a non-empty table.")
    fields = next(csv.reader([line], delimiter=sep))  # R's write.csv quotes every name
    if len(fields) < 2:
        other = "tabs" if sep == "," else "commas"
        hint = f" (the header contains {other})" if (("\t" in line) if sep == "," else ("," in line)) else ""
        raise StudyError(
            f"{path}: the header has one column, so the file is not "
            f"{'comma' if sep == ',' else 'tab'}-separated as its name says{hint}. "
            "Fix: name tab-separated files .tsv/.txt and comma-separated files .csv (.gz allowed)."
        )
    id_column, rest = fields[0], fields[1:]
    annotation = [c for c in rest[: len(FEATURECOUNTS_ANNOTATION)] if c in FEATURECOUNTS_ANNOTATION]
    featurecounts = annotation == FEATURECOUNTS_ANNOTATION
    columns = rest[len(annotation) :] if featurecounts else rest
    if not featurecounts:
        annotation = []
        if text_columns:
            if list(rest[: len(text_columns)]) != list(text_columns):
                raise StudyError(
                    f"{path}: the columns after the id are {preview(rest[: len(text_columns)])}, not the "
                    f"name columns {preview(list(text_columns))} found before the run. Fix: rerun (the file changed)."
                )
            annotation = list(text_columns)
            columns = rest[len(annotation) :]
    dup = sorted({c for c in columns if columns.count(c) > 1})
    if dup:
        raise StudyError(
            f"{path}: duplicated column names {preview(dup)} in the header. "
            "Fix: give every sample column a unique name."
        )
    samples = columns
    if featurecounts:
        cleaned = [_ALIGNMENT_SUFFIX.sub("", c.rsplit("/", 1)[-1]) for c in columns]
        if len(set(cleaned)) == len(cleaned):
            samples = cleaned
    return CountLayout(path, sep, comments, id_column, annotation, columns, samples)


def read_count_header(path: str | Path) -> list[str]:
    """Sample ids of the count matrix, in file order."""
    return count_layout(path).samples


@dataclass(frozen=True)
class Counts:
    """gene_id (G,); samples (N,); counts (G, N); n_rounded : counts rounded (round_counts);
    annotation : the matrix's text columns (id first, as written) or None."""

    gene_id: np.ndarray
    samples: list[str]
    counts: np.ndarray
    n_rounded: int = 0
    annotation: pd.DataFrame | None = None


def _cells(gene_id, columns, rows, cols, values=None) -> str:
    shown = []
    for r, c in list(zip(rows, cols))[:5]:
        text = f"{gene_id[r]}/{columns[c]}"
        value = values[r, c] if values is not None else None
        value = value.item() if hasattr(value, "item") else value
        shown.append(text if values is None else f"{text}={value!r}")
    return ", ".join(shown)


MAX_HEADER_CHARS = 1 << 26  # a header line of 64 Mi characters (a million samples) at most
READ_CHUNK_CELLS = 4_000_000  # counts per chunk when reading the matrix (32 MB as float64)


def _parse_error(layout: CountLayout, exc: Exception) -> StudyError:
    return StudyError(
        f"{layout.path}: rows do not all have the header's {len(layout.columns) + 1 + len(layout.annotation)} "
        f"fields ({str(exc).strip()}). Fix: every row needs a feature id and one value per sample."
    )


NA_TEXT = ["", "NA", "NaN", "nan", "N/A", "NULL"]  # cells read as missing (then refused, named)


def _csv_options(layout: CountLayout) -> dict:
    """read_csv options: columns by position (a BOM, an empty or quoted id header change
    nothing), ids always text and never NA, the header and comment lines skipped."""
    names = [f"c{j}" for j in range(1 + len(layout.annotation) + len(layout.columns))]
    return {
        "sep": layout.separator,
        "header": None,
        "names": names,
        "skiprows": layout.comment_lines + 1,
        "index_col": False,
        "keep_default_na": False,
        "na_values": {name: NA_TEXT for name in names[1:]},
        "encoding": "utf-8",
    }


def _read_text(layout: CountLayout) -> pd.DataFrame:
    """The whole table as text, to name bad cells (only read when the numeric pass fails)."""
    import pandas as pd

    try:
        with warnings.catch_warnings():
            # rows longer than the header would otherwise shift into the index or be cut
            warnings.simplefilter("error", pd.errors.ParserWarning)
            options = {**_csv_options(layout), "na_values": None}
            return pd.read_csv(layout.path, dtype=str, **options)
    except DECODE_ERRORS as exc:
        raise unreadable(layout.path, exc) from None
    except (pd.errors.ParserError, pd.errors.ParserWarning, ValueError) as exc:
        raise _parse_error(layout, exc) from None


def read_numbers(
    layout: CountLayout, allow_missing: bool = False, text: list | None = None
) -> tuple[np.ndarray, np.ndarray] | None:
    """Feature ids and values (float64, row-major), read by Arrow's multi-threaded CSV reader
    where it can, else in row chunks of about READ_CHUNK_CELLS counts.

    Returns None as soon as a chunk holds text (or, unless `allow_missing`, blanks or NA): the
    caller then reads the table as text to name the bad cells. Missing cells are NaN. Chunks
    keep the peak memory near one copy of the matrix. `text`: a list that receives, per chunk,
    the layout's annotation columns as text (id first), read in the same pass.
    """
    fast = _read_numbers_arrow(layout, allow_missing, text)
    if fast is not None:
        return fast
    import pandas as pd

    first = 1 + len(layout.annotation)
    rows = max(1, READ_CHUNK_CELLS // max(1, len(layout.samples)))
    ids, blocks = [], []
    types = {f"c{j}": str for j in range(first if text is not None else 1)}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)  # as in _read_text
            reader = pd.read_csv(layout.path, dtype=types, chunksize=rows, **_csv_options(layout))
            with reader:
                for chunk in reader:
                    values = chunk.iloc[:, first:]
                    if not all(kind in "iuf" for kind in (dtype.kind for dtype in values.dtypes)):
                        return None
                    block = values.to_numpy(dtype=float)
                    if not allow_missing and np.isnan(block).any():
                        return None
                    ids.append(chunk.iloc[:, 0].to_numpy(dtype=str))
                    blocks.append(block)
                    if text is not None:
                        text.append(chunk.iloc[:, :first])
    except DECODE_ERRORS as exc:
        raise unreadable(layout.path, exc) from None
    except (pd.errors.ParserError, pd.errors.ParserWarning, ValueError) as exc:
        raise _parse_error(layout, exc) from None
    if not blocks:
        return np.zeros(0, dtype=str), np.zeros((0, len(layout.samples)))
    # the chunks are column-major (pandas' layout): one copy into the row-major matrix
    matrix = np.empty((sum(len(b) for b in blocks), len(layout.samples)))
    return np.concatenate(ids), np.concatenate(blocks, out=matrix)


ARROW_BLOCK_BYTES = 1 << 24  # text per parsed block: few, large batches (per-column calls are the cost)
PIECE_BYTES = 1 << 26  # text per piece of `numbers_in_pieces`: four of Arrow's blocks, parsed in parallel


def _read_numbers_arrow(
    layout: CountLayout, allow_missing: bool, text: list | None
) -> tuple[np.ndarray, np.ndarray] | None:
    """`read_numbers` through pyarrow.csv (parallel, four times the chunked reader's speed on
    two cores), or None wherever the table is not plain numbers (text in a cell, a ragged row,
    an undecodable byte, blanks or NA where not allowed): the chunked reader then reads it and
    names what is wrong, so the messages do not depend on this path. Numbers are parsed
    correctly rounded (as R's fread does). Peak memory: the parsed table and the matrix."""
    return _parse_arrow(layout.path, layout.comment_lines + 1, layout, allow_missing, text)


def numbers_in_pieces(
    layout: CountLayout, allow_missing: bool = False, text: list | None = None
) -> Iterator[tuple[np.ndarray, np.ndarray] | None]:
    """`_read_numbers_arrow` piece by piece: (ids, values) of about PIECE_BYTES of text at a
    time, in file order, so that the caller holds one piece, not the matrix. Yields None (and
    stops) at the first piece that is not plain numbers: the caller reads the rest otherwise."""
    try:
        with open_binary(layout.path) as fh:
            for _ in range(layout.comment_lines + 1):
                fh.readline()
            rest = b""
            while chunk := fh.read(PIECE_BYTES):
                data = rest + chunk
                cut = data.rfind(b"\n") + 1  # pieces end at a line end (Arrow's rows never span lines)
                rest = data[cut:]
                if cut:
                    piece = _parse_arrow(pa.BufferReader(data[:cut]), 0, layout, allow_missing, text)
                    yield piece
                    if piece is None:
                        return
            if rest.strip():
                yield _parse_arrow(pa.BufferReader(rest), 0, layout, allow_missing, text)
    except DECODE_ERRORS:
        yield None


LINE_COUNT_BYTES = 1 << 24  # bytes read at a time to count a file's lines


def data_lines(layout: CountLayout) -> int | None:
    """The lines after the header, counted without parsing them: an upper bound on the rows
    (blank lines are not rows), to plan shards before reading. None where it would not be one,
    a file with carriage returns alone as line ends (old Mac exports), and for a gzipped file,
    whose count would cost a second decompression."""
    if str(layout.path).endswith(".gz"):
        return None
    lines, returns, last = 0, 0, b"\n"
    with open(layout.path, "rb", buffering=0) as fh:
        while block := fh.read(LINE_COUNT_BYTES):
            lines += block.count(b"\n")
            returns += block.count(b"\r") - block.count(b"\r\n")  # each \r not followed by \n
            returns -= last == b"\r" and block[:1] == b"\n"  # a \r\n split between two blocks
            last = block[-1:]
    if returns:
        return None
    return lines + (last != b"\n") - (layout.comment_lines + 1)


def _parse_arrow(source, skip_rows: int, layout: CountLayout, allow_missing: bool, text: list | None):
    """Ids and the row-major float64 matrix of CSV text (a path or a buffer), or None."""
    first = 1 + len(layout.annotation)
    names = [f"c{j}" for j in range(first + len(layout.columns))]
    try:
        table = pa_csv.read_csv(
            source,
            read_options=pa_csv.ReadOptions(skip_rows=skip_rows, column_names=names, block_size=ARROW_BLOCK_BYTES),
            parse_options=pa_csv.ParseOptions(delimiter=layout.separator),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() if j < first else pa.float64() for j, name in enumerate(names)},
                null_values=NA_TEXT,
                strings_can_be_null=False,
            ),
        )
    except (pa.ArrowException, *DECODE_ERRORS):
        return None  # a cell of text (not a number) included: the chunked reader names it
    values = table.select(names[first:])
    if not allow_missing and any(column.null_count for column in values.columns):
        return None
    # batch by batch into the row-major matrix (nulls -> NaN)
    matrix = np.empty((table.num_rows, len(layout.columns)))
    start = 0
    for batch in values.to_batches():
        by_sample = np.empty((batch.num_columns, batch.num_rows))
        for j, column in enumerate(batch.columns):
            by_sample[j] = _float_values(column)
        matrix[start : start + batch.num_rows] = by_sample.T
        start += batch.num_rows
    ids = np.array(table.column(0).to_pylist(), dtype=str)
    if text is not None:  # as the chunked reader gives them: NA text in a name column is missing
        frame = table.select(names[:first]).to_pandas()
        for name in names[1:first]:
            frame[name] = frame[name].where(~frame[name].isin(NA_TEXT))
        text.append(frame)
    return ids, matrix


def _float_values(column: pa.Array) -> np.ndarray:
    """A float64 Arrow array's values, NaN where null, from its buffers (Arrow's to_numpy
    imports pandas: 0.2 s of every ingest)."""
    validity, data = column.buffers()
    values = np.frombuffer(data, dtype=np.float64, count=column.offset + len(column))[column.offset :]
    if not column.null_count:
        return values
    valid = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")
    return np.where(valid[column.offset : column.offset + len(column)].astype(bool), values, np.nan)


def check_feature_ids(layout: CountLayout, gene_id: np.ndarray) -> None:
    """Feature ids are neither empty nor NA, and unique (StudyError naming rows or ids)."""
    blank_ids = np.flatnonzero(np.isin(np.char.strip(gene_id), NA_TEXT))
    if blank_ids.size:
        raise StudyError(
            f"{layout.path}: feature ids are empty or NA on data rows {preview((blank_ids + 1).tolist())}. "
            "Fix: give every row a unique feature id."
        )
    order = np.argsort(gene_id, kind="stable")
    ranked = gene_id[order]
    repeats = np.sort(order[1:][ranked[1:] == ranked[:-1]])  # rows of second and later occurrences
    dup = list(dict.fromkeys(gene_id[repeats].tolist()))  # each id once, in order of its first repeat
    if dup:
        raise StudyError(
            f"{layout.path}: duplicated feature ids in column {layout.id_column!r}: {preview(dup)}. "
            "Fix: make ids unique (e.g. sum or drop duplicated rows)."
        )


def read_counts(
    path: str | Path, exclude: list[str] | tuple = (), round_counts: bool = False,
    text_columns: list[str] | tuple = (),
) -> Counts:
    """Read and check the count matrix: unique ids, numbers, non-negative integers, no blanks.

    featureCounts tables are recognised by their header and read without the annotation
    columns. With `round_counts`, non-integer values (estimated counts from salmon, kallisto,
    RSEM) are rounded to the nearest integer, as tximport's users do for DESeq2.
    `text_columns` (nf-core's gene_name) are returned as `annotation`, read in the same pass.
    """
    layout = count_layout(path, text_columns)
    path = layout.path
    text_chunks: list | None = [] if text_columns else None
    table = read_numbers(layout, text=text_chunks)
    if table is None:  # slow path: the cells as text, to name the bad ones
        import pandas as pd

        frame = _read_text(layout)
        gene_id = frame.iloc[:, 0].astype(str).to_numpy(dtype=str)
        text = frame.iloc[:, 1 + len(layout.annotation) :].to_numpy(dtype=str)
        numbers = pd.DataFrame(text).apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
        if text_chunks is not None:
            text_chunks[:] = [frame.iloc[:, : 1 + len(layout.annotation)]]
    else:
        gene_id, numbers = table
        text = None
    if gene_id.size == 0:
        raise StudyError(f"{path}: the count matrix has a header but no features. Fix: check the file.")
    check_feature_ids(layout, gene_id)
    keep = [j for j, s in enumerate(layout.samples) if s not in set(exclude)]
    if len(keep) < len(layout.samples):
        numbers = numbers[:, keep]
        text = None if text is None else text[:, keep]
    samples = [layout.samples[j] for j in keep]
    bad = np.isnan(numbers)
    if bad.any():
        rows, cols = np.nonzero(bad)
        shown = text if text is not None else numbers
        cells = np.array([str(shown[r, c]).strip() for r, c in zip(rows, cols)])
        blank = np.isin(cells, ["", "NA", "nan", "NaN", "None"])
        what = "blank or NA" if blank.all() else ("not numbers" if not blank.any() else "blank, NA or not numbers")
        raise StudyError(
            f"{path}: {bad.sum()} cells are {what}, e.g. {_cells(gene_id, samples, rows, cols, shown)}. "
            "Fix: every cell must be a non-negative integer count (write 0 for no reads)."
        )
    if not np.isfinite(numbers).all():
        rows, cols = np.nonzero(~np.isfinite(numbers))
        raise StudyError(f"{path}: {len(rows)} cells are infinite, e.g. {_cells(gene_id, samples, rows, cols)}.")
    negative = numbers < 0
    if negative.any():
        rows, cols = np.nonzero(negative)
        raise StudyError(
            f"{path}: {len(rows)} negative counts, e.g. {_cells(gene_id, samples, rows, cols, numbers)}. "
            "Fix: counts must be >= 0 (is this a log-scale or normalised matrix? glmstack needs raw counts)."
        )
    # in row blocks: a rounded copy of the whole matrix is a fifth of the job at 1000 samples
    step = max(1, READ_CHUNK_CELLS // max(1, numbers.shape[1]))
    blocks = (numbers[i : i + step] for i in range(0, len(numbers), step))
    n_rounded = sum(int(np.count_nonzero(block != np.round(block))) for block in blocks)
    if n_rounded and not round_counts:
        rows, cols = np.nonzero(numbers != np.round(numbers))
        raise StudyError(
            f"{path}: {n_rounded} counts are not integers, e.g. {_cells(gene_id, samples, rows, cols, numbers)}. "
            "Fix: give raw integer counts; for estimated counts (salmon, kallisto, RSEM) set "
            "`round_counts: true` in the study YAML to round them, as tximport users do."
        )
    if n_rounded:
        numbers = np.round(numbers)
    annotation = None
    if text_chunks is not None:
        import pandas as pd

        annotation = pd.concat(text_chunks, ignore_index=True) if text_chunks else pd.DataFrame(columns=["c0"])
        annotation.columns = [layout.id_column, *layout.annotation]
    return Counts(gene_id=gene_id, samples=samples, counts=np.ascontiguousarray(numbers), n_rounded=n_rounded,
                  annotation=annotation)


def zero_samples(counts: np.ndarray, samples: list[str], where: str) -> None:
    """Refuse an all-zero matrix and samples whose counts are all zero."""
    if counts.shape[0] == 0 or not counts.any():
        raise StudyError(f"{where}: every count is zero (or there are no features); nothing to fit.")
    empty = [s for s, total in zip(samples, counts.sum(axis=0)) if total == 0]
    if empty:
        raise StudyError(
            f"{where}: sample(s) {preview(empty)} have zero counts for every feature. "
            "Fix: leave them out with `exclude_samples:` in the study YAML."
        )
