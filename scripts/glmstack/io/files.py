"""Reading and writing: tables at the edges, npz/json between jobs, always atomically."""

from __future__ import annotations

import gzip
import json
import os
import tempfile
import zlib
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from ..errors import StudyError

FORMAT_VERSION = 2  # 2: fit files key results by contrast name


@contextmanager
def atomic_write(path: str | Path) -> Iterator[IO[bytes]]:
    """A binary handle on a new temporary file beside `path`, renamed to `path` on success.

    The temporary file is created exclusively with an unpredictable name (mkstemp: O_EXCL,
    so a planted file or symbolic link is never followed), and the rename replaces `path`
    itself, never a link's target. A killed job leaves no file that looks finished.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_npz(path: str | Path, arrays: dict[str, np.ndarray]) -> None:
    """Write arrays (must include gene_id) plus format_version, atomically."""
    with atomic_write(path) as fh:
        np.savez(fh, format_version=np.array(FORMAT_VERSION), **arrays)


def read_npz(path: str | Path, keys: list[str] | None = None, exclude: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """Read an intermediate written by `write_npz`, checking its format version.

    keys : only these arrays (and gene_id); exclude : arrays not to read (never loaded).
    """
    with np.load(path, allow_pickle=False) as data:
        version = int(data["format_version"])
        if version != FORMAT_VERSION:
            raise ValueError(f"{path}: format_version {version}, expected {FORMAT_VERSION}; rerun the workflow")
        if "gene_id" not in data.files:
            raise ValueError(f"{path}: no gene_id array")
        wanted = data.files if keys is None else ["gene_id", *keys]
        return {k: data[k] for k in wanted if k != "format_version" and k not in exclude}


def write_json(path: str | Path, obj: Any) -> None:
    with atomic_write(path) as fh:
        fh.write((json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n").encode())


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (np.floating, np.integer, np.bool_)):
        return obj.item()
    raise TypeError(f"cannot serialise {type(obj)}")


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text())


def write_tsv(path: str | Path, frame: pd.DataFrame) -> None:
    """Tab-separated, a header line, NA as empty, values as `write_rows` writes them."""
    with atomic_write(path) as fh:
        write_rows(fh, [[str(name)] for name in frame.columns])
        write_rows(fh, [column for _, column in frame.items()])


def write_rows(fh: IO[bytes], columns: Sequence) -> None:
    """Tab-separated lines, one per row, of equal-length columns (sequences or Series).

    Floats are written as the shortest text that reads back as the same double (Arrow's CSV
    writer, vectorised; 5-10x faster than formatting with %g per value, and exact): `1e-7`,
    `0.1`, `100`, `inf`; NaN and other missing values as an empty field. Other values are
    written as str() writes them, quoted as csv does where they hold a tab, a quote or a line
    break (Arrow writes no quotes: such columns go through `_quoted_lines`).
    """
    arrays = [_arrow_column(column) for column in columns]
    if not arrays or len(arrays[0]) == 0:
        return
    if any(pa.types.is_string(a.type) and pc.any(pc.match_substring_regex(a, _STRUCTURAL)).as_py() for a in arrays):
        fh.write(_quoted_lines(arrays))
        return
    pa_csv.write_csv(pa.table(arrays, names=[str(j) for j in range(len(arrays))]), fh, _CSV)


_STRUCTURAL = '[\t"\n\r]'  # characters a field must be quoted for
_CSV = pa_csv.WriteOptions(include_header=False, delimiter="\t", quoting_style="none")


def _arrow_column(column) -> pa.Array:
    """Floats as float64 (NaN -> null: an empty field), everything else as its text."""
    values = column.to_numpy() if isinstance(column, pd.Series) else np.asarray(column)
    if values.dtype.kind == "f":
        return pa.array(values.astype(float, copy=False), from_pandas=True)
    if values.dtype.kind == "b":
        return pa.array(np.where(values, "True", "False"))
    missing = pd.isna(values)
    return pa.array(np.where(missing, "", values.astype(str)), pa.string())


def _quoted_lines(arrays: list[pa.Array]) -> bytes:
    """The lines of `write_rows` with text fields quoted where they need it."""
    texts = []
    for a in arrays:
        if not pa.types.is_string(a.type):
            texts.append(pc.fill_null(pc.cast(a, pa.string()), ""))  # the CSV writer's float text
            continue
        needs_quotes = pc.match_substring_regex(a, _STRUCTURAL)
        quoted = pc.binary_join_element_wise('"', pc.replace_substring(a, '"', '""'), '"', "")
        texts.append(pc.if_else(needs_quotes, quoted, a))
    lines = pc.binary_join_element_wise(*texts, "\t")
    return ("\n".join(lines.to_pylist()) + "\n").encode()


@contextmanager
def tsv_matrices(paths: dict[str, str | Path], samples: list[str], id_column: str = "feature_id"):
    """Writers of features x samples TSVs filled block by block (memory: one block), each
    file atomic; yields write(name, ids (G,), values (G, N)). Values as `write_rows`."""
    with ExitStack() as stack:
        handles = {name: stack.enter_context(atomic_write(path)) for name, path in paths.items()}
        for fh in handles.values():
            write_rows(fh, [[id_column], *([sample] for sample in samples)])

        def write(name: str, ids: np.ndarray, values: np.ndarray) -> None:
            write_rows(handles[name], [np.asarray(ids), *np.asarray(values, dtype=float).T])

        yield write


def read_matrix_blocks(path: str | Path, rows: int = 20_000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(ids, values (G, N)) blocks of a TSV written by `tsv_matrices`, in file order."""
    reader = pd.read_csv(path, sep="\t", chunksize=rows, dtype={0: str}, keep_default_na=False, na_values=[""])
    with reader:
        for chunk in reader:
            yield chunk.iloc[:, 0].to_numpy(dtype=str), chunk.iloc[:, 1:].to_numpy(dtype=float)


def table_separator(path: str | Path) -> str:
    """',' for .csv(.gz), else tab."""
    name = str(path).lower()
    if name.endswith(".gz"):
        name = name[:-3]
    return "," if name.endswith(".csv") else "\t"


def open_text(path: Path):
    """The file as UTF-8 text (a leading byte-order mark dropped), gunzipped if named .gz."""
    if str(path).endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


# what reading a table can raise when the file is not UTF-8 text or is a broken archive
DECODE_ERRORS = (UnicodeDecodeError, EOFError, gzip.BadGzipFile, zlib.error, OSError)


def unreadable(path: Path, exc: Exception) -> StudyError:
    """The error for a table that is not plain (or gzipped) UTF-8 text."""
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic.startswith(b"\x1f\x8b") and not str(path).endswith(".gz"):
        what = "gzip-compressed but not named .gz"
    elif magic.startswith(b"BZh"):
        what = "bzip2-compressed (not supported)"
    elif magic[:2] in (b"\xff\xfe", b"\xfe\xff"):
        what = "UTF-16 text"
    elif isinstance(exc, UnicodeDecodeError):
        what = f"not UTF-8 text (byte {exc.object[exc.start:exc.start + 1]!r} at position {exc.start})"
    else:
        what = f"a damaged or truncated archive ({type(exc).__name__}: {exc})"
    return StudyError(
        f"{path}: cannot be read: the file is {what}. Fix: give a tab- or comma-separated table "
        "in UTF-8, plain or gzipped with a .gz name (e.g. re-save it as UTF-8 text, or `gzip -t` to check "
        "an archive)."
    )
