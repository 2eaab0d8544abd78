"""The external roadmap: the allow-list projection per audience, its changes, and the public page,
JSON and Atom feed behind a share link."""

import datetime
import json
import xml.etree.ElementTree as ET
from decimal import Decimal

import feedparser
import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import rfc3339_date
from django.utils.http import http_date

from roadmap.models import ChangeEvent, ChangeKind, Product, RoadmapItem, ShareLink
from roadmap.planning.services import roadmap as records
from roadmap.planning.services.features import feature_update
from roadmap.sharing import external
from tests import factories as f

pytestmark = pytest.mark.urls("tests.roadmap.urls_with_sharing")

ATOM = "{http://www.w3.org/2005/Atom}"
TODAY = timezone.localdate()


def _item(product, *, title, visibility="external", status="planned", feature=True, **kwargs):
    """A roadmap item of a feature (or a theme) titled ``title`` internally."""
    if feature:
        kwargs["feature"] = f.FeatureFactory(product=product, title=title, status=status)
    else:
        kwargs.update(feature=None, title=title, theme_status=status)
    return f.RoadmapItemFactory(product=product, visibility=visibility, **kwargs)


def _titles(group):
    return [item["title"] for item in group["items"]]


# --- The projection: customers ------------------------------------------------------------------


def test_customers_see_external_items_in_horizon_columns_with_plain_fields(product):
    lane = f.LaneFactory(product=product, name="Reporting")
    exports = _item(
        product,
        title="Internal name of exports",
        external_title="Exports to Excel",
        external_description="Download any table.",
        horizon="now",
        lane=lane,
        status="in_progress",
        position=0,
    )
    dark = _item(product, title="Dark mode", horizon="next", status="discovery")
    offline = _item(product, title="Offline sync", horizon="later", status="idea", feature=False)
    _item(product, title="Secret pricing rework", visibility="internal", horizon="now")
    _item(product, title="Dropped idea", horizon="now", status="archived")

    roadmap = external.external_roadmap(product=product, audience="customers")

    assert roadmap == {
        "product": {"name": product.name, "vision": product.vision},
        "audience": {
            "key": "customers",
            "label": "Customers",
            "title": "What we are building",
            "intro": external.AUDIENCES["customers"].intro,
            "granularity": "horizon",
        },
        "groups": [
            {
                "key": "now",
                "label": "Now",
                "items": [
                    {
                        "anchor": external.item_anchor(exports.pk),
                        "title": "Exports to Excel",
                        "description": "Download any table.",
                        "lane": "Reporting",
                        "status": "in progress",
                        "timeframe": "Now",
                    }
                ],
            },
            {
                "key": "next",
                "label": "Next",
                "items": [
                    {
                        "anchor": external.item_anchor(dark.pk),
                        "title": "Dark mode",
                        "description": "",
                        "lane": "",
                        "status": "planned",
                        "timeframe": "Next",
                    }
                ],
            },
            {
                "key": "later",
                "label": "Later",
                "items": [
                    {
                        "anchor": external.item_anchor(offline.pk),
                        "title": "Offline sync",
                        "description": "",
                        "lane": "",
                        "status": "planned",
                        "timeframe": "Later",
                    }
                ],
            },
        ],
        "shipped_recently": [],
        "objectives": None,
        "lanes": None,
        "positioning": None,
    }


def test_customers_get_empty_columns_for_an_empty_roadmap(product):
    roadmap = external.external_roadmap(product=product, audience="customers")

    assert [(g["label"], g["items"]) for g in roadmap["groups"]] == [
        ("Now", []),
        ("Next", []),
        ("Later", []),
    ]


def test_items_keep_the_pms_order_within_a_column_and_date_order_within_a_quarter(product):
    for position, title, end in [
        (2, "Third", datetime.date(2027, 1, 5)),
        (0, "First", datetime.date(2027, 3, 5)),
        (1, "Second", None),
    ]:
        _item(product, title=title, horizon="next", position=position, end_date=end)

    customers = external.external_roadmap(product=product, audience="customers")
    investors = external.external_roadmap(product=product, audience="investors")

    assert _titles(customers["groups"][1]) == ["First", "Second", "Third"]
    assert [(g["label"], _titles(g)) for g in investors["groups"]] == [
        ("Q1 2027", ["Third", "First"]),
        ("Next", ["Second"]),
    ]


def test_shipped_recently_lists_items_shipped_in_the_last_90_days_newest_first(product):
    _item(product, title="Old win", status="shipped", end_date=TODAY - datetime.timedelta(days=91))
    _item(product, title="Edge win", status="shipped", end_date=TODAY - datetime.timedelta(days=90))
    _item(product, title="Fresh win", status="shipped", end_date=TODAY - datetime.timedelta(days=3))
    _item(product, title="Hidden win", status="shipped", visibility="internal", end_date=TODAY)
    _item(product, title="Still building", status="in_progress", horizon="now")

    roadmap = external.external_roadmap(product=product, audience="customers")

    shipped = roadmap["shipped_recently"]
    assert [i["title"] for i in shipped] == ["Fresh win", "Edge win"]
    assert shipped[0]["status"] == "shipped"
    assert shipped[0]["timeframe"] == external.quarter_label(TODAY - datetime.timedelta(days=3))
    assert [_titles(g) for g in roadmap["groups"]] == [["Still building"], [], []]


def test_ship_date_comes_from_the_shipped_event_before_any_planned_date(product, editor):
    feature = f.FeatureFactory(product=product, title="Audit log", status="in_progress")
    item = records.roadmap_item_save(
        product=product,
        data={
            "feature": feature,
            "visibility": "external",
            "end_date": TODAY - datetime.timedelta(days=400),
        },
    )
    feature_update(feature=feature, data={"status": "shipped"}, actor=editor)
    assert ChangeEvent.objects.filter(item=item, kind=ChangeKind.SHIPPED).count() == 1

    roadmap = external.external_roadmap(product=product, audience="customers")

    assert [i["title"] for i in roadmap["shipped_recently"]] == ["Audit log"]
    assert roadmap["shipped_recently"][0]["timeframe"] == external.quarter_label(TODAY)


def test_today_decides_what_is_recent(product):
    _item(product, title="Win", status="shipped", end_date=datetime.date(2027, 1, 10))

    def shipped(today):
        roadmap = external.external_roadmap(product=product, audience="customers", today=today)
        return [i["title"] for i in roadmap["shipped_recently"]]

    assert shipped(datetime.date(2027, 4, 10)) == ["Win"]
    assert shipped(datetime.date(2027, 4, 11)) == []


def test_unknown_audience_is_refused(product):
    with pytest.raises(ValueError, match="Unknown audience"):
        external.external_roadmap(product=product, audience="competitors")


# --- The projection: investors and executives ---------------------------------------------------


def test_investors_see_quarters_from_end_start_or_release_date_and_undated_horizons(product):
    release = f.ReleaseFactory(product=product, target_date=datetime.date(2027, 8, 30))
    _item(product, title="Undated later", horizon="later")
    _item(product, title="By release", horizon="next", release=release)
    _item(
        product,
        title="By end",
        horizon="now",
        start_date=datetime.date(2026, 12, 1),
        end_date=datetime.date(2027, 2, 14),
    )
    _item(product, title="By start", horizon="next", start_date=datetime.date(2027, 4, 1))
    _item(product, title="Undated now", horizon="now", status="in_progress")
    _item(product, title="Undated next", horizon="next")

    roadmap = external.external_roadmap(product=product, audience="investors")

    assert [(g["label"], _titles(g)) for g in roadmap["groups"]] == [
        ("Now", ["Undated now"]),
        ("Q1 2027", ["By end"]),
        ("Q2 2027", ["By start"]),
        ("Q3 2027", ["By release"]),
        ("Next", ["Undated next"]),
        ("Later", ["Undated later"]),
    ]
    by_end = roadmap["groups"][1]["items"][0]
    assert by_end["timeframe"] == "Q1 2027"
    assert roadmap["shipped_recently"] is None
    assert roadmap["lanes"] is None
    assert "2027-02-14" not in json.dumps(roadmap)


def test_investors_see_objectives_with_target_and_progress_only(product):
    f.ObjectiveFactory(
        product=product,
        name="Grow activation",
        metric="teams active weekly",
        unit="%",
        baseline=Decimal("20"),
        target=Decimal("45.50"),
        current=Decimal("30.20"),
        due=datetime.date(2027, 6, 30),
        description="Board asked for this after the churn scare",
    )
    f.ObjectiveFactory(
        product=product,
        name="Enterprise revenue",
        metric="annual recurring revenue",
        unit="€",
        baseline=None,
        target=Decimal("2500000"),
        current=None,
        due=None,
    )

    objectives = external.external_roadmap(product=product, audience="investors")["objectives"]

    assert objectives == [
        {
            "name": "Grow activation",
            "metric": "teams active weekly",
            "target": "45.5%",
            "progress": 40,
            "due": "Q2 2027",
        },
        {
            "name": "Enterprise revenue",
            "metric": "annual recurring revenue",
            "target": "2,500,000 €",
            "progress": None,
            "due": "",
        },
    ]


def test_customers_never_get_objectives(product):
    f.ObjectiveFactory(product=product, name="Grow activation")

    roadmap = external.external_roadmap(product=product, audience="customers")

    assert roadmap["objectives"] is None
    assert "Grow activation" not in json.dumps(roadmap)


def test_executives_get_a_summary_by_lane_of_shown_items_only(product):
    platform = f.LaneFactory(product=product, name="Platform", position=1)
    growth = f.LaneFactory(product=product, name="Growth", position=0)
    f.LaneFactory(product=product, name="Project Falcon", position=2)
    secret_lane = f.LaneFactory(product=product, name="Skunkworks", position=3)
    _item(product, title="A", lane=platform, status="in_progress")
    _item(product, title="B", lane=platform, status="planned")
    _item(product, title="C", lane=growth, status="shipped", end_date=TODAY)
    _item(product, title="D", status="planned")
    _item(product, title="E", lane=secret_lane, visibility="internal")
    _item(product, title="F", lane=platform, status="shipped", end_date=datetime.date(2020, 1, 1))

    roadmap = external.external_roadmap(product=product, audience="executives")

    assert roadmap["lanes"] == [
        {"name": "Growth", "planned": 0, "in_progress": 0, "shipped": 1, "total": 1},
        {"name": "Platform", "planned": 1, "in_progress": 1, "shipped": 0, "total": 2},
        {"name": "No theme", "planned": 1, "in_progress": 0, "shipped": 0, "total": 1},
    ]
    assert "Skunkworks" not in json.dumps(roadmap)
    assert "Project Falcon" not in json.dumps(roadmap)
    assert roadmap["objectives"] == []
    # Executives see recently shipped items in their quarter, old ones not at all.
    shown = [t for g in roadmap["groups"] for t in _titles(g)]
    assert sorted(shown) == ["A", "B", "C", "D"]


def test_projection_is_plain_data(product):
    f.ObjectiveFactory(product=product, due=datetime.date(2027, 1, 1))
    _item(
        product, title="A", end_date=datetime.date(2027, 3, 1), lane=f.LaneFactory(product=product)
    )
    _item(product, title="B", status="shipped", end_date=TODAY)

    def plain(value):
        if isinstance(value, dict):
            return all(isinstance(k, str) and plain(v) for k, v in value.items())
        if isinstance(value, list):
            return all(plain(v) for v in value)
        return value is None or type(value) in (str, int, bool)

    for audience in external.AUDIENCES:
        assert plain(external.external_roadmap(product=product, audience=audience))


@pytest.mark.parametrize("audience", ["customers", "investors", "executives"])
def test_projection_runs_a_constant_number_of_queries(product, audience, django_assert_num_queries):
    lanes = [f.LaneFactory(product=product) for _ in range(3)]
    release = f.ReleaseFactory(product=product, target_date=datetime.date(2027, 5, 1))
    f.ObjectiveFactory(product=product)

    def add(n):
        for i in range(n):
            _item(
                product,
                title=f"Item {i}",
                feature=i % 2 == 0,
                lane=lanes[i % 3],
                release=release if i % 4 == 0 else None,
                status=("planned", "in_progress", "shipped")[i % 3],
                horizon=("now", "next", "later")[i % 3],
            )

    add(3)
    # Investors and executives: objectives and the positioning (shown to them or not).
    expected = 1 if audience == "customers" else 3
    with django_assert_num_queries(expected):
        external.external_roadmap(product=product, audience=audience)
    add(30)
    with django_assert_num_queries(expected):
        roadmap = external.external_roadmap(product=product, audience=audience)
    assert sum(len(g["items"]) for g in roadmap["groups"]) >= 22


# --- Changes -------------------------------------------------------------------------------------


def _save(product, item=None, **data):
    return records.roadmap_item_save(product=product, item=item, data=data)


def test_changes_tell_added_moved_shipped_and_removed_with_the_before_title(product, editor):
    lane = f.LaneFactory(product=product, name="Reporting")
    feature = f.FeatureFactory(product=product, title="Internal exports", status="planned")
    item = _save(
        product,
        feature=feature,
        visibility="external",
        external_title="Exports",
        external_description="Any table to Excel.",
        horizon="later",
    )
    records.roadmap_item_move(item=item, horizon="now", position=0)
    _save(product, item=item, lane=lane)
    feature_update(feature=feature, data={"status": "in_progress"})
    feature_update(feature=feature, data={"status": "shipped"})
    _save(product, item=item, visibility="internal", external_title="Renamed while internal")

    entries = external.external_changes(product=product, audience="customers")

    assert [(e["kind"], e["title"], e["summary"]) for e in reversed(entries)] == [
        ("added", "Exports", "Added to the roadmap"),
        ("moved", "Exports", "Moved from Later to Now"),
        ("moved", "Exports", "Now under Reporting"),
        ("status", "Exports", "Now in progress"),
        ("shipped", "Exports", "Shipped"),
        ("removed", "Exports", "Removed from the roadmap"),
    ]
    added = entries[-1]
    assert added["description"] == "Any table to Excel."
    assert added["timeframe"] == "Later"
    assert all(isinstance(e["occurred_at"], datetime.datetime) for e in entries)
    assert len({e["id"] for e in entries}) == len(entries)
    assert "Internal exports" not in json.dumps(entries, default=str)
    assert "Renamed while internal" not in json.dumps(entries, default=str)


def test_changes_of_items_internal_on_both_sides_say_nothing(product):
    feature = f.FeatureFactory(product=product, title="Secret", status="planned")
    item = _save(product, feature=feature, horizon="later")
    records.roadmap_item_move(item=item, horizon="now", position=0)
    feature_update(feature=feature, data={"status": "shipped"})
    records.roadmap_item_delete(item=item)
    assert ChangeEvent.objects.filter(product=product).count() == 4

    for audience in external.AUDIENCES:
        assert external.external_changes(product=product, audience=audience) == []


def test_an_item_made_external_reads_as_added_and_deleted_as_removed(product):
    feature = f.FeatureFactory(product=product, title="Internal SSO", status="planned")
    item = _save(product, feature=feature, external_title="Single sign-on", horizon="next")
    _save(product, item=item, visibility="external", horizon="now")
    records.roadmap_item_delete(item=item)

    entries = external.external_changes(product=product, audience="customers")

    # Made external and moved in one edit: told once, as added, where it now is.
    assert [(e["kind"], e["title"], e["timeframe"]) for e in reversed(entries)] == [
        ("added", "Single sign-on", "Now"),
        ("removed", "Single sign-on", ""),
    ]


def test_date_changes_are_moves_by_quarter_for_investors_and_nothing_for_customers(product):
    item = _save(
        product,
        feature=f.FeatureFactory(product=product),
        visibility="external",
        external_title="Billing",
        end_date=datetime.date(2027, 4, 10),
    )
    _save(product, item=item, end_date=datetime.date(2027, 5, 20))  # same quarter
    _save(product, item=item, end_date=datetime.date(2027, 7, 2))  # next quarter
    ChangeEvent.objects.filter(kind=ChangeKind.ITEM_ADDED).delete()

    investors = external.external_changes(product=product, audience="investors")
    customers = external.external_changes(product=product, audience="customers")

    assert [(e["kind"], e["summary"], e["timeframe"]) for e in investors] == [
        ("moved", "Moved from Q2 2027 to Q3 2027", "Q3 2027"),
    ]
    assert customers == []


def test_priority_changes_are_never_told(product):
    item = f.RoadmapItemFactory(product=product, visibility="external")
    snapshot = {
        "external_title": "Exports",
        "visibility": "external",
        "status": "planned",
        "horizon": "now",
        "lane": "",
        "rank": 3,
    }
    ChangeEvent.objects.create(
        product=product,
        item=item,
        kind=ChangeKind.PRIORITY_CHANGED,
        occurred_at=timezone.now(),
        before={**snapshot, "rank": 9},
        after=snapshot,
    )

    assert external.external_changes(product=product, audience="executives") == []


def test_changes_since_a_moment_and_limited_newest_first(product):
    item = _save(
        product, feature=f.FeatureFactory(product=product), visibility="external", horizon="now"
    )
    moment = timezone.now()
    records.roadmap_item_move(item=item, horizon="next", position=0)
    records.roadmap_item_move(item=item, horizon="later", position=0)

    since = external.external_changes(product=product, audience="customers", since=moment)
    latest = external.external_changes(product=product, audience="customers", limit=1)

    assert [e["summary"] for e in since] == ["Moved from Next to Later", "Moved from Now to Next"]
    assert [e["summary"] for e in latest] == ["Moved from Next to Later"]


def test_changes_of_another_product_are_not_told(product):
    other = f.ProductFactory(workspace=product.workspace)
    _save(other, feature=f.FeatureFactory(product=other), visibility="external")

    assert external.external_changes(product=product, audience="customers") == []


def test_changes_run_one_query(product, django_assert_num_queries):
    for _ in range(5):
        item = _save(
            product, feature=f.FeatureFactory(product=product), visibility="external", horizon="now"
        )
        records.roadmap_item_move(item=item, horizon="later", position=0)

    with django_assert_num_queries(1):
        entries = external.external_changes(product=product, audience="customers")
    assert len(entries) == 10


def test_digest_sections_for_an_audience_and_for_members(product):
    feature = f.FeatureFactory(product=product, title="Internal exports", status="planned")
    item = _save(
        product, feature=feature, visibility="external", external_title="Exports", horizon="next"
    )
    feature_update(feature=feature, data={"status": "shipped"})
    _save(product, feature=f.FeatureFactory(product=product, title="Hidden"), horizon="now")
    events = ChangeEvent.objects.filter(product=product).order_by("occurred_at", "id")

    public = external.digest_sections(product=product, audience="customers", events=events)
    internal = external.digest_sections(product=product, audience=None, events=events)

    assert public == [
        {
            "key": "shipped",
            "title": "Shipped",
            "entries": [{"title": "Exports", "detail": "Shipped"}],
        },
        {
            "key": "added",
            "title": "New on the roadmap",
            "entries": [{"title": "Exports", "detail": "Added to the roadmap (Next)"}],
        },
    ]
    assert item.pk
    assert [s["title"] for s in internal] == ["Added to the roadmap", "Shipped"]
    assert [e["title"] for e in internal[0]["entries"]] == ["Internal exports", "Hidden"]


# --- The public page -----------------------------------------------------------------------------


def _page(link, suffix=""):
    return reverse("external:roadmap", kwargs={"token": link.token}) + suffix


def _json(link):
    return reverse("external:json", kwargs={"token": link.token})


def _feed(link):
    return reverse("external:feed", kwargs={"token": link.token})


@pytest.fixture
def roadmap_link(product):
    product.vision = "Planning without spreadsheets."
    product.save()
    lane = f.LaneFactory(product=product, name="Reporting")
    _item(product, title="Internal exports", external_title="Exports", horizon="now", lane=lane)
    _item(product, title="Hidden thing", visibility="internal", horizon="now")
    _item(product, title="Audit log", status="shipped", end_date=TODAY)
    return f.ShareLinkFactory(product=product, audience="customers")


def test_page_renders_the_allow_list_without_login_or_script(client, roadmap_link):
    response = client.get(_page(roadmap_link))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Exports" in html
    assert "Reporting" in html
    assert "Planning without spreadsheets." in html
    assert "Shipped recently" in html and "Audit log" in html
    assert "Internal exports" not in html
    assert "Hidden thing" not in html
    assert roadmap_link.label not in html
    assert "<script" not in html
    assert 'href="/static/css/external.css"' in html
    assert "css/waymark.css" not in html
    assert response.templates[0].name == "external/roadmap.html"
    assert all(t.name != "base.html" for t in response.templates)


def test_page_context_holds_plain_data_only(client, roadmap_link):
    response = client.get(_page(roadmap_link))

    assert response.context["roadmap"] == external.external_roadmap(
        product=roadmap_link.product, audience="customers"
    )


def test_external_answers_are_not_indexed_framed_or_told_to_other_origins(client, roadmap_link):
    for url in (_page(roadmap_link), _json(roadmap_link), _feed(roadmap_link)):
        response = client.get(url)

        assert response.status_code == 200
        assert response["X-Robots-Tag"] == "noindex, nofollow"
        assert response["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
        assert "script-src" not in response["Content-Security-Policy"]
        assert "default-src 'none'" in response["Content-Security-Policy"]
        # The full address (the capability) goes to this site only; Chromium still sends the
        # page's own forms with their Origin, which "no-referrer" turned into "null".
        assert response["Referrer-Policy"] == "same-origin"
    html = client.get(_page(roadmap_link)).content.decode()
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert '<meta name="referrer" content="same-origin">' in html
    assert "no-referrer" not in html


def test_the_page_is_never_cached_the_feed_and_json_are_revalidated(client, roadmap_link):
    page = client.get(_page(roadmap_link))
    data = client.get(_json(roadmap_link))
    feed = client.get(_feed(roadmap_link))

    assert page["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"
    assert "ETag" not in page
    for response in (data, feed):
        assert response["Cache-Control"] == "private, no-cache"
        assert response["ETag"].startswith('"')


def test_embedding_follows_the_links_origins(client, product):
    link = f.ShareLinkFactory(
        product=product,
        allowed_embed_origins="https://intranet.example.com\nhttps://wiki.example.org:8443",
    )

    response = client.get(_page(link))

    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    assert response["Content-Security-Policy"].endswith(
        "frame-ancestors https://intranet.example.com https://wiki.example.org:8443"
    )


def test_print_view_renders_the_same_roadmap_in_the_print_layout(client, roadmap_link):
    html = client.get(_page(roadmap_link, "?print=1")).content.decode()

    assert '<body class="x x--print">' in html
    assert "Exports" in html and "Hidden thing" not in html
    normal = client.get(_page(roadmap_link)).content.decode()
    assert '<body class="x">' in normal


def test_stylesheet_has_print_rules_and_no_imports(settings):
    css = (settings.BASE_DIR / "static/css/external.css").read_text()

    assert "@media print" in css
    assert "@import" not in css and "url(" not in css


def test_json_is_the_same_content_as_the_page(client, roadmap_link):
    response = client.get(_json(roadmap_link))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == external.external_roadmap(
        product=roadmap_link.product, audience="customers"
    )


def test_each_audience_gets_its_own_sections(client, product):
    f.ObjectiveFactory(product=product, name="Grow activation")
    _item(product, title="Exports", end_date=datetime.date(2027, 8, 1))
    pages = {
        audience: client.get(
            _page(f.ShareLinkFactory(product=product, audience=audience))
        ).content.decode()
        for audience in external.AUDIENCES
    }

    assert "Shipped recently" in pages["customers"]
    assert "Grow activation" not in pages["customers"]
    assert "Q3 2027" not in pages["customers"]
    assert "Grow activation" in pages["investors"] and "Q3 2027" in pages["investors"]
    assert "By theme" not in pages["investors"]
    assert "By theme" in pages["executives"] and "Grow activation" in pages["executives"]
    assert "Shipped recently" not in pages["executives"]


def test_feed_is_atom_of_public_changes(client, product, site_url):
    feature = f.FeatureFactory(product=product, title="Internal exports", status="planned")
    item = _save(
        product, feature=feature, visibility="external", external_title="Exports", horizon="next"
    )
    records.roadmap_item_move(item=item, horizon="now", position=0)
    feature_update(feature=feature, data={"status": "shipped"})
    _save(product, feature=f.FeatureFactory(product=product, title="Hidden"), horizon="now")
    link = f.ShareLinkFactory(product=product)

    response = client.get(_feed(link))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    assert root.find(f"{ATOM}title").text == f"{product.name} roadmap"
    entries = root.findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}title").text for e in entries] == [
        "Shipped: Exports",
        "Moved from Next to Now: Exports",
        "Added to the roadmap: Exports",
    ]
    # Each entry links to its item on the page.
    anchor = external.item_anchor(item.pk)
    assert [e.find(f"{ATOM}link").get("href") for e in entries] == [
        f"{site_url}{_page(link)}#{anchor}"
    ] * 3
    assert f'id="{anchor}"' in client.get(_page(link)).content.decode()
    assert len({e.find(f"{ATOM}id").text for e in entries}) == 3
    body = response.content.decode()
    assert "Internal exports" not in body and "Hidden" not in body


def test_feed_of_a_quiet_roadmap_is_valid_and_empty(client, product):
    link = f.ShareLinkFactory(product=product)

    first = client.get(_feed(link))
    again = client.get(_feed(link))

    root = ET.fromstring(first.content)
    assert root.findall(f"{ATOM}entry") == []
    # Not the time of the request: the feed has been this way since the link was made.
    assert root.find(f"{ATOM}updated").text == rfc3339_date(link.created_at)
    assert first.content == again.content
    assert first["ETag"] == again["ETag"]
    assert feedparser.parse(first.content).bozo == 0


def _required_atom_elements(root) -> list[str]:
    """What RFC 4287 requires of a feed document that is missing or repeated in ``root``."""
    problems = []

    def once(parent, name, where):
        count = len(parent.findall(f"{ATOM}{name}"))
        if count != 1:
            problems.append(f"{where} has {count} {name}")

    for name in ("id", "title", "updated"):  # §4.1.1
        once(root, name, "feed")
    feed_author = root.find(f"{ATOM}author/{ATOM}name") is not None
    if not [x for x in root.findall(f"{ATOM}link") if x.get("rel") == "self"]:
        problems.append("feed has no self link")  # §4.1.1 SHOULD
    for entry in root.findall(f"{ATOM}entry"):
        where = f"entry {entry.findtext(f'{ATOM}id')}"
        for name in ("id", "title", "updated"):  # §4.1.2
            once(entry, name, where)
        if not feed_author and entry.find(f"{ATOM}author/{ATOM}name") is None:
            problems.append(f"{where} has no author, nor has the feed")
        alternates = [
            x for x in entry.findall(f"{ATOM}link") if x.get("rel", "alternate") == "alternate"
        ]
        if entry.find(f"{ATOM}content") is None and len(alternates) != 1:
            problems.append(f"{where} has no content and {len(alternates)} alternate links")
        for text in entry.findall(f"{ATOM}summary") + entry.findall(f"{ATOM}title"):
            if text.get("type", "text") != "text":
                problems.append(f"{where} has a {text.tag} of type {text.get('type')}")
    ids = [e.findtext(f"{ATOM}id") for e in root.findall(f"{ATOM}entry")]
    if len(set(ids)) != len(ids):
        problems.append("entries share ids")
    return problems


def test_feed_is_conforming_atom_with_plain_text_an_author_and_a_link_per_item(
    client, product, site_url
):
    product.name = "Atlas & Co"
    product.save()
    plain = _save(
        product,
        feature=f.FeatureFactory(product=product, title="Internal import"),
        visibility="external",
        external_title="Import <CSV> & Excel",
        external_description="Rows with <b>bold</b> & more stay as typed.",
        horizon="next",
    )
    other = _save(
        product,
        feature=f.FeatureFactory(product=product, title="Internal dark"),
        visibility="external",
        external_title="Dark mode",
        horizon="later",
    )
    link = f.ShareLinkFactory(product=product)

    response = client.get(_feed(link))
    parsed = feedparser.parse(response.content)

    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert _required_atom_elements(ET.fromstring(response.content)) == []
    assert parsed.feed.title == "Atlas & Co roadmap"
    assert parsed.feed.author == "Atlas & Co"
    page = f"{site_url}{_page(link)}"
    by_title = {e.title: e for e in parsed.entries}
    imported = by_title["Added to the roadmap: Import <CSV> & Excel"]
    assert imported.summary_detail.type == "text/plain"
    assert imported.summary == (
        "Added to the roadmap · Next\n\nRows with <b>bold</b> & more stay as typed."
    )
    assert imported.author == "Atlas & Co"
    assert imported.link == f"{page}#{external.item_anchor(plain.pk)}"
    assert by_title["Added to the roadmap: Dark mode"].link == (
        f"{page}#{external.item_anchor(other.pk)}"
    )
    html = client.get(_page(link)).content.decode()
    for entry in parsed.entries:
        assert f'id="{entry.link.partition("#")[2]}"' in html


def test_feed_leaves_out_characters_xml_cannot_carry(client, product):
    # Saved before names were one line, or typed into a description: the feed still parses.
    Product.objects.filter(pk=product.pk).update(name="Atlas\x0b", vision="Ship\x01 it")
    item = _save(
        product,
        feature=f.FeatureFactory(product=product, title="Internal"),
        visibility="external",
        external_title="Dark mode",
        external_description="Bell\x07 and form\x0c feed",
        horizon="next",
    )
    RoadmapItem.objects.filter(pk=item.pk).update(external_title="Dark\x1b mode")
    link = f.ShareLinkFactory(product=product)

    response = client.get(_feed(link))
    parsed = feedparser.parse(response.content)

    assert response.status_code == 200
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.feed.title == "Atlas roadmap"
    [entry] = parsed.entries
    assert entry.title == "Added to the roadmap: Dark mode"
    assert entry.summary.endswith("Bell and form feed")


def test_feed_updated_is_its_latest_entry(client, product):
    item = _item(product, title="Exports")
    records.roadmap_item_move(item=item, horizon="later", position=0)
    latest = ChangeEvent.objects.filter(product=product).latest("occurred_at").occurred_at
    link = f.ShareLinkFactory(product=product)

    root = ET.fromstring(client.get(_feed(link)).content)

    assert root.find(f"{ATOM}updated").text == rfc3339_date(latest)


@pytest.mark.parametrize("kind", ["json", "feed"])
def test_feed_and_json_answer_head_like_get_without_a_body(client, roadmap_link, kind):
    url = {"json": _json, "feed": _feed}[kind](roadmap_link)

    get = client.get(url)
    head = client.head(url)

    assert (get.status_code, head.status_code) == (200, 200)
    assert head.content == b""
    for header in ("Content-Type", "ETag", "Cache-Control", "Content-Security-Policy"):
        assert head[header] == get[header]
    assert head.get("Last-Modified") == get.get("Last-Modified")
    assert client.post(url).status_code == 405


@pytest.mark.parametrize("kind", ["json", "feed"])
def test_feed_and_json_answer_304_while_unchanged(client, roadmap_link, kind):
    url = {"json": _json, "feed": _feed}[kind](roadmap_link)
    first = client.get(url)

    same = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    head = client.head(url, HTTP_IF_NONE_MATCH=first["ETag"])
    records.roadmap_item_move(
        item=RoadmapItem.objects.get(product=roadmap_link.product, external_title="Exports"),
        horizon="later",
        position=0,
    )
    changed = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])

    assert (same.status_code, head.status_code) == (304, 304)
    assert same.content == b""
    assert same["ETag"] == first["ETag"]
    assert same["X-Robots-Tag"] == "noindex, nofollow"
    assert changed.status_code == 200
    assert changed["ETag"] != first["ETag"]


def test_feed_answers_304_since_its_last_modification(client, product):
    link = f.ShareLinkFactory(product=product)
    item = _item(product, title="Exports")
    records.roadmap_item_move(item=item, horizon="later", position=0)
    latest = ChangeEvent.objects.filter(product=product).latest("occurred_at").occurred_at
    first = client.get(_feed(link))

    since = client.get(_feed(link), HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    before = client.get(_feed(link), HTTP_IF_MODIFIED_SINCE=http_date(0))
    # Renamed a little later: the feed's title changes, and so does its Last-Modified.
    renamed_at = latest + datetime.timedelta(seconds=2)
    Product.objects.filter(pk=product.pk).update(name="Renamed", updated_at=renamed_at)
    renamed = client.get(_feed(link), HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])

    assert first["Last-Modified"] == http_date(latest.timestamp())
    assert since.status_code == 304
    assert before.status_code == 200
    assert renamed.status_code == 200
    assert renamed["Last-Modified"] == http_date(renamed_at.timestamp())


def test_page_json_and_feed_show_nothing_of_another_product_or_workspace(client, product):
    _item(product, title="Mine")
    sibling = f.ProductFactory(workspace=product.workspace)
    _save(
        sibling,
        feature=f.FeatureFactory(product=sibling, title="Sibling item"),
        visibility="external",
    )
    stranger = f.ProductFactory()
    _save(
        stranger,
        feature=f.FeatureFactory(product=stranger, title="Stranger item"),
        visibility="external",
    )
    link = f.ShareLinkFactory(product=product)

    for url in (_page(link), _json(link), _feed(link), _page(link, "?print=1")):
        body = client.get(url).content.decode()
        assert "Sibling item" not in body
        assert "Stranger item" not in body
        assert sibling.name not in body and stranger.name not in body
    assert "Mine" in client.get(_page(link)).content.decode()


def test_page_runs_a_constant_number_of_queries(client, product, django_assert_max_num_queries):
    link = f.ShareLinkFactory(product=product, audience="executives")
    f.ObjectiveFactory(product=product)
    lane = f.LaneFactory(product=product)
    for i in range(3):
        _item(product, title=f"Item {i}", lane=lane)
    with django_assert_max_num_queries(5):
        assert client.get(_page(link)).status_code == 200
    for i in range(30):
        _item(product, title=f"More {i}", lane=lane, end_date=datetime.date(2027, 1 + i % 12, 1))
    with django_assert_max_num_queries(5):
        assert client.get(_page(link)).status_code == 200
    with django_assert_max_num_queries(4):
        assert client.get(_json(link)).status_code == 200


def test_feed_runs_a_constant_number_of_queries(client, product, django_assert_max_num_queries):
    link = f.ShareLinkFactory(product=product)
    for _ in range(20):
        item = _save(
            product, feature=f.FeatureFactory(product=product), visibility="external", horizon="now"
        )
        records.roadmap_item_move(item=item, horizon="later", position=0)

    with django_assert_max_num_queries(2):
        response = client.get(_feed(link))
    assert len(ET.fromstring(response.content).findall(f"{ATOM}entry")) == 40


def test_share_link_of_a_deleted_product_is_gone(client, product):
    link = f.ShareLinkFactory(product=product)
    product.delete()

    assert client.get(_page(link)).status_code == 404
    assert not ShareLink.objects.filter(pk=link.pk).exists()
