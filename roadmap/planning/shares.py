"""Every term's share of a score (issue 19): what each part of a formula contributes, for the
built-in frameworks and a product's own formula alike, computed from the same tree that scores.

A score is split where its formula splits at the top. Through ``if``, ``min``/``max``, ``round``
and a cap, the part that decided the value is followed (the branch taken, the winning argument).
Then:

- a sum (``a + b − c``) is split into its addends: each one's share is its value over the sum
  of their sizes (signed: a subtracted part takes away);
- a product or quotient (``reach × impact × confidence / 100 / effort``) is split into its
  factors, a factor divided by a constant kept whole (``confidence / 100``): each multiplies
  the score by its value (or divides it), and its share is its part of the score's size in
  orders of magnitude (|ln f| over the sum of them), so ×1,000 outweighs ×2;
- anything else is one part, the whole score.

For every part, ``without`` is what the score would be without it: the formula evaluated again
with that part made neutral (0 in a sum, 1 in a product). Nothing here reads the database: the
values are a feature's stored breakdown.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from roadmap.planning.formula import Extreme, If, Neg, Round, SafeDiv, Sub
from roadmap.planning.terms import BinOp, Cap, Const, Term

ADD, TAKE, TIMES, DIVIDE = "+", "−", "×", "÷"


@dataclass(frozen=True)
class Share:
    term: str  # the part as the formula writes it
    effect: str  # ADD, TAKE, TIMES or DIVIDE
    value: float  # what the part is worth for this feature
    share: float  # 0…1 of the score (signed for sums: a subtracted part is negative)
    without: float | None  # the score without the part (None: no score without it)
    # A factor that is a sum (WSJF's cost of delay): its addends' shares of it, one level down.
    parts: tuple[Share, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        # By hand: dataclasses.asdict deep-copies every value (a third of a row's cost).
        return {
            "term": self.term,
            "effect": self.effect,
            "value": self.value,
            "share": self.share,
            "without": self.without,
            "parts": [part.as_dict() for part in self.parts],
        }


def _decisive(node: Term, values: Mapping[str, float | None]) -> Term:
    """The node whose value became the score: through if (the branch taken), min/max (the
    winning argument), round and a cap not reached."""
    while True:
        if isinstance(node, If):
            chosen = node.condition.evaluate(values)
            node = node.then if chosen else node.otherwise
        elif isinstance(node, Extreme):
            found = node.evaluate(values)
            node = next(t for t in node.terms if t.evaluate(values) == found)
        elif isinstance(node, Round):
            node = node.term
        elif isinstance(node, Cap) and (node.term.evaluate(values) or 0) < node.ceiling:
            node = node.term
        else:
            return node


def _addends(node: Term, sign: int = 1) -> list[tuple[int, Term]]:
    if isinstance(node, BinOp) and node.op == "+":
        return _addends(node.left, sign) + _addends(node.right, sign)
    if isinstance(node, Sub):
        return _addends(node.left, sign) + _addends(node.right, -sign)
    return [(sign, node)]


def _is_scaled(node: Term) -> bool:
    """``x / 100``, ``2 × x``: a factor with a constant, read as one part."""
    if isinstance(node, BinOp | SafeDiv) and (isinstance(node, SafeDiv) or node.op != "+"):
        return isinstance(node.left, Const) != isinstance(node.right, Const)
    return False


def _factors(node: Term, power: int = 1) -> list[tuple[int, Term]]:
    if _is_scaled(node):
        return [(power, node)]
    if isinstance(node, BinOp) and node.op == "×":
        return _factors(node.left, power) + _factors(node.right, power)
    if isinstance(node, SafeDiv) or (isinstance(node, BinOp) and node.op == "/"):
        return _factors(node.left, power) + _factors(node.right, -power)
    if isinstance(node, Neg):
        return _factors(node.term, power)
    return [(power, node)]


def _replaced(node: Term, target: Term, by: Term) -> Term:
    """``node`` with the very node ``target`` (by identity) put ``by`` in its place."""
    if node is target:
        return by
    if not dataclasses.is_dataclass(node):
        return node
    changes = {}
    for item in dataclasses.fields(node):
        value = getattr(node, item.name)
        if isinstance(value, Term):
            new = _replaced(value, target, by)
        elif isinstance(value, tuple) and any(isinstance(v, Term) for v in value):
            new = tuple(_replaced(v, target, by) if isinstance(v, Term) else v for v in value)
        elif hasattr(value, "__dataclass_fields__"):  # a condition: its terms
            new = _replaced(value, target, by)
        else:
            continue
        if new is not value:
            changes[item.name] = new
    return dataclasses.replace(node, **changes) if changes else node


# The formula with one part made neutral depends on the formula and the part only, not on a
# feature's values: built once per (formula, part) and kept, by identity (the built-in
# frameworks' trees and a product's parsed formula are cached, so the same objects come back).
_NEUTRAL_TREES: dict[tuple[int, int, float], tuple[Term, Term, Term]] = {}
_NEUTRAL_TREES_KEPT = 4096


def _neutral_tree(formula: Term, part: Term, neutral: float) -> Term:
    key = (id(formula), id(part), neutral)
    kept = _NEUTRAL_TREES.get(key)
    if kept is not None and kept[0] is formula and kept[1] is part:
        return kept[2]
    if len(_NEUTRAL_TREES) >= _NEUTRAL_TREES_KEPT:
        _NEUTRAL_TREES.clear()
    tree = _replaced(formula, part, Const(neutral))
    _NEUTRAL_TREES[key] = (formula, part, tree)
    return tree


def _without(formula: Term, part: Term, neutral: float, values) -> float | None:
    found = _neutral_tree(formula, part, neutral).evaluate(values)
    return None if found is None or not math.isfinite(found) else found


def _sum_shares(formula: Term, node: Term, values, without: bool = True) -> list[Share]:
    addends = _addends(node)
    if len(addends) < 2:
        return []
    worth = [(sign, part, part.evaluate(values) or 0.0) for sign, part in addends]
    total = sum(abs(v) for _, _, v in worth) or 1.0
    return [
        Share(
            term=part.text(True),
            effect=ADD if sign > 0 else TAKE,
            value=value,
            share=sign * value / total,
            without=_without(formula, part, 0.0, values) if without else None,
        )
        for sign, part, value in worth
    ]


def shares(formula: Term, values: Mapping[str, float | None], without: bool = True) -> list[Share]:
    """Each part's contribution to ``formula``'s value for ``values``; [] when it has none.
    ``without=False``: skip the score without each part (a formula evaluated again per part),
    for a caller that shows only the shares (the table's tooltip, on thousands of rows)."""
    score = formula.evaluate(values)
    if score is None or not math.isfinite(score):
        return []
    node = _decisive(formula, values)
    added = _sum_shares(formula, node, values, without)
    if added:
        return added
    factors = [(p, t) for p, t in _factors(node) if not isinstance(t, Const)]
    if len(factors) < 2:
        return [Share(term=node.text(True), effect=TIMES, value=score, share=1.0, without=None)]
    worth = [(power, part, part.evaluate(values) or 0.0) for power, part in factors]
    if any(v == 0 for _, _, v in worth):  # a zero factor is the whole story
        sizes = [1.0 if v == 0 else 0.0 for _, _, v in worth]
    else:
        sizes = [abs(math.log(abs(v))) for _, _, v in worth]
    total = sum(sizes)
    return [
        Share(
            term=part.text(True),
            effect=TIMES if power > 0 else DIVIDE,
            value=value,
            share=size / total if total else 1.0 / len(worth),
            without=_without(formula, part, 1.0, values) if without else None,
            parts=tuple(_sum_shares(formula, part, values, without)),
        )
        for (power, part, value), size in zip(worth, sizes, strict=True)
    ]


def breakdown_values(breakdown: Mapping[str, Any]) -> dict[str, float | None]:
    """The values a stored breakdown holds, by the names its formula reads."""
    return {name: term.get("value") for name, term in (breakdown.get("inputs") or {}).items()}


def breakdown_shares(
    formula: Term, breakdown: Mapping[str, Any], without: bool = True
) -> list[Share]:
    """Each part's share of a feature's stored score, under ``formula``."""
    if not breakdown or breakdown.get("score") is None:
        return []
    return shares(formula, breakdown_values(breakdown), without)


def driver_shares(rows: list[tuple[float, float | None]]) -> list[float]:
    """Weighted scoring, one level down: each driver's share of Σ weightᵢ·scoreᵢ, from its
    (weight, score), in order; [] while a driver is unscored or every score is 0."""
    if any(score is None for _, score in rows):
        return []
    total = sum(weight * (score or 0) for weight, score in rows)
    if not total:
        return []
    return [weight * (score or 0) / total for weight, score in rows]


def product_formula(product) -> Term:
    """The tree a product scores with (its framework's, or its own formula)."""
    from roadmap.planning.scoring import framework_for

    return framework_for(
        product.scoring_framework,
        divide_by_effort=product.weighted_divide_by_effort,
        formula=product.scoring_formula,
    ).formula


def product_shares(
    product, breakdown: Mapping[str, Any], formula: Term | None = None, without: bool = True
) -> list[Share]:
    """Each part's share of a feature's stored score under its product's formula (``formula``:
    ``product_formula(product)``, for a caller that has it); [] when the breakdown is of another
    formula (a recompute is on its way) or there is no score."""
    if not breakdown or breakdown.get("framework") != product.scoring_framework:
        return []
    if breakdown.get("version", product.scoring_formula_version) != (
        product.scoring_formula_version
    ):
        return []
    formula = product_formula(product) if formula is None else formula
    if not _names(formula) <= set(breakdown.get("inputs") or {}):
        return []
    return breakdown_shares(formula, breakdown, without)


@lru_cache(maxsize=64)
def _names(formula: Term) -> frozenset[str]:
    """The names a formula reads, found once per formula (a tree walk): "Show all" asks for
    each of thousands of rows, of one formula."""
    return frozenset(formula.variables())


def with_shares(
    product, breakdown: Mapping[str, Any], formula: Term | None = None
) -> dict[str, Any]:
    """A stored breakdown with its ``shares`` (``product_shares``) added, when there are any."""
    found = product_shares(product, breakdown, formula)
    return (
        {**breakdown, "shares": [share.as_dict() for share in found]} if found else dict(breakdown)
    )


def _short(value: float) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def shares_text(found: list[Share]) -> str:
    """The shares in a line, for a tooltip: "reach ×1,000 (81%) · effort ÷2 (8%)"."""
    return " · ".join(
        f"{share.term} {share.effect}{_short(share.value)} ({round(abs(share.share) * 100)}%)"
        for share in found
    )
