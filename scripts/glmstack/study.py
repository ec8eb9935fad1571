"""Meaning checks on a study: config, sample sheet and count header agree with each other.

The JSON schema checks the form of the config; these functions check what it means, and
raise one StudyError per kind of problem that names the file, the field and the fix. They
run before any job (rules/common.smk, and `glmstack check|run` through `check_study`), so no
job starts on a study that cannot work.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .constants import LARGE_BETA, NUMERIC_SCALE_MAX, NUMERIC_SD_MIN
from .design.contrasts import resolve_contrast
from .design.covariates import design_samples
from .design.formula import build_design, check_estimable, check_nested, formula_variables
from .design.grammar import check_formula
from .design.model import sva_null_design
from .errors import StudyError, preview
from .io.annotation import FEATURES_FILE, check_annotation_columns, matrix_annotation_columns, read_annotation
from .io.counts import count_layout
from .io.quant import QUANT_FORMATS, check_quant_files, quant_paths
from .io.samples import read_samples
from .io.tximport import COUNTS_FROM_ABUNDANCE
from .spec import DEFAULT_FAMILY, FAMILIES, Analysis, counts_from_abundance, study_analyses, study_input


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
        raise StudyError(
            f"{path}: column 'sample' is empty in rows {preview((blank + 2).tolist())}. Fix: fill in the ids."
        )
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


def _suggest(key: str, valid) -> str:
    close = difflib.get_close_matches(key, list(valid), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _expanded_size(config) -> int:
    """How many values the config holds once YAML aliases are expanded (each shared node
    counted where it is used, computed once per node, so an alias bomb stays cheap)."""
    sizes: dict[int, int] = {}

    def size(node) -> int:
        if not isinstance(node, (dict, list)):
            return 1
        if id(node) not in sizes:
            sizes[id(node)] = 0  # a node that contains itself counts once
            children = node.values() if isinstance(node, dict) else node
            sizes[id(node)] = 1 + sum(size(child) for child in children)
        return sizes[id(node)]

    return size(config)


def check_input_files(config: dict, cwd: Path) -> None:
    """The study's input files exist and are regular files (not /dev/zero, a folder, a FIFO)."""
    quant = config.get("quant") or {}
    keys = ("counts", "values", "samples", "size_factors_file", "annotation")
    for key, path in [(k, config.get(k)) for k in keys] + [("quant.tx2gene", quant.get("tx2gene"))]:
        if not path:
            continue
        if not Path(path).exists():
            raise StudyError(
                f"study config: `{key}: {path}` does not exist (relative paths are relative "
                f"to the directory snakemake runs in, {cwd}). Fix: correct the path."
            )
        if not Path(path).is_file():
            raise StudyError(
                f"study config: `{key}: {path}` is not a regular file (a folder, device or pipe). "
                "Fix: point it at a table file."
            )


def check_config(config: dict, schema: dict, where: str = "study config") -> None:
    """Keys and enumerated values of the study YAML, with the closest valid key suggested.

    Runs before the JSON-schema validation so that the common mistakes get a message that
    names the key and the fix; the schema then checks the remaining form.
    """
    expanded = _expanded_size(config)
    if expanded > MAX_CONFIG_VALUES:
        raise StudyError(
            f"{where}: the study expands to {expanded:,} values through YAML anchors and aliases "
            f"(`&name` / `*name`; at most {MAX_CONFIG_VALUES:,}). Fix: write the values out; "
            "`glmstack check` refuses anchors and aliases altogether."
        )
    problems = []
    top = schema["properties"]
    for key in config:
        if key not in top:
            problems.append(f"unknown key {key!r}{_suggest(key, top)}")
    for key in schema.get("required", []):
        if key not in config:
            problems.append(f"missing key {key!r} ({top[key].get('description', '')})".replace(" ()", ""))
    given = [key for key in FAMILIES if key in config]
    if not given:
        problems.append(
            "missing key 'counts' (raw counts), 'quant' (salmon/kallisto/RSEM quantifications), or "
            "'values' (log-scale values, family gaussian)"
        )
    elif len(given) > 1:
        problems.append(
            f"{'both ' if len(given) == 2 else ''}{' and '.join(f'`{k}:`' for k in given)} are given; a study has one feature matrix: `counts:` "
            "(raw counts: families nb, voom), `quant:` (transcript quantifications: family nb) or `values:` "
            "(log-scale values: family gaussian). Keep one"
        )
    quant = config.get("quant")
    if isinstance(quant, dict):
        for key, allowed in (("type", QUANT_FORMATS), ("counts_from_abundance", COUNTS_FROM_ABUNDANCE)):
            value = "no" if key == "counts_from_abundance" and quant.get(key) is False else quant.get(key)
            if key in quant and value not in allowed:
                problems.append(
                    f"quant.{key}: {value!r} is not one of {', '.join(allowed)}{_suggest(str(value), allowed)}"
                )
    analyses = config.get("analyses")
    if analyses is not None and not isinstance(analyses, dict):
        problems.append("`analyses` must map analysis names to settings (see config/config.yaml)")
        analyses = {}
    for analysis in (analyses or {}).values():
        block = analysis.get("sva") if isinstance(analysis, dict) else None
        if isinstance(block, dict) and None in block:
            # YAML reads an unquoted `null:` key as no name (None): the sva block's `null` is meant
            block["null"] = block.pop(None)
    spec = top["analyses"]["additionalProperties"]
    name_pattern = re.compile(top["analyses"]["propertyNames"]["pattern"])
    for name, analysis in (analyses or {}).items():
        if not name_pattern.match(str(name)):
            problems.append(
                f"analysis name {name!r} is not a safe file name (it becomes a folder); use letters, "
                "digits, '_', '.', '-', starting with a letter or digit"
            )
        elif str(name) in RESERVED_ANALYSIS_NAMES:
            problems.append(
                f"analysis name {name!r} is the name of a study-wide folder or file in outdir "
                f"({', '.join(sorted(RESERVED_ANALYSIS_NAMES))}); choose another name"
            )
        elif len(str(name)) > MAX_NAME_LENGTH:
            problems.append(f"analysis name {str(name)[:40]!r}... is longer than {MAX_NAME_LENGTH} characters")
        if not isinstance(analysis, dict):
            problems.append(f"analyses.{name} must be a mapping with at least `design:`")
            continue
        for key in analysis:
            if key not in spec["properties"]:
                problems.append(f"analyses.{name}: unknown key {key!r}{_suggest(key, spec['properties'])}")
        if analysis.get("direction") == "reverse":
            problems += _reverse_key_problems(name, analysis)
        elif "design" not in analysis:
            problems.append(f"analyses.{name}: missing key 'design' (e.g. design: \"~ batch + condition\")")
        else:
            given = [key for key in REVERSE_ONLY_KEYS if key in analysis]
            if given:
                problems.append(
                    f"analyses.{name}: {', '.join(map(repr, given))} belong to a reverse analysis "
                    "(add `direction: reverse`, or remove them)"
                )
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
            elif len(str(cname)) > MAX_NAME_LENGTH:
                problems.append(
                    f"analyses.{name}.contrasts: {str(cname)[:40]!r}... is longer than {MAX_NAME_LENGTH} "
                    "characters (it names files such as <contrast>.tsv and plots/ma/<contrast>.png)"
                )
    if problems:
        raise StudyError(
            f"{where}: "
            + "; ".join(problems)
            + ". Fix: edit the study YAML; config/config.yaml documents every key."
        )


# keys of a reverse analysis, and the keys of forward analyses it refuses (it has no design)
REVERSE_ONLY_KEYS = ("trait", "covariates", "transform", "permutations", "seed")
REVERSE_REFUSED_KEYS = (
    "design", "reduced", "test", "contrasts", "family", "moderation", "normalization", "fit_type",
    "lfc_threshold", "alt_hypothesis", "cooks_cutoff", "min_replicates_for_replace",
)


def _reverse_key_problems(name: str, analysis: dict) -> list[str]:
    """A reverse analysis: trait and covariates given, no key of a forward analysis."""
    problems = [
        f"analyses.{name}: missing key {key!r} of a reverse analysis ({example})"
        for key, example in (("trait", "trait: age, a numeric sample column"), ("covariates", 'covariates: "~ sex", or "~ 1"'))
        if key not in analysis
    ]
    refused = [key for key in REVERSE_REFUSED_KEYS if key in analysis]
    if refused:
        problems.append(
            f"analyses.{name}: {', '.join(map(repr, refused))} do not apply to direction: reverse, which "
            "regresses `trait:` on `covariates:` plus each feature (no design, contrasts or test); "
            "remove them, or put them in a forward analysis"
        )
    return problems


RESERVED_TABLE_NAMES = {"dispersions", "model", "trend", "lrt", "report"}
# study-wide outputs in outdir, which an analysis folder of the same name would collide with
RESERVED_ANALYSIS_NAMES = {
    "normalization", "qc", "shards", "models", "stamps", "benchmarks", "logs", "manifest.json", "report.html",
    FEATURES_FILE,
}  # fmt: skip
MAX_CONFIG_VALUES = 1_000_000  # a study's values once YAML aliases are expanded
MAX_NAME_LENGTH = 100  # analysis and contrast names become file names (255 bytes at most)


def check_design_variables(
    samples: pd.DataFrame, path: str, name: str, formula: str, levels: dict
) -> list[str]:
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
        if is_factor and var not in levels and column.astype(str).str.fullmatch(_DECIMAL_COMMA).all():
            warnings.append(
                f"{path}: column {var!r} (analyses.{name}) holds numbers written with a decimal comma "
                f"({preview(column.astype(str).unique().tolist())}) and is used as a factor with "
                f"{column.nunique()} levels. If these are numbers, write them with a decimal point."
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
            warnings += _scale_warning(numbers.to_numpy(dtype=float), var, path, name)
    return warnings


_DECIMAL_COMMA = r"-?\d+,\d+"


def _scale_warning(values: np.ndarray, var: str, path: str, name: str) -> list[str]:
    """A numeric covariate far from unit scale changes DESeq2's fit, not just its units."""
    mean, sd = float(np.mean(values)), float(np.std(values, ddof=1)) if values.size > 1 else 0.0
    if max(abs(mean), sd) <= NUMERIC_SCALE_MAX and (sd == 0 or sd >= NUMERIC_SD_MIN):
        return []
    return [
        f"{path}: column {var!r} (analyses.{name}) is used as a number with mean {mean:.4g} and sd "
        f"{sd:.4g}. The NB fit is not invariant to a covariate's scale: DESeq2's ridge (1e-6) and its "
        f"bound on |coefficient| ({LARGE_BETA:g} per unit, natural log) act on the per-unit slope, and a large "
        "mean makes the covariate nearly collinear with the intercept (DESeq2 warns above 5). Fix: "
        f"centre and scale it, e.g. `I(({var} - {mean:.3g}) / {sd:.3g})` in the design, or give the "
        "column in units where a step of one is meaningful."
    ]


# level names that usually mean the reference group (suggested first in the fix)
_CONTROL_LEVEL = re.compile(
    r"(?i)^(un|non|no|not|ctr|ctl|control|mock|vehicle|veh|placebo|baseline|base|normal|healthy|wt|"
    r"wild|sham|naive|none|neg|day_?0|t_?0|0)(?![a-z])|^untr|^ctrl|^control|^wild|^untreat"
)


def reference_warnings(factors: dict[str, list[str]], levels: dict, where: str) -> list[str]:
    """A warning per design factor whose reference level was chosen alphabetically.

    Without `levels:`, a factor's levels are sorted (as R's factor() does) and the first is
    the reference: airway's `trt` before `untrt`. The fix lists a control-like level first
    when there is exactly one, else the sorted order, to be reordered.
    """
    warnings = []
    for var, order in factors.items():
        if var in levels:
            continue
        control = [lv for lv in order if _CONTROL_LEVEL.search(lv)]
        suggested = [control[0]] + [lv for lv in order if lv != control[0]] if len(control) == 1 else order
        shown = ", ".join(suggested[:4]) + (", ..." if len(suggested) > 4 else "")
        warnings.append(
            f"{where}: factor `{var}` has no levels: entry; its reference level is `{order[0]}` "
            f"(alphabetical first). Fix: levels: {{{var}: [{shown}]}} (first = reference)"
        )
    return warnings


def check_analyses(analyses: dict[str, Analysis], samples: pd.DataFrame, samples_path: str) -> list[str]:
    """Every analysis: variables exist, designs estimable, reduced nested, contrasts valid.

    Returns warnings (numeric columns that look like factor codes) for the caller to log.
    """
    warnings: list[str] = []
    for name, analysis in analyses.items():
        where = f"analyses.{name}"
        sheet, levels = design_samples(samples, analysis)
        if analysis.is_reverse:
            warnings += check_reverse(analysis, sheet, levels, samples_path)
            continue
        formulas = [("design", analysis.design)]
        if analysis.is_lrt:
            if not analysis.reduced:
                raise StudyError(f'{where}: test: lrt needs `reduced:` (e.g. reduced: "~ 1"). Fix: add it.')
            formulas.append(("reduced", analysis.reduced))
        for key, formula in formulas:
            check_formula(formula, f"{where}.{key}")  # the grammar, naming the study field
            missing = [v for v in formula_variables(formula) if v not in sheet.columns]
            if missing:
                raise StudyError(
                    f"{samples_path}: column(s) {preview(missing)} used in {where}.{key} "
                    f"({formula!r}) are missing. Columns present: {', '.join(sheet.columns)}. "
                    "Fix: add the column, or edit the design in the study YAML."
                )
        _check_levels(where, sheet, analysis.levels or {}, samples_path)
        for _, formula in formulas:
            warnings += check_design_variables(sheet, samples_path, name, formula, levels)
        design = build_design(sheet, analysis.design, levels)
        warnings += reference_warnings(design.factors, levels, where)
        check_estimable(design, where)
        if analysis.is_lrt:
            check_nested(design, build_design(sheet, analysis.reduced, levels), where)
        for cname, spec in (analysis.contrasts or {}).items():
            resolve_contrast(design, cname, spec, sheet, where)
        if analysis.sva is not None:
            check_sva(analysis, sheet, samples, samples_path)
        check_lfc_shrink(analysis, design, sheet, where)
    return warnings


def _check_levels(where: str, sheet: pd.DataFrame, levels_given: dict, samples_path: str) -> None:
    """`levels:` names sheet columns and lists exactly their values."""
    for var, lvls in levels_given.items():
        if var not in sheet.columns:
            raise StudyError(f"{where}.levels names {var!r}, which is not a column of {samples_path}.")
        present = set(sheet[var].astype(str))
        absent = [str(lv) for lv in lvls if str(lv) not in present]
        unlisted = sorted(present - {str(lv) for lv in lvls})
        if absent or unlisted:
            raise StudyError(
                f"{where}.levels.{var}: levels {preview(absent) if absent else 'none'} are not in "
                f"{samples_path}, and values {preview(unlisted) if unlisted else 'none'} are not listed. "
                f"Fix: list exactly the values of {var!r}."
            )


def check_reverse(analysis: Analysis, sheet: pd.DataFrame, levels: dict, samples_path: str) -> list[str]:
    """A reverse analysis: the trait is a numeric column without gaps, the covariates are
    estimable together with one feature (n > p + 1). Returns warnings."""
    where = f"analyses.{analysis.name}"
    trait, formula = analysis.trait, analysis.covariates
    if trait not in sheet.columns:
        raise StudyError(
            f"{samples_path}: column {trait!r} (the trait of {where}) is missing. Columns present: "
            f"{', '.join(sheet.columns)}. Fix: add the column, or name another one in `trait:`."
        )
    raw = sheet[trait]
    blank = raw.isna() | (raw.astype(str).str.strip() == "")
    if blank.any():
        raise StudyError(
            f"{samples_path}: column {trait!r} (the trait of {where}) is empty or NA for samples "
            f"{preview(sheet.loc[blank, 'sample'].tolist())}. Fix: fill in the values, or leave those "
            "samples out with `exclude_samples:`."
        )
    numbers = pd.to_numeric(raw, errors="coerce")
    if numbers.isna().any() or not np.isfinite(numbers.to_numpy(dtype=float)).all():
        bad = sheet.loc[numbers.isna() | ~np.isfinite(numbers.fillna(0).to_numpy(dtype=float)), "sample"].tolist()
        raise StudyError(
            f"{samples_path}: column {trait!r} (the trait of {where}) is not a number for samples "
            f"{preview(bad)} (values {preview(raw[sheet['sample'].isin(bad)].astype(str).tolist())}). "
            "Fix: a reverse analysis regresses a numeric trait; give numbers (decimal point), or "
            "test a factor with a forward analysis."
        )
    if numbers.nunique() < 2:
        raise StudyError(f"{samples_path}: the trait {trait!r} of {where} is constant. Fix: name a trait that varies.")
    check_formula(formula, f"{where}.covariates")
    variables = formula_variables(formula)
    missing = [v for v in variables if v not in sheet.columns]
    if missing:
        raise StudyError(
            f"{samples_path}: column(s) {preview(missing)} used in {where}.covariates ({formula!r}) are "
            f"missing. Columns present: {', '.join(sheet.columns)}. Fix: add the column, or edit `covariates:`."
        )
    if trait in variables:
        raise StudyError(
            f"{where}: the trait {trait!r} is also in covariates ({formula!r}). Fix: remove it from `covariates:`."
        )
    _check_levels(where, sheet, analysis.levels or {}, samples_path)
    warnings = check_design_variables(sheet, samples_path, analysis.name, formula, levels)
    design = build_design(sheet, formula, levels)
    check_estimable(design, f"{where}.covariates")
    if design.matrix.shape[0] <= design.matrix.shape[1] + 1:
        raise StudyError(
            f"{where}: {design.matrix.shape[0]} samples leave no residual degree of freedom for "
            f"{trait} ~ covariates ({design.matrix.shape[1]} columns) + feature. Fix: use fewer covariates."
        )
    return warnings


def check_sva(analysis: Analysis, sheet: pd.DataFrame, samples: pd.DataFrame, samples_path: str) -> None:
    """The `sva:` block: a null design nested in the full one with fewer columns, and room in
    the design for the surrogate variables (K < samples - design columns)."""
    where = f"analyses.{analysis.name}.sva"
    null = analysis.sva.get("null")
    if null:
        check_formula(null, f"{where}.null")
        missing = [v for v in formula_variables(null) if v not in sheet.columns]
        if missing:
            raise StudyError(
                f"{samples_path}: column(s) {preview(missing)} used in {where}.null ({null!r}) are "
                f"missing. Columns present: {', '.join(sheet.columns)}. Fix: add the column or edit `null`."
            )
    full, null_matrix, how = sva_null_design(samples, analysis)
    rank_full = np.linalg.matrix_rank(full.matrix)
    if null_matrix.shape[1] and np.linalg.matrix_rank(np.hstack([full.matrix, null_matrix])) > rank_full:
        raise StudyError(
            f"{where}: the null design ({how}) is not nested in the design {analysis.design!r}. "
            "Fix: `null:` must keep only terms of the design (e.g. null: \"~ 1\" or the design "
            "without the variables of interest)."
        )
    if null_matrix.shape[1] and np.linalg.matrix_rank(null_matrix) >= rank_full:
        raise StudyError(
            f"{where}: the null design ({how}) spans the whole design {analysis.design!r}, so "
            "nothing is tested and the re-weighting has no variable of interest. Fix: leave out of "
            "`null:` the terms you test."
        )
    n_samples = full.matrix.shape[0]
    room = n_samples - rank_full - 1
    k = analysis.sva.get("n")
    if k != "auto" and int(k) > room:
        raise StudyError(
            f"{where}: n: {k} surrogate variables with {n_samples} samples and {rank_full} design "
            f"columns would leave no residual degrees of freedom (at most {room}). Fix: ask for "
            f"n <= {room}, or n: auto."
        )
    if not -(2**31) < int(analysis.sva.get("seed", 0)) < 2**31:
        raise StudyError(f"{where}: seed {analysis.sva['seed']} is not an R integer (|seed| < 2^31). Fix: use a smaller seed.")


def check_lfc_shrink(analysis: Analysis, design, sheet: pd.DataFrame, where: str) -> None:
    """`lfc_shrink:` asks for what DESeq2's lfcShrink defines: Wald fold changes of family nb;
    type normal on designs without interactions, for [factor, num, den] and {coef} contrasts;
    type apeglm for contrasts that are one coefficient of the design."""
    shrink = analysis.lfc_shrink
    if shrink == "none":
        return
    if analysis.is_gaussian:
        raise StudyError(
            f"{where}: lfc_shrink: {shrink} shrinks the fold changes of family nb (DESeq2's lfcShrink); "
            f"this analysis is family {analysis.family}, whose moderated statistics already borrow "
            "strength across features. Fix: remove lfc_shrink."
        )
    if analysis.is_lrt:
        raise StudyError(
            f"{where}: lfc_shrink: {shrink} shrinks the fold changes of Wald tests, and this analysis "
            "has test: lrt. Fix: remove lfc_shrink, or add an analysis with test: wald and the contrasts to shrink."
        )
    if shrink == "apeglm":
        specs = dict(analysis.contrasts or {}) or {"results": {"coef": design.results_names[-1]}}
        several = []
        for cname, spec in specs.items():
            vector = resolve_contrast(design, cname, spec, sheet, where).vector
            if np.count_nonzero(vector) != 1 or vector[np.flatnonzero(vector)[0]] != 1.0:
                several.append(cname)
        if several:
            raise StudyError(
                f"{where}: lfc_shrink: apeglm shrinks one coefficient of the design (DESeq2's "
                f"lfcShrink(coef = ...)), and contrast(s) {preview(several)} combine several "
                f"(columns: {'; '.join(design.all_names())}). Fix: make the denominator the "
                "reference level (first in `levels:`) so that the contrast is one column, or "
                "use lfc_shrink: normal."
            )
        return
    interactions = [label for label in design.terms if ":" in label]
    if interactions:
        raise StudyError(
            f"{where}: lfc_shrink: normal is not defined for a design with interactions "
            f"({preview(interactions)} in {analysis.design!r}; DESeq2's lfcShrink refuses it too). "
            "Fix: remove lfc_shrink, or use a design without interaction terms."
        )
    vectors = [name for name, spec in (analysis.contrasts or {}).items() if isinstance(spec, dict) and "vector" in spec]
    if vectors:
        raise StudyError(
            f"{where}: lfc_shrink: normal shrinks contrasts given as [factor, numerator, denominator] "
            f"or {{coef: NAME}}; contrast(s) {preview(vectors)} are numeric vectors over the design's "
            "columns, which DESeq2's normal prior (on one column per factor level) does not define. "
            "Fix: write them as [factor, numerator, denominator] or {coef: NAME}, or remove lfc_shrink."
        )


def check_families(analyses: dict[str, Analysis], config: dict) -> None:
    """Each analysis's family fits the study's input, and asks only for what is implemented.

    gaussian needs `values:`; nb and voom need `counts:`.
    """
    source = study_input(config)
    if source == "quant":
        given = [k for k in ("size_factors_file", "round_counts") if config.get(k)]
        if given:
            raise StudyError(
                f"study config: {', '.join(given)} applies to `counts:`; with `quant:` the counts are "
                "tximport's estimates, rounded as DESeq2 does, normalised with the transcript-length "
                "offsets and size factors estimated together. Fix: remove it."
            )
    count_keys = [k for k in ("size_factors_file", "round_counts") if source == "values" and config.get(k)]
    if count_keys:
        raise StudyError(
            f"study config: {', '.join(count_keys)} applies to `counts:`, and this study gives `values:` "
            "(log-scale values have no size factors). Fix: remove it."
        )
    for name, analysis in analyses.items():
        where = f"analyses.{name}"
        if analysis.is_reverse:
            if source == "values" and analysis.transform is not None:
                raise StudyError(
                    f"{where}: `transform: {analysis.transform}` applies to counts; this study gives "
                    "`values:`, which a reverse analysis uses as they are. Fix: remove it."
                )
            continue
        if analysis.family not in FAMILIES[source]:
            fix = (
                "Fix: use family: voom for limma on counts (or give log-scale values under `values:`)."
                if analysis.family == "gaussian"
                else f"Fix: use family: {DEFAULT_FAMILY[source]} (or leave `family:` out) on `{source}:`."
            )
            raise StudyError(
                f"{where}: family {analysis.family} does not fit a study with `{source}:` "
                f"({source} allow {' or '.join(FAMILIES[source])}). {fix}"
            )
        if analysis.is_gaussian and analysis.alt_hypothesis != "greaterAbs":
            raise StudyError(
                f"{where}: alt_hypothesis {analysis.alt_hypothesis} is not available for family "
                f"{analysis.family} (limma's treat tests |logFC| > lfc_threshold). Fix: leave it out."
            )
        if not analysis.is_gaussian and (analysis.moderation != {"trend": False, "robust": False}):
            raise StudyError(
                f"{where}: `moderation:` is a setting of family gaussian, not of {analysis.family}. "
                "Fix: remove it."
            )
        if analysis.family != "voom" and analysis.normalization != "none":
            raise StudyError(
                f"{where}: `normalization: {analysis.normalization}` is a setting of family voom. "
                "Fix: remove it."
            )


def report_settings(
    report: dict, columns: list[str], analyses: dict[str, Analysis], samples_path: str
) -> dict:
    """The study's `report:` block, checked, with color_by's default filled in.

    color_by null: the last variable of the first analysis's design that is a sheet column
    (DESeq2's place for the variable of interest), else the first column after `sample`.
    """
    settings = dict(report)
    if settings["color_by"] is None:
        first = next(iter(analyses.values()))
        variables = formula_variables(first.covariates if first.is_reverse else first.design)
        if first.is_reverse and not variables:  # covariates "~ 1": colour by the trait
            variables = [first.trait]
        present = [v for v in variables if v in columns]
        settings["color_by"] = (
            present[-1] if present else next((c for c in columns if c != "sample"), "sample")
        )
    elif settings["color_by"] not in columns:
        raise StudyError(
            f"study config: report.color_by names {settings['color_by']!r}, which is not a column of "
            f"{samples_path} (columns: {', '.join(columns)}). Fix: name one of these columns, or "
            "set report.color_by: null to colour by the last design variable."
        )
    if settings["vst_analysis"] is not None and settings["vst_analysis"] not in analyses:
        raise StudyError(
            f"study config: report.vst_analysis names {settings['vst_analysis']!r}, which is not an "
            f"analysis (analyses: {', '.join(analyses)}). Fix: name an analysis, or null for a VST "
            "blind to the design."
        )
    if settings["vst_analysis"] is not None and (
        analyses[settings["vst_analysis"]].is_gaussian or analyses[settings["vst_analysis"]].is_reverse
    ):
        raise StudyError(
            f"study config: report.vst_analysis names {settings['vst_analysis']!r}, a family "
            f"{analyses[settings['vst_analysis']].family} analysis; the VST needs an nb analysis's "
            "design. Fix: name an nb analysis, or null."
        )
    return settings


OUTDIR_MARKER = ".glmstack"  # this folder is glmstack's: written before anything else in it
OUTDIR_MARKER_TEXT = "This folder is a glmstack outdir: glmstack may overwrite or remove anything in it.\n"
# what every run leaves, also those of glmstack versions that wrote no marker
_EVERY_RUN = {"manifest.json", "shards"}


def check_outdir(outdir: str, cwd: Path) -> str:
    """The study's `outdir`, refused where writing there could harm the user's files.

    Refused: empty, the filesystem root, the run directory or a folder above it, a file, and
    an existing folder that holds files and is not glmstack's (neither the marker nor the
    manifest and shards every earlier run left).
    """
    text = str(outdir).strip()
    fix = "Fix: set `outdir:` to a new folder, e.g. outdir: results."
    if not text:
        raise StudyError(f"study config: `outdir` is empty. {fix}")
    path = (cwd / text).resolve()
    if path == Path(path.anchor):
        raise StudyError(f"study config: `outdir: {text}` is the filesystem root. {fix}")
    if path == cwd or path in cwd.parents:
        raise StudyError(
            f"study config: `outdir: {text}` is the directory snakemake runs in ({cwd}) or a folder "
            f"above it; glmstack would write its shards, logs and tables among your files. {fix}"
        )
    if path.exists() and not path.is_dir():
        raise StudyError(f"study config: `outdir: {text}` is a file, not a folder. {fix}")
    if path.is_dir():
        entries = sorted(p.name for p in path.iterdir())
        if entries and OUTDIR_MARKER not in entries and not _EVERY_RUN <= set(entries):
            raise StudyError(
                f"study config: `outdir: {text}` already exists and holds files glmstack did not write "
                f"({preview(entries)}); glmstack would overwrite or delete some of them. {fix} "
                "Or empty that folder."
            )
    return text.rstrip("/")


def mark_outdir(outdir: str) -> None:
    """Create `outdir` (checked by `check_outdir`) with its marker, before a run writes in it."""
    marker = Path(outdir) / OUTDIR_MARKER
    if not marker.is_file():
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(OUTDIR_MARKER_TEXT)

@dataclass(frozen=True)
class StudyCheck:
    """What the checks before any job found: the analyses, the report settings, the warnings.

    analyses : name -> Analysis (defaults filled in); report : the `report:` block with
    color_by filled in; warnings : messages to show (the study still runs); n_samples : the
    samples analysed (after `exclude_samples`); sheet : their rows of the sample sheet, in
    count-column order (what the designs are built from).
    """

    analyses: dict[str, Analysis]
    report: dict
    warnings: list[str]
    n_samples: int
    sheet: pd.DataFrame
    annotation: Annotation | None = None


@dataclass(frozen=True)
class Annotation:
    """Where a study's feature annotation comes from (glmstack.io.annotation).

    matrix_columns : text columns of the count matrix between the id and the samples
    (nf-core/rnaseq's gene_name), read by ingest in its one pass; columns : every annotation
    column, in the order the tables show them (the matrix's, then the `annotation:` table's).
    """

    matrix_columns: list[str]
    columns: list[str]


def check_annotation(config: dict, layout, sheet_ids: list[str]) -> Annotation | None:
    """The study's annotation: the matrix's name columns and the `annotation:` table, checked
    (readable, unique ids, column names that no result table uses). None without annotation.

    The ids of the table are matched to the features by ingest (which reads the matrix):
    ids that match no feature are counted in its log, none matching at all is an error.
    """
    known = set(sheet_ids) | set(config.get("exclude_samples") or [])
    matrix_columns = matrix_annotation_columns(layout, known) if study_input(config) in ("counts", "values") else []
    columns = list(matrix_columns)
    if config.get("annotation"):  # quant: the genes of tx2gene are named gene_id
        table = read_annotation(config["annotation"], layout.id_column if layout else "gene_id")
        columns += list(table.columns[1:])
    if not columns:
        return None
    where = config.get("annotation") or str(layout.path)
    check_annotation_columns(columns, where)
    return Annotation(matrix_columns=matrix_columns, columns=columns)


def check_study(config: dict) -> StudyCheck:
    """Every meaning check of a study before any job runs (rules/common.smk and `glmstack`).

    Parameters
    ----------
    config : the study, already checked by `check_config` and validated against
        config/schema.yaml with its defaults filled in. Relative paths are relative to the
        current directory (the one snakemake runs in).

    Raises
    ------
    StudyError : outdir, input files, sample sheet vs count header, designs, contrasts, report.
    """
    check_outdir(config["outdir"], Path.cwd())
    check_input_files(config, Path.cwd())
    samples = read_samples(config["samples"])
    source = study_input(config)
    sheet_ids = samples["sample"].dropna().astype(str).tolist() if "sample" in samples.columns else []
    if source == "quant":  # one file per sample: the sheet names the samples
        layout, columns = None, sheet_ids
    else:
        layout = count_layout(config[source])
        columns = layout.samples
    annotation = check_annotation(config, layout, sheet_ids)
    names = set(annotation.matrix_columns) if annotation else set()
    sheet = check_samples(samples, config["samples"], [s for s in columns if s not in names], config["exclude_samples"])
    if source == "quant":
        check_quant_files(quant_paths(config["quant"], sheet, config["samples"]), config["quant"]["type"])
    analyses = study_analyses(config)
    check_families(analyses, config)
    if source == "quant" and counts_from_abundance(config) == "no":
        for name, analysis in analyses.items():
            if analysis.lfc_shrink == "apeglm":
                raise StudyError(
                    f"analyses.{name}: lfc_shrink: apeglm with transcript-length offsets (quant: with "
                    "counts_from_abundance: no) is not implemented yet. Fix: use lfc_shrink: normal, or "
                    "counts_from_abundance: lengthScaledTPM (no offsets)."
                )
    warnings = check_analyses(analyses, sheet, config["samples"])
    report = report_settings(config["report"], list(sheet.columns), analyses, config["samples"])
    return StudyCheck(analyses=analyses, report=report, warnings=warnings, n_samples=len(sheet), sheet=sheet,
                      annotation=annotation)
