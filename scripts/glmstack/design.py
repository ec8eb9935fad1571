"""Design matrices from Wilkinson formulas, with R's and DESeq2's column names, and contrasts.

Formulas are parsed and materialised by formulaic with treatment (reference) coding, so the
matrix equals R's model.matrix for the same formula and level order. Every column has three
names: formulaic's (`condition[T.treated]`), R's model.matrix name (`conditiontreated`) and
DESeq2's resultsNames alias (`condition_treated_vs_untreated`); users may write any of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import formulaic
import numpy as np
import pandas as pd

from .errors import StudyError, preview

_LEVEL_PART = re.compile(r"^(?P<var>.*)\[(?:T\.)?(?P<level>.*)\]$")


def formula_context() -> dict:
    """Functions a formula may call (natural and B-splines matching R's splines package)."""
    from .splines import FORMULA_CONTEXT

    return dict(FORMULA_CONTEXT)


def r_make_names(name: str) -> str:
    """R's make.names for one name: invalid characters become '.', 'X' prefix if needed."""
    out = re.sub(r"[^A-Za-z0-9._]", ".", name)
    if not re.match(r"^([A-Za-z]|\.(?![0-9]))", out):
        out = "X" + out
    return out


def r_column_name(formulaic_name: str) -> str:
    """R model.matrix name of a formulaic column: `a[T.x]:b[y]` -> `ax:by`."""
    from .splines import r_column_name as spline_r_name

    if formulaic_name == "Intercept":
        return "(Intercept)"
    parts = []
    for part in formulaic_name.split(":"):
        spline = spline_r_name(part)
        if spline != part:
            parts.append(spline)
            continue
        match = _LEVEL_PART.match(part)
        parts.append(match["var"] + match["level"] if match else part)
    return ":".join(parts)


def formula_variables(formula: str) -> list[str]:
    """Sample-sheet columns a formula refers to, in order of appearance."""
    try:
        parsed = formulaic.Formula(formula)
    except Exception as exc:  # formulaic raises several parser error types
        raise StudyError(f"design formula {formula!r} cannot be parsed: {exc}") from exc
    names = {str(v) for v in parsed.required_variables if "value" in {r.value for r in v.roles}}
    return sorted(names, key=lambda v: (formula.find(v) if v in formula else len(formula), v))


@dataclass(frozen=True)
class Design:
    """A materialised design.

    matrix : (N, P) float model matrix, samples in the order given.
    columns : formulaic names; r_names : R model.matrix names; results_names : DESeq2's.
    factors : factor variable -> levels (first = reference); numeric : numeric variables.
    terms : term label -> column indices; has_intercept : the formula has an intercept.
    """

    formula: str
    matrix: np.ndarray
    columns: list[str]
    r_names: list[str]
    results_names: list[str]
    factors: dict[str, list[str]]
    numeric: list[str]
    terms: dict[str, list[int]]
    has_intercept: bool

    def column_index(self, name: str) -> int:
        """Index of a column named in any of the three namings."""
        for names in (self.columns, self.results_names, self.r_names):
            if name in names:
                return names.index(name)
        raise KeyError(name)

    def all_names(self) -> list[str]:
        return [f"{c} / {r}" if c != r else c for c, r in zip(self.columns, self.results_names)]


def prepare_variables(
    samples: pd.DataFrame, variables: list[str], levels: dict[str, list[str]]
) -> tuple[pd.DataFrame, dict[str, list[str]], list[str]]:
    """Typed data for the design: factors as ordered categoricals, the rest as floats.

    A variable is a factor when `levels` names it or its values are not all numbers.
    Levels not given are sorted, as R's factor() does.
    """
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
    variables = formula_variables(formula)
    data, factors, numeric = prepare_variables(samples, variables, levels)
    try:
        mm = formulaic.model_matrix(formula, data, context=formula_context(), na_action="raise")
    except Exception as exc:
        raise StudyError(f"design formula {formula!r} cannot be built: {exc}") from exc
    columns = [str(c) for c in mm.columns]
    r_names = [r_column_name(c) for c in columns]
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
        matrix=np.asarray(mm, dtype=float),
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


@dataclass(frozen=True)
class Contrast:
    """A resolved contrast: weights over design columns, and the samples it compares.

    vector : (P,) weights; description : human-readable; zero_samples : (N,) bool mask of
    the samples whose counts all being zero makes DESeq2 report lfc 0 and p 1 (or None).
    """

    name: str
    vector: np.ndarray
    description: str
    zero_samples: np.ndarray | None


def resolve_contrast(design: Design, name: str, spec, factor_values: pd.DataFrame, where: str) -> Contrast:
    """Turn a study contrast into a weight vector over the design columns.

    spec forms: [factor, numerator, denominator]; {"coef": name}; {"vector": {name: weight}}.
    Names may be formulaic, R or DESeq2 resultsNames spellings.
    """
    p = design.matrix.shape[1]
    if isinstance(spec, (list, tuple)):
        factor, num, den = (str(s) for s in spec)
        if factor not in design.factors:
            raise StudyError(
                f"{where}: contrast {name!r} names factor {factor!r}, which is not a factor of "
                f"the design {design.formula!r} (factors: {', '.join(design.factors) or 'none'}). "
                "Fix: use a factor of the design, or {coef: NAME} for a numeric covariate."
            )
        levels = design.factors[factor]
        missing = [lv for lv in (num, den) if lv not in levels]
        if missing:
            raise StudyError(
                f"{where}: contrast {name!r} names level(s) {preview(missing)} of {factor!r}, "
                f"which has levels {', '.join(levels)}. Fix: use existing levels."
            )
        if num == den:
            raise StudyError(f"{where}: contrast {name!r} compares level {num!r} with itself.")
        vector = np.zeros(p)
        cols = design.terms.get(factor)
        if cols is None:
            raise StudyError(
                f"{where}: contrast {name!r}: factor {factor!r} appears only inside an "
                f"interaction in {design.formula!r}, so a level contrast is not defined. "
                "Fix: use {coef: NAME} or {vector: {...}} with the design's column names."
            )
        by_level = {}
        for j in cols:
            match = _LEVEL_PART.match(design.columns[j])
            if match:
                by_level[match["level"]] = j
        for level, weight in ((num, 1.0), (den, -1.0)):
            if level in by_level:
                vector[by_level[level]] += weight
        zero = factor_values[factor].astype(str).isin([num, den]).to_numpy()
        return Contrast(name, vector, f"{factor} {num} vs {den}", zero)
    if isinstance(spec, dict) and set(spec) == {"coef"}:
        coef = str(spec["coef"])
        try:
            j = design.column_index(coef)
        except KeyError:
            raise StudyError(
                f"{where}: contrast {name!r} names coefficient {coef!r}, which is not a column "
                f"of the design. Columns (formula name / DESeq2 name): {'; '.join(design.all_names())}. "
                "Fix: use one of these names."
            ) from None
        vector = np.zeros(p)
        vector[j] = 1.0
        return Contrast(name, vector, design.results_names[j], None)
    if isinstance(spec, dict) and set(spec) == {"vector"}:
        weights = spec["vector"]
        vector = np.zeros(p)
        unknown = []
        for key, weight in weights.items():
            try:
                vector[design.column_index(str(key))] += float(weight)
            except KeyError:
                unknown.append(str(key))
        if unknown:
            raise StudyError(
                f"{where}: contrast {name!r} gives weights for {preview(unknown)}, which are not "
                f"columns of the design. Columns (formula name / DESeq2 name): "
                f"{'; '.join(design.all_names())}. Fix: use these names."
            )
        zero = None
        if (vector > 0).any() and (vector < 0).any():
            # DESeq2 contrastAllZeroNumeric: samples touched by the contrast's columns
            zero = (design.matrix @ (vector != 0).astype(float)) != 0
        text = " ".join(f"{w:+g}*{design.results_names[j]}" for j, w in enumerate(vector) if w != 0)
        return Contrast(name, vector, text, zero)
    raise StudyError(
        f"{where}: contrast {name!r} must be [factor, numerator, denominator], "
        "{coef: NAME} or {vector: {NAME: weight, ...}}; got " + repr(spec)
    )


def add_bins(samples: pd.DataFrame, bins: dict, where: str) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Factors made by binning numeric columns, for designs that want groups, not a slope.

    bins: name -> {"column": c, "quantiles": k} (k equal-count groups, labelled Q1..Qk,
    breaks at R's type-7 quantiles, lowest value included) or {"column": c, "breaks": [b0,
    ..., bk]} (intervals (b_i, b_i+1], the first closed, labelled "b0-b1", ...). Returns the
    sheet with the new columns and their level order (first bin = reference).
    """
    from .splines import quantile_type7

    out = samples.copy()
    levels: dict[str, list[str]] = {}
    for name, spec in (bins or {}).items():
        column = spec["column"]
        if column not in samples.columns:
            raise StudyError(f"{where}.bins.{name}: column {column!r} is not in the sample sheet.")
        values = pd.to_numeric(samples[column], errors="coerce")
        if values.isna().any():
            bad = samples.loc[values.isna(), column].tolist()
            raise StudyError(
                f"{where}.bins.{name}: column {column!r} has values that are not numbers: {preview(bad)}. "
                "Fix: bin a numeric column, or use the column as a factor directly."
            )
        x = values.to_numpy(dtype=float)
        if "quantiles" in spec:
            k = int(spec["quantiles"])
            edges = quantile_type7(x, np.linspace(0, 1, k + 1))
            labels = [f"Q{i}" for i in range(1, k + 1)]
        else:
            edges = np.asarray(spec["breaks"], dtype=float)
            labels = [f"{lo:g}-{hi:g}" for lo, hi in zip(edges[:-1], edges[1:])]
        if np.any(np.diff(edges) <= 0):
            raise StudyError(
                f"{where}.bins.{name}: the bin edges {edges.tolist()} are not increasing "
                f"(ties in {column!r}?). Fix: use fewer quantiles or explicit breaks."
            )
        outside = x[(x < edges[0]) | (x > edges[-1])]
        if outside.size:
            raise StudyError(
                f"{where}.bins.{name}: values {preview(outside.tolist())} of {column!r} lie outside the "
                f"breaks {edges.tolist()}. Fix: widen the first or last break."
            )
        index = np.clip(np.searchsorted(edges, x, side="left") - 1, 0, len(labels) - 1)
        out[name] = [labels[i] for i in index]
        levels[name] = [lv for lv in labels if lv in set(out[name])]
    return out, levels
