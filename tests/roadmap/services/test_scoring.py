"""Scores and ranks as stored: the set-based recompute, the per-feature path, and their triggers."""

import random
from decimal import Decimal

import pytest

from roadmap.evidence.services import insight_save
from roadmap.models import Feature, FeatureDriverScore, Product
from roadmap.planning import scoring
from roadmap.planning.services import features as feature_services
from roadmap.planning.services import products as product_services
from roadmap.planning.services.scoring import (
    feature_scoring_inputs,
    product_recompute_scores,
    product_request_recompute,
    product_scoring_config,
    ranks_snapshot,
)
from roadmap.tasks import recompute_pending_products
from tests import factories as f

IMPACTS = [Decimal("0.25"), Decimal("0.50"), Decimal("1.00"), Decimal("2.00"), Decimal("3.00")]


def _random_feature(product, rng, personas):
    maybe = lambda value: None if rng.random() < 0.1 else value  # noqa: E731
    feature = f.FeatureFactory(
        product=product,
        reach=maybe(rng.randint(0, 5000)),
        impact=maybe(rng.choice(IMPACTS)),
        confidence=maybe(rng.randint(0, 100)),
        effort=maybe(Decimal(rng.randint(1, 80)) / 4),
        impact_ice=maybe(rng.randint(1, 10)),
        confidence_ice=maybe(rng.randint(1, 10)),
        ease=maybe(rng.randint(1, 10)),
        business_value=maybe(rng.choice([1, 2, 3, 5, 8, 13, 20])),
        time_criticality=maybe(rng.choice([1, 2, 3, 5, 8, 13, 20])),
        risk_reduction=maybe(rng.choice([1, 2, 3, 5, 8, 13, 20])),
        job_size=maybe(rng.choice([1, 2, 3, 5, 8, 13, 20])),
        value=maybe(rng.randint(1, 10)),
        moscow=rng.choice(["", "must", "should", "could", "wont"]),
    )
    feature.personas.set(rng.sample(personas, rng.randint(0, len(personas))))
    return feature


@pytest.mark.parametrize(
    ("framework", "reach_source", "divide"),
    [
        ("rice", "manual", False),
        ("rice", "insights", False),
        ("rice", "personas", False),
        ("ice", "manual", False),
        ("wsjf", "manual", False),
        ("value_effort", "manual", False),
        ("weighted", "manual", False),
        ("weighted", "manual", True),
    ],
)
def test_sql_recompute_agrees_with_the_python_formula(product, framework, reach_source, divide):
    # Given random features with evidence, personas and driver scores
    rng = random.Random(f"{framework}{reach_source}{divide}")
    personas = [
        f.PersonaFactory(product=product, segment_size=rng.randint(1, 900)) for _ in range(3)
    ]
    drivers = [
        f.ScoringDriverFactory(product=product, weight=Decimal(w)) for w in ("3", "1.5", "1")
    ]
    features = [_random_feature(product, rng, personas) for _ in range(40)]
    for _ in range(30):
        insight = f.InsightFactory(
            product=product, customer=rng.choice(["Acme", "acme", "Globex", "Initech"])
        )
        insight.features.set(rng.sample(features, rng.randint(1, 3)))
    for feature in features:
        for driver in drivers:
            if rng.random() < 0.9:
                FeatureDriverScore.objects.create(
                    feature=feature, driver=driver, score=rng.randint(0, 10)
                )
    Product.objects.filter(pk=product.pk).update(
        scoring_framework=framework, reach_source=reach_source, weighted_divide_by_effort=divide
    )
    product.refresh_from_db()

    # When the database computes every score at once
    assert product_recompute_scores(product_id=product.pk) == 40

    # Then each stored score and breakdown is what Python computes for that feature alone
    config = product_scoring_config(product=product)
    scored = 0
    for feature in Feature.objects.filter(product=product):
        expected = scoring.evaluate(config, feature_scoring_inputs(feature=feature, config=config))
        assert feature.score == pytest.approx(expected.score), feature.pk
        assert feature.score_breakdown["framework"] == expected.breakdown["framework"]
        assert feature.score_breakdown["formula"] == expected.breakdown["formula"]
        for name, term in expected.breakdown["inputs"].items():
            stored = feature.score_breakdown["inputs"][name]
            assert stored["source"] == term["source"]
            assert stored["value"] == pytest.approx(term["value"]), (feature.pk, name)
        scored += expected.score is not None
    assert scored > 10


def test_evidence_reach_counts_distinct_customers_case_insensitively(product):
    # Given a product whose RICE reach comes from evidence
    product_services.product_update(product=product, data={"reach_source": "insights"})
    feature = f.FeatureFactory(
        product=product, reach=5, impact=Decimal("1"), confidence=100, effort=Decimal("1")
    )
    for customer in ("Acme", "ACME", "Globex"):
        f.InsightFactory(product=product, customer=customer).features.add(feature)

    # When the product is recomputed
    product_recompute_scores(product_id=product.pk)

    # Then reach is 2 distinct customers, and the breakdown says where it came from
    feature.refresh_from_db()
    assert feature.score == 2.0
    assert feature.score_breakdown["inputs"]["reach"] == {"value": 2, "source": "insights"}


def test_linking_and_unlinking_an_insight_moves_the_score(
    product, django_capture_on_commit_callbacks
):
    product_services.product_update(product=product, data={"reach_source": "insights"})
    product_recompute_scores(product_id=product.pk)
    feature = f.FeatureFactory(
        product=product, impact=Decimal("1"), confidence=100, effort=Decimal("1")
    )
    insight = f.InsightFactory(product=product, customer="Umbrella")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        insight_save(product=product, data={}, insight=insight, features=[feature])
    feature.refresh_from_db()
    assert len(callbacks) == 1
    assert feature.score == 1.0

    with django_capture_on_commit_callbacks(execute=True):
        insight_save(product=product, data={}, insight=insight, features=[])
    feature.refresh_from_db()
    assert feature.score == 0.0
    assert feature.score_breakdown["inputs"]["reach"]["value"] == 0


def test_editing_an_input_rescores_and_reranks_at_once(product):
    # Given two features, b ahead of a
    a = feature_services.feature_create(
        product=product,
        title="A",
        reach=100,
        impact=Decimal("1"),
        confidence=100,
        effort=Decimal("1"),
    )
    b = feature_services.feature_create(
        product=product,
        title="B",
        reach=200,
        impact=Decimal("1"),
        confidence=100,
        effort=Decimal("1"),
    )
    a.refresh_from_db()
    assert (a.rank, b.rank) == (2, 1)

    # When a's effort is halved... no: its reach tripled
    feature_services.feature_update(feature=a, data={"reach": 300})

    # Then a is scored and ranked first without any recompute of the product
    assert a.score == 300.0
    assert a.rank == 1
    b.refresh_from_db()
    assert b.rank == 2
    assert a.version == 2


def test_rejected_input_changes_nothing(product):
    feature = feature_services.feature_create(
        product=product,
        title="Keep me",
        reach=10,
        impact=Decimal("1"),
        confidence=50,
        effort=Decimal("2"),
    )
    before = Feature.objects.values().get(pk=feature.pk)

    with pytest.raises(Exception) as excinfo:
        feature_services.feature_update(
            feature=feature, data={"title": "Changed", "confidence": 101, "effort": Decimal("0")}
        )

    assert excinfo.value.message_dict == {
        "confidence": ["Confidence is a percentage between 0 and 100."],
        "effort": ["Effort must be greater than 0."],
    }
    assert Feature.objects.values().get(pk=feature.pk) == before


def test_stale_edit_is_refused_with_the_current_version(product):
    feature = feature_services.feature_create(product=product, title="Shared")
    feature_services.feature_update(
        feature=Feature.objects.get(pk=feature.pk), data={"title": "First PM"}
    )

    with pytest.raises(feature_services.ConflictError) as excinfo:
        feature_services.feature_update(
            feature=feature, data={"title": "Second PM"}, expected_version=1
        )

    assert excinfo.value.current.title == "First PM"
    assert Feature.objects.get(pk=feature.pk).title == "First PM"


@pytest.mark.parametrize(
    ("tie_break", "expected"),
    [
        ("moscow", ["must-new", "should-old", "none-old"]),
        ("none", ["should-old", "none-old", "must-new"]),
    ],
)
def test_ties_follow_the_product_tie_break_then_age(product, tie_break, expected):
    Product.objects.filter(pk=product.pk).update(tie_break=tie_break)
    for title, moscow in (("should-old", "should"), ("none-old", ""), ("must-new", "must")):
        f.FeatureFactory(product=product, title=title, moscow=moscow)  # identical inputs: a tie
    f.FeatureFactory(product=product, title="unscored", reach=None)
    f.FeatureFactory(product=product, title="shipped", status="shipped", reach=99999)

    product_recompute_scores(product_id=product.pk)

    ranked = Feature.objects.filter(product=product)  # default order: rank, unranked last
    assert [(x.title, x.rank) for x in ranked] == [
        (expected[0], 1),
        (expected[1], 2),
        (expected[2], 3),
        ("unscored", 4),
        ("shipped", None),
    ]


def test_recompute_query_count_does_not_grow_with_features(product, django_assert_max_num_queries):
    f.FeatureFactory.create_batch(5, product=product)
    with django_assert_max_num_queries(12) as small:
        product_recompute_scores(product_id=product.pk)
    f.FeatureFactory.create_batch(200, product=product)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert product_recompute_scores(product_id=product.pk) == 205


def test_a_burst_of_triggers_collapses_into_one_recompute(
    product, django_capture_on_commit_callbacks
):
    f.FeatureFactory(
        product=product, business_value=8, time_criticality=5, risk_reduction=3, job_size=2
    )

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        product_services.product_update(product=product, data={"scoring_framework": "wsjf"})
        product_services.product_update(product=product, data={"tie_break": "kano"})
        product_request_recompute(product_id=product.pk)

    product.refresh_from_db()
    assert len(callbacks) == 1
    assert product.scores_stale

    callbacks[0]()  # the commit happens: the (in-process) task runs

    product.refresh_from_db()
    assert not product.scores_stale
    assert Feature.objects.get(product=product).score == 8.0


def test_recompute_of_a_deleted_product_does_nothing(db):
    assert product_recompute_scores(product_id=999_999) == 0


def test_sweeper_recomputes_products_left_stale(product):
    from django.utils import timezone

    f.FeatureFactory(product=product)
    Product.objects.filter(pk=product.pk).update(
        score_recompute_requested_at=timezone.now() - timezone.timedelta(minutes=5)
    )

    assert recompute_pending_products() == [product.pk]

    product.refresh_from_db()
    assert not product.scores_stale
    assert Feature.objects.get(product=product).score == 40.0
    assert recompute_pending_products() == []


def test_rank_snapshot_is_idempotent_per_day(product):
    import datetime

    f.FeatureFactory.create_batch(3, product=product)
    f.FeatureFactory(product=product, status="archived")
    product_recompute_scores(product_id=product.pk)
    day = datetime.date(2026, 11, 20)

    ranks_snapshot(taken_on=day)
    ranks_snapshot(taken_on=day)

    from roadmap.models import FeatureRankSnapshot

    assert sorted(
        FeatureRankSnapshot.objects.filter(taken_on=day).values_list("rank", flat=True)
    ) == [1, 2, 3]


def test_recompute_scores_command_reports_counts(product, capsys):
    from django.core.management import call_command

    f.FeatureFactory.create_batch(3, product=product)

    call_command("recompute_scores", "--product", product.slug)

    out = capsys.readouterr().out
    assert f"{product.slug}: scored 3 features in" in out
    assert "Scored 3 features in" in out
