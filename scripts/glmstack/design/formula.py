"""Design matrices from Wilkinson formulas, with R's and DESeq2's column names, and contrasts.

A formula is first checked against the whitelist grammar of design/grammar.py (formulaic
evaluates call factors as Python, so nothing outside that grammar may reach it), then parsed
and materialised by formulaic with treatment (reference) coding, so the matrix equals R's
model.matrix for the same formula and level order. Every column has three
names: formulaic's (`condition[T.treated]`), R's model.matrix name (`conditiontreated`) and
DESeq2's resultsNames alias (`condition_treated_vs_untreated`); users may write any of them.
"""

from __future__ import annotations

import re

import formulaic
import numpy as np
import pandas as pd

from ..errors import StudyError, preview
from .grammar import check_formula, expression_names
from .matrices import Design


def formula_context() -> dict:
    """Functions a formula may call (natural and B-splines matching R's splines package)."""
    from .spline_terms import FORMULA_CONTEXT

    return dict(FORMULA_CONTEXT)


def r_make_names(name: str) -> str:
    """R's make.names for one name: invalid characters become '.', 'X' prefix if needed."""
    out = re.sub(r"[^A-Za-z0-9._]", ".", name)
    if not re.match(r"^([A-Za-z]|\.(?![0-9]))", out):
        out = "X" + out
    return out


def factor_level(part: str, factors: dict[str, list[str]]) -> tuple[str, str] | None:
    """(factor, level) of one factor part of a formulaic column name (`group[T.B]`, `group[B]`).

    Matched against the design's own factors and levels, never by pattern, so levels holding
    brackets or dots (`Liv[1`, `a.b`) are found exactly; None for other parts.
    """
    for var, levels in factors.items():
        for level in levels:
            if part in (f"{var}[T.{level}]", f"{var}[{level}]"):
                return var, level
    return None


def r_column_name(formulaic_name: str, factors: dict[str, list[str]]) -> str:
    """R model.matrix name of a formulaic column: `a[T.x]:b[y]` -> `ax:by`."""
    from .spline_terms import r_column_name as spline_r_name

    if formulaic_name == "Intercept":
        return "(Intercept)"
    parts = []
    for part in formulaic_name.split(":"):
        spline = spline_r_name(part)
        if spline != part:
            parts.append(spline)
            continue
        found = factor_level(part, factors)
        parts.append(found[0] + found[1] if found else part)
    return ":".join(parts)


def formula_variables(formula: str) -> list[str]:
    """Sample-sheet columns a formula refers to, in order of appearance.

    The grammar check comes first; formulaic then only parses (never evaluates) the formula,
    so a term it drops (`~ a + b - b`) does not count.
    """
    parsed = check_formula(formula)
    try:
        terms = formulaic.Formula(formula)
    except Exception as exc:  # formulaic raises several parser error types
        raise StudyError(f"design formula {formula!r} cannot be parsed: {exc}") from exc
    names: set[str] = set()
    for term in terms:
        for factor in term.factors:
            if factor.eval_method.value == "lookup":
                names.add(str(factor.expr))
            elif factor.eval_method.value == "python":
                # formulaic does not report the arguments of its own transforms (bs(age) needs `age`)
                names.update(expression_names(str(factor.expr)))
    return [v for v in parsed.variables if v in names]


def prepare_variables(
    samples: pd.DataFrame, variables: list[str], levels: dict[str, list[str]]
) -> tuple[pd.DataFrame, dict[str, list[str]], list[str]]:
    """Typed data for the design: factors as ordered categoricals, the rest as floats.

    A variable is a factor when `levels` names it or its values are not all numbers.
    Levels not given are sorted, as R's factor() does.
    """
    missing = [var for var in variables if var not in samples.columns]
    if missing:
        raise StudyError(
            f"sample sheet: column(s) {preview(missing)} used in a design are missing. Columns present: "
            f"{', '.join(map(str, samples.columns))}. Fix: add the column, or edit the design."
        )
    data = pd.DataFrame(index=samples.index)
    factors: dict[str, list[str]] = {}
    numeric: list[str] = []
    for var in variables:
        values = samples[var]
        as_number = pd.to_numeric(values, errors="coerce")
        if var in levels or as_number.isna().any():
            text = values.astype(str)
            order = [str(x) for x in levels.get(var, sorted(text.unique()))]
            data[var] = pd.Categorical(text, categories=order)
            factors[var] = order
        else:
            data[var] = as_number.astype(float)
            numeric.append(var)
    return data, factors, numeric


def build_design(samples: pd.DataFrame, formula: str, levels: dict[str, list[str]] | None = None) -> Design:
    """Model matrix of `formula` over the samples (rows of `samples`, in order).

    Parameters
    ----------
    samples : sample sheet, one row per sample, already validated.
    formula : e.g. "~ batch + condition", "~ 0 + group", "~ donor + ns(age, df = 3)".
    levels : factor -> level order (first = reference).
    """
    levels = levels or {}
    check_formula(formula)  # before formulaic sees the formula: it evaluates calls as Python
    variables = formula_variables(formula)
    data, factors, numeric = prepare_variables(samples, variables, levels)
    try:
        mm = formulaic.model_matrix(formula, data, context=formula_context(), na_action="raise")
    except Exception as exc:
        raise StudyError(f"design formula {formula!r} cannot be built: {exc}") from exc
    columns = [str(c) for c in mm.columns]
    r_names = [r_column_name(c, factors) for c in columns]
    has_intercept = "Intercept" in columns
    results_names = [r_make_names("Intercept" if r == "(Intercept)" else r) for r in r_names]
    if has_intercept:
        # DESeq2 renames main-effect factor columns to factor_level_vs_reference
        rename = {
            r_make_names(f + lv): r_make_names(f"{f}_{lv}_vs_{lvls[0]}")
            for f, lvls in factors.items()
            for lv in lvls[1:]
        }
        results_names = [rename.get(n, n) for n in results_names]
    terms = {str(t): list(idx) for t, idx in mm.model_spec.term_indices.items()}
    return Design(
        formula=formula,
        # C order, as the shard jobs rebuild it from params: BLAS sums in a layout's own order
        matrix=np.ascontiguousarray(mm, dtype=float),
        columns=columns,
        r_names=r_names,
        results_names=results_names,
        factors=factors,
        numeric=numeric,
        terms=terms,
        has_intercept=has_intercept,
    )


def dependent_columns(matrix: np.ndarray, names: list[str]) -> list[str]:
    """Columns that are linear combinations of the columns before them."""
    dependent = []
    kept: list[int] = []
    for j in range(matrix.shape[1]):
        trial = kept + [j]
        if np.linalg.matrix_rank(matrix[:, trial]) == len(trial):
            kept = trial
        else:
            dependent.append(names[j])
    return dependent


def check_estimable(design: Design, where: str) -> None:
    """Refuse a design that is not full rank or leaves no residual degrees of freedom."""
    n, p = design.matrix.shape
    dependent = dependent_columns(design.matrix, design.columns)
    if dependent:
        raise StudyError(
            f"{where}: the design {design.formula!r} is not full rank: column(s) "
            f"{preview(dependent)} are linear combinations of the other columns "
            f"(columns: {', '.join(design.columns)}). This happens when a variable is "
            "confounded with another (e.g. every batch holds one condition) or a level "
            "combination has no samples. Fix: drop or merge the confounded variable, or "
            "remove empty level combinations from the formula."
        )
    if n <= p:
        raise StudyError(
            f"{where}: the design {design.formula!r} has {p} coefficients for {n} samples, "
            "so there are no residual degrees of freedom to estimate dispersions. "
            "Fix: use a design with fewer coefficients or add replicates."
        )


def check_nested(full: Design, reduced: Design, where: str) -> None:
    """Refuse a reduced design whose columns are not all in the span of the full design."""
    both = np.hstack([full.matrix, reduced.matrix])
    rank_full = np.linalg.matrix_rank(full.matrix)
    if np.linalg.matrix_rank(both) > rank_full:
        outside = [
            name
            for j, name in enumerate(reduced.columns)
            if np.linalg.matrix_rank(np.hstack([full.matrix, reduced.matrix[:, [j]]])) > rank_full
        ]
        raise StudyError(
            f"{where}: the reduced design {reduced.formula!r} is not nested in the full "
            f"design {full.formula!r}: column(s) {preview(outside)} are not in the span of "
            "the full design. Fix: the reduced formula must drop terms of the full one."
        )
    if reduced.matrix.shape[1] >= full.matrix.shape[1]:
        raise StudyError(
            f"{where}: the reduced design {reduced.formula!r} has as many coefficients as "
            f"the full design {full.formula!r}, so the LRT has no degrees of freedom. "
            "Fix: remove the tested terms from `reduced`."
        )


