"""Reads of ranked features: the priorities list, with movement since last week."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import F, IntegerField, OuterRef, QuerySet, Subquery
from django.utils import timezone

from roadmap.models import Feature, FeatureRankSnapshot, FeatureStatus, Product
from roadmap.planning import scoring
from roadmap.planning.shares import product_formula, with_shares
from roadmap.planning.terms import Term

MOVEMENT_WINDOW = timedelta(days=7)
# The rows one answer holds by default, and at most (a cursor leads to the next ones).
PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


def rank_week_ago_sql(*, today: date | None = None) -> Subquery:
    """The feature's rank in the latest snapshot at least a week old (None without one)."""
    cutoff = (today or timezone.localdate()) - MOVEMENT_WINDOW
    return Subquery(
        FeatureRankSnapshot.objects.filter(feature_id=OuterRef("pk"), taken_on__lte=cutoff)
        .order_by("-taken_on")
        .values("rank")[:1],
        output_field=IntegerField(),
    )


OPEN_STATUSES = [s for s in FeatureStatus.values if s not in scoring.CLOSED_STATUSES]


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
    return queryset


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
    queryset = feature_filter(Feature.objects.filter(product=product), filters)
    rows: list[dict] = []
    rank, pk = after if after is not None else (0, 0)
    if after is None or rank is not None:
        ranked = queryset.filter(rank__gte=rank).exclude(rank=rank, pk__lte=pk)
        rows = list(_priority_rows(ranked)[:wanted])
        pk = 0
    if len(rows) < wanted:
        unranked = queryset.filter(rank__isnull=True, pk__gt=pk)
        rows += list(_priority_rows(unranked)[: wanted - len(rows)])
    more = len(rows) > limit
    formula = product_formula(product) if shares else None
    results = [_priority(row, product, formula) for row in rows[:limit]]
    last = results[-1] if more else None
    return PrioritiesPage(results=results, next_after=(last["rank"], last["id"]) if last else None)


def _priority_rows(queryset: QuerySet) -> QuerySet:
    return (
        queryset.annotate(
            rank_week_ago=rank_week_ago_sql(),
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
