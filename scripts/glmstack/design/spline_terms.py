"""formulaic terms ``ns(...)`` and ``bs(...)`` with R's bases, and R's names of their columns.

The bases themselves (R's ``splines::ns``/``splines::bs``) are in
:mod:`glmstack.design.splines`; this module adds what a formula needs on top.

``FORMULA_CONTEXT`` registers ``ns`` and ``bs`` as formulaic stateful transforms so
``formulaic.model_matrix("~ mouseID + ns(relativeTime, df = 3)", data,
context=FORMULA_CONTEXT)`` evaluates them with the R-compatible bases (the
context layer takes precedence over formulaic's own ``bs``). The knots found on the
training data are kept in the model spec's ``transform_state`` (e.g.
``{"ns(relativeTime, df=3)": {"knots": [28.0, 56.0], "boundary_knots": [0.0, 77.0]}}``)
and reused for new data, as R's ``makepredictcall`` does; pass the context again
there: ``mm.model_spec.get_model_matrix(new_data, context=FORMULA_CONTEXT)``.
Arguments are Python's: ``intercept=True``, ``knots=[28, 56]``,
``boundary_knots=[0, 77]`` (R's ``Boundary.knots``).

formulaic's own ``bs`` gives the same numbers as R inside the boundary knots
(checked to 2e-16), but raises for points outside them by default, refuses
``df = degree + 1`` with ``include_intercept=True``, numbers intercept columns from
0 and drops one when the model has an intercept; R does none of these, hence our
``bs_transform``.

Column names produced by formulaic (v1.2) for these terms are
``"<expr>[<j>]"`` with ``<expr>`` formulaic's normalised (``ast.unparse``) text of
the call and ``j = 1..k`` as in R, e.g. ``ns(relativeTime, df = 3)`` gives
``"ns(relativeTime, df=3)[1]"``, ``"ns(relativeTime, df=3)[2]"``,
``"ns(relativeTime, df=3)[3]"``. :func:`r_column_name` maps such a name to R's
``"ns(relativeTime, df = 3)1"``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from typing import Any, Optional

from formulaic.materializers.types import FactorValues
from formulaic.utils.stateful_transforms import stateful_transform
from numpy.typing import ArrayLike

from .splines import SplineBasis, bs, ns

__all__ = ["FORMULA_CONTEXT", "bs_transform", "ns_transform", "r_column_name"]


# ----------------------------------------------------------------------------- formulaic


def _factor_values(result: SplineBasis) -> FactorValues[dict]:
    """Columns keyed 1..k (R's column numbering); never rank-reduced by formulaic.

    ``spans_intercept=False`` even for ``intercept=True``: R's ``model.matrix``
    keeps every spline column, so formulaic must not drop one either.
    """
    columns = {j + 1: result.basis[:, j] for j in range(result.basis.shape[1])}
    return FactorValues(
        columns,
        kind="numerical",
        spans_intercept=False,
        format="{name}[{field}]",
        encoded=False,
    )


def _state_update(state: dict, result: SplineBasis) -> None:
    state["knots"] = [float(v) for v in result.knots]
    state["boundary_knots"] = [float(v) for v in result.boundary_knots]


@stateful_transform
def ns_transform(
    x: ArrayLike,
    df: Optional[int] = None,
    knots: Optional[ArrayLike] = None,
    intercept: bool = False,
    boundary_knots: Optional[ArrayLike] = None,
    _state: Optional[dict] = None,
) -> FactorValues[dict]:
    """formulaic stateful transform for ``ns(...)`` terms (R ``ns`` in ``model.matrix``).

    On first evaluation the knots are computed from ``x`` and stored in ``_state``
    (``{"knots": [...], "boundary_knots": [lo, hi]}``); later evaluations (new data)
    reuse them, as R's ``predict``/``makepredictcall`` does. Columns are named by
    formulaic ``"<expr>[1]"``, ..., ``"<expr>[k]"``.
    """
    state = {} if _state is None else _state
    if "knots" in state:
        result = ns(
            x,
            knots=state["knots"],
            intercept=intercept,
            boundary_knots=state["boundary_knots"],
        )
    else:
        result = ns(x, df=df, knots=knots, intercept=intercept, boundary_knots=boundary_knots)
        _state_update(state, result)
    return _factor_values(result)


@stateful_transform
def bs_transform(
    x: ArrayLike,
    df: Optional[int] = None,
    knots: Optional[ArrayLike] = None,
    degree: int = 3,
    intercept: bool = False,
    boundary_knots: Optional[ArrayLike] = None,
    _state: Optional[dict] = None,
) -> FactorValues[dict]:
    """formulaic stateful transform for ``bs(...)`` terms (R ``bs`` in ``model.matrix``).

    Replaces formulaic's own ``bs`` (which raises outside the boundary by default,
    rank-reduces ``include_intercept=True`` bases and numbers intercept columns from
    0). State and column names as :func:`ns_transform`.
    """
    state = {} if _state is None else _state
    if "knots" in state:
        result = bs(
            x,
            knots=state["knots"],
            degree=degree,
            intercept=intercept,
            boundary_knots=state["boundary_knots"],
        )
    else:
        result = bs(
            x,
            df=df,
            knots=knots,
            degree=degree,
            intercept=intercept,
            boundary_knots=boundary_knots,
        )
        _state_update(state, result)
    return _factor_values(result)


FORMULA_CONTEXT: dict[str, Callable[..., Any]] = {"ns": ns_transform, "bs": bs_transform}
"""Names to pass as ``context`` to ``formulaic.model_matrix`` so ``ns``/``bs`` are R's."""


# ----------------------------------------------------------------------------- names


def _r_deparse(node: ast.AST) -> str:
    """R's ``deparse`` of a simple call argument (names, numbers, strings, booleans, lists)."""
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if value is None:
            return "NULL"
        if isinstance(value, (int, float)):
            return _r_number(float(value))
        if isinstance(value, str):
            return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(node, ast.Name):
        return {"True": "TRUE", "False": "FALSE", "None": "NULL"}.get(node.id, node.id)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return "-" + _r_deparse(node.operand)
    if isinstance(node, (ast.List, ast.Tuple)):
        return "c(" + ", ".join(_r_deparse(e) for e in node.elts) + ")"
    if isinstance(node, ast.Call):
        parts = [_r_deparse(a) for a in node.args]
        for kw in node.keywords:
            name = "Boundary.knots" if kw.arg == "boundary_knots" else kw.arg
            parts.append(f"{name} = {_r_deparse(kw.value)}")
        return f"{_r_deparse(node.func)}({', '.join(parts)})"
    return ast.unparse(node)


def _r_number(value: float) -> str:
    """Number as R prints it in ``deparse`` (15 significant digits, no trailing .0)."""
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.15g}"


_FORMULAIC_FIELD = re.compile(r"^(?P<expr>.*)\[(?P<field>\d+)\]$")


def r_column_name(formulaic_name: str) -> str:
    """R ``model.matrix`` column name of a formulaic spline column.

    ``"ns(relativeTime, df=3)[2]"`` -> ``"ns(relativeTime, df = 3)2"``;
    ``"bs(x, knots=[4, 10], intercept=True)[1]"`` ->
    ``"bs(x, knots = c(4, 10), intercept = TRUE)1"``. R deparses the call with
    ``name = value`` arguments and appends the column number; ``boundary_knots`` is
    written ``Boundary.knots``. Names that are not ``"<call>[<j>]"`` are returned
    unchanged.
    """
    match = _FORMULAIC_FIELD.match(formulaic_name)
    if match is None:
        return formulaic_name
    try:
        node = ast.parse(match.group("expr"), mode="eval").body
    except SyntaxError:
        return formulaic_name
    if not isinstance(node, ast.Call):
        return formulaic_name
    return _r_deparse(node) + match.group("field")
