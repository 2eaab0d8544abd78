"""Reads of ranked features: the priorities list, with movement since last week."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from django.db.models import F, IntegerField, OuterRef, QuerySet, Subquery
from django.utils import timezone

from roadmap.models import Feature, FeatureRankSnapshot, Product
from roadmap.planning import scoring

MOVEMENT_WINDOW = timedelta(days=7)


def rank_week_ago_sql(*, today: date | None = None) -> Subquery:
    """The feature's rank in the latest snapshot at least a week old (None without one)."""
    cutoff = (today or timezone.localdate()) - MOVEMENT_WINDOW
    return Subquery(
        FeatureRankSnapshot.objects.filter(feature_id=OuterRef("pk"), taken_on__lte=cutoff)
        .order_by("-taken_on")
        .values("rank")[:1],
        output_field=IntegerField(),
    )


def feature_filter(queryset: QuerySet, filters: Mapping[str, object]) -> QuerySet:
    """Apply the priorities/table filters. Values are already validated (see the API filters)."""
    if filters.get("status"):
        queryset = queryset.filter(status__in=filters["status"])
    else:
        queryset = queryset.exclude(status__in=scoring.CLOSED_STATUSES)
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


def priorities_list(
    *, product: Product, filters: Mapping[str, object], limit: int | None = None
) -> list[dict]:
    """The product's features in rank order (unscored after scored), as plain dicts.

    Two queries whatever the number of features: the rows, and the product's lanes are not
    needed; placement comes joined from the roadmap item and its release.
    """
    rows = (
        feature_filter(Feature.objects.filter(product=product), filters)
        .annotate(
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
    if limit:
        rows = rows[:limit]
    result = []
    for row in rows:
        breakdown = row.pop("score_breakdown") or {}
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
        result.append(row)
    return result
