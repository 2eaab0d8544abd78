"""The engineer's path: a token, the priorities, a PATCH that moves a rank, a 304."""

import datetime
import json
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone

from roadmap.models import Feature, FeatureRankSnapshot
from roadmap.planning.api import serializers, views
from roadmap.planning.selectors.priorities import priorities_page
from roadmap.planning.services.scoring import product_recompute_scores
from tests import factories as f


def _features(product, n, **kwargs):
    features = [
        f.FeatureFactory(product=product, title=f"F{i}", reach=100 * (i + 1), **kwargs)
        for i in range(n)
    ]
    product_recompute_scores(product_id=product.pk)
    return features


def test_issue_token_prints_only_the_token(editor, capsys):
    call_command("issue_token", editor.email, "--scope", "write", "--expires-days", "30")

    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert out.startswith("wmk_") and len(out.strip()) > 40


def test_priorities_are_ranked_with_breakdown_and_placement(read_api, product):
    low, high, _ = _features(product, 3)
    release = f.ReleaseFactory(product=product, name="2027.1")
    f.RoadmapItemFactory(product=product, feature=high, horizon="now", release=release)

    response = read_api.get(f"/api/v1/products/{product.slug}/priorities/")

    assert response.status_code == 200
    body = response.json()
    assert body["product"] == product.slug
    assert body["framework"] == "rice"
    assert body["scores_stale"] is False
    assert [r["title"] for r in body["results"]] == ["F2", "F1", "F0"]
    top = body["results"][0]
    assert top["rank"] == 1
    assert top["score"] == 120.0  # 300 × 1 × 0.8 / 2
    assert top["score_breakdown"]["formula"] == "reach × impact × (confidence / 100) / effort"
    assert top["missing_inputs"] == []
    second = body["results"][1]
    assert second["horizon"] == "now"
    assert second["release"] == {"id": release.pk, "name": "2027.1"}


def test_priorities_filters_and_limit(read_api, product):
    features = _features(product, 5)
    features[0].moscow = "must"
    features[0].save()
    persona = f.PersonaFactory(product=product)
    features[1].personas.add(persona)

    by_moscow = read_api.get(f"/api/v1/products/{product.slug}/priorities/?moscow=must").json()
    by_persona = read_api.get(
        f"/api/v1/products/{product.slug}/priorities/?persona={persona.pk}"
    ).json()
    top_two = read_api.get(f"/api/v1/products/{product.slug}/priorities/?limit=2").json()
    bad = read_api.get(f"/api/v1/products/{product.slug}/priorities/?status=nope&limit=0")

    assert [r["title"] for r in by_moscow["results"]] == ["F0"]
    assert [r["title"] for r in by_persona["results"]] == ["F1"]
    assert [r["rank"] for r in top_two["results"]] == [1, 2]
    assert bad.status_code == 400
    assert set(bad.json()) == {"status"}


def test_rank_movement_since_last_week(read_api, product):
    features = _features(product, 3)
    week_ago = timezone.localdate() - datetime.timedelta(days=7)
    FeatureRankSnapshot.objects.create(feature=features[0], taken_on=week_ago, rank=1)

    rows = read_api.get(f"/api/v1/products/{product.slug}/priorities/").json()["results"]

    f0 = next(r for r in rows if r["title"] == "F0")
    assert (f0["rank"], f0["rank_last_week"], f0["rank_change"]) == (3, 1, -2)
    assert next(r for r in rows if r["title"] == "F2")["rank_change"] is None


def test_the_answer_written_by_hand_is_the_serializers_to_the_byte(read_api, product):
    # given: ranked and unscored features, one on the roadmap in a release, one that moved, one
    # with a breakdown of noisy numbers and a MoSCoW and Kano of its own
    features = _features(product, 3, moscow="must", kano="delighter")
    f.FeatureFactory(product=product, title="Unscored", effort=None)
    f.FeatureFactory(
        product=product,
        title="Noisy",
        reach=3,
        impact=Decimal("1"),
        confidence=80,
        effort=Decimal("1"),
    )
    product_recompute_scores(product_id=product.pk)
    Feature.objects.filter(product=product, title="Unscored").update(rank=None)  # not ranked yet
    release = f.ReleaseFactory(product=product, name="2027.1")
    f.RoadmapItemFactory(product=product, feature=features[1], horizon="next", release=release)
    f.RoadmapItemFactory(product=product, feature=features[2], horizon="now")
    FeatureRankSnapshot.objects.create(
        feature=features[0], taken_on=timezone.localdate() - datetime.timedelta(days=7), rank=1
    )
    page = priorities_page(product=product, filters={}, limit=5, shares=True)
    data = {
        "product": product.slug,
        "framework": product.scoring_framework,
        "scores_stale": product.scores_stale,
        "scores_computed_at": product.scores_computed_at,
        "count": len(page.results),
        "next": "http://testserver/next",
        "results": page.results,
    }

    # when: both write the page
    by_hand = serializers.priorities_representation(data)
    by_drf = serializers.PrioritiesSerializer(data).data

    # then: the same keys in the same order, the same values, the same JSON
    assert by_hand == by_drf
    assert json.dumps(by_hand) == json.dumps(by_drf)
    assert [r["title"] for r in by_hand["results"]] == ["F2", "F1", "F0", "Noisy", "Unscored"]
    assert by_hand["results"][3]["score"] == 2.4
    assert by_hand["results"][4]["rank"] is None and by_hand["results"][4]["score"] is None
    assert by_hand["results"][1]["release"] == {"id": release.pk, "name": "2027.1"}
    assert by_hand["results"][2]["rank_change"] == -2


def test_priorities_read_the_token_the_product_and_the_rows_only(
    read_api, product, django_assert_num_queries
):
    # given: a product with scoring drivers, read once (the token's first use is recorded)
    _features(product, 3)
    f.ScoringDriverFactory(product=product)
    url = f"/api/v1/products/{product.slug}/priorities/"
    read_api.get(url)

    # when / then: the token, the product (no drivers: the answer shows none), the ranked rows
    # and the unranked ones (the page is not full)
    with django_assert_num_queries(4) as captured:
        response = read_api.get(url)
    assert response.status_code == 200
    assert not any("scoringdriver" in q["sql"] for q in captured.captured_queries)


def test_patching_effort_changes_the_rank(write_api, product):
    features = _features(product, 3)
    last = features[0]
    assert Feature.objects.get(pk=last.pk).rank == 3

    response = write_api.patch(f"/api/v1/features/{last.pk}/", {"effort": "0.1"}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["rank"] == 1
    assert response.json()["score"] == pytest.approx(100 * 1 * 0.8 / 0.1)
    ranks = write_api.get(f"/api/v1/products/{product.slug}/priorities/").json()["results"]
    assert ranks[0]["id"] == last.pk


def test_repeated_request_answers_304(read_api, product):
    _features(product, 2)
    url = f"/api/v1/products/{product.slug}/priorities/"

    first = read_api.get(url)
    again = read_api.get(url, HTTP_IF_NONE_MATCH=first["ETag"])

    assert first.status_code == 200 and first["ETag"]
    assert again.status_code == 304
    assert again.content == b""


def test_etag_changes_when_the_data_changes(write_api, product):
    features = _features(product, 2)
    url = f"/api/v1/features/{features[0].pk}/"
    etag = write_api.get(url)["ETag"]

    write_api.patch(url, {"title": "Renamed"}, format="json")

    assert write_api.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_priorities_query_count_is_constant(read_api, product, django_assert_max_num_queries):
    _features(product, 10)
    with django_assert_max_num_queries(8) as few:
        read_api.get(f"/api/v1/products/{product.slug}/priorities/?limit=1000")
    f.FeatureFactory.create_batch(200, product=product, effort=Decimal("3"))
    product_recompute_scores(product_id=product.pk)

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = read_api.get(f"/api/v1/products/{product.slug}/priorities/?limit=1000")
    assert response.json()["count"] == 210


def _pages(api, url):
    """Every answer of a paginated list, following ``next`` from ``url``."""
    answers = []
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.content
        answers.append(response.json())
        url = answers[-1]["next"]
    return answers


def test_priorities_come_a_page_at_a_time_with_a_cursor_to_the_next(read_api, product):
    # given: 240 open features, 20 of them unscored (no effort), and two closed ones
    _features(product, 220)
    unscored = f.FeatureFactory.create_batch(20, product=product, effort=None)
    f.FeatureFactory.create_batch(2, product=product, status="shipped")
    product_recompute_scores(product_id=product.pk)
    expected = list(
        Feature.objects.filter(product=product)
        .exclude(status__in=["shipped", "archived"])
        .order_by(F("rank").asc(nulls_last=True), "id")
        .values_list("id", flat=True)
    )

    # when: the default page, then every page following next
    answers = _pages(read_api, f"/api/v1/products/{product.slug}/priorities/")

    # then: pages of 100 in rank order, unranked last, each feature once, next null at the end
    assert [a["count"] for a in answers] == [100, 100, 40]
    assert [len(a["results"]) for a in answers] == [100, 100, 40]
    assert [r["id"] for a in answers for r in a["results"]] == expected
    assert {r["id"] for r in answers[-1]["results"][-20:]} == {u.pk for u in unscored}
    assert [r["rank"] for r in answers[0]["results"]] == list(range(1, 101))
    assert answers[0]["next"].startswith("http://testserver/api/v1/products/")
    assert answers[-1]["next"] is None


def test_the_next_link_keeps_the_filters_and_the_limit(read_api, product):
    features = _features(product, 7)
    Feature.objects.filter(pk__in=[x.pk for x in features[:5]]).update(moscow="must")

    answers = _pages(read_api, f"/api/v1/products/{product.slug}/priorities/?moscow=must&limit=2")

    assert [[r["title"] for r in a["results"]] for a in answers] == [
        ["F4", "F3"],
        ["F2", "F1"],
        ["F0"],
    ]
    assert "moscow=must" in answers[0]["next"] and "limit=2" in answers[0]["next"]


def test_priorities_refuse_a_page_beyond_the_maximum_and_a_made_up_cursor(read_api, product):
    _features(product, 2)
    url = f"/api/v1/products/{product.slug}/priorities/"

    too_many = read_api.get(f"{url}?limit=1001")
    fraction = read_api.get(f"{url}?limit=2.5")
    made_up = read_api.get(f"{url}?cursor=bm90LWEtY3Vyc29y")
    overflow = read_api.get(f"{url}?cursor=WzEsIDk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5XQ")
    most = read_api.get(f"{url}?limit=1000")

    assert too_many.status_code == 400 and set(too_many.json()) == {"limit"}
    assert fraction.status_code == 400 and set(fraction.json()) == {"limit"}
    assert made_up.status_code == 400 and set(made_up.json()) == {"cursor"}
    assert overflow.status_code == 400 and set(overflow.json()) == {"cursor"}
    assert most.status_code == 200 and most.json()["count"] == 2


def test_a_page_of_priorities_costs_the_same_queries_at_two_sizes(
    read_api, product, django_assert_max_num_queries
):
    # given: a product of 120 features, read one page in (the cursor of the first answer)
    _features(product, 120)
    url = f"/api/v1/products/{product.slug}/priorities/"
    second = read_api.get(url).json()["next"]
    with django_assert_max_num_queries(10) as small:  # two requests
        first_small = read_api.get(url)
        read_api.get(second)
    # when: the product grows tenfold
    f.FeatureFactory.create_batch(1080, product=product, effort=Decimal("3"))
    product_recompute_scores(product_id=product.pk)

    # then: the same queries, the same number of rows, about the same bytes
    with django_assert_max_num_queries(len(small.captured_queries)):
        first_large = read_api.get(url)
        read_api.get(second)
    assert first_small.json()["count"] == first_large.json()["count"] == 100
    assert len(first_large.content) < 1.2 * len(first_small.content)


def test_scores_are_rounded_for_reading_and_ranked_on_the_exact_value(read_api, product):
    noisy = f.FeatureFactory(
        product=product, reach=3, impact=Decimal("1"), confidence=80, effort=Decimal("1")
    )
    thirds = f.FeatureFactory(
        product=product, reach=2, impact=Decimal("0.5"), confidence=70, effort=Decimal("3")
    )
    small = f.FeatureFactory(
        product=product, reach=1, impact=Decimal("0.25"), confidence=10, effort=Decimal("10")
    )
    product_recompute_scores(product_id=product.pk)

    priorities = read_api.get(f"/api/v1/products/{product.slug}/priorities/").json()["results"]
    detail = read_api.get(f"/api/v1/features/{noisy.pk}/").json()
    listed = read_api.get(f"/api/v1/features/?product={product.slug}").json()["results"]

    assert Feature.objects.get(pk=noisy.pk).score == 3 * 1 * (80 / 100) / 1  # 2.4000000000000004
    assert [(r["id"], r["score"]) for r in priorities] == [
        (noisy.pk, 2.4),
        (thirds.pk, 0.233),
        (small.pk, 0.0025),
    ]
    assert priorities[1]["score_breakdown"]["score"] == 0.233
    assert priorities[1]["score_breakdown"]["inputs"]["effort"]["value"] == 3.0
    assert detail["score"] == 2.4 and detail["score_breakdown"]["score"] == 2.4
    assert detail["score_breakdown"]["inputs"]["confidence"] == {"value": 80.0, "source": "manual"}
    assert [r["score"] for r in listed] == [2.4, 0.233, 0.0025]


@pytest.mark.services
def test_a_deep_page_of_priorities_seeks_its_place_through_the_rank_index(read_api, product):
    # given: a product of 3,000 features (analyzed, so the planner knows), read from rank 2,000
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from roadmap.demo.load import scale_features_load

    if connection.vendor != "postgresql":
        pytest.skip("plans are PostgreSQL's")
    large = scale_features_load(workspace=product.workspace, count=3000).product
    deep = Feature.objects.filter(product=large, rank=2000).get()
    cursor = views.priorities_cursor((deep.rank, deep.pk))

    # when
    with CaptureQueriesContext(connection) as captured:
        response = read_api.get(f"/api/v1/products/{large.slug}/priorities/?cursor={cursor}")

    # then: the rows after rank 2,000, found by an index condition on rank, not by reading and
    # dropping the 2,000 before them
    assert response.status_code == 200
    assert [r["rank"] for r in response.json()["results"]] == list(range(2001, 2101))
    selects = [q["sql"] for q in captured if 'FROM "roadmap_feature"' in q["sql"]]
    assert len(selects) == 1
    with connection.cursor() as db:
        db.execute(f"EXPLAIN {selects[0]}")
        plan = "\n".join(row[0] for row in db.fetchall())
    assert "Seq Scan on roadmap_feature" not in plan, plan
    assert re.search(r"Index Cond: \(.*rank >= 2000", plan), plan
