"""Reads of ranked features: the priorities list, with movement since last week."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import cast

from django.db.models import Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from roadmap.baked import Baked
from roadmap.models import (
    VALUE_LIMIT,
    CustomField,
    CustomFieldKind,
    Feature,
    FeatureFieldValue,
    FeatureRankSnapshot,
    FeatureStatus,
    Product,
)
from roadmap.planning import scoring
from roadmap.planning.shares import product_formula, with_shares
from roadmap.planning.terms import Term

MOVEMENT_WINDOW = timedelta(days=7)
# The rows one answer holds by default, and at most (a cursor leads to the next ones).
PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


def rank_week_ago_sql(*, today: date | None = None, cutoff: date | None = None) -> Subquery:
    """The feature's rank in the latest snapshot at least a week old (None without one):
    taken on ``cutoff`` or before, a week before ``today`` by default."""
    if cutoff is None:
        cutoff = (today or timezone.localdate()) - MOVEMENT_WINDOW
    return Subquery(
        FeatureRankSnapshot.objects.filter(feature_id=OuterRef("pk"), taken_on__lte=cutoff)
        .order_by("-taken_on")
        .values("rank")[:1],
        output_field=IntegerField(),
    )


OPEN_STATUSES = [s for s in FeatureStatus.values if s not in scoring.CLOSED_STATUSES]


# --- Custom fields: their definitions, and filters by their values -------------------------------

# The most values one custom-field filter parameter takes (a choice field has 30 choices at most).
FIELD_FILTER_VALUES_MAX = 100
FIELD_FILTER_TEXT_MAX = 100
YES_NO_VALUES = {"yes": Decimal(1), "no": Decimal(0)}


@dataclass(frozen=True)
class FieldDefinition:
    """A product's custom field as the table and the filters read it: its choices as
    (id, label) pairs in order."""

    id: int
    key: str
    name: str
    kind: str
    choices: tuple[tuple[int, str], ...] = ()

    def label_of(self, choice_id: int | None) -> str:
        return next((label for pk, label in self.choices if pk == choice_id), "")


def product_field_definitions(*, product: Product | int) -> tuple[FieldDefinition, ...]:
    """The custom fields of the product (or the product of that id) in order, with their
    choices: one query (the choices joined)."""
    rows = (
        CustomField.objects.filter(product=product)
        .order_by("position", "id", "choices__position", "choices__id")
        .values_list("id", "key", "name", "kind", "choices__id", "choices__label")
    )
    fields: dict[int, tuple[str, str, str]] = {}
    choices: dict[int, list[tuple[int, str]]] = {}
    for pk, key, name, kind, choice_id, label in rows:
        fields.setdefault(pk, (key, name, kind))
        if choice_id is not None:
            choices.setdefault(pk, []).append((choice_id, label))
    return tuple(
        FieldDefinition(pk, key, name, kind, tuple(choices.get(pk, ())))
        for pk, (key, name, kind) in fields.items()
    )


@dataclass(frozen=True)
class FieldCondition:
    """A filter on one custom field: its value is one of ``choice_ids`` (a choice field) or of
    ``values`` (yes/no: 1, 0), and a number within ``minimum``..``maximum``. A feature without a
    value in the field never passes."""

    field_id: int
    choice_ids: tuple[int, ...] = ()
    values: tuple[Decimal, ...] = ()
    minimum: Decimal | None = None
    maximum: Decimal | None = None

    def q(self) -> Q:
        rows = FeatureFieldValue.objects.filter(feature_id=OuterRef("pk"), field_id=self.field_id)
        if self.choice_ids:
            rows = rows.filter(choice_id__in=self.choice_ids)
        if self.values:
            rows = rows.filter(value__in=self.values)
        if self.minimum is not None:
            rows = rows.filter(value__gte=self.minimum)
        if self.maximum is not None:
            rows = rows.filter(value__lte=self.maximum)
        return Q(Exists(rows))


@dataclass
class FieldFilters:
    """Custom-field filters as asked for, checked: the conditions, and the errors by
    (field key, what: "value", "min" or "max")."""

    conditions: list[FieldCondition] = field(default_factory=list)
    errors: dict[tuple[str, str], list[str]] = field(default_factory=dict)


def _filter_number(raw: str) -> Decimal | None:
    try:
        number = Decimal(raw.strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() and abs(number) <= VALUE_LIMIT else None


def field_filters_clean(
    *,
    definitions: Iterable[FieldDefinition],
    values: Mapping[str, Sequence[str]],
    minimum: Mapping[str, str] | None = None,
    maximum: Mapping[str, str] | None = None,
) -> FieldFilters:
    """Check filters on custom fields by field key: ``values``, the wanted choices' labels (a
    choice field) or "yes"/"no" (a yes/no field), any of them; ``minimum`` and ``maximum``, the
    bounds of a number field. An unknown field, choice or number is an error on its (key, what);
    the filters that are valid still apply. Every condition must hold."""
    by_key = {d.key: d for d in definitions}
    result = FieldFilters()
    bounds = {"min": minimum or {}, "max": maximum or {}}
    for key in dict.fromkeys([*values, *bounds["min"], *bounds["max"]]):
        definition = by_key.get(key)
        wanted = [v for v in values.get(key, ()) if v != ""]
        low, high = bounds["min"].get(key, ""), bounds["max"].get(key, "")
        if definition is None:
            what = "value" if key in values else "min" if key in bounds["min"] else "max"
            result.errors[(key, what)] = [f"This product has no custom field “{key}”."]
            continue
        condition = FieldCondition(field_id=definition.id)
        if len(wanted) > FIELD_FILTER_VALUES_MAX:
            result.errors[(key, "value")] = [f"Choose at most {FIELD_FILTER_VALUES_MAX} values."]
            continue
        if definition.kind == CustomFieldKind.CHOICE and wanted:
            ids = {label: pk for pk, label in definition.choices}
            unknown = [v for v in wanted if v not in ids]
            if unknown:
                offered = ", ".join(ids) or "none yet"
                result.errors[(key, "value")] = [
                    f"“{unknown[0][:FIELD_FILTER_TEXT_MAX]}” is not a choice of "
                    f"{definition.name}: {offered}."
                ]
                continue
            condition = FieldCondition(definition.id, choice_ids=tuple(ids[v] for v in wanted))
        elif definition.kind == CustomFieldKind.YES_NO and wanted:
            if any(v not in YES_NO_VALUES for v in wanted):
                result.errors[(key, "value")] = [f"{definition.name} is “yes” or “no”."]
                continue
            condition = FieldCondition(
                definition.id, values=tuple(YES_NO_VALUES[v] for v in wanted)
            )
        elif wanted:
            result.errors[(key, "value")] = [
                f"{definition.name} is a number: filter it by a minimum and a maximum."
            ]
            continue
        found: dict[str, Decimal] = {}
        for what, raw in (("min", low), ("max", high)):
            if raw == "":
                continue
            if definition.kind != CustomFieldKind.NUMBER:
                result.errors[(key, what)] = [f"{definition.name} is not a number field."]
            elif (number := _filter_number(raw[:FIELD_FILTER_TEXT_MAX])) is None:
                result.errors[(key, what)] = [
                    "Give a number between −1,000,000,000 and 1,000,000,000."
                ]
            else:
                found[what] = number
        if any((key, what) in result.errors for what in ("min", "max")):
            continue
        if "min" in found and "max" in found and found["min"] > found["max"]:
            result.errors[(key, "max")] = [
                f"The maximum of {definition.name} is below its minimum."
            ]
            continue
        condition = FieldCondition(
            definition.id,
            choice_ids=condition.choice_ids,
            values=condition.values,
            minimum=found.get("min"),
            maximum=found.get("max"),
        )
        if condition != FieldCondition(field_id=definition.id):
            result.conditions.append(condition)
    return result


def features_meeting(queryset: QuerySet, conditions: Iterable[FieldCondition]) -> QuerySet:
    """The features of ``queryset`` that meet every custom-field condition: an EXISTS each, in
    the rows' own query (no query more, none per row)."""
    for condition in conditions:
        queryset = queryset.filter(condition.q())
    return queryset


def feature_filter(queryset: QuerySet, filters: Mapping[str, object]) -> QuerySet:
    """Apply the priorities/table filters. Values are already validated (see the API filters)."""
    if filters.get("status"):
        queryset = queryset.filter(status__in=filters["status"])
    else:
        # Open as a list of statuses, not "not closed": a count then walks the (product, status)
        # index over open rows only (2 ms) instead of filtering every row of the product (66 ms
        # at 100k features).
        queryset = queryset.filter(status__in=OPEN_STATUSES)
    if filters.get("horizon"):
        queryset = queryset.filter(roadmap_item__horizon__in=filters["horizon"])
    if filters.get("release"):
        queryset = queryset.filter(roadmap_item__release_id=filters["release"])
    if filters.get("moscow"):
        queryset = queryset.filter(moscow__in=filters["moscow"])
    if filters.get("kano"):
        queryset = queryset.filter(kano__in=filters["kano"])
    if filters.get("market_position"):
        queryset = queryset.filter(market_position__in=filters["market_position"])
    if filters.get("persona"):
        queryset = queryset.filter(personas__id=filters["persona"])
    if filters.get("tag"):
        queryset = queryset.filter(tags__name=filters["tag"])
    # "fields": the custom-field conditions (``field_filters_clean``), if any.
    conditions = cast(Iterable[FieldCondition], filters.get("fields") or ())
    return features_meeting(queryset, conditions)


@dataclass(frozen=True)
class PrioritiesPage:
    results: list[dict]
    # The (rank, id) of the last row when more rows follow, else None.
    next_after: tuple[int | None, int] | None


def priorities_page(
    *,
    product: Product,
    filters: Mapping[str, object],
    limit: int = PAGE_SIZE,
    after: tuple[int | None, int] | None = None,
    shares: bool = False,
) -> PrioritiesPage:
    """At most ``limit`` of the product's features in rank order (unscored after scored), from
    the one after ``after`` (a row's rank and id), as plain dicts; and where the next page
    starts, if any.

    A keyset, so a page costs the same however deep it is: the ranked rows from ``rank >= r``
    (the index on (product, rank) seeks there), then, if the page is not full yet, the unranked
    ones by id. One query, two where a page crosses from ranked to unranked rows; each asks for
    one row more than the page to tell whether more follow. ``shares``: each row's breakdown
    also carries its terms' shares (``roadmap.planning.shares``).
    """
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE_SIZE}")
    wanted = limit + 1

    def view() -> QuerySet:
        return feature_filter(Feature.objects.filter(product=product), filters)

    rows: list[dict] = []
    ranked: QuerySet | None
    if after is None and not any(filters.values()):
        # The first page of the default view: the one most asked for, baked.
        rows = _first_page(wanted).rows(
            product_id=product.pk, cutoff=timezone.localdate() - MOVEMENT_WINDOW
        )
        ranked, pk = None, 0
    elif after is None:
        ranked, pk = view().filter(rank__isnull=False), 0
    else:
        rank, pk = after
        ranked = (
            None if rank is None else view().filter(rank__gte=rank).exclude(rank=rank, pk__lte=pk)
        )
    if ranked is not None:
        rows = list(_priority_rows(ranked)[:wanted])
        pk = 0
    if len(rows) < wanted:
        unranked = view().filter(rank__isnull=True, pk__gt=pk)
        rows += list(_priority_rows(unranked)[: wanted - len(rows)])
    more = len(rows) > limit
    formula = product_formula(product) if shares else None
    results = [_priority(row, product, formula) for row in rows[:limit]]
    last = results[-1] if more else None
    return PrioritiesPage(results=results, next_after=(last["rank"], last["id"]) if last else None)


@functools.cache
def _first_page(wanted: int) -> Baked:
    """The ranked rows of the default view's first page, ``wanted`` of them, as a baked query
    (``roadmap.baked``): building and compiling it took longer than running it."""

    def build(product_id: int, cutoff: date) -> QuerySet:
        queryset = feature_filter(Feature.objects.filter(product_id=product_id), {})
        return _priority_rows(queryset.filter(rank__isnull=False), cutoff=cutoff)[:wanted]

    return Baked(build)


def _priority_rows(queryset: QuerySet, *, cutoff: date | None = None) -> QuerySet:
    return (
        queryset.annotate(
            rank_week_ago=rank_week_ago_sql(cutoff=cutoff),
            horizon=F("roadmap_item__horizon"),
            release_id=F("roadmap_item__release_id"),
            release_name=F("roadmap_item__release__name"),
        )
        .order_by(F("rank").asc(nulls_last=True), "id")
        .values(
            "rank",
            "id",
            "title",
            "status",
            "score",
            "score_breakdown",
            "moscow",
            "kano",
            "market_position",
            "rank_week_ago",
            "horizon",
            "release_id",
            "release_name",
            "updated_at",
        )
    )


def _priority(row: dict, product: Product, formula: Term | None) -> dict:
    """A row as the API shows it; with ``formula``, its breakdown carries its shares."""
    breakdown = row.pop("score_breakdown") or {}
    if formula is not None:
        breakdown = with_shares(product, breakdown, formula)
    was = row.pop("rank_week_ago")
    release_id, release_name = row.pop("release_id"), row.pop("release_name")
    row.update(
        framework=breakdown.get("framework", product.scoring_framework),
        score_breakdown=breakdown,
        missing_inputs=scoring.missing_inputs(breakdown),
        rank_last_week=was,
        # Positive: moved up (a smaller rank number) since last week.
        rank_change=(was - row["rank"]) if was is not None and row["rank"] else None,
        release={"id": release_id, "name": release_name} if release_id else None,
    )
    return row
