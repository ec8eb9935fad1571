"""Reading and writing: npz/json between jobs, always atomically; what the text readers share.

No pandas or Arrow here (glmstack.io.tables writes the tables): the shard jobs import this, and
the plot jobs write their few-line tables with `write_small_tsv` (Arrow imports pandas: 0.2 s).
"""

from __future__ import annotations

import csv
import gzip
import json
import math
import os
import re
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import numpy as np

from ..errors import StudyError

FORMAT_VERSION = 2  # 2: fit files key results by contrast name


def _umask() -> int:
    """The process's umask (read once, at import: setting it to read it is not thread-safe)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_umask()  # what open() gives a new file; mkstemp's own is 0600


@contextmanager
def atomic_write(path: str | Path) -> Iterator[IO[bytes]]:
    """A binary handle on a new temporary file beside `path`, renamed to `path` on success.

    The temporary file is created exclusively with an unpredictable name (mkstemp: O_EXCL,
    so a planted file or symbolic link is never followed), and the rename replaces `path`
    itself, never a link's target. A killed job leaves no file that looks finished, and the
    temporary files a killed writer of `path` left go when `path` is written again. The file
    gets the permissions the umask gives any new file (a lab's group can read the results).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _remove_temporaries_of(path)


def _remove_temporaries_of(path: Path) -> None:
    """Remove what `atomic_write`s of `path` killed before their rename left beside it (mkstemp
    names: the prefix, 8 characters of its alphabet, the suffix; one writer per output at a time)."""
    stale = re.compile(rf"\.{re.escape(path.name)}\.[a-z0-9_]{{8}}\.tmp")
    with os.scandir(path.parent) as entries:
        for entry in entries:
            if stale.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                Path(entry.path).unlink(missing_ok=True)


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


def map_npz(path: str | Path, keys: list[str]) -> dict[str, np.ndarray]:
    """Arrays `keys` of an intermediate written by `write_npz` (format version checked) as
    read-only memory maps: np.savez stores them uncompressed, so indexing reads only what it
    takes (a few genes of a shard: kilobytes, not the shard). Keys it lacks are left out; a
    compressed array is read whole."""
    read_npz(path, keys=[])  # the checks: format version, gene_id
    arrays = {}
    with zipfile.ZipFile(path) as archive, open(path, "rb") as fh:
        for key in keys:
            if f"{key}.npy" not in archive.namelist():
                continue
            info = archive.getinfo(f"{key}.npy")
            fh.seek(info.header_offset)
            local = fh.read(30)  # the member's local header: its name and extra field precede the data
            if local[:4] != b"PK\x03\x04":
                raise ValueError(f"{path}: {key} is not where the archive's directory says; rerun the workflow")
            name_length, extra_length = struct.unpack("<HH", local[26:30])
            fh.seek(info.header_offset + 30 + name_length + extra_length)
            version = np.lib.format.read_magic(fh) if info.compress_type == zipfile.ZIP_STORED else None
            if version not in ((1, 0), (2, 0)):
                arrays[key] = read_npz(path, [key])[key]
                continue
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
            if dtype.hasobject:
                raise ValueError(f"{path}: {key} holds objects; rerun the workflow")
            if math.prod(shape) == 0:
                arrays[key] = np.empty(shape, dtype)
                continue
            arrays[key] = np.memmap(fh.name, dtype=dtype, mode="r", offset=fh.tell(), shape=shape,
                                    order="F" if fortran else "C")
    return arrays


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


def read_numeric_tsv(path: str | Path) -> tuple[list[str], list[str], np.ndarray]:
    """A small TSV this workflow wrote (an id column, then numeric columns, floats written
    exactly): (ids, column names after the first, values (rows, columns))."""
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh, delimiter="\t"))
    names = rows[0][1:]
    values = np.array([[float(x) if x else np.nan for x in row[1:]] for row in rows[1:]], dtype=float)
    return [row[0] for row in rows[1:]], names, values.reshape(len(rows) - 1, len(names))


def write_small_tsv(path: str | Path, columns: Mapping[str, Sequence]) -> None:
    """Named equal-length columns as the text `glmstack.io.tables.write_tsv` writes, without Arrow;
    for tables of a few hundred lines (a Python loop per value).

    Each column is typed as pandas types it: floats as `float_text` (NaN: an empty field), booleans
    as True / False, None and NaN among texts as empty, everything else as str(); a field holding
    a tab, a quote or a line break is quoted as csv quotes it.
    """
    texts = [_text_column(column) for column in columns.values()]
    lines = ["\t".join(_quoted(str(name)) for name in columns)]
    lines += ["\t".join(row) for row in zip(*texts)]
    with atomic_write(path) as fh:
        fh.write(("\n".join(lines) + "\n").encode())


def _text_column(column: Sequence) -> list[str]:
    values = np.asarray(column)
    if values.dtype.kind in "US" and not all(isinstance(v, str) for v in column):
        values = np.asarray(column, dtype=object)  # texts with missing values, kept as pandas keeps them
    if values.dtype.kind == "f":
        return [float_text(v) for v in values.tolist()]
    if values.dtype.kind == "b":
        return ["True" if v else "False" for v in values.tolist()]
    if values.dtype.kind == "O":
        missing = [v is None or (isinstance(v, float) and math.isnan(v)) for v in values.tolist()]
        return ["" if gap else _quoted(str(v)) for v, gap in zip(values.tolist(), missing)]
    return [_quoted(v) for v in values.astype(str).tolist()]


def _quoted(text: str) -> str:
    if any(c in text for c in '\t"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


def float_text(value: float) -> str:
    """A double as Arrow's CSV writer writes it: the shortest digits that read back as the same
    double (repr's), fixed-point for decimal exponents -6 to 9 (`0.0000015`, `100`), else as
    `1.5e-7`, `1e+10`; `inf`, `-inf`, `-0`; NaN as "" (an empty field)."""
    if math.isnan(value):
        return ""
    if value in (np.inf, -np.inf):
        return "inf" if value > 0 else "-inf"
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    while len(digits) > 1 and digits[-1] == 0:
        digits, exponent = digits[:-1], int(exponent) + 1
    if digits == (0,):
        return "-0" if sign else "0"
    leading = int(exponent) + len(digits) - 1  # decimal exponent of the first digit
    if -6 <= leading < 10:
        return format(Decimal((sign, digits, exponent)), "f")
    mantissa = "".join(map(str, digits))
    mantissa = mantissa[0] + ("." + mantissa[1:] if len(mantissa) > 1 else "")
    return f"{'-' if sign else ''}{mantissa}e{'+' if leading > 0 else '-'}{abs(leading)}"


def read_library_sizes(path: str | Path, samples: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The library_sizes.tsv the workflow wrote -> (lib_size, tmm_factor), each (N,) in `samples` order."""
    ids, names, values = read_numeric_tsv(path)
    rows = [ids.index(s) for s in samples]
    return values[rows, names.index("lib_size")], values[rows, names.index("tmm_factor")]


def table_separator(path: str | Path) -> str:
    """',' for .csv(.gz), else tab."""
    name = str(path).lower()
    if name.endswith(".gz"):
        name = name[:-3]
    return "," if name.endswith(".csv") else "\t"


def table_header(path: str | Path) -> list[str]:
    """The column names of a TSV written by glmstack (its first line)."""
    with open(path, encoding="utf-8") as fh:
        return fh.readline().rstrip("\r\n").split("\t")


def open_binary(path: Path):
    """The file's bytes, gunzipped if named .gz."""
    return gzip.open(path, "rb") if str(path).endswith(".gz") else open(path, "rb")


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
