"""Reads for a product's features as CSV: the columns (the import reads what the export writes),
the export's rows, and the guard that keeps spreadsheets from running text cells as formulas.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import F, QuerySet
from django.utils import timezone

from roadmap.models import (
    CustomField,
    CustomFieldKind,
    Feature,
    FeatureDriverScore,
    FeatureFieldValue,
    Product,
    ScoringDriver,
)
from roadmap.planning import scoring
from roadmap.planning.selectors.pages import STATUS_ALL, STATUS_OPEN, normalise_status_filter
from roadmap.planning.selectors.priorities import feature_filter
from roadmap.planning.services.scoring import SCORING_INPUT_FIELDS

# The columns of the features CSV, in export order. Editable ones are the import's too (see
# roadmap.integrations.services.csv_io); computed ones are exported for reading and ignored on
# import.
TEXT_COLUMNS = ("title", "description")
CHOICE_COLUMNS = ("status", "moscow", "kano", "market_position")
LIST_COLUMNS = ("tags", "personas")
MONEY_COLUMNS = ("expected_revenue", "cost")
NUMBER_COLUMNS = (*SCORING_INPUT_FIELDS, *MONEY_COLUMNS)
COMPUTED_COLUMNS = ("score", "rank", "horizon", "lane", "release", "updated_at")
DRIVER_PREFIX = "driver: "
# A product's custom fields, each a column: a number, a choice's label, or yes/no.
FIELD_PREFIX = "field: "
YES, NO = "yes", "no"
# Tags and personas share a cell; a semicolon because names may contain commas.
LIST_SEPARATOR = "; "

# OWASP "CSV injection": a spreadsheet may run a cell that starts with one of these as a formula.
FORMULA_TRIGGERS = frozenset("=+-@\t\r")


def _formula_like(text: str) -> bool:
    # Quotes in front are looked through, so a text that really starts with a quote before a
    # trigger gets one more and comes back unchanged from csv_text_unguard.
    return text.lstrip("'")[:1] in FORMULA_TRIGGERS


def csv_text_guard(text: str) -> str:
    """Text that a spreadsheet shows rather than runs: a single quote before formula-like text."""
    return "'" + text if _formula_like(text) else text


def csv_text_unguard(text: str) -> str:
    """Undo ``csv_text_guard``: drop the quote the export put in front of formula-like text."""
    return text[1:] if text.startswith("'") and _formula_like(text[1:]) else text


def derived_input_columns(product: Product) -> frozenset[str]:
    """The scoring inputs this product does not take as typed: reach, when it comes from evidence
    or personas. The export writes the value the score used; the import leaves them alone."""
    return frozenset() if product.reach_source == scoring.MANUAL else frozenset({"reach"})


def driver_column(driver: ScoringDriver) -> str:
    return f"{DRIVER_PREFIX}{driver.name}"


def field_column(custom: CustomField) -> str:
    return f"{FIELD_PREFIX}{custom.name}"


def feature_columns(
    *, drivers: Iterable[ScoringDriver] = (), fields: Iterable[CustomField] = ()
) -> list[str]:
    """The header of a product's features CSV; ``drivers`` are its weighted-scoring drivers,
    ``fields`` its custom fields."""
    return [
        "id",
        *TEXT_COLUMNS,
        *CHOICE_COLUMNS,
        *LIST_COLUMNS,
        *SCORING_INPUT_FIELDS,
        *(driver_column(d) for d in drivers),
        *(field_column(f) for f in fields),
        *MONEY_COLUMNS,
        *COMPUTED_COLUMNS,
    ]


def _number(value: int | float | Decimal | None) -> str:
    # Numbers are written by us from numeric columns, so they never need the formula guard
    # (and a negative number would stay a number anyway).
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _whole(value: float | None) -> int | float | None:
    # A count of customers or a segment size, as the breakdown's JSON has it (5.0): written 5.
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _text(value: str | None) -> str:
    return csv_text_guard(value or "")


@dataclass(frozen=True)
class FeaturesCsv:
    filename: str
    header: list[str]
    rows: Iterator[list[str]]


_PLACEMENT = {
    "horizon": "roadmap_item__horizon",
    "lane": "roadmap_item__lane__name",
    "release": "roadmap_item__release__name",
}


def features_csv(*, product: Product, status: str | None = None, q: str = "") -> FeaturesCsv:
    """A product's features as CSV cells, in rank order, with tags, personas, driver scores and
    roadmap placement. ``status`` and ``q`` narrow it like the table's filters (no ``status``:
    every feature). Five queries (rows, tags, personas, the custom fields; one more for the
    drivers a formula reads, one more for the fields' values when there are fields), whatever
    the number of features.
    """
    features: QuerySet[Feature] = Feature.objects.filter(product=product)
    if status is not None:
        status = normalise_status_filter(status)
        if status != STATUS_ALL:
            features = feature_filter(
                features, {} if status == STATUS_OPEN else {"status": [status]}
            )
    if q.strip():
        features = features.filter(title__icontains=q.strip())
    rows = list(
        features.order_by(F("rank").asc(nulls_last=True), "id").values(
            "id",
            *TEXT_COLUMNS,
            *CHOICE_COLUMNS,
            *NUMBER_COLUMNS,
            "score",
            "score_breakdown",
            "rank",
            "updated_at",
            **{column: F(path) for column, path in _PLACEMENT.items()},
        )
    )
    derived = derived_input_columns(product)
    chosen = features.values("pk")
    tags = _names_by_feature(
        Feature.tags.through.objects.filter(feature__in=chosen)
        .order_by("tag__name")
        .values_list("feature_id", "tag__name")
    )
    personas = _names_by_feature(
        Feature.personas.through.objects.filter(feature__in=chosen)
        .order_by("persona__name")
        .values_list("feature_id", "persona__name")
    )
    drivers: list[ScoringDriver] = []
    driver_scores: dict[int, dict[int, int]] = defaultdict(dict)
    if scoring.uses_drivers(product.scoring_framework, product.scoring_formula):
        drivers = [
            d
            for d in ScoringDriver.objects.filter(product=product)
            if scoring.reads_driver(product.scoring_framework, product.scoring_formula, d.name)
        ]
        for feature_id, driver_id, score in FeatureDriverScore.objects.filter(
            feature__in=chosen
        ).values_list("feature_id", "driver_id", "score"):
            driver_scores[feature_id][driver_id] = score
    fields = list(CustomField.objects.filter(product=product).order_by("position", "id"))
    field_values: dict[int, dict[int, str]] = defaultdict(dict)
    if fields:
        kinds = {f.pk: f.kind for f in fields}
        for feature_id, field_id, value, label in FeatureFieldValue.objects.filter(
            feature__in=chosen
        ).values_list("feature_id", "field_id", "value", "choice__label"):
            field_values[feature_id][field_id] = field_text(kinds[field_id], value, label)
    return FeaturesCsv(
        filename=f"{product.slug}-features-{timezone.localdate():%Y-%m-%d}.csv",
        header=[csv_text_guard(name) for name in feature_columns(drivers=drivers, fields=fields)],
        rows=_cells(rows, tags, personas, drivers, driver_scores, derived, fields, field_values),
    )


def field_text(kind: str, value: Decimal | None, label: str | None) -> str:
    """A custom field's value as its CSV cell: a number, the choice's label, yes or no."""
    if kind == CustomFieldKind.CHOICE:
        return _text(label)
    if kind == CustomFieldKind.YES_NO:
        return "" if value is None else (YES if value else NO)
    return _number(value)


def _names_by_feature(pairs: Iterable[tuple[int, str]]) -> dict[int, list[str]]:
    names: dict[int, list[str]] = defaultdict(list)
    for feature_id, name in pairs:
        names[feature_id].append(name)
    return names


def _cells(
    rows: list[dict[str, Any]],
    tags: dict[int, list[str]],
    personas: dict[int, list[str]],
    drivers: list[ScoringDriver],
    driver_scores: dict[int, dict[int, int]],
    derived: frozenset[str],
    fields: list[CustomField],
    field_values: dict[int, dict[int, str]],
) -> Iterator[list[str]]:
    for row in rows:
        pk = row["id"]
        scores = driver_scores.get(pk, {})
        used = (row["score_breakdown"] or {}).get("inputs") or {}
        for name in derived:
            row[name] = _whole((used.get(name) or {}).get("value"))
        yield [
            str(pk),
            *(_text(row[name]) for name in TEXT_COLUMNS),
            *(_text(row[name]) for name in CHOICE_COLUMNS),
            _text(LIST_SEPARATOR.join(tags.get(pk, ()))),
            _text(LIST_SEPARATOR.join(personas.get(pk, ()))),
            *(_number(row[name]) for name in SCORING_INPUT_FIELDS),
            *(_number(scores.get(d.pk)) for d in drivers),
            *(field_values.get(pk, {}).get(f.pk, "") for f in fields),
            *(_number(row[name]) for name in MONEY_COLUMNS),
            _number(row["score"]),
            _number(row["rank"]),
            *(_text(row[name]) for name in _PLACEMENT),
            timezone.localtime(row["updated_at"]).isoformat(timespec="seconds"),
        ]


DERIVED_HELP = {
    source: f"The reach the score used: the {words}. Exported for reading; ignored on import."
    for source, words in scoring.SOURCE_WORDS.items()
}


@dataclass(frozen=True)
class ColumnHelp:
    name: str
    meaning: str


def _field_help(name: str, model=Feature) -> str:
    """What a model field accepts, in the model's own words: help text, choices and the
    messages of its validators."""
    model_field = model._meta.get_field(name)
    parts = [str(model_field.help_text)] if model_field.help_text else []
    if model_field.choices:
        values = ", ".join(_choice_value(value) for value, _ in model_field.choices)
        parts.append(f"One of: {values}.")
    for validator in model_field.validators:
        message = getattr(validator, "message", "")
        # Django's own validators speak in placeholders; only the model's messages are sentences.
        if message and isinstance(message, str) and "%(" not in message and message not in parts:
            parts.append(message)
    return " ".join(parts)


def _choice_value(value: Any) -> str:
    return format(value.normalize(), "f") if isinstance(value, Decimal) else str(value)


def _custom_help(custom: CustomField) -> str:
    if custom.kind == CustomFieldKind.CHOICE:
        labels = ", ".join(c.label for c in custom.choices.all())
        return f"One of: {labels or 'no choice yet'}. Empty clears it."
    if custom.kind == CustomFieldKind.YES_NO:
        return f"{YES} or {NO}. Empty clears it."
    return "A number between −1,000,000,000 and 1,000,000,000, at most 2 decimals. Empty clears it."


def feature_column_help(*, product: Product) -> list[ColumnHelp]:
    """What each column of a product's features CSV holds, its drivers' and custom fields'
    included (three queries)."""
    drivers = ScoringDriver.objects.filter(product=product)
    fields = CustomField.objects.filter(product=product).prefetch_related("choices")
    title = Feature._meta.get_field("title")
    rows = [
        ColumnHelp("id", "Empty for a new feature; a feature's id (as exported) updates it."),
        ColumnHelp("title", f"Required, up to {title.max_length} characters."),
        ColumnHelp("description", "Free text."),
        ColumnHelp("status", f"{_field_help('status')} Empty for a new feature: idea."),
        *(ColumnHelp(name, _field_help(name)) for name in CHOICE_COLUMNS[1:]),
        ColumnHelp("tags", "Tag names separated by semicolons; new names become new tags."),
        ColumnHelp("personas", "Names of this product's personas, separated by semicolons."),
        *(
            ColumnHelp(name, DERIVED_HELP[product.reach_source])
            if name in derived_input_columns(product)
            else ColumnHelp(name, _field_help(name))
            for name in SCORING_INPUT_FIELDS
        ),
        *(ColumnHelp(driver_column(d), _field_help("score", FeatureDriverScore)) for d in drivers),
        *(ColumnHelp(field_column(f), _custom_help(f)) for f in fields.order_by("position", "id")),
        *(ColumnHelp(name, _field_help(name)) for name in MONEY_COLUMNS),
        ColumnHelp(", ".join(COMPUTED_COLUMNS), "Exported for reading; ignored on import."),
    ]
    return rows
