"""Reads for the prioritization table, a product's main screen.

Every feature of a product with its framework's inputs, score, rank and movement over a week,
status, MoSCoW, Kano, personas, evidence and roadmap placement; filtered, searched and sorted
from the query string by whitelisted keys only. A fixed number of queries whatever the number of
features: the page is read in one query for the rows plus one per prefetched relation.

Plain data out; how the page shows it (cells, headers, labels, what is editable) is
``roadmap.planning.presenters.table``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Lower

from roadmap.bounds import whole_number
from roadmap.counts import capped_count
from roadmap.models import (
    DriverSource,
    Feature,
    FeatureDriverScore,
    FeatureFieldValue,
    FeatureStatus,
    Horizon,
    Insight,
    Kano,
    MarketPosition,
    MoSCoW,
    Persona,
    Product,
    Release,
    RoadmapItem,
    ScoringDriver,
    TableLayout,
    Tag,
)
from roadmap.planning import scoring
from roadmap.planning.selectors.priorities import (
    FIELD_FILTER_TEXT_MAX,
    FieldCondition,
    FieldDefinition,
    feature_filter,
    field_filters_clean,
    product_field_definitions,
    rank_week_ago_sql,
)
from roadmap.portal.selectors import requester_count_sql, vote_count_sql

# The status filter: open features (the ranked ones) unless asked otherwise.
STATUS_OPEN = "open"
STATUS_ALL = "all"
# The "not set" choice of the release, horizon, MoSCoW and Kano filters.
NOT_SET = "none"
# Rows the table renders at first, and adds per "Show more": a PM works at the top of the ranking,
# and a row of inputs is ~4 KB of HTML and ~0.5 ms of rendering. "Show all" renders every row.
PAGE_ROWS = 50
# Rows a streamed "Show all" reads (and writes out) at a time.
STREAM_CHUNK = 500
# The most rows a ``rows=`` parameter asks for; past it, ``all=1`` says "every row".
ROWS_MAX = 100_000
SEARCH_MAX_LENGTH = 200

HORIZON_ORDER = [value for value, _ in Horizon.choices]

# The columns a member may hide from their own table, with their names in the "Columns" menu. The
# rank, the title, the framework's inputs and the score are what the table is for: always shown.
HIDEABLE_COLUMNS = {
    "status": "Status",
    "moscow": "MoSCoW",
    "kano": "Kano",
    "personas": "Personas",
    "evidence": "Evidence",
    "demand": "Demand",
    "roadmap": "Roadmap",
}

# A custom field's column key (its sort key, the key a layout hides it by), e.g. "field-segment":
# field keys are letters, digits and "_", so no other column's key starts so.
FIELD_COLUMN_PREFIX = "field-"
# The table's filters on custom fields: ``cf-<key>`` (a choice's label, or "yes"/"no"; repeated
# for any of several), ``cf-<key>-min`` and ``cf-<key>-max`` (a number field's bounds).
FIELD_FILTER_PREFIX = "cf-"
# The most custom-field filter parameters a query string is read for (30 fields, 3 each).
FIELD_FILTER_PARAMS_MAX = 100


def field_column_key(key: str) -> str:
    return f"{FIELD_COLUMN_PREFIX}{key}"


def table_hideable_columns(*, fields: Iterable[FieldDefinition] = ()) -> dict[str, str]:
    """The columns a member may hide, by key, with their names: the fixed ones, then a column per
    custom field of the product (``product_field_definitions``)."""
    return {**HIDEABLE_COLUMNS, **{field_column_key(f.key): f.name for f in fields}}


# The feature's own choices the table shows after its inputs, in order.
CHOICE_KEYS = ("status", "moscow", "kano")
# Sort keys of the columns that are not inputs.
FIXED_SORT_KEYS = (
    "rank",
    "movement",
    "title",
    "score",
    "status",
    "moscow",
    "kano",
    "personas",
    "evidence",
    "demand",
    "roadmap",
)
DEFAULT_SORT = "rank"


# --- The framework's inputs ---------------------------------------------------------------------


@dataclass(frozen=True)
class TableInput:
    """An input of the product's scoring framework: a field of the feature (``key``), a driver
    of weighted scoring (``driver_id``, its key ``driver-<id>``), or reach counted from evidence
    (``source``: the product's reach source; read from the score breakdown, not edited)."""

    key: str
    driver_id: int | None = None
    driver_name: str = ""
    driver_weight: Decimal | None = None
    source: str = ""


def table_hidden_columns(*, user, product: Product) -> frozenset[str]:
    """The columns the user hides from this product's table (one query); unknown keys (of a
    column since removed) are dropped, but for custom fields' (a field's column the table does
    not have hides nothing)."""
    stored = (
        TableLayout.objects.filter(user=user, product=product)
        .values_list("hidden_columns", flat=True)
        .first()
    )
    return frozenset(
        k for k in stored or () if k in HIDEABLE_COLUMNS or k.startswith(FIELD_COLUMN_PREFIX)
    )


def table_inputs(
    *, product: Product, drivers: Iterable[ScoringDriver] | None = None
) -> tuple[TableInput, ...]:
    """The inputs of the product's scoring framework, in formula order.

    Weighted scoring has an input per driver (0–10); pass the product's drivers to save the
    query.
    """
    definition = scoring.framework_for(
        product.scoring_framework,
        divide_by_effort=product.weighted_divide_by_effort,
        formula=product.scoring_formula,
    )
    inputs: list[TableInput] = []
    if product.scoring_framework == scoring.CUSTOM:
        # The product's own formula: the inputs it reads, and its hand-scored drivers, in the
        # order it reads them (evidence figures have nothing to type).
        if drivers is None:
            drivers = ScoringDriver.objects.filter(product=product)
        by_key: dict[str, ScoringDriver] = {}
        for driver in drivers:
            by_key.setdefault(scoring.driver_key(driver.name), driver)
        for name in definition.formula.variables():
            read = by_key.get(name)
            if name in scoring.FEATURE_INPUTS:
                inputs.append(TableInput(key=name))
            elif read is not None and read.source == DriverSource.MANUAL:
                inputs.append(_driver_input(read))
        return tuple(inputs)
    for name in definition.inputs:
        if name == "weighted_drivers":
            if drivers is None:
                drivers = ScoringDriver.objects.filter(product=product)
            inputs.extend(
                _driver_input(driver)
                for driver in drivers
                # One fed by the evidence has no score to type: the score's explanation tells it.
                if driver.source == DriverSource.MANUAL
            )
        elif name == "reach" and product.reach_source != scoring.MANUAL:
            inputs.append(TableInput(key="reach", source=product.reach_source))
        else:
            inputs.append(TableInput(key=name))
    return tuple(inputs)


def _driver_input(driver: ScoringDriver) -> TableInput:
    """A hand-scored driver's column (0–10)."""
    return TableInput(
        key=f"driver-{driver.pk}",
        driver_id=driver.pk,
        driver_name=driver.name,
        driver_weight=driver.weight,
    )


def _sort_keys(inputs: Iterable[TableInput], fields: Iterable[FieldDefinition] = ()) -> set[str]:
    return {*FIXED_SORT_KEYS, *(i.key for i in inputs), *(field_column_key(f.key) for f in fields)}


# --- Filter options and the query string -----------------------------------------------------


@dataclass(frozen=True)
class TableOptions:
    """What the filters and the bulk edit offer: the product's tags, personas and releases."""

    tags: list[Tag]
    personas: list[Persona]
    releases: list[Release]


def table_options(*, product: Product) -> TableOptions:
    """The product's tags, personas and releases (three small queries)."""
    return TableOptions(
        tags=list(Tag.objects.filter(product=product).order_by("name")),
        personas=list(Persona.objects.filter(product=product).only("id", "name").order_by("name")),
        releases=list(Release.objects.filter(product=product)),
    )


FILTER_NAMES = (
    "q",
    "status",
    "tag",
    "persona",
    "release",
    "horizon",
    "moscow",
    "kano",
    "market_position",
)


@dataclass(frozen=True)
class TableParams:
    """The table's filters, search and sort as the query string gives them, validated."""

    q: str = ""
    status: str = STATUS_OPEN
    tag: str = ""
    persona: str = ""
    release: str = ""
    horizon: str = ""
    moscow: str = ""
    kano: str = ""
    market_position: str = ""
    sort: str = DEFAULT_SORT
    descending: bool = False
    # How many of the view's rows the page renders, from the top; None for all of them.
    rows: int | None = PAGE_ROWS
    # The custom-field filters as typed (``cf-…`` parameter, value), the valid ones' conditions,
    # and the refused ones' messages by parameter.
    field_query: tuple[tuple[str, str], ...] = ()
    conditions: tuple[FieldCondition, ...] = ()
    field_errors: tuple[tuple[str, str], ...] = ()

    @property
    def filtered(self) -> bool:
        """Whether anything but the default "open features" view is asked for."""
        return bool(self.conditions) or any(
            getattr(self, n) != getattr(DEFAULTS, n) for n in FILTER_NAMES
        )

    def field_values(self, param: str) -> list[str]:
        """What the query string gives ``param`` (a ``cf-…`` filter), as typed."""
        return [v for n, v in self.field_query if n == param]

    def field_value(self, param: str) -> str:
        return next(iter(self.field_values(param)), "")

    @property
    def sort_param(self) -> str:
        return f"-{self.sort}" if self.descending else self.sort

    def query_pairs(self, **changes: Any) -> list[tuple[str, str]]:
        """The non-default parameters, in a fixed order (so equal views have equal URLs); every
        row is ``all=1``."""
        values = {
            **{n: getattr(self, n) for n in FILTER_NAMES},
            "sort": self.sort_param,
            "rows": self.rows,
        }
        values.update(changes)
        defaults = {
            **{n: getattr(DEFAULTS, n) for n in FILTER_NAMES},
            "sort": DEFAULT_SORT,
            "rows": PAGE_ROWS,
        }
        pairs = [
            ("all", "1") if v is None else (n, str(v))
            for n, v in values.items()
            if v != defaults[n]
        ]
        refused = {n for n, _ in self.field_errors}
        fields = [(n, v) for n, v in self.field_query if n not in refused]
        # The custom-field filters after the others, before the sort and the rows.
        at = next((i for i, (n, _) in enumerate(pairs) if n in ("sort", "rows", "all")), len(pairs))
        return [*pairs[:at], *fields, *pairs[at:]]

    def query_string(self, **changes: Any) -> str:
        """``?a=b`` for this view (with ``changes``), or "" for the default view."""
        pairs = self.query_pairs(**changes)
        return "?" + urlencode(pairs) if pairs else ""

    @property
    def export_query(self) -> str:
        """The CSV export's query string: it narrows by status and search, like the table."""
        return "?" + urlencode([("status", self.status), *([("q", self.q)] if self.q else [])])


DEFAULTS = TableParams()


def _field_filters(
    query: Mapping[str, Any], fields: Iterable[FieldDefinition]
) -> tuple[tuple[tuple[str, str], ...], tuple[FieldCondition, ...], tuple[tuple[str, str], ...]]:
    """The ``cf-…`` parameters of the query string: as typed (non-empty values, bounded), the
    conditions of the valid ones, and a message per refused parameter."""
    getlist = getattr(query, "getlist", None)
    typed: list[tuple[str, str]] = []
    names = [n for n in query if str(n).startswith(FIELD_FILTER_PREFIX)]
    for name in names[:FIELD_FILTER_PARAMS_MAX]:
        given = getlist(name) if getlist is not None else query[name]
        for value in [given] if isinstance(given, str) else list(given):
            # As long as the filters read (a longer value would be written back into every link).
            value = " ".join(str(value).split())[:FIELD_FILTER_TEXT_MAX]
            if value and len(typed) < FIELD_FILTER_PARAMS_MAX:
                typed.append((str(name), value))
    values: dict[str, list[str]] = {}
    bounds: dict[str, dict[str, str]] = {"min": {}, "max": {}}
    param_of: dict[tuple[str, str], str] = {}
    for name, value in typed:
        rest = name.removeprefix(FIELD_FILTER_PREFIX)
        key, _, what = rest.partition("-")
        if what in bounds:
            bounds[what][key] = value
        else:
            # "cf-segment", or a name that is not one of the three forms: an unknown field.
            key, what = (key, "value") if not what else (rest, "value")
            values.setdefault(key, []).append(value)
        param_of[(key, what)] = name
    checked = field_filters_clean(
        definitions=fields, values=values, minimum=bounds["min"], maximum=bounds["max"]
    )
    errors = tuple(
        (param_of[where], message)
        for where, messages in checked.errors.items()
        for message in messages
    )
    return tuple(typed), tuple(checked.conditions), errors


def table_params(
    *,
    query: Mapping[str, Any],
    options: TableOptions,
    inputs: Iterable[TableInput],
    fields: Iterable[FieldDefinition] = (),
) -> TableParams:
    """Read the query string; an unknown value falls back to that parameter's default, but for
    a custom-field filter's, which is refused with a message (``field_errors``)."""
    fields = tuple(fields)

    def pick(name: str, allowed: Iterable[str]) -> str:
        value = str(query.get(name) or "")
        return value if value in set(allowed) else ""

    status = str(query.get("status") or STATUS_OPEN)
    if status not in {STATUS_OPEN, STATUS_ALL, *FeatureStatus.values}:
        status = STATUS_OPEN
    sort = str(query.get("sort") or DEFAULT_SORT)
    descending = sort.startswith("-")
    sort = sort.removeprefix("-")
    if sort not in _sort_keys(inputs, fields):
        sort, descending = DEFAULT_SORT, False
    field_query, conditions, field_errors = _field_filters(query, fields)
    return TableParams(
        q=" ".join(str(query.get("q") or "").split())[:SEARCH_MAX_LENGTH],
        status=status,
        tag=pick("tag", (t.name for t in options.tags)),
        persona=pick("persona", (str(p.pk) for p in options.personas)),
        release=pick("release", [NOT_SET, *(str(r.pk) for r in options.releases)]),
        horizon=pick("horizon", [NOT_SET, *Horizon.values]),
        moscow=pick("moscow", [NOT_SET, *MoSCoW.values]),
        kano=pick("kano", [NOT_SET, *Kano.values]),
        market_position=pick("market_position", [NOT_SET, *MarketPosition.values]),
        sort=sort,
        descending=descending,
        rows=_rows(query),
        field_query=field_query,
        conditions=conditions,
        field_errors=field_errors,
    )


def _rows(query: Mapping[str, Any]) -> int | None:
    """How many rows the query string asks for: None for ``all=1``, else ``rows`` if it is a
    whole number from 1 to ROWS_MAX, else the first page."""
    if str(query.get("all") or "") == "1":
        return None
    return whole_number(str(query.get("rows") or ""), low=1, high=ROWS_MAX) or PAGE_ROWS


def _filtered(product: Product, params: TableParams) -> QuerySet[Feature]:
    """The product's features that pass the filters and the search."""
    if params.status == STATUS_OPEN:
        statuses: list[str] = []
    elif params.status == STATUS_ALL:
        statuses = FeatureStatus.values
    else:
        statuses = [params.status]
    chosen = {
        "status": statuses,
        "tag": params.tag,
        "persona": int(params.persona) if params.persona else None,
        "release": int(params.release) if params.release not in ("", NOT_SET) else None,
        "horizon": [params.horizon] if params.horizon not in ("", NOT_SET) else [],
        "moscow": [params.moscow] if params.moscow not in ("", NOT_SET) else [],
        "kano": [params.kano] if params.kano not in ("", NOT_SET) else [],
        "market_position": (
            [params.market_position] if params.market_position not in ("", NOT_SET) else []
        ),
        "fields": params.conditions,
    }
    features = feature_filter(Feature.objects.filter(product=product), chosen)
    if params.release == NOT_SET:
        features = features.filter(
            Q(roadmap_item__isnull=True) | Q(roadmap_item__release__isnull=True)
        )
    if params.horizon == NOT_SET:
        features = features.filter(roadmap_item__isnull=True)
    if params.moscow == NOT_SET:
        features = features.filter(moscow="")
    if params.kano == NOT_SET:
        features = features.filter(kano="")
    if params.market_position == NOT_SET:
        features = features.filter(market_position="")
    # Every word must appear, in the title or the description, in any order.
    for word in params.q.split():
        features = features.filter(Q(title__icontains=word) | Q(description__icontains=word))
    return features


# --- Sorting -------------------------------------------------------------------------------------


def _position_in(field_name: str, values: Iterable[str]) -> Case:
    """A choice's place in its natural order (must before should...); unset is null."""
    return Case(
        *[When(**{field_name: v}, then=Value(i)) for i, v in enumerate(values)],
        default=Value(None),
        output_field=IntegerField(),
    )


def _persona_count() -> Coalesce:
    rows = (
        # django-stubs loses the annotation `n` after .values().
        Feature.personas.through.objects.filter(feature_id=OuterRef("pk"))  # type: ignore[misc]
        .order_by()
        .values("feature_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(rows[:1], output_field=IntegerField()), Value(0))


def _driver_score(driver_id: int) -> Subquery:
    return Subquery(
        FeatureDriverScore.objects.filter(feature_id=OuterRef("pk"), driver_id=driver_id).values(
            "score"
        )[:1],
        output_field=IntegerField(),
    )


def _field_number(field_id: int) -> Subquery:
    """A feature's number in a custom field: its value, or its choice's value."""
    return Subquery(
        FeatureFieldValue.objects.filter(feature_id=OuterRef("pk"), field_id=field_id)
        .annotate(n=Coalesce("value", "choice__value"))
        .values("n")[:1]
    )


def _sorted(
    features: QuerySet[Feature],
    params: TableParams,
    inputs: Iterable[TableInput],
    fields: Iterable[FieldDefinition] = (),
) -> QuerySet:
    """Order by the chosen column, empty values last either way, then by rank and id (stable)."""
    key = params.sort
    column = next((i for i in inputs if i.key == key), None)
    custom = next((f for f in fields if field_column_key(f.key) == key), None)
    keys: list[Any]
    if custom is not None:
        keys = [_field_number(custom.id)]
    elif key == "rank":
        keys = [F("rank")]
    elif key == "movement":
        keys = [F("movement")]
    elif key == "title":
        keys = [Lower("title")]
    elif key == "score":
        keys = [F("score")]
    elif key == "status":
        keys = [_position_in("status", FeatureStatus.values)]
    elif key == "moscow":
        keys = [_position_in("moscow", scoring.MOSCOW_ORDER)]
    elif key == "kano":
        keys = [_position_in("kano", scoring.KANO_ORDER)]
    elif key == "personas":
        keys = [_persona_count()]
    elif key == "evidence":
        keys = [F("evidence_count")]
    elif key == "demand":
        keys = [F("vote_count"), F("requester_count")]
    elif key == "roadmap":
        keys = [
            _position_in("roadmap_item__horizon", HORIZON_ORDER),
            F("roadmap_item__release__target_date"),
            Lower("roadmap_item__release__name"),
        ]
    elif column is not None and column.driver_id is not None:
        keys = [_driver_score(column.driver_id)]
    elif column is not None and column.source:
        keys = [F(f"score_breakdown__inputs__{key}__value")]
    else:
        keys = [F(key)]
    direction = "desc" if params.descending else "asc"
    ordering = [getattr(k, direction)(nulls_last=True) for k in keys]
    return features.order_by(*ordering, F("rank").asc(nulls_last=True), "id")


# --- Rows ----------------------------------------------------------------------------------------


@dataclass
class TableRecord:
    """A feature as its row reads it: the feature (with ``rank``, ``score``, ``version``...),
    its driver scores by driver id, last week's rank, its roadmap placement, tags, personas and
    how many insights it has."""

    feature: Feature
    rank_week_ago: int | None
    placement: RoadmapItem | None
    evidence_count: int = 0
    # Confirmed votes on its roadmap item, confirmed requesters of its linked requests.
    vote_count: int = 0
    requester_count: int = 0
    driver_scores: dict[int, int | None] = field(default_factory=dict)
    tags: list[Tag] = field(default_factory=list)
    personas: list[Persona] = field(default_factory=list)
    # Its values in the product's custom fields by field id: (number, choice id).
    field_values: dict[int, tuple[Decimal | None, int | None]] = field(default_factory=dict)

    def value(
        self,
        *,
        key: str,
        driver_id: int | None = None,
        computed: bool = False,
        field_id: int | None = None,
    ) -> Any:
        """The stored value of an input or a choice: a driver's score, reach counted from
        evidence (``computed``, from the score breakdown), a custom field's (number, choice id),
        else the feature's field."""
        return table_stored_value(
            feature=self.feature,
            key=key,
            driver_id=driver_id,
            computed=computed,
            driver_scores=self.driver_scores,
            field_id=field_id,
            field_values=self.field_values,
        )


def table_stored_value(
    *,
    feature: Feature,
    key: str,
    driver_id: int | None = None,
    computed: bool = False,
    driver_scores: Mapping[int, int | None] | None = None,
    field_id: int | None = None,
    field_values: Mapping[int, tuple[Decimal | None, int | None]] | None = None,
) -> Any:
    """A feature's stored value for an input or a choice. A driver's score comes from
    ``driver_scores`` when given, else from the database (one query); a custom field's value,
    (number, choice id) or None, from ``field_values`` alike."""
    if field_id is not None:
        if field_values is not None:
            return field_values.get(field_id)
        return (
            FeatureFieldValue.objects.filter(feature=feature, field_id=field_id)
            .values_list("value", "choice_id")
            .first()
        )
    if driver_id is not None:
        if driver_scores is not None:
            return driver_scores.get(driver_id)
        return (
            FeatureDriverScore.objects.filter(feature=feature, driver_id=driver_id)
            .values_list("score", flat=True)
            .first()
        )
    if computed:
        inputs = (feature.score_breakdown or {}).get("inputs") or {}
        return (inputs.get(key) or {}).get("value")
    return getattr(feature, key)


def _record(feature: Any) -> TableRecord:
    """``feature``: a Feature with the annotations of ``_with_row_data``."""
    try:
        placement = feature.roadmap_item
    except RoadmapItem.DoesNotExist:
        placement = None
    return TableRecord(
        feature=feature,
        rank_week_ago=feature.rank_week_ago,
        placement=placement,
        evidence_count=getattr(feature, "evidence_count", 0),
        vote_count=getattr(feature, "vote_count", 0),
        requester_count=getattr(feature, "requester_count", 0),
        driver_scores={s.driver_id: s.score for s in getattr(feature, "table_driver_scores", ())},
        tags=feature.table_tags,
        personas=feature.table_personas,
        field_values={
            v.field_id: (v.value, v.choice_id) for v in getattr(feature, "table_field_values", ())
        },
    )


def _evidence_count() -> Coalesce:
    rows = (
        # django-stubs loses the annotation `n` after .values().
        Insight.features.through.objects.filter(feature_id=OuterRef("pk"))  # type: ignore[misc]
        .order_by()
        .values("feature_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(rows[:1], output_field=IntegerField()), Value(0))


def _with_row_data(
    features: QuerySet[Feature], *, drivers: bool, fields: bool = False, links: bool = True
) -> QuerySet[Feature]:
    """Everything a row shows: placement joined, evidence, demand (votes, requesters) and last
    week's rank as subqueries,
    personas and tags (with ``links``; and, with ``drivers``, driver scores; with ``fields``,
    custom field values) prefetched. Long texts are never read here."""
    features = (
        features.select_related("roadmap_item__release")
        .defer("requirements", "business_case_notes", "internal_notes", "description")
        .annotate(
            evidence_count=_evidence_count(),
            vote_count=vote_count_sql(),
            requester_count=requester_count_sql(),
            rank_week_ago=rank_week_ago_sql(),
        )
        .annotate(movement=F("rank_week_ago") - F("rank"))
    )
    if links:
        features = features.prefetch_related(
            # Into lists (to_attr): a related manager per row and relation costs more than the
            # rest of the row.
            Prefetch(
                "personas",
                queryset=Persona.objects.only("id", "name").order_by("name"),
                to_attr="table_personas",
            ),
            Prefetch("tags", queryset=Tag.objects.order_by("name"), to_attr="table_tags"),
        )
    if drivers:
        features = features.prefetch_related(
            Prefetch(
                "driver_scores",
                queryset=FeatureDriverScore.objects.only("id", "feature_id", "driver_id", "score"),
                to_attr="table_driver_scores",
            )
        )
    if fields:
        features = features.prefetch_related(
            Prefetch(
                "field_values",
                queryset=FeatureFieldValue.objects.only(
                    "id", "feature_id", "field_id", "value", "choice_id"
                ),
                to_attr="table_field_values",
            )
        )
    return features


def _has_drivers(inputs: Iterable[TableInput]) -> bool:
    return any(i.driver_id is not None for i in inputs)


@dataclass
class TableData:
    """The table a query string asks for: the framework's inputs, the filter options, the
    checked parameters, the rows shown, the product's feature count and the view's row count."""

    inputs: tuple[TableInput, ...]
    options: TableOptions
    params: TableParams
    # A list, or for a streamed "Show all" an iterator read in chunks of STREAM_CHUNK.
    records: list[TableRecord] | Iterator[TableRecord]
    total: int
    matching: int = 0  # rows of this view, shown or not
    # The product's custom fields (a column and a filter each).
    fields: tuple[FieldDefinition, ...] = ()


def _query_view(
    product: Product, query: Mapping[str, Any]
) -> tuple[tuple[TableInput, ...], TableOptions, TableParams, tuple[FieldDefinition, ...]]:
    """The inputs, filter options, checked parameters and custom fields of the view a query
    string asks for (the drivers, with weighted scoring, the options and the custom fields: 4 to
    6 queries)."""
    drivers = (
        list(ScoringDriver.objects.filter(product=product))
        if scoring.uses_drivers(product.scoring_framework, product.scoring_formula)
        else []
    )
    inputs = table_inputs(product=product, drivers=drivers)
    options = table_options(product=product)
    fields = product_field_definitions(product=product)
    params = table_params(query=query, options=options, inputs=inputs, fields=fields)
    return inputs, options, params, fields


def table_data(*, product: Product, query: Mapping[str, Any], stream: bool = False) -> TableData:
    """The product's table for a query string (filters, search, sort).

    Queries: options (3), drivers (weighted scoring only), the rows, their personas and tags
    (and driver scores), and the product's feature count. With ``stream``, every row ("Show
    all", ``all=1``) is not read here: ``records`` is an iterator that reads them in chunks of
    STREAM_CHUNK (a server-side cursor on PostgreSQL; the personas, tags and driver scores per
    chunk) as the response is written, so memory stays flat in the product's size; the view's
    rows are then counted (capped) beforehand.
    """
    inputs, options, params, fields = _query_view(product, query)
    features = _sorted(
        _with_row_data(
            _filtered(product, params), drivers=_has_drivers(inputs), fields=bool(fields)
        ),
        params,
        inputs,
        fields,
    )
    # In the (product, rank) index's order: every entry of the product counts, and a product of
    # most of the table is not counted by a sequential scan through the others' rows.
    total = capped_count(Feature.objects.filter(product=product), order_by=("rank",))
    if stream and params.rows is None:
        return TableData(
            inputs=inputs,
            options=options,
            params=params,
            records=(_record(f) for f in features.iterator(chunk_size=STREAM_CHUNK)),
            total=total,
            matching=capped_count(_filtered(product, params)),
            fields=fields,
        )
    if params.rows is not None:
        # ORDER BY … LIMIT only: a window count would read the whole view before the limit.
        features = features[: params.rows]
    records = [_record(feature) for feature in features]
    matching = (
        len(records)
        if params.rows is None or len(records) < params.rows
        # A full page: the view may hold more; count it, reading at most the cap.
        else capped_count(_filtered(product, params))
    )
    return TableData(
        inputs=inputs,
        options=options,
        params=params,
        records=records,
        total=total,
        matching=matching,
        fields=fields,
    )


def table_record(
    *, product: Product, pk: int, drivers: bool, fields: bool = False, links: bool = True
) -> TableRecord | None:
    """One feature's row data (for a reload, an edit's answer or a quick add), with its driver
    scores if ``drivers`` and custom field values if ``fields``, or None if the feature is not in
    this product. Without ``links``, its tags and personas are not read (two queries) and the
    record has none."""
    feature = _with_row_data(
        Feature.objects.filter(product=product, pk=pk),
        drivers=drivers,
        fields=fields,
        links=links,
    ).first()
    if feature is not None and not links:
        feature.table_tags = feature.table_personas = []  # type: ignore[attr-defined]
    return _record(feature) if feature is not None else None


def table_product_ranks(
    *, product: Product, pks: Iterable[int] | None = None
) -> dict[int, int | None]:
    """The current ranks of the features ``pks`` (every feature's when None), to tell which
    ranks an edit moved (one query, on the primary key when ``pks`` are given)."""
    features = Feature.objects.filter(product=product)
    if pks is not None:
        features = features.filter(pk__in=set(pks))
    return dict(features.order_by().values_list("pk", "rank"))


@dataclass(frozen=True)
class RankUpdate:
    """A row whose rank an edit moved: its new rank and movement."""

    pk: int
    rank: int | None
    rank_week_ago: int | None

    @property
    def movement(self) -> int | None:
        if self.rank is None or self.rank_week_ago is None:
            return None
        return self.rank_week_ago - self.rank


def table_rank_updates(
    *,
    product: Product,
    query: Mapping[str, Any],
    before: Mapping[int, int | None],
    always: Iterable[int] = (),
    shown: Iterable[int] | None = None,
) -> list[RankUpdate]:
    """The rows of the table shown for ``query`` whose rank differs from ``before``, plus the
    ``always`` ones. With ``shown`` (the ids of the rows on the page), only those rows: one
    query; without, every row of the view: one query, plus the options and drivers the query
    string is checked with. An invalid ``shown`` (None from the parser) counts as absent."""
    keep = set(always)
    if shown is not None:
        candidates = Q(pk__in=set(shown))
    else:
        _inputs, _options, params, _fields = _query_view(product, query)
        candidates = Q(pk__in=_filtered(product, params).values("pk"))
    rows = (
        Feature.objects.filter(product=product)
        .filter(candidates | Q(pk__in=keep))
        .annotate(rank_week_ago=rank_week_ago_sql())
        .order_by()
        .values_list("pk", "rank", "rank_week_ago")
    )
    return [
        RankUpdate(pk, rank, was)
        for pk, rank, was in rows
        if pk in keep or before.get(pk, rank) != rank
    ]


@dataclass(frozen=True)
class TableCounts:
    shown: int
    total: int
    filtered: bool


def table_counts(*, product: Product, query: Mapping[str, Any]) -> TableCounts:
    """How many features the table shows for ``query``, and how many the product has (two
    counts, plus the options and custom fields the query string is checked with)."""
    params = table_params(
        query=query,
        options=table_options(product=product),
        inputs=table_inputs(product=product, drivers=[]),
        fields=product_field_definitions(product=product),
    )
    return TableCounts(
        shown=_filtered(product, params).count(),
        total=Feature.objects.filter(product=product).count(),
        filtered=params.filtered,
    )


def table_last_editor(*, feature: Feature) -> str:
    """The name of who saved the feature last, "" if unknown (one query)."""
    last = feature.history.select_related("history_user").order_by("-history_date").first()
    user = getattr(last, "history_user", None)
    return user.name if user is not None else ""
