"""The formulas a study may write, checked before any formula library sees them.

formulaic evaluates every factor that looks like a call (`ns(age, df = 3)`, `I(age / 10)`,
and equally `__import__('os').system(...)`) as Python. A study is data, so a design formula
is checked here against a whitelist grammar first, on the raw string, and only a formula that
passes reaches formulaic. The grammar (whitespace is free; one formula per string):

    formula  := "~" sum
    sum      := ["-"] term (("+" | "-") term)*
    term     := "0" | "1" | product            (0 and 1 at the top level only)
    product  := factor ((":" | "*") factor)*
    factor   := NAME | `any name` | "(" sum ")" | call
    call     := ns(NAME, key = literal, ...)  keys: df, knots, intercept, boundary_knots
              | bs(NAME, key = literal, ...)  keys: df, knots, degree, intercept, boundary_knots
              | I(arithmetic)                 NAME, numbers, + - * / **, unary -, parentheses

NAME is an ASCII identifier that does not start with `__` and is not a Python keyword;
backquoted names (`` `cell type` ``) may hold any character except a backquote, a backslash
or a line break (inside a call, not a keyword or a `__` name either: formulaic writes those
back unquoted into the Python it evaluates). Literals are numbers, lists of numbers, True and
False; df, degree, knots and formula length are bounded (MAX_* below). The exponent of `**` is
a number and its base names a column (so no arithmetic on literals alone can grow without
bound). Anything else is refused with a StudyError that names the term, what is allowed and
the fix: other calls (`log`, `C`, `open`, ...), attribute access, subscripts, strings, lambdas,
comprehensions, dunder names, keyword arguments not listed above, non-literal arguments.

A call's extent is found the way formulaic's tokenizer finds it (up to the matching
parenthesis, backquoted names skipped), and quotes, braces, backslashes, `#` and `%` are
refused everywhere, so the text checked here is exactly the text formulaic evaluates.
"""

from __future__ import annotations

import ast
import functools
import keyword
import re
from dataclasses import dataclass

from ..errors import StudyError

ALLOWED = (
    "variables, a:b, a*b, (a + b):c, - term, 0/1, ns(x, df = k), bs(x, df = k), " "I(arithmetic of columns)"
)
MAX_FORMULA_LENGTH = 1000  # characters; designs are short, this bounds parsing work
MAX_NESTING = 20  # parentheses within parentheses
MAX_SPLINE_DF = 100  # df of ns()/bs(): more columns than any study has samples
MAX_SPLINE_DEGREE = 10  # degree of bs(): R's default is 3
MAX_KNOTS = 100

# keyword -> kind of literal, per spline function (the parameters of ns_transform and
# bs_transform in design/spline_terms.py, less the formulaic plumbing `_state`)
SPLINE_KEYWORDS: dict[str, dict[str, str]] = {
    "ns": {"df": "df", "knots": "numbers", "intercept": "bool", "boundary_knots": "numbers"},
    "bs": {
        "df": "df",
        "knots": "numbers",
        "degree": "degree",
        "intercept": "bool",
        "boundary_knots": "numbers",
    },
}
CALLS = ("ns", "bs", "I")

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
WORD = re.compile(r"[A-Za-z0-9_.]+")  # what formulaic reads as one name or number token
# characters a formula may hold outside backquotes (inside calls: lists, keywords, decimals)
PERMITTED = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_ \t\r\n~+-*/:().,=[]")
OPERATORS = set("~+-:*()")


@dataclass(frozen=True)
class ParsedFormula:
    """A formula that passed the grammar.

    variables : every sample-sheet column it names (bare, backquoted, or inside a call), in
    order of first appearance.
    """

    formula: str
    variables: tuple[str, ...]


@dataclass(frozen=True)
class _Token:
    kind: str  # "op", "name", "number", "call"
    text: str  # operator, name (backquotes removed), number, or the whole call
    start: int
    end: int


class _Refused(Exception):
    """Internal: a term that is not allowed; becomes one StudyError naming the formula."""

    def __init__(self, term: str, problem: str, fix: str) -> None:
        super().__init__(problem)
        self.term, self.problem, self.fix = term, problem, fix


def check_formula(formula: object, where: str | None = None) -> ParsedFormula:
    """Refuse any formula outside the grammar of this module, before formulaic parses it.

    Parameters
    ----------
    formula : the design (or reduced) formula as written in the study.
    where : the study field, e.g. "analyses.condition.design", to start the message with.

    Returns
    -------
    ParsedFormula with the columns the formula names.

    Raises
    ------
    StudyError naming the formula, the offending term, what is allowed and the fix.
    """
    prefix = f"{where}: " if where else ""
    if not isinstance(formula, str):
        raise StudyError(
            f"{prefix}design formula {formula!r} is not text. Fix: write it as a string, "
            'e.g. design: "~ batch + condition".'
        )
    try:
        return _check(formula)
    except _Refused as refused:
        raise StudyError(
            f"{prefix}design formula {formula!r}: term {refused.term!r} {refused.problem}. "
            f"Allowed: {ALLOWED}. Fix: {refused.fix}"
        ) from None


@functools.lru_cache(maxsize=256)
def _check(formula: str) -> ParsedFormula:
    if len(formula) > MAX_FORMULA_LENGTH:
        raise _Refused(
            formula[:40] + "...",
            f"makes the formula {len(formula)} characters long, more than {MAX_FORMULA_LENGTH}",
            "shorten the formula (derive combined covariates as sample-sheet columns).",
        )
    tokens = _tokenize(formula)
    variables: list[str] = []
    _Parser(formula, tokens, variables).parse()
    return ParsedFormula(formula=formula, variables=tuple(dict.fromkeys(variables)))


def expression_names(expr: str) -> list[str]:
    """Columns a call factor reads (`ns(age, df=3)` -> ["age"]), for a checked call's text.

    `expr` may be formulaic's normalised text of a call that passed :func:`check_formula`;
    backquoted names are returned without their backquotes.
    """
    tree, quoted = _parse_call(expr, expr)
    return [quoted.get(n.id, n.id) for n in ast.walk(tree) if isinstance(n, ast.Name) and n is not tree.func]


# ----------------------------------------------------------------------------- tokens


def _tokenize(formula: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(formula)
    while i < n:
        char = formula[i]
        if char.isspace() and char in PERMITTED:
            i += 1
        elif char == "`":
            end = _backquote_end(formula, i)
            tokens.append(_Token("name", formula[i + 1 : end - 1], i, end))
            i = end
        elif char.isascii() and (char.isalpha() or char == "_"):
            word = IDENTIFIER.match(formula, i)
            assert word is not None
            end = word.end()
            if end < n and formula[end] == "(":
                end = _call_end(formula, i, end)
                tokens.append(_Token("call", formula[i:end], i, end))
            elif end < n and formula[end] in ".[":
                # formulaic reads `a.b` as one name and `a[0]` as Python: neither is a column
                text = _segment(formula, i)
                raise _Refused(
                    text,
                    "is not a column name (a name is letters, digits and '_'; '.' and '[' are "
                    "Python's attribute access and subscripts)",
                    f"backquote a column whose name holds other characters: `{text}`.",
                )
            else:
                tokens.append(_Token("name", formula[i:end], i, end))
            i = end
        elif char.isascii() and char.isdigit():
            end = _word_end(formula, i)
            text = formula[i:end]
            if text not in ("0", "1"):
                raise _Refused(
                    text,
                    "is neither 0/1 (no intercept / intercept) nor a column name",
                    f"use 0 or 1 for the intercept, and backquote a column named with digits: `{text}`.",
                )
            tokens.append(_Token("number", text, i, end))
            i = end
        elif char == "*" and formula.startswith("**", i):
            raise _Refused(
                formula[max(0, i - 10) : i + 12].strip(),
                "uses ** between terms (formulaic's power of a sum of terms)",
                "write the interactions out (a*b, a:b:c); inside I(...), ** raises a column to a power.",
            )
        elif char in OPERATORS:
            tokens.append(_Token("op", char, i, i + 1))
            i += 1
        else:
            raise _Refused(_segment(formula, i), *_character_problem(char))
    return tokens


def _segment(formula: str, i: int) -> str:
    """The text around position `i` up to whitespace or a term operator on either side."""
    stops = set(" \t\r\n+~")
    start, end = i, i + 1
    while start > 0 and formula[start - 1] not in stops:
        start -= 1
    while end < len(formula) and formula[end] not in stops:
        end += 1
    return formula[start:end]


def _character_problem(char: str) -> tuple[str, str]:
    """What a character outside the grammar means, and the fix."""
    if char in "'\"":
        return (
            "is a quote: strings are not allowed in a formula",
            "name columns directly (backquote names with spaces: `my column`) and set level "
            "orders under `levels:` in the analysis.",
        )
    if char in "{}":
        return ("is a brace: Python blocks are not allowed in a formula", "remove the block.")
    if char in "/.,=[]":
        return (
            f"uses {char!r}, which the grammar allows only inside ns(), bs() or I()",
            "join terms with +, - and : or *; write arithmetic inside I(...), e.g. I(age / 10).",
        )
    if not char.isascii():
        return (
            "is a character outside ASCII",
            f"backquote a column name that holds it: `name with {char}`.",
        )
    return (
        f"uses {char!r}, which the grammar does not use",
        "join terms with + (or - to remove one), and variables with : or *.",
    )


def _word_end(formula: str, i: int) -> int:
    word = WORD.match(formula, i)
    return word.end() if word else i + 1


def _backquote_end(formula: str, start: int) -> int:
    """Index after the backquote that closes the one at `start` (formulaic's rule)."""
    close = formula.find("`", start + 1)
    if close < 0:
        raise _Refused(formula[start:], "opens a backquote that is never closed", "close it: `name`.")
    _check_quoted(formula[start + 1 : close])
    return close + 1


def _check_quoted(name: str) -> None:
    """A backquoted name: any printable characters but a backslash (formulaic's escape)."""
    if not name or any(c == "\\" or not c.isprintable() for c in name):
        raise _Refused(
            f"`{name}`",
            "is an empty backquoted name" if not name else "holds a backslash or a control character",
            "backquote the column name exactly as the sample sheet writes it (no backslashes, "
            "line breaks or tabs).",
        )


def _call_end(formula: str, start: int, paren: int) -> int:
    """Index after the parenthesis that closes the call opened at `paren` (formulaic's rule).

    Only brackets and backquotes count, as in formulaic's tokenizer; the characters in
    between are checked with the call (:func:`_check_call`).
    """
    closing = {"(": ")", "[": "]"}
    stack: list[str] = []
    i = paren
    while i < len(formula):
        char = formula[i]
        if char == "`":
            close = formula.find("`", i + 1)
            if close < 0:
                raise _Refused(formula[start:], "opens a backquote that is never closed", "close it: `name`.")
            i = close + 1
            continue
        if char in closing:
            if len(stack) >= MAX_NESTING:
                raise _Refused(
                    formula[start : i + 1] + "...",
                    f"nests brackets more than {MAX_NESTING} deep",
                    "simplify the term.",
                )
            stack.append(closing[char])
        elif char in ")]":
            if not stack or stack[-1] != char:
                raise _Refused(formula[start : i + 1], "has unbalanced brackets", "balance them.")
            stack.pop()
            if not stack:
                return i + 1
        i += 1
    raise _Refused(formula[start:], "opens a parenthesis that is never closed", "close it.")


# ----------------------------------------------------------------------------- terms


class _Parser:
    """Recursive descent over the tokens; collects the column names in `variables`."""

    def __init__(self, formula: str, tokens: list[_Token], variables: list[str]) -> None:
        self.formula, self.tokens, self.variables = formula, tokens, variables
        self.i = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def is_op(self, *ops: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "op" and token.text in ops

    def near(self, token: _Token | None) -> str:
        """The text around a token (the term to name in a message)."""
        if token is None:
            return self.formula.strip()[-20:]
        return self.formula[max(0, token.start - 10) : token.end + 10].strip()

    def parse(self) -> None:
        if not self.is_op("~"):
            raise _Refused(
                self.near(self.peek()),
                "comes before '~': a design formula has no left-hand side",
                'start the formula with ~, e.g. "~ batch + condition".',
            )
        self.take()
        if self.peek() is None:
            raise _Refused("~", "has no terms", 'write "~ 1" for a model with only an intercept.')
        self.sum(depth=0)
        token = self.peek()
        if token is None:
            return
        if token.kind == "op":
            problem = f"has {token.text!r} where a term should end"
        else:
            problem = "follows a complete term without an operator between them"
        raise _Refused(
            self.near(token), problem, "join terms with + (or - to remove one), and variables with : or *."
        )

    def sum(self, depth: int) -> None:
        if self.is_op("-"):
            self.take()
        self.term(depth)
        while self.is_op("+", "-"):
            self.take()
            self.term(depth)

    def term(self, depth: int) -> None:
        token = self.peek()
        if token is not None and token.kind == "number":
            if depth > 0:
                raise _Refused(
                    self.near(token),
                    "puts 0/1 inside parentheses",
                    "add or remove the intercept at the top level: ~ 0 + a, ~ a - 1.",
                )
            self.take()
            if self.is_op(":", "*"):
                raise _Refused(self.near(token), "interacts 0/1 with a variable", "write the variable alone.")
            return
        self.factor(depth)
        while self.is_op(":", "*"):
            self.take()
            self.factor(depth)

    def factor(self, depth: int) -> None:
        token = self.peek()
        if token is None or (token.kind == "op" and token.text != "("):
            raise _Refused(
                self.near(token),
                "is missing a term" if token is None else f"has {token.text!r} where a term should be",
                "put a variable, ns(...), bs(...) or I(...) between the operators.",
            )
        if token.kind == "number":
            raise _Refused(self.near(token), "uses 0/1 inside an interaction", "write the variable alone.")
        self.take()
        if token.kind == "name":
            self.variables.append(_column_name(token.text, quoted=self.formula[token.start] == "`"))
        elif token.kind == "call":
            self.variables.extend(_check_call(token.text))
        else:  # "("
            if depth + 1 > MAX_NESTING:
                raise _Refused(
                    self.near(token), f"nests parentheses more than {MAX_NESTING} deep", "simplify."
                )
            self.sum(depth + 1)
            if not self.is_op(")"):
                raise _Refused(self.near(token), "opens a parenthesis that is never closed", "close it.")
            self.take()


def _column_name(name: str, quoted: bool) -> str:
    if quoted:
        return name
    if name.startswith("__") or keyword.iskeyword(name):
        raise _Refused(
            name,
            "is a Python keyword" if keyword.iskeyword(name) else "is a name starting with '__'",
            f"backquote a column with this name: `{name}`.",
        )
    return name


# ----------------------------------------------------------------------------- calls


def _parse_call(text: str, term: str) -> tuple[ast.Call, dict[str, str]]:
    """The call's syntax tree, backquoted names replaced by placeholders (placeholder -> name).

    Placeholders start with `__`, which a written name may not, so they cannot be forged.
    """
    quoted: dict[str, str] = {}
    parts = text.split("`")
    if len(parts) % 2 == 0:
        raise _Refused(term, "opens a backquote that is never closed", "close it: `name`.")
    for j in range(1, len(parts), 2):
        _check_quoted(parts[j])
        if keyword.iskeyword(parts[j]) or parts[j].startswith("__"):
            # formulaic writes such a backquoted name back unquoted into the Python it evaluates
            raise _Refused(
                term,
                f"backquotes {parts[j]!r} inside a call: a Python keyword or a name starting with '__'",
                "rename the column in the sample sheet.",
            )
        placeholder = f"__column{len(quoted)}__"
        quoted[placeholder] = parts[j]
        parts[j] = placeholder
    try:
        tree = ast.parse("".join(parts).strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise _Refused(term, "is not a valid call", "write e.g. ns(age, df = 3) or I(age / 10).") from None
    if not isinstance(tree, ast.Call) or not isinstance(tree.func, ast.Name):
        raise _Refused(term, "is not a call of ns, bs or I", "write e.g. ns(age, df = 3) or I(age / 10).")
    return tree, quoted


def _check_call(text: str) -> list[str]:
    """Check one call factor (its whole text, `name(...)`); returns the columns it reads."""
    name = text[: text.index("(")]
    if name not in CALLS:
        raise _Refused(text, f"calls {name}, which is not allowed", _unknown_call_fix(name))
    call, quoted = _parse_call(text, text)
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        raise _Refused(text, "unpacks arguments (* or **)", "write each argument out.")
    names: list[str] = []
    if name == "I":
        if len(call.args) != 1 or call.keywords:
            raise _Refused(text, "gives I() other than one argument", "write one expression: I(age / 10).")
        _check_arithmetic(call.args[0], text, quoted, names)
    else:
        _check_spline(name, call, text, quoted, names)
    # comments, line continuations and the like pass Python's parser but not this grammar
    outside = text.split("`")[::2]
    for char in "".join(outside):
        if char not in PERMITTED:
            raise _Refused(text, *_character_problem(char))
    return names


def _check_spline(name: str, call: ast.Call, text: str, quoted: dict[str, str], names: list[str]) -> None:
    """ns(column, key = literal, ...) or bs(...), keys from SPLINE_KEYWORDS."""
    if len(call.args) != 1 or not isinstance(call.args[0], ast.Name):
        raise _Refused(
            text,
            f"does not give {name}() exactly one column as its first argument, with the others "
            "as keyword = literal",
            f"write e.g. {name}(age, df = 3).",
        )
    names.append(_name(call.args[0], text, quoted))
    allowed = SPLINE_KEYWORDS[name]
    seen: set[str] = set()
    for kw in call.keywords:
        assert kw.arg is not None
        if kw.arg not in allowed:
            raise _Refused(
                text,
                f"gives {name}() the keyword {kw.arg!r}, which is not one of {', '.join(allowed)}",
                f"use only these keywords (R's Boundary.knots is boundary_knots): {name}(age, df = 3).",
            )
        if kw.arg in seen:
            raise _Refused(text, f"gives {kw.arg!r} twice", "give each keyword once.")
        seen.add(kw.arg)
        _check_literal(kw.arg, allowed[kw.arg], kw.value, text)


def _unknown_call_fix(name: str) -> str:
    if name == "C":
        return (
            "a column of text is a factor already; set its level order (first = reference) with "
            "`levels: {column: [...]}` in the analysis, and a numeric column becomes a factor "
            "when `levels:` lists it."
        )
    return (
        "compute the transformed values as a new column of the sample sheet and name that "
        "column in the formula, or use one of the allowed forms."
    )


def _name(node: ast.Name, term: str, quoted: dict[str, str]) -> str:
    if node.id in quoted:
        return quoted[node.id]
    if node.id.startswith("__"):
        raise _Refused(term, f"names {node.id}, and names starting with '__' are not allowed", "remove it.")
    return node.id


def _number(node: ast.AST) -> float | None:
    """The value of a number literal (optionally negated), else None."""
    sign = 1.0
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        sign = -1.0 if isinstance(node.op, ast.USub) else 1.0
        node = node.operand
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return sign * float(node.value)
    return None


def _check_literal(key: str, kind: str, node: ast.AST, term: str) -> None:
    """A keyword argument of ns()/bs(): a literal of the kind the keyword takes."""
    if kind == "bool":
        ok = isinstance(node, ast.Constant) and isinstance(node.value, bool)
        wanted, example = "True or False", f"{key} = True"
    elif kind in ("df", "degree"):
        top = MAX_SPLINE_DF if kind == "df" else MAX_SPLINE_DEGREE
        ok = isinstance(node, ast.Constant) and type(node.value) is int and 1 <= node.value <= top
        wanted, example = f"a whole number from 1 to {top}", f"{key} = 3"
    else:
        elements = node.elts if isinstance(node, (ast.List, ast.Tuple)) else None
        ok = (
            elements is not None
            and len(elements) <= MAX_KNOTS
            and all(_number(e) is not None for e in elements)
        )
        wanted, example = f"a list of at most {MAX_KNOTS} numbers", f"{key} = [28, 56]"
    if ok:
        return
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "c":
        got = "c(...), which is R"
    elif isinstance(node, ast.Name) and node.id in ("TRUE", "FALSE", "T", "F"):
        got = f"{node.id}, which is R (here True/False)"
    elif isinstance(node, ast.Constant):
        got = repr(node.value)
    else:
        got = f"a value that {_describe(node)}" if not isinstance(node, ast.Name) else f"the name {node.id}"
    raise _Refused(term, f"gives {key} {got}, where it takes {wanted} literally", f"write e.g. {example}.")


ARITHMETIC = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}


def _check_arithmetic(node: ast.AST, term: str, quoted: dict[str, str], names: list[str]) -> None:
    """The argument of I(): columns and numbers under + - * / **, unary minus, parentheses."""
    if isinstance(node, ast.Name):
        names.append(_name(node, term, quoted))
    elif isinstance(node, ast.Constant) and type(node.value) in (int, float):
        pass
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        _check_arithmetic(node.operand, term, quoted, names)
    elif isinstance(node, ast.BinOp) and type(node.op) in ARITHMETIC:
        if isinstance(node.op, ast.Pow):
            if _number(node.right) is None or not any(isinstance(n, ast.Name) for n in ast.walk(node.left)):
                raise _Refused(
                    term,
                    "raises to a power that is not a number, or a base that holds no column",
                    "write a column (or arithmetic of columns) to a number, e.g. I(dose ** 2).",
                )
        _check_arithmetic(node.left, term, quoted, names)
        _check_arithmetic(node.right, term, quoted, names)
    else:
        raise _Refused(
            term,
            f"{_describe(node)}, which I() does not allow",
            "I() takes arithmetic of columns and numbers only (+ - * / **), e.g. I(age / 10); "
            "derive anything else as a sample-sheet column.",
        )


def _describe(node: ast.AST) -> str:
    """What a disallowed node does, for the message."""
    if isinstance(node, ast.Call):
        func = node.func
        callee = func.id if isinstance(func, ast.Name) else ast.unparse(func)
        return f"calls {callee}"
    if isinstance(node, ast.Attribute):
        return f"reads an attribute ({ast.unparse(node)})"
    if isinstance(node, ast.Subscript):
        return f"takes a subscript ({ast.unparse(node)})"
    if isinstance(node, ast.Constant):
        return f"holds the literal {node.value!r}"
    if isinstance(node, ast.JoinedStr):
        return "holds a string"
    if isinstance(node, ast.Lambda):
        return "defines a lambda"
    if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
        return "holds a comprehension"
    if isinstance(node, ast.BinOp):
        symbols = {ast.Mod: "%", ast.FloorDiv: "//", ast.MatMult: "@", ast.BitOr: "|", ast.BitAnd: "&",
                   ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>"}  # fmt: skip
        return f"uses the operator {symbols.get(type(node.op), type(node.op).__name__)}"
    return f"holds {type(node).__name__.lower()} syntax"
