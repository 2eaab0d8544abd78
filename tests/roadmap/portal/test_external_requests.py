"""A share link's visitor asks for something, and reads under "Your votes and requests" where
their votes and requests stand — in the words outsiders are told, nothing of anyone else's."""

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from roadmap.models import Contact, FeatureRequest, Insight, RequestStatus
from roadmap.portal import selectors, services
from roadmap.portal.views_external import cookie_name
from roadmap.sharing.external import item_anchor
from tests.factories import FeatureFactory, RoadmapItemFactory, ShareLinkFactory


@pytest.fixture
def link(product):
    return ShareLinkFactory(product=product, allow_feedback=True)


@pytest.fixture
def contact(product):
    return Contact.objects.create(
        product=product, email="ana@acme.example.org", confirmed_at=timezone.now()
    )


def _page(link):
    return reverse("external:roadmap", kwargs={"token": link.token})


def _post_request(client, link, **data):
    body = {"title": "Export to PDF", "description": "", "importance": "3", "notify": "on"}
    return client.post(reverse("portal:request", kwargs={"token": link.token}), {**body, **data})


def _remember(client, contact):
    client.cookies[cookie_name(contact.product_id)] = services.contact_remember_value(contact)


def _ask(link, contact, title: str) -> FeatureRequest:
    return services.request_submit(
        product=link.product, share_link=link, title=title, contact=contact
    ).request


def test_a_request_waits_for_confirmation_and_its_email_carries_nothing_typed(
    client, link, django_capture_on_commit_callbacks
):
    # When a visitor asks for something
    with django_capture_on_commit_callbacks(execute=True):
        response = _post_request(
            client,
            link,
            title="TYPED-TITLE",
            description="TYPED-DESCRIPTION",
            email="li@globex.example.org",
        )
    # Then they are told to check their inbox; the request waits, and no insight exists yet
    assert response.status_code == 200 and "Check your inbox" in response.content.decode()
    request = FeatureRequest.objects.get()
    assert (request.title, request.importance, request.share_link) == ("TYPED-TITLE", 3, link)
    assert request.requesters.get().confirmed_at is None
    assert Insight.objects.count() == 0
    (message,) = mail.outbox
    html = message.alternatives[0][0]
    assert "TYPED" not in message.body and "TYPED" not in html and "TYPED" not in message.subject
    # When they confirm by the emailed link's button
    token = message.body.split("/portal/confirm/")[1].split("/")[0]
    confirmed = client.post(reverse("portal:confirm", kwargs={"token": token}))
    # Then the request counts, and the page they come back to lists it as received
    assert request.requesters.get().confirmed_at is not None
    assert Insight.objects.get().text.startswith("Asked on the roadmap page: “TYPED-TITLE”")
    body = client.get(_page(link)).content.decode()
    mine = body.split('id="mine"')[1]
    assert "TYPED-TITLE" in mine and "Received" in mine
    assert f'href="{_page(link)}#mine"' in confirmed.content.decode()


def test_a_remembered_contact_asks_at_once(client, link, contact):
    _remember(client, contact)
    response = _post_request(client, link)
    assert response.status_code == 302 and response["Location"] == f"{_page(link)}#mine"
    assert mail.outbox == []
    assert FeatureRequest.objects.get().requesters.get().confirmed_at is not None
    body = client.get(response["Location"]).content.decode()
    assert "Your request is in" in body and "Export to PDF" in body.split('id="mine"')[1]


def test_a_request_without_a_title_comes_back_with_the_error(client, link):
    response = _post_request(client, link, title="", email="li@globex.example.org")
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="request-title_error"' in body and 'value="li@globex.example.org"' in body
    assert "Your request was not sent" in body
    assert FeatureRequest.objects.count() == 0 and mail.outbox == []


def test_the_request_honeypot_pretends_and_does_nothing(client, link):
    response = _post_request(client, link, email="bot@spam.example", website="buy now")
    assert response.status_code == 200 and "Check your inbox" in response.content.decode()
    assert FeatureRequest.objects.count() == 0 and Contact.objects.count() == 0


def test_requests_are_limited_per_mailbox(client, link):
    for _ in range(services.FEEDBACK_PER_EMAIL):
        assert _post_request(client, link, email="li+x@globex.example.org").status_code == 200
    response = _post_request(client, link, email="li@globex.example.org")
    assert response.status_code == 429
    assert response["Retry-After"] == str(services.FEEDBACK_EMAIL_WINDOW)
    assert FeatureRequest.objects.count() == services.FEEDBACK_PER_EMAIL


def test_each_request_status_reads_as_outsiders_are_told(link, contact, product):
    # Given requests of the contact in every state
    shown = FeatureFactory(product=product, status="in_progress")
    RoadmapItemFactory(product=product, feature=shown, visibility="external")
    unshown = FeatureFactory(product=product, status="in_progress", title="SECRET-FEATURE")
    new = _ask(link, contact, "Still new")
    linked_shown = _ask(link, contact, "Linked, on the roadmap")
    services.request_link(request=linked_shown, feature=shown)
    linked_unshown = _ask(link, contact, "Linked, not on the roadmap")
    services.request_link(request=linked_unshown, feature=unshown)
    declined = _ask(link, contact, "Declined")
    services.request_decline(request=declined, reason="Out of scope for us.")
    spam = _ask(link, contact, "Spam")
    services.request_mark_spam(request=spam)
    # And one of theirs merged into someone else's request that is linked to the shown feature
    other = Contact.objects.create(
        product=product, email="bo@globex.example.org", confirmed_at=timezone.now()
    )
    survivor = _ask(link, other, "Survivor")
    services.request_link(request=survivor, feature=shown)
    duplicate = _ask(link, contact, "Duplicate")
    services.request_merge(request=duplicate, into=survivor)
    # When their own view is read
    mine = selectors.contact_feedback(contact=contact)
    # Then each reads in the outsiders' words: no internal status, no feature name
    by_title = {r["title"]: (r["status"], r["reason"]) for r in mine["requests"]}
    assert by_title == {
        "Still new": ("received", ""),
        "Linked, on the roadmap": ("in progress", ""),
        "Linked, not on the roadmap": ("planned", ""),
        "Declined": ("declined", "Out of scope for us."),
        "Spam": ("declined", ""),
        # moved to the survivor with the merge: the survivor's status, in their own words
        "Duplicate": ("in progress", ""),
    }
    assert "Survivor" not in str(mine)
    assert new.status == RequestStatus.NEW
    assert "SECRET-FEATURE" not in str(mine)
    assert "bo@globex" not in str(mine)


def test_mine_lists_votes_with_public_titles_and_statuses_only(link, contact, product):
    item = RoadmapItemFactory(
        product=product,
        feature=FeatureFactory(product=product, title="Internal codename", status="discovery"),
        visibility="external",
        external_title="Offline mode",
    )
    hidden = RoadmapItemFactory(product=product, visibility="external")
    services.vote_cast(share_link=link, anchor=item_anchor(item.pk), note="mine", contact=contact)
    services.vote_cast(share_link=link, anchor=item_anchor(hidden.pk), contact=contact)
    hidden.visibility = "internal"
    hidden.save()
    assert selectors.contact_feedback(contact=contact)["votes"] == [
        {
            "anchor": item_anchor(item.pk),
            "title": "Offline mode",
            "status": "planned",
            "confirmed": True,
        }
    ]


def test_mine_runs_a_constant_number_of_queries(link, contact, product, django_assert_num_queries):
    def add(n):
        for i in range(n):
            item = RoadmapItemFactory(product=product, visibility="external")
            services.vote_cast(share_link=link, anchor=item_anchor(item.pk), contact=contact)
            request = _ask(link, contact, f"Ask {item.pk} {i}")
            services.request_link(request=request, feature=item.feature)

    add(1)
    with django_assert_num_queries(2):
        selectors.contact_feedback(contact=contact)
    add(5)
    with django_assert_num_queries(2):
        selectors.contact_feedback(contact=contact)


def test_the_feedback_page_runs_a_constant_number_of_queries(
    client, link, contact, product, django_assert_max_num_queries
):
    _remember(client, contact)
    for _ in range(2):
        item = RoadmapItemFactory(product=product, visibility="external")
        services.vote_cast(share_link=link, anchor=item_anchor(item.pk), contact=contact)
    with django_assert_max_num_queries(11) as few:
        assert client.get(_page(link)).status_code == 200
    for _ in range(10):
        item = RoadmapItemFactory(product=product, visibility="external")
        services.vote_cast(share_link=link, anchor=item_anchor(item.pk), contact=contact)
        _ask(link, contact, f"Ask {item.pk}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(_page(link)).status_code == 200


def test_the_mine_page_for_a_browser_not_remembered_says_how(client, link, contact):
    response = client.get(reverse("portal:mine", kwargs={"token": link.token}))
    assert response.status_code == 200
    assert "This browser does not know you yet" in response.content.decode()
    _remember(client, contact)
    _ask(link, contact, "Export to PDF")
    body = client.get(reverse("portal:mine", kwargs={"token": link.token})).content.decode()
    assert "Export to PDF" in body and "Received" in body


def test_unsubscribe_stops_ship_notices_on_the_button_or_one_click(client, contact):
    from roadmap.portal.notices import unsubscribe_url

    path = unsubscribe_url(contact).split("testserver")[-1].split("://", 1)[-1]
    path = path[path.index("/portal/") :]
    # Opening the link changes nothing
    assert client.get(path).status_code == 200
    contact.refresh_from_db()
    assert contact.notify is True
    # RFC 8058's one-click POST stops them
    response = client.post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    contact.refresh_from_db()
    assert contact.notify is False
    assert client.get("/portal/unsubscribe/bad-token/").status_code == 404
