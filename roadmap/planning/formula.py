"""A product's own scoring formula: a small language, parsed (never ``eval``) into the expression
tree of ``roadmap.planning.scoring``, so that one formula is evaluated in Python, with its
explanation, and compiled into SQL for the whole product's ``UPDATE`` (issue 19).

The language::

    reach * impact * confidence / 100 / effort * (1 + at_stake / 100000)
    if(customers >= 10 and not (effort > 8), value * 2, value)   # comments run to the line's end

- numbers (``12``, ``0.5``), the names ``allowed`` gives (inputs, drivers, custom fields, evidence
  figures), ``+ - * /``, unary minus, parentheses;
- ``min(a, b, …)``, ``max(a, b, …)``, ``round(x)`` / ``round(x, digits)`` (half away from zero),
  ``log(x)`` (natural), ``if(condition, then, else)``;
- comparisons ``< <= > >= = !=`` and ``and``, ``or``, ``not`` inside conditions.

Semantics, the same in Python and SQL: a missing input (None / NULL) makes what reads it missing
(the score then has none); dividing by zero and the log of a number ≤ 0 give no score; ``min``
and ``max`` of a missing value are missing (PostgreSQL's LEAST and GREATEST would skip it);
conditions are three-valued (``false and missing`` is false) and ``if`` with a missing condition
is missing.

Bounds, so that a formula costs what a formula should: ``MAX_LENGTH`` characters, ``MAX_NODES``
nodes, nesting ``MAX_DEPTH`` deep, ``MAX_VARIABLES`` names, numbers up to ``MAX_NUMBER``. Every
refusal is a ``FormulaError`` saying what and where (line and column, from 1).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import NoReturn

from django.db.models import BooleanField, ExpressionWrapper, FloatField
from django.db.models.expressions import Expression, Func

from roadmap.planning.terms import BinOp, Cap, Const, Term, Var, names_read

MAX_LENGTH = 2000
MAX_NODES = 200
MAX_DEPTH = 32
MAX_VARIABLES = 50
MAX_NUMBER = 1e12
MAX_DIGITS = 6  # round(x, digits): 0 to 6


class FormulaError(ValueError):
    """What is wrong with a formula, and where (1-based line and column)."""

    def __init__(self, message: str, line: int | None = 1, column: int = 1):
        super().__init__(message if line is None else f"{message} (line {line}, column {column})")
        # ``line`` None: the whole formula is at fault (how large it can get), not a place in it.
        self.message, self.line, self.column = message, line, column


# --- Nodes beyond the built-in frameworks' ------------------------------------------------------


class _Sql(Func):
    """SQL from a template whose ``{0}``, ``{1}``… are the compiled arguments, each written (with
    its parameters) as often as it appears: ``(CASE WHEN {0} > 0 THEN LN({0}) END)``."""

    def __init__(self, template: str, *expressions, output_field=None):
        super().__init__(*expressions, output_field=output_field or FloatField())
        self.sql_template = template

    def as_sql(self, compiler, connection, **extra):  # type: ignore[override]
        compiled = [compiler.compile(e) for e in self.get_source_expressions()]
        params: list = []

        def argument(match: re.Match) -> str:
            sql, found = compiled[int(match.group(1))]
            params.extend(found)
            return f"({sql})"

        sql = re.sub(r"\{(\d+)\}", argument, self.sql_template)
        if connection.vendor == "sqlite":  # SQLite's many-argument MIN and MAX
            sql = sql.replace("LEAST(", "MIN(").replace("GREATEST(", "MAX(")
        return sql, params


def _join(count: int, separator: str, first: int = 0) -> str:
    return separator.join(f"{{{n}}}" for n in range(first, first + count))


@dataclass(frozen=True)
class Neg(Term):
    term: Term

    def evaluate(self, values):
        value = self.term.evaluate(values)
        return None if value is None else -value

    def to_sql(self, resolve):
        return _Sql("(-{0})", self.term.to_sql(resolve))

    def variables(self):
        return self.term.variables()

    def text(self, top=True):
        return f"-{self.term.text(False)}"


@dataclass(frozen=True)
class Sub(Term):
    left: Term
    right: Term

    def evaluate(self, values):
        left, right = self.left.evaluate(values), self.right.evaluate(values)
        return None if left is None or right is None else left - right

    def to_sql(self, resolve):
        return _Sql("({0} - {1})", self.left.to_sql(resolve), self.right.to_sql(resolve))

    def variables(self):
        return names_read(self.left, self.right)

    def text(self, top=True):
        inner = f"{self.left.text(False)} - {self.right.text(False)}"
        return inner if top else f"({inner})"


@dataclass(frozen=True)
class SafeDiv(Term):
    """``left / right``; missing when ``right`` is 0 (NULLIF in SQL), as when either is."""

    left: Term
    right: Term

    def evaluate(self, values):
        left, right = self.left.evaluate(values), self.right.evaluate(values)
        if left is None or right is None or right == 0:
            return None
        return left / right

    def to_sql(self, resolve):
        return _Sql(
            "({0} / NULLIF({1}, 0.0))", self.left.to_sql(resolve), self.right.to_sql(resolve)
        )

    def variables(self):
        return names_read(self.left, self.right)

    def text(self, top=True):
        inner = f"{self.left.text(False)} / {self.right.text(False)}"
        return inner if top else f"({inner})"


@dataclass(frozen=True)
class Extreme(Term):
    """``min(…)`` or ``max(…)``: missing if any argument is (LEAST and GREATEST skip NULLs)."""

    function: str  # "min" or "max"
    terms: tuple[Term, ...]

    def evaluate(self, values):
        found = [t.evaluate(values) for t in self.terms]
        if any(v is None for v in found):
            return None
        return min(found) if self.function == "min" else max(found)  # type: ignore[type-var]

    def to_sql(self, resolve):
        count = len(self.terms)
        sql = "LEAST" if self.function == "min" else "GREATEST"
        nulls = _join(count, " IS NULL OR ") + " IS NULL"
        template = f"(CASE WHEN {nulls} THEN NULL ELSE {sql}({_join(count, ', ')}) END)"
        return _Sql(template, *(t.to_sql(resolve) for t in self.terms))

    def variables(self):
        return names_read(*self.terms)

    def text(self, top=True):
        return f"{self.function}({', '.join(t.text(True) for t in self.terms)})"


@dataclass(frozen=True)
class Round(Term):
    """Half away from zero, to ``digits`` decimals (0–6)."""

    term: Term
    digits: int = 0

    def evaluate(self, values):
        value = self.term.evaluate(values)
        if value is None:
            return None
        scale = 10.0**self.digits
        return math.copysign(math.floor(abs(value) * scale + 0.5), value) / scale

    def to_sql(self, resolve):
        scale = float(10**self.digits)
        template = f"(SIGN({{0}}) * FLOOR(ABS({{0}}) * {scale!r} + 0.5) / {scale!r})"
        return _Sql(template, self.term.to_sql(resolve))

    def variables(self):
        return self.term.variables()

    def text(self, top=True):
        digits = f", {self.digits}" if self.digits else ""
        return f"round({self.term.text(True)}{digits})"


@dataclass(frozen=True)
class Log(Term):
    """The natural logarithm; missing for a number ≤ 0."""

    term: Term

    def evaluate(self, values):
        value = self.term.evaluate(values)
        return None if value is None or value <= 0 else math.log(value)

    def to_sql(self, resolve):
        return _Sql("(CASE WHEN {0} > 0 THEN LN({0}) END)", self.term.to_sql(resolve))

    def variables(self):
        return self.term.variables()

    def text(self, top=True):
        return f"log({self.term.text(True)})"


class Condition:
    """A three-valued truth: True, False or None (unknown, from a missing value)."""

    def evaluate(self, values) -> bool | None:
        raise NotImplementedError

    def to_sql(self, resolve) -> Expression:
        raise NotImplementedError

    def variables(self) -> tuple[str, ...]:
        raise NotImplementedError

    def text(self) -> str:
        raise NotImplementedError


_COMPARE = {
    "<": (lambda a, b: a < b, "<"),
    "<=": (lambda a, b: a <= b, "<="),
    ">": (lambda a, b: a > b, ">"),
    ">=": (lambda a, b: a >= b, ">="),
    "=": (lambda a, b: a == b, "="),
    "!=": (lambda a, b: a != b, "<>"),
}


@dataclass(frozen=True)
class Compare(Condition):
    op: str
    left: Term
    right: Term

    def evaluate(self, values):
        left, right = self.left.evaluate(values), self.right.evaluate(values)
        return None if left is None or right is None else _COMPARE[self.op][0](left, right)

    def to_sql(self, resolve):
        return _Sql(
            f"({{0}} {_COMPARE[self.op][1]} {{1}})",
            self.left.to_sql(resolve),
            self.right.to_sql(resolve),
            output_field=BooleanField(),
        )

    def variables(self):
        return names_read(self.left, self.right)

    def text(self):
        return f"{self.left.text(True)} {self.op} {self.right.text(True)}"


@dataclass(frozen=True)
class Logic(Condition):
    """``and`` / ``or``, three-valued as SQL's: ``false and unknown`` is false."""

    op: str
    left: Condition
    right: Condition

    def evaluate(self, values):
        left, right = self.left.evaluate(values), self.right.evaluate(values)
        if self.op == "and":
            if left is False or right is False:
                return False
            return None if left is None or right is None else True
        if left is True or right is True:
            return True
        return None if left is None or right is None else False

    def to_sql(self, resolve):
        return _Sql(
            f"({{0}} {self.op.upper()} {{1}})",
            self.left.to_sql(resolve),
            self.right.to_sql(resolve),
            output_field=BooleanField(),
        )

    def variables(self):
        return names_read(self.left, self.right)

    def text(self):
        return f"({self.left.text()} {self.op} {self.right.text()})"


@dataclass(frozen=True)
class Not(Condition):
    condition: Condition

    def evaluate(self, values):
        value = self.condition.evaluate(values)
        return None if value is None else not value

    def to_sql(self, resolve):
        return _Sql("(NOT {0})", self.condition.to_sql(resolve), output_field=BooleanField())

    def variables(self):
        return self.condition.variables()

    def text(self):
        return f"not {self.condition.text()}"


@dataclass(frozen=True)
class If(Term):
    """``if(condition, then, otherwise)``: missing when the condition is unknown."""

    condition: Condition
    then: Term
    otherwise: Term

    def evaluate(self, values):
        chosen = self.condition.evaluate(values)
        if chosen is None:
            return None
        return (self.then if chosen else self.otherwise).evaluate(values)

    def to_sql(self, resolve):
        return _Sql(
            "(CASE WHEN {0} IS NULL THEN NULL WHEN {0} THEN {1} ELSE {2} END)",
            self.condition.to_sql(resolve),
            self.then.to_sql(resolve),
            self.otherwise.to_sql(resolve),
        )

    def variables(self):
        return names_read(self.condition, self.then, self.otherwise)

    def text(self, top=True):
        return f"if({self.condition.text()}, {self.then.text(True)}, {self.otherwise.text(True)})"


# --- Tokens ---------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"(?P<space>[ \t\r]+)|(?P<newline>\n)|(?P<comment>#[^\n]*)"
    r"|(?P<number>\d+(?:\.\d+)?|\.\d+)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op><=|>=|!=|==|[-+*/(),<>=])"
)
_KEYWORDS = {"and", "or", "not", "if", "min", "max", "round", "log"}
_FUNCTIONS = {"min", "max", "round", "log", "if"}


@dataclass(frozen=True)
class Token:
    kind: str  # number, name, op, end
    text: str
    line: int
    column: int


def tokens(source: str) -> list[Token]:
    """The formula's tokens, with their places; FormulaError for a character that is none."""
    found: list[Token] = []
    line, line_start, position = 1, 0, 0
    while position < len(source):
        match = _TOKEN.match(source, position)
        column = position - line_start + 1
        if match is None:
            raise FormulaError(f"“{source[position]}” is not part of a formula", line, column)
        kind = match.lastgroup or ""
        if kind == "newline":
            line, line_start = line + 1, match.end()
        elif kind in ("number", "name", "op"):
            text = "=" if match.group() == "==" else match.group()
            found.append(Token(kind, text, line, column))
        position = match.end()
    found.append(Token("end", "", line, position - line_start + 1))
    return found


# --- Parser ---------------------------------------------------------------------------------------


class _Parser:
    def __init__(self, source: str, allowed: Iterable[str] | None):
        self.tokens = tokens(source)
        self.at = 0
        # None: any name (a formula saved earlier, read back; names it no longer finds have no
        # value, so the score says which).
        self.allowed = None if allowed is None else set(allowed)
        self.nodes = 0
        self.names: set[str] = set()

    @property
    def token(self) -> Token:
        return self.tokens[self.at]

    def fail(self, message: str, token: Token | None = None) -> NoReturn:
        token = token or self.token
        raise FormulaError(message, token.line, token.column)

    def take(self, text: str | None = None) -> Token:
        token = self.token
        if text is not None and token.text != text:
            wanted = "the end" if text == "" else f"“{text}”"
            found = "the end" if token.kind == "end" else f"“{token.text}”"
            self.fail(f"Expected {wanted}, found {found}")
        self.at += 1
        return token

    def node(self, depth: int) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            self.fail(f"A formula has at most {MAX_NODES} parts")
        if depth > MAX_DEPTH:
            self.fail(f"A formula nests at most {MAX_DEPTH} deep")

    # Numbers ---------------------------------------------------------------------------------

    def number(self, depth: int) -> Term:
        return self.sum(depth)

    def sum(self, depth: int) -> Term:
        left = self.product(depth)
        while self.token.text in ("+", "-"):
            op = self.take()
            self.node(depth)
            right = self.product(depth)
            left = BinOp("+", left, right) if op.text == "+" else Sub(left, right)
        return left

    def product(self, depth: int) -> Term:
        left = self.unary(depth)
        while self.token.text in ("*", "/"):
            op = self.take()
            self.node(depth)
            right = self.unary(depth)
            left = BinOp("×", left, right) if op.text == "*" else SafeDiv(left, right)
        return left

    def unary(self, depth: int) -> Term:
        if self.token.text == "-":
            self.take()
            self.node(depth + 1)
            return Neg(self.unary(depth + 1))
        if self.token.text == "+":
            self.take()
            return self.unary(depth + 1)
        return self.atom(depth)

    def atom(self, depth: int) -> Term:
        token = self.token
        self.node(depth)
        if token.kind == "number":
            self.take()
            value = float(token.text)
            if value > MAX_NUMBER:
                self.fail(f"Numbers go up to {MAX_NUMBER:,.0f}", token)
            return Const(value)
        if token.text == "(":
            self.take()
            inner = self.number(depth + 1)
            self.take(")")
            return inner
        if token.kind == "name":
            self.take()
            if token.text in _FUNCTIONS:
                return self.call(token, depth + 1)
            if token.text in _KEYWORDS:
                self.fail(f"“{token.text}” belongs in a condition", token)
            if self.allowed is not None and token.text not in self.allowed:
                close = difflib.get_close_matches(token.text, sorted(self.allowed), n=1)
                hint = f": did you mean “{close[0]}”?" if close else ""
                self.fail(f"Unknown name “{token.text}”{hint}", token)
            self.names.add(token.text)
            if len(self.names) > MAX_VARIABLES:
                self.fail(f"A formula reads at most {MAX_VARIABLES} names", token)
            return Var(token.text)
        if token.kind == "end":
            self.fail("The formula ends where a number or a name was expected")
        self.fail(f"Expected a number or a name, found “{token.text}”")
        raise AssertionError  # unreachable: fail raises

    def call(self, name: Token, depth: int) -> Term:
        if self.token.text != "(":
            self.fail(f"{name.text} needs its arguments in brackets: {name.text}(…)")
        self.take("(")
        if name.text == "if":
            condition = self.condition(depth + 1)
            self.take(",")
            then = self.number(depth + 1)
            self.take(",")
            otherwise = self.number(depth + 1)
            self.take(")")
            return If(condition, then, otherwise)
        args = [self.number(depth + 1)]
        while self.token.text == ",":
            self.take()
            args.append(self.number(depth + 1))
        closing = self.take(")")
        if name.text in ("min", "max"):
            if len(args) < 2:
                self.fail(f"{name.text} takes two numbers or more", closing)
            return Extreme(name.text, tuple(args))
        if name.text == "log":
            if len(args) != 1:
                self.fail("log takes one number", closing)
            return Log(args[0])
        # round
        if len(args) > 2:
            self.fail("round takes a number and, optionally, how many decimals", closing)
        digits = 0
        if len(args) == 2:
            given = args[1]
            if not isinstance(given, Const) or given.value != int(given.value):
                self.fail("round's decimals are a whole number, e.g. round(x, 2)", closing)
            digits = int(given.value)
            if not 0 <= digits <= MAX_DIGITS:
                self.fail(f"round keeps 0 to {MAX_DIGITS} decimals", closing)
        return Round(args[0], digits)

    # Conditions ------------------------------------------------------------------------------

    def condition(self, depth: int) -> Condition:
        left = self.conjunction(depth)
        while self.token.text == "or":
            self.take()
            self.node(depth)
            left = Logic("or", left, self.conjunction(depth))
        return left

    def conjunction(self, depth: int) -> Condition:
        left = self.negation(depth)
        while self.token.text == "and":
            self.take()
            self.node(depth)
            left = Logic("and", left, self.negation(depth))
        return left

    def negation(self, depth: int) -> Condition:
        if self.token.text == "not":
            self.take()
            self.node(depth + 1)
            return Not(self.negation(depth + 1))
        if self.token.text == "(" and self._bracketed_condition():
            self.take("(")
            inner = self.condition(depth + 1)
            self.take(")")
            return inner
        left = self.number(depth)
        if self.token.text not in _COMPARE:
            self.fail("Expected a comparison (<, <=, >, >=, =, !=)")
        op = self.take().text
        self.node(depth)
        return Compare(op, left, self.number(depth))

    def _bracketed_condition(self) -> bool:
        """Whether the bracket at the cursor holds a condition (a comparison or and/or/not
        inside it, at its own level), not a number: ``(a > 1 and b)`` vs ``(a + 1) > b``."""
        level = 0
        for token in self.tokens[self.at :]:
            if token.text == "(":
                level += 1
            elif token.text == ")":
                level -= 1
                if level == 0:
                    return False
            elif level == 1 and (token.text in _COMPARE or token.text in ("and", "or", "not")):
                return True
            elif token.kind == "end":
                return False
        return False


def parse(source: str, allowed: Iterable[str] | None) -> Term:
    """The formula ``source`` as a scoring tree over the names ``allowed`` (None: any name);
    FormulaError (with line and column) for anything else. Never evaluates the text as Python."""
    if len(source) > MAX_LENGTH:
        raise FormulaError(f"A formula has at most {MAX_LENGTH} characters (it has {len(source)})")
    parser = _Parser(source, allowed)
    if parser.token.kind == "end":
        raise FormulaError("The formula is empty", parser.token.line, parser.token.column)
    term = parser.number(0)
    if parser.token.text in _COMPARE or parser.token.text in ("and", "or"):
        parser.fail("A comparison is not a score: use if(condition, then, else)")
    parser.take("")
    return term


def compile_sql(term: Term, resolve: Callable[[str], Expression]) -> Expression:
    """The formula as one SQL expression (double precision), names resolved by ``resolve``."""
    return ExpressionWrapper(term.to_sql(resolve), output_field=FloatField())


def evaluate(term: Term, values: Mapping[str, float | None]) -> float | None:
    """The formula's value in Python; None when it has none (a missing input, a division by
    zero, the log of a number ≤ 0, an unknown condition)."""
    return term.evaluate(values)


# --- How large a formula can get ------------------------------------------------------------------

# Every value a formula computes, on any feature, stays within these magnitudes (or is 0): a
# product or a quotient of two such values is then a finite, non-zero double, so the database's
# arithmetic can neither overflow nor underflow (PostgreSQL raises on both; Python would give
# inf or 0 where SQL fails). A formula that could leave them is refused when it is saved.
LARGEST = 1e100
SMALLEST = 1e-100
# A sum or difference of two doubles that is not 0 is at least this share of the smaller
# non-zero magnitude of its parts (one unit in the last place).
_ULP = 2.0**-53


@dataclass(frozen=True)
class Span:
    """What a value can be: at most ``largest`` and, unless 0, at least ``step`` in magnitude
    (inf: never other than 0)."""

    largest: float
    step: float


def _parts(node) -> list:
    """The terms and conditions directly inside a node, in reading order."""
    found: list = []
    for value in vars(node).values():
        if isinstance(value, Term | Condition):
            found.append(value)
        elif isinstance(value, tuple):
            found.extend(v for v in value if isinstance(v, Term | Condition))
    return found


def span(node, names: Mapping[str, Span]) -> Span:
    """How large and how small (non-zero) ``node`` can get when each name holds what ``names``
    says; FormulaError (for the whole formula) when any value on the way could leave
    SMALLEST…LARGEST."""
    if isinstance(node, Condition):
        for part in _parts(node):
            span(part, names)
        return Span(0.0, math.inf)
    inner = [span(part, names) for part in _parts(node) if isinstance(part, Term)]
    for part in _parts(node):
        if isinstance(part, Condition):
            span(part, names)
    if isinstance(node, Var):
        found = names.get(node.name, Span(0.0, math.inf))
    elif isinstance(node, Const):
        found = Span(abs(node.value), abs(node.value) or math.inf)
    elif isinstance(node, Neg):
        found = inner[0]
    elif isinstance(node, BinOp) and node.op == "×":
        found = Span(inner[0].largest * inner[1].largest, inner[0].step * inner[1].step)
    elif isinstance(node, BinOp | SafeDiv) and (isinstance(node, SafeDiv) or node.op == "/"):
        left, right = inner
        largest = left.largest / right.step if right.step < math.inf else 0.0
        found = Span(largest, left.step / right.largest if right.largest else math.inf)
    elif isinstance(node, BinOp | Sub):
        left, right = inner
        found = Span(left.largest + right.largest, min(left.step, right.step) * _ULP)
    elif isinstance(node, Extreme | If):
        found = Span(max(s.largest for s in inner), min(s.step for s in inner))
    elif isinstance(node, Cap):
        # Only the built-in nodes make one, over a count or a sum that is never negative (an
        # evidence driver's score, capped at 10): min() bounds its magnitude too.
        ceiling = abs(float(node.ceiling))
        found = Span(min(inner[0].largest, ceiling), min(inner[0].step, ceiling or math.inf))
    elif isinstance(node, Round):
        found = Span(inner[0].largest + 1, min(inner[0].step, 10.0**-node.digits))
    elif isinstance(node, Log):
        # |ln x| is largest at the extremes of x, and smallest (non-zero) next to x = 1.
        largest = max(abs(math.log(inner[0].step)), abs(math.log(max(inner[0].largest, 1.0))))
        found = Span(largest if inner[0].step < math.inf else 0.0, _ULP)
    else:
        raise TypeError(f"no span for {type(node).__name__}")
    if found.largest > LARGEST:
        raise FormulaError(
            f"{node.text()} can reach {found.largest:.1e} on some feature, more than a score "
            f"may hold ({LARGEST:.0e}): take out a factor, or divide by a number",
            line=None,
        )
    if found.step < SMALLEST:
        raise FormulaError(
            f"{node.text()} can come as close to 0 as {found.step:.1e} on some feature, closer "
            f"than a score may ({SMALLEST:.0e}): take out a division, or round it",
            line=None,
        )
    return found


# --- Why a formula gives no score ---------------------------------------------------------------


def no_score_reason(term: Term, values: Mapping[str, float | None]) -> str | None:
    """Why ``term`` has no value for these inputs, in a sentence naming the first part at fault
    (None when it has one): a missing input, a division by zero, the log of a number ≤ 0."""
    if term.evaluate(values) is not None:
        return None
    return _reason(term, values)


def _reason(node, values) -> str:
    if isinstance(node, Var):
        return f"{node.name} has no value"
    if isinstance(node, If):
        if node.condition.evaluate(values) is None:
            return _reason(node.condition, values)
        chosen = node.then if node.condition.evaluate(values) else node.otherwise
        return _reason(chosen, values)
    if isinstance(node, Logic):
        for part in (node.left, node.right):
            if part.evaluate(values) is None:
                return _reason(part, values)
    for part in _parts(node):
        if part.evaluate(values) is None:
            return _reason(part, values)
    if isinstance(node, SafeDiv | BinOp) and getattr(node, "op", "/") == "/":
        return f"{node.right.text()} is 0, and {node.text()} divides by it"
    if isinstance(node, Log):
        shown = _number(node.term.evaluate(values))
        return f"{node.text()} takes the log of {shown}, which has none (≤ 0)"
    return f"{node.text()} has no value"


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:,.4g}"
