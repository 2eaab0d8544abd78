"""Reads of rating rounds: the rounds of a product, a rater's sheet (their own values only: the
others' stay hidden until they submit) and a round's results, per feature and input each rater's
value, the median, the spread and whether the raters disagree (``roadmap.planning.rating``).

A fixed number of queries whatever the number of features, raters and ratings.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery

from roadmap.models import (
    Feature,
    FeatureDriverScore,
    Product,
    Rating,
    RatingRound,
    RatingRoundRater,
    ScoringDriver,
)
from roadmap.planning import rating as scales
from roadmap.planning.selectors.table import table_inputs


@dataclass(frozen=True)
class RoundInput:
    """An input a round rates: the table's key (``reach``, ``driver-<id>``) and its scale."""

    key: str
    scale: scales.Scale
    driver_id: int | None = None

    @property
    def label(self) -> str:
        return self.scale.label


def round_inputs(
    *, product: Product, drivers: Iterable[ScoringDriver] | None = None
) -> tuple[RoundInput, ...]:
    """The product's inputs a person can rate, as the prioritization table finds its editable
    ones; reach counted from the evidence is not rated. At most one query (the drivers)."""
    inputs = []
    for given in table_inputs(product=product, drivers=drivers):
        if given.source:
            continue
        if given.driver_id is not None:
            inputs.append(
                RoundInput(
                    key=given.key,
                    scale=scales.driver_scale(given.driver_name),
                    driver_id=given.driver_id,
                )
            )
        elif given.key in scales.FIELD_SCALES:
            inputs.append(RoundInput(key=given.key, scale=scales.FIELD_SCALES[given.key]))
    return tuple(inputs)


def _seat_of(user) -> QuerySet[RatingRoundRater]:
    return RatingRoundRater.objects.filter(round=OuterRef("pk"), user_id=user.pk)


def rating_rounds_of(*, product: Product, user) -> QuerySet[RatingRound]:
    """The product's rounds, newest first, with their counts (``feature_count``,
    ``rater_count``, ``submitted_count``) and the user's part (``is_rater``,
    ``my_submitted_at``): one query."""
    return (
        RatingRound.objects.filter(product=product)
        .select_related("created_by")
        .annotate(
            feature_count=Count("features", distinct=True),
            rater_count=Count("seats", distinct=True),
            submitted_count=Count(
                "seats", filter=Q(seats__submitted_at__isnull=False), distinct=True
            ),
            is_rater=Exists(_seat_of(user)),
            my_submitted_at=Subquery(_seat_of(user).values("submitted_at")[:1]),
        )
        # Spelled out: a query with aggregates leaves the model's ordering out.
        .order_by("-created_at", "-id")
    )


def rating_round_for(*, product: Product, pk: int, user) -> RatingRound | None:
    """One round of the product with its counts and the user's part (see ``rating_rounds_of``),
    or None."""
    return rating_rounds_of(product=product, user=user).filter(pk=pk).first()


def sees_results(*, rating_round: RatingRound, can_edit: bool) -> bool:
    """Whether someone sees a round's results: editors always; a rater once they have submitted
    (no anchoring before). ``rating_round`` comes from ``rating_rounds_of``."""
    return bool(can_edit or rating_round.my_submitted_at)  # type: ignore[attr-defined]


def rating_rounds_to_rate(*, user, workspace=None) -> list[RatingRound]:
    """The open rounds the user is asked to rate and has not submitted, of the workspace (or of
    every workspace of theirs), oldest first, with their product: one query."""
    rounds = RatingRound.objects.for_user(user).filter(
        closed_at__isnull=True,
        seats__user_id=getattr(user, "pk", None),
        seats__submitted_at__isnull=True,
    )
    if workspace is not None:
        rounds = rounds.filter(product__workspace=workspace)
    return list(rounds.select_related("product").order_by("created_at", "id"))


def _round_features(rating_round: RatingRound) -> list[Feature]:
    return list(
        rating_round.features.order_by("rank", "title", "id").only(
            "pk", "title", "rank", "status", "product_id", *scales.FIELD_SCALES
        )
    )


@dataclass
class RatingSheet:
    """What a rater sees: the features and inputs to rate and their own values (as typed, by
    field name), and nothing of anyone else's."""

    features: list[Feature]
    inputs: tuple[RoundInput, ...]
    values: dict[str, str]


def rating_sheet(
    *, rating_round: RatingRound, user, inputs: tuple[RoundInput, ...] | None = None
) -> RatingSheet:
    """The user's sheet of the round: three queries (features, drivers, their own ratings);
    two with ``inputs`` (``round_inputs``, read by the caller)."""
    mine = Rating.objects.filter(round=rating_round, rater_id=user.pk).values_list(
        "feature_id", "input_key", "value"
    )
    return RatingSheet(
        features=_round_features(rating_round),
        inputs=round_inputs(product=rating_round.product) if inputs is None else inputs,
        values={scales.field_name(f, k): scales.text(v) for f, k, v in mine},
    )


@dataclass
class ResultCell:
    """One input of one feature: its current value, each rater's (None: not rated) and the
    summary."""

    key: str
    field_name: str
    current: Decimal | None
    values: list[Decimal | None]
    summary: scales.Summary

    @property
    def changes(self) -> bool:
        """Whether accepting the median would change the feature."""
        return self.summary.median is not None and self.summary.median != self.current


@dataclass
class ResultRow:
    feature: Feature
    cells: list[ResultCell]

    @property
    def disagreements(self) -> int:
        return sum(cell.summary.disagree for cell in self.cells)

    @property
    def acceptable(self) -> bool:
        return any(cell.summary.median is not None for cell in self.cells)


@dataclass
class RoundResults:
    """A round's results: the raters (in the order of their columns, with their seats), the
    inputs and a row per feature."""

    seats: list[RatingRoundRater]
    inputs: tuple[RoundInput, ...]
    rows: list[ResultRow]

    @property
    def disagreements(self) -> int:
        return sum(row.disagreements for row in self.rows)


def round_results(
    *, rating_round: RatingRound, inputs: tuple[RoundInput, ...] | None = None
) -> RoundResults:
    """Every submitted value of the round with its median, spread and disagreement, beside the
    features' current values: five queries (features, drivers, driver scores, seats, ratings);
    four with ``inputs`` (``round_inputs``, read by the caller)."""
    features = _round_features(rating_round)
    if inputs is None:
        inputs = round_inputs(product=rating_round.product)
    drivers = [i.driver_id for i in inputs if i.driver_id is not None]
    current_scores: dict[tuple[int, int], int] = {}
    if drivers:
        rows = FeatureDriverScore.objects.filter(
            feature__in=[f.pk for f in features], driver_id__in=drivers
        ).values_list("feature_id", "driver_id", "score")
        current_scores = {(f, d): s for f, d, s in rows}
    seats = list(
        RatingRoundRater.objects.filter(round=rating_round)
        .select_related("user")
        .order_by("user__display_name", "user__email", "id")
    )
    # Drafts are not results: only the values of raters who submitted count.
    column = {seat.user_id: i for i, seat in enumerate(seats) if seat.submitted_at is not None}
    given: dict[tuple[int, str], list[Decimal | None]] = {}
    ratings = Rating.objects.filter(round=rating_round).values_list(
        "feature_id", "input_key", "rater_id", "value"
    )
    for feature_id, key, rater_id, value in ratings:
        if rater_id in column:
            slot = given.setdefault((feature_id, key), [None] * len(seats))
            slot[column[rater_id]] = value
    result_rows = []
    for feature in features:
        cells = []
        for item in inputs:
            values = given.get((feature.pk, item.key), [None] * len(seats))
            if item.driver_id is not None:
                score = current_scores.get((feature.pk, item.driver_id))
                current = Decimal(score) if score is not None else None
            else:
                stored = getattr(feature, item.key)
                current = Decimal(stored) if stored is not None else None
            cells.append(
                ResultCell(
                    key=item.key,
                    field_name=scales.field_name(feature.pk, item.key),
                    current=current,
                    values=values,
                    summary=scales.summarise([v for v in values if v is not None], item.scale),
                )
            )
        result_rows.append(ResultRow(feature=feature, cells=cells))
    return RoundResults(seats=seats, inputs=inputs, rows=result_rows)
