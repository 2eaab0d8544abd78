"""Proof that strategy and launch data never leave through a share link, and that the positioning
reaches investors and executives only when the PM shows it to them.

Every field of every strategy and launch model is filled with a unique marker; the external page,
print view, JSON, Atom feed, the PM's preview, digest emails and the projections themselves are
rendered for each audience, and no marker may appear — except the positioning's answers, for the
audiences it is shown to.
"""

import datetime
import json
import re
import uuid
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Role
from roadmap.models import ChangeEvent, ShareLink
from roadmap.planning.services import roadmap as records
from roadmap.sharing import external
from roadmap.sharing.services import sharing
from roadmap.sharing.services.digests import digest_build, subscription_add
from roadmap.strategy.services import launch, strategy
from tests import factories as f

pytestmark = pytest.mark.urls("tests.roadmap.urls_with_sharing")

# Never shown to anyone outside, whatever the audience and the positioning's settings.
ALWAYS_SECRET = [
    # what an answer cites, and who wrote it
    "LEAKCITEDCUSTOMER",
    "LEAKCITEDQUOTE",
    "LEAKCITEDPERSONA",
    "LEAKCITEDSEGMENT",
    "LEAKANSWERAUTHOR",
    # competitors and the comparison grid
    "LEAKCOMPNAME",
    "leakcompsite",
    "LEAKCOMPSEGMENT",
    "LEAKCOMPSTRENGTH",
    "LEAKCOMPWEAK",
    "LEAKCOMPPRICING",
    "LEAKCOMPARENOTE",
    "LEAKCOMPARELANE",
    "Better than ours",
    "Differentiator",
    "Parity (competitors",
    # market size
    "31415926",
    "31,415,926",
    "LEAKMARKETSOURCE",
    "leakmarket.example",
    "LEAKMARKETNOTES",
    "2029-04-17",
    "17 Apr",
    "Apr 17",
    # revenue model and plans
    "QZX",
    "7.77",
    "LEAKREVENUENOTES",
    "LEAKPLANNAME",
    "8642.97",
    "8642",
    "8,642",
    "3.33",
    # launch template and checklists
    "LEAKTEMPLATETITLE",
    "LEAKTEMPLATEDESC",
    "LEAKTASKTITLE",
    "LEAKTASKDESC",
    "LEAKTASKOWNER",
    "leaktaskowner@",
    "LEAKDONEBY",
    "leakdoneby@",
    "2029-09-13",
    "13 Sep",
    "Sep 13",
    # the release that shipped (outsiders read its items, never its name)
    "LEAKSHIPRELEASE",
    # the positioning of another product
    "LEAKSIBLINGANSWER",
]
# The positioning's answers: shown to investors / executives only when allowed.
ANSWERS = ["POSANSWERPROBLEM", "POSANSWERSTANDOUT"]
QUESTION = "What is the main problem it solves?"


# Markers short enough to turn up by chance inside a random token (share links, CSRF and
# unsubscribe links are base64url) or a timestamp ("…:43.331+00:00"): these count only when
# they stand alone, not inside a longer word or number.
WHOLE_WORD = {"QZX", "7.77", "3.33", "8642"}


def _leaks(body: str, markers) -> list[str]:
    def found(marker: str) -> bool:
        if marker in WHOLE_WORD:
            pattern = rf"(?<![\w.:-]){re.escape(marker)}(?![\w-]|\.\d)"
            return re.search(pattern, body) is not None
        return marker in body

    return [m for m in markers if found(m)]


@pytest.fixture
def world(db):
    workspace = f.WorkspaceFactory()
    admin = f.UserFactory(email="pmadmin@example.com", display_name="LEAKANSWERAUTHOR")
    f.MembershipFactory(workspace=workspace, user=admin, role=Role.ADMIN)
    owner = f.UserFactory(email="leaktaskowner@example.com", display_name="LEAKTASKOWNER")
    f.MembershipFactory(workspace=workspace, user=owner, role=Role.EDITOR)
    doer = f.UserFactory(email="leakdoneby@example.com", display_name="LEAKDONEBY")
    f.MembershipFactory(workspace=workspace, user=doer, role=Role.EDITOR)
    product = f.ProductFactory(workspace=workspace, name="Acme Planner", vision="Plan together.")
    persona = f.PersonaFactory(
        product=product, name="LEAKCITEDPERSONA", segment="LEAKCITEDSEGMENT", segment_size=500
    )
    insight = f.InsightFactory(
        product=product, customer="LEAKCITEDCUSTOMER Inc", text="LEAKCITEDQUOTE", persona=persona
    )

    # Positioning, citing evidence; hidden until a test shows it.
    strategy.positioning_answer_save(
        product=product,
        question="problem",
        text="POSANSWERPROBLEM: planning **by hand**.",
        insights=[insight],
        personas=[persona],
        actor=admin,
    )
    strategy.positioning_answer_save(
        product=product, question="standout", text="POSANSWERSTANDOUT", actor=admin
    )
    strategy.positioning_answer_save(product=product, question="solution", text="   ")

    # Competitors and the grid, on a feature that is on the external roadmap and on a lane.
    competitor = strategy.competitor_save(
        product=product,
        data={
            "name": "LEAKCOMPNAME",
            "website": "https://leakcompsite.example",
            "segment": "LEAKCOMPSEGMENT",
            "strengths": "LEAKCOMPSTRENGTH",
            "weaknesses": "LEAKCOMPWEAK",
            "pricing_notes": "LEAKCOMPPRICING",
        },
    )
    release = f.ReleaseFactory(
        product=product, name="LEAKSHIPRELEASE", target_date=timezone.localdate()
    )
    shipped = f.FeatureFactory(
        product=product, title="Internal title", status="in_progress", market_position="parity"
    )
    records.roadmap_item_save(
        product=product,
        data={
            "feature": shipped,
            "visibility": "external",
            "external_title": "Public shipped thing",
            "release": release,
        },
    )
    upcoming = f.FeatureFactory(
        product=product, title="Other internal", market_position="differentiator"
    )
    records.roadmap_item_save(
        product=product,
        data={"feature": upcoming, "visibility": "external", "external_title": "Public upcoming"},
    )
    lane = f.LaneFactory(product=product, name="LEAKCOMPARELANE")
    strategy.comparison_set(
        competitor=competitor, feature=shipped, status="better", note="LEAKCOMPARENOTE"
    )
    strategy.comparison_set(
        competitor=competitor, lane=lane, status="worse", note="LEAKCOMPARENOTE"
    )

    # Market size, revenue model, plans.
    strategy.market_size_save(
        product=product,
        data={
            "kind": "tam",
            "value": Decimal("31415926.53"),
            "source": "LEAKMARKETSOURCE",
            "source_url": "https://leakmarket.example/report",
            "as_of": datetime.date(2029, 4, 17),
            "notes": "LEAKMARKETNOTES",
        },
    )
    strategy.revenue_model_save(
        product=product,
        data={"currency": "QZX", "conversion_rate": Decimal("7.77"), "notes": "LEAKREVENUENOTES"},
    )
    strategy.price_plan_save(
        product=product,
        data={
            "name": "LEAKPLANNAME",
            "yearly_price": Decimal("8642.97"),
            "persona": persona,
            "conversion_rate": Decimal("3.33"),
        },
    )

    # The launch: a template, a checklist with an owner and due date, done, then shipped.
    launch.launch_template_task_save(
        workspace=workspace,
        data={
            "team": "marketing",
            "title": "LEAKTEMPLATETITLE",
            "description": "LEAKTEMPLATEDESC",
            "days_before_release": 3,
        },
        actor=admin,
    )
    launch.release_checklist_create(release=release)
    task = launch.launch_task_save(
        release=release,
        data={
            "team": "support",
            "title": "LEAKTASKTITLE",
            "description": "LEAKTASKDESC",
            "owner": owner,
            "due_on": datetime.date(2029, 9, 13),
        },
    )
    for open_task in release.launch_tasks.all():
        launch.launch_task_complete(task=open_task, actor=doer)
    assert task.pk
    launch.release_ship(release=release, actor=admin)

    # Another product of the workspace, positioned and shown to everyone allowed.
    sibling = f.ProductFactory(workspace=workspace)
    strategy.positioning_answer_save(product=sibling, question="problem", text="LEAKSIBLINGANSWER")
    strategy.positioning_set_audiences(
        product=sibling, show_to_investors=True, show_to_executives=True
    )

    links = {
        audience: sharing.share_link_create(
            product=product, label=f"{audience} link", audience=audience, created_by=admin
        )
        for audience in external.AUDIENCES
    }
    return {"product": product, "admin": admin, "links": links}


def _surfaces(client, link):
    kwargs = {"token": link.token}
    page = reverse("external:roadmap", kwargs=kwargs)
    return {
        "page": client.get(page),
        "print view": client.get(page + "?print=1"),
        "json": client.get(reverse("external:json", kwargs=kwargs)),
        "feed": client.get(reverse("external:feed", kwargs=kwargs)),
    }


def _show(world, *, investors: bool, executives: bool) -> None:
    strategy.positioning_set_audiences(
        product=world["product"], show_to_investors=investors, show_to_executives=executives
    )


@pytest.mark.parametrize("audience", ["customers", "investors", "executives"])
@pytest.mark.parametrize("shown_to", ["nobody", "investors", "executives", "both"])
def test_no_strategy_marker_reaches_any_surface(client, world, audience, shown_to):
    _show(
        world,
        investors=shown_to in ("investors", "both"),
        executives=shown_to in ("executives", "both"),
    )
    visible = audience != "customers" and shown_to in (audience, "both")

    for name, response in _surfaces(client, world["links"][audience]).items():
        assert response.status_code == 200, name
        body = response.content.decode()
        assert _leaks(body, ALWAYS_SECRET) == [], name
        if name == "feed" or not visible:
            assert _leaks(body, ANSWERS + [QUESTION]) == [], name
        else:
            assert _leaks(body, ANSWERS + [QUESTION]) == ANSWERS + [QUESTION], name
    page = client.get(reverse("external:roadmap", kwargs={"token": world["links"][audience].token}))
    body = page.content.decode()
    assert "Public upcoming" in body
    if visible:
        # Rendered as sanitised Markdown, in the product marketer's order.
        assert "<strong>by hand</strong>" in body
        assert body.index("POSANSWERPROBLEM") < body.index("POSANSWERSTANDOUT")
    if audience == "customers":
        assert "Public shipped thing" in body and "Shipped recently" in body


@pytest.mark.parametrize("audience", ["customers", "investors", "executives"])
def test_no_strategy_marker_reaches_the_preview(client, world, audience):
    _show(world, investors=True, executives=False)
    client.force_login(world["admin"])
    url = reverse("sharing:preview", kwargs={"slug": world["product"].slug, "audience": audience})

    body = client.get(url).content.decode()

    secret = [m for m in ALWAYS_SECRET if m != "LEAKANSWERAUTHOR"]  # the signed-in PM's name
    assert _leaks(body, secret) == []
    assert ("POSANSWERPROBLEM" in body) == (audience == "investors")


@pytest.mark.parametrize("audience", ["customers", "investors", "executives"])
def test_projection_json_and_digest_carry_no_strategy_marker(world, audience):
    _show(world, investors=True, executives=True)
    product = world["product"]
    subscription = subscription_add(
        product=product, share_link=world["links"][audience], email=f"{audience}@example.com"
    )
    ChangeEvent.objects.update(occurred_at=timezone.now() + datetime.timedelta(seconds=1))

    roadmap = external.external_roadmap(product=product, audience=audience)
    changes = external.external_changes(product=product, audience=audience)
    sections = external.digest_sections(
        product=product, audience=audience, events=ChangeEvent.objects.order_by("occurred_at")
    )
    digest = digest_build(
        subscription=subscription,
        since=subscription.sent_through,
        until=timezone.now() + datetime.timedelta(minutes=1),
    )

    assert _leaks(json.dumps(roadmap, default=str), ALWAYS_SECRET) == []
    for data in (changes, sections):
        assert _leaks(json.dumps(data, default=str), ALWAYS_SECRET + ANSWERS + [QUESTION]) == []
    assert digest is not None
    for body in (digest.subject, digest.text, digest.html):
        assert _leaks(body, ALWAYS_SECRET + ANSWERS + [QUESTION]) == []
    # The shipped release is told as its external item shipping, once (it was also added to the
    # roadmap in the same window, hence its second mention).
    assert digest.text.count("Public shipped thing — Shipped") == 1
    if audience == "customers":
        assert roadmap["positioning"] is None
    else:
        assert roadmap["positioning"] == [
            {"question": QUESTION, "answer": "POSANSWERPROBLEM: planning **by hand**."},
            {"question": "What makes it stand out?", "answer": "POSANSWERSTANDOUT"},
        ]


# --- Property: the positioning follows the flags, whatever they are -------------------------------


@settings(
    max_examples=20,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    investors=st.booleans(),
    executives=st.booleans(),
    answered=st.lists(
        st.sampled_from(["market_gap", "problem", "standout", "differentiation"]), unique=True
    ),
    audience=st.sampled_from(sorted(external.AUDIENCES)),
)
def test_positioning_is_shown_exactly_when_allowed(db, investors, executives, answered, audience):
    uid = uuid.uuid4().hex[:10].upper()
    product = f.ProductFactory()
    insight = f.InsightFactory(product=product, customer=f"CUSTOMER{uid}", text=f"QUOTE{uid}")
    for question in answered:
        strategy.positioning_answer_save(
            product=product, question=question, text=f"ANSWER{uid}{question}", insights=[insight]
        )
    strategy.positioning_set_audiences(
        product=product, show_to_investors=investors, show_to_executives=executives
    )
    allowed = {"customers": False, "investors": investors, "executives": executives}[audience]

    roadmap = external.external_roadmap(product=product, audience=audience)
    link = ShareLink.objects.create(product=product, label=f"LABEL{uid}", audience=audience)
    body = Client().get(reverse("external:roadmap", kwargs={"token": link.token})).content.decode()

    shown = [entry["answer"] for entry in roadmap["positioning"] or []]
    expected = [
        f"ANSWER{uid}{q}"
        for q in ("market_gap", "problem", "differentiation", "standout")
        if q in answered
    ]
    assert shown == (expected if allowed else [])
    assert all((answer in body) == allowed for answer in expected)
    assert (
        _leaks(body + json.dumps(roadmap), [f"CUSTOMER{uid}", f"QUOTE{uid}", f"LABEL{uid}"]) == []
    )
