"""The features list (``GET /api/v1/features/``) is written by hand
(``serializers.features_representation``): it must write what ``FeatureSerializer`` writes, to
the byte, for every kind of value a feature can hold."""

import json
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from roadmap.models import Feature
from roadmap.planning.api import serializers, views
from roadmap.planning.services.scoring import product_recompute_scores
from tests import factories as f


@pytest.fixture
def varied(product, editor, workspace):
    """Features covering every case the list writes: custom fields of each kind set, cleared and
    false; tags and personas (named against their ids' order); an owner and none; a placement
    with a release and lane, one with neither, and none; each impact; decimals set and null; a
    scored feature and an unscored one; insight links; and a feature of another product scored
    with another framework."""
    f.custom_fields(product)
    high, middle, low = f.features_with_field_values(product)
    zebra, alpha = f.TagFactory(product=product, name="zebra"), f.TagFactory(product=product)
    upper = f.TagFactory(product=product, name="Mobile")
    high.tags.set([zebra, alpha, upper])
    middle.tags.set([zebra])
    later, earlier = (
        f.PersonaFactory(product=product, name="Zoe"),
        f.PersonaFactory(product=product, name="Al"),
    )
    high.personas.set([later, earlier])
    Feature.objects.filter(pk=high.pk).update(
        owner=editor,
        impact=Decimal("0.25"),
        expected_revenue=Decimal("12500.5"),
        cost=Decimal("3"),
        effort=Decimal("0.5"),
        moscow="must",
        kano="delighter",
        market_position="parity",
        description="Multi\nline — ünïcode",
    )
    Feature.objects.filter(pk=middle.pk).update(impact=Decimal("3"), expected_revenue=0)
    unscored = f.FeatureFactory(product=product, title="Unscored", effort=None, impact=None)
    product_recompute_scores(product_id=product.pk)
    release = f.ReleaseFactory(product=product)
    lane = f.LaneFactory(product=product)
    f.RoadmapItemFactory(product=product, feature=high, horizon="now", release=release, lane=lane)
    f.RoadmapItemFactory(product=product, feature=middle, horizon="later")
    for customer in ("Acme", "Globex"):
        f.InsightFactory(product=product, customer=customer).features.add(high)
    f.InsightFactory(product=product).features.add(low)
    other = f.ProductFactory(workspace=workspace, scoring_framework="ice")
    f.FeatureFactory(product=other, impact_ice=3, confidence_ice=5, ease=7)
    product_recompute_scores(product_id=other.pk)
    return high, middle, low, unscored


def _by_drf(results, *, shares):
    """What FeatureSerializer writes of the features of ``results``, in their order, as the
    detail reads them (the viewset's queryset, its prefetches)."""
    ids = [row["id"] for row in results]
    features = {feature.pk: feature for feature in views.FeatureViewSet.queryset.filter(pk__in=ids)}
    return serializers.FeatureSerializer(
        [features[pk] for pk in ids], many=True, context={"shares": shares}
    ).data


@pytest.mark.parametrize("query", ["", "&shares=true", "&shares=false", "&product=PRODUCT"])
def test_the_list_written_by_hand_is_the_serializers_to_the_byte(read_api, product, varied, query):
    # when: the list is read (every product's, or the one's), with or without shares
    response = read_api.get(
        f"/api/v1/features/?page_size=200{query.replace('PRODUCT', product.slug)}"
    )

    # then: each row is what the serializer writes: the same keys in the same order, the same
    # values of the same types (a float is no int, a decimal a string), the same JSON
    assert response.status_code == 200, response.content
    results = response.data["results"]
    assert len(results) == (5 if "product" not in query else 4)
    by_drf = _by_drf(results, shares="shares=true" in query)
    assert results == by_drf
    assert [list(row) for row in results] == [list(row) for row in by_drf]
    assert json.dumps(results) == json.dumps(by_drf)


def test_the_rows_hold_every_case(read_api, product, varied, editor):
    high, middle, low, unscored = varied

    body = read_api.get(f"/api/v1/features/?product={product.slug}&shares=true").json()

    rows = {row["id"]: row for row in body["results"]}
    top = rows[high.pk]
    assert top["tags"][0] == "Mobile" and top["tags"][-1] == "zebra" and len(top["tags"]) == 3
    assert len(top["personas"]) == 2
    assert top["owner"] == editor.email
    assert top["expected_revenue"] == "12500.50" and top["cost"] == "3.00"
    assert top["impact"] == 0.25 and top["effort"] == "0.50"
    assert top["custom_fields"] == {"segment": "Enterprise", "urgent": True, "deal_size": 12500.5}
    assert top["placement"]["horizon"] == "now" and top["placement"]["release"]
    assert top["insight_count"] == 2
    assert top["score_breakdown"]["shares"]
    assert rows[middle.pk]["custom_fields"]["urgent"] is False
    assert rows[middle.pk]["placement"]["release"] is None
    assert rows[middle.pk]["expected_revenue"] == "0.00" and rows[middle.pk]["cost"] is None
    assert rows[low.pk]["custom_fields"] == {} and rows[low.pk]["placement"] is None
    assert rows[low.pk]["owner"] is None and rows[low.pk]["insight_count"] == 1
    assert rows[unscored.pk]["score"] is None and rows[unscored.pk]["missing_inputs"]


def test_datetimes_are_written_in_the_current_timezone(read_api, product, varied):
    with timezone.override("America/New_York"):
        results = read_api.get("/api/v1/features/").data["results"]
        by_drf = _by_drf(results, shares=False)

    assert results[0]["created_at"].endswith("-05:00") or results[0]["created_at"].endswith(
        "-04:00"
    )
    assert json.dumps(results) == json.dumps(by_drf)


def test_the_list_reads_its_related_rows_once_whatever_the_page_holds(
    read_api, product, varied, django_assert_num_queries
):
    # given: the list read once (the token's first use is recorded)
    url = f"/api/v1/features/?product={product.slug}"
    read_api.get(url)

    # when / then: the token, the product's id, the count, the rows, then the page's tags,
    # personas and custom-field values, each once, by feature id, of the features having any
    high, middle, low, unscored = varied
    with django_assert_num_queries(7) as few:
        assert len(read_api.get(url).data["results"]) == 4
    related = [q["sql"] for q in few.captured_queries[-3:]]
    assert all("feature_id" in sql and " IN (" in sql for sql in related), related
    asked = [
        {int(pk) for pk in re.search(r" IN \(([^)]*)\)", sql).group(1).split(",")}
        for sql in related
    ]
    assert asked == [{high.pk, middle.pk}, {high.pk}, {high.pk, middle.pk}]

    # given: more features, with tags and personas, then: the same queries
    for feature in f.FeatureFactory.create_batch(5, product=product):
        feature.tags.add(f.TagFactory(product=product))
        feature.personas.add(f.PersonaFactory(product=product))
    with django_assert_num_queries(7):
        assert len(read_api.get(url).data["results"]) == 9


def test_a_page_without_related_rows_reads_no_related_table(
    read_api, product, django_assert_num_queries
):
    # given: features without tags, personas or custom-field values; the list read once
    f.FeatureFactory.create_batch(3, product=product)
    url = f"/api/v1/features/?product={product.slug}"
    read_api.get(url)

    # when / then: the token, the product's id, the count and the rows only; the count a plain
    # one, without the joins the rows read their owner's and roadmap item's columns through
    with django_assert_num_queries(4) as queries:
        body = read_api.get(url).json()
    count = queries.captured_queries[2]["sql"]
    assert "COUNT(" in count
    assert "OUTER JOIN" not in count and "roadmapitem" not in count, count
    assert [(r["tags"], r["personas"], r["custom_fields"]) for r in body["results"]] == [
        ([], [], {})
    ] * 3


def test_the_filters_form_is_built_once_and_still_checks_each_request(read_api, product):
    # given: the list asked with good filters, then a bad status
    good = read_api.get(f"/api/v1/features/?product={product.slug}&status=idea")
    bad = read_api.get(f"/api/v1/features/?product={product.slug}&status=nonsense")

    # then: one form class for every request, and each request's values checked by it
    assert good.status_code == 200
    assert bad.status_code == 400 and list(bad.json()) == ["status"]
    first = views.FeatureFilter(queryset=Feature.objects.none()).get_form_class()
    assert views.FeatureFilter(queryset=Feature.objects.none()).get_form_class() is first
