"""The roadmap board and the timeline, through the HTTP client (and the placing service)."""

import datetime
import json
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from roadmap.models import ChangeEvent, ChangeKind, Feature, Lane, RoadmapItem
from roadmap.planning.selectors import planning as selectors
from roadmap.planning.services import roadmap as records
from roadmap.planning.services.scoring import product_recompute_scores
from roadmap.planning.views.planning import PICKER_OPTIONS
from tests import factories as f

HTMX = {"HTTP_HX_REQUEST": "true"}


def _url(name: str, product, item=None) -> str:
    kwargs = {"slug": product.slug}
    if item is not None:
        kwargs["pk"] = item.pk
    return reverse(f"roadmap:{name}", kwargs=kwargs)


def _html(response, status: int = 200) -> str:
    assert response.status_code == status, response.content.decode()[:500]
    return response.content.decode()


def _placement(product) -> list[tuple[str, int, int | None, int]]:
    """Every item of the product as (title, horizon, lane id, position), in a stable order."""
    return sorted(
        (i.display_title, i.horizon, i.lane_id, i.position)
        for i in RoadmapItem.objects.filter(product=product).select_related("feature")
    )


def _column(product, horizon: str) -> list[str]:
    """The titles of a column in board order."""
    items = RoadmapItem.objects.filter(product=product, horizon=horizon).select_related("feature")
    return [i.display_title for i in items.order_by("position", "id")]


def _cell(html: str, horizon: str, lane) -> str:
    """The HTML of one board cell (a horizon in a lane)."""
    key = lane.pk if lane else ""
    start = html.index(
        f'data-horizon="{horizon}" data-horizon-label="{horizon.capitalize()}" data-lane="{key}"'
    )
    return html[start : html.index("</ol>", start)]


def _notice(response) -> str:
    return json.loads(response["HX-Trigger"])["planning:notice"]["text"]


@pytest.fixture
def roadmap(product):
    """Two lanes (Platform before Apps), features and a theme spread over the board."""
    platform = f.LaneFactory(product=product, name="Platform", position=0)
    apps = f.LaneFactory(product=product, name="Apps", position=1)
    release = f.ReleaseFactory(
        product=product, name="Spring", target_date=datetime.date(2031, 4, 1)
    )
    sso = f.FeatureFactory(product=product, title="Single sign-on", status="planned", reach=500)
    audit = f.FeatureFactory(product=product, title="Audit log", reach=100)
    export = f.FeatureFactory(product=product, title="CSV export", reach=50)
    f.FeatureFactory(product=product, title="Dark mode", reach=10)  # not on the roadmap
    product_recompute_scores(product_id=product.pk)
    items = {
        "sso": f.RoadmapItemFactory(
            product=product, feature=sso, horizon="now", lane=platform, position=0, release=release
        ),
        "audit": f.RoadmapItemFactory(
            product=product, feature=audit, horizon="next", lane=platform, position=0
        ),
        "export": f.RoadmapItemFactory(
            product=product, feature=export, horizon="next", lane=None, position=1
        ),
        "theme": f.RoadmapItemFactory(
            product=product,
            feature=None,
            title="Faster onboarding",
            horizon="later",
            lane=apps,
            position=0,
            visibility="external",
        ),
    }
    return {"platform": platform, "apps": apps, "release": release, **items}


def _bulk_roadmap(product, n: int) -> None:
    """``n`` features on the roadmap over two lanes and three horizons, with dates, quickly."""
    lanes = [f.LaneFactory(product=product), f.LaneFactory(product=product)]
    release = f.ReleaseFactory(product=product, target_date=timezone.localdate())
    features = Feature.objects.bulk_create(
        Feature(product=product, title=f"Bulk {i}", rank=i + 1, score=float(n - i))
        for i in range(n)
    )
    today = timezone.localdate()
    RoadmapItem.objects.bulk_create(
        RoadmapItem(
            product=product,
            feature=feature,
            horizon=("now", "next", "later")[i % 3],
            position=i // 3,
            lane=lanes[i % 2] if i % 5 else None,
            release=release if i % 2 else None,
            start_date=today + datetime.timedelta(days=i % 90) if i % 4 else None,
            end_date=today + datetime.timedelta(days=i % 90 + 20) if i % 3 else None,
        )
        for i, feature in enumerate(features)
    )


# --- Board: reading ------------------------------------------------------------------------------


def test_board_shows_items_by_lane_then_horizon_with_their_details(editor_client, roadmap):
    product = roadmap["sso"].product

    html = _html(editor_client.get(_url("board", product)))

    # lanes in their order, then the items without one
    assert html.index(">Platform <") < html.index(">Apps <") < html.index(">No lane <")
    assert "Single sign-on" in _cell(html, "now", roadmap["platform"])
    assert "Audit log" in _cell(html, "next", roadmap["platform"])
    assert "CSV export" in _cell(html, "next", None)
    assert "Faster onboarding" in _cell(html, "later", roadmap["apps"])
    # a feature links to its page and shows its rank, score, status and release
    card = html[html.index(f'id="item-{roadmap["sso"].pk}"') :]
    card = card[: card.index("</li>")]
    assert f'href="{roadmap["sso"].feature.get_absolute_url()}"' in card
    assert ">#1<" in card
    assert "Score " in card
    assert ">Planned<" in card
    assert ">Spring<" in card
    assert "Internal<" in card
    # a theme is labelled as such, and external
    theme = html[html.index(f'id="item-{roadmap["theme"].pk}"') :]
    theme = theme[: theme.index("</li>")]
    assert ">Theme<" in theme
    assert "External<" in theme
    # column counts
    assert re.search(r"Now <span class=\"badge\">1</span>", html)
    assert re.search(r"Next <span class=\"badge\">2</span>", html)


def test_editor_gets_drag_handles_forms_and_toggles(editor_client, roadmap):
    product = roadmap["sso"].product

    html = _html(editor_client.get(_url("board", product)))

    assert html.count('draggable="true"') == 4
    assert html.count('class="plan-card__handle"') == 4
    assert "js/board.js" in html
    assert _url("board_feature_add", product) in html
    assert _url("board_theme_add", product) in html
    assert _url("board_item_visibility", product, roadmap["sso"]) in html
    assert _url("board_item_remove", product, roadmap["sso"]) in html
    # the features not on the roadmap yet are offered, those on it are not
    offered = html[
        html.index('name="feature"') : html.index("</select>", html.index('name="feature"'))
    ]
    assert "Dark mode" in offered
    assert "Single sign-on" not in offered


def _picker(html: str) -> str:
    start = html.index('<select name="feature"')
    return html[start : html.index("</select>", start)]


def test_the_feature_picker_lists_unplaced_features_by_rank_escaped(editor_client, roadmap):
    product = roadmap["sso"].product
    risky = f.FeatureFactory(product=product, title='<img src=x onerror=alert(1)> & "Co"')
    Feature.objects.filter(pk=risky.pk).update(rank=1)

    picker = _picker(_html(editor_client.get(_url("board", product))))

    # ranked first, labelled with its rank, its title escaped; features on the board not offered
    assert picker.index(f'value="{risky.pk}"') < picker.index("Dark mode")
    assert "#1 · &lt;img src=x onerror=alert(1)&gt; &amp; &quot;Co&quot;" in picker
    assert "<img" not in picker
    assert "Single sign-on" not in picker


def test_a_refused_add_keeps_the_feature_picked(editor_client, roadmap, workspace):
    product = roadmap["sso"].product
    dark = Feature.objects.get(product=product, title="Dark mode")
    foreign_lane = f.LaneFactory(product=f.ProductFactory(workspace=workspace))

    html = _html(
        editor_client.post(
            _url("board_feature_add", product),
            {"feature": dark.pk, "horizon": "now", "lane": foreign_lane.pk},
            **HTMX,
        )
    )

    assert "Pick a lane of this product." in html
    assert f'<option value="{dark.pk}" selected>' in _picker(html)
    assert not RoadmapItem.objects.filter(feature=dark).exists()


def test_the_picker_of_a_thousand_features_takes_no_more_queries(
    editor_client, product, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    f.FeatureFactory(product=product)
    with CaptureQueriesContext(connection) as few:
        _html(editor_client.get(_url("board", product)))
    Feature.objects.bulk_create(
        Feature(product=product, title=f"Unplaced {i}", rank=i + 2) for i in range(1000)
    )

    with django_assert_max_num_queries(len(few.captured_queries)):
        html = _html(editor_client.get(_url("board", product)))
    # "Pick a feature…", the best-ranked PICKER_OPTIONS and a last option saying so
    picker = _picker(html)
    assert picker.count("<option value=") == 1 + PICKER_OPTIONS + 1
    assert f"… only the {PICKER_OPTIONS} best-ranked features are listed" in picker
    assert "#2 · Unplaced 0<" in picker and f"#{PICKER_OPTIONS + 1} · " in picker
    assert f"#{PICKER_OPTIONS + 2} · " not in picker


def test_a_feature_beyond_the_pickers_list_can_still_be_added(editor_client, product):
    Feature.objects.bulk_create(
        Feature(product=product, title=f"Unplaced {i}", rank=i + 1)
        for i in range(PICKER_OPTIONS + 1)
    )
    last = Feature.objects.get(product=product, rank=PICKER_OPTIONS + 1)

    response = editor_client.post(
        _url("board_feature_add", product), {"feature": last.pk, "horizon": "now", "lane": ""}
    )

    assert response.status_code == 302
    assert RoadmapItem.objects.get(feature=last).horizon == "now"


def test_viewer_sees_the_same_board_without_any_edit_control(viewer_client, roadmap):
    product = roadmap["sso"].product

    html = _html(viewer_client.get(_url("board", product)))

    assert "Single sign-on" in html and "Faster onboarding" in html
    assert ">External<" in html and ">Internal<" in html
    assert "Read-only" in html
    assert "draggable" not in html
    assert "plan-card__handle" not in html
    assert "<form" not in html.split('id="board"')[1]
    assert "Move to" not in html
    assert "Add to the roadmap" not in html
    assert "js/board.js" not in html


def test_board_of_a_product_without_items_invites_to_add_some(editor_client, product):
    html = _html(editor_client.get(_url("board", product)))

    assert "Nothing on the roadmap yet" in html
    assert "There is no feature left to add" in html
    assert "Add theme" in html


def test_board_runs_a_constant_number_of_queries(
    editor_client, product, django_assert_max_num_queries
):
    # given a product with a handful of items and a feature to add, and its board's queries
    _bulk_roadmap(product, 6)
    f.FeatureFactory(product=product)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        _html(editor_client.get(_url("board", product)))
    # when it has a thousand
    RoadmapItem.objects.filter(product=product).delete()
    _bulk_roadmap(product, 1000)

    # then the board takes no more, and shows the first CELL_CARDS of each of its 9 cells
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = _html(editor_client.get(_url("board", product)))
    assert html.count('<li class="plan-card"') == 9 * selectors.CELL_CARDS
    assert html.count('class="plan-cell__more"') == 9


def test_an_editors_board_reads_its_lanes_and_the_pickers_features_once(editor_client, roadmap):
    # given: a board of two lanes and a feature not on it yet
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # when
    with CaptureQueriesContext(connection) as captured:
        html = _html(editor_client.get(_url("board", roadmap["sso"].product)))

    # then: the lanes in one query for the board and both add forms, the picker's features in
    # one (no query of its own to ask whether any is left), and both lane selects in lane order
    sqls = [q["sql"] for q in captured.captured_queries]
    assert len([q for q in sqls if 'FROM "roadmap_lane"' in q]) == 1
    assert len([q for q in sqls if q.startswith("SELECT") and "NOT EXISTS" in q]) == 1
    lane_options = [
        re.findall(r">([^<]*)</option>", select)
        for select in re.findall(r'<select name="lane"[^>]*>.*?</select>', html, re.S)
    ]
    assert lane_options == [["No lane", "Platform", "Apps"]] * 2
    assert re.search(rf'<option value="{roadmap["platform"].pk}">Platform</option>', html), (
        "the lane's id is the option's value"
    )
    assert "Dark mode</option>" in html


def test_a_board_without_items_does_not_look_for_its_cards(editor_client, product):
    # given: a product with a lane and features, none on the roadmap
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    f.LaneFactory(product=product, name="Platform")
    f.FeatureFactory(product=product, title="Dark mode")

    # when
    with CaptureQueriesContext(connection) as captured:
        html = _html(editor_client.get(_url("board", product)))

    # then: the cells' counts say there is none; no query reads the cards
    assert not [q for q in captured.captured_queries if "ROW_NUMBER()" in q["sql"]]
    assert 'aria-label="Lane: Platform"' in html
    assert html.count('<li class="plan-card') == 0
    assert "Dark mode</option>" in html


# --- Board: the first cards of each cell, then "N more" ---------------------------------------


def _cell_items(product, horizon, lane, n):
    """``n`` themes in one cell, titled "Card 1" to "Card n" in board order."""
    return RoadmapItem.objects.bulk_create(
        RoadmapItem(
            product=product,
            feature=None,
            title=f"Card {i + 1}",
            horizon=horizon,
            lane=lane,
            position=i,
        )
        for i in range(n)
    )


def _titles(html: str) -> list[str]:
    return re.findall(r'<span class="plan-card__title">([^<]*)</span>', html)


def _cell_url(product, horizon, lane, start) -> str:
    lane_key = lane.pk if lane else ""
    return f"{_url('board_cell', product)}?horizon={horizon}&lane={lane_key}&start={start}"


def test_a_cell_shows_its_first_cards_and_how_many_more(editor_client, product):
    lane = f.LaneFactory(product=product, name="Platform")
    _cell_items(product, "now", lane, selectors.CELL_CARDS + 7)
    _cell_items(product, "next", None, 3)

    html = _html(editor_client.get(_url("board", product)))

    crowded = _cell(html, "now", lane)
    assert _titles(crowded) == [f"Card {i}" for i in range(1, selectors.CELL_CARDS + 1)]
    more = html[html.index(f'id="cell-more-now-{lane.pk}"') :]
    more = more[: more.index("</p>")]
    assert ">7 more<" in more
    assert (
        f'href="{_cell_url(product, "now", lane, selectors.CELL_CARDS)}"'.replace("&", "&amp;")
        in more
    )
    assert f'data-hx-target="#cell-cards-now-{lane.pk}"' in more
    assert 'data-hx-swap="beforeend"' in more
    assert _titles(_cell(html, "next", None)) == ["Card 1", "Card 2", "Card 3"]
    assert 'id="cell-more-next-none"' not in html
    # the counts are the cells' whole counts
    assert f"{selectors.CELL_CARDS + 7} items" in html
    assert '<span class="badge">27</span>' in html


def test_more_through_htmx_appends_the_next_cards_and_replaces_the_link(editor_client, product):
    _cell_items(product, "later", None, selectors.CELL_CARDS + selectors.CELL_PAGE + 5)
    url = _cell_url(product, "later", None, selectors.CELL_CARDS)

    html = _html(editor_client.get(url, **HTMX))

    first, last = selectors.CELL_CARDS + 1, selectors.CELL_CARDS + selectors.CELL_PAGE
    assert _titles(html) == [f"Card {i}" for i in range(first, last + 1)]
    assert "<html" not in html and 'id="board"' not in html
    link = html[html.index('id="cell-more-later-none"') :]
    assert 'data-hx-swap-oob="true"' in link and ">5 more<" in link
    assert f"start={last}" in link
    # the last part: five cards, and the link hidden
    rest = _html(editor_client.get(_cell_url(product, "later", None, last), **HTMX))
    assert _titles(rest) == [f"Card {i}" for i in range(last + 1, last + 6)]
    assert re.search(
        r'<p class="plan-cell__more" id="cell-more-later-none" '
        r'data-hx-swap-oob="true" hidden></p>',
        rest,
    )


def test_more_without_javascript_is_a_page_of_that_cell(editor_client, product):
    lane = f.LaneFactory(product=product, name="Apps")
    _cell_items(product, "next", lane, selectors.CELL_CARDS + 3)

    html = _html(editor_client.get(_cell_url(product, "next", lane, selectors.CELL_CARDS)))

    assert "<html" in html
    assert "Next · Apps" in html
    assert _titles(html) == ["Card 21", "Card 22", "Card 23"]
    assert f'start="{selectors.CELL_CARDS + 1}"' in html
    assert f"Items {selectors.CELL_CARDS + 1} to {selectors.CELL_CARDS + 3} of 23" in html
    assert "cell-more-" not in html
    assert f'href="{_url("board", product)}"' in html


def test_a_cell_counts_up_to_its_cap_past_what_it_shows_and_says_so(
    editor_client, product, monkeypatch
):
    # Given a cap of 5 past the cards shown, a cell of 20 + 6 items and one of 20 + 5
    monkeypatch.setattr(selectors, "CELL_COUNT_CAP", 5)
    lane = f.LaneFactory(product=product, name="Platform")
    _cell_items(product, "now", lane, selectors.CELL_CARDS + 6)
    _cell_items(product, "later", lane, selectors.CELL_CARDS + 5)

    html = _html(editor_client.get(_url("board", product)))

    # Then the first says "5+ more" (it read 20 + 6 rows, no more), the second its exact count
    assert _titles(_cell(html, "now", lane)) == [f"Card {i}" for i in range(1, 21)]
    more = html[html.index(f'id="cell-more-now-{lane.pk}"') :]
    assert ">5+ more<" in more[: more.index("</p>")]
    exact = html[html.index(f'id="cell-more-later-{lane.pk}"') :]
    assert ">5 more<" in exact[: exact.index("</p>")]
    # and the sums they enter say "at least"
    assert "50+ items" in html
    assert '<span class="badge">25+</span>' in html
    assert '<span class="badge">25</span>' in html

    # The cell's next part counts up to the cap past its own cards, too
    part = _html(editor_client.get(_cell_url(product, "now", lane, selectors.CELL_CARDS), **HTMX))
    assert _titles(part) == [f"Card {i}" for i in range(21, 27)]
    assert 'id="cell-more-now-' in part and "hidden" in part


def test_every_cell_of_many_lanes_is_counted(editor_client, product, monkeypatch):
    # Given seven lanes (24 cells), counted in runs of 5 where SQLite needs runs
    monkeypatch.setattr(selectors, "SQLITE_UNION", 5)
    lanes = [f.LaneFactory(product=product, name=f"Lane {i}", position=i) for i in range(7)]
    for n, lane in enumerate(lanes):
        _cell_items(product, "next", lane, n + 1)

    board = selectors.product_board(product=product)

    assert [swimlane.count for swimlane in board.swimlanes] == [1, 2, 3, 4, 5, 6, 7, 0]
    assert [column.count for column in board.columns] == [0, 28, 0]


def test_a_board_of_more_filled_cells_than_sqlite_unites_at_once(product):
    # Given 167 lanes with an item in each horizon: 501 filled cells (SQLite takes at most 500
    # SELECTs in one compound statement; the cards and the counts are read in runs there)
    lanes = Lane.objects.bulk_create(
        Lane(product=product, name=f"Lane {i}", position=i) for i in range(167)
    )
    RoadmapItem.objects.bulk_create(
        RoadmapItem(product=product, title=f"{lane.name} {h}", horizon=h, lane=lane, position=0)
        for lane in lanes
        for h in ("now", "next", "later")
    )

    board = selectors.product_board(product=product)

    assert [column.count for column in board.columns] == [167, 167, 167]
    assert sum(len(cell.items) for lane in board.swimlanes for cell in lane.cells) == 501


def test_a_page_of_a_cell_beyond_the_cap_says_of_how_many_at_least(
    editor_client, product, monkeypatch
):
    monkeypatch.setattr(selectors, "CELL_COUNT_CAP", 2)
    _cell_items(product, "next", None, selectors.CELL_CARDS + selectors.CELL_PAGE + 3)

    html = _html(editor_client.get(_cell_url(product, "next", None, selectors.CELL_CARDS)))

    shown = selectors.CELL_CARDS + selectors.CELL_PAGE
    assert f"Items {selectors.CELL_CARDS + 1} to {shown} of {shown + 2}+" in html
    assert ">2+ more<" in html


@pytest.mark.parametrize(
    "query",
    ["", "horizon=soon&lane=", "horizon=now&lane=abc", "horizon=now&lane=&start=-1"],
)
def test_a_cell_that_is_not_there_is_not_found(editor_client, product, query):
    response = editor_client.get(f"{_url('board_cell', product)}?{query}")

    assert response.status_code == 404


def test_a_lane_of_another_product_is_not_a_cell(editor_client, product, workspace):
    foreign = f.LaneFactory(product=f.ProductFactory(workspace=workspace))
    _cell_items(foreign.product, "now", foreign, 3)

    response = editor_client.get(_cell_url(product, "now", foreign, 0))

    assert response.status_code == 404


def test_outsiders_do_not_see_a_cell(outsider_client, product):
    _cell_items(product, "now", None, 3)

    response = outsider_client.get(_cell_url(product, "now", None, 0))

    assert response.status_code == 404


def test_board_and_more_cost_the_same_queries_and_bytes_at_two_sizes(
    editor_client, product, django_assert_max_num_queries
):
    # given: cells of 100 items each, the board and a "more" read
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    lane = f.LaneFactory(product=product)
    for horizon in ("now", "next", "later"):
        _cell_items(product, horizon, lane, 100)
    more = _cell_url(product, "next", lane, selectors.CELL_CARDS)
    with CaptureQueriesContext(connection) as board_small:
        small = _html(editor_client.get(_url("board", product)))
    with CaptureQueriesContext(connection) as more_small:
        small_more = _html(editor_client.get(more, **HTMX))
    # when: each cell holds ten times as many
    RoadmapItem.objects.filter(product=product).delete()
    for horizon in ("now", "next", "later"):
        _cell_items(product, horizon, lane, 1000)

    # then: no more queries, and the same cards
    with django_assert_max_num_queries(len(board_small.captured_queries)):
        large = _html(editor_client.get(_url("board", product)))
    with django_assert_max_num_queries(len(more_small.captured_queries)):
        large_more = _html(editor_client.get(more, **HTMX))
    assert large.count('<li class="plan-card') == small.count('<li class="plan-card') == 60
    assert len(large) < 1.05 * len(small)
    assert _titles(large_more) == _titles(small_more) == [f"Card {i}" for i in range(21, 71)]


# --- Board: moving -------------------------------------------------------------------------------


def _column_of(product, horizon, specs):
    """Items of one column from (title, lane) pairs, in that order."""
    return [
        f.RoadmapItemFactory(
            product=product, feature=None, title=title, horizon=horizon, lane=lane, position=i
        )
        for i, (title, lane) in enumerate(specs)
    ]


@pytest.mark.parametrize(
    ("lane_name", "index", "expected"),
    [
        # before the cell's first item
        ("A", 0, ["x", "a1", "b1", "a2", "b2"]),
        # before the cell's second item, which is fourth in the column
        ("B", 1, ["a1", "b1", "a2", "x", "b2"]),
        # past the cell's last item: just after it
        ("A", 2, ["a1", "b1", "a2", "x", "b2"]),
        ("A", 9, ["a1", "b1", "a2", "x", "b2"]),
        # an empty cell: the end of the column
        ("C", 0, ["a1", "b1", "a2", "b2", "x"]),
        # no lane (also empty here)
        (None, 0, ["a1", "b1", "a2", "b2", "x"]),
    ],
)
def test_a_place_in_a_lane_cell_maps_to_a_place_in_the_column(product, lane_name, index, expected):
    # given a "now" column whose items alternate between lanes A and B, and an item in "next"
    lanes = {name: f.LaneFactory(product=product, name=name) for name in "ABC"}
    _column_of(
        product,
        "now",
        [("a1", lanes["A"]), ("b1", lanes["B"]), ("a2", lanes["A"]), ("b2", lanes["B"])],
    )
    (x,) = _column_of(product, "next", [("x", None)])
    lane = lanes[lane_name] if lane_name else None

    # when it is dropped into a lane's cell of "now" at an index
    records.roadmap_item_place(item=x, horizon="now", lane=lane, index=index)

    # then it sits at the matching place of the whole column, in that lane
    assert _column(product, "now") == expected
    assert [i.position for i in RoadmapItem.objects.filter(horizon="now").order_by("position")] == [
        0,
        1,
        2,
        3,
        4,
    ]
    x.refresh_from_db()
    assert (x.horizon, x.lane_id) == ("now", lane.pk if lane else None)
    assert _column(product, "next") == []


def test_placing_within_its_own_cell_reorders_the_column(product):
    # given a column a1 (A), b1 (B), a2 (A), b2 (B)
    a, b = f.LaneFactory(product=product, name="A"), f.LaneFactory(product=product, name="B")
    a1, b1, a2, b2 = _column_of(product, "now", [("a1", a), ("b1", b), ("a2", a), ("b2", b)])

    # when b1 is moved below b2 in lane B, and a2 to the top of lane A
    records.roadmap_item_place(item=b1, horizon="now", lane=b, index=1)
    records.roadmap_item_place(item=a2, horizon="now", lane=a, index=0)

    # then
    assert _column(product, "now") == ["a2", "a1", "b2", "b1"]


def test_moving_into_another_lane_records_a_move(product, editor):
    # given an item in lane A
    a, b = f.LaneFactory(product=product, name="A"), f.LaneFactory(product=product, name="B")
    (item,) = _column_of(product, "now", [("x", a)])

    # when it is moved to lane B of the same column
    records.roadmap_item_place(item=item, horizon="now", lane=b, index=0, actor=editor)

    # then the change is recorded (digests and feeds)
    event = ChangeEvent.objects.get(item=item, kind=ChangeKind.MOVED)
    assert (event.before["lane"], event.after["lane"]) == ("A", "B")


def test_move_keeps_the_lane_when_not_given_one(product):
    # given an item in a lane, moved by the API's way (no lane)
    lane = f.LaneFactory(product=product)
    (item,) = _column_of(product, "now", [("x", lane)])

    records.roadmap_item_move(item=item, horizon="later", position=0)

    item.refresh_from_db()
    assert (item.horizon, item.lane_id) == ("later", lane.pk)


def test_drag_to_another_column_and_lane_through_htmx_returns_the_board(editor_client, roadmap):
    product = roadmap["sso"].product

    # when "CSV export" (next, no lane) is dropped first in Platform's "now" cell
    response = editor_client.post(
        _url("board_item_move", product, roadmap["export"]),
        {"horizon": "now", "lane": roadmap["platform"].pk, "position": 1},
        **HTMX,
    )

    # then the board fragment comes back, showing the server's state
    html = _html(response)
    assert html.lstrip().startswith('<div id="board"')
    assert "<html" not in html
    assert "CSV export" in _cell(html, "now", roadmap["platform"])
    assert "CSV export" not in _cell(html, "next", None)  # kept for editors to drop into
    assert _notice(response) == "Moved “CSV export” to Now · Platform, position 1."
    assert _column(product, "now") == ["CSV export", "Single sign-on"]
    roadmap["export"].refresh_from_db()
    assert roadmap["export"].lane == roadmap["platform"]


def test_move_form_without_javascript_redirects_to_the_board(editor_client, roadmap):
    product = roadmap["sso"].product

    response = editor_client.post(
        _url("board_item_move", product, roadmap["sso"]),
        {"horizon": "later", "lane": "", "position": 1},
    )

    assert response.status_code == 302
    assert response["Location"] == _url("board", product)
    html = _html(editor_client.get(response["Location"]))
    assert "Moved “Single sign-on” to Later · no lane, position 1." in html
    # the cell "later, no lane" was empty: the item goes to the end of the column
    assert _column(product, "later") == ["Faster onboarding", "Single sign-on"]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"horizon": "someday", "position": 1}, "Horizon", "Select a valid choice."),
        ({"horizon": "now", "position": 0}, "Position", "greater than or equal to 1"),
        ({"horizon": "now", "position": "top"}, "Position", "Enter a whole number."),
        ({"horizon": "now"}, "Position", "This field is required."),
        (
            {"horizon": "now", "position": 1, "lane": "999999"},
            "Lane",
            "Pick a lane of this product.",
        ),
    ],
)
def test_invalid_moves_show_the_error_and_change_nothing(
    editor_client, roadmap, data, field, message
):
    product = roadmap["sso"].product
    before = _placement(product)

    # htmx: the board fragment with the error next to the card's form (200, so htmx swaps it)
    html = _html(
        editor_client.post(_url("board_item_move", product, roadmap["audit"]), data, **HTMX)
    )
    card = html[html.index(f'id="item-{roadmap["audit"].pk}"') :]
    card = card[: card.index("</li>")]
    assert '<details class="plan-card__move" open>' in card
    assert f"{field}: " in card and message in card
    # without JavaScript: the page, with the same error, as a 400
    page = _html(editor_client.post(_url("board_item_move", product, roadmap["audit"]), data), 400)
    assert message in page and "<html" in page
    assert _placement(product) == before


def test_moving_into_a_lane_of_another_product_is_refused(editor_client, roadmap, workspace):
    product = roadmap["sso"].product
    other_lane = f.LaneFactory(product=f.ProductFactory(workspace=workspace))
    before = _placement(product)

    html = _html(
        editor_client.post(
            _url("board_item_move", product, roadmap["sso"]),
            {"horizon": "now", "lane": other_lane.pk, "position": 1},
            **HTMX,
        )
    )

    assert "Pick a lane of this product." in html
    assert _placement(product) == before


def test_an_item_of_another_product_is_not_found(editor_client, roadmap, workspace):
    # given another product of the same workspace, with an item
    product = roadmap["sso"].product
    other = f.ProductFactory(workspace=workspace)
    foreign = f.RoadmapItemFactory(product=other, horizon="later")
    data = {"horizon": "now", "position": 1}

    # when it is changed through this product's URLs, then it is not found, and unchanged
    for name, payload in [
        ("board_item_move", data),
        ("board_item_visibility", {"visibility": "external"}),
        ("board_item_remove", {"confirm": "yes"}),
        ("timeline_item_dates", {"start_date": "2031-01-01"}),
    ]:
        response = editor_client.post(_url(name, product, foreign), payload)
        assert response.status_code == 404, name
    foreign.refresh_from_db()
    assert (foreign.horizon, foreign.visibility, foreign.start_date) == ("later", "internal", None)


def test_change_endpoints_only_take_posts(editor_client, roadmap):
    product = roadmap["sso"].product

    responses = [
        editor_client.get(_url(name, product, roadmap["sso"]))
        for name in ("board_item_visibility", "board_item_remove")
    ]

    assert [r.status_code for r in responses] == [405, 405]


def test_a_cards_move_form_comes_when_its_menu_opens(editor_client, roadmap):
    product = roadmap["sso"].product
    item = roadmap["export"]  # alone in its cell: Next, no lane
    url = _url("board_item_move", product, item)

    board = _html(editor_client.get(_url("board", product)))
    fragment = _html(editor_client.get(url, **HTMX))
    page = _html(editor_client.get(url))

    card = board[board.index(f'id="item-{item.pk}"') :]
    card = card[: card.index("</li>")]
    assert f'data-hx-get="{url}" data-hx-trigger="toggle once"' in card
    assert f'<a href="{url}">Choose where</a>' in card
    assert 'class="plan-move"' not in board  # no card carries its form
    assert f'data-hx-post="{url}" data-hx-target="#board"' in fragment
    assert f'id="move-{item.pk}-position" name="position"' in fragment
    assert 'inputmode="numeric" value="1"' in fragment
    assert "<html" not in fragment
    # Without JavaScript: a page whose plain form posts back to the board.
    assert "<html" in page
    assert f'<form class="plan-move" method="post" action="{url}" novalidate>' in page
    assert "Now in Next, position 1." in page


def test_viewers_get_no_move_form(viewer_client, roadmap):
    product = roadmap["sso"].product

    response = viewer_client.get(_url("board_item_move", product, roadmap["sso"]))

    assert response.status_code == 403


# --- Board: visibility, adding, removing ---------------------------------------------------------


def test_toggling_visibility_through_htmx_returns_the_card(editor_client, roadmap):
    product = roadmap["sso"].product
    item = roadmap["sso"]

    response = editor_client.post(
        _url("board_item_visibility", product, item), {"visibility": "external"}, **HTMX
    )

    html = _html(response)
    assert html.lstrip().startswith(f'<li class="plan-card" id="item-{item.pk}"')
    assert ">External<" in html
    assert 'name="visibility" value="internal"' in html  # the next click makes it internal
    assert f'data-hx-get="{_url("board_item_move", product, item)}"' in html  # its move menu
    assert _notice(response) == "“Single sign-on” is now external: share links may show it."
    item.refresh_from_db()
    assert item.visibility == "external"
    assert ChangeEvent.objects.filter(item=item, kind=ChangeKind.MADE_EXTERNAL).count() == 1


def test_toggling_visibility_without_javascript_redirects(editor_client, roadmap):
    product = roadmap["sso"].product
    item = roadmap["theme"]

    response = editor_client.post(
        _url("board_item_visibility", product, item), {"visibility": "internal"}
    )

    assert response.status_code == 302
    assert response["Location"] == _url("board", product) + f"#item-{item.pk}"
    item.refresh_from_db()
    assert item.visibility == "internal"


def test_an_unknown_visibility_changes_nothing(editor_client, roadmap):
    product = roadmap["sso"].product
    item = roadmap["sso"]

    response = editor_client.post(
        _url("board_item_visibility", product, item), {"visibility": "public"}, **HTMX
    )

    assert response.status_code == 204
    assert _notice(response).startswith("Not changed: Select a valid choice.")
    item.refresh_from_db()
    assert item.visibility == "internal"


def test_adding_a_feature_puts_it_at_the_end_of_its_column_in_its_lane(editor_client, roadmap):
    product = roadmap["sso"].product
    dark = Feature.objects.get(product=product, title="Dark mode")

    html = _html(
        editor_client.post(
            _url("board_feature_add", product),
            {"feature": dark.pk, "horizon": "next", "lane": roadmap["apps"].pk},
            **HTMX,
        )
    )

    item = RoadmapItem.objects.get(feature=dark)
    assert (item.horizon, item.lane, item.visibility) == ("next", roadmap["apps"], "internal")
    assert _column(product, "next") == ["Audit log", "CSV export", "Dark mode"]
    assert "Dark mode" in _cell(html, "next", roadmap["apps"])
    # no feature is left to add
    assert "There is no feature left to add" in html
    assert ChangeEvent.objects.filter(item=item, kind=ChangeKind.ITEM_ADDED).count() == 1


@pytest.mark.parametrize("which", ["placed", "foreign", "missing"])
def test_adding_a_feature_that_cannot_be_added_shows_why(editor_client, roadmap, workspace, which):
    product = roadmap["sso"].product
    feature = {
        "placed": roadmap["sso"].feature.pk,
        "foreign": f.FeatureFactory(product=f.ProductFactory(workspace=workspace)).pk,
        "missing": "",
    }[which]
    before = _placement(product)

    html = _html(
        editor_client.post(
            _url("board_feature_add", product), {"feature": feature, "horizon": "now"}, **HTMX
        )
    )

    expected = "Pick a feature to add." if which == "missing" else "not on the roadmap yet"
    assert expected in html
    assert _placement(product) == before


def test_adding_a_theme_and_a_theme_without_title(editor_client, roadmap):
    product = roadmap["sso"].product

    # a theme without a title: the model's message, next to the field, nothing added
    before = _placement(product)
    page = _html(
        editor_client.post(_url("board_theme_add", product), {"title": "  ", "horizon": "now"}),
        400,
    )
    assert "A theme needs a title (or pick a feature)." in page
    assert _placement(product) == before

    # a theme with one
    response = editor_client.post(
        _url("board_theme_add", product), {"title": "Mobile", "horizon": "now", "lane": ""}
    )
    assert response.status_code == 302
    theme = RoadmapItem.objects.get(product=product, title="Mobile")
    assert (theme.feature, theme.horizon, theme.lane, theme.position) == (None, "now", None, 1)


def test_removing_asks_first_without_javascript_then_removes(editor_client, roadmap):
    product = roadmap["sso"].product
    item = roadmap["audit"]

    # the first post asks
    html = _html(editor_client.post(_url("board_item_remove", product, item)))
    assert (
        'id="confirm-remove-text">Take “Audit log” off the roadmap? The feature itself stays.'
        in html
    )
    assert RoadmapItem.objects.filter(pk=item.pk).exists()

    # the confirmed one removes the item, not the feature
    response = editor_client.post(_url("board_item_remove", product, item), {"confirm": "yes"})
    assert response.status_code == 302
    assert not RoadmapItem.objects.filter(pk=item.pk).exists()
    assert Feature.objects.filter(title="Audit log").exists()
    assert _column(product, "next") == ["CSV export"]


def test_removing_through_htmx_returns_the_board(editor_client, roadmap):
    product = roadmap["sso"].product

    html = _html(
        editor_client.post(
            _url("board_item_remove", product, roadmap["sso"]), {"confirm": "yes"}, **HTMX
        )
    )

    assert "Single sign-on" not in _cell(html, "now", roadmap["platform"])
    # it can be added again
    offered = html[html.index('name="feature"') :]
    assert "Single sign-on" in offered[: offered.index("</select>")]


# --- Access --------------------------------------------------------------------------------------

CHANGES = [
    ("board_item_move", True, {"horizon": "now", "position": 1}),
    ("board_item_visibility", True, {"visibility": "external"}),
    ("board_item_remove", True, {"confirm": "yes"}),
    ("board_theme_add", False, {"title": "Sneaky", "horizon": "now"}),
    ("board_feature_add", False, {"horizon": "now"}),
    ("timeline_item_dates", True, {"start_date": "2031-01-01", "end_date": "2031-02-01"}),
]


@pytest.mark.parametrize(("name", "with_item", "data"), CHANGES)
def test_viewers_cannot_change_anything(viewer_client, roadmap, name, with_item, data):
    product = roadmap["sso"].product
    before = _placement(product)

    response = viewer_client.post(
        _url(name, product, roadmap["audit"] if with_item else None), data
    )

    assert response.status_code == 403
    assert _placement(product) == before
    assert RoadmapItem.objects.get(pk=roadmap["audit"].pk).visibility == "internal"


@pytest.mark.parametrize(("name", "with_item", "data"), CHANGES)
def test_outsiders_find_nothing_to_change(outsider_client, roadmap, name, with_item, data):
    product = roadmap["sso"].product
    before = _placement(product)

    response = outsider_client.post(
        _url(name, product, roadmap["audit"] if with_item else None), data
    )

    assert response.status_code == 404
    assert _placement(product) == before


@pytest.mark.parametrize("page", ["board", "timeline"])
def test_outsiders_do_not_see_the_pages(outsider_client, roadmap, page):
    response = outsider_client.get(_url(page, roadmap["sso"].product))

    assert response.status_code == 404


@pytest.mark.parametrize("page", ["board", "timeline"])
def test_anonymous_visitors_are_sent_to_log_in(client, roadmap, page):
    response = client.get(_url(page, roadmap["sso"].product))

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# --- Timeline ------------------------------------------------------------------------------------


def test_timeline_range_spans_whole_quarters_from_today_or_earlier_and_three_at_least():
    today = datetime.date(2026, 5, 20)

    # no dates: this quarter and the next two
    assert selectors.timeline_range([], today=today) == (
        datetime.date(2026, 4, 1),
        datetime.date(2026, 12, 31),
    )
    # an earlier date starts it earlier; a later one ends it later
    assert selectors.timeline_range(
        [datetime.date(2025, 12, 3), datetime.date(2027, 8, 9)], today=today
    ) == (datetime.date(2025, 10, 1), datetime.date(2027, 9, 30))
    # dates all in the future: it still starts at today's quarter
    assert selectors.timeline_range([datetime.date(2026, 9, 1)], today=today) == (
        datetime.date(2026, 4, 1),
        datetime.date(2026, 12, 31),
    )


def test_timeline_places_bars_releases_and_today_in_percent_of_the_range(product):
    # given, with today on 16 Feb 2026, the range is Q1 to Q3 2026: 273 days from 1 January
    today = datetime.date(2026, 2, 16)
    lane = f.LaneFactory(product=product, name="Platform")
    bar = f.RoadmapItemFactory(
        product=product,
        lane=lane,
        start_date=datetime.date(2026, 1, 1),
        end_date=datetime.date(2026, 1, 31),
    )
    opened = f.RoadmapItemFactory(product=product, start_date=datetime.date(2026, 3, 1))
    due = f.RoadmapItemFactory(product=product, end_date=datetime.date(2026, 9, 30))
    undated = f.RoadmapItemFactory(product=product)
    f.ReleaseFactory(product=product, name="1.0", target_date=datetime.date(2026, 4, 2))
    f.ReleaseFactory(product=product, name="Someday")  # no date: no marker

    timeline = selectors.product_timeline(product=product, today=today)

    assert (timeline.start, timeline.end, timeline.days) == (
        datetime.date(2026, 1, 1),
        datetime.date(2026, 9, 30),
        273,
    )
    assert [q.label for q in timeline.quarters] == ["Q1 2026", "Q2 2026", "Q3 2026"]
    assert [m.label for m in timeline.months][:3] == ["Jan", "Feb", "Mar"]
    assert timeline.months[1].left == f"{31 / 273 * 100:.4f}"
    assert timeline.today_left == f"{46 / 273 * 100:.4f}"
    assert [(m.release.name, m.left, m.flip) for m in timeline.releases] == [
        ("1.0", f"{91 / 273 * 100:.4f}", False)
    ]
    (platform, no_lane) = timeline.lanes
    assert (platform.name, no_lane.name) == ("Platform", "No lane")
    (placed,) = platform.bars
    assert (placed.item, placed.kind, placed.left, placed.width) == (
        bar,
        "range",
        "0.0000",
        f"{31 / 273 * 100:.4f}",
    )
    # a start only: a short open-ended bar; an end only: a milestone on that day
    assert [(b.item, b.kind, b.left, b.width) for b in no_lane.bars] == [
        (opened, "open", f"{59 / 273 * 100:.4f}", f"{14 / 273 * 100:.4f}"),
        (due, "milestone", f"{272 / 273 * 100:.4f}", f"{1 / 273 * 100:.4f}"),
    ]
    assert timeline.unscheduled == [undated]


def test_timeline_page_shows_scale_lanes_bars_releases_today_and_unscheduled(
    editor_client, roadmap
):
    product = roadmap["sso"].product
    today = timezone.localdate()
    RoadmapItem.objects.filter(pk=roadmap["sso"].pk).update(
        start_date=today, end_date=today + datetime.timedelta(days=30)
    )

    html = _html(editor_client.get(_url("timeline", product)))

    assert "js/timeline.js" in html
    quarter = f"Q{(today.month - 1) // 3 + 1} {today.year}"
    assert f">{quarter}<" in html
    assert 'class="tl-today"' in html
    assert ">Spring<" in html  # the release's marker
    timeline = html[: html.index("tl-unscheduled")]
    assert ">Platform <" in timeline and "Single sign-on" in timeline
    assert "data-dates-url" in timeline
    unscheduled = html[html.index("tl-unscheduled") :]
    for title in ("Audit log", "CSV export", "Faster onboarding"):
        assert title in unscheduled
    assert unscheduled.count('type="date"') == 6  # a start and an end for each


def test_viewer_sees_the_timeline_read_only(viewer_client, roadmap):
    product = roadmap["sso"].product
    RoadmapItem.objects.filter(pk=roadmap["sso"].pk).update(
        start_date=timezone.localdate(), end_date=timezone.localdate()
    )

    html = _html(viewer_client.get(_url("timeline", product)))

    assert "Single sign-on" in html and "Audit log" in html
    assert "data-dates-url" not in html
    assert "tl-bar__resize" not in html
    assert 'type="date"' not in html
    assert "<form" not in html.split('id="timeline"')[1]
    assert "js/timeline.js" not in html


def test_saving_dates_through_htmx_returns_the_timeline(editor_client, roadmap):
    product = roadmap["sso"].product
    item = roadmap["audit"]

    response = editor_client.post(
        _url("timeline_item_dates", product, item),
        {"start_date": "2031-03-02", "end_date": "2031-04-15"},
        **HTMX,
    )

    html = _html(response)
    assert html.lstrip().startswith('<div id="timeline"')
    assert "2 Mar – 15 Apr 2031" in html
    assert _notice(response) == "Saved the dates of “Audit log”: 2 Mar 2031 to 15 Apr 2031."
    item.refresh_from_db()
    assert (item.start_date, item.end_date) == (
        datetime.date(2031, 3, 2),
        datetime.date(2031, 4, 15),
    )
    assert ChangeEvent.objects.filter(item=item, kind=ChangeKind.DATES_CHANGED).count() == 1


def test_saving_dates_without_javascript_redirects_and_can_clear_them(editor_client, roadmap):
    product = roadmap["sso"].product
    item = roadmap["sso"]
    RoadmapItem.objects.filter(pk=item.pk).update(start_date=datetime.date(2031, 1, 1))

    response = editor_client.post(
        _url("timeline_item_dates", product, item), {"start_date": "", "end_date": ""}
    )

    assert response.status_code == 302
    assert response["Location"] == _url("timeline", product)
    item.refresh_from_db()
    assert (item.start_date, item.end_date) == (None, None)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"start_date": "2031-05-01", "end_date": "2031-04-01"},
            "The end date cannot be before the start date.",
        ),
        ({"start_date": "first of May", "end_date": ""}, "Enter a valid date."),
        ({"start_date": "2031-02-30", "end_date": ""}, "Enter a valid date."),
    ],
)
def test_invalid_dates_show_the_error_and_change_nothing(editor_client, roadmap, data, message):
    product = roadmap["sso"].product
    item = roadmap["sso"]
    RoadmapItem.objects.filter(pk=item.pk).update(
        start_date=datetime.date(2031, 1, 1), end_date=datetime.date(2031, 2, 1)
    )

    # htmx: the fragment with the item's form open and the error next to its field
    html = _html(editor_client.post(_url("timeline_item_dates", product, item), data, **HTMX))
    row = html[html.index(f'id="tl-item-{item.pk}"') :]
    assert '<details class="tl-edit" open>' in row[: row.index("</details>")]
    assert message in row[: row.index("</details>")]
    # the typed values come back
    assert f'value="{data["start_date"]}"' in row
    # without JavaScript: the page with the error, as a 400
    assert message in _html(
        editor_client.post(_url("timeline_item_dates", product, item), data), 400
    )
    item.refresh_from_db()
    assert (item.start_date, item.end_date) == (
        datetime.date(2031, 1, 1),
        datetime.date(2031, 2, 1),
    )
    assert not ChangeEvent.objects.filter(item=item, kind=ChangeKind.DATES_CHANGED).exists()


def test_timeline_runs_a_constant_number_of_queries(
    editor_client, product, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _bulk_roadmap(product, 6)
    with CaptureQueriesContext(connection) as few:
        _html(editor_client.get(_url("timeline", product)))
    RoadmapItem.objects.filter(product=product).delete()
    Lane.objects.filter(product=product).delete()
    _bulk_roadmap(product, 1000)

    with django_assert_max_num_queries(len(few.captured_queries)):
        html = _html(editor_client.get(_url("timeline", product)))
    assert html.count('class="tl-bar ') + html.count('class="tl-unscheduled__item"') == 1000


@pytest.mark.services
def test_the_pickers_query_stops_at_its_last_option(editor_client, product):
    # given: 3,000 features not on the roadmap (analyzed, so the planner knows)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from roadmap.demo.load import scale_features_load

    if connection.vendor != "postgresql":
        pytest.skip("plans are PostgreSQL's")
    large = scale_features_load(workspace=product.workspace, count=3000).product

    # when
    with CaptureQueriesContext(connection) as captured:
        _html(editor_client.get(_url("board", large)))

    # then: the picker's rows walk an index in rank order to the last option, then stop; no
    # feature is read whole and sorted
    picker = [q["sql"] for q in captured if q["sql"].startswith('SELECT "roadmap_feature"."id"')]
    assert len(picker) == 1 and f"LIMIT {PICKER_OPTIONS + 1}" in picker[0]
    with connection.cursor() as db:
        db.execute(f"EXPLAIN ANALYZE {picker[0]}")
        plan = "\n".join(row[0] for row in db.fetchall())
    assert "Seq Scan on roadmap_feature" not in plan, plan
    scanned = re.search(r"Index Scan using \w+ on roadmap_feature .*rows=(\d+) loops=1", plan)
    assert scanned and int(scanned.group(1)) <= PICKER_OPTIONS + 2, plan
