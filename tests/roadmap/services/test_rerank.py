"""Moving one feature re-ranks only the ranks between its old and new place, and gives the same
ranks, roadmap events and ``priority.changed`` webhook as re-ranking the whole product."""

import random
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from roadmap.models import ChangeEvent, Feature, Product, WebhookDelivery, WebhookEndpoint
from roadmap.planning.services.features import feature_create, feature_update
from roadmap.planning.services.scoring import feature_rerank, product_rerank
from tests import factories as f

# Inputs under which a RICE score is the reach.
RICE = {"impact": Decimal("1"), "confidence": 100, "effort": Decimal("1")}
STATUSES = ("idea", "discovery", "planned", "in_progress", "shipped", "archived")
MOSCOW = ("must", "should", "could", "wont", "")
REACHES = (None, 0, 1, 2, 3, 5, 8)  # few values: many ties, unscored features among them


def _ranks(product) -> dict[int, int | None]:
    return dict(Feature.objects.filter(product=product).values_list("pk", "rank"))


@pytest.mark.parametrize("tie_break", ["moscow", "none"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_edits_rank_as_a_full_rerank_would(product, editor, tie_break, seed):
    Product.objects.filter(pk=product.pk).update(tie_break=tie_break)
    product.refresh_from_db()
    rng = random.Random(seed)
    features = [
        feature_create(
            product=product,
            title=f"F{i}",
            reach=rng.choice(REACHES),
            moscow=rng.choice(MOSCOW),
            **RICE,
        )
        for i in range(12)
    ]
    moves = set()
    for step in range(70):
        action = rng.choice(("reach", "reach", "status", "moscow", "create"))
        if action == "create":
            features.append(
                feature_create(
                    product=product,
                    title=f"New {step}",
                    reach=rng.choice(REACHES),
                    status=rng.choice(STATUSES),
                    moscow=rng.choice(MOSCOW),
                    **RICE,
                )
            )
        else:
            feature = Feature.objects.select_related("product").get(pk=rng.choice(features).pk)
            value = {"reach": REACHES, "status": STATUSES, "moscow": MOSCOW}[action]
            feature_update(feature=feature, data={action: rng.choice(value)}, actor=editor)
        windowed = _ranks(product)
        product_rerank(product_id=product.pk)
        assert _ranks(product) == windowed, (seed, step, action)
        ranked = sorted(r for r in windowed.values() if r is not None)
        assert ranked == list(range(1, len(ranked) + 1))
        moves.add(action)
    assert moves == {"reach", "status", "moscow", "create"}


def _effects(product, run) -> tuple:
    """What ``run`` writes: ranks, roadmap events and the priority.changed payload; undone."""
    with transaction.atomic():
        run()
        ranks = _ranks(product)
        events = sorted(
            (e.item_id, e.kind, e.before.get("rank"))
            for e in ChangeEvent.objects.filter(product=product)
        )
        payloads = [d.payload for d in WebhookDelivery.objects.filter(event="priority.changed")]
        transaction.set_rollback(True)
    # The webhook's data; its envelope (ids, times) differs from run to run.
    return ranks, events, [payload["data"] for payload in payloads]


@pytest.mark.parametrize(
    ("score", "status"),
    [
        (1000.0, "idea"),  # to the top: 61 ranks move, more than the webhook lists
        (30.5, "idea"),  # up a few
        (10.0, "idea"),  # a tie with the feature ranked at 50, down
        (None, "idea"),  # unscored: to the bottom
        (40.0, "shipped"),  # leaves the ranking
        (40.0, "planned"),  # nothing moves
    ],
)
def test_one_move_has_the_effects_of_a_full_rerank(product, workspace, score, status):
    WebhookEndpoint.objects.create(
        workspace=workspace, url="https://example.com/hook", events=["priority.changed"]
    )
    features = [
        feature_create(product=product, title=f"F{i}", reach=60 - i, **RICE) for i in range(60)
    ]
    for feature in features[::4]:
        f.RoadmapItemFactory(product=product, feature=feature, horizon="now")
    archived = feature_create(product=product, title="Back", reach=31, status="archived", **RICE)
    ChangeEvent.objects.filter(product=product).delete()
    WebhookDelivery.objects.all().delete()
    moved = features[20]
    Feature.objects.filter(pk=moved.pk).update(score=score, status=status)

    full = _effects(product, lambda: product_rerank(product_id=product.pk))
    windowed = _effects(product, lambda: feature_rerank(product_id=product.pk, feature_id=moved.pk))
    assert windowed == full
    product_rerank(product_id=product.pk)

    # A closed feature coming back enters the ranking where it belongs.
    Feature.objects.filter(pk=archived.pk).update(status="idea")
    full = _effects(product, lambda: product_rerank(product_id=product.pk))
    windowed = _effects(
        product, lambda: feature_rerank(product_id=product.pk, feature_id=archived.pk)
    )
    assert windowed == full
    assert windowed[0][archived.pk] is not None


def _ranked_product(workspace, size: int):
    """A product of ``size`` ranked features (reach = size - i: rank i + 1), written directly."""
    product = f.ProductFactory(workspace=workspace)
    Feature.objects.bulk_create(
        Feature(
            product=product,
            title=f"F{i}",
            reach=size - i,
            score=float(size - i),
            rank=i + 1,
            **RICE,
        )
        for i in range(size)
    )
    return product


def test_a_small_move_costs_the_same_queries_at_two_sizes(workspace, editor):
    WebhookEndpoint.objects.create(
        workspace=workspace, url="https://example.com/hook", events=["priority.changed"]
    )

    def edit(size: int) -> tuple[int, dict[int, int]]:
        product = _ranked_product(workspace, size)
        feature = Feature.objects.select_related("product").get(product=product, rank=20)
        f.RoadmapItemFactory(product=product, feature=feature, horizon="now")
        with CaptureQueriesContext(connection) as captured:
            # Four ranks up: the reach of the feature at rank 15, which, older, stays ahead.
            feature_update(feature=feature, data={"reach": size - 19 + 5}, actor=editor)
        moved = {
            pk: rank
            for pk, rank in Feature.objects.filter(product=product, rank__lte=25).values_list(
                "pk", "rank"
            )
        }
        assert moved[feature.pk] == 16
        assert sorted(moved.values()) == list(range(1, 26))
        return len(captured), moved

    small, _ = edit(40)
    large, _ = edit(2000)
    assert small == large <= 22


@pytest.mark.skipif(connection.vendor != "postgresql", reason="plan shape on PostgreSQL")
def test_the_new_place_is_found_by_walking_the_product_rank_index(workspace):
    _ranked_product(f.WorkspaceFactory(), 5000)  # another tenant as large
    product = _ranked_product(workspace, 5000)
    feature = Feature.objects.get(product=product, rank=2500)
    Feature.objects.filter(pk=feature.pk).update(score=2510.5)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE roadmap_feature")
    with CaptureQueriesContext(connection) as captured:
        assert feature_rerank(product_id=product.pk, feature_id=feature.pk) == 2491
    (position,) = [q["sql"] for q in captured if q["sql"].startswith("WITH f AS")]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {position}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "feature_product_rank" in plan, plan
    assert "Seq Scan on roadmap_feature" not in plan, plan
    (update,) = [q["sql"] for q in captured if q["sql"].startswith("UPDATE")]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {update}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Seq Scan on roadmap_feature" not in plan, plan
