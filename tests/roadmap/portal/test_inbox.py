"""The PM's triage of requests, through the pages: the inbox, a request's actions (each one
service), the feature page's demand counts and its "tell requesters it's live" button."""

import pytest
from django.core import mail
from django.urls import reverse

from roadmap.models import (
    Contact,
    Customer,
    CustomerDomain,
    Feature,
    FeatureRequest,
    Insight,
    RequestStatus,
    ShipNotice,
)
from roadmap.portal import selectors, services
from roadmap.sharing.external import item_anchor
from tests.factories import FeatureFactory, RoadmapItemFactory, ShareLinkFactory


@pytest.fixture
def link(product):
    return ShareLinkFactory(product=product, allow_feedback=True)


def _asked(product, title, email, description=""):
    """A request a support tool pushed in for ``email``: confirmed at once."""
    return services.request_import(
        product=product, title=title, email=email, description=description
    )


def _action(client, product, request, action, data=None):
    url = reverse(
        "roadmap:request_action",
        kwargs={"slug": product.slug, "pk": request.pk, "action": action},
    )
    return client.post(url, data or {})


def test_the_inbox_shows_new_confirmed_requests_with_their_customers(
    editor_client, product, link, django_assert_max_num_queries
):
    # Given a customer known by its domain, three confirmed requests and one unconfirmed
    acme = Customer.objects.create(product=product, name="Acme", annual_revenue=120000)
    CustomerDomain.objects.create(customer=acme, product=product, domain="acme.example")
    sso = _asked(product, "SSO", "ana@acme.example")
    services.request_merge(request=_asked(product, "Single sign-on", "bo@globex.example"), into=sso)
    _asked(product, "Dark mode", "cy@acme.example", description="Night shifts")
    services.request_submit(product=product, share_link=link, title="Pending", email="x@y.example")
    url = reverse("roadmap:requests", kwargs={"slug": product.slug})
    # When the PM opens the inbox (and again with many more requests)
    # session, user, membership, product, counts, page, requesters; whatever the rows
    with django_assert_max_num_queries(8):
        response = editor_client.get(url)
    for n in range(20):
        _asked(product, f"More {n}", f"u{n}@acme.example")
    with django_assert_max_num_queries(8):
        more = editor_client.get(url)
    # Then the new confirmed ones show with requester counts and customers, merged ones not
    inbox = response.context["inbox"]
    assert [(r.title, r.requester_count) for r in inbox["requests"]] == [
        ("Dark mode", 1),
        ("SSO", 2),
    ]
    assert [c.name for c in inbox["requests"][1].customers] == ["Acme", "globex.example"]
    assert inbox["awaiting"] == 1
    assert "1 awaiting email confirmation" in response.content.decode()
    assert len(more.context["inbox"]["requests"]) == 22
    # And the search looks in descriptions; the status filter shows merged ones
    found = editor_client.get(url, {"q": "night"}).context["inbox"]["requests"]
    assert [r.title for r in found] == ["Dark mode"]
    merged = editor_client.get(url, {"status": "merged"}).context["inbox"]["requests"]
    assert [r.title for r in merged] == []  # its requester moved: nobody confirmed behind it
    assert editor_client.get(url, {"q": "x" * 500}).status_code == 200


def test_the_inbox_pages_by_fifty(editor_client, product):
    for n in range(51):
        _asked(product, f"Ask {n}", f"u{n}@acme.example")
    url = reverse("roadmap:requests", kwargs={"slug": product.slug})
    first = editor_client.get(url).context["inbox"]
    second = editor_client.get(url, {"page": 2}).context["inbox"]
    assert (len(first["requests"]), len(second["requests"])) == (50, 1)
    assert second["requests"][0].title == "Ask 0"


def test_merging_through_the_page_moves_requesters_and_dedupes_a_contact(editor_client, product):
    # Given the same person behind both requests, another behind the duplicate only
    survivor = _asked(product, "Dark mode", "ana@acme.example")
    duplicate = _asked(product, "Night theme", "ana@acme.example")
    services.request_merge(request=_asked(product, "Dark UI", "li@globex.example"), into=duplicate)
    # When the PM merges the duplicate into the survivor
    response = _action(editor_client, product, duplicate, "merge", {"merged_into": survivor.pk})
    # Then the survivor has each person once, and the duplicate is merged
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "roadmap:request", kwargs={"slug": product.slug, "pk": survivor.pk}
    )
    assert sorted(survivor.requesters.values_list("contact__email", flat=True)) == [
        "ana@acme.example",
        "li@globex.example",
    ]
    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.merged_into_id) == (RequestStatus.MERGED, survivor.pk)
    assert Insight.objects.count() == 2
    # And merging it again is a form error, not a crash
    again = _action(editor_client, product, duplicate, "merge", {"merged_into": survivor.pk})
    assert again.status_code == 400


def test_linking_makes_the_insights_support_the_feature_and_the_page_counts_them(
    editor_client, product, link, django_assert_max_num_queries
):
    # Given two requests and a voter on the feature's external item
    feature = FeatureFactory(product=product, title="Offline mode")
    item = RoadmapItemFactory(product=product, feature=feature, visibility="external")
    first = _asked(product, "Offline", "ana@acme.example")
    second = _asked(product, "Work on a plane", "li@globex.example")
    services.vote_import(item=item, email="cy@initech.example")
    # When the PM links both to the feature
    assert (
        _action(editor_client, product, first, "link", {"feature": feature.pk}).status_code == 302
    )
    assert (
        _action(editor_client, product, second, "link", {"feature": feature.pk}).status_code == 302
    )
    # Then their insights support it
    assert set(feature.insights.values_list("company__name", flat=True)) == {
        "acme.example",
        "globex.example",
        "initech.example",
    }
    # And the feature page counts votes and requesters and lists the requests
    page = editor_client.get(reverse("roadmap:feature", args=[feature.pk]))
    assert reverse("roadmap:feature_demand", args=[feature.pk]) in page.content.decode()
    with django_assert_max_num_queries(9):
        block = editor_client.get(
            reverse("roadmap:feature_demand", args=[feature.pk]), HTTP_HX_REQUEST="true"
        )
    html = block.content.decode()
    assert "1 vote · 2 requesters" in html
    assert "Work on a plane" in html and "Offline" in html
    # And the selector gives the same counts in two queries for many features
    other = FeatureFactory(product=product)
    with django_assert_max_num_queries(2):
        counts = selectors.feature_demand_counts(
            product=product, feature_ids=[feature.pk, other.pk]
        )
    assert counts == {feature.pk: (1, 2), other.pk: (0, 0)}
    assert item_anchor(item.pk)  # the item stays addressed by its anchor outside


def test_creating_a_feature_from_a_request_links_it(editor_client, product):
    request = _asked(product, "Export to PDF", "ana@acme.example")
    response = _action(editor_client, product, request, "create", {"title": "PDF export"})
    assert response.status_code == 302
    feature = Feature.objects.get(product=product, title="PDF export")
    request.refresh_from_db()
    assert (request.status, request.feature) == (RequestStatus.LINKED, feature)
    assert feature.insights.count() == 1
    # An empty title is a form error, and nothing is created
    other = _asked(product, "Other", "bo@acme.example")
    assert _action(editor_client, product, other, "create", {"title": ""}).status_code == 400
    assert Feature.objects.filter(product=product).count() == 1


def test_declining_requires_a_reason_and_spam_deletes_the_insights(editor_client, product):
    request = _asked(product, "Free lunch", "ana@acme.example")
    # A new request cannot be reopened: the service's refusal shows on the page
    refused = _action(editor_client, product, request, "reopen")
    assert refused.status_code == 400
    assert "Only declined or spam requests can be reopened." in refused.content.decode()
    # When the PM declines without a reason: the form says so, nothing changes
    response = _action(editor_client, product, request, "decline", {"public_reason": "  "})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    request.refresh_from_db()
    assert request.status == RequestStatus.NEW
    # With a reason it is declined
    _action(editor_client, product, request, "decline", {"public_reason": "Out of scope"})
    request.refresh_from_db()
    assert (request.status, request.public_reason) == (RequestStatus.DECLINED, "Out of scope")
    # Reopened, then marked as spam: its insight is gone
    _action(editor_client, product, request, "reopen")
    assert Insight.objects.count() == 1
    assert _action(editor_client, product, request, "spam").status_code == 302
    request.refresh_from_db()
    assert request.status == RequestStatus.SPAM and Insight.objects.count() == 0


def test_a_viewer_reads_but_cannot_post(viewer_client, product):
    request = _asked(product, "SSO", "ana@acme.example")
    page = viewer_client.get(
        reverse("roadmap:request", kwargs={"slug": product.slug, "pk": request.pk})
    )
    assert page.status_code == 200 and "ana@acme.example" in page.content.decode()
    assert "Mark as spam" not in page.content.decode()
    for action in ("spam", "decline", "merge", "link", "create", "reopen"):
        assert _action(viewer_client, product, request, action).status_code == 403
    request.refresh_from_db()
    assert request.status == RequestStatus.NEW


def test_a_request_of_another_product_is_not_found(editor_client, product, workspace):
    from tests.factories import ProductFactory

    elsewhere = _asked(ProductFactory(workspace=workspace), "SSO", "ana@acme.example")
    url = reverse("roadmap:request", kwargs={"slug": product.slug, "pk": elsewhere.pk})
    assert editor_client.get(url).status_code == 404
    assert _action(editor_client, product, elsewhere, "spam").status_code == 404


def test_the_live_button_tells_each_requester_once(
    editor_client, product, django_capture_on_commit_callbacks
):
    # Given a shipped feature with a linked request of two people (one does not want mail)
    feature = FeatureFactory(product=product, status="shipped")
    RoadmapItemFactory(product=product, feature=feature, visibility="external")
    request = _asked(product, "Offline", "ana@acme.example")
    services.request_merge(request=_asked(product, "Plane", "li@acme.example"), into=request)
    Contact.objects.filter(email="li@acme.example").update(notify=False)
    services.request_link(request=request, feature=feature)
    mail.outbox.clear()
    url = reverse("roadmap:feature_ship_notices", args=[feature.pk])
    # When the PM presses the button twice
    with django_capture_on_commit_callbacks(execute=True):
        editor_client.post(url)
    with django_capture_on_commit_callbacks(execute=True):
        editor_client.post(url)
    # Then the one who opted in got one email, and the page says one was told
    assert [m.to for m in mail.outbox] == [["ana@acme.example"]]
    assert ShipNotice.objects.filter(feature=feature).count() == 1
    page = editor_client.get(
        reverse("roadmap:feature_demand", args=[feature.pk]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "1 told it&#x27;s live so far." in page or "1 told it's live so far." in page
    assert "Tell requesters it" in page


def test_the_product_tabs_count_new_requests(editor_client, product, django_assert_max_num_queries):
    _asked(product, "SSO", "ana@acme.example")
    _asked(product, "PDF", "bo@acme.example")
    url = reverse("roadmap:requests_badge", kwargs={"slug": product.slug})
    page = editor_client.get(reverse("roadmap:requests", kwargs={"slug": product.slug}))
    assert f'data-hx-get="{url}"' in page.content.decode()
    with django_assert_max_num_queries(5):
        badge = editor_client.get(url, HTTP_HX_REQUEST="true")
    assert badge.content.decode().strip() == (
        '<span class="badge" title="New requests">2<span class="visually-hidden"> new</span></span>'
    )
    assert editor_client.get(url)["Location"] == reverse(
        "roadmap:requests", kwargs={"slug": product.slug}
    )
    assert FeatureRequest.objects.filter(product=product).count() == 2
