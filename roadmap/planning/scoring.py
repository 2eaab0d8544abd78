"""The scoring frameworks, each defined once.

A framework's formula is a small expression tree over named inputs. The same tree is

* evaluated in Python for one feature (``evaluate``), giving the score and its explanation, and
* compiled into a Django expression (``score_sql``/``breakdown_sql``) so a whole product is
  recomputed in one set-based UPDATE.

``tests/roadmap/test_scoring.py`` checks that both agree on the same inputs. The Python side is
pure: frozen dataclasses in, numbers out, no database.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.db.models import Case, F, FloatField, IntegerField, Value, When
from django.db.models.expressions import Expression
from django.db.models.functions import Cast, JSONObject

from roadmap.planning.formula import FormulaError, no_score_reason, parse

# The expression tree (roadmap/planning/terms.py), used by the frameworks below.
from roadmap.planning.terms import BinOp, Cap, Const, Term, Var, names_read

RICE = "rice"
ICE = "ice"
WSJF = "wsjf"
VALUE_EFFORT = "value_effort"
WEIGHTED = "weighted"
CUSTOM = "custom"

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


__all__ = ["BinOp", "Cap", "Const", "Term", "Var", "names_read"]  # the tree, re-exported


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


@functools.lru_cache(maxsize=2)
def _frameworks(divide_by_effort: bool) -> dict[str, Framework]:
    """The built-in frameworks (immutable trees: built once for each way of weighing effort,
    not on every call of ``framework_for``, which scoring a table's rows and shares makes)."""
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


def framework_for(key: str, *, divide_by_effort: bool = False, formula: str = "") -> Framework:
    """A framework's definition; ``formula``: the product's own, for the custom framework."""
    if key == CUSTOM:
        return custom_framework(formula)
    return _frameworks(divide_by_effort)[key]


# --- A product's own formula (issue 19) --------------------------------------------------------

# The inputs a PM types on each feature, any of which a product's formula may read.
FEATURE_INPUTS = (
    "reach",
    "impact",
    "confidence",
    "effort",
    "impact_ice",
    "confidence_ice",
    "ease",
    "business_value",
    "time_criticality",
    "risk_reduction",
    "job_size",
    "value",
)
# The evidence figures a formula may read, by the name it uses: FeatureInputs' attribute.
EVIDENCE_NAMES = {
    "customers": "insight_customers",
    "portal_customers": "portal_customers",
    "at_stake": "revenue_at_stake",
    "segment_size": "persona_segment_size",
}
EVIDENCE = "evidence"
DRIVER = "driver"
FIELD = "field"
UNKNOWN = "unknown"


def driver_key(name: str) -> str:
    """The name a formula reads a driver by: "Strategic fit" → ``strategic_fit``."""
    key = "_".join("".join(c if c.isalnum() else " " for c in name.lower()).split())
    key = "".join(c for c in key if c.isascii())
    return f"driver_{key}" if not key or key[0].isdigit() else key


def uses_drivers(framework: str, formula: str = "") -> bool:
    """Whether a product's scores may read its drivers: weighted scoring does, and a product's
    own formula when it names one (``reads_driver``) or a custom field (read alike)."""
    if framework == WEIGHTED:
        return True
    return framework == CUSTOM and any(
        name not in FEATURE_INPUTS and name not in EVIDENCE_NAMES
        for name in custom_framework(formula).formula.variables()
    )


def reads_driver(framework: str, formula: str, driver_name: str) -> bool:
    """Whether the product's scoring reads this driver (every one, with weighted scoring)."""
    if framework == WEIGHTED:
        return True
    return framework == CUSTOM and driver_key(driver_name) in (
        custom_framework(formula).formula.variables()
    )


@lru_cache(maxsize=256)
def custom_framework(formula: str) -> Framework:
    """A product's own formula as a framework. The text was checked when it was saved; read back,
    any name parses (a name no longer known has no value, and the score says so)."""
    try:
        term: Term = parse(formula, None)
    except FormulaError:
        term = Var("formula")  # unreadable (an empty formula): no score, never an error page
    return Framework(
        CUSTOM,
        "Custom formula",
        term,
        tuple(name for name in term.variables() if name in FEATURE_INPUTS),
        display=" ".join(formula.split()) if len(formula) <= 200 else "",
    )


# --- Inputs and evaluation ---------------------------------------------------------------------


# Where a weighted-scoring driver's 0–10 score comes from.
DRIVER_MANUAL = "manual"
DRIVER_CUSTOMERS = "customers"
DRIVER_REVENUE = "revenue"
# The evidence input each evidence-fed driver reads.
DRIVER_EVIDENCE = {DRIVER_CUSTOMERS: "insight_customers", DRIVER_REVENUE: "revenue_at_stake"}
# The weighted sum of the manual drivers' scores (None unless each is scored).
MANUAL_DRIVERS_TOTAL = "manual_drivers_total"


@dataclass(frozen=True)
class Driver:
    id: int
    name: str
    weight: float
    source: str = DRIVER_MANUAL
    # For an evidence-fed driver: the number of customers, or the revenue at stake, scoring 10.
    full_scale: float | None = None

    @property
    def from_evidence(self) -> bool:
        return self.source in DRIVER_EVIDENCE

    def score_term(self) -> Term:
        """An evidence-fed driver's score: min(10, 10 × evidence / full scale)."""
        assert self.from_evidence and self.full_scale
        return Cap(Const(10) * Var(DRIVER_EVIDENCE[self.source]) / Const(self.full_scale), 10)


@dataclass(frozen=True)
class CustomField:
    """A product's custom field as its formula reads it: by ``key``, a number per feature."""

    id: int
    key: str


@dataclass(frozen=True)
class ScoringConfig:
    """A product's scoring settings."""

    framework: str = RICE
    reach_source: str = MANUAL
    divide_by_effort: bool = False
    drivers: tuple[Driver, ...] = ()
    # The product's own formula (framework CUSTOM) and its version number.
    formula: str = ""
    formula_version: int = 0
    # The product's custom fields (read by its own formula only).
    fields: tuple[CustomField, ...] = ()

    @property
    def definition(self) -> Framework:
        return framework_for(
            self.framework, divide_by_effort=self.divide_by_effort, formula=self.formula
        )

    @property
    def uses_evidence(self) -> bool:
        """Whether scores read the evidence (customers asking, revenue at stake)."""
        if self.framework == RICE:
            return self.reach_source == INSIGHTS
        if self.framework == WEIGHTED:
            return any(d.from_evidence for d in self.drivers)
        if self.framework == CUSTOM:
            read = self.definition.formula.variables()
            return any(name in EVIDENCE_NAMES for name in read) or any(
                d.from_evidence for d in self.custom_drivers
            )
        return False

    @property
    def drivers_by_key(self) -> dict[str, Driver]:
        """The drivers by the name a formula reads them (the first, where two names meet)."""
        found: dict[str, Driver] = {}
        for driver in self.drivers:
            found.setdefault(driver_key(driver.name), driver)
        return found

    @property
    def custom_drivers(self) -> tuple[Driver, ...]:
        """The drivers the product's own formula reads, in the order it reads them."""
        if self.framework != CUSTOM:
            return ()
        by_key = self.drivers_by_key
        return tuple(by_key[name] for name in self.definition.formula.variables() if name in by_key)

    @property
    def fields_by_key(self) -> dict[str, CustomField]:
        """The custom fields by key, but for a key a driver has (the driver is read)."""
        drivers = self.drivers_by_key
        return {f.key: f for f in self.fields if f.key not in drivers}

    @property
    def custom_fields(self) -> tuple[CustomField, ...]:
        """The custom fields the product's own formula reads, in the order it reads them."""
        if self.framework != CUSTOM:
            return ()
        by_key = self.fields_by_key
        return tuple(by_key[name] for name in self.definition.formula.variables() if name in by_key)

    def weighted_drivers_term(self) -> Term | None:
        """Σ weightᵢ·scoreᵢ / Σ weightᵢ as a formula: the manual drivers' weighted sum (an input,
        None unless each is scored) plus each evidence-fed driver's weighted score term. Both the
        Python evaluation and the SQL recompute derive from it. None without drivers."""
        if not self.drivers:
            return None
        parts: list[Term] = []
        if any(not d.from_evidence for d in self.drivers):
            parts.append(Var(MANUAL_DRIVERS_TOTAL))
        parts += [Const(d.weight) * d.score_term() for d in self.drivers if d.from_evidence]
        total = parts[0]
        for part in parts[1:]:
            total = total + part
        return total / Const(sum(d.weight for d in self.drivers))


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
    # custom field id -> its number (a choice's value; yes/no: 1 or 0); absent: no value
    field_values: Mapping[int, float] = field(default_factory=dict)
    # Distinct customers among linked insights (a company counts once: its id, else the
    # customer's name, case- and space-insensitively), how many of them asked through the
    # roadmap page (source "portal"), and the summed annual revenue of the distinct companies
    # asking; summed segment size of linked personas.
    insight_customers: int = 0
    portal_customers: int = 0
    revenue_at_stake: float = 0.0
    persona_segment_size: int = 0


@dataclass(frozen=True)
class Evaluation:
    score: float | None
    breakdown: dict[str, Any]

    @property
    def missing(self) -> list[str]:
        return missing_inputs(self.breakdown)


def manual_drivers_total(config: ScoringConfig, scores: Mapping[int, int]) -> float | None:
    """Σ weightᵢ·scoreᵢ over the manual drivers; None unless each is scored."""
    manual = [d for d in config.drivers if not d.from_evidence]
    if any(d.id not in scores for d in manual):
        return None
    return sum(d.weight * scores[d.id] for d in manual)


def evidence_values(inputs: FeatureInputs) -> dict[str, float]:
    return {
        "insight_customers": float(inputs.insight_customers),
        "revenue_at_stake": float(inputs.revenue_at_stake),
    }


def weighted_average(
    config: ScoringConfig, scores: Mapping[int, int], inputs: FeatureInputs | None = None
) -> float | None:
    """Σ weightᵢ·scoreᵢ / Σ weightᵢ over the drivers; None unless every manual driver is scored.
    Evidence-fed drivers score from ``inputs``' evidence."""
    term = config.weighted_drivers_term()
    if term is None:
        return None
    values: dict[str, float | None] = {
        MANUAL_DRIVERS_TOTAL: manual_drivers_total(config, scores),
        **evidence_values(inputs or FeatureInputs()),
    }
    return term.evaluate(values)


def input_source(name: str, config: ScoringConfig) -> str:
    if config.framework == CUSTOM:
        if name in FEATURE_INPUTS:
            return MANUAL
        if name in EVIDENCE_NAMES:
            return EVIDENCE
        if name in config.drivers_by_key:
            return DRIVER
        return FIELD if name in config.fields_by_key else UNKNOWN
    if name == "reach":
        return config.reach_source
    if name == "weighted_drivers":
        return "drivers"
    return MANUAL


def evaluate(config: ScoringConfig, inputs: FeatureInputs) -> Evaluation:
    """Score one feature and explain it. Missing inputs give ``score=None`` and are named."""
    definition = config.definition
    if config.framework == CUSTOM:
        return _evaluate_custom(config, inputs)
    values: dict[str, float | None] = {}
    for name in definition.formula.variables():
        if name == "reach" and config.reach_source == INSIGHTS:
            values[name] = float(inputs.insight_customers)
        elif name == "reach" and config.reach_source == PERSONAS:
            values[name] = float(inputs.persona_segment_size)
        elif name == "weighted_drivers":
            values[name] = weighted_average(config, inputs.driver_scores, inputs)
        else:
            raw = getattr(inputs, name)
            values[name] = None if raw is None else float(raw)
    score = definition.formula.evaluate(values)
    return Evaluation(
        score=score, breakdown=_breakdown(config, values, score, _evidence(config, inputs))
    )


def _evidence(config: ScoringConfig, inputs: FeatureInputs) -> dict | None:
    if not config.uses_evidence:
        return None
    return {
        "customers": inputs.insight_customers,
        "portal": inputs.portal_customers,
        "revenue": float(inputs.revenue_at_stake),
    }


def custom_values(config: ScoringConfig, inputs: FeatureInputs) -> dict[str, float | None]:
    """What each name the product's formula reads holds for one feature."""
    by_key = config.drivers_by_key
    fields = config.fields_by_key
    values: dict[str, float | None] = {}
    for name in config.definition.formula.variables():
        if name in FEATURE_INPUTS:
            raw = getattr(inputs, name)
        elif name in EVIDENCE_NAMES:
            raw = getattr(inputs, EVIDENCE_NAMES[name])
        elif name in by_key and by_key[name].from_evidence:
            raw = by_key[name].score_term().evaluate(evidence_values(inputs))
        elif name in by_key:
            raw = inputs.driver_scores.get(by_key[name].id)
        elif name in fields:
            raw = inputs.field_values.get(fields[name].id)
        else:
            raw = None
        values[name] = None if raw is None else float(raw)
    return values


def _evaluate_custom(config: ScoringConfig, inputs: FeatureInputs) -> Evaluation:
    values = custom_values(config, inputs)
    score = config.definition.formula.evaluate(values)
    if score is not None and not math.isfinite(score):
        score = None  # beyond a double: refused when the formula is saved; never stored
    return Evaluation(
        score=score, breakdown=_breakdown(config, values, score, _evidence(config, inputs))
    )


def _breakdown(
    config: ScoringConfig, values: Mapping[str, float | None], score, evidence=None
) -> dict:
    definition = config.definition
    breakdown = {
        "framework": definition.key,
        "formula": _stored_formula(config),
        "inputs": {
            name: {"value": values[name], "source": input_source(name, config)}
            for name in definition.formula.variables()
        },
        "score": score,
    }
    if config.framework == CUSTOM:
        breakdown["version"] = config.formula_version
    # Who asks, for a score that reads the evidence (PMs only: never on the external allow-list).
    if evidence is not None:
        breakdown["evidence"] = evidence
    return breakdown


def _stored_formula(config: ScoringConfig) -> str:
    """The formula as each feature's breakdown keeps it: a product's own formula by its version
    (its text is on the product, up to 2,000 characters: not copied into every feature)."""
    if config.framework == CUSTOM:
        return f"custom formula v{config.formula_version}"
    return config.definition.formula_text


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
    """A breakdown's inputs in formula order (PostgreSQL's jsonb does not keep key order); a
    product's own formula's other names (drivers, evidence) after them, by name."""
    inputs = breakdown.get("inputs") or {}

    def order(item: tuple[str, dict]) -> tuple[int, str]:
        name = item[0]
        return (INPUT_ORDER.index(name) if name in INPUT_ORDER else len(INPUT_ORDER), name)

    return sorted(inputs.items(), key=order)


def missing_inputs(breakdown: Mapping[str, Any]) -> list[str]:
    """The inputs a breakdown lacks, in formula order."""
    return [name for name, term in ordered_inputs(breakdown) if term["value"] is None]


SOURCE_WORDS = {
    MANUAL: "entered by hand",
    INSIGHTS: "distinct customers in linked insights",
    PERSONAS: "summed segment size of linked personas",
    "drivers": "weighted average of the driver scores",
    EVIDENCE: "from the evidence",
    DRIVER: "driver score",
    FIELD: "custom field",
    UNKNOWN: "no input has this name",
}


def explain(breakdown: Mapping[str, Any], formula: str = "") -> list[str]:
    """Sentences a PM can read out: each input with where it came from, then the result.
    ``formula``: the product's own formula, when the breakdown is of one (it says why a score is
    missing: which division by zero, which log)."""
    if not breakdown:
        return ["Not scored yet."]
    lines = [
        f"{name} = {_fmt(term['value'])} ({SOURCE_WORDS.get(term['source'], term['source'])})"
        for name, term in ordered_inputs(breakdown)
    ]
    evidence = breakdown.get("evidence")
    if evidence:
        lines.append(evidence_sentence(evidence))
    missing = missing_inputs(breakdown)
    custom = breakdown.get("framework") == CUSTOM
    if missing:
        lines.append("No score: missing " + ", ".join(missing) + ".")
    elif custom and breakdown.get("score") is None:
        lines.append(f"No score: {custom_reason(breakdown, formula)}.")
    else:
        shown = " ".join(formula.split()) if custom and formula else breakdown["formula"]
        lines.append(f"{shown} = {_fmt(breakdown['score'])}")
    return lines


def custom_reason(breakdown: Mapping[str, Any], formula: str) -> str:
    """Why a product's own formula gave a feature no score though no input is missing."""
    values = {name: term.get("value") for name, term in (breakdown.get("inputs") or {}).items()}
    reason = no_score_reason(custom_framework(formula).formula, values) if formula else None
    return reason or "the formula has no value for these inputs"


def evidence_sentence(evidence: Mapping[str, Any]) -> str:
    """ "12 customers asked (7 through the roadmap page), $480k at stake"."""
    customers = int(evidence.get("customers") or 0)
    portal = int(evidence.get("portal") or 0)
    revenue = float(evidence.get("revenue") or 0)
    sentence = f"{customers:,} customer{'' if customers == 1 else 's'} asked"
    if portal:
        sentence += f" ({portal:,} through the roadmap page)"
    return f"{sentence}, {money(revenue)} at stake"


def money(value: float) -> str:
    """An amount, compactly: $950, $480k, $1.2M."""
    amount = float(value or 0)
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        scaled = amount / size
        # Rounded to the unit below first: 999,999 reads $1M (not $1000k), 999.4 reads $999.
        if round(abs(amount) / size * 1000) >= 1000:
            shown = f"{scaled:.1f}" if abs(scaled) < 100 else f"{scaled:.0f}"
            if "." in shown:
                shown = shown.rstrip("0").rstrip(".")
            return f"${shown}{suffix}"
    return f"${amount:,.0f}"


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
    if abs(value) >= 1:  # two decimals (log10 ≥ 0): the common case, without the logarithm
        return round(value, 2)
    return round(value, 2 - math.floor(math.log10(abs(value))))


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
    if "shares" in breakdown:
        result["shares"] = [_share_for_output(share) for share in breakdown["shares"]]
    return result


def _share_for_output(share: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **share,
        "value": _round_number(share["value"]),
        "share": round(float(share["share"]), 4),
        "without": _round_number(share["without"]),
        "parts": [_share_for_output(part) for part in share.get("parts") or ()],
    }


def _round_number(value):
    # The common cases first, as round_for_output answers them (a breakdown's numbers are
    # rounded for every row of a page): a whole number, a number of two decimals or more.
    kind = type(value)
    if kind is int and -(2**53) < value < 2**53:
        return float(value)
    if kind is float and (value >= 1 or value <= -1) and value not in (_INF, -_INF):
        return round(value, 2)
    return round_for_output(float(value)) if isinstance(value, int | float) else value


_INF = float("inf")


# --- SQL side ----------------------------------------------------------------------------------


def _as_float(expression) -> Expression:
    return Cast(expression, FloatField())


def sql_inputs(
    config: ScoringConfig,
    *,
    insight_customers: Expression,
    persona_segment_size: Expression,
    manual_drivers_total: Expression,
    revenue_at_stake: Expression,
    driver_scores: Mapping[int, Expression] | None = None,
    field_values: Mapping[int, Expression] | None = None,
    **evidence: Expression,
) -> dict[str, Expression]:
    """Django expressions for each input of the product's formula, on a Feature queryset.

    The evidence and driver expressions are subqueries built by the caller (they need models);
    the weighted drivers are ``ScoringConfig.weighted_drivers_term`` compiled over them.
    ``driver_scores``: a hand-scored driver's score by driver id (a product's own formula);
    ``field_values``: a custom field's number by field id (likewise), NULL without a value.
    """
    if config.framework == CUSTOM:
        figures = {
            "insight_customers": _as_float(insight_customers),
            "revenue_at_stake": _as_float(revenue_at_stake),
            "persona_segment_size": _as_float(persona_segment_size),
            **{name: _as_float(e) for name, e in evidence.items() if name == "portal_customers"},
        }
        return _custom_sql_inputs(config, figures, driver_scores or {}, field_values or {})
    resolved = {}
    for name in config.definition.formula.variables():
        if name == "reach" and config.reach_source == INSIGHTS:
            resolved[name] = _as_float(insight_customers)
        elif name == "reach" and config.reach_source == PERSONAS:
            resolved[name] = _as_float(persona_segment_size)
        elif name == "weighted_drivers":
            term = config.weighted_drivers_term()
            terms = {
                MANUAL_DRIVERS_TOTAL: _as_float(manual_drivers_total),
                "insight_customers": _as_float(insight_customers),
                "revenue_at_stake": _as_float(revenue_at_stake),
            }
            resolved[name] = (
                Value(None, output_field=FloatField())
                if term is None
                else term.to_sql(terms.__getitem__)
            )
        else:
            resolved[name] = _as_float(F(name))
    return resolved


def _custom_sql_inputs(
    config: ScoringConfig, figures: Mapping[str, Expression], driver_scores, field_values
) -> dict[str, Expression]:
    by_key = config.drivers_by_key
    fields = config.fields_by_key
    resolved: dict[str, Expression] = {}
    for name in config.definition.formula.variables():
        if name in FEATURE_INPUTS:
            resolved[name] = _as_float(F(name))
        elif name in EVIDENCE_NAMES:
            resolved[name] = figures[EVIDENCE_NAMES[name]]
        elif name in by_key and by_key[name].from_evidence:
            resolved[name] = by_key[name].score_term().to_sql(figures.__getitem__)
        elif name in by_key:
            resolved[name] = _as_float(driver_scores[by_key[name].id])
        elif name in fields:
            resolved[name] = _as_float(field_values[fields[name].id])
        else:
            resolved[name] = Value(None, output_field=FloatField())
    return resolved


def evidence_sql(
    config: ScoringConfig,
    *,
    insight_customers: Expression,
    portal_customers: Expression,
    revenue_at_stake: Expression,
    **others: Expression,
) -> Expression | None:
    """The breakdown's ``evidence`` as the database builds it (None when scores do not read the
    evidence), the twin of ``evaluate``'s."""
    if not config.uses_evidence:
        return None
    return JSONObject(
        customers=insight_customers,
        portal=portal_customers,
        revenue=_as_float(revenue_at_stake),
    )


def score_sql(config: ScoringConfig, inputs: Mapping[str, Expression]) -> Expression:
    return config.definition.formula.to_sql(lambda name: inputs[name])


def breakdown_sql(
    config: ScoringConfig,
    inputs: Mapping[str, Expression],
    score: Expression,
    evidence: Expression | None = None,
) -> Expression:
    """The same JSON as ``evaluate``'s breakdown, built by the database."""
    definition = config.definition
    extra: dict[str, Expression] = {} if evidence is None else {"evidence": evidence}
    if config.framework == CUSTOM:
        extra["version"] = Value(config.formula_version)
    return JSONObject(
        **extra,
        framework=Value(definition.key),
        formula=Value(_stored_formula(config)),
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
        return names_read(self.value, self.effort)


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
