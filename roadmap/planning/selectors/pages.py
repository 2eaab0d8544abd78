"""Reads for the browser pages: each page runs a fixed number of queries, whatever its size.

Rows are reached through ``for_user``, so a page never shows anything of a workspace its reader
does not belong to. Members and invitations are read in ``accounts.selectors``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import groupby
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import connection
from django.db.models import (
    Count,
    F,
    Field,
    Func,
    IntegerField,
    Model,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import User, Workspace
from roadmap.counts import COUNT_CAP, CappedCount, capped
from roadmap.models import (
    CustomField,
    DriverSource,
    Experiment,
    Feature,
    FeatureDriverScore,
    FeatureFieldValue,
    FeatureStatus,
    Horizon,
    Insight,
    Lane,
    Objective,
    Persona,
    Product,
    Release,
    RoadmapItem,
    ScoringDriver,
    ScoringFramework,
)
from roadmap.planning import scoring
from roadmap.planning.shares import Share, driver_shares, product_shares

HOME_TOP_FEATURES = 5
# The product page's status filter: open features (the ranked ones) unless asked otherwise.
STATUS_OPEN = "open"
STATUS_ALL = "all"
STATUS_FILTERS = [
    (STATUS_OPEN, "Open (ranked)"),
    (STATUS_ALL, "All statuses"),
    *FeatureStatus.choices,
]


# --- Home ----------------------------------------------------------------------------------------


def _count(
    model: type[Model],
    product_id: int,
    *conditions: Q,
    cap: int = COUNT_CAP,
    order_by: tuple[str, ...] = (),
) -> CappedCount:
    """Rows of ``model`` for the product, read through ``capped``: a subquery that stops after
    ``cap + 1`` rows, so a product of a million features costs what one of 10k does
    (``order_by``: see ``CappedCount``)."""
    queryset = model._default_manager.filter(*conditions, product_id=product_id)
    return CappedCount(queryset, cap, order_by=order_by)


# The roadmap's health warnings (items past their end date, items in "now" without dates) count
# open items, and an item is open by its feature's status: each row counted is a read of its
# feature, about 30 µs when the features are not in memory. Counted up to COUNT_CAP, a product
# of 1M features read 10,001 of them for the undated-"now" warning (0.3 s). They are warnings,
# not inventories: exact up to HEALTH_CAP, "100+" beyond, the same cost at 10k and at 1M.
HEALTH_CAP = 100
HEALTH_COUNTS = ("overdue_count", "undated_now_count")


class _UnscoredAtTail(Func):
    """Open features without a score, counted among the product's last ``COUNT_CAP + 1`` ranks
    (read backwards through the (product, rank) index): the ranking puts every open feature
    without a score last, so this is their count, exact up to the cap, whatever the product's
    size (a filter over the whole product would read all of it when few lack a score)."""

    template = "(SELECT count(*) FROM %(expressions)s AS tail WHERE tail.score IS NULL)"
    output_field = IntegerField()

    def __init__(self, product_id: int, open_features: Q) -> None:
        tail = (
            Feature.objects.filter(open_features, product_id=product_id, rank__isnull=False)
            .order_by("-rank")
            .values("score")[: COUNT_CAP + 1]
        )
        super().__init__(Subquery(tail))


# The card's counts, each read through ``capped`` ("10,000+" beyond the cap; "100+" for the
# health warnings, HEALTH_COUNTS).
HOME_COUNTS = (
    "feature_count",
    "open_feature_count",
    "unscored_count",
    "insight_count",
    "persona_count",
    "item_count",
    "overdue_count",
    "undated_now_count",
)
_TOP_COLUMNS = "id, product_id, rank, title, score"
SQLITE_UNION = 400


def _chunks(ids: list[int]) -> list[list[int]]:
    """``ids`` in runs that SQLite can join in one compound SELECT (it takes at most 500)."""
    if connection.vendor == "postgresql":
        return [ids]
    return [ids[i : i + SQLITE_UNION] for i in range(0, len(ids), SQLITE_UNION)]


def _product_counts(product_ids: list[int], *, today: date) -> dict[int, dict[str, int]]:
    """The card's counts of each product, in one query (a UNION ALL of a row per product).

    Each product's id is written into its own subqueries rather than correlated to the outer row:
    the planner then plans them with that product's row estimate. A plan for "any product" takes
    the average product's size, and reads a small product beside a large one by a sequential
    scan of the whole table.
    """
    # Open as a list of statuses, not "not closed": the count then walks the (product, status)
    # index over open rows only, instead of filtering every row of the product.
    open_features = Q(
        status__in=[s for s in FeatureStatus.values if s not in scoring.CLOSED_STATUSES]
    )
    undated_now = Q(horizon=Horizon.NOW, start_date__isnull=True, end_date__isnull=True)
    counts: dict[int, dict[str, int]] = {}
    for chunk in _chunks(product_ids):
        rows = [
            Product.objects.filter(pk=pk)
            .order_by()
            .annotate(
                # Through an index that leads with the product (every entry of it counts):
                # without an order, a product of most of the table's rows is counted by a
                # sequential scan that first reads every other product's rows (15 ms at 1M).
                feature_count=_count(Feature, pk, order_by=("rank",)),
                open_feature_count=_count(Feature, pk, open_features),
                unscored_count=_UnscoredAtTail(pk, open_features),
                insight_count=_count(Insight, pk),
                persona_count=_count(Persona, pk),
                item_count=_count(RoadmapItem, pk),
                overdue_count=_count(
                    RoadmapItem, pk, _open_items(), Q(end_date__lt=today), cap=HEALTH_CAP
                ),
                # In board order: through item_board_order (product, horizon, position), not
                # the index of every product's items in "now".
                undated_now_count=_count(
                    RoadmapItem,
                    pk,
                    _open_items(),
                    undated_now,
                    cap=HEALTH_CAP,
                    order_by=("position",),
                ),
            )
            .values("pk", *HOME_COUNTS)
            for pk in chunk
        ]
        for row in rows[0].union(*rows[1:], all=True) if len(rows) > 1 else rows[0]:
            # The id first: in ``d[k] = v`` Python evaluates v before k, and the id is no count.
            pk = row.pop("pk")
            counts[pk] = {
                name: capped(value, HEALTH_CAP if name in HEALTH_COUNTS else COUNT_CAP)
                for name, value in row.items()
            }
    return counts


def _top_features(product_ids: list[int]) -> dict[int, list[Feature]]:
    """Each product's ``HOME_TOP_FEATURES`` best-ranked features, in one query that walks the
    (product, rank) index for each product and stops after as many rows (no ranking of the rest).

    PostgreSQL: a LATERAL join over the ids; SQLite, which has no LATERAL: a UNION ALL of the
    same per-product LIMIT (a workspace has few products).
    """
    if not product_ids:
        return {}
    table = connection.ops.quote_name(Feature._meta.db_table)
    per_product = (
        f"SELECT {_TOP_COLUMNS} FROM {table} WHERE product_id = {{id}} AND rank IS NOT NULL "
        f"ORDER BY rank, id LIMIT {HOME_TOP_FEATURES}"
    )
    queries: list[tuple[str, list[Any]]]
    if connection.vendor == "postgresql":
        sql = (
            f"SELECT top.* FROM unnest(%s::bigint[]) AS page(id) CROSS JOIN LATERAL "
            f"({per_product.format(id='page.id')}) AS top ORDER BY top.product_id, top.rank, top.id"
        )
        queries = [(sql, [product_ids])]
    else:
        part = f"SELECT * FROM ({per_product.format(id='%s')})"
        queries = [
            (" UNION ALL ".join([part] * len(chunk)), list(chunk)) for chunk in _chunks(product_ids)
        ]
    top: dict[int, list[Feature]] = {pk: [] for pk in product_ids}
    for sql, params in queries:
        for feature in Feature.objects.raw(sql, params):
            top[feature.product_id].append(feature)
    for features in top.values():
        features.sort(key=lambda f: (f.rank, f.pk))  # a UNION ALL promises no order
    return top


@dataclass(frozen=True)
class ProductLine:
    name: str
    products: list[Product]


def _open_items() -> Q:
    """Roadmap items still to be delivered: a feature item follows its feature's status, a
    theme its own; shipped and archived ones are done."""
    closed = scoring.CLOSED_STATUSES
    return (Q(feature__isnull=False) & ~Q(feature__status__in=closed)) | (
        Q(feature__isnull=True) & ~Q(theme_status__in=closed)
    )


def home_product_lines(
    *, user, workspace: Workspace | None, today: date | None = None
) -> list[ProductLine]:
    """The workspace's products grouped by product line, with counts, roadmap health and
    top-ranked features.

    Health, per product: open features without a score (inputs missing), open roadmap items past
    their end date (``overdue_count``) and open items in "now" with neither a start nor an end
    date (``undated_now_count``); stale scores are ``product.scores_stale``.
    Counts are exact up to ``COUNT_CAP`` and read "10,000+" beyond; the two roadmap warnings
    up to ``HEALTH_CAP`` ("100+"). Three queries: the products, their counts and their top
    features.
    """
    if workspace is None:
        return []
    today = today or timezone.localdate()
    products = list(
        Product.objects.for_user(user)
        .for_workspace(workspace)
        .order_by("product_line", "name", "pk")
    )
    ids = [p.pk for p in products]
    counts = _product_counts(ids, today=today) if ids else {}
    top = _top_features(ids)
    for product in products:
        for name, value in counts[product.pk].items():
            setattr(product, name, value)
        product.top_features = top[product.pk]
    return [
        ProductLine(name=line, products=list(group))
        for line, group in groupby(products, key=lambda p: p.product_line)
    ]


# --- Product -------------------------------------------------------------------------------------


def normalise_status_filter(value: str | None) -> str:
    """A known status filter, or the default (open features) for anything else."""
    known = {key for key, _ in STATUS_FILTERS}
    return value if value in known else STATUS_OPEN


# --- Feature -------------------------------------------------------------------------------------


def feature_page_queryset(*, user) -> QuerySet[Feature]:
    """Features the user may open, with everything the feature page shows (seven queries)."""
    return (
        Feature.objects.for_user(user)
        .select_related(
            "product__workspace",
            "owner",
            "roadmap_item__lane",
            "roadmap_item__release",
        )
        .prefetch_related(
            "personas",
            "tags",
            Prefetch(
                "insights",
                queryset=Insight.objects.select_related("persona").order_by(
                    "-importance", "-observed_on", "-id"
                ),
            ),
            Prefetch("objectives", queryset=Objective.objects.order_by("due", "name")),
            Prefetch("experiments", queryset=Experiment.objects.order_by("-started_on", "-id")),
            Prefetch(
                "driver_scores",
                queryset=FeatureDriverScore.objects.select_related("driver").order_by(
                    "driver__position", "driver_id"
                ),
            ),
        )
    )


@dataclass(frozen=True)
class ScoreInput:
    name: str
    label: str
    value: float | None
    source: str

    @property
    def missing(self) -> bool:
        return self.value is None


@dataclass(frozen=True)
class ScoreExplanation:
    framework: str
    formula: str
    score: float | None
    inputs: list[ScoreInput]
    lines: list[str]
    missing: list[str]
    # What each part of the formula contributes (roadmap.planning.shares).
    shares: list[Share] = dataclasses.field(default_factory=list)


def _input_label(name: str) -> str:
    if name == "weighted_drivers":
        return "Weighted drivers"
    try:
        field = Feature._meta.get_field(name)
    except FieldDoesNotExist:  # a product's own formula's name: a driver, a field, evidence
        return name
    assert isinstance(field, Field)  # a column of the feature, not a relation to it
    return str(field.verbose_name).capitalize()


def feature_score_explanation(*, feature: Feature) -> ScoreExplanation:
    """The stored score of a feature, explained input by input (no query)."""
    breakdown = feature.score_breakdown or {}
    framework_key = breakdown.get("framework") or feature.product.scoring_framework
    definition = scoring.framework_for(
        framework_key,
        divide_by_effort=feature.product.weighted_divide_by_effort,
        formula=feature.product.scoring_formula,
    )
    inputs = [
        ScoreInput(
            name=name,
            label=_input_label(name),
            value=term["value"],
            source=scoring.SOURCE_WORDS.get(term["source"], term["source"]),
        )
        for name, term in scoring.ordered_inputs(breakdown)
    ]
    return ScoreExplanation(
        framework=definition.label,
        formula=breakdown.get("formula") or definition.formula_text,
        score=feature.score,
        inputs=inputs,
        lines=scoring.explain(breakdown, feature.product.scoring_formula),
        missing=scoring.missing_inputs(breakdown),
        shares=product_shares(feature.product, breakdown),
    )


@dataclass(frozen=True)
class DriverRow:
    """A weighted-scoring driver as the feature page shows it: its score for the feature and
    where the score came from (typed by hand, or the evidence against the driver's full scale)."""

    name: str
    weight: float
    score: float | None
    source: str
    # Of Σ weightᵢ·scoreᵢ (weighted scoring): None until every driver is scored.
    share: float | None = None


def feature_driver_rows(*, feature: Feature) -> list[DriverRow]:
    """The product's drivers with this feature's score on each (one query, for weighted scoring
    only): a hand score as stored, an evidence-fed one from the evidence its score read."""
    product = feature.product
    if not scoring.uses_drivers(product.scoring_framework, product.scoring_formula):
        return []
    scores = {ds.driver_id: ds.score for ds in feature.driver_scores.all()}
    evidence = (feature.score_breakdown or {}).get("evidence") or {}
    rows = []
    for driver in product_drivers(product=feature.product):
        if not scoring.reads_driver(
            product.scoring_framework, product.scoring_formula, driver.name
        ):
            continue
        if driver.source == DriverSource.MANUAL:
            rows.append(
                DriverRow(driver.name, float(driver.weight), scores.get(driver.pk), "by hand")
            )
            continue
        full = float(driver.full_scale or 0)
        if driver.source == DriverSource.CUSTOMERS:
            amount = float(evidence.get("customers") or 0)
            said = f"{amount:,.0f} customers asking, of {full:,.0f} for 10"
        else:
            amount = float(evidence.get("revenue") or 0)
            said = f"{scoring.money(amount)} at stake, of {scoring.money(full)} for 10"
        score = min(10.0, 10 * amount / full) if full and evidence else None
        rows.append(
            DriverRow(driver.name, float(driver.weight), score, f"from the evidence: {said}")
        )
    if product.scoring_framework == scoring.WEIGHTED:
        found = driver_shares([(row.weight, row.score) for row in rows])
        if found:
            rows = [dataclasses.replace(r, share=x) for r, x in zip(rows, found, strict=True)]
    return rows


def feature_placement(*, feature: Feature) -> RoadmapItem | None:
    """The feature's roadmap item, already joined by ``feature_page_queryset`` (no query)."""
    try:
        return feature.roadmap_item
    except RoadmapItem.DoesNotExist:
        return None


def customers_of(insights: Iterable[Insight]) -> list[str]:
    """Distinct customers among insights, case-insensitively, in first-seen order."""
    seen: dict[str, str] = {}
    for insight in insights:
        seen.setdefault(insight.customer.lower(), insight.customer)
    return list(seen.values())


# --- Feature history -----------------------------------------------------------------------------

HISTORY_LIMIT = 50
# Long texts are named, not quoted, in a history line ("edited the requirements").
_LONG_TEXT = {"description", "requirements", "business_case_notes", "internal_notes"}
_FEATURE_SKIP = {"id", "product", "created_at"}
_ITEM_LONG_TEXT = {"external_description"}
# Positions shift whenever a neighbour moves: noise in a feature's history.
_ITEM_SKIP = {"id", "product", "feature", "created_at", "position", "title", "theme_status"}


@dataclass(frozen=True)
class FieldChange:
    label: str
    old: str = ""
    new: str = ""
    # Long texts: only that they changed.
    edited_only: bool = False

    def __str__(self) -> str:
        return f"{self.label} from {self.old} to {self.new}"


@dataclass(frozen=True)
class HistoryEntry:
    """One save of the feature or of its roadmap placement, as a sentence."""

    when: datetime
    actor: str
    summary: str
    on_roadmap: bool = False


@dataclass(frozen=True)
class FeatureHistory:
    entries: list[HistoryEntry]
    # Older saves exist beyond the ``HISTORY_LIMIT`` shown.
    truncated: bool


def _display(field_obj, value, names: dict[tuple[str, Any], str]) -> str:
    if value is None or value == "":
        return "—"
    if field_obj.is_relation:
        return names.get((field_obj.name, value), f"a removed {field_obj.verbose_name}")
    if field_obj.choices and not isinstance(value, Decimal):
        return str(dict(field_obj.flatchoices).get(value, value))
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return f"{float(value):,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, date):
        return f"{value.day} {value:%b %Y}"
    return str(value)


def _changes(new, old, *, skip, long_text, names) -> list[FieldChange]:
    model = new.instance_type
    changes = []
    delta = new.diff_against(old, excluded_fields=skip)
    # The model's field order reads better than diff_against's alphabetical one.
    order = {f.name: i for i, f in enumerate(model._meta.fields)}
    for change in sorted(delta.changes, key=lambda c: order.get(c.field, 0)):
        field_obj = model._meta.get_field(change.field)
        label = str(field_obj.verbose_name)
        if change.field in long_text:
            changes.append(FieldChange(label, edited_only=True))
        else:
            changes.append(
                FieldChange(
                    label,
                    _display(field_obj, change.old, names),
                    _display(field_obj, change.new, names),
                )
            )
    return changes


def _summary(changes: list[FieldChange], subject: str = "") -> str:
    """ "changed status from Idea to Planned, effort from 2 to 3 and edited the description"."""
    values = [str(c) for c in changes if not c.edited_only]
    edited = [c.label for c in changes if c.edited_only]
    clauses = []
    if values:
        clauses.append(f"changed {subject}" + ", ".join(values))
    if edited:
        clauses.append(f"edited {subject or 'the '}" + " and ".join(edited))
    return " and ".join(clauses)


def _actor(row) -> str:
    return row.history_user.name if row.history_user_id and row.history_user else "Someone"


def _latest(history_queryset) -> list:
    rows = history_queryset.select_related("history_user").order_by("-history_date", "-history_id")
    return list(rows[: HISTORY_LIMIT + 1])


def _names(feature_rows, item_rows) -> dict[tuple[str, Any], str]:
    """Names of the owners, lanes and releases the rows point to (a query per kind, at most)."""
    names: dict[tuple[str, Any], str] = {}
    wanted = [
        ("owner", User, {r.owner_id for r in feature_rows} - {None}),
        ("lane", Lane, {r.lane_id for r in item_rows} - {None}),
        ("release", Release, {r.release_id for r in item_rows} - {None}),
    ]
    for field_name, model, ids in wanted:
        if ids:
            for obj in model._default_manager.filter(pk__in=ids):
                names[(field_name, obj.pk)] = str(obj)
    return names


def feature_history(*, feature: Feature) -> FeatureHistory:
    """Who changed what, when, newest first: the feature's saves and its roadmap placement's,
    from simple-history, each diffed against the save before it.

    At most five queries, however long the history: the latest saves of each, and the names of
    the owners, lanes and releases they mention. Saves that changed nothing are left out.
    """
    feature_rows = _latest(Feature.history.filter(id=feature.pk))
    item_rows = _latest(RoadmapItem.history.filter(feature_id=feature.pk))
    names = _names(feature_rows, item_rows)
    entries: list[HistoryEntry] = []

    feature_rows.reverse()
    for old, new in zip([None, *feature_rows], feature_rows, strict=False):
        if new.history_type == "+":
            summary = "created the feature"
        elif old is None:
            continue  # its predecessor is beyond the window shown
        else:
            changes = _changes(new, old, skip=_FEATURE_SKIP, long_text=_LONG_TEXT, names=names)
            if changes:
                summary = _summary(changes)
            elif new.history_change_reason:
                # Saved with a reason but no field changed: its driver scores did.
                summary = "changed the driver scores"
            else:
                continue
        if new.history_change_reason:
            summary += f" ({new.history_change_reason[:1].lower()}{new.history_change_reason[1:]})"
        entries.append(HistoryEntry(new.history_date, _actor(new), summary))

    item_rows.reverse()
    previous: dict[int, Any] = {}
    for new in item_rows:
        old = previous.get(new.id)
        previous[new.id] = new
        if new.history_type == "+":
            where = _display(RoadmapItem._meta.get_field("horizon"), new.horizon, names)
            summary = f"put it on the roadmap in {where}"
            if new.lane_id:
                summary += f", lane {names.get(('lane', new.lane_id), 'a removed lane')}"
        elif new.history_type == "-":
            summary = "took it off the roadmap"
        elif old is None:
            continue
        else:
            changes = _changes(new, old, skip=_ITEM_SKIP, long_text=_ITEM_LONG_TEXT, names=names)
            if not changes:
                continue
            summary = _summary(changes, subject="its roadmap ")
        entries.append(HistoryEntry(new.history_date, _actor(new), summary, on_roadmap=True))

    entries.sort(key=lambda e: e.when, reverse=True)
    truncated = len(feature_rows) > HISTORY_LIMIT or len(item_rows) > HISTORY_LIMIT
    return FeatureHistory(entries=entries[:HISTORY_LIMIT], truncated=truncated)


def feature_last_save(*, feature: Feature) -> tuple[str, datetime]:
    """Who saved the feature last and when (one query); "Someone" when nobody is recorded."""
    row = (
        Feature.history.filter(id=feature.pk)
        .select_related("history_user")
        .order_by("-history_date", "-history_id")
        .first()
    )
    if row is None:
        return "Someone", feature.updated_at
    return _actor(row), row.history_date


# --- Feature forms -------------------------------------------------------------------------------


def workspace_members(*, workspace: Workspace) -> QuerySet[User]:
    """The people who may own a feature of this workspace's products, by name."""
    return User.objects.filter(memberships__workspace=workspace).order_by("display_name", "email")


def product_personas(*, product: Product) -> QuerySet[Persona]:
    """The personas a feature of this product may serve, by name."""
    return Persona.objects.filter(product=product).order_by("name")


def product_drivers(*, product: Product) -> list[ScoringDriver]:
    """The product's weighted-scoring drivers in their order (one query)."""
    return list(ScoringDriver.objects.filter(product=product).order_by("position", "id"))


def feature_for_edit(*, user, pk: int) -> Feature:
    """A feature the user may open, with what its edit form shows (five queries: the feature,
    its personas, tags, driver scores and custom-field values); 404 if not."""
    return get_object_or_404(
        Feature.objects.for_user(user)
        .select_related("product__workspace", "owner")
        .prefetch_related(
            Prefetch("personas", queryset=Persona.objects.order_by("name")),
            "tags",
            Prefetch(
                "driver_scores",
                queryset=FeatureDriverScore.objects.select_related("driver").order_by(
                    "driver__position", "driver_id"
                ),
            ),
            Prefetch("field_values", queryset=FeatureFieldValue.objects.select_related("choice")),
        ),
        pk=pk,
    )


@dataclass(frozen=True)
class CustomFieldRow:
    name: str
    key: str
    # The value as a PM reads it ("Enterprise", "Yes", "12.5"); "" when the feature has none.
    shown: str


def feature_custom_field_rows(*, feature: Feature) -> list[CustomFieldRow]:
    """The feature's value in each of its product's custom fields, in order (one query; two
    when the product has fields)."""
    fields = list(CustomField.objects.filter(product_id=feature.product_id))
    if not fields:
        return []
    values = {
        v.field_id: v
        for v in FeatureFieldValue.objects.filter(feature=feature).select_related("choice")
    }
    rows = []
    for custom in fields:
        value = values.get(custom.pk)
        if value is not None:
            value.field = custom
        rows.append(CustomFieldRow(custom.name, custom.key, value.display if value else ""))
    return rows


def product_custom_fields(*, product: Product) -> list[CustomField]:
    """The product's custom fields in order, with their choices (two queries)."""
    return list(CustomField.objects.filter(product=product).prefetch_related("choices"))


# --- Product settings ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FrameworkInput:
    label: str
    help: str


@dataclass(frozen=True)
class FrameworkSummary:
    key: str
    label: str
    formula: str
    inputs: list[FrameworkInput]
    current: bool


def scoring_frameworks(*, product: Product) -> list[FrameworkSummary]:
    """Each framework's formula and inputs, from roadmap.planning.scoring, as the settings page
    explains them (no query). Weighted scoring follows the product's divide-by-effort setting."""
    summaries = []
    for key, _ in ScoringFramework.choices:
        if key == ScoringFramework.CUSTOM and not product.scoring_formula:
            continue  # written on the formula page first: the settings page links to it
        definition = scoring.framework_for(
            key, divide_by_effort=product.weighted_divide_by_effort, formula=product.scoring_formula
        )
        inputs = []
        for name in definition.inputs:
            if name == "weighted_drivers":
                inputs.append(
                    FrameworkInput("Drivers", "each feature's 0–10 score on every driver")
                )
            else:
                model_field = Feature._meta.get_field(name)
                assert isinstance(model_field, Field)
                inputs.append(FrameworkInput(_input_label(name), str(model_field.help_text)))
        summaries.append(
            FrameworkSummary(
                key=key,
                label=definition.label,
                formula=definition.formula_text,
                inputs=inputs,
                current=key == product.scoring_framework,
            )
        )
    return summaries


def product_lanes_with_counts(*, product: Product) -> list[Lane]:
    """The product's lanes in order, each with ``item_count`` (one query)."""
    return list(
        Lane.objects.filter(product=product)
        .annotate(item_count=Count("items"))
        .order_by("position", "name", "pk")
    )


def product_releases_with_counts(*, product: Product) -> list[Release]:
    """The product's releases by target date (undated last), each with ``item_count``."""
    return list(
        Release.objects.filter(product=product)
        .annotate(item_count=Count("items"))
        .order_by(F("target_date").asc(nulls_last=True), "name", "pk")
    )
