"""Design formulas are parsed by a whitelist grammar, never evaluated as Python."""

from __future__ import annotations

import atexit
import builtins
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from glmstack.design.formula import build_design, formula_variables
from glmstack.design.grammar import check_formula, expression_names
from glmstack.errors import StudyError
from glmstack.spec import Analysis
from glmstack.study import check_analyses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SHEET = pd.DataFrame(
    {
        "sample": [f"s{i}" for i in range(10)],
        "run": ["R1", "R2"] * 5,
        "tissue": ["Kidney"] * 5 + ["Liver"] * 5,
        "age": ["31", "45", "22", "60", "51", "38", "27", "44", "70", "18"],
        "dose": ["1", "2", "3", "4", "5", "1", "2", "3", "4", "5"],
        "my var": ["0.5", "1", "2", "3", "1.5", "2.5", "4", "5", "6", "1"],
    }
)

# Every attack writes into this folder or calls `canary`: the never-executed check looks at both.
TRAP = Path(tempfile.mkdtemp(prefix="glmstack-formula-trap-"))
atexit.register(shutil.rmtree, TRAP, ignore_errors=True)
SENTINEL = TRAP / "x"
TOUCH = f"__import__('os').system('touch {SENTINEL}')"


def test_the_reported_attack_is_refused_before_anything_runs():
    formula = f"~ run + tissue + I({TOUCH})"
    with pytest.raises(
        StudyError, match=r"term \"I\(__import__.*\" calls __import__.*Allowed: variables.*Fix:"
    ):
        build_design(SHEET, formula)
    with pytest.raises(StudyError, match="calls __import__"):
        formula_variables(formula)
    assert not SENTINEL.exists()


@pytest.mark.parametrize(
    ("formula", "message"),
    [
        (
            "~ ns(age, df = __import__('os').getpid())",
            r"gives df a value that calls __import__.*whole number",
        ),
        ("~ os.system", r"term 'os.system' is not a column name"),
        ("~ I(age.real)", r"reads an attribute \(age.real\)"),
        ("~ age.__class__", r"is not a column name"),
        ("~ I(lambda: age)", r"defines a lambda"),
        ("~ I(age[0])", r"takes a subscript"),
        ("~ run[0]", r"'run\[0\]' is not a column name"),
        ("~ open('x')", r"term \"open\('x'\)\" calls open, which is not allowed"),
        ("~ I(open('x'))", r"calls open, which I\(\) does not allow"),
        ("~ 'Kidney'", r"is a quote: strings are not allowed"),
        ("~ I('a')", r"holds the literal 'a'"),
        ("~ x + foo(y)", r"term 'foo\(y\)' calls foo, which is not allowed\. Allowed: variables, a:b, a\*b"),
        ("~ log(age)", r"calls log.*Fix: compute the transformed values as a new column"),
        ("~ C(run)", r"calls C.*`levels: \{column: \[\.\.\.\]\}`"),
        ("~ __class__", r"is a name starting with '__'"),
        ("~ I(__builtins__)", r"names __builtins__"),
        ("~ I([a for a in age])", r"holds a comprehension"),
        ("~ {age}", r"is a brace"),
        (
            "~ ns(age, df = 3, fun = 1)",
            r"keyword 'fun', which is not one of df, knots, intercept, boundary_knots",
        ),
        ("~ bs(age, df = 3, derivs = 1)", r"keyword 'derivs'"),
        ("~ ns(age, df = age)", r"gives df the name age"),
        ("~ ns(age, df = 3.5)", r"gives df 3.5, where it takes a whole number"),
        ("~ ns(age, df = 1000000)", r"whole number from 1 to 100"),
        ("~ ns(age, knots = c(30, 50))", r"c\(\.\.\.\), which is R"),
        ("~ ns(age, knots = [30, age])", r"list of at most 100 numbers"),
        ("~ bs(age, intercept = TRUE)", r"TRUE, which is R \(here True/False\)"),
        ("~ ns(age, 3)", r"exactly one column as its first argument"),
        ("~ ns(age, **{'df': 3})", r"unpacks arguments"),
        ("~ I(age, dose)", r"other than one argument"),
        ("~ I(2 ** 99999999)", r"power that is not a number, or a base that holds no column"),
        ("~ I(age % 2)", r"uses the operator %"),
        ("~ I(age # )\n)", r"is not a valid call|uses '#'"),
        ("~ I(age)(1)", r"has '\(' where a term should end"),
        ("~ run / tissue", r"uses '/', which the grammar allows only inside"),
        ("~ (run + tissue) ** 2", r"uses \*\* between terms"),
        ("~ run | tissue", r"uses '\|'"),
        ("y ~ run", r"no left-hand side"),
        ("~", r"has no terms"),
        ("~ run tissue", r"without an operator"),
        ("~ run + + tissue", r"where a term should be"),
        ("~ 1:run", r"interacts 0/1"),
        ("~ 2 + run", r"neither 0/1"),
        ("~ ｏｐｅｎ", r"outside ASCII"),
        ("~ `a\\b`", r"backslash"),
        ("~ lambda", r"Python keyword"),
        ("~ I(`not` - age)", r"backquotes 'not' inside a call"),
        ("~ I(`__import__`)", r"backquotes '__import__' inside a call"),
        ("~ " + " + ".join(["run"] * 400), r"more than 1000"),
    ],
)
def test_refused_with_the_term_what_is_allowed_and_the_fix(formula, message):
    with pytest.raises(StudyError, match=message) as refused:
        check_formula(formula, "analyses.a.design")
    text = str(refused.value)
    assert text.startswith("analyses.a.design: design formula ")
    assert "Allowed: " in text and "Fix: " in text


def test_the_study_check_names_the_field():
    analysis = Analysis.from_study("a", {"design": "~ run", "test": "lrt", "reduced": "~ open('x')"})
    with pytest.raises(StudyError, match=r"^analyses\.a\.reduced: design formula .*calls open"):
        check_analyses({"a": analysis}, SHEET, "samples.tsv")


def test_not_text_is_refused():
    with pytest.raises(StudyError, match="design formula 3 is not text"):
        check_formula(3)


@pytest.mark.parametrize(
    ("formula", "variables", "n_columns"),
    [
        ("~ run + tissue", ["run", "tissue"], 3),
        ("~ 0 + tissue", ["tissue"], 2),
        ("~ tissue - 1", ["tissue"], 2),
        ("~ -1 + tissue", ["tissue"], 2),
        ("~ 1", [], 1),
        ("~ run:tissue", ["run", "tissue"], 4),
        ("~ run*tissue", ["run", "tissue"], 4),
        ("~ run*tissue - run:tissue", ["run", "tissue"], 3),
        ("~ (run + age):tissue", ["run", "age", "tissue"], 6),
        ("~ run + ns(age, df = 3)", ["run", "age"], 5),
        ("~ ns(age, knots = [28, 56])", ["age"], 4),
        ("~ ns(age, df = 3, boundary_knots = [0, 80])", ["age"], 4),
        ("~ ns(age, df = 2, intercept = True) - 1", ["age"], 2),
        ("~ bs(age, df = 4, degree = 3, intercept = True) - 1", ["age"], 4),
        ("~ bs(age, knots = (30.5,), degree = 2)", ["age"], 4),
        ("~ run + I(age / 10)", ["run", "age"], 3),
        ("~ I(dose ** 2) + dose", ["dose"], 3),
        ("~ I(-(age - 40) * 2.5 + dose / 2)", ["age", "dose"], 2),
        ("~ `my var` + run", ["my var", "run"], 3),
        ("~ ns(`my var`, df = 2)", ["my var"], 3),
        ("~ I(`my var` * 2):tissue", ["my var", "tissue"], 3),
        ("~\n  run +\n  tissue", ["run", "tissue"], 3),
    ],
)
def test_every_allowed_form_builds(formula, variables, n_columns):
    assert list(check_formula(formula).variables) == variables
    assert formula_variables(formula) == variables
    design = build_design(SHEET, formula)
    assert design.matrix.shape == (len(SHEET), n_columns)


def test_arithmetic_in_i_is_the_arithmetic_written():
    design = build_design(SHEET, "~ I(age / 10) + I(dose ** 2)")
    age = SHEET["age"].astype(float).to_numpy()
    dose = SHEET["dose"].astype(float).to_numpy()
    np.testing.assert_array_equal(design.matrix[:, 1], age / 10)
    np.testing.assert_array_equal(design.matrix[:, 2], dose**2)


def test_a_dropped_term_is_not_a_variable_and_call_names_come_back_unquoted():
    assert formula_variables("~ run + tissue - tissue") == ["run"]
    assert expression_names("ns(`my var`, df=2)") == ["my var"]
    assert expression_names("I(age / dose)") == ["age", "dose"]


def test_a_missing_column_is_a_study_error():
    with pytest.raises(StudyError, match=r"column\(s\) 'weight' used in a design are missing"):
        build_design(SHEET, "~ run + I(weight / 2)")


# ----------------------------------------------------------------------------- never executed

WATCHED_EVENTS = (
    "os.system",
    "os.exec",
    "os.posix_spawn",
    "os.spawn",
    "os.fork",
    "os.kill",
    "os.remove",
    "os.rename",
    "os.chmod",
    "subprocess.Popen",
    "builtins.input",
    "builtins.breakpoint",
    "socket.connect",
    "ctypes.dlopen",
    "shutil.rmtree",
)
_audit = {"armed": False, "seen": []}


def _hook(event: str, args: tuple) -> None:
    if not _audit["armed"]:
        return
    if event in WATCHED_EVENTS or (event == "open" and str(TRAP) in str(args[0] if args else "")):
        _audit["seen"].append((event, args))


sys.addaudithook(_hook)  # an audit hook cannot be removed: it does nothing unless armed


def _canary(*args, **kwargs):
    _audit["seen"].append(("canary", args))
    return 3


HARMLESS = [
    "run", "tissue", "age", "dose", "`my var`", "0", "1", "-1", "weight",
    "ns(age, df = 3)", "ns(age, knots = [30, 50])", "ns(age, df = 2, boundary_knots = [10, 80])",
    "bs(age, df = 4, degree = 3, intercept = True)", "bs(dose, df = 3)", "I(age / 10)",
    "I(dose ** 2)", "I(-age)", "(run + tissue)", "run:tissue", "run*tissue", "ns(`my var`, df = 2)",
]  # fmt: skip
DANGEROUS = [
    TOUCH, f"I({TOUCH})", f"ns(age, df = {TOUCH})", f"ns(age, knots = [{TOUCH}])",
    f"bs(age, intercept = {TOUCH})", "canary()", "I(canary())", "ns(age, df = canary())",
    "ns(canary(), df = 3)", "I(age + canary())", "{canary()}", f"open('{SENTINEL}', 'w')",
    f"I(open('{SENTINEL}', 'w'))", "I(eval('canary()'))", "I(exec('canary()'))",
    "I((lambda: canary())())", "I([canary() for _ in age])", "I(age.__class__)",
    "age.__class__", "run[canary()]", "I(age[canary()])", "I(getattr(age, 'x'))",
    "C(run, levels = canary())", "I(__builtins__)", "__import__", "I(globals())",
    "I(().__class__.__bases__[0].__subclasses__())", "I(age)(canary())", "I(f'{canary()}')",
    "I(*canary())", "bs(age, **canary())", "I(canary)", "`canary()`", "I(`x`.__class__)",
    "ns(age, df = 3 # )\n)", "ns(age, df = (canary()))", "I(age ** canary())", "I(age # \n + canary())",
]  # fmt: skip
OPERATORS = [" + ", " - ", ":", "*", " ", "/", "**", "|", ", ", " %in% ", "(", ")", "~"]
PIECE = st.sampled_from(HARMLESS + DANGEROUS)


@st.composite
def formulas(draw):
    kind = draw(st.sampled_from(["pieces", "pieces", "pieces", "text", "any text"]))
    if kind == "pieces":
        n = draw(st.integers(min_value=1, max_value=5))
        parts = [draw(PIECE)]
        for _ in range(n - 1):
            parts += [draw(st.sampled_from(OPERATORS[:4]) | st.sampled_from(OPERATORS)), draw(PIECE)]
        return "~ " + "".join(parts)
    if kind == "text":
        alphabet = "~+-:*/()[]{}.,=`'\"_ #%\\|^\n01234azI" + "nsbdfage"
        return draw(st.sampled_from(["~ ", "~", ""])) + draw(st.text(alphabet=alphabet, max_size=40))
    return draw(st.text(max_size=40))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(formulas())
def test_no_formula_ever_runs_code(formula):
    """A formula builds or raises StudyError, and none runs a command, opens a file or calls."""
    had_canary = hasattr(builtins, "canary")
    builtins.canary = _canary  # type: ignore[attr-defined]  # reachable from any eval'd code
    _audit["seen"].clear()
    _audit["armed"] = True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # bs() beyond its boundary knots warns, as R does
            for call in (lambda: formula_variables(formula), lambda: build_design(SHEET, formula)):
                try:
                    call()
                except StudyError:
                    pass
    finally:
        _audit["armed"] = False
        if not had_canary:
            del builtins.canary  # type: ignore[attr-defined]
    assert _audit["seen"] == [], f"{formula!r} ran code: {_audit['seen']}"
    assert not SENTINEL.exists(), f"{formula!r} ran a command"


def test_the_trap_sees_what_formulaic_alone_would_run():
    """Without the grammar, formulaic evaluates the call: the trap of the test above sees it."""
    import formulaic

    builtins.canary = _canary  # type: ignore[attr-defined]
    _audit["seen"].clear()
    _audit["armed"] = True
    try:
        formulaic.model_matrix("~ I(canary())", pd.DataFrame({"age": [1.0, 2.0]}))
    finally:
        _audit["armed"] = False
        del builtins.canary  # type: ignore[attr-defined]
    assert [event for event, _ in _audit["seen"]] == ["canary"]
