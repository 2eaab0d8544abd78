"""Reads for the prioritization table, a product's main screen.

Every feature of a product with its framework's inputs, score, rank and movement over a week,
status, MoSCoW, Kano, personas, evidence and roadmap placement; filtered, searched and sorted
from the query string by whitelisted keys only. A fixed number of queries whatever the number of
features: the page is read in one query for the rows plus one per prefetched relation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.db.models import (
    Case,
    Count,
    F,
    Field,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, Lower
from django.utils.text import capfirst

from roadmap.models import (
    IMPACT_CHOICES,
    Feature,
    FeatureDriverScore,
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
from roadmap.planning.selectors.priorities import feature_filter, rank_week_ago_sql
from roadmap.templatetags.waymark import number

FEATURE_FIELDS = {f.name for f in Feature._meta.get_fields()}
# The status filter: open features (the ranked ones) unless asked otherwise.
STATUS_OPEN = "open"
STATUS_ALL = "all"
# The "not set" choice of the release, horizon, MoSCoW and Kano filters.
NOT_SET = "none"
# Rows the table renders at first, and adds per "Show more": a PM works at the top of the ranking,
# and a row of inputs is ~4 KB of HTML and ~0.5 ms of rendering. "Show all" renders every row.
PAGE_ROWS = 50
# The most rows a ``rows=`` parameter asks for; past it, ``all=1`` says "every row".
ROWS_MAX = 100_000
SEARCH_MAX_LENGTH = 200

MOSCOW_SHORT = {"must": "Must", "should": "Should", "could": "Could", "wont": "Won't"}
HORIZON_ORDER = [value for value, _ in Horizon.choices]


# --- Columns ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A column of the table: its sort key and header and, for an editable cell, the form field
    it posts (``name``) and the options of its select (``choices``)."""

    key: str
    label: str
    title: str = ""
    name: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    numeric: bool = False
    # A first click on the header sorts high to low (scores, counts), not low to high.
    descending_first: bool = False
    # Where a read-only input's value comes from, e.g. reach counted from linked insights.
    source: str = ""
    driver_id: int | None = None

    @property
    def editable(self) -> bool:
        return bool(self.name)

    @property
    def noun(self) -> str:
        """The column's name in a sentence ("Confidence", not the header's "Conf. %")."""
        if self.driver_id is not None or self.key not in FEATURE_FIELDS:
            return self.label
        field = Feature._meta.get_field(self.key)
        assert isinstance(field, Field)  # a column of the feature, not a relation to it
        return capfirst(str(field.verbose_name))


def _decimal_text(value: Any) -> str:
    """A stored number as a PM types it: 2.50 reads 2.5, 100 stays 100."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        text = format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return str(value)


IMPACT_OPTIONS = (("", "—"), *((str(value), _decimal_text(value)) for value, _ in IMPACT_CHOICES))


def _input(key: str, label: str, title: str, *, descending_first: bool = True) -> Column:
    return Column(
        key=key,
        label=label,
        title=title,
        name=key,
        numeric=True,
        descending_first=descending_first,
    )


INPUT_COLUMNS = {
    "reach": _input("reach", "Reach", "Reach: people or events per quarter"),
    "impact": Column(
        key="impact",
        label="Impact",
        title="Impact: 0.25 minimal, 0.5 low, 1 medium, 2 high, 3 massive",
        name="impact",
        choices=IMPACT_OPTIONS,
        numeric=True,
        descending_first=True,
    ),
    "confidence": _input("confidence", "Conf. %", "Confidence, in percent (0–100)"),
    "effort": _input(
        "effort", "Effort", "Effort in person-months (more than 0)", descending_first=False
    ),
    "impact_ice": _input("impact_ice", "Impact", "Impact (ICE), 1–10"),
    "confidence_ice": _input("confidence_ice", "Conf.", "Confidence (ICE), 1–10"),
    "ease": _input("ease", "Ease", "Ease, 1–10 (10 is easiest)"),
    "business_value": _input("business_value", "Value", "Business value (1 or more)"),
    "time_criticality": _input("time_criticality", "Time crit.", "Time criticality (1 or more)"),
    "risk_reduction": _input(
        "risk_reduction", "Risk red.", "Risk reduction / opportunity enablement (1 or more)"
    ),
    "job_size": _input("job_size", "Job size", "Job size (1 or more)", descending_first=False),
    "value": _input("value", "Value", "Value, 1–10"),
}

CHOICE_COLUMNS = (
    Column(
        key="status",
        label="Status",
        title="Status",
        name="status",
        choices=tuple(FeatureStatus.choices),
    ),
    Column(
        key="moscow",
        label="MoSCoW",
        title="MoSCoW: must, should, could, won't have",
        name="moscow",
        choices=(("", "—"), *((value, MOSCOW_SHORT[value]) for value in MoSCoW.values)),
    ),
    Column(
        key="kano",
        label="Kano",
        title="Kano category",
        name="kano",
        choices=(("", "—"), *Kano.choices),
    ),
)

# The columns a member may hide from their own table, with their names in the "Columns" menu. The
# rank, the title, the framework's inputs and the score are what the table is for: always shown.
HIDEABLE_COLUMNS = {
    "status": "Status",
    "moscow": "MoSCoW",
    "kano": "Kano",
    "personas": "Personas",
    "evidence": "Evidence",
    "roadmap": "Roadmap",
}

# Columns that are not inputs, by sort key; the value says whether a first click sorts them
# high to low.
FIXED_SORTS = {
    "rank": False,
    "movement": True,
    "title": False,
    "score": True,
    "status": False,
    "moscow": False,
    "kano": False,
    "personas": True,
    "evidence": True,
    "roadmap": False,
}
DEFAULT_SORT = "rank"


@dataclass(frozen=True)
class TableColumns:
    """The columns a product's framework gives its table: inputs, then status, MoSCoW and Kano."""

    inputs: tuple[Column, ...]
    choices: tuple[Column, ...] = CHOICE_COLUMNS

    @property
    def editable(self) -> dict[str, Column]:
        """Editable columns by the form field their cell posts."""
        return {c.name: c for c in (*self.inputs, *self.choices) if c.editable}

    def sort_keys(self) -> dict[str, bool]:
        return {**FIXED_SORTS, **{c.key: c.descending_first for c in self.inputs}}

    def column(self, key: str) -> Column | None:
        return next((c for c in (*self.inputs, *self.choices) if c.key == key), None)

    def without(self, hidden: Iterable[str]) -> TableColumns:
        """These columns less the hidden choice columns, for rendering a member's table."""
        hidden = set(hidden)
        return replace(self, choices=tuple(c for c in self.choices if c.key not in hidden))


def table_hidden_columns(*, user, product: Product) -> frozenset[str]:
    """The columns the user hides from this product's table (one query); unknown keys (of a
    column since removed) are dropped."""
    stored = (
        TableLayout.objects.filter(user=user, product=product)
        .values_list("hidden_columns", flat=True)
        .first()
    )
    return frozenset(stored or ()) & HIDEABLE_COLUMNS.keys()


def table_columns(
    *, product: Product, drivers: Iterable[ScoringDriver] | None = None
) -> TableColumns:
    """The input columns of the product's scoring framework, in formula order.

    Weighted scoring has a column per driver (0–10); pass the product's drivers to save the
    query. Reach counted from evidence is shown, not edited.
    """
    definition = scoring.framework_for(
        product.scoring_framework, divide_by_effort=product.weighted_divide_by_effort
    )
    inputs: list[Column] = []
    for name in definition.inputs:
        if name == "weighted_drivers":
            if drivers is None:
                drivers = ScoringDriver.objects.filter(product=product)
            inputs.extend(
                Column(
                    key=f"driver-{driver.pk}",
                    label=driver.name,
                    title=f"{driver.name} (weight ×{number(driver.weight)}), 0–10",
                    name=f"driver_{driver.pk}",
                    numeric=True,
                    descending_first=True,
                    driver_id=driver.pk,
                )
                for driver in drivers
            )
        elif name == "reach" and product.reach_source != scoring.MANUAL:
            source = scoring.SOURCE_WORDS[product.reach_source]
            inputs.append(
                Column(
                    key="reach",
                    label="Reach",
                    title=f"Reach: {source} (computed)",
                    numeric=True,
                    descending_first=True,
                    source=source,
                )
            )
        else:
            inputs.append(INPUT_COLUMNS[name])
    return TableColumns(inputs=tuple(inputs))


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

    @property
    def filtered(self) -> bool:
        """Whether anything but the default "open features" view is asked for."""
        return any(getattr(self, n) != getattr(DEFAULTS, n) for n in FILTER_NAMES)

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
        return [
            ("all", "1") if v is None else (n, str(v))
            for n, v in values.items()
            if v != defaults[n]
        ]

    def query_string(self, **changes: Any) -> str:
        """``?a=b`` for this view (with ``changes``), or "" for the default view."""
        pairs = self.query_pairs(**changes)
        return "?" + urlencode(pairs) if pairs else ""

    @property
    def export_query(self) -> str:
        """The CSV export's query string: it narrows by status and search, like the table."""
        return "?" + urlencode([("status", self.status), *([("q", self.q)] if self.q else [])])

    def sort_toggle(self, key: str, descending_first: bool) -> str:
        """The sort a column header asks for: its own, flipped when already sorted by it."""
        descending = not self.descending if self.sort == key else descending_first
        return f"-{key}" if descending else key

    def aria_sort(self, key: str) -> str:
        if self.sort != key:
            return "none"
        return "descending" if self.descending else "ascending"


DEFAULTS = TableParams()


def table_params(
    *, query: Mapping[str, Any], options: TableOptions, columns: TableColumns
) -> TableParams:
    """Read the query string; an unknown value falls back to that parameter's default."""

    def pick(name: str, allowed: Iterable[str]) -> str:
        value = str(query.get(name) or "")
        return value if value in set(allowed) else ""

    status = str(query.get("status") or STATUS_OPEN)
    if status not in {STATUS_OPEN, STATUS_ALL, *FeatureStatus.values}:
        status = STATUS_OPEN
    sort = str(query.get("sort") or DEFAULT_SORT)
    descending = sort.startswith("-")
    sort = sort.removeprefix("-")
    if sort not in columns.sort_keys():
        sort, descending = DEFAULT_SORT, False
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
    )


def _rows(query: Mapping[str, Any]) -> int | None:
    """How many rows the query string asks for: None for ``all=1``, else ``rows`` if it is a
    whole number from 1 to ROWS_MAX, else the first page."""
    if str(query.get("all") or "") == "1":
        return None
    rows = str(query.get("rows") or "")
    return int(rows) if rows.isdigit() and 1 <= int(rows) <= ROWS_MAX else PAGE_ROWS


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


def _sorted(features: QuerySet[Feature], params: TableParams, columns: TableColumns) -> QuerySet:
    """Order by the chosen column, empty values last either way, then by rank and id (stable)."""
    key = params.sort
    column = columns.column(key)
    keys: list[Any]
    if key == "rank":
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
class Cell:
    """One editable value of a row: what its control shows (``value``: after a rejected edit,
    what the PM typed), what is stored (``saved``), and the text a viewer reads."""

    column: Column
    value: str
    saved: str
    display: str
    errors: list[str] = field(default_factory=list)


@dataclass
class Conflict:
    """Someone else saved the feature after this row was loaded: what they left, what was typed."""

    column: Column
    theirs: str
    yours: str
    by: str


@dataclass
class TableRow:
    """A feature as its table row shows it."""

    feature: Feature
    inputs: list[Cell]
    choices: list[Cell]
    rank_week_ago: int | None
    placement: RoadmapItem | None
    tags: list[Tag] = field(default_factory=list)
    personas: list[Persona] = field(default_factory=list)
    # The feature's page and the row's edit URL: set by the view, which knows the URLs.
    url: str = ""
    edit_url: str = ""
    selected: bool = False
    fresh: bool = False
    conflict: Conflict | None = None
    # An error of the row as a whole (not of one cell), e.g. an owner rule of the model.
    error: str = ""

    @property
    def pk(self) -> int:
        return self.feature.pk

    @property
    def dom(self) -> str:
        """The prefix of the row's element ids, e.g. "f12" (f12-rank, f12-reach...)."""
        return f"f{self.feature.pk}"

    @property
    def pk_text(self) -> str:
        # Text, not a number: the template engine would localise an int on each of 1,000 rows.
        return str(self.feature.pk)

    @property
    def evidence_text(self) -> str:
        return str(getattr(self.feature, "evidence_count", 0))

    @property
    def rank(self) -> int | None:
        return self.feature.rank

    @property
    def missing(self) -> list[str]:
        """The inputs the score still lacks, in formula order."""
        return scoring.missing_inputs(self.feature.score_breakdown or {})

    @property
    def movement(self) -> int | None:
        """Places gained since a week ago (negative: lost); None without both ranks."""
        rank = self.feature.rank
        if rank is None or self.rank_week_ago is None:
            return None
        return self.rank_week_ago - rank

    @property
    def cells(self) -> dict[str, Cell]:
        return {c.column.name or c.column.key: c for c in (*self.inputs, *self.choices)}

    def show_input(self, values: Mapping[str, Any], errors: Mapping[str, list[str]]) -> None:
        """Show what the PM typed, with the reasons it was refused, instead of what is stored."""
        for name, cell in self.cells.items():
            if name in values:
                cell.value = str(values[name] or "")
            if errors.get(name):
                cell.errors = list(errors[name])


def _stored(feature: Feature, column: Column, drivers: Mapping[int, int | None]) -> Any:
    if column.driver_id is not None:
        return drivers.get(column.driver_id)
    if column.source:
        inputs = (feature.score_breakdown or {}).get("inputs") or {}
        return (inputs.get(column.key) or {}).get("value")
    return getattr(feature, column.key)


def _cell(feature: Feature, column: Column, drivers: Mapping[int, int | None]) -> Cell:
    value = _stored(feature, column, drivers)
    if column.choices:
        text = "" if value is None else str(value)
        return Cell(column, text, text, dict(column.choices).get(text, text) or "—")
    text = _decimal_text(value)
    return Cell(column, text, text, number(value))


def _row(feature: Any, columns: TableColumns) -> TableRow:
    """``feature``: a Feature with the annotations of ``_with_row_data``."""
    drivers = {s.driver_id: s.score for s in getattr(feature, "table_driver_scores", ())}
    try:
        placement = feature.roadmap_item
    except RoadmapItem.DoesNotExist:
        placement = None
    return TableRow(
        feature=feature,
        inputs=[_cell(feature, c, drivers) for c in columns.inputs],
        choices=[_cell(feature, c, drivers) for c in columns.choices],
        rank_week_ago=feature.rank_week_ago,
        placement=placement,
        tags=feature.table_tags,
        personas=feature.table_personas,
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


def _with_row_data(features: QuerySet[Feature], columns: TableColumns) -> QuerySet[Feature]:
    """Everything a row shows: placement joined, evidence and last week's rank as subqueries,
    personas and tags (and driver scores) prefetched. Long texts are never read here."""
    features = (
        features.select_related("roadmap_item__release")
        .defer("requirements", "business_case_notes", "internal_notes", "description")
        .annotate(evidence_count=_evidence_count(), rank_week_ago=rank_week_ago_sql())
        .annotate(movement=F("rank_week_ago") - F("rank"))
        .prefetch_related(
            # Into lists (to_attr): a related manager per row and relation costs more than the
            # rest of the row.
            Prefetch(
                "personas",
                queryset=Persona.objects.only("id", "name").order_by("name"),
                to_attr="table_personas",
            ),
            Prefetch("tags", queryset=Tag.objects.order_by("name"), to_attr="table_tags"),
        )
    )
    if any(c.driver_id is not None for c in columns.inputs):
        features = features.prefetch_related(
            Prefetch(
                "driver_scores",
                queryset=FeatureDriverScore.objects.only("id", "feature_id", "driver_id", "score"),
                to_attr="table_driver_scores",
            )
        )
    return features


@dataclass(frozen=True)
class Header:
    """A column header: its label, the link that sorts by it and its aria-sort."""

    key: str
    label: str
    title: str
    numeric: bool
    sort: str
    query: str
    aria_sort: str

    @property
    def id(self) -> str:
        return f"col-{self.key}"


# Headers of the columns that are not inputs: key -> (label, long form, numeric).
FIXED_HEADERS = {
    "rank": ("Rank", "Rank among open features", True),
    "movement": ("7d", "Rank change since a week ago", True),
    "title": ("Feature", "", False),
    "score": ("Score", "", True),
    "personas": ("Personas", "", False),
    "evidence": ("Evidence", "Linked customer insights", True),
    "roadmap": ("Roadmap", "Horizon and release, once on the roadmap", False),
}


@dataclass
class TableView:
    """The table as a page shows it."""

    product: Product
    columns: TableColumns
    options: TableOptions
    params: TableParams
    rows: list[TableRow]
    total: int
    matching: int = 0  # rows of this view, shown or not
    hidden: frozenset[str] = frozenset()  # the reader's hidden columns (HIDEABLE_COLUMNS)

    @property
    def truncated(self) -> bool:
        return self.matching > len(self.rows)

    @property
    def more_count(self) -> int:
        """How many rows "Show more" adds."""
        return min(PAGE_ROWS, self.matching - len(self.rows))

    @property
    def more_query(self) -> str:
        return self.params.query_string(rows=len(self.rows) + self.more_count)

    @property
    def show_all_query(self) -> str:
        return self.params.query_string(rows=None)

    def _header(self, key: str, label: str, title: str, numeric: bool) -> Header:
        sort = self.params.sort_toggle(key, self.columns.sort_keys().get(key, False))
        return Header(
            key=key,
            label=label,
            title=title,
            numeric=numeric,
            sort=sort,
            query=self.params.query_string(sort=sort),
            aria_sort=self.params.aria_sort(key),
        )

    @property
    def fixed_headers(self) -> dict[str, Header]:
        return {k: self._header(k, *v) for k, v in FIXED_HEADERS.items()}

    @property
    def input_headers(self) -> list[Header]:
        return [self._header(c.key, c.label, c.title, True) for c in self.columns.inputs]

    @property
    def choice_headers(self) -> list[Header]:
        return [self._header(c.key, c.label, c.title, False) for c in self.columns.choices]

    @property
    def selected_count(self) -> int:
        """Rows shown ticked for a bulk edit (kept after one)."""
        return sum(1 for row in self.rows if row.selected)

    @property
    def column_count(self) -> int:
        """Cells in a row: rank, movement, feature, the inputs, score, the choices, personas,
        evidence and roadmap unless hidden, and the selection box for editors."""
        shown_fixed = len({"personas", "evidence", "roadmap"} - self.hidden)
        count = 3 + len(self.columns.inputs) + 1 + len(self.columns.choices) + shown_fixed
        return count + (1 if getattr(self.product, "can_edit", False) else 0)

    @property
    def column_choices(self) -> list[tuple[str, str, bool]]:
        """The "Columns" menu: each hideable column's key, name and whether it is shown."""
        return [(k, name, k not in self.hidden) for k, name in HIDEABLE_COLUMNS.items()]

    def row_for(self, pk: int) -> TableRow | None:
        return next((r for r in self.rows if r.feature.pk == pk), None)


def _query_view(
    product: Product, query: Mapping[str, Any]
) -> tuple[TableColumns, TableOptions, TableParams]:
    """The columns, filter options and checked parameters of the view a query string asks for
    (the drivers, with weighted scoring, and the options: 1 to 4 queries)."""
    drivers = (
        list(ScoringDriver.objects.filter(product=product))
        if product.scoring_framework == scoring.WEIGHTED
        else []
    )
    columns = table_columns(product=product, drivers=drivers)
    options = table_options(product=product)
    return columns, options, table_params(query=query, options=options, columns=columns)


def table_view(
    *,
    product: Product,
    query: Mapping[str, Any],
    selected: Iterable[int] = (),
    hidden: frozenset[str] = frozenset(),
) -> TableView:
    """The product's table for a query string (filters, search, sort), without the ``hidden``
    columns (``table_hidden_columns``).

    Queries: options (3), drivers (weighted scoring only), the rows, their personas and tags
    (and driver scores), and the product's feature count.
    """
    columns, options, params = _query_view(product, query)
    features = _sorted(_with_row_data(_filtered(product, params), columns), params, columns)
    columns = columns.without(hidden)
    if params.rows is not None:
        # The first rows, and how many the view has, in the same query.
        features = features.annotate(view_total=Window(Count("pk")))[: params.rows]
    chosen = set(selected)
    rows = []
    for feature in features:
        row = _row(feature, columns)
        row.selected = feature.pk in chosen
        rows.append(row)
    total = Feature.objects.filter(product=product).count()
    matching = len(rows) if params.rows is None or not rows else rows[0].feature.view_total  # type: ignore[attr-defined]
    return TableView(
        product=product,
        columns=columns,
        options=options,
        params=params,
        rows=rows,
        total=total,
        matching=matching,
        hidden=hidden,
    )


def table_row(*, product: Product, pk: int, columns: TableColumns) -> TableRow | None:
    """One feature's row (for a reload, an edit's answer or a quick add), or None if the
    feature is not in this product."""
    feature = _with_row_data(Feature.objects.filter(product=product, pk=pk), columns).first()
    return _row(feature, columns) if feature is not None else None


def table_product_ranks(*, product: Product) -> dict[int, int | None]:
    """Every feature's current rank, to tell which ranks an edit moved (one query)."""
    return dict(Feature.objects.filter(product=product).values_list("pk", "rank"))


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
        _columns, _options, params = _query_view(product, query)
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
    counts, plus the options the query string is checked with)."""
    params = table_params(
        query=query,
        options=table_options(product=product),
        columns=table_columns(product=product, drivers=[]),
    )
    return TableCounts(
        shown=_filtered(product, params).count(),
        total=Feature.objects.filter(product=product).count(),
        filtered=params.filtered,
    )


def table_conflict(*, current: Feature, column: Column, yours: str) -> Conflict:
    """What to tell a PM whose edit lost to someone else's save: the value now stored and who
    saved last (one query for the stored driver score, one for the last history record)."""
    if column.driver_id is not None:
        stored = (
            FeatureDriverScore.objects.filter(feature=current, driver_id=column.driver_id)
            .values_list("score", flat=True)
            .first()
        )
    else:
        stored = getattr(current, column.key)
    cell = _cell(current, column, {column.driver_id: stored} if column.driver_id else {})
    last = current.history.select_related("history_user").order_by("-history_date").first()
    user = getattr(last, "history_user", None)
    return Conflict(
        column=column,
        theirs=cell.display,
        yours=yours,
        by=user.name if user is not None else "",
    )
