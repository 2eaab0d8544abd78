"""The prioritization table, through the HTTP client: reading, sorting, filtering, searching,
editing cells (htmx and plain posts), conflicts, quick add, bulk edits, roles and query counts."""

import datetime
import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from roadmap.models import (
    ChangeEvent,
    Feature,
    FeatureDriverScore,
    FeatureRankSnapshot,
    Insight,
    Persona,
    RoadmapItem,
    TableLayout,
    Tag,
)
from roadmap.planning.selectors.table import HIDEABLE_COLUMNS as HIDEABLE
from roadmap.planning.services.features import feature_update
from roadmap.planning.services.preferences import table_layout_save
from roadmap.planning.services.scoring import product_recompute_scores
from tests import factories as f

HTMX = {"HX-Request": "true"}
VOID = {"input", "br", "img", "meta", "link", "hr", "col", "source", "wbr"}


# --- Helpers -------------------------------------------------------------------------------------


class _Elements(HTMLParser):
    """Every element with an id: its tag, attributes and text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: dict[str, dict] = {}
        self.open: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        element_id = attrs.get("id")
        if element_id:
            self.found[element_id] = {"tag": tag, "attrs": attrs, "text": ""}
        if tag not in VOID:
            self.open.append((tag, element_id))

    def handle_endtag(self, tag):
        while self.open:
            open_tag, _ = self.open.pop()
            if open_tag == tag:
                break

    def handle_data(self, data):
        for _, element_id in self.open:
            if element_id:
                self.found[element_id]["text"] += data


def _elements(html: str) -> dict[str, dict]:
    parser = _Elements()
    parser.feed(html)
    return parser.found


def _text(html: str, element_id: str) -> str:
    return " ".join(_elements(html)[element_id]["text"].split())


def _attrs(html: str, element_id: str) -> dict:
    return _elements(html)[element_id]["attrs"]


def _score(html: str, pk: int) -> str:
    """A row's score as shown, without the tooltip of its shares (the score's description)."""
    found = _elements(html)
    shares = " ".join(found.get(f"f{pk}-shares", {"text": ""})["text"].split())
    return _text(html, f"f{pk}-score").removesuffix(shares)


def _html(response, status: int = 200) -> str:
    """The page's HTML (a streamed "Show all" read to its end)."""
    body = (
        b"".join(response.streaming_content) if response.streaming else response.content
    ).decode()
    assert response.status_code == status, body[:2000]
    return body


def _order(html: str) -> list[int]:
    """The features' ids in the order the table shows them."""
    return [int(pk) for pk in re.findall(r'<tr id="feature-(\d+)"', html)]


def _table(product) -> str:
    return reverse("roadmap:product", args=[product.slug])


def _edit(product, feature) -> str:
    return reverse("roadmap:table_edit", args=[product.slug, feature.pk])


def _scored(product) -> None:
    product_recompute_scores(product_id=product.pk)


def _cell_post(client, product, feature, field, value, *, version=None, current=None, shown=None):
    """What htmx sends when a cell changes: the row's form (here just the cell and the version),
    with the cell's name in HX-Trigger-Name and the page's URL in HX-Current-URL; and what
    table.js adds, the ids of the rows on the page (``shown``)."""
    feature.refresh_from_db()
    headers = {**HTMX, "HX-Trigger-Name": field, "HX-Current-URL": current or _table(product)}
    data = {field: value, "version": feature.version if version is None else version}
    if shown is not None:
        data["shown"] = ",".join(str(x.pk) for x in shown)
    return client.post(_edit(product, feature), data, headers=headers)


def _ids(features) -> str:
    return ",".join(str(feature.pk) for feature in features)


def _snapshot(feature) -> dict:
    """Everything stored about a feature that an edit could change."""
    feature = Feature.objects.get(pk=feature.pk)
    return {
        field.attname: getattr(feature, field.attname) for field in Feature._meta.concrete_fields
    }


@pytest.fixture
def ranked(product):
    """Three open features ranked by reach: high (#1), middle (#2), low (#3)."""
    low = f.FeatureFactory(product=product, title="Low", reach=10)
    middle = f.FeatureFactory(product=product, title="Middle", reach=100)
    high = f.FeatureFactory(product=product, title="High", reach=1000)
    _scored(product)
    return high, middle, low


# --- Reading -------------------------------------------------------------------------------------


def test_table_shows_each_feature_with_inputs_score_rank_movement_and_facts(viewer_client, product):
    persona = f.PersonaFactory(product=product, name="Platform engineer")
    feature = f.FeatureFactory(
        product=product,
        title="Audit log",
        reach=500,
        impact=Decimal("2.00"),
        confidence=80,
        effort=Decimal("2.50"),
        moscow="must",
        kano="basic",
        status="planned",
    )
    feature.personas.add(persona)
    feature.tags.add(f.TagFactory(product=product, name="compliance"))
    for _ in range(2):
        f.InsightFactory(product=product).features.add(feature)
    f.RoadmapItemFactory(
        product=product,
        feature=feature,
        horizon="next",
        release=f.ReleaseFactory(product=product, name="Autumn"),
    )
    other = f.FeatureFactory(product=product, title="Other", reach=10_000)
    _scored(product)
    FeatureRankSnapshot.objects.create(
        feature=feature, taken_on=timezone.localdate() - datetime.timedelta(days=8), rank=5
    )

    html = _html(viewer_client.get(_table(product)))

    pk = feature.pk
    assert _order(html) == [other.pk, feature.pk]
    assert _text(html, f"f{pk}-t") == "Audit log"
    assert _attrs(html, f"f{pk}-t")["href"] == feature.get_absolute_url()
    assert _text(html, f"f{pk}-rank") == "#2"
    assert _text(html, f"f{pk}-move") == "▲3 up"  # #5 a week ago, #2 now
    assert _score(html, pk) == "320"  # 500 × 2 × 80% / 2.5
    # What each term contributes: the score's description, for the keyboard and screen readers.
    assert _text(html, f"f{pk}-shares") == (
        "reach ×500 (77%) · impact ×2 (9%) · confidence / 100 ×0.8 (3%) · effort ÷2.5 (11%)"
    )
    assert f'<span class="prio__shares" tabindex="0" aria-describedby="f{pk}-shares">320' in html
    assert _attrs(html, f"f{pk}-shares")["role"] == "tooltip"
    assert _text(html, f"f{pk}-reach-cell") == "500"
    assert _text(html, f"f{pk}-impact-cell") == "2"
    assert _text(html, f"f{pk}-confidence-cell") == "80"
    assert _text(html, f"f{pk}-effort-cell") == "2.5"
    assert _text(html, f"f{pk}-status-cell") == "Planned"
    assert _text(html, f"f{pk}-moscow-cell") == "Must"
    assert _text(html, f"f{pk}-kano-cell") == "Basic"
    row = html[html.index(f'id="feature-{pk}"') :].split("</tr>")[0]
    assert "Platform engineer" in row
    assert ">compliance<" in row
    assert '<td class="num">2</td>' in row
    assert "Next" in row and "Autumn" in row
    assert "RICE" in html


@pytest.mark.parametrize(
    ("framework", "inputs"),
    [
        ("rice", ["reach", "impact", "confidence", "effort"]),
        ("ice", ["impact_ice", "confidence_ice", "ease"]),
        ("wsjf", ["business_value", "time_criticality", "risk_reduction", "job_size"]),
        ("value_effort", ["value", "effort"]),
    ],
)
def test_the_inputs_are_the_frameworks(editor_client, workspace, framework, inputs):
    product = f.ProductFactory(workspace=workspace, scoring_framework=framework)
    feature = f.FeatureFactory(product=product)

    html = _html(editor_client.get(_table(product)))

    shown = re.findall(
        rf'<input class="prio__input"[^>]*name="(\w+)" form="f{feature.pk}-form"', html
    )
    selects = re.findall(rf'<select class="prio__input[^"]*" id="f{feature.pk}-(\w+)"', html)
    assert [*shown, *[s for s in selects if s in inputs]] == [
        name for name in inputs if name != "impact"
    ] + (["impact"] if "impact" in inputs else [])
    assert selects[-3:] == ["status", "moscow", "kano"]


def test_weighted_scoring_has_a_column_per_driver_and_saves_through_it(editor_client, workspace):
    product = f.ProductFactory(workspace=workspace, scoring_framework="weighted")
    fit = f.ScoringDriverFactory(product=product, name="Strategic fit", weight=Decimal("2"))
    cost = f.ScoringDriverFactory(product=product, name="Cost savings", weight=Decimal("1"))
    feature = f.FeatureFactory(product=product)
    f.FeatureDriverScoreFactory(feature=feature, driver=fit, score=6)
    _scored(product)

    html = _html(editor_client.get(_table(product)))

    assert "Strategic fit" in html and "Cost savings" in html
    assert _attrs(html, f"f{feature.pk}-driver-{fit.pk}")["value"] == "6"
    assert _attrs(html, f"f{feature.pk}-driver-{cost.pk}")["value"] == ""
    assert _text(html, f"f{feature.pk}-score").startswith("—")  # a driver is unscored

    response = _cell_post(editor_client, product, feature, f"driver_{cost.pk}", "9")

    answer = _html(response)
    assert _score(answer, feature.pk) == "7"  # (2×6 + 1×9) / 3
    assert FeatureDriverScore.objects.get(feature=feature, driver=cost).score == 9
    feature.refresh_from_db()
    assert feature.version == 2
    assert feature.score == 7


def test_reach_counted_from_insights_is_shown_not_edited(editor_client, workspace):
    product = f.ProductFactory(workspace=workspace, reach_source="insights")
    feature = f.FeatureFactory(product=product)
    for customer in ("Acme", "Globex", "acme"):
        f.InsightFactory(product=product, customer=customer).features.add(feature)
    _scored(product)

    html = _html(editor_client.get(_table(product)))

    assert f'id="f{feature.pk}-reach"' not in html
    assert _text(html, f"f{feature.pk}-reach-cell") == "2"
    assert 'name="reach"' not in html


# --- Sorting -------------------------------------------------------------------------------------


@pytest.fixture
def sortable(product):
    """Four features that order differently by every column."""
    a = f.FeatureFactory(
        product=product, title="alpha", reach=300, effort=Decimal("2"), moscow="could",
        kano="delighter", status="planned",
    )  # fmt: skip
    b = f.FeatureFactory(
        product=product, title="Bravo", reach=100, effort=Decimal("1"), moscow="must",
        kano="", status="idea",
    )  # fmt: skip
    c = f.FeatureFactory(
        product=product, title="charlie", reach=50, effort=Decimal("8"), moscow="",
        kano="basic", status="in_progress",
    )  # fmt: skip
    d = f.FeatureFactory(
        product=product, title="Delta", reach=None, effort=Decimal("3"), moscow="should",
        kano="performance", status="discovery",
    )  # fmt: skip
    for _ in range(3):
        f.InsightFactory(product=product).features.add(c)
    f.InsightFactory(product=product).features.add(a)
    personas = [f.PersonaFactory(product=product) for _ in range(2)]
    d.personas.set(personas)
    b.personas.add(personas[0])
    f.RoadmapItemFactory(product=product, feature=c, horizon="later")
    f.RoadmapItemFactory(product=product, feature=a, horizon="now")
    f.RoadmapItemFactory(product=product, feature=b, horizon="next")
    _scored(product)  # scores: a 120, b 80, c 5, d none → ranks a, b, c, d
    last_week = timezone.localdate() - datetime.timedelta(days=7)
    for feature, rank in ((a, 1), (b, 4), (c, 2), (d, 3)):
        FeatureRankSnapshot.objects.create(feature=feature, taken_on=last_week, rank=rank)
    return a, b, c, d


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("", "abcd"),
        ("rank", "abcd"),
        ("-rank", "dcba"),
        ("title", "abcd"),
        ("-title", "dcba"),
        ("-score", "abcd"),
        ("score", "cbad"),  # no score sorts last either way
        ("-reach", "abcd"),
        ("effort", "badc"),
        ("moscow", "bdac"),  # must, should, could, then unset
        ("-moscow", "adbc"),  # won't…must, then unset
        ("kano", "cdab"),  # basic, performance, delighter, then unset
        ("status", "bdac"),  # idea, discovery, planned, in progress
        ("-evidence", "cabd"),
        ("-personas", "dbac"),
        ("-movement", "bacd"),  # b up 2, a even, c and d down 1 (then by rank)
        ("roadmap", "abcd"),  # now, next, later, not on the roadmap
        ("nonsense", "abcd"),
    ],
)
def test_sorting_by_any_column_is_stable(viewer_client, product, sortable, sort, expected):
    by_letter = dict(zip("abcd", sortable, strict=True))

    html = _html(viewer_client.get(_table(product), {"sort": sort} if sort else {}))

    assert _order(html) == [by_letter[letter].pk for letter in expected]


def test_headers_say_how_the_table_is_sorted_and_link_to_the_other_direction(
    viewer_client, product, sortable
):
    html = _html(viewer_client.get(_table(product), {"sort": "-score", "moscow": "must"}))

    assert _attrs(html, "col-score")["aria-sort"] == "descending"
    assert _attrs(html, "col-rank")["aria-sort"] == "none"
    # The sorted column flips; another starts at its natural direction; filters are kept.
    assert _attrs(html, "sort-score")["href"] == f"{_table(product)}?moscow=must&sort=score"
    assert _attrs(html, "sort-evidence")["href"] == f"{_table(product)}?moscow=must&sort=-evidence"
    assert _attrs(html, "sort-title")["href"] == f"{_table(product)}?moscow=must&sort=title"
    assert _attrs(html, "sort-rank")["href"] == f"{_table(product)}?moscow=must"


def test_unknown_sort_falls_back_to_rank(viewer_client, product, sortable):
    html = _html(viewer_client.get(_table(product), {"sort": "-password"}))

    assert _attrs(html, "col-rank")["aria-sort"] == "ascending"


# --- Filters and search --------------------------------------------------------------------------


@pytest.fixture
def filterable(product):
    tag = f.TagFactory(product=product, name="billing")
    persona = f.PersonaFactory(product=product, name="Admin")
    release = f.ReleaseFactory(product=product, name="Spring")
    a = f.FeatureFactory(product=product, title="Invoices", moscow="must", kano="basic")
    a.tags.add(tag)
    f.RoadmapItemFactory(product=product, feature=a, horizon="now", release=release)
    b = f.FeatureFactory(
        product=product, title="Roles", description="Fine-grained admin rights", moscow="should"
    )
    b.personas.add(persona)
    f.RoadmapItemFactory(product=product, feature=b, horizon="later")
    c = f.FeatureFactory(
        product=product,
        title="Dark mode",
        status="discovery",
        kano="delighter",
        market_position="differentiator",
    )
    d = f.FeatureFactory(product=product, title="Old export", status="shipped")
    e = f.FeatureFactory(product=product, title="Fax support", status="archived")
    _scored(product)
    return {
        "a": a, "b": b, "c": c, "d": d, "e": e,
        "tag": tag, "persona": persona, "release": release,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ({}, "abc"),
        ({"status": "open"}, "abc"),
        ({"status": "all"}, "abcde"),
        ({"status": "shipped"}, "d"),
        ({"status": "discovery"}, "c"),
        ({"status": "nonsense"}, "abc"),
        ({"tag": "billing"}, "a"),
        ({"tag": "unknown"}, "abc"),
        ({"persona": "PERSONA"}, "b"),
        ({"release": "RELEASE"}, "a"),
        ({"release": "none"}, "bc"),
        ({"horizon": "now"}, "a"),
        ({"horizon": "later"}, "b"),
        ({"horizon": "none"}, "c"),
        ({"moscow": "must"}, "a"),
        ({"moscow": "none"}, "c"),
        ({"kano": "delighter"}, "c"),
        ({"kano": "none"}, "b"),
        ({"market_position": "differentiator"}, "c"),
        ({"market_position": "parity"}, ""),
        ({"market_position": "none"}, "ab"),
        ({"q": "roles"}, "b"),
        ({"q": "ADMIN rights"}, "b"),  # every word, in the title or the description
        ({"q": "mode dark"}, "c"),
        ({"q": "export"}, ""),  # shipped: not open
        ({"q": "export", "status": "all"}, "d"),
        ({"moscow": "must", "horizon": "later"}, ""),
    ],
)
def test_filters_and_search(viewer_client, product, filterable, query, shown):
    query = {
        key: {
            "PERSONA": str(filterable["persona"].pk),
            "RELEASE": str(filterable["release"].pk),
        }.get(value, value)
        for key, value in query.items()
    }

    html = _html(viewer_client.get(_table(product), query))

    assert sorted(_order(html)) == sorted(filterable[letter].pk for letter in shown)
    if not shown:
        assert "No feature matches these filters." in html


def test_filter_form_shows_the_chosen_filters(viewer_client, product, filterable):
    html = _html(
        viewer_client.get(
            _table(product), {"q": "admin", "tag": "billing", "moscow": "none", "sort": "-score"}
        )
    )

    assert _attrs(html, "table-search")["value"] == "admin"
    assert '<option value="billing" selected>' in html
    assert '<option value="none" selected>MoSCoW not set</option>' in html
    assert _attrs(html, "table-sort")["value"] == "-score"
    assert "Clear filters" in html
    assert _text(html, "table-count") == "0 of 5 features match"


def test_htmx_filter_gets_the_table_alone_with_a_bookmarkable_url(
    viewer_client, product, filterable
):
    response = viewer_client.get(
        _table(product),
        {"q": "", "status": "all", "tag": "", "moscow": "must", "sort": "rank"},
        headers=HTMX,
    )

    html = _html(response)
    assert "<html" not in html
    assert _order(html) == [filterable["a"].pk]
    assert response["HX-Push-Url"] == f"{_table(product)}?status=all&moscow=must"
    # Out of band: the count, the filter form's sort field, and the export of what is shown.
    assert _text(html, "table-count") == "1 of 5 features matches"
    assert _attrs(html, "table-sort") == {
        "type": "hidden",
        "id": "table-sort",
        "name": "sort",
        "value": "rank",
        "data-hx-swap-oob": "true",
    }
    export = reverse("roadmap:features_export", args=[product.slug])
    assert _attrs(html, "table-export")["href"] == f"{export}?status=all"
    assert "HX-Request" in response["Vary"]


# --- Editing a cell (htmx) ---------------------------------------------------------------------


def test_editing_an_input_saves_it_and_updates_score_and_ranks_in_place(
    editor_client, product, ranked
):
    high, middle, low = ranked

    response = _cell_post(editor_client, product, low, "reach", "5000")

    html = _html(response)
    low.refresh_from_db()
    assert low.reach == 5000
    assert low.version == 2
    assert (low.rank, low.score) == (1, 2000.0)  # 5000 × 1 × 80% / 2
    # Out of band: the edited cell, its score and version, and every rank that moved.
    assert _attrs(html, f"f{low.pk}-reach")["value"] == "5000"
    assert "aria-invalid" not in _attrs(html, f"f{low.pk}-reach")
    assert _score(html, low.pk) == "2,000"
    assert _attrs(html, f"f{low.pk}-version")["value"] == "2"
    assert _text(html, f"f{low.pk}-rank") == "#1"
    assert _text(html, f"f{high.pk}-rank") == "#2"
    assert _text(html, f"f{middle.pk}-rank") == "#3"
    assert 'data-hx-swap-oob="true"' in html
    # The ranks in one template, swapped in one pass by table.js (a move can touch hundreds).
    assert html.count("<template data-table-ranks>") == 1
    assert f'id="f{low.pk}-rank" data-hx-swap-oob' not in html
    assert "Saved Reach of “Low”: score 2,000, rank #1 (was #3)." in html
    assert "Re-sort by the new ranks" in html
    # Cells of the same row the PM may be typing in are left alone.
    assert f'id="f{low.pk}-effort"' not in html


def test_a_rank_update_only_touches_rows_of_the_current_view(editor_client, product, ranked):
    high, middle, low = ranked
    low.moscow = middle.moscow = "must"
    for feature in (low, middle):
        Feature.objects.filter(pk=feature.pk).update(moscow="must")
    current = f"http://testserver{_table(product)}?moscow=must"

    html = _html(_cell_post(editor_client, product, low, "reach", "5000", current=current))

    assert f'id="f{middle.pk}-rank"' in html
    assert f'id="f{high.pk}-rank"' not in html  # not shown in that view


def test_a_rank_update_only_touches_the_rows_on_the_page_when_it_says_which(
    editor_client, product, ranked
):
    high, middle, low = ranked  # all three move when Low jumps to #1

    html = _html(_cell_post(editor_client, product, low, "reach", "5000", shown=[low, high]))

    assert _text(html, f"f{low.pk}-rank") == "#1"
    assert _text(html, f"f{high.pk}-rank") == "#2"
    assert f'id="f{middle.pk}-rank"' not in html  # moved, but not on the page
    assert Feature.objects.get(pk=middle.pk).rank == 3


def test_an_edit_reads_the_ranks_of_the_rows_on_the_page_only(editor_client, product, ranked):
    """O(rows shown), not O(features): no query of the edit reads the ranks of every feature
    (each one that reads features is bounded by ids or stops at a rank range)."""
    high, middle, low = ranked
    f.FeatureFactory.create_batch(30, product=product, reach=1)
    _scored(product)

    with CaptureQueriesContext(connection) as queries:
        html = _html(_cell_post(editor_client, product, low, "reach", "5000", shown=[low, high]))

    assert _text(html, f"f{high.pk}-rank") == "#2"
    ranks_before = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith('SELECT "roadmap_feature"."id" AS "pk", "roadmap_feature"."rank" AS')
        and "rank_week_ago" not in q["sql"]
    ]
    assert len(ranks_before) == 1
    assert f'"roadmap_feature"."id" IN ({low.pk}, {high.pk})' in ranks_before[0].replace(
        f"({high.pk}, {low.pk})", f"({low.pk}, {high.pk})"
    )


def test_a_malformed_list_of_rows_shown_answers_every_row_of_the_view(
    editor_client, product, ranked
):
    high, middle, low = ranked
    low.refresh_from_db()

    response = editor_client.post(
        _edit(product, low),
        {"reach": "5000", "version": low.version, "shown": "1,two"},
        headers={**HTMX, "HX-Trigger-Name": "reach", "HX-Current-URL": _table(product)},
    )

    html = _html(response)
    assert _text(html, f"f{middle.pk}-rank") == "#3"
    assert _text(html, f"f{high.pk}-rank") == "#2"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("confidence", "250", "Confidence is a percentage between 0 and 100."),
        ("effort", "0", "Effort must be greater than 0."),
        ("effort", "lots", "Enter a number."),
        ("reach", "-4", "Ensure this value is greater than or equal to 0."),
        ("impact", "7", "Select a valid choice. 7 is not one of the available choices."),
        ("status", "done", "Select a valid choice. done is not one of the available choices."),
    ],
)
def test_an_invalid_value_is_shown_in_its_cell_and_not_saved(
    editor_client, product, ranked, field, value, message
):
    _, _, low = ranked
    before = _snapshot(low)

    html = _html(_cell_post(editor_client, product, low, field, value))

    assert _snapshot(low) == before
    control = _attrs(html, f"f{low.pk}-{field}")
    assert control["aria-invalid"] == "true"
    assert control["aria-describedby"] == f"f{low.pk}-{field}-error"
    assert _text(html, f"f{low.pk}-{field}-error") == message
    if control.get("value") is not None:
        assert control["value"] == value  # what was typed, to correct it
    assert f'id="f{low.pk}-version"' not in html
    assert "not saved" in _text(html, "table-status")


def test_a_concurrent_save_is_refused_with_the_other_value_and_a_reload(
    editor_client, product, ranked, admin_user
):
    _, _, low = ranked
    stale = low.version
    feature_update(feature=low, data={"reach": 77}, actor=admin_user)  # someone else, meanwhile
    before = _snapshot(low)

    html = _html(_cell_post(editor_client, product, low, "reach", "5000", version=stale))

    assert _snapshot(low) == before
    assert Feature.objects.get(pk=low.pk).reach == 77
    alert = _text(html, f"f{low.pk}-alert")
    assert "Not saved." in alert
    assert "Reach is now 77 (you typed 5000)" in alert
    reload_link = _attrs(html, f"f{low.pk}-reload")
    assert reload_link["data-hx-get"] == reverse("roadmap:table_row", args=[product.slug, low.pk])
    assert reload_link["data-hx-target"] == f"#feature-{low.pk}"
    assert _attrs(html, f"f{low.pk}-reach")["value"] == "5000"
    assert _attrs(html, f"f{low.pk}-reach")["aria-invalid"] == "true"


def test_reloading_a_row_gives_its_stored_values_and_version(editor_client, product, ranked):
    _, _, low = ranked
    feature_update(feature=low, data={"reach": 77})

    html = _html(
        editor_client.get(reverse("roadmap:table_row", args=[product.slug, low.pk]), headers=HTMX)
    )

    assert html.lstrip().startswith(f'<tr id="feature-{low.pk}"')
    assert _attrs(html, f"f{low.pk}-reach")["value"] == "77"
    assert _attrs(html, f"f{low.pk}-version")["value"] == "2"


def test_status_moscow_and_kano_are_edited_inline(editor_client, product, ranked):
    high, middle, low = ranked

    html = _html(_cell_post(editor_client, product, high, "status", "shipped"))
    _html(_cell_post(editor_client, product, middle, "moscow", "wont"))
    _html(_cell_post(editor_client, product, middle, "kano", "delighter"))

    high.refresh_from_db()
    middle.refresh_from_db()
    assert high.status == "shipped" and high.rank is None
    assert (middle.moscow, middle.kano, middle.version) == ("wont", "delighter", 3)
    assert _text(html, f"f{high.pk}-rank").startswith("—")
    assert _text(html, f"f{middle.pk}-rank") == "#1"
    assert 'class="prio__input status--shipped"' in html


def test_an_unknown_cell_or_a_missing_version_is_a_bad_request(editor_client, product, ranked):
    _, _, low = ranked
    before = _snapshot(low)

    unknown = _cell_post(editor_client, product, low, "score", "99")
    no_version = editor_client.post(
        _edit(product, low), {"reach": "9"}, headers={**HTMX, "HX-Trigger-Name": "reach"}
    )

    assert unknown.status_code == 400
    assert no_version.status_code == 400
    assert _snapshot(low) == before


# --- Editing a row without JavaScript -------------------------------------------------------------


def test_a_row_form_saves_every_cell_and_goes_back_to_the_same_view(editor_client, product, ranked):
    _, _, low = ranked
    back = f"{_table(product)}?sort=-score"

    response = editor_client.post(
        _edit(product, low),
        {
            "reach": "4000",
            "impact": "2.00",
            "confidence": "50",
            "effort": "1",
            "status": "planned",
            "moscow": "must",
            "kano": "",
            "version": "1",
            "next": back,
        },
        follow=True,
    )

    html = _html(response)
    assert response.redirect_chain == [(f"{back}#feature-{low.pk}", 302)]
    low.refresh_from_db()
    assert (low.reach, low.impact, low.confidence, low.effort) == (
        4000,
        Decimal("2.00"),
        50,
        Decimal("1.00"),
    )
    assert (low.status, low.moscow, low.rank, low.score) == ("planned", "must", 1, 4000.0)
    assert "Saved “Low”: score 4,000, rank #1 (was #3)." in html


def test_a_refused_row_form_shows_the_page_with_the_errors_and_saves_nothing(
    editor_client, product, ranked
):
    _, _, low = ranked
    before = _snapshot(low)

    response = editor_client.post(
        _edit(product, low),
        {"reach": "4000", "confidence": "150", "version": "1", "next": "https://evil.example/"},
    )

    html = _html(response, 400)
    assert _snapshot(low) == before
    assert _attrs(html, f"f{low.pk}-reach")["value"] == "4000"
    assert _attrs(html, f"f{low.pk}-confidence")["aria-invalid"] == "true"
    assert "Confidence is a percentage between 0 and 100." in html
    assert "evil.example" not in html


def test_a_stale_row_form_is_refused_with_a_conflict(editor_client, product, ranked):
    _, _, low = ranked
    feature_update(feature=low, data={"reach": 77})

    response = editor_client.post(_edit(product, low), {"reach": "4000", "version": "1"})

    html = _html(response, 409)
    assert Feature.objects.get(pk=low.pk).reach == 77
    assert "Reach is now 77 (you typed 4000)" in _text(html, f"f{low.pk}-alert")


# --- Quick add ------------------------------------------------------------------------------------


def test_quick_add_creates_the_feature_and_shows_its_row_at_once(editor_client, product, ranked):
    response = editor_client.post(
        reverse("roadmap:table_quick_add", args=[product.slug]),
        {"title": "  Offline mode  ", "next": _table(product)},
        headers={**HTMX, "HX-Current-URL": f"http://testserver{_table(product)}"},
    )

    html = _html(response)
    feature = Feature.objects.get(product=product, title="Offline mode")
    assert feature.rank == 4  # unscored: after the scored ones
    assert 'data-hx-swap-oob="afterbegin:#feature-rows"' in html
    assert _text(html, f"f{feature.pk}-t") == "Offline mode"
    assert 'class="prio__row is-fresh"' in html
    assert _attrs(html, "quick-add-title")["value"] == ""  # ready for the next one
    assert _text(html, "table-count") == "4 open features"
    assert "Added “Offline mode”" in html


def test_quick_add_without_a_title_says_so_and_adds_nothing(editor_client, product, ranked):
    response = editor_client.post(
        reverse("roadmap:table_quick_add", args=[product.slug]), {"title": "  "}, headers=HTMX
    )

    html = _html(response)
    assert Feature.objects.filter(product=product).count() == 3
    assert _attrs(html, "quick-add-title")["aria-invalid"] == "true"
    assert _text(html, "quick-add-error") == "This field is required."


def test_quick_add_without_javascript_redirects_back(editor_client, product):
    response = editor_client.post(
        reverse("roadmap:table_quick_add", args=[product.slug]),
        {"title": "Offline mode", "next": f"{_table(product)}?status=all"},
    )

    feature = Feature.objects.get(product=product)
    assert response.status_code == 302
    assert response["Location"] == f"{_table(product)}?status=all#feature-{feature.pk}"

    too_long = editor_client.post(
        reverse("roadmap:table_quick_add", args=[product.slug]), {"title": "x" * 201}
    )
    assert "Ensure this value has at most 200 characters" in _html(too_long, 400)
    assert Feature.objects.filter(product=product).count() == 1


# --- Bulk edits ----------------------------------------------------------------------------------


def _bulk(client, product, data, htmx=True):
    headers = {**HTMX, "HX-Current-URL": f"http://testserver{_table(product)}"} if htmx else {}
    return client.post(reverse("roadmap:table_bulk", args=[product.slug]), data, headers=headers)


def test_bulk_status_change_is_applied_to_every_ticked_feature_and_reranks_once(
    editor_client, editor, product, ranked
):
    high, middle, low = ranked
    item = f.RoadmapItemFactory(product=product, feature=middle, horizon="now")

    response = _bulk(
        editor_client, product, {"features": [high.pk, middle.pk], "status": "shipped"}
    )

    html = _html(response)
    high.refresh_from_db()
    middle.refresh_from_db()
    low.refresh_from_db()
    assert (high.status, middle.status, low.status) == ("shipped", "shipped", "idea")
    assert (high.version, middle.version, low.version) == (2, 2, 1)
    assert (high.rank, middle.rank, low.rank) == (None, None, 1)
    assert high.history.first().history_user == editor
    assert high.history.first().status == "shipped"
    assert ChangeEvent.objects.get(item=item).kind == "shipped"
    assert "Status Shipped: 2 of 2 features changed." in html
    # The table again, in its view (open features: the shipped ones left it), the bulk form
    # emptied, and the new ranks.
    assert _order(html) == [low.pk]
    assert _text(html, f"f{low.pk}-rank") == "#1"
    assert _attrs(html, "bulk-status")["id"] == "bulk-status"
    assert "selected>Shipped" not in html.split('id="bulk-form"')[1]


def test_bulk_release_is_set_on_roadmap_items_and_the_others_are_named(
    editor_client, product, ranked
):
    high, middle, low = ranked
    release = f.ReleaseFactory(product=product, name="Summer")
    on_roadmap = [
        f.RoadmapItemFactory(product=product, feature=feature, horizon="next")
        for feature in (high, middle)
    ]

    html = _html(
        _bulk(
            editor_client,
            product,
            {"features": f"{high.pk},{middle.pk},{low.pk}", "release": str(release.pk)},
        )
    )

    assert [RoadmapItem.objects.get(pk=i.pk).release for i in on_roadmap] == [release, release]
    assert not RoadmapItem.objects.filter(feature=low).exists()
    assert (
        "Release “Summer” on 2 features on the roadmap. "
        "1 is not on the roadmap, so got no release: “Low”."
    ) in html
    assert ChangeEvent.objects.filter(kind="release_changed").count() == 2
    assert _text(html, f"f{high.pk}-t") == "High"
    assert "Summer" in html[html.index(f'id="feature-{high.pk}"') :].split("</tr>")[0]

    html = _html(_bulk(editor_client, product, {"features": [high.pk], "release": "none"}))
    assert RoadmapItem.objects.get(pk=on_roadmap[0].pk).release is None


def test_bulk_tag_is_added_once(editor_client, product, ranked):
    high, middle, low = ranked
    existing = f.TagFactory(product=product, name="q3 launch")
    high.tags.add(existing)

    html = _html(
        _bulk(editor_client, product, {"features": [high.pk, middle.pk], "tag": "  Q3   Launch "})
    )

    assert Tag.objects.filter(product=product).count() == 1
    assert set(existing.features.all()) == {high, middle}
    assert "Tag “q3 launch”: 1 of 2 features changed." in html
    # Still ticked, for a next edit of the same features.
    assert "checked" in _attrs(html, f"f{high.pk}-select")
    assert "checked" in _attrs(html, f"f{middle.pk}-select")
    assert "checked" not in _attrs(html, f"f{low.pk}-select")
    assert "Q3 Launch" not in html.split('id="bulk-form"')[1]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"status": "shipped", "tag": "x" * 60}, "at most 50 characters"),
        ({"status": "nonsense"}, "Select a valid choice."),
        ({}, "Choose a status, a release or a tag to apply."),
        ({"status": "shipped", "features": "OTHER"}, "no longer in this product"),
        ({"status": "shipped", "features": "1,two"}, "The selection is not valid"),
        ({"status": "shipped", "features": ""}, "Select at least one feature."),
    ],
)
def test_a_refused_bulk_edit_changes_nothing(
    editor_client, product, ranked, other_workspace, data, message
):
    high, middle, _ = ranked
    foreign = f.FeatureFactory(product=f.ProductFactory(workspace=other_workspace))
    data = {"features": f"{high.pk},{middle.pk}", **data}
    if data["features"] == "OTHER":
        data["features"] = f"{high.pk},{foreign.pk}"
    before = [_snapshot(feature) for feature in (high, middle, foreign)]

    response = _bulk(editor_client, product, data)

    html = _html(response)
    assert response["HX-Retarget"] == "#bulk-form"
    assert message in _text(html, "bulk-error")
    assert [_snapshot(feature) for feature in (high, middle, foreign)] == before
    assert not Tag.objects.exists()


def test_bulk_edit_without_javascript(editor_client, product, ranked):
    high, middle, _ = ranked
    back = f"{_table(product)}?sort=title"

    done = _bulk(
        editor_client,
        product,
        {"features": [high.pk, middle.pk], "status": "planned", "next": back},
        htmx=False,
    )
    refused = _bulk(editor_client, product, {"features": [high.pk], "tag": "y" * 60}, htmx=False)

    assert done.status_code == 302 and done["Location"] == back
    assert Feature.objects.get(pk=middle.pk).status == "planned"
    assert "at most 50 characters" in _html(refused, 400)


def test_bulk_edit_runs_a_constant_number_of_queries(editor_client, product, ranked):
    def queries(n: int) -> int:
        features = Feature.objects.bulk_create(
            [Feature(product=product, title=f"Bulk {n}-{i}") for i in range(n)]
        )
        for feature in features[::2]:
            f.RoadmapItemFactory(product=product, feature=feature, horizon="later")
        release = f.ReleaseFactory(product=product)
        data = {
            "features": ",".join(str(x.pk) for x in features),
            "status": "planned",
            "release": str(release.pk),
            "tag": f"tag {n}",
        }
        with CaptureQueriesContext(connection) as captured:
            _html(_bulk(editor_client, product, data))
        assert Feature.objects.filter(title__startswith=f"Bulk {n}-", status="planned").count() == n
        return len(captured)

    # SQLite splits inserts of more than ~25 history rows in batches: stay under that here.
    assert queries(3) == queries(24)


# --- Who may do what -----------------------------------------------------------------------------


def test_viewers_see_the_same_table_without_any_control(viewer_client, product, ranked):
    high, _, _ = ranked

    html = _html(viewer_client.get(_table(product)))

    assert _text(html, f"f{high.pk}-reach-cell") == "1,000"
    assert _text(html, f"f{high.pk}-rank") == "#1"
    assert 'class="prio__input' not in html
    assert "data-row-select" not in html and "data-select-all" not in html
    assert "quick-add" not in html and "bulk-form" not in html
    assert f"f{high.pk}-form" not in html
    assert "Import CSV" not in html
    assert "Read-only" in html


def test_viewers_cannot_post(viewer_client, product, ranked):
    high, _, _ = ranked
    before = _snapshot(high)

    responses = [
        _cell_post(viewer_client, product, high, "reach", "1"),
        viewer_client.post(_edit(product, high), {"reach": "1", "version": "1"}),
        viewer_client.post(reverse("roadmap:table_quick_add", args=[product.slug]), {"title": "x"}),
        _bulk(viewer_client, product, {"features": [high.pk], "status": "shipped"}),
    ]

    assert [r.status_code for r in responses] == [403, 403, 403, 403]
    assert _snapshot(high) == before
    assert Feature.objects.filter(product=product).count() == 3


def test_outsiders_get_404_everywhere(outsider_client, product, ranked):
    high, _, _ = ranked
    before = _snapshot(high)

    responses = [
        outsider_client.get(_table(product)),
        outsider_client.get(reverse("roadmap:table_row", args=[product.slug, high.pk])),
        _cell_post(outsider_client, product, high, "reach", "1"),
        outsider_client.post(
            reverse("roadmap:table_quick_add", args=[product.slug]), {"title": "x"}
        ),
        _bulk(outsider_client, product, {"features": [high.pk], "status": "shipped"}),
    ]

    assert [r.status_code for r in responses] == [404] * 5
    assert _snapshot(high) == before


def test_a_feature_of_another_product_cannot_be_edited_through_this_one(
    editor_client, workspace, product, ranked
):
    other = f.FeatureFactory(product=f.ProductFactory(workspace=workspace))
    before = _snapshot(other)

    response = editor_client.post(
        _edit(product, other),
        {"reach": "1", "version": "1"},
        headers={**HTMX, "HX-Trigger-Name": "reach"},
    )

    assert response.status_code == 404
    assert _snapshot(other) == before


def test_anonymous_visitors_are_sent_to_log_in(client, product):
    response = client.get(_table(product))

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# --- Query counts --------------------------------------------------------------------------------


def _many(product, n: int) -> list[Feature]:
    """``n`` scored features with personas, tags, evidence, placements and last week's ranks,
    made in bulk."""
    personas = [f.PersonaFactory(product=product) for _ in range(3)]
    tags = [f.TagFactory(product=product) for _ in range(3)]
    release = f.ReleaseFactory(product=product)
    start = Feature.objects.filter(product=product).count()
    features = Feature.objects.bulk_create(
        [
            Feature(
                product=product,
                title=f"Feature {start + i}",
                reach=10 * (i + 1),
                impact=Decimal("1.00"),
                confidence=80,
                effort=Decimal("2.00"),
                moscow=("must", "should", "")[i % 3],
            )
            for i in range(n)
        ]
    )
    Feature.personas.through.objects.bulk_create(
        [
            Feature.personas.through(feature_id=x.pk, persona_id=p.pk)
            for i, x in enumerate(features)
            for p in personas[: 1 + i % 3]
        ]
    )
    Feature.tags.through.objects.bulk_create(
        [
            Feature.tags.through(feature_id=x.pk, tag_id=tags[i % 3].pk)
            for i, x in enumerate(features)
        ]
    )
    insight = f.InsightFactory(product=product)
    Insight.features.through.objects.bulk_create(
        [Insight.features.through(insight_id=insight.pk, feature_id=x.pk) for x in features]
    )
    RoadmapItem.objects.bulk_create(
        [
            RoadmapItem(product=product, feature=x, horizon="next", release=release, position=i)
            for i, x in enumerate(features[::2])
        ]
    )
    _scored(product)
    last_week = timezone.localdate() - datetime.timedelta(days=7)
    FeatureRankSnapshot.objects.bulk_create(
        [
            FeatureRankSnapshot(feature=x, taken_on=last_week, rank=i + 1)
            for i, x in enumerate(features)
        ]
    )
    return features


def _count_queries(client, method: str, url: str, data=None, **kwargs) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(url, data or {}, **kwargs)
    return len(captured), response


@pytest.mark.parametrize("framework", ["rice", "weighted"])
def test_the_page_runs_the_same_queries_for_3_or_1000_features(
    editor_client, workspace, framework, django_assert_max_num_queries
):
    product = f.ProductFactory(workspace=workspace, scoring_framework=framework)
    if framework == "weighted":
        f.ScoringDriverFactory(product=product)
    _many(product, 3)
    small, _ = _count_queries(editor_client, "get", _table(product), {"sort": "-evidence"})
    _many(product, 997)

    # A full page adds one capped count of the view (a short page counts its own rows).
    with django_assert_max_num_queries(small + 1):
        response = editor_client.get(_table(product), {"sort": "-evidence"})
    with django_assert_max_num_queries(small):
        everything = editor_client.get(_table(product), {"sort": "-evidence", "all": "1"})

    html = _html(response)
    assert html.count('class="table__title"') == 50  # the first page of the ranking
    assert "<strong>1000</strong> open features" in html
    assert "Show 50 more</a>" in html
    assert "Show all 1000</a>" in html
    assert _html(everything).count('class="table__title"') == 1000
    assert "Show all 1000" not in _html(everything)
    # 14, plus one for the reader's column layout and one for the product's custom fields
    assert small <= 16


def test_show_all_streams_every_row_in_order_reading_them_a_chunk_at_a_time(
    editor_client, product, monkeypatch
):
    """ "Show all" writes the page around the rows first, then the rows as it reads them: the
    queries grow with the chunks (STREAM_CHUNK rows each), not the rows, and the page is whole."""
    from roadmap.planning.selectors import table as table_selectors

    monkeypatch.setattr(table_selectors, "STREAM_CHUNK", 20)
    _many(product, 3)

    def streamed():
        response = editor_client.get(_table(product), {"all": "1"})
        assert response.streaming
        with CaptureQueriesContext(connection) as queries:
            html = _html(response)
        return html, len(queries)

    few_html, few = streamed()
    _many(product, 97)  # 100 rows: 5 chunks
    html, many = streamed()

    by_rank = list(
        Feature.objects.filter(product=product).order_by("rank").values_list("pk", flat=True)
    )
    assert _order(html) == by_rank
    assert len(by_rank) == 100
    # Each further chunk: its rows and their personas, tags (and nothing per row).
    assert few < many <= few + 4 * 3
    assert html.rstrip().endswith("</html>")
    assert html.count("<!-- rows -->") == 0
    assert "Show all 100" not in html and "Show 50 more" not in html
    assert "<strong>100</strong> open features" in html
    assert len(_order(few_html)) == 3


def test_show_more_adds_a_page_of_rows_and_keeps_the_view(editor_client, product):
    _many(product, 120)
    by_rank = list(Feature.objects.filter(product=product).order_by("rank"))

    first = _html(editor_client.get(_table(product), {"sort": "rank"}))
    more = _html(editor_client.get(_table(product), {"rows": "100"}))
    last = _html(editor_client.get(_table(product), {"rows": "100", "sort": "-rank"}))
    fragment = editor_client.get(_table(product), {"rows": "100"}, headers=HTMX)

    assert first.count('class="table__title"') == 50
    assert f'href="{_table(product)}?rows=100"' in first
    assert "Showing the first 50 of 120." in first
    assert more.count('class="table__title"') == 100
    assert more.index(f'id="feature-{by_rank[0].pk}"') < more.index(
        f'id="feature-{by_rank[99].pk}"'
    )
    assert f'id="feature-{by_rank[100].pk}"' not in more
    assert "Show 20 more</a>" in more
    assert f'href="{_table(product)}?rows=120"' in more
    # Sorting keeps the rows shown; the rows are the other end of the ranking.
    assert f'id="feature-{by_rank[-1].pk}"' in last
    assert f'id="feature-{by_rank[0].pk}"' not in last
    # htmx gets the table alone, and the address bar says how many rows are shown.
    assert fragment.headers["HX-Push-Url"] == f"{_table(product)}?rows=100"
    assert _html(fragment).count('class="table__title"') == 100


@pytest.mark.parametrize("rows", ["0", "-5", "abc", "100001", "1e3"])
def test_a_bad_rows_parameter_shows_the_first_page(editor_client, product, rows):
    _many(product, 60)

    html = _html(editor_client.get(_table(product), {"rows": rows}))

    assert html.count('class="table__title"') == 50
    assert "Show 10 more</a>" in html


def test_a_row_saved_without_javascript_returns_to_the_rows_shown(editor_client, product):
    features = _many(product, 60)
    feature = Feature.objects.get(pk=features[0].pk)

    response = editor_client.post(
        _edit(product, feature),
        {"reach": "777", "version": str(feature.version), "next": f"{_table(product)}?rows=60"},
    )

    assert response.status_code == 302
    assert response.url == f"{_table(product)}?rows=60#feature-{feature.pk}"
    feature.refresh_from_db()
    assert feature.reach == 777


def test_an_htmx_edit_runs_the_same_queries_for_3_or_1000_features(
    editor_client, product, django_assert_max_num_queries
):
    # Features off the roadmap: a big jump of one on it records a digest event (a query more).
    first = _many(product, 3)[1]
    small, response = _count_queries(
        editor_client,
        "post",
        _edit(product, first),
        {"reach": "999", "version": "1"},
        headers={**HTMX, "HX-Trigger-Name": "reach"},
    )
    assert response.status_code == 200
    last = _many(product, 997)[1]  # ranked near the bottom

    with django_assert_max_num_queries(small):
        response = editor_client.post(
            _edit(product, last),
            {"reach": "99999", "version": "1"},
            headers={**HTMX, "HX-Trigger-Name": "reach"},
        )

    assert Feature.objects.get(pk=last.pk).rank == 1
    assert f'id="f{first.pk}-rank"' in _html(response)  # every row below moved down one


# An edit of one input from the table (htmx, the page's rows posted as ``shown``), in a test's
# transaction: the session and user (2), the product with the member's role (1), its custom fields
# (1: the table's columns), the feature (1), the ranks of the rows shown before (1); in
# features_write, a savepoint here (2: an atomic block in the test's transaction), the product's
# lock, which reads its tie-break (1), the feature locked (1), one UPDATE of the input and version
# (1), the webhook endpoints (1), the history row (1), the score (1), the new rank found (1),
# whether any feature is on the roadmap (1) and, as some are, the ranks of theirs that may move (1:
# their change events), the ranks shifted (1), the scores and ranks read back (1); then the row (1)
# and the ranks shown after (1).
EDIT_ONE_INPUT_QUERIES = 21


@pytest.mark.parametrize("size", [200, 2000])
def test_an_htmx_edit_of_one_input_runs_a_fixed_number_of_queries(
    editor_client, product, size, django_assert_max_num_queries
):
    """Issue 20: a small move costs the same few queries whatever the product's size."""
    features = _many(product, size)
    page = list(Feature.objects.filter(product=product).order_by("rank")[:50])
    edited = page[10]  # moves a few ranks up
    edited.refresh_from_db()
    before = edited.rank

    data = {"reach": str(edited.reach + 25), "version": "1", "shown": _ids(page)}
    headers = {**HTMX, "HX-Trigger-Name": "reach", "HX-Current-URL": _table(product)}
    with django_assert_max_num_queries(EDIT_ONE_INPUT_QUERIES):
        response = editor_client.post(_edit(product, edited), data, headers=headers)

    assert response.status_code == 200
    edited.refresh_from_db()
    assert edited.rank < before
    assert edited.version == 2
    assert len(features) == size
    # The score as the one formula computes it from the stored inputs.
    assert edited.score == Decimal(edited.reach) * edited.impact * edited.confidence / 100 / (
        edited.effort
    )


def test_an_htmx_edit_on_a_page_of_50_rows_answers_their_ranks_only(editor_client, product):
    _many(product, 1000)
    on_page = list(Feature.objects.filter(product=product).order_by("rank")[:50])
    last = Feature.objects.filter(product=product).order_by("rank").last()
    before = dict(Feature.objects.filter(product=product).values_list("pk", "rank"))

    response = _cell_post(editor_client, product, last, "reach", "99999", shown=on_page)

    html = _html(response)
    after = dict(Feature.objects.filter(product=product).values_list("pk", "rank"))
    assert after[last.pk] == 1
    # Every other row moved down one; the answer carries the edited row and the 50 on the page.
    assert all(after[pk] == rank + 1 for pk, rank in before.items() if pk != last.pk)
    assert html.count('class="num prio__rank"') == 51


def test_the_page_loads_its_script(editor_client, product):
    html = _html(editor_client.get(_table(product)))

    assert '<script type="module" src="/static/js/table.js"></script>' in html


def test_personas_filter_offers_only_this_products_personas(viewer_client, product, workspace):
    mine = f.PersonaFactory(product=product, name="Mine")
    theirs = f.PersonaFactory(product=f.ProductFactory(workspace=workspace), name="Theirs")

    html = _html(viewer_client.get(_table(product), {"persona": str(theirs.pk)}))

    assert ">Mine<" in html and ">Theirs<" not in html
    assert f'<option value="{mine.pk}">' in html
    assert Persona.objects.count() == 2


def test_re_sorting_is_offered_only_when_the_edit_changed_the_sort(editor_client, product, ranked):
    _, _, low = ranked
    by_title = f"http://testserver{_table(product)}?sort=title"
    by_rank = f"http://testserver{_table(product)}"

    kept = _html(_cell_post(editor_client, product, low, "reach", "4000", current=by_title))
    moved = _html(_cell_post(editor_client, product, low, "reach", "2", current=by_rank))

    assert "Re-sort" not in kept
    assert "Re-sort by the new ranks" in moved
    assert _attrs(moved, "table-resort")["href"] == _table(product)


# --- Each member's columns ------------------------------------------------------------------------


def _columns(client, product, shown, *, htmx=False, next_url=None):
    headers = {**HTMX, "HX-Current-URL": f"http://testserver{_table(product)}"} if htmx else {}
    data = {"shown": shown, **({"next": next_url} if next_url else {})}
    return client.post(reverse("roadmap:table_columns", args=[product.slug]), data, headers=headers)


def test_a_member_hides_columns_from_their_own_table(client, editor, viewer, product, ranked):
    high, _, _ = ranked
    f.PersonaFactory(product=product, name="Admin").features.add(high)
    client.force_login(editor)

    response = _columns(client, product, ["status", "moscow", "roadmap"])
    html = _html(client.get(_table(product)))
    client.force_login(viewer)
    theirs = _html(client.get(_table(product)))

    assert response.status_code == 302
    assert response.url == _table(product)
    for hidden in ("kano", "personas", "evidence", "demand"):
        assert f'id="col-{hidden}"' not in html
    assert f'id="f{high.pk}-kano-cell"' not in html
    assert 'class="prio__personas"' not in html
    for shown in ("rank", "reach", "score", "status", "moscow", "roadmap"):
        assert f'id="col-{shown}"' in html
    row = html[html.index(f'id="feature-{high.pk}"') :]
    row = row[: row.index("</tr>")]
    header = html[html.index("<thead>") : html.index("</thead>")]
    cells = len(re.findall(r"<t[dh][ >]", row))
    assert cells == len(re.findall(r"<th[ >]", header)) == 12
    # The menu says what is shown; the viewer's table still has every column.
    assert 'value="kano">' in html and 'value="status" checked>' in html
    assert 'id="col-kano"' in theirs and 'class="prio__personas"' in theirs
    assert TableLayout.objects.get(user=editor, product=product).hidden_columns == [
        "kano",
        "personas",
        "evidence",
        "demand",
    ]


def test_htmx_gets_the_table_with_the_new_columns(editor_client, product, ranked):
    high, _, _ = ranked

    first = _html(_columns(editor_client, product, ["status"], htmx=True))
    again = _html(_columns(editor_client, product, list(HIDEABLE), htmx=True))

    assert 'id="col-status"' in first and 'id="col-kano"' not in first
    assert f'id="f{high.pk}-status-cell"' in first
    assert 'id="col-kano"' in again and 'id="col-personas"' in again
    assert TableLayout.objects.get(product=product).hidden_columns == []


def test_the_layout_survives_filters_reloads_and_the_rows_htmx_adds(editor_client, product, ranked):
    high, _, _ = ranked
    _columns(editor_client, product, [])

    filtered = _html(editor_client.get(_table(product), {"sort": "-score"}))
    row = _html(
        editor_client.get(reverse("roadmap:table_row", args=[product.slug, high.pk]), headers=HTMX)
    )
    added = _html(
        editor_client.post(
            reverse("roadmap:table_quick_add", args=[product.slug]),
            {"title": "Offline mode"},
            headers={**HTMX, "HX-Current-URL": f"http://testserver{_table(product)}"},
        )
    )

    for html in (filtered, row, added):
        assert "-status-cell" not in html
        assert "prio__personas" not in html and "prio__roadmap" not in html
    assert f'id="f{high.pk}-reach-cell"' in row


def test_a_plain_form_goes_back_to_the_view_it_came_from(viewer_client, viewer, product):
    back = f"{_table(product)}?sort=-score&moscow=must"

    response = _columns(viewer_client, product, ["status"], next_url=back)

    assert response.status_code == 302
    assert response.url == back
    assert TableLayout.objects.get(user=viewer).hidden_columns == [
        "moscow",
        "kano",
        "personas",
        "evidence",
        "demand",
        "roadmap",
    ]


@pytest.mark.parametrize("shown", [["title"], ["score"], ["<script>"]])
def test_a_column_outside_the_menu_is_refused_and_nothing_changes(
    editor_client, editor, product, shown
):
    _columns(editor_client, product, ["status"])

    response = _columns(editor_client, product, shown)

    assert response.status_code == 400
    assert TableLayout.objects.get(user=editor).hidden_columns == [
        "moscow",
        "kano",
        "personas",
        "evidence",
        "demand",
        "roadmap",
    ]


def test_the_service_refuses_a_column_that_cannot_be_hidden(editor, product):
    with pytest.raises(ValidationError) as refused:
        table_layout_save(user=editor, product=product, hidden=["score", "kano"])

    assert refused.value.message_dict == {"columns": ["These columns cannot be hidden: score."]}
    assert not TableLayout.objects.exists()


def test_a_stored_key_of_a_column_since_removed_is_ignored(editor_client, editor, product, ranked):
    TableLayout.objects.create(user=editor, product=product, hidden_columns=["gone", "kano"])

    html = _html(editor_client.get(_table(product)))

    assert 'id="col-kano"' not in html and 'id="col-status"' in html
