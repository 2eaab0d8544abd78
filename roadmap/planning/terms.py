"""The expression tree every scoring formula is made of: the built-in frameworks'
(``roadmap.planning.scoring``) and a product's own, parsed from its text
(``roadmap.planning.formula``). A node is evaluated in Python for one feature and compiled into a
Django expression for a whole product's UPDATE; both must agree (tests check it).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django.db.models import FloatField, Value
from django.db.models.expressions import CombinedExpression, Expression
from django.db.models.functions import Least

# --- Expression tree ---------------------------------------------------------------------------


class Term:
    """A node of a formula; arithmetic operators build bigger formulas."""

    def __add__(self, other):
        return BinOp("+", self, _wrap(other))

    def __mul__(self, other):
        return BinOp("×", self, _wrap(other))

    def __truediv__(self, other):
        return BinOp("/", self, _wrap(other))

    def evaluate(self, values: Mapping[str, float | None]) -> float | None:
        raise NotImplementedError

    def to_sql(self, resolve: Callable[[str], Expression]) -> Expression:
        raise NotImplementedError

    def variables(self) -> tuple[str, ...]:
        raise NotImplementedError

    def text(self, top: bool = True) -> str:
        raise NotImplementedError


def names_read(*parts) -> tuple[str, ...]:
    """The names the terms (or conditions) ``parts`` read, each once, in the order first read."""
    return tuple(dict.fromkeys(name for part in parts for name in part.variables()))


def _wrap(value) -> Term:
    return value if isinstance(value, Term) else Const(value)


@dataclass(frozen=True)
class Var(Term):
    name: str

    def evaluate(self, values):
        value = values.get(self.name)
        return None if value is None else float(value)

    def to_sql(self, resolve):
        return resolve(self.name)

    def variables(self):
        return (self.name,)

    def text(self, top=True):
        return self.name


@dataclass(frozen=True)
class Const(Term):
    value: float

    def evaluate(self, values):
        return float(self.value)

    def to_sql(self, resolve):
        return Value(float(self.value), output_field=FloatField())

    def variables(self):
        return ()

    def text(self, top=True):
        return f"{self.value:g}"


_OPS = {"+": operator.add, "×": operator.mul, "/": operator.truediv}
_SQL_OPS = {"+": "+", "×": "*", "/": "/"}


@dataclass(frozen=True)
class BinOp(Term):
    op: str
    left: Term
    right: Term

    def evaluate(self, values):
        left, right = self.left.evaluate(values), self.right.evaluate(values)
        if left is None or right is None:
            return None
        if self.op == "/" and right == 0:
            return None
        return _OPS[self.op](left, right)

    def to_sql(self, resolve):
        return CombinedExpression(
            self.left.to_sql(resolve),
            _SQL_OPS[self.op],
            self.right.to_sql(resolve),
            output_field=FloatField(),
        )

    def variables(self):
        return names_read(self.left, self.right)

    def text(self, top=True):
        # A sum inside a sum reads flat: (a + b + c), not ((a + b) + c).
        left = self.left.text(True) if self.op == "+" and _is_sum(self.left) else None
        inner = f"{left or self.left.text(False)} {self.op} {self.right.text(False)}"
        # Only sums need brackets inside a product or quotient; keep the published formulas' look.
        if self.op == "+" and not top:
            return f"({inner})"
        if self.op == "/" and isinstance(self.right, Const) and not top:
            return f"({inner})"
        return inner


@dataclass(frozen=True)
class Cap(Term):
    """The smaller of a term and a ceiling: ``min(term, ceiling)``, None when the term is."""

    term: Term
    ceiling: float

    def evaluate(self, values):
        value = self.term.evaluate(values)
        return None if value is None else min(value, float(self.ceiling))

    def to_sql(self, resolve):
        return Least(
            self.term.to_sql(resolve),
            Value(float(self.ceiling), output_field=FloatField()),
            output_field=FloatField(),
        )

    def variables(self):
        return self.term.variables()

    def text(self, top=True):
        return f"min({self.term.text(True)}, {self.ceiling:g})"


def _is_sum(term: Term) -> bool:
    return isinstance(term, BinOp) and term.op == "+"
