"""The scoring frameworks, each defined once.

A framework's formula is a small expression tree over named inputs. The same tree is

* evaluated in Python for one feature (``evaluate``), giving the score and its explanation, and
* compiled into a Django expression (``score_sql``/``breakdown_sql``) so a whole product is
  recomputed in one set-based UPDATE.

``tests/roadmap/test_scoring.py`` checks that both agree on the same inputs. The Python side is
pure: frozen dataclasses in, numbers out, no database.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, F, FloatField, IntegerField, Value, When
from django.db.models.expressions import CombinedExpression, Expression
from django.db.models.functions import Cast, JSONObject

RICE = "rice"
ICE = "ice"
WSJF = "wsjf"
VALUE_EFFORT = "value_effort"
WEIGHTED = "weighted"

MANUAL = "manual"
INSIGHTS = "insights"
PERSONAS = "personas"

# Statuses whose features are no longer competing for priority: they get no rank.
CLOSED_STATUSES = ("shipped", "archived")

MOSCOW_ORDER = ("must", "should", "could", "wont")
KANO_ORDER = ("basic", "performance", "delighter", "indifferent")
MARKET_POSITION_ORDER = ("differentiator", "parity")
# Each tie-break: the feature field it reads and the order of its values (unset sorts last).
TIE_BREAK_ORDERS = {
    "moscow": ("moscow", MOSCOW_ORDER),
    "kano": ("kano", KANO_ORDER),
    "differentiator": ("market_position", MARKET_POSITION_ORDER),
}


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
        seen = dict.fromkeys(self.left.variables() + self.right.variables())
        return tuple(seen)

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


def _is_sum(term: Term) -> bool:
    return isinstance(term, BinOp) and term.op == "+"


# --- Frameworks --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Framework:
    key: str
    label: str
    formula: Term
    # The inputs a PM types for this framework, in the order the UI shows them.
    inputs: tuple[str, ...]
    # How the formula is written for people when its tree hides a sum (weighted scoring).
    display: str = ""

    @property
    def formula_text(self) -> str:
        return self.display or self.formula.text()


def _frameworks(divide_by_effort: bool) -> dict[str, Framework]:
    weighted = (
        Var("weighted_drivers") / Var("effort") if divide_by_effort else Var("weighted_drivers")
    )
    return {
        RICE: Framework(
            RICE,
            "RICE",
            Var("reach") * Var("impact") * (Var("confidence") / 100) / Var("effort"),
            ("reach", "impact", "confidence", "effort"),
        ),
        ICE: Framework(
            ICE,
            "ICE",
            Var("impact_ice") * Var("confidence_ice") * Var("ease"),
            ("impact_ice", "confidence_ice", "ease"),
        ),
        WSJF: Framework(
            WSJF,
            "WSJF",
            (Var("business_value") + Var("time_criticality") + Var("risk_reduction"))
            / Var("job_size"),
            ("business_value", "time_criticality", "risk_reduction", "job_size"),
        ),
        VALUE_EFFORT: Framework(
            VALUE_EFFORT, "Value / effort", Var("value") / Var("effort"), ("value", "effort")
        ),
        WEIGHTED: Framework(
            WEIGHTED,
            "Weighted scoring",
            weighted,
            ("weighted_drivers", "effort") if divide_by_effort else ("weighted_drivers",),
            "(Σ weightᵢ·scoreᵢ / Σ weightᵢ) / effort"
            if divide_by_effort
            else "Σ weightᵢ·scoreᵢ / Σ weightᵢ",
        ),
    }


def framework_for(key: str, *, divide_by_effort: bool = False) -> Framework:
    return _frameworks(divide_by_effort)[key]


# --- Inputs and evaluation ---------------------------------------------------------------------


@dataclass(frozen=True)
class Driver:
    id: int
    name: str
    weight: float


@dataclass(frozen=True)
class ScoringConfig:
    """A product's scoring settings."""

    framework: str = RICE
    reach_source: str = MANUAL
    divide_by_effort: bool = False
    drivers: tuple[Driver, ...] = ()

    @property
    def definition(self) -> Framework:
        return framework_for(self.framework, divide_by_effort=self.divide_by_effort)


@dataclass(frozen=True)
class FeatureInputs:
    """One feature's raw inputs, plus the evidence counts that may stand in for reach."""

    reach: int | None = None
    impact: float | None = None
    confidence: int | None = None
    effort: float | None = None
    impact_ice: int | None = None
    confidence_ice: int | None = None
    ease: int | None = None
    business_value: int | None = None
    time_criticality: int | None = None
    risk_reduction: int | None = None
    job_size: int | None = None
    value: int | None = None
    # driver id -> 0..10
    driver_scores: Mapping[int, int] = field(default_factory=dict)
    # Distinct customers among linked insights; summed segment size of linked personas.
    insight_customers: int = 0
    persona_segment_size: int = 0


@dataclass(frozen=True)
class Evaluation:
    score: float | None
    breakdown: dict[str, Any]

    @property
    def missing(self) -> list[str]:
        return missing_inputs(self.breakdown)


def weighted_average(config: ScoringConfig, scores: Mapping[int, int]) -> float | None:
    """Σ weightᵢ·scoreᵢ / Σ weightᵢ over the drivers; None unless every driver is scored."""
    if not config.drivers or any(d.id not in scores for d in config.drivers):
        return None
    total_weight = sum(d.weight for d in config.drivers)
    return sum(d.weight * scores[d.id] for d in config.drivers) / total_weight


def input_source(name: str, config: ScoringConfig) -> str:
    if name == "reach":
        return config.reach_source
    if name == "weighted_drivers":
        return "drivers"
    return MANUAL


def evaluate(config: ScoringConfig, inputs: FeatureInputs) -> Evaluation:
    """Score one feature and explain it. Missing inputs give ``score=None`` and are named."""
    definition = config.definition
    values: dict[str, float | None] = {}
    for name in definition.formula.variables():
        if name == "reach" and config.reach_source == INSIGHTS:
            values[name] = float(inputs.insight_customers)
        elif name == "reach" and config.reach_source == PERSONAS:
            values[name] = float(inputs.persona_segment_size)
        elif name == "weighted_drivers":
            values[name] = weighted_average(config, inputs.driver_scores)
        else:
            raw = getattr(inputs, name)
            values[name] = None if raw is None else float(raw)
    score = definition.formula.evaluate(values)
    return Evaluation(score=score, breakdown=_breakdown(config, values, score))


def _breakdown(config: ScoringConfig, values: Mapping[str, float | None], score) -> dict:
    definition = config.definition
    return {
        "framework": definition.key,
        "formula": definition.formula_text,
        "inputs": {
            name: {"value": values[name], "source": input_source(name, config)}
            for name in definition.formula.variables()
        },
        "score": score,
    }


INPUT_ORDER = (
    "reach",
    "impact",
    "confidence",
    "impact_ice",
    "confidence_ice",
    "ease",
    "business_value",
    "time_criticality",
    "risk_reduction",
    "job_size",
    "value",
    "weighted_drivers",
    "effort",
)


def ordered_inputs(breakdown: Mapping[str, Any]) -> list[tuple[str, dict]]:
    """A breakdown's inputs in formula order (PostgreSQL's jsonb does not keep key order)."""
    inputs = breakdown.get("inputs") or {}
    return sorted(inputs.items(), key=lambda kv: INPUT_ORDER.index(kv[0]))


def missing_inputs(breakdown: Mapping[str, Any]) -> list[str]:
    """The inputs a breakdown lacks, in formula order."""
    return [name for name, term in ordered_inputs(breakdown) if term["value"] is None]


SOURCE_WORDS = {
    MANUAL: "entered by hand",
    INSIGHTS: "distinct customers in linked insights",
    PERSONAS: "summed segment size of linked personas",
    "drivers": "weighted average of the driver scores",
}


def explain(breakdown: Mapping[str, Any]) -> list[str]:
    """Sentences a PM can read out: each input with where it came from, then the result."""
    if not breakdown:
        return ["Not scored yet."]
    lines = [
        f"{name} = {_fmt(term['value'])} ({SOURCE_WORDS.get(term['source'], term['source'])})"
        for name, term in ordered_inputs(breakdown)
    ]
    missing = missing_inputs(breakdown)
    if missing:
        lines.append("No score: missing " + ", ".join(missing) + ".")
    else:
        lines.append(f"{breakdown['formula']} = {_fmt(breakdown['score'])}")
    return lines


def _fmt(value) -> str:
    if value is None:
        return "—"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


# --- Output -------------------------------------------------------------------------------------


def round_for_output(value: float | None) -> float | None:
    """A score as the API shows it: two decimals, and three significant digits below 1, so a
    small score never reads as 0. Binary noise (``1.9200000000000004``) goes; every input a person
    enters (integers, or at most two decimals) comes out exactly. The database keeps the exact
    value, and ranks on it: rounding there would tie scores that differ.
    """
    if value is None or value == 0 or not math.isfinite(value):
        return value
    return round(value, max(2, 2 - math.floor(math.log10(abs(value)))))


def breakdown_for_output(breakdown: Mapping[str, Any]) -> dict[str, Any]:
    """A breakdown with its input values and score rounded like ``round_for_output``."""
    if not breakdown:
        return dict(breakdown or {})
    result = dict(breakdown)
    if "inputs" in breakdown:
        result["inputs"] = {
            name: {**term, "value": _round_number(term.get("value"))}
            for name, term in (breakdown["inputs"] or {}).items()
        }
    if "score" in breakdown:
        result["score"] = _round_number(breakdown["score"])
    return result


def _round_number(value):
    return round_for_output(float(value)) if isinstance(value, int | float) else value


# --- SQL side ----------------------------------------------------------------------------------


def _as_float(expression) -> Expression:
    return Cast(expression, FloatField())


def sql_inputs(
    config: ScoringConfig,
    *,
    insight_customers: Expression,
    persona_segment_size: Expression,
    weighted_drivers: Expression,
) -> dict[str, Expression]:
    """Django expressions for each input of the product's formula, on a Feature queryset.

    The evidence and driver expressions are subqueries built by the caller (they need models).
    """
    resolved = {}
    for name in config.definition.formula.variables():
        if name == "reach" and config.reach_source == INSIGHTS:
            resolved[name] = _as_float(insight_customers)
        elif name == "reach" and config.reach_source == PERSONAS:
            resolved[name] = _as_float(persona_segment_size)
        elif name == "weighted_drivers":
            resolved[name] = _as_float(weighted_drivers)
        else:
            resolved[name] = _as_float(F(name))
    return resolved


def score_sql(config: ScoringConfig, inputs: Mapping[str, Expression]) -> Expression:
    return config.definition.formula.to_sql(lambda name: inputs[name])


def breakdown_sql(
    config: ScoringConfig, inputs: Mapping[str, Expression], score: Expression
) -> Expression:
    """The same JSON as ``evaluate``'s breakdown, built by the database."""
    definition = config.definition
    return JSONObject(
        framework=Value(definition.key),
        formula=Value(definition.formula_text),
        inputs=JSONObject(
            **{
                name: JSONObject(value=inputs[name], source=Value(input_source(name, config)))
                for name in definition.formula.variables()
            }
        ),
        score=score,
    )


# --- Ranking ------------------------------------------------------------------------------------


def tie_break_sql(tie_break: str) -> Expression:
    """Lower sorts first. MoSCoW: must, should, could, won't, unset. Kano likewise.
    Differentiator: differentiators, then parity features, then features not marked."""
    if tie_break not in TIE_BREAK_ORDERS:
        return Value(0, output_field=IntegerField())
    field_name, order = TIE_BREAK_ORDERS[tie_break]
    return Case(
        *[When(**{field_name: v}, then=Value(i)) for i, v in enumerate(order)],
        default=Value(len(order)),
        output_field=IntegerField(),
    )


def tie_break_key(tie_break: str, moscow: str, kano: str, market_position: str = "") -> int:
    """Python twin of ``tie_break_sql`` for one feature's values."""
    if tie_break not in TIE_BREAK_ORDERS:
        return 0
    field_name, order = TIE_BREAK_ORDERS[tie_break]
    value = {"moscow": moscow, "kano": kano, "market_position": market_position}[field_name]
    return order.index(value) if value in order else len(order)


def rank_key(
    *, score, tie_break: str, moscow: str, kano: str, created_at, id: int, market_position: str = ""
) -> tuple:
    """Python twin of the ranking order: higher score, then the tie-break, then oldest, then id.

    Unscored features rank after every scored one.
    """
    return (
        score is None,
        -(score or 0.0),
        tie_break_key(tie_break, moscow, kano, market_position),
        created_at,
        id,
    )


# --- Value vs. effort (the matrix) --------------------------------------------------------------

# Inputs on a 1–10 scale where more means less work: the matrix plots them reversed as effort.
EASE_INPUTS = ("ease",)


@dataclass(frozen=True)
class Reversed(Term):
    """The other end of a 1–10 scale, 11 − x: ease 10 (easiest) reads as effort 1.

    Python only: the matrix is drawn from evaluated inputs, never recomputed in SQL.
    """

    term: Term

    def evaluate(self, values):
        value = self.term.evaluate(values)
        return None if value is None else 11.0 - value

    def variables(self):
        return self.term.variables()

    def text(self, top=True):
        return f"11 − {self.term.text(False)}"


@dataclass(frozen=True)
class MatrixAxes:
    """What a framework counts as a feature's value (y) and its effort (x)."""

    value: Term
    effort: Term
    # How the framework relates the two, in a sentence.
    note: str = ""

    def variables(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.value.variables() + self.effort.variables()))


def matrix_axes(definition: Framework) -> MatrixAxes:
    """Split a framework's formula into value and effort.

    A formula of the form ``value / cost`` (RICE, WSJF, value / effort, weighted ÷ effort) splits
    at the division. A product with an ease factor (ICE) keeps the other factors as value and
    reverses ease into effort. A formula with no cost at all (weighted scoring's plain average) is
    all value; effort is then the feature's own effort estimate.
    """
    formula = definition.formula
    if isinstance(formula, BinOp) and formula.op == "/":
        return MatrixAxes(
            value=formula.left,
            effort=formula.right,
            note=f"{definition.label} divides value by effort: its score is value / effort.",
        )
    if (
        isinstance(formula, BinOp)
        and formula.op == "×"
        and isinstance(formula.right, Var)
        and formula.right.name in EASE_INPUTS
    ):
        return MatrixAxes(
            value=formula.left,
            effort=Reversed(formula.right),
            note=f"{definition.label} has no effort input: effort is {formula.right.name} "
            "reversed, so the easiest work (10) plots as effort 1.",
        )
    return MatrixAxes(
        value=formula,
        effort=Var("effort"),
        note=f"{definition.label} does not weigh effort in its score: effort is the "
        "feature's effort estimate.",
    )


def matrix_values(
    config: ScoringConfig, axes: MatrixAxes, *, fields: Mapping[str, Any], breakdown: Mapping
) -> dict[str, float | None]:
    """The inputs the axes need for one feature.

    Inputs a PM types come from the feature's own fields (always current); inputs derived from
    evidence or drivers come from its last scoring, when that scoring used the same framework.
    """
    same_framework = breakdown.get("framework") == config.framework
    stored = (breakdown.get("inputs") or {}) if same_framework else {}
    values: dict[str, float | None] = {}
    for name in axes.variables():
        if input_source(name, config) == MANUAL:
            raw = fields.get(name)
        else:
            raw = (stored.get(name) or {}).get("value")
        values[name] = None if raw is None else float(raw)
    return values


QUICK_WINS = "quick_wins"
BIG_BETS = "big_bets"
FILL_INS = "fill_ins"
MONEY_PITS = "money_pits"


def median(numbers: list[float]) -> float | None:
    """The middle value (the mean of the two middle ones for an even count); None when empty."""
    ordered = sorted(numbers)
    if not ordered:
        return None
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def quadrant(*, value: float, effort: float, value_split: float, effort_split: float) -> str:
    """Where a point falls. On a split, a point gets the better side: high value, low effort.
    The splits are medians, so a feature alone (or each of several alike) is on both of them:
    compared with the features shown it is as valuable and as cheap as any, a quick win."""
    high_value, high_effort = value >= value_split, effort > effort_split
    if high_value:
        return BIG_BETS if high_effort else QUICK_WINS
    return MONEY_PITS if high_effort else FILL_INS
