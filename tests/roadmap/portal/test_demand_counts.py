"""Demand where the PM plans: confirmed votes and requesters on the prioritization table (a
column, sortable) and on board cards, counted in the page's own queries (no query per row)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from roadmap.models import Contact, Vote
from roadmap.planning.services.scoring import product_recompute_scores
from roadmap.portal import services
from tests.factories import FeatureFactory, RoadmapItemFactory


def _demanded(product, title: str, *, voters: int, requesters: int):
    """A feature on the board with ``voters`` confirmed votes and ``requesters`` confirmed
    requesters of one linked request."""
    feature = FeatureFactory(product=product, title=title, reach=10)
    item = RoadmapItemFactory(product=product, feature=feature, visibility="external")
    for n in range(voters):
        services.vote_import(item=item, email=f"voter{n}@{title.lower()}.example")
    if requesters:
        request = services.request_import(
            product=product, title=f"{title} please", email=f"ask0@{title.lower()}.example"
        )
        for n in range(1, requesters):
            other = services.request_import(
                product=product, title=f"{title} too", email=f"ask{n}@{title.lower()}.example"
            )
            services.request_merge(request=other, into=request)
        services.request_link(request=request, feature=feature)
    return feature, item


def _cell(html: str, feature) -> str:
    row = html[html.index(f'id="feature-{feature.pk}"') :]
    return row[: row.index("</tr>")]


def test_the_table_shows_each_features_confirmed_votes_and_requesters(editor_client, product):
    wanted, item = _demanded(product, "Offline", voters=3, requesters=2)
    quiet = FeatureFactory(product=product, title="Quiet", reach=1000)
    # A vote still waiting for its email confirmation does not count.
    waiting = Contact.objects.create(product=product, email="waiting@offline.example")
    Vote.objects.create(item=item, contact=waiting)
    product_recompute_scores(product_id=product.pk)

    html = editor_client.get(product.get_absolute_url()).content.decode()

    assert 'id="col-demand"' in html
    assert "3 votes, 2 requesters" in _cell(html, wanted)
    assert ">3 · 2<" in _cell(html, wanted)
    assert "votes" not in _cell(html, quiet)


def test_the_table_sorts_by_demand(editor_client, product):
    low, _ = _demanded(product, "Low", voters=1, requesters=0)
    high, _ = _demanded(product, "High", voters=4, requesters=1)
    none = FeatureFactory(product=product, title="None", reach=5000)
    product_recompute_scores(product_id=product.pk)

    html = editor_client.get(product.get_absolute_url(), {"sort": "-demand"}).content.decode()

    order = [int(pk) for pk in re.findall(r'<tr[^>]* id="feature-(\d+)"', html)]
    assert order == [high.pk, low.pk, none.pk]


def test_demand_costs_no_query_per_row(editor_client, product, django_assert_max_num_queries):
    _demanded(product, "First", voters=1, requesters=1)
    product_recompute_scores(product_id=product.pk)
    url = product.get_absolute_url()
    board = reverse("roadmap:board", args=[product.slug])
    editor_client.get(url)
    with CaptureQueriesContext(connection) as one_table:
        editor_client.get(url)
    with CaptureQueriesContext(connection) as one_board:
        editor_client.get(board)
    for n in range(5):
        _demanded(product, f"More{n}", voters=2, requesters=1)
    product_recompute_scores(product_id=product.pk)

    with django_assert_max_num_queries(len(one_table)):
        table = editor_client.get(url).content.decode()
    with django_assert_max_num_queries(len(one_board)):
        cards = editor_client.get(board).content.decode()
    assert table.count(">2 · 1<") == 5
    assert cards.count("2 votes, 1 requester") == 5


def test_a_board_card_shows_its_items_demand(editor_client, viewer_client, product):
    wanted, item = _demanded(product, "Offline", voters=2, requesters=1)
    quiet_item = RoadmapItemFactory(product=product, visibility="external")

    for client in (editor_client, viewer_client):
        html = client.get(reverse("roadmap:board", args=[product.slug])).content.decode()
        card = html[html.index(f'id="item-{item.pk}"') :]
        card = card[: card.index("</li>")]
        quiet = html[html.index(f'id="item-{quiet_item.pk}"') :]
        quiet = quiet[: quiet.index("</li>")]
        assert "2 votes, 1 requester" in card
        assert "vote" not in quiet


@pytest.mark.parametrize("hidden", [True, False])
def test_the_demand_column_can_be_hidden(editor_client, product, hidden):
    wanted, _ = _demanded(product, "Offline", voters=1, requesters=0)
    if hidden:
        editor_client.post(
            reverse("roadmap:table_columns", args=[product.slug]),
            {"shown": ["status", "moscow", "kano", "personas", "evidence", "roadmap"]},
        )

    html = editor_client.get(product.get_absolute_url()).content.decode()

    assert ('id="col-demand"' in html) is not hidden
    assert ("1 vote, 0 requesters" in _cell(html, wanted)) is not hidden
