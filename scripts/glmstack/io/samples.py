"""Sample sheets and user-given size factors."""

from __future__ import annotations

import csv
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import StudyError
from .files import DECODE_ERRORS, open_text, table_separator, unreadable

if TYPE_CHECKING:  # imported where used: `sample_columns` serves jobs that start without pandas
    import pandas as pd

MISSING = ("", "NA")  # read_samples's missing values


def read_samples(path: str | Path) -> pd.DataFrame:
    """Sample sheet as strings (types are decided by the design); "" and NA are missing."""
    import pandas as pd

    try:
        with warnings.catch_warnings():
            # rows longer than the header would otherwise shift into the index or be cut
            warnings.simplefilter("error", pd.errors.ParserWarning)
            sheet = pd.read_csv(
                path, sep=table_separator(path), dtype=str, keep_default_na=False, na_values=list(MISSING),
                index_col=False, encoding="utf-8-sig",
            )  # fmt: skip
    except pd.errors.EmptyDataError:
        raise StudyError(f"{path}: the sample sheet is empty. Fix: one header line, then one row per sample.") from None
    except DECODE_ERRORS as exc:
        raise unreadable(Path(path), exc) from None
    except (pd.errors.ParserError, pd.errors.ParserWarning) as exc:
        raise StudyError(
            f"{path}: the sample sheet cannot be read as a {'comma' if table_separator(path) == ',' else 'tab'}"
            f"-separated table ({str(exc).strip()}). Fix: one row per sample, the same number of fields "
            "in every row, no unbalanced quotes."
        ) from None
    mangled = [c for c in sheet.columns if str(c).startswith("Unnamed:")]
    if mangled:
        raise StudyError(f"{path}: the header has empty column names. Fix: name every column.")
    return sheet


def read_size_factors(path: str | Path) -> pd.Series:
    """`sample`, `size_factor` table -> Series indexed by sample."""
    import pandas as pd

    frame = pd.read_csv(path, sep=table_separator(path), dtype={"sample": str})
    return frame.set_index("sample")["size_factor"].astype(float)


def aligned_samples(samples_path: str | Path, samples: list[str]) -> pd.DataFrame:
    """The sample sheet with rows in count-column order (checked before any job ran)."""
    sheet = read_samples(samples_path)
    return sheet.set_index(sheet["sample"].astype(str)).loc[samples].reset_index(drop=True)


def sample_column(samples_path: str | Path, samples: list[str], column: str) -> list:
    """One column of the sample sheet, as `sample_columns` reads it."""
    return sample_columns(samples_path, samples, [column])[column]


def sample_columns(samples_path: str | Path, samples: list[str], columns: Sequence[str]) -> dict[str, list]:
    """Columns of the sample sheet, rows in count-column order, read without pandas (0.2 s of a
    plot job's start): {column: texts, and NaN where a value is missing}, as `aligned_samples`
    reads them.

    The sheet was checked by `read_samples` before any job ran; blank lines are skipped as
    pandas skips them.
    """
    path = Path(samples_path)
    with open_text(path) as fh:
        rows = [row for row in csv.reader(fh, delimiter=table_separator(path)) if row]
    key = rows[0].index("sample")
    by_sample = {row[key]: row for row in rows[1:]}
    out = {}
    for column in columns:
        index = rows[0].index(column)
        cells = [by_sample[s][index] if index < len(by_sample[s]) else "" for s in samples]
        out[column] = [float("nan") if cell in MISSING else cell for cell in cells]
    return out
