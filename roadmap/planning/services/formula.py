"""A product's own scoring formula (issue 19): the names it may read and how large each can get,
the checks a formula passes before it is saved, its versions, and the ranking it would give.

A formula is text the PM writes; it is parsed (``roadmap.planning.formula``), never evaluated as
Python, checked against the names the product offers and against how large its values can get
(so the database's arithmetic can neither overflow nor underflow on any feature), saved as a new
version, and applied by the ordinary recompute: one UPDATE for the whole product.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import connection, models, transaction
from django.db.models import Count, F, Q, Window
from django.db.models.functions import RowNumber

from roadmap.models import (
    VALUE_LIMIT,
    VALUE_STEP,
    CustomField,
    CustomFieldKind,
    Feature,
    Product,
    ScoringDriver,
    ScoringFormulaVersion,
    ScoringFramework,
)
from roadmap.planning import formula as language
from roadmap.planning import scoring
from roadmap.planning.services.scoring import (
    _sql_evidence,
    product_lock,
    product_request_recompute,
    product_scoring_config,
    scoring_driver,
)

# How large an evidence figure can get: counts of rows (a 32-bit id space), sums of them.
_ROWS = float(2**31)
EVIDENCE_HELP = {
    "customers": ("Customers asking", "distinct customers in the feature's linked insights", 1.0),
    "portal_customers": (
        "Customers asking on the roadmap page",
        "of those, the ones who asked through a share link",
        1.0,
    ),
    "at_stake": (
        "Revenue at stake",
        "summed annual revenue of the distinct companies asking",
        0.01,
    ),
    "segment_size": (
        "Segment size",
        "summed segment size of the feature's personas",
        1.0,
    ),
}
# A product whose RICE reach comes from the evidence: the formula name of that figure. In a
# product's own formula ``reach`` is always the number typed on each feature, often empty there.
REACH_FIGURES = {scoring.INSIGHTS: "customers", scoring.PERSONAS: "segment_size"}
# The ranking a preview shows, and how many of the largest moves.
PREVIEW_TOP = 20
PREVIEW_MOVES = 10


@dataclass(frozen=True)
class FormulaName:
    """A name a product's formula may read, what it is, and what values it can hold."""

    name: str
    # scoring.MANUAL (typed on each feature), scoring.EVIDENCE, scoring.DRIVER or scoring.FIELD
    kind: str
    label: str
    help: str
    span: language.Span


def _input_span(name: str) -> language.Span:
    """How large a feature's input can be, and its smallest step, from its model field."""
    field = Feature._meta.get_field(name)
    assert isinstance(field, models.Field)
    largest: float
    if isinstance(field, models.DecimalField):
        assert field.max_digits is not None and field.decimal_places is not None
        largest = 10.0 ** (field.max_digits - field.decimal_places)
        step = 10.0**-field.decimal_places
    else:
        largest = 32767.0 if isinstance(field, models.PositiveSmallIntegerField) else _ROWS
        step = 1.0
    for validator in field.validators:
        if isinstance(validator, MaxValueValidator):
            largest = min(largest, float(validator.limit_value))
    if field.choices:
        largest = max(float(value) for value, _ in field.choices if value not in (None, ""))
    return language.Span(largest, step)


def _evidence_spans() -> dict[str, language.Span]:
    customers = language.Span(_ROWS, 1.0)
    return {
        "insight_customers": customers,
        "portal_customers": customers,
        # Σ annual revenue (DecimalField(14, 2)) over the companies asking.
        "revenue_at_stake": language.Span(1e12 * _ROWS, 0.01),
        # Σ segment sizes (PositiveIntegerField) over the feature's personas.
        "persona_segment_size": language.Span(_ROWS * _ROWS, 1.0),
    }


def field_span(field: CustomField) -> language.Span:
    """How large a custom field's number can be, and its smallest step (``field.choices`` is
    read: prefetch it for many fields)."""
    if field.kind == CustomFieldKind.YES_NO:
        return language.Span(1.0, 1.0)
    if field.kind == CustomFieldKind.NUMBER:
        return language.Span(float(VALUE_LIMIT), float(VALUE_STEP))
    values = [abs(float(c.value)) for c in field.choices.all()]
    nonzero = [v for v in values if v]
    return language.Span(max(values, default=0.0), min(nonzero, default=math.inf))


FIELD_HELP = {
    CustomFieldKind.NUMBER: "a number set on each feature",
    CustomFieldKind.YES_NO: "1 for yes, 0 for no, set on each feature",
}


def _field_help(field: CustomField) -> str:
    if field.kind != CustomFieldKind.CHOICE:
        return FIELD_HELP[CustomFieldKind(field.kind)]
    choices = ", ".join(f"{c.label} = {c.value.normalize():f}" for c in field.choices.all())
    return f"a choice on each feature: {choices or 'no choices yet'}"


def formula_names(
    *,
    product: Product,
    drivers: Iterable[ScoringDriver] | None = None,
    fields: Iterable[CustomField] | None = None,
) -> list[FormulaName]:
    """Every name the product's formula may read: the inputs typed on features, the evidence
    figures, the product's drivers (by ``scoring.driver_key``) and its custom fields (by key),
    in that order."""
    names = []
    for name in scoring.FEATURE_INPUTS:
        field = Feature._meta.get_field(name)
        assert isinstance(field, models.Field)
        names.append(
            FormulaName(
                name,
                scoring.MANUAL,
                str(field.verbose_name).capitalize(),
                str(field.help_text),
                _input_span(name),
            )
        )
    figures = _evidence_spans()
    for name, (label, help_text, _) in EVIDENCE_HELP.items():
        names.append(
            FormulaName(
                name,
                scoring.EVIDENCE,
                label,
                help_text,
                figures[scoring.EVIDENCE_NAMES[name]],
            )
        )
    taken = {n.name for n in names} | language._KEYWORDS
    if drivers is None:
        drivers = ScoringDriver.objects.filter(product=product)
    for driver in drivers:
        key = scoring.driver_key(driver.name)
        if key in taken:
            continue  # a driver named like an input, or like an earlier driver: unreadable
        taken.add(key)
        modelled = scoring_driver(driver)
        if modelled.from_evidence:
            span = language.span(modelled.score_term(), figures)
            help_text = f"0–10 from the evidence ({driver.get_source_display()})"
        else:
            span = language.Span(10.0, 1.0)
            help_text = "0–10, scored by hand on each feature"
        names.append(FormulaName(key, scoring.DRIVER, driver.name, help_text, span))
    if fields is None:
        fields = CustomField.objects.filter(product=product).prefetch_related("choices")
    for custom in fields:
        if custom.key in taken:
            continue  # refused when the field is saved; a driver added since has the name
        taken.add(custom.key)
        names.append(
            FormulaName(
                custom.key, scoring.FIELD, custom.name, _field_help(custom), field_span(custom)
            )
        )
    return names


@dataclass(frozen=True)
class ReachHint:
    """The evidence figure to write instead of ``reach``: its name and what it counts."""

    name: str
    help: str


def reach_hint(*, product: Product, reads: Iterable[str]) -> ReachHint | None:
    """For a formula that ``reads`` reach in a product whose reach comes from the evidence, the
    evidence figure that is that reach (``customers``, ``segment_size``); else None."""
    figure = REACH_FIGURES.get(product.reach_source)
    if figure is None or "reach" not in reads:
        return None
    return ReachHint(name=figure, help=EVIDENCE_HELP[figure][1])


def formula_check(*, product: Product, source: str, names: list[FormulaName] | None = None):
    """The formula parsed, or FormulaError saying what is wrong and where: its language, the
    names the product offers, and how large its values can get."""
    names = formula_names(product=product) if names is None else names
    if not source.strip():
        raise language.FormulaError("The formula is empty")
    term = language.parse(source, [n.name for n in names])
    spans = {n.name: n.span for n in names}
    language.span(term, spans)
    return term


@transaction.atomic
def product_formula_save(*, product: Product, source: str, author) -> ScoringFormulaVersion | None:
    """Save ``source`` as the product's formula and use it: a new version (who, when, what), the
    framework set to the product's own formula, every score recomputed. ValidationError on
    ``formula`` for a formula that does not check. None when nothing changed (the same text, in
    use already)."""
    source = source.replace("\r\n", "\n").strip()
    try:
        formula_check(product=product, source=source)
    except language.FormulaError as error:
        raise ValidationError({"formula": str(error)}) from None
    product_lock(product_id=product.pk)
    product.refresh_from_db(fields=["scoring_formula", "scoring_formula_version"])
    if source == product.scoring_formula and product.scoring_framework == ScoringFramework.CUSTOM:
        return None
    number = product.scoring_formula_version
    if source != product.scoring_formula:
        number += 1
        version = ScoringFormulaVersion.objects.create(
            product=product, number=number, source=source, author=author
        )
    else:  # the same text as the last version, taken back into use
        version = ScoringFormulaVersion.objects.get(product=product, number=number)
    product.scoring_formula, product.scoring_formula_version = source, number
    product.scoring_framework = ScoringFramework.CUSTOM
    product.save(
        update_fields=[
            "scoring_formula",
            "scoring_formula_version",
            "scoring_framework",
            "updated_at",
        ]
    )
    product_request_recompute(product_id=product.pk)
    return version


# --- The ranking a formula would give -----------------------------------------------------------


@dataclass(frozen=True)
class PreviewRow:
    id: int
    title: str
    rank: int | None
    score: float | None
    new_rank: int
    new_score: float | None

    @property
    def move(self) -> int | None:
        """Places gained (positive) or lost; None for a feature that had no rank."""
        return None if self.rank is None else self.rank - self.new_rank


@dataclass(frozen=True)
class Preview:
    top: list[PreviewRow]
    moves: list[PreviewRow]
    # Open features; how many change rank; how many would have no score (and have one now).
    total: int
    moved: int
    unscored: int
    losing_score: int
    # Each input the formula reads that some open features lack: (name, how many lack it).
    missing: list[tuple[str, int]] = dataclasses.field(default_factory=list)
    # When reach is among them and the product's reach comes from the evidence: that figure.
    reach_hint: ReachHint | None = None


def formula_preview(*, product: Product, source: str) -> Preview:
    """The ranking ``source`` would give the product's open features, beside their ranks now:
    the new top PREVIEW_TOP, the PREVIEW_MOVES largest moves, and counts. One query, over the
    product's features only; nothing is written. The formula must have passed ``formula_check``.
    """
    config = product_scoring_config(product=product, formula=source)
    figures = _sql_evidence(config)
    score = scoring.score_sql(config, scoring.sql_inputs(config, **figures))
    ranked = (
        Feature.objects.filter(product=product)
        .exclude(status__in=scoring.CLOSED_STATUSES)
        .annotate(new_score=score)
        .annotate(
            new_rank=Window(
                RowNumber(),
                order_by=[
                    F("new_score").desc(nulls_last=True),
                    scoring.tie_break_sql(product.tie_break).asc(),
                    F("created_at").asc(),
                    F("id").asc(),
                ],
            )
        )
        .order_by()
        .values("id", "title", "rank", "score", "new_rank", "new_score")
    )
    sql, params = ranked.query.sql_with_params()
    columns = "part, id, title, rank, score, new_rank, new_score"
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH p AS ({sql}), "
            f"top AS (SELECT 'top' AS part, id, title, rank, score, new_rank, new_score FROM p "
            f"WHERE new_rank <= %s), "
            f"moves AS (SELECT 'move' AS part, id, title, rank, score, new_rank, new_score FROM p "
            f"WHERE rank IS NOT NULL AND rank <> new_rank "
            f"ORDER BY ABS(rank - new_rank) DESC, new_rank LIMIT %s), "
            f"totals AS (SELECT 'totals' AS part, COUNT(*) AS id, '' AS title, "
            f"SUM(CASE WHEN rank IS NULL OR rank <> new_rank THEN 1 ELSE 0 END) AS rank, "
            f"SUM(CASE WHEN new_score IS NULL THEN 1 ELSE 0 END) AS score, "
            f"SUM(CASE WHEN new_score IS NULL AND score IS NOT NULL THEN 1 ELSE 0 END) "
            f"AS new_rank, CAST(NULL AS DOUBLE PRECISION) AS new_score FROM p) "
            f"SELECT {columns} FROM top UNION ALL SELECT {columns} FROM moves "
            f"UNION ALL SELECT {columns} FROM totals",
            [*params, PREVIEW_TOP, PREVIEW_MOVES],
        )
        rows = cursor.fetchall()
    top: list[PreviewRow] = []
    moves: list[PreviewRow] = []
    totals = [0, 0, 0, 0]
    for part, *row in rows:
        if part == "totals":
            totals = [int(v or 0) for v in (row[0], row[2], row[3], row[4])]
            continue
        found = PreviewRow(*row)
        (top if part == "top" else moves).append(found)
    top.sort(key=lambda r: r.new_rank)
    read = [n for n in config.definition.formula.variables() if n in scoring.FEATURE_INPUTS]
    lacking = (
        Feature.objects.filter(product=product)
        .exclude(status__in=scoring.CLOSED_STATUSES)
        .aggregate(**{n: Count("pk", filter=Q(**{f"{n}__isnull": True})) for n in read})
        if read and totals[2]
        else {}
    )
    return Preview(
        top=top,
        moves=moves,
        total=totals[0],
        moved=totals[1],
        unscored=totals[2],
        losing_score=totals[3],
        missing=[(n, lacking[n]) for n in read if lacking.get(n)],
        reach_hint=reach_hint(product=product, reads=[n for n in read if lacking.get(n)]),
    )
