"""Writes of scores and ranks. The only code that sets Feature.score, score_breakdown and rank.

Every write here touches the score columns only (``QuerySet.update``), so a PM's concurrent edit
of a title or an input is never overwritten by a recompute.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from django.db import connection, transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    DecimalField,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Cast, Coalesce, Concat, Lower, Now, RowNumber, Trim
from django.utils import timezone

from config.dispatch import enqueue_on_commit
from roadmap.models import (
    Customer,
    CustomField,
    Feature,
    FeatureDriverScore,
    FeatureFieldValue,
    FeatureRankSnapshot,
    Insight,
    InsightSource,
    Persona,
    Product,
    ScoringDriver,
)
from roadmap.planning import scoring


def product_lock(*, product_id: int) -> Mapping[str, Any] | None:
    """Take the product's row lock. Every write that re-ranks a product takes it first, so
    concurrent edits of two features queue up instead of deadlocking on each other's rows.
    Caller must be inside a transaction. Returns what ``feature_rerank`` reads of the product
    (its tie-break, workspace and slug), as stored under the lock (None if it is gone)."""
    return (
        Product.objects.select_for_update()
        .filter(pk=product_id)
        .values("tie_break", "workspace_id", "slug")
        .first()
    )


def scoring_driver(driver: ScoringDriver) -> scoring.Driver:
    """A stored driver as the pure scoring module sees it."""
    return scoring.Driver(
        id=driver.pk,
        name=driver.name,
        weight=float(driver.weight),
        source=driver.source,
        full_scale=None if driver.full_scale is None else float(driver.full_scale),
    )


def product_scoring_config(
    *, product: Product, formula: str | None = None
) -> scoring.ScoringConfig:
    """The product's scoring settings as the pure scoring module sees them (one query; two
    with the product's own formula, which may read its custom fields). ``formula``: as if the
    product used this formula of its own (a preview)."""
    framework = product.scoring_framework if formula is None else scoring.CUSTOM
    drivers: tuple[scoring.Driver, ...] = ()
    fields: tuple[scoring.CustomField, ...] = ()
    if framework == scoring.CUSTOM:
        fields = tuple(
            scoring.CustomField(id=pk, key=key)
            for pk, key in CustomField.objects.filter(product=product).values_list("pk", "key")
        )
    if framework in (scoring.WEIGHTED, scoring.CUSTOM):
        drivers = tuple(scoring_driver(d) for d in ScoringDriver.objects.filter(product=product))
    return scoring.ScoringConfig(
        framework=framework,
        reach_source=product.reach_source,
        divide_by_effort=product.weighted_divide_by_effort,
        drivers=drivers,
        formula=product.scoring_formula if formula is None else formula,
        formula_version=product.scoring_formula_version,
        fields=fields,
    )


def customer_key(prefix: str = ""):
    """Who an insight comes from, so that one customer counts once: its company (``#<id>``),
    else the customer it names, case- and space-insensitively (``=acme``). ``prefix``: the path
    from the queried model to the insight (``"insight__"``)."""
    return Case(
        When(
            **{f"{prefix}company_id__isnull": False},
            then=Concat(Value("#"), Cast(f"{prefix}company_id", CharField())),
        ),
        default=Concat(Value("="), Lower(Trim(f"{prefix}customer"))),
        output_field=CharField(),
    )


def _revenue_at_stake(companies) -> Subquery:
    """Σ annual revenue of the distinct customers whose ids ``companies`` selects (one row)."""
    return Subquery(
        Customer.objects.filter(pk__in=companies)
        .order_by()
        .annotate(total=Func("annual_revenue", function="SUM", output_field=DecimalField()))
        .values("total")[:1],
        output_field=DecimalField(),
    )


def feature_scoring_inputs(*, feature: Feature, config: scoring.ScoringConfig):
    """A feature's inputs, with the evidence counts its product's scoring reads."""
    insight_customers = portal_customers = persona_segment_size = 0
    revenue_at_stake = 0.0
    if config.uses_evidence:
        linked = Insight.objects.filter(features=feature).order_by()
        counts = linked.aggregate(
            n=Count(customer_key(), distinct=True),
            portal=Count(customer_key(), distinct=True, filter=Q(source=InsightSource.PORTAL)),
        )
        insight_customers, portal_customers = counts["n"] or 0, counts["portal"] or 0
        revenue = Customer.objects.filter(
            pk__in=linked.filter(company__isnull=False).values("company_id")
        ).aggregate(total=Sum("annual_revenue"))["total"]
        revenue_at_stake = float(revenue or 0)
    reads = config.definition.formula.variables()
    if (config.reach_source == scoring.PERSONAS and config.framework == scoring.RICE) or (
        config.framework == scoring.CUSTOM and "segment_size" in reads
    ):
        persona_segment_size = (
            Persona.objects.filter(features=feature).aggregate(n=Sum("segment_size"))["n"] or 0
        )
    driver_scores = {}
    if config.framework == scoring.WEIGHTED or config.custom_drivers:
        driver_scores = dict(
            FeatureDriverScore.objects.filter(feature=feature).values_list("driver_id", "score")
        )
    field_values = {}
    if config.custom_fields:
        field_values = {
            value.field_id: float(value.number)
            for value in FeatureFieldValue.objects.filter(
                feature=feature, field_id__in=[f.id for f in config.custom_fields]
            ).select_related("choice")
        }
    return scoring.FeatureInputs(
        **{name: getattr(feature, name) for name in _PLAIN_INPUTS},
        driver_scores=driver_scores,
        field_values=field_values,
        insight_customers=insight_customers,
        portal_customers=portal_customers,
        revenue_at_stake=revenue_at_stake,
        persona_segment_size=persona_segment_size,
    )


# The features' own input fields (every framework's, and any a product's formula may read).
_PLAIN_INPUTS = scoring.FEATURE_INPUTS
SCORING_INPUT_FIELDS = _PLAIN_INPUTS


def feature_score(*, feature: Feature, rerank: bool = True) -> scoring.Evaluation:
    """Score one feature in Python, store it, and (unless ``rerank`` is False, for a caller that
    re-ranks itself) move it to its place in its product's ranking (``feature_rerank``).

    Used on every save of a feature, so the PM sees the new score and rank at once.
    """
    config = product_scoring_config(product=feature.product)
    evaluation = scoring.evaluate(config, feature_scoring_inputs(feature=feature, config=config))
    now = timezone.now()
    Feature.objects.filter(pk=feature.pk).update(
        score=evaluation.score, score_breakdown=evaluation.breakdown, scored_at=now
    )
    feature.score, feature.score_breakdown, feature.scored_at = (
        evaluation.score,
        evaluation.breakdown,
        now,
    )
    if rerank:
        feature.rank = feature_rerank(product_id=feature.product_id, feature_id=feature.pk)
    return evaluation


def _sql_evidence(config: scoring.ScoringConfig):
    links = Insight.features.through.objects.filter(feature_id=OuterRef("pk")).order_by()

    def distinct_customers(**condition):
        return Coalesce(
            Subquery(
                # django-stubs loses the annotation `n` after .values().
                links.filter(**condition)  # type: ignore[misc]
                .values("feature_id")
                .annotate(n=Count(customer_key("insight__"), distinct=True))
                .values("n")[:1],
                output_field=IntegerField(),
            ),
            Value(0),
        )

    insight_customers = distinct_customers()
    portal_customers = distinct_customers(insight__source=InsightSource.PORTAL)
    revenue_at_stake = Coalesce(
        _revenue_at_stake(
            Insight.features.through.objects.filter(
                feature_id=OuterRef(OuterRef("pk")), insight__company__isnull=False
            ).values("insight__company_id")
        ),
        Value(0),
        output_field=DecimalField(),
    )
    persona_segment_size = Coalesce(
        Subquery(
            # django-stubs loses the annotation `n` after .values().
            Feature.personas.through.objects.filter(feature_id=OuterRef("pk"))  # type: ignore[misc]
            .order_by()
            .values("feature_id")
            .annotate(n=Sum("persona__segment_size"))
            .values("n")[:1],
            output_field=IntegerField(),
        ),
        Value(0),
    )
    # The manual drivers' weighted sum, NULL unless each of them is scored (evidence-fed
    # drivers are scored by the formula from the evidence, not from rows).
    manual = [d.id for d in config.drivers if not d.from_evidence]
    manual_total = Subquery(
        FeatureDriverScore.objects.filter(feature_id=OuterRef("pk"), driver_id__in=manual)
        .order_by()
        .values("feature_id")
        .annotate(
            n=Count("id"),
            total=Sum(
                Cast("score", FloatField()) * Cast("driver__weight", FloatField()),
                output_field=FloatField(),
            ),
        )
        .filter(n=len(manual))
        .values("total")[:1],
        output_field=FloatField(),
    )
    # Each hand-scored driver a product's own formula reads: its score, NULL where there is none.
    driver_scores = {
        d.id: Subquery(
            FeatureDriverScore.objects.filter(feature_id=OuterRef("pk"), driver_id=d.id).values(
                "score"
            )[:1],
            output_field=IntegerField(),
        )
        for d in config.custom_drivers
        if not d.from_evidence
    }
    # Each custom field a product's own formula reads: its number (a choice's value), NULL where
    # the feature has none.
    field_values = {
        f.id: Subquery(
            FeatureFieldValue.objects.filter(feature_id=OuterRef("pk"), field_id=f.id)
            .annotate(amount=Coalesce("value", "choice__value"))
            .values("amount")[:1],
            output_field=DecimalField(),
        )
        for f in config.custom_fields
    }
    return {
        "driver_scores": driver_scores,
        "field_values": field_values,
        "insight_customers": insight_customers,
        "portal_customers": portal_customers,
        "revenue_at_stake": revenue_at_stake,
        "persona_segment_size": persona_segment_size,
        "manual_drivers_total": manual_total if manual else Value(0.0, output_field=FloatField()),
    }


def product_recompute_scores(*, product_id: int) -> int:
    """Recompute every feature score of a product in one UPDATE, then re-rank. Idempotent.

    Returns the number of features scored; 0 when the product no longer exists.
    """
    product = Product.objects.filter(pk=product_id).first()
    if product is None:
        return 0
    started = timezone.now()
    # Unqueue before reading: a trigger that lands during the run enqueues another run, and its
    # request time (after ``started``) keeps the product stale until that run completes.
    Product.objects.filter(pk=product_id).update(score_recompute_queued=False)
    config = product_scoring_config(product=product)
    evidence = _sql_evidence(config)
    inputs = scoring.sql_inputs(config, **evidence)
    score = scoring.score_sql(config, inputs)
    with transaction.atomic():
        product_lock(product_id=product_id)
        count = Feature.objects.filter(product_id=product_id).update(
            score=score,
            score_breakdown=scoring.breakdown_sql(
                config, inputs, score, scoring.evidence_sql(config, **evidence)
            ),
            scored_at=Now(),
        )
        product_rerank(product_id=product_id)
        Product.objects.filter(pk=product_id).update(scores_computed_at=started)
    return count


def product_rerank(*, product_id: int) -> None:
    """Number the product's open features by the ranking order in one statement.

    Closed features (shipped, archived) get no rank. Ties: the product's tie-break, then the
    oldest feature first, then the lowest id.
    """
    product = (
        Product.objects.filter(pk=product_id).values("tie_break", "workspace_id", "slug").first()
    )
    if product is None:
        return
    tie_break = product["tie_break"]
    hooked, on_roadmap = _rank_listeners(
        product_id=product_id, workspace_id=product["workspace_id"]
    )
    before = dict(on_roadmap.values_list("pk", "rank")) if on_roadmap is not None else {}
    ordered = (
        Feature.objects.filter(product_id=product_id)
        .exclude(status__in=scoring.CLOSED_STATUSES)
        .annotate(
            new_rank=Window(
                RowNumber(),
                order_by=[
                    F("score").desc(nulls_last=True),
                    scoring.tie_break_sql(tie_break).asc(),
                    F("created_at").asc(),
                    F("id").asc(),
                ],
            )
        )
        .order_by()
    )
    ranked = ordered.values("id", "new_rank")
    sql, params = ranked.query.sql_with_params()
    table = connection.ops.quote_name(Feature._meta.db_table)
    # Read before the UPDATE below, which overwrites the old ranks.
    movers = _rank_movers(ordered=ordered, product_id=product_id) if hooked else None
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET rank = ranked.new_rank FROM ({sql}) AS ranked "
            f"WHERE {table}.id = ranked.id "
            f"AND ({table}.rank IS NULL OR {table}.rank <> ranked.new_rank)",
            params,
        )
    Feature.objects.filter(
        product_id=product_id, status__in=scoring.CLOSED_STATUSES, rank__isnull=False
    ).update(rank=None)
    if on_roadmap is not None:
        from roadmap.events import ranks_record_changes

        after = dict(on_roadmap.values_list("pk", "rank"))
        ranks_record_changes(product_id=product_id, before=before, after=after)
    if movers is not None and movers[1]:
        from roadmap.events import priority_changed_emit

        priority_changed_emit(
            product_id=product_id,
            product_slug=product["slug"],
            workspace_id=product["workspace_id"],
            changes=movers[0],
            count=movers[1],
        )


def feature_rerank(
    *,
    product_id: int,
    feature_id: int,
    locked: Mapping[str, Any] | None = None,
    endpoints: Iterable[Any] | None = None,
) -> int | None:
    """Move one feature to its place in its product's ranking, when only its own place may have
    changed (its score, status or tie-break field): O(ranks that moved), not O(features).

    Every other open feature's rank is already right (every write re-ranks, under the product's
    lock), so the feature's new rank is found by walking the (product, rank) index from its old
    rank (from the bottom when it enters the ranking) to the first neighbour that stays on its
    side of it; the ranks in between shift by one in one UPDATE. The ranks are those
    ``product_rerank`` would give (a test replays random edits against it); roadmap change
    events and ``priority.changed`` likewise. A fixed number of queries. Returns the feature's
    new rank (None when it is closed). Caller holds the product's lock; ``locked``, what
    ``product_lock`` returned, and ``endpoints``, the workspace's active webhook endpoints
    (``events.webhook_endpoints_active``), spare a query each when the caller has them.
    """
    product = locked or (
        Product.objects.filter(pk=product_id).values("tie_break", "workspace_id", "slug").first()
    )
    if product is None:
        return None
    table = connection.ops.quote_name(Feature._meta.db_table)
    tie_sql, tie_params = _compiled(scoring.tie_break_sql(product["tie_break"]))
    # The row of the table (unaliased: the tie-break names its columns by the table) ranks before
    # the feature f: the ranking order as one row comparison, the score pair swapped (descending).
    ahead = (
        f"({table}.score IS NULL, COALESCE(f.score, 0), {tie_sql}, {table}.created_at, "
        f"{table}.id) < (f.score IS NULL, COALESCE({table}.score, 0), f.tie, f.created_at, f.id)"
    )
    closed = ", ".join(["%s"] * len(scoring.CLOSED_STATUSES))
    # Each walk is a scan of the (product, rank) index from the old rank, up or down, that stops at
    # the first row it keeps (a test checks the plan on PostgreSQL).
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH f AS (SELECT id, rank, status IN ({closed}) AS closed, score, {tie_sql} AS tie, "
            f"created_at FROM {table} WHERE id = %s AND product_id = %s) "
            f"SELECT f.rank, f.closed, "
            # The nearest feature above that stays ahead (from the bottom when f is unranked).
            f"(SELECT {table}.rank FROM {table} WHERE {table}.product_id = %s "
            f"AND {table}.rank < COALESCE(f.rank, 2147483647) AND {ahead} "
            f"ORDER BY {table}.rank DESC LIMIT 1), "
            # The nearest feature below that stays behind.
            f"(SELECT {table}.rank FROM {table} WHERE {table}.product_id = %s "
            f"AND {table}.rank > f.rank AND NOT {ahead} "
            f"ORDER BY {table}.rank LIMIT 1), "
            f"(SELECT {table}.rank FROM {table} WHERE {table}.product_id = %s "
            f"AND {table}.rank IS NOT NULL ORDER BY {table}.rank DESC LIMIT 1) "
            f"FROM f",
            [
                *scoring.CLOSED_STATUSES,
                *tie_params,
                feature_id,
                product_id,
                product_id,
                *tie_params,
                product_id,
                *tie_params,
                product_id,
            ],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    old, is_closed, above, below, last = row
    last = last or 0
    new: int | None
    if is_closed:
        new = None
    elif old is None or (above or 0) < old - 1:
        new = (above or 0) + 1
    elif below is not None:
        new = below - 1
    else:
        new = last
    # The ranks that shift by one: (low, high) inclusive. Nothing moved or not, the same queries
    # run (a fixed number per edit).
    if new == old:
        low, high, shift = 1, 0, 0
    elif old is None:
        assert new is not None
        low, high, shift = new, last, 1
    elif new is None:
        low, high, shift = old + 1, last, -1
    elif new < old:
        low, high, shift = new, old - 1, 1
    else:
        low, high, shift = old + 1, new, -1

    hooked, on_roadmap = _rank_listeners(
        product_id=product_id, workspace_id=product["workspace_id"], endpoints=endpoints
    )
    before: dict[int, int | None] = {}
    if on_roadmap is not None:
        before = dict(
            on_roadmap.filter(Q(pk=feature_id) | Q(rank__gte=low, rank__lte=high)).values_list(
                "pk", "rank"
            )
        )
    shifted: list[tuple[int, int]] = []
    if hooked:
        # The largest moves: the feature's, then the shifted ones (one rank each) in rank order.
        rows = (
            Feature.objects.filter(product_id=product_id, rank__gte=low, rank__lte=high)
            .order_by("rank")
            .values_list("pk", "rank")[:PRIORITY_CHANGED_LISTED]
        )
        shifted = [(pk, rank) for pk, rank in rows if rank is not None]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET rank = CASE WHEN id = %s THEN %s ELSE rank + %s END "
            f"WHERE product_id = %s "
            f"AND (id = %s AND rank IS DISTINCT FROM %s OR rank BETWEEN %s AND %s)",
            [feature_id, new, shift, product_id, feature_id, new, low, high],
        )
    if on_roadmap is not None:
        from roadmap.events import ranks_record_changes

        after = {
            pk: new if pk == feature_id else rank + shift  # type: ignore[operator]
            for pk, rank in before.items()
        }
        ranks_record_changes(product_id=product_id, before=before, after=after)
    moved = max(high - low + 1, 0) + (new != old)
    if hooked and moved:
        from roadmap.events import priority_changed_emit

        moves = [
            {"feature_id": feature_id, "old_rank": old, "new_rank": new},
            *(
                {"feature_id": pk, "old_rank": rank, "new_rank": rank + shift}
                for pk, rank in shifted
            ),
        ]
        moves.sort(key=_move_order)
        priority_changed_emit(
            product_id=product_id,
            product_slug=product["slug"],
            workspace_id=product["workspace_id"],
            changes=moves[:PRIORITY_CHANGED_LISTED],
            count=moved,
            endpoints=endpoints,
        )
    return new


def _move_order(move: dict[str, int | None]) -> tuple:
    """The order in which ``_rank_movers`` lists moves: entering or leaving the ranking first,
    then the farthest, then by rank, then by id."""
    old, new = move["old_rank"], move["new_rank"]
    if old is None or new is None:
        return (0, 0, old if new is None else new, move["feature_id"])
    return (1, -abs(new - old), new, move["feature_id"])


def _compiled(expression) -> tuple[str, list]:
    """SQL and parameters of an expression over the features table (columns named by table)."""
    query = Feature.objects.all().query
    compiler = query.get_compiler(connection=connection)
    sql, params = compiler.compile(expression.resolve_expression(query))
    return sql, list(params)


def _rank_listeners(*, product_id: int, workspace_id: int, endpoints=None):
    """Who listens to the product's rank changes: whether a webhook wants ``priority.changed``
    (of ``endpoints``, the workspace's active ones, when the caller has read them), and the
    features on the roadmap (their items' change events feed digests and feeds), or None when
    the roadmap holds none."""
    from roadmap.events import webhook_endpoints_active
    from roadmap.models import RoadmapItem

    if endpoints is None:
        endpoints = webhook_endpoints_active(workspace_id=workspace_id)
    hooked = any("priority.changed" in e.events for e in endpoints)
    on_roadmap = None
    if RoadmapItem.objects.filter(product_id=product_id, feature__isnull=False).exists():
        on_roadmap = Feature.objects.filter(
            product_id=product_id, roadmap_item__isnull=False
        ).order_by()
    return hooked, on_roadmap


# How many moves a ``priority.changed`` webhook lists; the API's priorities endpoint has the rest.
PRIORITY_CHANGED_LISTED = 50


def _rank_movers(*, ordered, product_id: int) -> tuple[list[dict[str, int | None]], int]:
    """The rank moves the re-rank about to run will make: the PRIORITY_CHANGED_LISTED largest
    (a feature entering or leaving the ranking first, then by distance moved) and how many
    there are in all. One query, chosen by the database: memory stays flat in the product's
    size. ``ordered``: the open features annotated with ``new_rank``; call before writing it."""
    moving_sql, moving_params = ordered.values("id", "rank", "new_rank").query.sql_with_params()
    closing_sql, closing_params = (
        Feature.objects.filter(
            product_id=product_id, status__in=scoring.CLOSED_STATUSES, rank__isnull=False
        )
        .order_by()
        .values("id", "rank")
        .query.sql_with_params()
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT moved.id, moved.old_rank, moved.new_rank, COUNT(*) OVER () FROM ("
            f"SELECT m.id, m.rank AS old_rank, m.new_rank FROM ({moving_sql}) AS m "
            "WHERE m.rank IS NULL OR m.rank <> m.new_rank "
            f"UNION ALL SELECT c.id, c.rank, NULL FROM ({closing_sql}) AS c"
            ") AS moved ORDER BY "
            "CASE WHEN moved.old_rank IS NULL OR moved.new_rank IS NULL THEN 0 ELSE 1 END, "
            "ABS(moved.new_rank - moved.old_rank) DESC, "
            "COALESCE(moved.new_rank, moved.old_rank), moved.id "
            "LIMIT %s",
            [*moving_params, *closing_params, PRIORITY_CHANGED_LISTED],
        )
        rows = cursor.fetchall()
    changes = [{"feature_id": pk, "old_rank": old, "new_rank": new} for pk, old, new, _ in rows]
    return changes, rows[0][3] if rows else 0


def product_request_recompute(*, product_id: int) -> bool:
    """Mark a product's scores stale and enqueue one recompute after the transaction commits.

    Bursts collapse: while a run is queued, further requests only move the request time.
    Returns whether a new run was enqueued. If the broker is unreachable the product stays
    stale and the periodic sweeper (``recompute_pending_products``) picks it up later.
    """
    Product.objects.filter(pk=product_id).update(score_recompute_requested_at=timezone.now())
    queued = Product.objects.filter(pk=product_id, score_recompute_queued=False).update(
        score_recompute_queued=True
    )
    if not queued:
        return False
    # A one-second countdown lets a burst of edits land before the run starts.
    enqueue_on_commit("roadmap.tasks.recompute_product", product_id, countdown=1)
    return True


def ranks_snapshot(*, taken_on: date) -> int:
    """Copy every ranked feature's rank and score into the day's snapshot. Idempotent per day."""
    snapshot_table = connection.ops.quote_name(FeatureRankSnapshot._meta.db_table)
    feature_table = connection.ops.quote_name(Feature._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {snapshot_table} (feature_id, taken_on, rank, score) "
            f"SELECT id, %s, rank, score FROM {feature_table} WHERE rank IS NOT NULL "
            f"ON CONFLICT (feature_id, taken_on) DO UPDATE SET rank = excluded.rank, "
            f"score = excluded.score",
            [taken_on],
        )
        return cursor.rowcount
