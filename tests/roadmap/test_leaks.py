"""Proof that nothing internal leaves through a share link.

Every internal field of every model is filled with a unique marker (strings, numbers, exact dates);
every external surface — page, print view, JSON, Atom feed, each audience, the PM's preview, the
password and 404 pages, digest emails — is rendered, and no marker may appear. A property test
then does the same over random roadmaps whose items flip between internal and external.
"""

import datetime
import json
import uuid
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Role
from roadmap.models import (
    ChangeEvent,
    ChangeKind,
    Feature,
    FeatureStatus,
    Horizon,
    RoadmapItem,
    ShareLink,
)
from roadmap.planning.services import roadmap as records
from roadmap.planning.services.features import feature_update
from roadmap.sharing import external
from roadmap.sharing.services import sharing
from roadmap.sharing.services.digests import digest_build, subscription_add
from tests import factories as f

pytestmark = pytest.mark.urls("tests.roadmap.urls_with_sharing")

TODAY = timezone.localdate()

# Markers that must never reach an outsider, whatever the audience.
ALWAYS_SECRET = [
    # workspace, people
    "LEAKWORKSPACE",
    "LEAKOWNERNAME",
    "leakowner@",
    "LEAKMEMBERNAME",
    "leakmember@",
    "LEAKSUBSCRIBERNAME",
    "leaksubscriber@",
    # product
    "LEAKPRODUCTDESC",
    "LEAKPRODUCTLINE",
    # personas, drivers, tags
    "LEAKPERSONA",
    "LEAKSEGMENT",
    "LEAKGOALS",
    "LEAKPAINS",
    "7654321",
    "7,654,321",
    "LEAKDRIVER",
    "leaktag",
    # features on the external roadmap: everything but their external title/description
    "LEAKFEATURETITLE",
    "LEAKFEATUREDESC",
    "LEAKREQUIREMENTS",
    "LEAKBUSINESSCASE",
    "LEAKINTERNALNOTES",
    "987654.32",
    "987654",
    "987,654",
    "123456.78",
    "123456",
    "123,456",
    "4242421",
    "4,242,421",
    "313.37",
    "8765.43",
    "97531",
    "LEAKBREAKDOWN",
    # evidence
    "LEAKCUSTOMER",
    "LEAKQUOTE",
    # objectives: description and raw values (only target and progress may be shown)
    "LEAKOBJECTIVEDESC",
    "12345.67",
    "12,345",
    "54321",
    "54,321",
    # releases and exact dates
    "LEAKRELEASE",
    "2031-07-19",
    "2031-05-03",
    "2031-08-22",
    "19 Jul",
    "Jul 19",
    "July 19",
    "2031-07",
    "2031-05",
    "2031-08",
    "2032-02-29",
    "29 Feb",
    # internal items, lanes, unplaced and archived features
    "LEAKINTERNALTITLE",
    "LEAKINTERNALEXTTITLE",
    "LEAKINTERNALEXTDESC",
    "LEAKINTERNALTHEME",
    "LEAKSECRETLANE",
    "LEAKUNPLACED",
    "LEAKARCHIVED",
    "LEAKFLIPPEDTITLE",
    "LEAKNEVERSHOWN",
    # the share link itself
    "LEAKLINKLABEL",
    # other products and workspaces
    "LEAKSIBLING",
    "LEAKSTRANGER",
]
# Objectives are shown to investors and executives, never to customers.
OBJECTIVE_SHOWN = ["LEAKOBJECTIVENAME", "LEAKOBJECTIVEMETRIC", "99,999.12"]


def _leaks(body: str, markers) -> list[str]:
    return [m for m in markers if m in body]


@pytest.fixture
def world(db):
    """A product with every internal field marked, plus a sibling product and a stranger's."""
    workspace = f.WorkspaceFactory(name="LEAKWORKSPACE")
    owner = f.UserFactory(email="leakowner@example.com", display_name="LEAKOWNERNAME")
    f.MembershipFactory(workspace=workspace, user=owner, role=Role.ADMIN)
    member = f.UserFactory(email="leakmember@example.com", display_name="LEAKMEMBERNAME")
    f.MembershipFactory(workspace=workspace, user=member, role=Role.VIEWER)
    product = f.ProductFactory(
        workspace=workspace,
        name="Acme Planner",
        slug="acme-planner",
        vision="Plan better together.",
        description="LEAKPRODUCTDESC",
        product_line="LEAKPRODUCTLINE",
    )
    persona = f.PersonaFactory(
        product=product,
        name="LEAKPERSONA",
        segment="LEAKSEGMENT",
        description="LEAKPERSONA notes",
        goals="LEAKGOALS",
        pains="LEAKPAINS",
        segment_size=7654321,
    )
    driver = f.ScoringDriverFactory(product=product, name="LEAKDRIVER", weight=Decimal("3.25"))
    tag = f.TagFactory(product=product, name="leaktag")
    lane = f.LaneFactory(product=product, name="Reporting", position=0)
    secret_lane = f.LaneFactory(product=product, name="LEAKSECRETLANE", position=1)
    release = f.ReleaseFactory(
        product=product,
        name="LEAKRELEASE",
        description="LEAKRELEASE description",
        target_date=datetime.date(2031, 8, 22),
    )

    def secret_feature(suffix, **fields):
        feature = f.FeatureFactory(
            product=product,
            title=f"LEAKFEATURETITLE{suffix}",
            description=f"LEAKFEATUREDESC{suffix}",
            requirements=f"LEAKREQUIREMENTS{suffix}",
            business_case_notes=f"LEAKBUSINESSCASE{suffix}",
            internal_notes=f"LEAKINTERNALNOTES{suffix}",
            expected_revenue=Decimal("987654.32"),
            cost=Decimal("123456.78"),
            reach=4242421,
            confidence=37,
            effort=Decimal("313.37"),
            moscow="must",
            kano="delighter",
            owner=owner,
            **fields,
        )
        feature.tags.add(tag)
        feature.personas.add(persona)
        f.FeatureDriverScoreFactory(feature=feature, driver=driver, score=7)
        Feature.objects.filter(pk=feature.pk).update(
            score=8765.4321, rank=97531, score_breakdown={"LEAKBREAKDOWN": 8765.4321}
        )
        insight = f.InsightFactory(
            product=product,
            customer=f"LEAKCUSTOMER {suffix} Corp",
            text=f"LEAKQUOTE {suffix}",
            persona=persona,
        )
        insight.features.add(feature)
        return feature

    def place(**data):
        return records.roadmap_item_save(product=product, data=data, actor=owner)

    # Shown: an item with its own external title and exact dates and a release.
    exports = place(
        feature=secret_feature("A", status="in_progress"),
        visibility="external",
        external_title="Public exports",
        external_description="Export any table to a spreadsheet.",
        horizon="now",
        lane=lane,
        start_date=datetime.date(2031, 5, 3),
        end_date=datetime.date(2031, 7, 19),
        release=release,
    )
    records.roadmap_item_move(item=exports, horizon="next", position=0, actor=owner)
    # Shown: a recently shipped item.
    shipped_feature = secret_feature("B", status="in_progress")
    place(
        feature=shipped_feature,
        visibility="external",
        external_title="Public audit log",
        horizon="now",
        release=release,
    )
    feature_update(feature=shipped_feature, data={"status": "shipped"}, actor=owner)
    # Shown: a standalone theme whose (only) title is public by choice.
    place(title="Public mobile app", visibility="external", horizon="later", lane=lane)
    # Internal: a feature item, with an external title prepared but not shown, and a theme.
    internal = place(
        feature=secret_feature("C", status="planned"),
        visibility="internal",
        external_title="LEAKINTERNALEXTTITLE",
        external_description="LEAKINTERNALEXTDESC",
        horizon="now",
        lane=secret_lane,
        start_date=datetime.date(2032, 2, 29),
        end_date=datetime.date(2032, 2, 29),
    )
    records.roadmap_item_move(item=internal, horizon="later", position=0, actor=owner)
    place(title="LEAKINTERNALTHEME", visibility="internal", horizon="next", lane=secret_lane)
    # Internal after having been external: told as removed, under its public title only.
    flipped = place(
        feature=secret_feature("FLIPPEDTITLE"),
        visibility="external",
        external_title="Public retired idea",
        horizon="now",
    )
    records.roadmap_item_save(
        product=product,
        item=flipped,
        data={"visibility": "internal", "external_title": "LEAKNEVERSHOWN", "horizon": "later"},
    )
    # Archived, though marked external.
    place(
        feature=secret_feature("ARCHIVED", status="archived"),
        visibility="external",
        external_title="LEAKARCHIVED item",
    )
    # Not on the roadmap at all.
    secret_feature("UNPLACED")
    Feature.objects.filter(title="LEAKFEATURETITLEUNPLACED").update(title="LEAKUNPLACED")
    # A priority change with internal ranks.
    snapshot = {**ChangeEvent.objects.filter(item=exports).last().after, "rank": 97531}
    ChangeEvent.objects.create(
        product=product,
        item=exports,
        kind=ChangeKind.PRIORITY_CHANGED,
        occurred_at=timezone.now(),
        before={**snapshot, "rank": 12345},
        after=snapshot,
    )
    f.ObjectiveFactory(
        product=product,
        name="LEAKOBJECTIVENAME",
        metric="LEAKOBJECTIVEMETRIC",
        description="LEAKOBJECTIVEDESC",
        baseline=Decimal("12345.67"),
        target=Decimal("99999.12"),
        current=Decimal("54321.99"),
        due=datetime.date(2031, 7, 19),
    )

    # Another product of the same workspace, and another workspace's product.
    sibling = f.ProductFactory(workspace=workspace, name="LEAKSIBLING product")
    sibling_lane = f.LaneFactory(product=sibling, name="LEAKSIBLING lane")
    records.roadmap_item_save(
        product=sibling,
        data={
            "feature": f.FeatureFactory(product=sibling, title="LEAKSIBLING feature"),
            "visibility": "external",
            "external_title": "LEAKSIBLING external item",
            "lane": sibling_lane,
        },
    )
    f.ObjectiveFactory(product=sibling, name="LEAKSIBLING objective")
    stranger = f.ProductFactory(name="LEAKSTRANGER product")
    records.roadmap_item_save(
        product=stranger,
        data={
            "feature": f.FeatureFactory(product=stranger, title="LEAKSTRANGER feature"),
            "visibility": "external",
            "external_title": "LEAKSTRANGER external item",
        },
    )
    f.ObjectiveFactory(product=stranger, name="LEAKSTRANGER objective")
    f.ShareLinkFactory(product=sibling, label="LEAKSIBLING link")
    f.ShareLinkFactory(product=stranger, label="LEAKSTRANGER link")

    links = {
        audience: sharing.share_link_create(
            product=product, label="LEAKLINKLABEL", audience=audience, created_by=owner
        )
        for audience in external.AUDIENCES
    }
    locked = sharing.share_link_create(
        product=product, label="LEAKLINKLABEL locked", password="open sesame", created_by=owner
    )
    return {"product": product, "owner": owner, "member": member, "links": links, "locked": locked}


def _surfaces(client, link):
    kwargs = {"token": link.token}
    page = reverse("external:roadmap", kwargs=kwargs)
    return {
        "page": client.get(page),
        "print view": client.get(page + "?print=1"),
        "json": client.get(reverse("external:json", kwargs=kwargs)),
        "feed": client.get(reverse("external:feed", kwargs=kwargs)),
    }


@pytest.mark.parametrize("audience", ["customers", "investors", "executives"])
def test_no_marker_reaches_any_surface_of_any_audience(client, world, audience):
    secret = ALWAYS_SECRET + (OBJECTIVE_SHOWN if audience == "customers" else [])

    responses = _surfaces(client, world["links"][audience])

    for name, response in responses.items():
        assert response.status_code == 200, name
        body = response.content.decode()
        assert _leaks(body, secret) == [], name
    page = responses["page"].content.decode()
    assert "Public exports" in page and "Public mobile app" in page
    assert "Plan better together." in page and "Acme Planner" in page
    feed = responses["feed"].content.decode()
    assert "Public exports" in feed and "Public retired idea" in feed
    if audience == "customers":
        assert "Public audit log" in page
        assert "Shipped recently" in page
    else:
        assert "Q3 2031" in page  # the quarter, never the day
        assert "LEAKOBJECTIVENAME" in page and "99,999.12" in page


@pytest.mark.parametrize("audience", ["customers", "investors", "executives"])
def test_no_marker_reaches_the_preview_of_any_audience(client, world, audience):
    client.force_login(world["member"])
    secret = ALWAYS_SECRET + (OBJECTIVE_SHOWN if audience == "customers" else [])
    secret = [m for m in secret if m not in ("LEAKWORKSPACE",)]  # members know their workspace

    for suffix in ("", "?print=1"):
        url = reverse("sharing:preview", kwargs={"slug": "acme-planner", "audience": audience})
        response = client.get(url + suffix)

        assert response.status_code == 200
        body = response.content.decode()
        assert _leaks(body, secret) == []
        assert "Public exports" in body


def test_no_marker_reaches_the_password_and_not_found_pages(client, world):
    locked = world["locked"]
    page = reverse("external:roadmap", kwargs={"token": locked.token})
    bodies = {
        "form": client.get(page),
        "wrong": client.post(page, {"password": "nope"}),
        "json": client.get(reverse("external:json", kwargs={"token": locked.token})),
        "feed": client.get(reverse("external:feed", kwargs={"token": locked.token})),
        "unknown": client.get(reverse("external:roadmap", kwargs={"token": "nope"})),
    }
    ShareLink.objects.filter(pk=world["links"]["customers"].pk).update(revoked_at=timezone.now())
    bodies["revoked"] = client.get(
        reverse("external:roadmap", kwargs={"token": world["links"]["customers"].token})
    )

    for name, response in bodies.items():
        body = response.content.decode()
        assert _leaks(body, ALWAYS_SECRET + OBJECTIVE_SHOWN) == [], name
        assert "Public exports" not in body, name


@pytest.mark.parametrize("audience", ["customers", "investors", "executives"])
def test_no_marker_reaches_the_projection_changes_or_digest_sections(world, audience):
    product = world["product"]
    secret = ALWAYS_SECRET + (OBJECTIVE_SHOWN if audience == "customers" else [])

    roadmap = external.external_roadmap(product=product, audience=audience)
    changes = external.external_changes(product=product, audience=audience)
    sections = external.digest_sections(
        product=product,
        audience=audience,
        events=ChangeEvent.objects.filter(product=product).order_by("occurred_at", "id"),
    )

    for data in (roadmap, changes, sections):
        assert _leaks(json.dumps(data, default=str), secret) == []
    assert {e["title"] for e in changes} == {
        "Public exports",
        "Public audit log",
        "Public mobile app",
        "Public retired idea",
    }
    removed = [e for e in changes if e["kind"] == "removed"]
    assert [e["title"] for e in removed] == ["Public retired idea"]


def test_no_marker_reaches_an_external_digest_email(world):
    product = world["product"]
    link = world["links"]["customers"]
    subscription = subscription_add(
        product=product,
        share_link=link,
        email="leaksubscriber@example.com",
        name="LEAKSUBSCRIBERNAME",
    )
    ChangeEvent.objects.update(occurred_at=timezone.now() + datetime.timedelta(seconds=1))

    digest = digest_build(
        subscription=subscription,
        since=subscription.sent_through,
        until=timezone.now() + datetime.timedelta(minutes=1),
    )

    assert digest is not None
    secret = [m for m in ALWAYS_SECRET + OBJECTIVE_SHOWN if not m.startswith("LEAKSUBSCRIBER")]
    for body in (digest.subject, digest.text, digest.html):
        assert _leaks(body, secret) == []
    assert "Public exports" in digest.text
    assert len(mail.outbox) == 0


# --- Property: random roadmaps, items flipped between internal and external ----------------------

ITEMS = st.fixed_dictionaries(
    {
        "visibility": st.sampled_from(["internal", "external"]),
        "status": st.sampled_from(FeatureStatus.values),
        "horizon": st.sampled_from(Horizon.values),
        "theme": st.booleans(),
        "external_title": st.booleans(),
        "lane": st.sampled_from([None, 0, 1, 2]),
        "end_date": st.one_of(
            st.none(), st.dates(datetime.date(2024, 1, 1), datetime.date(2030, 12, 31))
        ),
    }
)


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    specs=st.lists(ITEMS, max_size=7),
    flips=st.lists(st.integers(min_value=0, max_value=6), max_size=4),
    audience=st.sampled_from(sorted(external.AUDIENCES)),
)
def test_random_roadmaps_show_exactly_their_external_items_and_nothing_else(
    db, specs, flips, audience
):
    uid = uuid.uuid4().hex[:10].upper()
    product = f.ProductFactory(name=f"Product {uid}", vision="A public vision.")
    lanes = [f.LaneFactory(product=product, name=f"LANE{uid}X{k}") for k in range(3)]
    # A product beside it, whose external items must never show.
    other = f.ProductFactory(workspace=product.workspace)
    f.RoadmapItemFactory(
        product=other, visibility="external", external_title=f"OTHER{uid}", lane=None
    )

    items = []
    for i, spec in enumerate(specs):
        internal_title = f"SECRETTITLE{uid}N{i}Z"
        data = {
            "visibility": spec["visibility"],
            "horizon": spec["horizon"],
            "lane": lanes[spec["lane"]] if spec["lane"] is not None else None,
            "end_date": spec["end_date"],
            "external_title": f"PUBLIC{uid}N{i}Z" if spec["external_title"] else "",
            "external_description": f"Described {i}",
        }
        if spec["theme"]:
            data.update(title=internal_title, theme_status=spec["status"])
        else:
            data["feature"] = f.FeatureFactory(
                product=product,
                title=internal_title,
                status=spec["status"],
                internal_notes=f"SECRETNOTES{uid}N{i}Z",
                business_case_notes=f"SECRETCASE{uid}N{i}Z",
                expected_revenue=Decimal("987654.32"),
            )
        items.append(records.roadmap_item_save(product=product, data=data))
    ever_external = {item.pk for item in items if item.visibility == "external"}
    for index in flips:
        if not items:
            break
        item = items[index % len(items)]
        flipped = "internal" if item.visibility == "external" else "external"
        records.roadmap_item_save(product=product, item=item, data={"visibility": flipped})
        if flipped == "external":
            ever_external.add(item.pk)

    recent_since = TODAY - datetime.timedelta(days=external.SHIPPED_RECENTLY_DAYS)

    def shown(item):
        if item.visibility != "external" or item.status == "archived":
            return False
        return not (item.status == "shipped" and item.end_date and item.end_date < recent_since)

    roadmap = external.external_roadmap(product=product, audience=audience)
    changes = external.external_changes(product=product, audience=audience)
    listed = [i for g in roadmap["groups"] for i in g["items"]] + (
        roadmap["shipped_recently"] or []
    )

    # Exactly the shown items, each once, with its public title and status in plain words.
    expected = {item.public_title: item for item in items if shown(item)}
    assert sorted(i["title"] for i in listed) == sorted(expected)
    for entry in listed:
        item = expected[entry["title"]]
        assert entry["status"] == external.PUBLIC_STATUS[item.status]
        assert entry["lane"] == (item.lane.name if item.lane else "")
        assert entry["description"] == item.external_description
    if audience == "customers":
        assert all(i["status"] == "shipped" for i in roadmap["shipped_recently"])
        assert all(i["status"] != "shipped" for g in roadmap["groups"] for i in g["items"])

    # Nothing of items never shown, of feature internals, of unused lanes or the other product.
    secrets = [f"SECRETNOTES{uid}", f"SECRETCASE{uid}", "987654", f"OTHER{uid}"]
    for item in items:
        if item.external_title or item.pk not in ever_external:
            secrets.append(item.display_title)
        if item.pk not in ever_external:
            secrets.append(item.public_title)
    shown_titles = {item.public_title for item in items if shown(item)}
    secrets += [
        f"PUBLIC{uid}N{i}Z"
        for i, item in enumerate(items)
        if item.external_title
        and item.public_title not in shown_titles
        and item.pk not in ever_external
    ]
    used_lanes = {item.lane.name for item in items if shown(item) and item.lane}
    roadmap_secrets = secrets + [lane.name for lane in lanes if lane.name not in used_lanes]
    roadmap_secrets += [item.public_title for item in items if not shown(item)]
    assert _leaks(json.dumps(roadmap), roadmap_secrets) == []
    assert _leaks(json.dumps(changes, default=str), secrets) == []
    # Every change told is about an item outsiders saw at some point, under a public title.
    public_titles = {i.public_title for i in items if i.pk in ever_external}
    assert {e["title"] for e in changes} <= public_titles | {
        e.before.get("external_title")
        for e in ChangeEvent.objects.filter(product=product)
        if e.before.get("visibility") == "external"
    }

    # The page, JSON and feed render the same allow-list.
    link = ShareLink.objects.create(product=product, label=f"LABEL{uid}", audience=audience)
    client = Client()
    for name, response in _surfaces(client, link).items():
        assert response.status_code == 200, name
        body = response.content.decode()
        leaked = _leaks(body, (secrets if name == "feed" else roadmap_secrets) + [f"LABEL{uid}"])
        assert leaked == [], name
    assert RoadmapItem.objects.filter(product=product).count() == len(items)
