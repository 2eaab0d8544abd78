"""A share link's visitor votes ("I want this") without an account: pending until the emailed
link's button is pressed, at once afterwards (the browser is remembered), withdrawn on request;
bots, floods and closed links get nothing."""

import datetime
import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from roadmap.models import Contact, Insight, InsightSource, Vote
from roadmap.portal import services
from roadmap.portal.views_external import REMEMBER_MAX_AGE, cookie_name
from roadmap.sharing.external import item_anchor
from tests.factories import FeatureFactory, RoadmapItemFactory, ShareLinkFactory


@pytest.fixture
def link(product):
    return ShareLinkFactory(product=product, allow_feedback=True)


@pytest.fixture
def item(product):
    return RoadmapItemFactory(
        product=product,
        feature=FeatureFactory(product=product, title="Internal name", status="planned"),
        visibility="external",
        external_title="Offline mode",
    )


def _urls(link):
    token = {"token": link.token}
    return {
        "page": reverse("external:roadmap", kwargs=token),
        "vote": reverse("portal:vote", kwargs=token),
        "withdraw": reverse("portal:vote_withdraw", kwargs=token),
        "mine": reverse("portal:mine", kwargs=token),
    }


def _confirm_path() -> str:
    body = mail.outbox[-1].body
    return "/portal/confirm/" + body.split("/portal/confirm/")[1].split("/")[0] + "/"


def _remember(client, contact: Contact) -> None:
    client.cookies[cookie_name(contact.product_id)] = services.contact_remember_value(contact)


def _confirmed_contact(product, email="ana@acme.example.org") -> Contact:
    return Contact.objects.create(product=product, email=email, confirmed_at=timezone.now())


def test_the_page_offers_i_want_this_on_each_open_item_of_a_feedback_link(
    client, link, item, product
):
    # Given someone else's confirmed vote with a note
    other = _confirmed_contact(product, email="other-voter@rival.example.org")
    services.vote_cast(
        share_link=link, anchor=item_anchor(item.pk), note="OTHER-NOTE", contact=other
    )
    # When a visitor opens the link
    body = client.get(_urls(link)["page"]).content.decode()
    # Then the item has its vote form, naming it by its anchor, and the request form is there
    anchor = item_anchor(item.pk)
    assert f'<input type="hidden" name="item" value="{anchor}">' in body
    assert f'action="{_urls(link)["vote"]}"' in body
    assert 'name="website"' in body
    assert 'id="request-heading"' in body
    # And nothing tells who else voted, what they wrote, or how many they are
    assert "OTHER-NOTE" not in body and "other-voter" not in body and "rival" not in body
    assert not re.search(r"\d+\s+votes?\b", body, re.IGNORECASE)
    assert "You want this" not in body


def test_a_link_without_feedback_shows_no_vote_form(client, product, item):
    link = ShareLinkFactory(product=product)
    body = client.get(_urls(link)["page"]).content.decode()
    assert 'name="item"' not in body and "Request something" not in body


def test_a_vote_waits_for_the_emailed_confirmation_then_counts(
    client, link, item, django_capture_on_commit_callbacks
):
    # Given a visitor voting with a note
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            _urls(link)["vote"],
            {
                "item": item_anchor(item.pk),
                "note": "TYPED-NOTE for our field team",
                "email": "Ana@Acme.example.org",
                "notify": "on",
            },
        )
    # Then they are asked to check their inbox; nothing counts yet
    assert response.status_code == 200
    assert "Check your inbox" in response.content.decode()
    vote = Vote.objects.get()
    assert vote.confirmed_at is None and vote.share_link == link
    assert Insight.objects.count() == 0
    # And the email carries the item's public title and the link, never the typed text
    (message,) = mail.outbox
    assert message.to == ["ana@acme.example.org"]
    assert "Offline mode" in message.body and "TYPED-NOTE" not in message.body
    assert "TYPED-NOTE" not in message.alternatives[0][0]
    # When the link is opened (a mail scanner would stop here) nothing changes
    confirm = _confirm_path()
    page = client.get(confirm)
    assert page.status_code == 200 and "Confirm your email" in page.content.decode()
    vote.refresh_from_db()
    assert vote.confirmed_at is None
    # When the button is pressed
    response = client.post(confirm)
    # Then the vote counts as a portal insight supporting the item's feature
    assert response.status_code == 200
    vote.refresh_from_db()
    assert vote.confirmed_at is not None
    insight = Insight.objects.get()
    assert insight.source == InsightSource.PORTAL
    assert list(insight.features.all()) == [item.feature]
    # And the browser is remembered for this product, and sent back to the roadmap
    cookie = response.cookies[cookie_name(link.product_id)]
    assert cookie["httponly"] is True and cookie["samesite"] == "Lax"
    assert cookie["max-age"] == REMEMBER_MAX_AGE == 30 * 24 * 60 * 60
    assert f'href="{_urls(link)["page"]}#mine"' in response.content.decode()
    assert services.contact_known(
        product=link.product, value=cookie.value, max_age=REMEMBER_MAX_AGE
    ) == Contact.objects.get(email="ana@acme.example.org")


def test_a_remembered_contact_votes_at_once_and_sees_it_marked(client, link, item, product):
    # Given a browser remembered as a confirmed contact
    contact = _confirmed_contact(product)
    _remember(client, contact)
    anchor = item_anchor(item.pk)
    # When it votes, without an email address
    response = client.post(_urls(link)["vote"], {"item": anchor, "note": "", "notify": "on"})
    # Then the vote counts now, no email is sent, and the page says so with the item marked
    assert response.status_code == 302
    assert response["Location"] == f"{_urls(link)['page']}#{anchor}"
    assert mail.outbox == []
    vote = Vote.objects.get(contact=contact)
    assert vote.confirmed_at is not None and vote.insight is not None
    body = client.get(response["Location"]).content.decode()
    assert "Your vote counts" in body
    assert "You want this" in body and "Remove my vote" in body
    assert 'id="mine"' in body and "Offline mode" in body.split('id="mine"')[1]


def test_a_remembered_contact_withdraws_a_vote(client, link, item, product):
    # Given a remembered contact's vote
    contact = _confirmed_contact(product)
    _remember(client, contact)
    anchor = item_anchor(item.pk)
    client.post(_urls(link)["vote"], {"item": anchor})
    # When they remove it
    response = client.post(_urls(link)["withdraw"], {"item": anchor})
    # Then the vote and its insight are gone, and the item offers "I want this" again
    assert response.status_code == 302 and response["Location"].endswith(f"#{anchor}")
    assert Vote.objects.count() == 0 and Insight.objects.count() == 0
    body = client.get(_urls(link)["page"]).content.decode()
    assert "Your vote is removed" in body and "Remove my vote" not in body


def test_withdrawing_needs_a_remembered_browser(client, link, item, product):
    contact = _confirmed_contact(product)
    services.vote_cast(share_link=link, anchor=item_anchor(item.pk), contact=contact)
    response = client.post(_urls(link)["withdraw"], {"item": item_anchor(item.pk)})
    assert response.status_code == 302
    assert Vote.objects.filter(contact=contact).count() == 1


def test_a_cookie_of_another_product_or_tampered_is_not_remembered(client, link, item, product):
    # Given a cookie whose signature is broken
    contact = _confirmed_contact(product)
    client.cookies[cookie_name(product.pk)] = services.contact_remember_value(contact) + "x"
    # When the browser votes without an address
    response = client.post(_urls(link)["vote"], {"item": item_anchor(item.pk)})
    # Then it must give one, and nothing is saved
    assert response.status_code == 400
    assert "Enter a valid email address" in response.content.decode() or (
        "This field is required" in response.content.decode()
    )
    assert Vote.objects.count() == 0


def test_the_honeypot_pretends_and_does_nothing(client, link, item):
    response = client.post(
        _urls(link)["vote"],
        {"item": item_anchor(item.pk), "email": "bot@spam.example", "website": "http://x"},
    )
    assert response.status_code == 200 and "Check your inbox" in response.content.decode()
    assert Vote.objects.count() == 0 and Contact.objects.count() == 0 and mail.outbox == []


def test_bad_input_brings_the_page_back_with_the_errors_and_saves_nothing(client, link, item):
    anchor = item_anchor(item.pk)
    response = client.post(
        _urls(link)["vote"], {"item": anchor, "note": "x" * 1001, "email": "not an address"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert f'id="{anchor}-note-error"' in body and f'id="{anchor}-email-error"' in body
    assert "x" * 1001 in body  # nothing typed is lost
    assert Vote.objects.count() == 0 and mail.outbox == []


def test_an_unknown_item_is_refused(client, link, item):
    response = client.post(
        _urls(link)["vote"], {"item": "item-000000000000", "email": "ana@acme.example.org"}
    )
    assert response.status_code == 400
    assert "This item is not on the roadmap." in response.content.decode()
    assert Vote.objects.count() == 0


def test_too_many_attempts_answer_429_with_retry_after(client, link, item):
    anchor = item_anchor(item.pk)
    for _ in range(services.FEEDBACK_PER_EMAIL):
        assert (
            client.post(
                _urls(link)["vote"], {"item": anchor, "email": "a@acme.example.org"}
            ).status_code
            == 200
        )
    response = client.post(_urls(link)["vote"], {"item": anchor, "email": "a@acme.example.org"})
    assert response.status_code == 429
    assert response["Retry-After"] == str(services.FEEDBACK_EMAIL_WINDOW)
    assert "Too many attempts" in response.content.decode()


@pytest.mark.parametrize("state", ["feedback off", "revoked", "expired", "unknown"])
def test_a_closed_or_unknown_link_gets_the_share_links_404(client, product, item, state):
    # Given a link that takes no feedback, in one of the ways
    link = ShareLinkFactory(product=product, allow_feedback=state != "feedback off")
    if state == "revoked":
        link.revoked_at = timezone.now()
        link.save()
    if state == "expired":
        link.expires_at = timezone.now() - datetime.timedelta(days=1)
        link.save()
    token = "no-such-token" if state == "unknown" else link.token
    reference = client.get(reverse("external:roadmap", kwargs={"token": "no-such-token"}))
    data = {"item": item_anchor(item.pk), "email": "ana@acme.example.org", "title": "X"}
    # Then every portal route answers as an unknown share link does, and nothing is saved
    for name in ("vote", "vote_withdraw", "request"):
        response = client.post(reverse(f"portal:{name}", kwargs={"token": token}), data)
        assert response.status_code == 404
        assert response.content == reference.content
    response = client.get(reverse("portal:mine", kwargs={"token": token}))
    assert response.status_code == 404 and response.content == reference.content
    assert Vote.objects.count() == 0 and mail.outbox == []


def test_a_password_protected_link_takes_votes_only_once_unlocked(client, product, item):
    from roadmap.sharing.services.sharing import share_link_create

    link = share_link_create(
        product=product, label="Locked", password="correct horse", allow_feedback=True
    )
    urls = _urls(link)
    data = {"item": item_anchor(item.pk), "email": "ana@acme.example.org"}
    assert client.post(urls["vote"], data)["Location"] == urls["page"]
    assert Vote.objects.count() == 0
    client.post(urls["page"], {"password": "correct horse"})
    assert client.post(urls["vote"], data).status_code == 200
    assert Vote.objects.count() == 1


def test_an_unknown_confirmation_token_is_a_404(client, db):
    response = client.get(reverse("portal:confirm", kwargs={"token": "nope"}))
    assert response.status_code == 404
    assert client.post(reverse("portal:confirm", kwargs={"token": "nope"})).status_code == 404


def test_the_remember_cookie_is_secure_where_the_session_cookie_is(
    client, link, item, settings, django_capture_on_commit_callbacks
):
    settings.SESSION_COOKIE_SECURE = True
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            _urls(link)["vote"], {"item": item_anchor(item.pk), "email": "ana@acme.example.org"}
        )
    response = client.post(_confirm_path())
    assert response.cookies[cookie_name(link.product_id)]["secure"] is True


def test_a_pm_turns_feedback_on_when_creating_a_share_link(editor_client, product):
    # When the PM ticks "Let visitors vote and send requests" on a new link
    page = editor_client.get(reverse("sharing:list", kwargs={"slug": product.slug}))
    assert "Let visitors vote and send requests" in page.content.decode()
    editor_client.post(
        reverse("sharing:create", kwargs={"slug": product.slug}),
        {"label": "Acme QBR", "audience": "customers", "allow_feedback": "on"},
    )
    editor_client.post(
        reverse("sharing:create", kwargs={"slug": product.slug}),
        {"label": "Board", "audience": "investors"},
    )
    # Then that link takes feedback, and the other does not
    links = {link.label: link.allow_feedback for link in product.share_links.all()}
    assert links == {"Acme QBR": True, "Board": False}


def test_tell_me_when_it_ships_starts_as_the_contact_left_it(client, link, item, product):
    # Given a remembered contact who stopped the "it's live" emails
    contact = _confirmed_contact(product)
    contact.notify = False
    contact.save()
    _remember(client, contact)
    # Then the page's checkboxes start unticked, so voting does not undo it
    body = client.get(_urls(link)["page"]).content.decode()
    anchor = item_anchor(item.pk)
    assert f'id="{anchor}-notify" name="notify" type="checkbox" value="on">' in body
    assert 'name="notify" id="request-notify" checked' not in body
    client.post(_urls(link)["vote"], {"item": anchor})
    contact.refresh_from_db()
    assert contact.notify is False
