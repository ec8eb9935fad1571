"""Meaning checks on a study: config, sample sheet and count matrix agree with each other.

The JSON schema checks the form of the config; these functions check what it means, and
raise one StudyError per kind of problem that names the file, the field and the fix.
"""

from __future__ import annotations

import difflib
import gzip
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import io
from .design import add_bins, build_design, check_estimable, check_nested, formula_variables, resolve_contrast
from .errors import StudyError, preview


def _open_text(path: Path):
    return gzip.open(path, "rt") if str(path).endswith(".gz") else open(path)


FEATURECOUNTS_ANNOTATION = ["Chr", "Start", "End", "Strand", "Length"]
_ALIGNMENT_SUFFIX = re.compile(r"(\.sorted)?\.(bam|sam|cram)$")


@dataclass(frozen=True)
class CountLayout:
    """How a count table is laid out, read from its first lines.

    comment_lines : leading lines starting with '#' (featureCounts writes its command there).
    annotation : featureCounts' Chr/Start/End/Strand/Length columns, dropped when reading.
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


def count_layout(path: str | Path) -> CountLayout:
    """Read and check the header of the count matrix (and detect featureCounts output)."""
    path = Path(path)
    sep = io.table_separator(path)
    comments = 0
    line = ""
    with _open_text(path) as fh:
        for line in fh:
            if line.startswith("#"):
                comments += 1
                continue
            break
        else:
            line = ""
    line = line.rstrip("\r\n")
    if not line:
        raise StudyError(f"{path}: the count matrix is empty. Fix: point `counts` at a non-empty table.")
    fields = line.split(sep)
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


def check_samples(
    samples: pd.DataFrame, path: str, count_columns: list[str], exclude: list[str] | tuple = ()
) -> pd.DataFrame:
    """Sample sheet against the count header; returns the sheet in count-column order.

    `exclude` names samples to leave out of the study (from the sheet, the counts or both).
    """
    if "sample" not in samples.columns:
        raise StudyError(
            f"{path}: no column 'sample'. Columns present: {', '.join(map(str, samples.columns))}. "
            "Fix: name the column holding the count-matrix column names 'sample'."
        )
    ids = samples["sample"].astype(str)
    blank = np.flatnonzero(samples["sample"].isna().to_numpy())
    if blank.size:
        raise StudyError(f"{path}: column 'sample' is empty in rows {preview((blank + 2).tolist())}. Fix: fill in the ids.")
    dup = ids[ids.duplicated()].unique().tolist()
    if dup:
        raise StudyError(f"{path}: duplicated sample ids {preview(dup)}. Fix: make each id unique.")
    unknown = [s for s in exclude if s not in set(ids) and s not in set(count_columns)]
    if unknown:
        raise StudyError(
            f"study config: exclude_samples names {preview(unknown)}, which are neither in {path} nor in "
            "the count matrix. Fix: correct the ids."
        )
    keep_ids = [s for s in ids if s not in set(exclude)]
    keep_cols = [s for s in count_columns if s not in set(exclude)]
    not_in_counts = [s for s in keep_ids if s not in set(keep_cols)]
    not_in_sheet = [s for s in keep_cols if s not in set(keep_ids)]
    if not_in_counts or not_in_sheet:
        parts = []
        if not_in_counts:
            parts.append(f"samples in {path} but not in the count matrix: {preview(not_in_counts)}")
        if not_in_sheet:
            parts.append(f"count-matrix columns not in {path}: {preview(not_in_sheet)}")
        raise StudyError(
            "; ".join(parts) + ". Fix: make the sheet's `sample` column and the count header "
            "name the same samples, or list the samples to leave out under `exclude_samples:`."
        )
    return samples.set_index(ids).loc[keep_cols].reset_index(drop=True)


@dataclass(frozen=True)
class Counts:
    gene_id: np.ndarray
    samples: list[str]
    counts: np.ndarray
    n_rounded: int = 0


def _cells(gene_id, columns, rows, cols, values=None) -> str:
    shown = []
    for r, c in list(zip(rows, cols))[:5]:
        text = f"{gene_id[r]}/{columns[c]}"
        value = values[r, c] if values is not None else None
        value = value.item() if hasattr(value, "item") else value
        shown.append(text if values is None else f"{text}={value!r}")
    return ", ".join(shown)


READ_CHUNK_CELLS = 4_000_000  # counts per chunk when reading the matrix (32 MB as float64)


def _parse_error(layout: CountLayout, exc: Exception) -> StudyError:
    return StudyError(
        f"{layout.path}: rows do not all have the header's {len(layout.columns) + 1 + len(layout.annotation)} "
        f"fields ({str(exc).strip()}). Fix: every row needs a feature id and one value per sample."
    )


def _read_text(layout: CountLayout) -> pd.DataFrame:
    """The whole table as text, to name bad cells (only read when the numeric pass fails)."""
    try:
        with warnings.catch_warnings():
            # rows longer than the header would otherwise shift into the index or be cut
            warnings.simplefilter("error", pd.errors.ParserWarning)
            return pd.read_csv(
                layout.path, sep=layout.separator, skiprows=layout.comment_lines, index_col=False,
                dtype=str, keep_default_na=False,
            )  # fmt: skip
    except (pd.errors.ParserError, pd.errors.ParserWarning, ValueError) as exc:
        raise _parse_error(layout, exc) from None


def _read_numbers(layout: CountLayout) -> tuple[np.ndarray, np.ndarray] | None:
    """Feature ids and values (float64), read in row chunks of about READ_CHUNK_CELLS counts.

    Returns None as soon as a chunk holds text or blanks: the caller then reads the table as
    text to name the bad cells. Chunks keep the peak memory near one copy of the matrix.
    """
    first = 1 + len(layout.annotation)
    rows = max(1, READ_CHUNK_CELLS // max(1, len(layout.samples)))
    ids, blocks = [], []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)  # as in _read_text
            reader = pd.read_csv(
                layout.path, sep=layout.separator, skiprows=layout.comment_lines, index_col=False,
                dtype={layout.id_column: str}, chunksize=rows,
            )  # fmt: skip
            with reader:
                for chunk in reader:
                    values = chunk.iloc[:, first:]
                    if not all(kind in "iuf" for kind in (dtype.kind for dtype in values.dtypes)):
                        return None
                    block = values.to_numpy(dtype=float)
                    if np.isnan(block).any():
                        return None
                    ids.append(chunk.iloc[:, 0].astype(str).to_numpy(dtype=str))
                    blocks.append(block)
    except (pd.errors.ParserError, pd.errors.ParserWarning, ValueError) as exc:
        raise _parse_error(layout, exc) from None
    if not blocks:
        return np.zeros(0, dtype=str), np.zeros((0, len(layout.samples)))
    return np.concatenate(ids), np.concatenate(blocks)


def read_counts(
    path: str | Path, exclude: list[str] | tuple = (), round_counts: bool = False
) -> Counts:
    """Read and check the count matrix: unique ids, numbers, non-negative integers, no blanks.

    featureCounts tables are recognised by their header and read without the annotation
    columns. With `round_counts`, non-integer values (estimated counts from salmon, kallisto,
    RSEM) are rounded to the nearest integer, as tximport's users do for DESeq2.
    """
    layout = count_layout(path)
    path = layout.path
    table = _read_numbers(layout)
    if table is None:  # slow path: the cells as text, to name the bad ones
        frame = _read_text(layout)
        gene_id = frame.iloc[:, 0].astype(str).to_numpy(dtype=str)
        text = frame.iloc[:, 1 + len(layout.annotation) :].to_numpy(dtype=str)
        numbers = pd.DataFrame(text).apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    else:
        gene_id, numbers = table
        text = None
    if gene_id.size == 0:
        raise StudyError(f"{path}: the count matrix has a header but no features. Fix: check the file.")
    blank_ids = np.flatnonzero(np.char.str_len(gene_id) == 0)
    if blank_ids.size:
        raise StudyError(f"{path}: feature ids are empty on data rows {preview((blank_ids + 1).tolist())}. Fix: fill them in.")
    ids = pd.Series(gene_id)
    dup = ids[ids.duplicated()].unique().tolist()
    if dup:
        raise StudyError(
            f"{path}: duplicated feature ids in column {layout.id_column!r}: {preview(dup)}. "
            "Fix: make ids unique (e.g. sum or drop duplicated rows)."
        )
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
    fractional = numbers != np.round(numbers)
    n_rounded = int(fractional.sum())
    if n_rounded and not round_counts:
        rows, cols = np.nonzero(fractional)
        raise StudyError(
            f"{path}: {n_rounded} counts are not integers, e.g. {_cells(gene_id, samples, rows, cols, numbers)}. "
            "Fix: give raw integer counts; for estimated counts (salmon, kallisto, RSEM) set "
            "`round_counts: true` in the study YAML to round them, as tximport users do."
        )
    if n_rounded:
        numbers = np.round(numbers)
    return Counts(gene_id=gene_id, samples=samples, counts=np.ascontiguousarray(numbers), n_rounded=n_rounded)


def _suggest(key: str, valid) -> str:
    close = difflib.get_close_matches(key, list(valid), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_config(config: dict, schema: dict, where: str = "study config") -> None:
    """Keys and enumerated values of the study YAML, with the closest valid key suggested.

    Runs before the JSON-schema validation so that the common mistakes get a message that
    names the key and the fix; the schema then checks the remaining form.
    """
    problems = []
    top = schema["properties"]
    for key in config:
        if key not in top:
            problems.append(f"unknown key {key!r}{_suggest(key, top)}")
    for key in schema.get("required", []):
        if key not in config:
            problems.append(f"missing key {key!r} ({top[key].get('description', '')})".replace(" ()", ""))
    analyses = config.get("analyses")
    if analyses is not None and not isinstance(analyses, dict):
        problems.append("`analyses` must map analysis names to settings (see config/config.yaml)")
        analyses = {}
    spec = top["analyses"]["additionalProperties"]
    name_pattern = re.compile(top["analyses"]["propertyNames"]["pattern"])
    for name, analysis in (analyses or {}).items():
        if not name_pattern.match(str(name)):
            problems.append(
                f"analysis name {name!r} is not a safe file name (it becomes a folder); use letters, "
                "digits, '_', '.', '-', starting with a letter or digit"
            )
        if not isinstance(analysis, dict):
            problems.append(f"analyses.{name} must be a mapping with at least `design:`")
            continue
        for key in analysis:
            if key not in spec["properties"]:
                problems.append(f"analyses.{name}: unknown key {key!r}{_suggest(key, spec['properties'])}")
        if "design" not in analysis:
            problems.append(f"analyses.{name}: missing key 'design' (e.g. design: \"~ batch + condition\")")
        for key, prop in spec["properties"].items():
            allowed = prop.get("enum")
            if allowed and key in analysis and analysis[key] not in allowed:
                problems.append(
                    f"analyses.{name}.{key}: {analysis[key]!r} is not one of {', '.join(map(str, allowed))}"
                    f"{_suggest(str(analysis[key]), allowed)}"
                )
        for cname in (analysis.get("contrasts") or {}) if isinstance(analysis.get("contrasts"), dict) else {}:
            if not name_pattern.match(str(cname)) or str(cname) in RESERVED_TABLE_NAMES:
                problems.append(
                    f"analyses.{name}.contrasts: {cname!r} cannot name a results file (reserved or unsafe); "
                    "use letters, digits, '_', '.', '-'"
                )
    if problems:
        raise StudyError(
            f"{where}: " + "; ".join(problems) + ". Fix: edit the study YAML; config/config.yaml documents every key."
        )


RESERVED_TABLE_NAMES = {"dispersions", "model", "trend", "lrt", "report"}


def check_design_variables(samples: pd.DataFrame, path: str, name: str, formula: str, levels: dict) -> list[str]:
    """Design variables: no missing values, factors with >= 2 levels; returns warnings.

    A column of numbers is used as a number; when it looks like codes (few distinct
    integers) the user most likely meant a factor, so we warn and say how to force one.
    """
    warnings = []
    for var in formula_variables(formula):
        column = samples[var]
        missing = samples.loc[column.isna() | (column.astype(str).str.strip() == ""), "sample"].tolist()
        if missing:
            raise StudyError(
                f"{path}: column {var!r} (used in analyses.{name}) is empty or NA for samples {preview(missing)}. "
                "Fix: fill in the values, or leave those samples out with `exclude_samples:`."
            )
        numbers = pd.to_numeric(column, errors="coerce")
        is_factor = var in levels or numbers.isna().any()
        if is_factor and column.astype(str).nunique() < 2:
            raise StudyError(
                f"{path}: factor {var!r} (used in analyses.{name}) has a single level "
                f"({column.astype(str).iloc[0]!r}) in the analysed samples, so it cannot be estimated. "
                "Fix: remove it from the design."
            )
        if not is_factor:
            distinct = np.unique(numbers)
            if distinct.size <= 5 and np.all(distinct == np.round(distinct)):
                warnings.append(
                    f"{path}: column {var!r} (analyses.{name}) holds the integers "
                    f"{', '.join(f'{v:g}' for v in distinct[:6])}{'...' if distinct.size > 6 else ''} and is used as "
                    f"a number (one slope). If these are group codes, make it a factor: add "
                    f"`levels: {{{var}: [...]}}` to the analysis."
                )
    return warnings


def check_analyses(config: dict, samples: pd.DataFrame, samples_path: str) -> list[str]:
    """Every analysis: variables exist, designs estimable, reduced nested, contrasts valid.

    Returns warnings (numeric columns that look like factor codes) for the caller to log.
    """
    warnings: list[str] = []
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
        for formula in [analysis["design"]] + ([analysis["reduced"]] if analysis.get("reduced") else []):
            warnings += check_design_variables(samples, samples_path, name, formula, {**bin_levels, **levels})
        design = build_design(samples, analysis["design"], {**bin_levels, **levels})
        check_estimable(design, where)
        if analysis.get("test", "wald") == "lrt":
            reduced = build_design(samples, analysis["reduced"], {**bin_levels, **levels})
            check_nested(design, reduced, where)
        for cname, spec in (analysis.get("contrasts") or {}).items():
            resolve_contrast(design, cname, spec, samples, where)
    return warnings
