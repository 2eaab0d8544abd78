"""Recomputes through a real Celery worker and real Redis (CI: REQUIRE_SERVICES=1)."""

import threading

import pytest
from django.db import connection, transaction

from roadmap.models import Feature, Product
from roadmap.planning import scoring
from roadmap.planning.services import products as product_services
from roadmap.planning.services.scoring import (
    feature_scoring_inputs,
    product_recompute_scores,
    product_scoring_config,
)
from tests import factories as f
from tests.support import wait_for

pytestmark = pytest.mark.services


def test_switching_framework_reorders_features_through_a_worker(celery_worker_process, workspace):
    # Given a RICE product whose features rank differently under WSJF
    product = f.ProductFactory(workspace=workspace)
    for i in range(30):
        f.FeatureFactory(
            product=product,
            reach=100 * (i + 1),
            business_value=[1, 2, 3, 5, 8, 13, 20][i % 7],
            time_criticality=[20, 13, 8, 5, 3, 2, 1][i % 7],
            risk_reduction=1 + i % 5,
            job_size=[1, 2, 3, 5, 8][i % 5],
        )
    product_recompute_scores(product_id=product.pk)
    rice_order = list(Feature.objects.filter(product=product).values_list("pk", flat=True))

    computed_before = Product.objects.get(pk=product.pk).scores_computed_at

    # When the PM switches the product to WSJF
    with transaction.atomic():
        product_services.product_update(product=product, data={"scoring_framework": "wsjf"})
    assert Product.objects.get(pk=product.pk).scores_stale

    # Then the worker recomputes it within seconds and the scores are no longer stale
    wait_for(lambda: not Product.objects.get(pk=product.pk).scores_stale, timeout=30)
    assert Product.objects.get(pk=product.pk).scores_computed_at > computed_before
    by_worker = list(Feature.objects.filter(product=product).values_list("pk", "score", "rank"))
    assert "recompute_product" in celery_worker_process.log()

    # ...with the same scores and ranks as the synchronous path and as the Python formula
    product_recompute_scores(product_id=product.pk)
    by_sync = list(Feature.objects.filter(product=product).values_list("pk", "score", "rank"))
    assert by_worker == by_sync
    product.refresh_from_db()
    config = product_scoring_config(product=product)
    for feature in Feature.objects.filter(product=product):
        expected = scoring.evaluate(config, feature_scoring_inputs(feature=feature, config=config))
        assert feature.score == pytest.approx(expected.score)
        assert feature.score_breakdown["framework"] == "wsjf"
    assert [pk for pk, _, _ in by_worker] != rice_order


def test_a_concurrent_title_edit_survives_a_recompute(transactional_db, workspace):
    # Given a product and a PM's edit of a title (and an input) that holds the row, uncommitted
    if connection.vendor != "postgresql":
        pytest.fail("needs PostgreSQL row locks")
    product = f.ProductFactory(workspace=workspace)
    feature = f.FeatureFactory(product=product, title="Old title", reach=100)
    others = f.FeatureFactory.create_batch(5, product=product)
    editing = threading.Event()
    release = threading.Event()

    def pm_edit():
        from django.db import connections

        with transaction.atomic():
            Feature.objects.filter(pk=feature.pk).update(title="New title", reach=500)
            editing.set()
            release.wait(10)
        connections.close_all()

    pm = threading.Thread(target=pm_edit)
    pm.start()
    editing.wait(10)

    # When a recompute runs meanwhile (it blocks on the PM's row until the PM commits)
    def run_recompute():
        from django.db import connections

        product_recompute_scores(product_id=product.pk)
        connections.close_all()

    recompute = threading.Thread(target=run_recompute)
    recompute.start()
    recompute.join(0.5)
    assert recompute.is_alive()  # waiting for the row lock, not overwriting
    release.set()
    pm.join(10)
    recompute.join(20)

    # Then the PM's title and input are kept, and the score reflects the committed input
    feature.refresh_from_db()
    assert feature.title == "New title"
    assert feature.reach == 500
    assert feature.score == pytest.approx(500 * 1 * 0.8 / 2)
    assert all(Feature.objects.get(pk=o.pk).score == 40.0 for o in others)


def test_concurrent_edits_of_one_product_do_not_deadlock(transactional_db, workspace):
    # Given a product whose features two PMs edit at the same moment (each edit re-ranks all)
    from roadmap.planning.services.features import feature_update

    product = f.ProductFactory(workspace=workspace)
    features = f.FeatureFactory.create_batch(40, product=product)
    product_recompute_scores(product_id=product.pk)
    errors = []
    start = threading.Barrier(4)

    def edit(feature, reach):
        from django.db import connections

        try:
            start.wait(5)
            for step in range(5):
                feature_update(
                    feature=Feature.objects.get(pk=feature.pk), data={"reach": reach + step}
                )
        except Exception as exc:  # collected: the assertion below names it
            errors.append(exc)
        finally:
            connections.close_all()

    # When four of them save repeatedly in parallel
    threads = [threading.Thread(target=edit, args=(features[i], 1000 * (i + 1))) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    # Then every save succeeded and the ranks are dense and consistent
    assert errors == []
    ranks = sorted(Feature.objects.filter(product=product).values_list("rank", flat=True))
    assert ranks == list(range(1, 41))
    assert Feature.objects.get(pk=features[3].pk).rank == 1
