"""Reads for a product's board (now / next / later by lane) and timeline (items across months).

Each runs a fixed number of queries whatever the number of items: the items with their feature,
lane and release in one, the product's lanes in another (and its releases for the timeline; the
number of items in each cell for the board, which shows the first few of each cell).

A board cell counts its items up to ``CELL_COUNT_CAP`` beyond the cards it shows, and says
"1,000+ more" past that: a cell of 6,000 items reads 1,021 entries of the ``item_cell_order``
index, not 6,000, so the board costs what it shows whatever the product holds. No PM scrolls
through a thousand cards of one cell; the table and the API list them all.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL

from roadmap import bounds
from roadmap.counts import CountAtLeast, capped
from roadmap.models import Feature, Horizon, Lane, Product, Release, RoadmapItem
from roadmap.portal.selectors import requester_count_sql, vote_count_sql

NO_LANE = "No lane"
# The cards a board cell shows at first (the rest: "N more", CELL_PAGE at a time).
CELL_CARDS = 20
CELL_PAGE = 50
# A cell's items counted beyond those it shows: "1,000+ more" past that.
CELL_COUNT_CAP = 1000
# Cells counted in one compound SELECT on SQLite (it takes at most 500).
SQLITE_UNION = 400


def product_items(*, product: Product) -> QuerySet[RoadmapItem]:
    """The product's roadmap items with what a card or a bar shows, in board order.

    Callers have checked access to ``product``; an item of another product is not found here.
    """
    return (
        RoadmapItem.objects.filter(product=product)
        .select_related("feature", "lane", "release")
        # Demand on the card: confirmed votes on the item, confirmed requesters of its feature.
        .annotate(
            vote_count=vote_count_sql(item_ref="pk"),
            requester_count=requester_count_sql("feature_id"),
        )
        .order_by("position", "id")
    )


def product_lanes(*, product: Product) -> list[Lane]:
    """The product's lanes in their order (one query)."""
    return list(Lane.objects.filter(product=product).order_by("position", "name", "pk"))


def unplaced_features(*, product: Product) -> QuerySet[Feature]:
    """The product's features not on the roadmap yet, best ranked first (closed ones last).

    NOT EXISTS, not a LEFT JOIN: PostgreSQL then walks the rank index and stops at the page's
    last row (2 ms at 100k features), where the join read and sorted every feature (66 ms)."""
    on_roadmap = RoadmapItem.objects.filter(feature_id=OuterRef("pk"))
    return (
        Feature.objects.filter(product=product)
        .filter(~Exists(on_roadmap))
        .order_by(*(Feature._meta.ordering or ()))
    )


# --- Board ---------------------------------------------------------------------------------------


def item_cell_index(*, item: RoadmapItem) -> int:
    """How many items come before this one in its board cell (its horizon and lane)."""
    return (
        RoadmapItem.objects.filter(
            product_id=item.product_id, horizon=item.horizon, lane=item.lane_id
        )
        .filter(Q(position__lt=item.position) | Q(position=item.position, pk__lt=item.pk))
        .count()
    )


def _at_least(parts: list[int]) -> int:
    """The sum of counts, read "N+" when any of them is (``CountAtLeast``)."""
    total = sum(parts)
    return CountAtLeast(total) if any(isinstance(n, CountAtLeast) for n in parts) else total


@dataclass
class BoardCell:
    """A horizon in a lane: its first ``items`` (from ``start``, 0-based) of ``total``, which is
    a ``CountAtLeast`` when the cell holds more than ``CELL_COUNT_CAP`` items past these."""

    horizon: str
    label: str
    items: list[RoadmapItem] = field(default_factory=list)
    total: int = 0
    start: int = 0
    lane: Lane | None = None

    @property
    def lane_key(self) -> str:
        return str(self.lane.pk) if self.lane else ""

    @property
    def key(self) -> str:
        """The cell's name in element ids: ``now-12``, ``later-none``."""
        return f"{self.horizon}-{self.lane_key or 'none'}"

    @property
    def shown(self) -> int:
        """How many of the cell's items come up to the end of this part."""
        return self.start + len(self.items)

    @property
    def more(self) -> int:
        """How many of the cell's items come after this part ("1,000+" past the cap)."""
        more = max(self.total - self.shown, 0)
        return CountAtLeast(more) if isinstance(self.total, CountAtLeast) else more


@dataclass
class Swimlane:
    """A row of the board: one lane (or none) across the three horizons."""

    lane: Lane | None
    name: str
    cells: list[BoardCell]

    @property
    def key(self) -> str:
        return str(self.lane.pk) if self.lane else ""

    @property
    def count(self) -> int:
        return _at_least([cell.total for cell in self.cells])


@dataclass
class BoardColumn:
    horizon: str
    label: str
    count: int


@dataclass
class Board:
    columns: list[BoardColumn]
    swimlanes: list[Swimlane]
    lanes: list[Lane]

    @property
    def count(self) -> int:
        return _at_least([column.count for column in self.columns])


def product_board(*, product: Product, per_cell: int = CELL_CARDS) -> Board:
    """The product's items by lane (in lane order, then "No lane") and horizon: the first
    ``per_cell`` of each cell, in the cell's order, and how many each cell holds, exact up to
    ``CELL_COUNT_CAP`` past those (three queries, the same whatever the number of items; two for
    a board without items). The cards are read cell by cell, each cell's first ones only
    (``_cell_firsts``), and so are the counts (``_cell_counts``)."""
    lanes = product_lanes(product=product)

    def row(lane: Lane | None) -> Swimlane:
        cells = [BoardCell(value, label, lane=lane) for value, label in Horizon.choices]
        return Swimlane(lane=lane, name=lane.name if lane else NO_LANE, cells=cells)

    rows: dict[int | None, Swimlane] = {lane.pk: row(lane) for lane in lanes}
    rows[None] = row(None)
    index = {value: i for i, value in enumerate(Horizon.values)}
    every = [(lane_id, horizon) for lane_id in rows for horizon in Horizon.values]
    cap = per_cell + CELL_COUNT_CAP
    filled: list[tuple[int | None, str]] = []
    for (lane_id, horizon), n in zip(every, _cell_counts(product, every, cap), strict=True):
        rows[lane_id].cells[index[horizon]].total = capped(n, cap)
        if n:
            filled.append((lane_id, horizon))
    # No item counted, none to read: an empty board is spared its costliest query.
    if filled:
        firsts = _cell_firsts(product, filled, per_cell)
        for item in product_items(product=product).filter(firsts):
            rows[item.lane_id].cells[index[item.horizon]].items.append(item)
    swimlanes = list(rows.values())
    columns = [
        BoardColumn(value, label, _at_least([lane.cells[index[value]].total for lane in swimlanes]))
        for value, label in Horizon.choices
    ]
    return Board(columns=columns, swimlanes=swimlanes, lanes=lanes)


def _cell_where(product: Product, lane_id: int | None, horizon: str) -> tuple[str, list[int | str]]:
    """A cell's rows, as a WHERE clause that the ``item_cell_order`` index serves."""
    lane = "lane_id IS NULL" if lane_id is None else "lane_id = %s"
    params: list[int | str] = [product.pk, *([] if lane_id is None else [lane_id]), horizon]
    return f"product_id = %s AND {lane} AND horizon = %s", params


def _cell_counts(product: Product, cells: list[tuple[int | None, str]], cap: int) -> list[int]:
    """How many items each cell (lane id or None, horizon) holds, counting at most ``cap + 1``
    of each (read through ``capped``): one query (on SQLite, one per ``SQLITE_UNION`` cells), a
    bounded index read per cell, whatever the number of items (a GROUP BY over every item of the
    product took 41 ms at 1M features). In the cell's order, which the product's board indexes
    give: without it, the planner may read a large cell by a scan of the table that stops at the
    cap, in whatever order the rows lie."""
    table = connection.ops.quote_name(RoadmapItem._meta.db_table)
    parts: list[tuple[str, list[int | str]]] = []
    for n, (lane_id, horizon) in enumerate(cells):
        where, params = _cell_where(product, lane_id, horizon)
        sql = (
            f"SELECT {n} AS cell, (SELECT count(*) FROM (SELECT 1 FROM {table} WHERE {where} "
            f"ORDER BY position, id LIMIT %s) AS cell_{n}) AS n"
        )
        parts.append((sql, [*params, cap + 1]))
    counts: dict[int, int] = {}
    with connection.cursor() as cursor:
        for sql, params in _unions(parts):
            cursor.execute(sql, params)
            counts.update(cursor.fetchall())
    return [counts[n] for n in range(len(cells))]


def _unions(parts: list[tuple[str, list]]) -> list[tuple[str, list]]:
    """SELECTs joined by UNION ALL, with their parameters: one statement, or on SQLite, which
    takes at most 500 SELECTs in a compound one, one per ``SQLITE_UNION`` (a product of many
    lanes)."""
    run = max(len(parts), 1) if connection.vendor == "postgresql" else SQLITE_UNION
    return [
        (
            " UNION ALL ".join(sql for sql, _ in parts[first : first + run]),
            [param for _, params in parts[first : first + run] for param in params],
        )
        for first in range(0, len(parts), run)
    ]


def _cell_firsts(product: Product, cells: list[tuple[int | None, str]], per_cell: int) -> Q:
    """The first ``per_cell`` items of each cell (lane id or None, horizon), as a condition on
    their ids (a subquery; on SQLite, one per run of cells, ``_unions``): one bounded read per
    cell through the ``item_cell_order`` index, whatever the number of items (the board of
    100,000 items at 1M features read them all through a window function, with each card's
    demand counted before the first twenty were kept: 2.5 s)."""
    table = connection.ops.quote_name(RoadmapItem._meta.db_table)
    parts: list[tuple[str, list]] = []
    for lane_id, horizon in cells:
        where, where_params = _cell_where(product, lane_id, horizon)
        # A derived table per cell: SQLite takes no LIMIT on a member of a UNION otherwise.
        parts.append(
            (
                f"SELECT id FROM (SELECT id FROM {table} WHERE {where} "
                f"ORDER BY position, id LIMIT %s) AS cell_{len(parts)}",
                [*where_params, per_cell],
            )
        )
    found = Q()
    for sql, params in _unions(parts):
        found |= Q(pk__in=RawSQL(sql, params))
    return found


def board_cell(
    *, product: Product, horizon: str, lane: Lane | None, start: int, size: int = CELL_PAGE
) -> BoardCell:
    """Up to ``size`` items of one board cell from its ``start``-th (0-based), in the cell's
    order, and how many the cell holds, exact up to ``CELL_COUNT_CAP`` past these (two
    queries). Callers have checked that ``lane`` is the product's."""
    items = product_items(product=product).filter(horizon=horizon, lane=lane)
    cell = BoardCell(horizon, Horizon(horizon).label, lane=lane, start=start)
    cap = start + size + CELL_COUNT_CAP
    (n,) = _cell_counts(product, [(lane.pk if lane else None, horizon)], cap)
    cell.total = capped(n, cap)
    cell.items = list(items[start : start + size]) if start < cell.total else []
    return cell


# --- Timeline ------------------------------------------------------------------------------------

# A bar with a start and no end is drawn this long (its end fades out): long enough to grab.
OPEN_END_DAYS = 14
MIN_QUARTERS = 3
# Release names start left of their marker past this percentage of the track.
FLIP_AFTER = 85
_DAY = datetime.timedelta(days=1)


def quarter_start(day: datetime.date) -> datetime.date:
    return datetime.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _add_months(day: datetime.date, months: int) -> datetime.date:
    """The first of the month ``months`` after ``day``'s month."""
    total = day.year * 12 + day.month - 1 + months
    return datetime.date(total // 12, total % 12 + 1, 1)


def _pct(value: float) -> str:
    # A fixed-point string: a float rendered by a template would follow the locale.
    return f"{value:.4f}"


@dataclass(frozen=True)
class Span:
    """A header cell (a quarter or a month) placed on the track, in percent of its width."""

    label: str
    title: str
    left: str
    width: str


@dataclass(frozen=True)
class ReleaseMarker:
    release: Release
    left: str
    # Near the end of the track, the name goes on the marker's left so that it stays in view.
    flip: bool


@dataclass(frozen=True)
class TimelineBar:
    """An item drawn on the track. ``kind``: "range" (both dates), "open" (a start only) or
    "milestone" (an end only)."""

    item: RoadmapItem
    kind: str
    left: str
    width: str


@dataclass
class TimelineLane:
    lane: Lane | None
    name: str
    bars: list[TimelineBar] = field(default_factory=list)


@dataclass
class Timeline:
    start: datetime.date
    end: datetime.date  # inclusive
    days: int
    quarters: list[Span]
    months: list[Span]
    today: datetime.date
    today_left: str | None
    releases: list[ReleaseMarker]
    lanes: list[TimelineLane]
    unscheduled: list[RoadmapItem]

    @property
    def month_count(self) -> int:
        return len(self.months)

    @property
    def scheduled_count(self) -> int:
        return sum(len(lane.bars) for lane in self.lanes)


def timeline_range(
    dates: list[datetime.date], *, today: datetime.date
) -> tuple[datetime.date, datetime.date]:
    """The first and last day (inclusive) the timeline shows: whole quarters from the earliest
    of ``dates`` and today's quarter to the latest of them, at least three quarters and at most
    ``bounds.DRAWN_YEARS`` either side of today's quarter (dates further out are drawn at the
    edge: rows saved before dates were bounded may lie in year 1 or 9999)."""
    first, last = bounds.drawn_window(today)
    dates = [min(max(day, first), last) for day in dates]
    start = quarter_start(min([*dates, today]))
    end = _add_months(quarter_start(max([*dates, today])), 3)
    end = max(end, _add_months(start, 3 * MIN_QUARTERS))
    return start, end - datetime.timedelta(days=1)


def product_timeline(*, product: Product, today: datetime.date) -> Timeline:
    """The product's dated items as bars by lane, its releases as markers and the months and
    quarters they span; items without dates are listed apart (three queries)."""
    lanes = product_lanes(product=product)
    items = list(product_items(product=product))
    releases = list(
        Release.objects.filter(product=product, target_date__isnull=False).order_by(
            "target_date", "name"
        )
    )
    dates = [d for item in items for d in (item.start_date, item.end_date) if d]
    dates += [release.target_date for release in releases if release.target_date]
    start, end = timeline_range(dates, today=today)
    days = (end - start).days + 1

    def left(day: datetime.date) -> float:
        return (day - start).days / days * 100

    def clip(day: datetime.date) -> datetime.date:
        return min(max(day, start), end)

    def span(first: datetime.date, last: datetime.date) -> tuple[str, str]:
        """Left and width of the days ``first`` to ``last`` inclusive, as far as they are shown."""
        first, last = clip(first), clip(last)
        return _pct(left(first)), _pct(((last - first).days + 1) / days * 100)

    months, quarters = [], []
    month = start
    while month <= end:
        following = _add_months(month, 1)
        months.append(
            Span(month.strftime("%b"), month.strftime("%B %Y"), *span(month, following - _DAY))
        )
        if month.month % 3 == 1:
            quarter = f"Q{(month.month - 1) // 3 + 1} {month.year}"
            quarters.append(Span(quarter, quarter, *span(month, _add_months(month, 3) - _DAY)))
        month = following

    rows: dict[int | None, TimelineLane] = {
        lane.pk: TimelineLane(lane=lane, name=lane.name) for lane in lanes
    }
    rows[None] = TimelineLane(lane=None, name=NO_LANE)
    unscheduled = []
    for item in sorted(items, key=lambda i: (i.start_date or i.end_date or end, i.position, i.pk)):
        if item.start_date and item.end_date:
            bar = TimelineBar(item, "range", *span(item.start_date, item.end_date))
        elif item.start_date:
            open_end = clip(item.start_date) + datetime.timedelta(days=OPEN_END_DAYS - 1)
            bar = TimelineBar(item, "open", *span(item.start_date, open_end))
        elif item.end_date:
            bar = TimelineBar(item, "milestone", *span(item.end_date, item.end_date))
        else:
            unscheduled.append(item)
            continue
        rows[item.lane_id].bars.append(bar)
    unscheduled.sort(key=lambda i: (Horizon.values.index(i.horizon), i.position, i.pk))
    return Timeline(
        start=start,
        end=end,
        days=days,
        quarters=quarters,
        months=months,
        today=today,
        today_left=_pct(left(today)) if start <= today <= end else None,
        releases=[
            ReleaseMarker(r, _pct(left(clip(day))), left(clip(day)) > FLIP_AFTER)
            for r in releases
            if (day := r.target_date)
        ],
        lanes=[row for row in rows.values() if row.bars],
        unscheduled=unscheduled,
    )
