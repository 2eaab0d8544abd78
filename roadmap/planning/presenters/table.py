"""The prioritization table shaped for its page: columns with their headers and titles, cells
with the text a viewer reads and the control an editor types in, what is editable, a refused
edit's input and errors, the header links that sort.

The data comes from ``roadmap.planning.selectors.table`` (plain values, a fixed number of
queries); nothing here reads the database but through it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from django.db.models import Field
from django.utils.text import capfirst

from roadmap.models import (
    IMPACT_CHOICES,
    CustomFieldKind,
    Feature,
    FeatureStatus,
    Kano,
    MoSCoW,
    Persona,
    Product,
    RoadmapItem,
    ScoringDriver,
    Tag,
)
from roadmap.planning import scoring
from roadmap.planning.selectors import table as selectors
from roadmap.planning.selectors.priorities import FieldDefinition, product_field_definitions
from roadmap.planning.selectors.table import (
    PAGE_ROWS,
    TableInput,
    TableOptions,
    TableParams,
    TableRecord,
)
from roadmap.planning.shares import product_formula, product_shares, shares_text
from roadmap.planning.terms import Term
from roadmap.portal.selectors import demand_text
from roadmap.templatetags.waymark import number

FEATURE_FIELDS = {f.name for f in Feature._meta.get_fields()}
# Short labels ("Must" for "Must have"), in scoring's MoSCoW order, the order every list shows.
MOSCOW_SHORT = {value: MoSCoW(value).label.removesuffix(" have") for value in scoring.MOSCOW_ORDER}


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
    # A custom field's column: the field (its id, key, kind and choices).
    field: FieldDefinition | None = None

    @property
    def field_id(self) -> int | None:
        return self.field.id if self.field is not None else None

    @property
    def editable(self) -> bool:
        return bool(self.name)

    @property
    def noun(self) -> str:
        """The column's name in a sentence ("Confidence", not the header's "Conf. %")."""
        if (
            self.driver_id is not None
            or self.field_id is not None
            or self.key not in FEATURE_FIELDS
        ):
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
        choices=(("", "—"), *MOSCOW_SHORT.items()),
    ),
    Column(
        key="kano",
        label="Kano",
        title="Kano category",
        name="kano",
        choices=(("", "—"), *Kano.choices),
    ),
)
assert tuple(c.key for c in CHOICE_COLUMNS) == selectors.CHOICE_KEYS

# Whether a first click on the header of a column that is not an input sorts high to low.
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
    "demand": True,
    "roadmap": False,
}
assert tuple(FIXED_SORTS) == selectors.FIXED_SORT_KEYS

# The form field a custom field's cell posts, e.g. "field_segment" (as the feature form names it).
FIELD_INPUT_PREFIX = "field_"
YES_NO_OPTIONS = (("", "—"), ("yes", "Yes"), ("no", "No"))
FIELD_KIND_WORDS: dict[str, str] = {
    CustomFieldKind.NUMBER: "a number",
    CustomFieldKind.CHOICE: "a choice",
    CustomFieldKind.YES_NO: "yes or no",
}


def field_column(definition: FieldDefinition) -> Column:
    """A custom field's column: a number typed like the inputs, or a select of its choices (or
    yes/no), after the feature's own choices."""
    common: dict[str, Any] = {
        "key": selectors.field_column_key(definition.key),
        "label": definition.name,
        "title": f"{definition.name}: custom field, {FIELD_KIND_WORDS[definition.kind]}",
        "name": f"{FIELD_INPUT_PREFIX}{definition.key}",
        "field": definition,
    }
    if definition.kind == CustomFieldKind.NUMBER:
        return Column(**common, numeric=True, descending_first=True)
    if definition.kind == CustomFieldKind.YES_NO:
        return Column(**common, choices=YES_NO_OPTIONS)
    return Column(
        **common,
        choices=(("", "—"), *((label, label) for _, label in definition.choices)),
    )


def _field_value(column: Column, stored: tuple[Decimal | None, int | None] | None) -> Any:
    """A custom field's stored (number, choice id) as its cell holds it: a choice's label,
    "yes" or "no", or the number."""
    if stored is None:
        return None
    number, choice_id = stored
    assert column.field is not None
    if column.field.kind == CustomFieldKind.CHOICE:
        return column.field.label_of(choice_id) or None
    if column.field.kind == CustomFieldKind.YES_NO:
        return "yes" if number else "no"
    return number


@dataclass(frozen=True)
class TableColumns:
    """The columns a product's framework gives its table: inputs, then status, MoSCoW and Kano."""

    inputs: tuple[Column, ...]
    choices: tuple[Column, ...] = CHOICE_COLUMNS
    # A column per custom field of the product, after the choices.
    fields: tuple[Column, ...] = ()
    # The product and the formula it scores with, for each score's shares (the score's tooltip).
    product: Product | None = field(default=None, compare=False)
    formula: Term | None = field(default=None, compare=False)

    @property
    def editable(self) -> dict[str, Column]:
        """Editable columns by the form field their cell posts."""
        return {c.name: c for c in (*self.inputs, *self.choices, *self.fields) if c.editable}

    @property
    def has_drivers(self) -> bool:
        return any(c.driver_id is not None for c in self.inputs)

    @property
    def has_fields(self) -> bool:
        return bool(self.fields)

    def sort_keys(self) -> dict[str, bool]:
        return {
            **FIXED_SORTS,
            **{c.key: c.descending_first for c in (*self.inputs, *self.fields)},
        }

    def column(self, key: str) -> Column | None:
        return next((c for c in (*self.inputs, *self.choices, *self.fields) if c.key == key), None)

    def without(self, hidden: Iterable[str]) -> TableColumns:
        """These columns less the hidden choice and custom field columns, for rendering a
        member's table."""
        hidden = set(hidden)
        return replace(
            self,
            choices=tuple(c for c in self.choices if c.key not in hidden),
            fields=tuple(c for c in self.fields if c.key not in hidden),
        )


def _column(given: TableInput) -> Column:
    """An input's column: a driver's (0–10), reach counted from evidence (shown, not edited),
    else the field's own."""
    if given.driver_id is not None:
        return Column(
            key=given.key,
            label=given.driver_name,
            title=f"{given.driver_name} (weight ×{number(given.driver_weight)}), 0–10",
            name=f"driver_{given.driver_id}",
            numeric=True,
            descending_first=True,
            driver_id=given.driver_id,
        )
    if given.source:
        source = scoring.SOURCE_WORDS[given.source]
        return Column(
            key=given.key,
            label="Reach",
            title=f"Reach: {source} (computed)",
            numeric=True,
            descending_first=True,
            source=source,
        )
    return INPUT_COLUMNS[given.key]


def _columns(
    inputs: Iterable[TableInput],
    product: Product | None = None,
    fields: Iterable[FieldDefinition] = (),
) -> TableColumns:
    return TableColumns(
        inputs=tuple(_column(given) for given in inputs),
        fields=tuple(field_column(f) for f in fields),
        product=product,
        formula=None if product is None else product_formula(product),
    )


def table_columns(
    *,
    product: Product,
    drivers: Iterable[ScoringDriver] | None = None,
    fields: Iterable[FieldDefinition] | None = None,
) -> TableColumns:
    """The input columns of the product's scoring framework, in formula order, and a column per
    custom field.

    Weighted scoring has a column per driver (0–10); pass the product's drivers (and its custom
    fields, ``product_field_definitions``) to save the queries. Reach counted from evidence is
    shown, not edited.
    """
    if fields is None:
        fields = product_field_definitions(product=product)
    return _columns(selectors.table_inputs(product=product, drivers=drivers), product, fields)


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
    # The custom fields' cells, after the choices.
    fields: list[Cell] = field(default_factory=list)
    tags: list[Tag] = field(default_factory=list)
    personas: list[Persona] = field(default_factory=list)
    evidence_count: int = 0
    vote_count: int = 0
    requester_count: int = 0
    # The feature's page and the row's edit URL: set by the view, which knows the URLs.
    url: str = ""
    edit_url: str = ""
    selected: bool = False
    fresh: bool = False
    conflict: Conflict | None = None
    # An error of the row as a whole (not of one cell), e.g. an owner rule of the model.
    error: str = ""
    # What each part of the formula contributes to the score, in a line (its cell's tooltip).
    shares: str = ""

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
        return str(self.evidence_count)

    @property
    def demand(self) -> bool:
        return bool(self.vote_count or self.requester_count)

    @property
    def demand_text(self) -> str:
        """E.g. "12 votes, 3 requesters" (confirmed, from the roadmap page and requests)."""
        return demand_text(self.vote_count, self.requester_count)

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
        return {
            c.column.name or c.column.key: c for c in (*self.inputs, *self.choices, *self.fields)
        }

    def show_input(self, values: Mapping[str, Any], errors: Mapping[str, list[str]]) -> None:
        """Show what the PM typed, with the reasons it was refused, instead of what is stored."""
        for name, cell in self.cells.items():
            if name in values:
                cell.value = str(values[name] or "")
            if errors.get(name):
                cell.errors = list(errors[name])


def _cell(column: Column, value: Any) -> Cell:
    """The cell of a stored ``value``: a choice's label, or a number as a PM types it."""
    if column.choices:
        text = "" if value is None else str(value)
        return Cell(column, text, text, dict(column.choices).get(text, text) or "—")
    text = _decimal_text(value)
    return Cell(column, text, text, number(value))


def _value(record: TableRecord, column: Column) -> Any:
    if column.field_id is not None:
        return _field_value(column, record.value(key=column.key, field_id=column.field_id))
    return record.value(key=column.key, driver_id=column.driver_id, computed=bool(column.source))


def _row(record: TableRecord, columns: TableColumns) -> TableRow:
    return TableRow(
        feature=record.feature,
        inputs=[_cell(c, _value(record, c)) for c in columns.inputs],
        choices=[_cell(c, _value(record, c)) for c in columns.choices],
        fields=[_cell(c, _value(record, c)) for c in columns.fields],
        rank_week_ago=record.rank_week_ago,
        placement=record.placement,
        tags=record.tags,
        personas=record.personas,
        evidence_count=record.evidence_count,
        vote_count=record.vote_count,
        requester_count=record.requester_count,
        shares=_shares(record.feature, columns),
    )


def _shares(feature: Feature, columns: TableColumns) -> str:
    if columns.product is None or feature.score is None:
        return ""
    found = product_shares(
        columns.product, feature.score_breakdown or {}, columns.formula, without=False
    )
    return shares_text(found) if len(found) > 1 else ""


# --- The table ------------------------------------------------------------------------------------


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
    "demand": ("Demand", "Confirmed votes and requesters from the external roadmap", True),
    "roadmap": ("Roadmap", "Horizon and release, once on the roadmap", False),
}


def sort_toggle(params: TableParams, key: str, descending_first: bool) -> str:
    """The sort a column header asks for: its own, flipped when already sorted by it."""
    descending = not params.descending if params.sort == key else descending_first
    return f"-{key}" if descending else key


def aria_sort(params: TableParams, key: str) -> str:
    if params.sort != key:
        return "none"
    return "descending" if params.descending else "ascending"


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
    # A streamed "Show all": every row of the view, made as it is read (``rows`` is empty).
    stream: Iterator[TableRow] | None = None
    # The product's custom fields (shown or hidden): the "Columns" menu and the filters.
    fields: tuple[FieldDefinition, ...] = ()

    @property
    def truncated(self) -> bool:
        return self.stream is None and self.matching > len(self.rows)

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
        sort = sort_toggle(self.params, key, self.columns.sort_keys().get(key, False))
        return Header(
            key=key,
            label=label,
            title=title,
            numeric=numeric,
            sort=sort,
            query=self.params.query_string(sort=sort),
            aria_sort=aria_sort(self.params, key),
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
    def field_headers(self) -> list[Header]:
        return [self._header(c.key, c.label, c.title, c.numeric) for c in self.columns.fields]

    @property
    def field_filters(self) -> list[FieldFilter]:
        """The custom fields' filters of the filter form, with what the query string gives."""
        return [field_filter(f, self.params) for f in self.fields]

    @property
    def selected_count(self) -> int:
        """Rows shown ticked for a bulk edit (kept after one)."""
        return sum(1 for row in self.rows if row.selected)

    @property
    def column_count(self) -> int:
        """Cells in a row: rank, movement, feature, the inputs, score, the choices, personas,
        evidence and roadmap unless hidden, and the selection box for editors."""
        shown_fixed = len({"personas", "evidence", "demand", "roadmap"} - self.hidden)
        count = 3 + len(self.columns.inputs) + 1 + len(self.columns.choices) + shown_fixed
        count += len(self.columns.fields)
        return count + (1 if getattr(self.product, "can_edit", False) else 0)

    @property
    def column_choices(self) -> list[tuple[str, str, bool]]:
        """The "Columns" menu: each hideable column's key, name and whether it is shown."""
        hideable = selectors.table_hideable_columns(fields=self.fields)
        return [(k, name, k not in self.hidden) for k, name in hideable.items()]

    def row_for(self, pk: int) -> TableRow | None:
        return next((r for r in self.rows if r.feature.pk == pk), None)


def table_view(
    *,
    product: Product,
    query: Mapping[str, Any],
    selected: Iterable[int] = (),
    hidden: frozenset[str] = frozenset(),
    stream: bool = False,
) -> TableView:
    """The product's table for a query string (filters, search, sort), without the ``hidden``
    columns (``table_hidden_columns``); the queries are ``selectors.table_data``'s. With
    ``stream``, "Show all" gives its rows as an iterator (``TableView.stream``), not a list."""
    data = selectors.table_data(product=product, query=query, stream=stream)
    columns = _columns(data.inputs, product, data.fields).without(hidden)
    if not isinstance(data.records, list):
        return TableView(
            product=product,
            columns=columns,
            options=data.options,
            params=data.params,
            rows=[],
            total=data.total,
            matching=data.matching,
            hidden=hidden,
            stream=(_row(record, columns) for record in data.records),
            fields=data.fields,
        )
    chosen = set(selected)
    rows = []
    for record in data.records:
        row = _row(record, columns)
        row.selected = record.feature.pk in chosen
        rows.append(row)
    return TableView(
        product=product,
        columns=columns,
        options=data.options,
        params=data.params,
        rows=rows,
        total=data.total,
        matching=data.matching,
        hidden=hidden,
        fields=data.fields,
    )


def table_row(
    *, product: Product, pk: int, columns: TableColumns, cells_only: bool = False
) -> TableRow | None:
    """One feature's row (for a reload, an edit's answer or a quick add), or None if the
    feature is not in this product; ``cells_only``: without its tags and personas (an edit's
    answer, which swaps cells only)."""
    record = selectors.table_record(
        product=product,
        pk=pk,
        drivers=columns.has_drivers,
        fields=columns.has_fields,
        links=not cells_only,
    )
    return _row(record, columns) if record is not None else None


def table_conflict(*, current: Feature, column: Column, yours: str) -> Conflict:
    """What to tell a PM whose edit lost to someone else's save: the value now stored and who
    saved last (one query for the stored driver score, one for the last history record)."""
    stored = selectors.table_stored_value(
        feature=current,
        key=column.key,
        driver_id=column.driver_id,
        computed=bool(column.source),
        field_id=column.field_id,
    )
    if column.field_id is not None:
        stored = _field_value(column, stored)
    return Conflict(
        column=column,
        theirs=_cell(column, stored).display,
        yours=yours,
        by=selectors.table_last_editor(feature=current),
    )


# --- Filters on custom fields ---------------------------------------------------------------------


@dataclass(frozen=True)
class FieldFilter:
    """A custom field's filter in the table's filter form: its parameters (``cf-<key>``, and
    ``-min``/``-max`` for a number), the options with whether each is chosen, the bounds typed,
    and the messages of a refused value."""

    definition: FieldDefinition
    param: str
    options: tuple[tuple[str, str, bool], ...] = ()
    minimum: str = ""
    maximum: str = ""
    errors: tuple[str, ...] = ()

    @property
    def number(self) -> bool:
        return self.definition.kind == CustomFieldKind.NUMBER

    @property
    def chosen(self) -> bool:
        """Whether the filter applies (a refused one does not)."""
        if self.errors:
            return False
        return any(chosen for *_, chosen in self.options) or bool(self.minimum or self.maximum)

    @property
    def dom(self) -> str:
        return f"filter-{self.param}"


def field_filter(definition: FieldDefinition, params: TableParams) -> FieldFilter:
    param = f"{selectors.FIELD_FILTER_PREFIX}{definition.key}"
    chosen = set(params.field_values(param))
    if definition.kind == CustomFieldKind.YES_NO:
        offered: tuple[tuple[str, str], ...] = YES_NO_OPTIONS[1:]
    else:
        offered = tuple((label, label) for _, label in definition.choices)
    params_of = {param, f"{param}-min", f"{param}-max"}
    return FieldFilter(
        definition=definition,
        param=param,
        options=()
        if definition.kind == CustomFieldKind.NUMBER
        else tuple((value, label, value in chosen) for value, label in offered),
        minimum=params.field_value(f"{param}-min"),
        maximum=params.field_value(f"{param}-max"),
        errors=tuple(message for name, message in params.field_errors if name in params_of),
    )
