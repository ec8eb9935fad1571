"""Meaning checks on a study: config, sample sheet and count matrix agree with each other.

The JSON schema checks the form of the config; these functions check what it means, and
raise one StudyError per kind of problem that names the file, the field and the fix.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import io
from .design import add_bins, build_design, check_estimable, check_nested, formula_variables, resolve_contrast
from .errors import StudyError, preview


def _open_text(path: Path):
    return gzip.open(path, "rt") if str(path).endswith(".gz") else open(path)


def read_count_header(path: str | Path) -> list[str]:
    """Column names of the count matrix (first line), without the feature-id column."""
    path = Path(path)
    with _open_text(path) as fh:
        line = fh.readline().rstrip("\r\n")
    if not line:
        raise StudyError(f"{path}: the count matrix is empty. Fix: point `counts` at a non-empty table.")
    fields = line.split(io.table_separator(path))
    if len(fields) < 2:
        raise StudyError(
            f"{path}: the header has one column, so the file is not "
            f"{'comma' if io.table_separator(path) == ',' else 'tab'}-separated as its name says. "
            "Fix: save it as .tsv (tab) or .csv (comma)."
        )
    return fields[1:]


def check_samples(samples: pd.DataFrame, path: str, count_columns: list[str]) -> pd.DataFrame:
    """Sample sheet against the count header; returns the sheet in count-column order."""
    if "sample" not in samples.columns:
        raise StudyError(
            f"{path}: no column 'sample'. Columns present: {', '.join(samples.columns)}. "
            "Fix: name the column holding the count-matrix column names 'sample'."
        )
    ids = samples["sample"].astype(str)
    dup = ids[ids.duplicated()].unique().tolist()
    if dup:
        raise StudyError(f"{path}: duplicated sample ids {preview(dup)}. Fix: make each id unique.")
    in_sheet = set(ids)
    in_counts = set(count_columns)
    not_in_counts = [s for s in ids if s not in in_counts]
    not_in_sheet = [s for s in count_columns if s not in in_sheet]
    if not_in_counts or not_in_sheet:
        parts = []
        if not_in_counts:
            parts.append(f"samples in {path} but not in the count matrix: {preview(not_in_counts)}")
        if not_in_sheet:
            parts.append(f"count-matrix columns not in {path}: {preview(not_in_sheet)}")
        raise StudyError(
            "; ".join(parts) + ". Fix: make the sheet's `sample` column and the count header "
            "name the same samples."
        )
    return samples.set_index(ids).loc[count_columns].reset_index(drop=True)


@dataclass(frozen=True)
class Counts:
    gene_id: np.ndarray
    samples: list[str]
    counts: np.ndarray


def read_counts(path: str | Path) -> Counts:
    """Read and check the count matrix: unique ids, integer, non-negative, no blanks."""
    path = Path(path)
    try:
        frame = pd.read_csv(path, sep=io.table_separator(path), dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise StudyError(f"{path}: the count matrix is empty. Fix: point `counts` at a non-empty table.") from None
    id_col = frame.columns[0]
    gene_id = frame[id_col].to_numpy(dtype=str)
    dup = pd.Series(gene_id)[pd.Series(gene_id).duplicated()].unique().tolist()
    if dup:
        raise StudyError(f"{path}: duplicated feature ids in column {id_col!r}: {preview(dup)}. Fix: make ids unique.")
    values = frame.iloc[:, 1:]
    numbers = values.apply(pd.to_numeric, errors="coerce")
    bad = numbers.isna().to_numpy()
    if bad.any():
        rows, cols = np.nonzero(bad)
        where = [f"{gene_id[r]}/{values.columns[c]}={values.iat[r, c]!r}" for r, c in zip(rows[:5], cols[:5])]
        raise StudyError(
            f"{path}: {bad.sum()} cells are blank or not numbers, e.g. {', '.join(where)}. "
            "Fix: every cell must be a non-negative integer count."
        )
    counts = np.ascontiguousarray(numbers.to_numpy(dtype=float))
    if (counts < 0).any():
        rows, cols = np.nonzero(counts < 0)
        where = [f"{gene_id[r]}/{values.columns[c]}" for r, c in zip(rows[:5], cols[:5])]
        raise StudyError(f"{path}: {len(rows)} negative counts, e.g. {', '.join(where)}. Fix: counts must be >= 0.")
    frac = counts != np.round(counts)
    if frac.any():
        rows, cols = np.nonzero(frac)
        where = [f"{gene_id[r]}/{values.columns[c]}={counts[r, c]}" for r, c in zip(rows[:5], cols[:5])]
        raise StudyError(
            f"{path}: {len(rows)} counts are not integers, e.g. {', '.join(where)}. "
            "Fix: give raw integer counts (round estimated counts from salmon/kallisto first)."
        )
    return Counts(gene_id=gene_id, samples=[str(c) for c in values.columns], counts=counts)


def check_analyses(config: dict, samples: pd.DataFrame, samples_path: str) -> None:
    """Every analysis: variables exist, designs estimable, reduced nested, contrasts valid."""
    sheet = samples
    for name, analysis in config["analyses"].items():
        where = f"analyses.{name}"
        samples, bin_levels = add_bins(sheet, analysis.get("bins") or {}, where)
        formulas = [("design", analysis["design"])]
        if analysis.get("test", "wald") == "lrt":
            if not analysis.get("reduced"):
                raise StudyError(f"{where}: test: lrt needs `reduced:` (e.g. reduced: \"~ 1\"). Fix: add it.")
            formulas.append(("reduced", analysis["reduced"]))
        for key, formula in formulas:
            missing = [v for v in formula_variables(formula) if v not in samples.columns]
            if missing:
                raise StudyError(
                    f"{samples_path}: column(s) {preview(missing)} used in {where}.{key} "
                    f"({formula!r}) are missing. Columns present: {', '.join(samples.columns)}. "
                    "Fix: add the column, or edit the design in the study YAML."
                )
        levels = analysis.get("levels") or {}
        for var, lvls in levels.items():
            if var not in samples.columns:
                raise StudyError(f"{where}.levels names {var!r}, which is not a column of {samples_path}.")
            present = set(samples[var].astype(str))
            absent = [str(lv) for lv in lvls if str(lv) not in present]
            unlisted = sorted(present - {str(lv) for lv in lvls})
            if absent or unlisted:
                raise StudyError(
                    f"{where}.levels.{var}: levels {preview(absent) if absent else 'none'} are not in "
                    f"{samples_path}, and values {preview(unlisted) if unlisted else 'none'} are not listed. "
                    f"Fix: list exactly the values of {var!r}."
                )
        design = build_design(samples, analysis["design"], {**bin_levels, **levels})
        check_estimable(design, where)
        if analysis.get("test", "wald") == "lrt":
            reduced = build_design(samples, analysis["reduced"], {**bin_levels, **levels})
            check_nested(design, reduced, where)
        for cname, spec in (analysis.get("contrasts") or {}).items():
            resolve_contrast(design, cname, spec, samples, where)
