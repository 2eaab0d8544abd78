"""Baked queries (roadmap.baked) read what their querysets read, the ORM's SQL compiled once;
a query they cannot bake faithfully is refused when baked, never answered wrongly."""

import datetime

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import hash_token
from accounts.tokens import _TOKEN_LOOKUP, _token_lookup, api_token_issue
from roadmap.api.scoping import _PRODUCT_IN_WORKSPACE, _product_in_workspace
from roadmap.baked import Baked
from roadmap.models import Feature, FeatureRankSnapshot
from roadmap.planning.selectors.priorities import MOVEMENT_WINDOW, _first_page
from roadmap.planning.services.scoring import product_recompute_scores
from tests import factories as f


def test_the_token_lookup_reads_what_its_queryset_reads(editor, workspace):
    _, raw = api_token_issue(user=editor, workspace=workspace, name="ci")

    for token_hash in (hash_token(raw), hash_token(raw + "x")):
        assert _TOKEN_LOOKUP.rows(token_hash=token_hash) == list(_token_lookup(token_hash))
    assert len(_TOKEN_LOOKUP.rows(token_hash=hash_token(raw))) == 1


def test_the_product_lookup_reads_what_its_queryset_reads(product, other_workspace):
    for workspace_id, slug in (
        (product.workspace_id, product.slug),
        (other_workspace.pk, product.slug),
        (product.workspace_id, "no-such-product"),
    ):
        assert _PRODUCT_IN_WORKSPACE.rows(workspace_id=workspace_id, slug=slug) == list(
            _product_in_workspace(workspace_id, slug)
        )


def test_the_first_page_reads_what_its_queryset_reads(product):
    """Movement since last week (a snapshot before the cutoff, one after it), a release, an
    unranked closed feature and a JSON breakdown: every converter the rows go through."""
    features = [
        f.FeatureFactory(product=product, title=f"F{i}", reach=100 * (i + 1)) for i in range(5)
    ]
    f.FeatureFactory(product=product, title="Shipped", status="shipped")
    product_recompute_scores(product_id=product.pk)
    release = f.ReleaseFactory(product=product, name="2027.1")
    f.RoadmapItemFactory(product=product, feature=features[0], horizon="now", release=release)
    today = timezone.localdate()
    cutoff = today - MOVEMENT_WINDOW
    FeatureRankSnapshot.objects.create(
        feature=features[1], rank=4, score=1, taken_on=cutoff - datetime.timedelta(days=1)
    )
    FeatureRankSnapshot.objects.create(feature=features[2], rank=1, score=1, taken_on=today)
    baked = _first_page(4)

    rows = baked.rows(product_id=product.pk, cutoff=cutoff)

    assert rows == list(baked.build(product_id=product.pk, cutoff=cutoff))
    assert [row["title"] for row in rows] == ["F4", "F3", "F2", "F1"]
    # F1's snapshot is older than the cutoff, F2's newer: only F1 moved "since last week".
    assert (rows[3]["rank_week_ago"], rows[2]["rank_week_ago"]) == (4, None)
    assert isinstance(rows[0]["score_breakdown"], dict)
    assert isinstance(rows[0]["updated_at"], datetime.datetime)
    every = _first_page(10).rows(product_id=product.pk, cutoff=cutoff)
    assert [row["title"] for row in every] == ["F4", "F3", "F2", "F1", "F0"]
    assert (every[-1]["horizon"], every[-1]["release_name"]) == ("now", "2027.1")


def test_a_query_is_built_and_compiled_once(product):
    built = []

    def build(workspace_id: int, slug: str):
        built.append(1)
        return _product_in_workspace(workspace_id, slug)

    baked = Baked(build)
    for _ in range(3):
        with CaptureQueriesContext(connection) as captured:
            baked.rows(workspace_id=product.workspace_id, slug=product.slug)
        assert len(captured) == 1
    assert len(built) == 1


def test_a_value_the_query_rewrites_is_refused_when_baked(db):
    # icontains wraps the text in % (and escapes it): the placeholder is not among the params.
    def build(title: str):
        return Feature.objects.filter(title__icontains=title).values("id")

    with pytest.raises(ValueError, match="title is found 0 times"):
        Baked(build).rows(title="x")


def test_a_value_used_twice_is_refused_when_baked(db):
    def build(n: int):
        return Feature.objects.filter(rank=n, version=n).values("id")

    with pytest.raises(ValueError, match="n is found 2 times"):
        Baked(build).rows(n=1)


def test_only_a_values_queryset_is_baked(db):
    def build(n: int):
        return Feature.objects.filter(rank=n)

    with pytest.raises(ValueError, match="values"):
        Baked(build).rows(n=1)


def test_a_value_of_another_kind_is_refused(db):
    def build(when: datetime.datetime):
        return Feature.objects.filter(updated_at__gte=when).values("id")

    with pytest.raises(TypeError, match="int, str or date"):
        Baked(build).rows(when=timezone.now())


def test_an_expression_with_a_value_keeps_it(product):
    """An F() beside a placeholder: only the placeholder's position changes."""

    def build(product_id: int):
        return Feature.objects.filter(product_id=product_id, rank__lte=F("version") + 10).values(
            "title"
        )

    f.FeatureFactory(product=product, title="A")
    product_recompute_scores(product_id=product.pk)

    assert Baked(build).rows(product_id=product.pk) == [{"title": "A"}]
