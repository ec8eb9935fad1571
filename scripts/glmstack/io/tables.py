"""Tables and matrices as TSV text, through Arrow (written atomically, as glmstack.io.files)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from .column_codes import ColumnCodes
from .files import atomic_write


def write_tsv(path: str | Path, table) -> None:
    """Tab-separated, a header line, NA as empty, values as `write_rows` writes them.

    table : a dict of equal-length columns or a pandas DataFrame (its columns, not its index).
    """
    with atomic_write(path) as fh:
        write_rows(fh, [[str(name)] for name in table])
        write_rows(fh, [column for _, column in table.items()])


def write_rows(fh: IO[bytes], columns: Sequence) -> None:
    """Tab-separated lines, one per row, of equal-length columns (sequences or Series).

    Floats are written as the shortest text that reads back as the same double (Arrow's CSV
    writer, vectorised; 5-10x faster than formatting with %g per value, and exact): `1e-7`,
    `0.1`, `100`, `inf`; NaN and other missing values as an empty field. Other values are
    written as str() writes them, quoted as csv does where they hold a tab, a quote or a line
    break (Arrow writes no quotes: such columns go through `_quoted_lines`). Arrow arrays are
    written as they are, unchecked: text that needs no quotes (`tsv_matrices`'s float text).
    """
    arrays = [_arrow_column(column) for column in columns]
    if not arrays or len(arrays[0]) == 0:
        return
    if any(_needs_quotes(a) for column, a in zip(columns, arrays) if not isinstance(column, pa.Array)):
        fh.write(_quoted_lines(arrays))
        return
    pa_csv.write_csv(pa.table(arrays, names=[str(j) for j in range(len(arrays))]), fh, _CSV)


_STRUCTURAL = '[\t"\n\r]'  # characters a field must be quoted for
_CSV = pa_csv.WriteOptions(include_header=False, delimiter="\t", quoting_style="none")


def _arrow_column(column) -> pa.Array:
    """Floats as float64 (NaN -> null: an empty field), everything else as its text.

    Built from the arrays' buffers: `pa.array` imports pandas, 0.2 s of a table job's start.
    """
    if isinstance(column, pa.Array):
        return column
    values = column.to_numpy() if hasattr(column, "to_numpy") else np.asarray(column)
    if values.dtype.kind == "f":
        values = np.ascontiguousarray(values, dtype=float)
        valid = ~np.isnan(values)
        bitmap = None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))
        return pa.Array.from_buffers(pa.float64(), values.size, [bitmap, pa.py_buffer(values)])
    if values.dtype.kind == "b":
        return _text_array(np.where(values, "True", "False").tolist())
    if values.dtype.kind == "O":  # a frame's objects: NaN, None or NA where missing
        import pandas as pd  # loaded already where a frame is written

        return _text_array(np.where(pd.isna(values), "", values.astype(str)).tolist())
    return _text_array(values.astype(str).tolist())


def _text_array(texts: list[str]) -> pa.Array:
    """Arrow text from Python strings, through its offsets and bytes (no pandas)."""
    encoded = [t.encode() for t in texts]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    kind = pa.string() if offsets[-1] < 2**31 else pa.large_string()
    if kind == pa.string():
        offsets = offsets.astype(np.int32)
    return pa.Array.from_buffers(kind, len(encoded), [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))])


def _is_text(a: pa.Array) -> bool:
    return pa.types.is_string(a.type) or pa.types.is_large_string(a.type)


def _needs_quotes(a: pa.Array) -> bool:
    """Text with a tab, a quote or a line break in some field."""
    return _is_text(a) and pc.any(pc.match_substring_regex(a, _STRUCTURAL)).as_py()


def _quoted_lines(arrays: list[pa.Array]) -> bytes:
    """The lines of `write_rows` with text fields quoted where they need it."""
    empty, quote, tab = _text_array(["", '"', "\t"])  # scalars: pyarrow makes a str's through pandas
    texts = []
    for a in arrays:
        if not _is_text(a):
            texts.append(pc.fill_null(pc.cast(a, pa.string()), empty))  # the CSV writer's float text
            continue
        needs_quotes = pc.match_substring_regex(a, _STRUCTURAL)
        quoted = pc.binary_join_element_wise(quote, pc.replace_substring(a, '"', '""'), quote, empty)
        texts.append(pc.if_else(needs_quotes, quoted, a))
    lines = pc.binary_join_element_wise(*texts, tab)
    return ("\n".join(lines.to_pylist()) + "\n").encode()


def _coded_text(coded: ColumnCodes) -> list[pa.Array]:
    """The columns of `coded` as `write_rows` writes float columns: each value formatted once,
    by the cast that Arrow's CSV writer applies to floats (so the text is the same; NaN as an
    empty field), and gathered by the codes (a take from a column's own few thousand texts
    costs a tenth of formatting)."""
    text = pc.fill_null(pc.cast(_arrow_column(coded.values), pa.string()), _text_array([""])[0])
    bounds = zip(coded.codes, coded.starts[:-1], coded.starts[1:])
    return [pc.take(text.slice(start, stop - start), _index_array(codes)) for codes, start, stop in bounds]


def _index_array(codes: np.ndarray) -> pa.Array:
    """Integer codes as an Arrow array, from their buffer (`pa.array` imports pandas)."""
    codes = np.ascontiguousarray(codes)
    return pa.Array.from_buffers(pa.from_numpy_dtype(codes.dtype), codes.size, [None, pa.py_buffer(codes)])


@contextmanager
def tsv_matrices(paths: dict[str, str | Path], samples: list[str], id_column: str = "feature_id"):
    """Writers of features x samples TSVs filled block by block (memory: one block), each
    file atomic; yields write(name, ids (G,), values). Values (G, N) as `write_rows` writes
    them, or a `ColumnCodes`: the same text, each column's distinct values formatted once."""
    with ExitStack() as stack:
        handles = {name: stack.enter_context(atomic_write(path)) for name, path in paths.items()}
        for fh in handles.values():
            write_rows(fh, [[id_column], *([sample] for sample in samples)])

        def write(name: str, ids: np.ndarray, values: np.ndarray | ColumnCodes) -> None:
            coded = isinstance(values, ColumnCodes)
            columns = _coded_text(values) if coded else np.asarray(values, dtype=float).T
            write_rows(handles[name], [np.asarray(ids), *columns])

        yield write


def read_matrix_blocks(path: str | Path, rows: int = 20_000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(ids, values (G, N)) blocks of a TSV written by `tsv_matrices`, in file order."""
    import pandas as pd

    reader = pd.read_csv(path, sep="\t", chunksize=rows, dtype={0: str}, keep_default_na=False, na_values=[""])
    with reader:
        for chunk in reader:
            yield chunk.iloc[:, 0].to_numpy(dtype=str), chunk.iloc[:, 1:].to_numpy(dtype=float)
