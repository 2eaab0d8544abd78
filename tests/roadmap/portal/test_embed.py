"""The embeddable request form: framed only by the link's allowed origins, only on a link that
takes feedback, sent without our cookies (as inside another site's frame), confirmed by email."""

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from roadmap.models import Contact, FeatureRequest, Insight, RequestSource
from roadmap.portal import services
from roadmap.portal.views_embed import EXPIRED, form_token
from roadmap.sharing.services.sharing import share_link_revoke
from tests.factories import ShareLinkFactory

ORIGIN = "https://app.customer.example"


@pytest.fixture
def link(product):
    return ShareLinkFactory(product=product, allow_feedback=True, allowed_embed_origins=ORIGIN)


@pytest.fixture
def framed():
    """A browser inside another site's frame: no cookies of ours, CSRF checks on."""
    return Client(enforce_csrf_checks=True)


def _url(link):
    return reverse("portal_embed:request", kwargs={"token": link.token})


def _send(client, link, **data):
    body = {
        "title": "Export to PDF",
        "description": "For our auditors",
        "importance": "3",
        "email": "ana@acme.example.org",
        "notify": "on",
        "form_token": form_token(link),
    }
    return client.post(_url(link), {**body, **data})


def test_the_form_may_be_framed_only_by_the_links_allowed_origins(framed, link, product):
    response = framed.get(_url(link))

    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    assert response["Content-Security-Policy"].endswith(f"frame-ancestors {ORIGIN}")
    assert response["Referrer-Policy"] == "same-origin"
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert f'<p class="x-eyebrow">{product.name}</p>' in page
    assert 'name="form_token"' in page and 'name="website"' in page
    assert 'name="email"' in page


def test_a_link_without_allowed_origins_may_not_be_framed_at_all(framed, product):
    link = ShareLinkFactory(product=product, allow_feedback=True)

    response = framed.get(_url(link))

    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert response["Content-Security-Policy"].endswith("frame-ancestors 'none'")


@pytest.mark.parametrize("closed", ["no_feedback", "revoked", "unknown"])
def test_a_link_that_takes_no_feedback_answers_the_share_links_404(framed, product, closed):
    link = ShareLinkFactory(
        product=product, allow_feedback=closed != "no_feedback", allowed_embed_origins=ORIGIN
    )
    if closed == "revoked":
        share_link_revoke(share_link=link)
    token = "x" * 43 if closed == "unknown" else link.token
    unknown = framed.get(reverse("portal_embed:request", kwargs={"token": "y" * 43}))

    got = framed.get(reverse("portal_embed:request", kwargs={"token": token}))
    sent = framed.post(
        reverse("portal_embed:request", kwargs={"token": token}),
        {"title": "x", "email": "ana@acme.example.org"},
    )

    assert (got.status_code, sent.status_code) == (404, 404)
    assert got.content == unknown.content
    assert FeatureRequest.objects.count() == 0


def test_a_request_sent_from_the_frame_counts_once_its_address_is_confirmed(
    framed, link, django_capture_on_commit_callbacks
):
    # when a visitor sends the form from inside the frame (no CSRF cookie)
    with django_capture_on_commit_callbacks(execute=True):
        response = _send(framed, link)

    # then they are asked to check their inbox, framed as the form was
    assert response.status_code == 200
    assert "Check your inbox" in response.content.decode()
    assert response["Content-Security-Policy"].endswith(f"frame-ancestors {ORIGIN}")
    request = FeatureRequest.objects.get()
    assert (request.title, request.source, request.share_link, request.importance) == (
        "Export to PDF",
        RequestSource.EMBED,
        link,
        3,
    )
    (message,) = mail.outbox
    assert message.to == ["ana@acme.example.org"]
    assert "Export to PDF" not in message.body  # no text typed by a stranger in the mail
    assert Insight.objects.count() == 0

    # and once confirmed it is evidence
    token = message.body.split("/portal/confirm/")[1].split("/")[0]
    services.contact_confirm(token=token)
    assert Insight.objects.get().text.startswith("Asked on the roadmap page: “Export to PDF”.")


def test_errors_come_back_next_to_the_fields_and_nothing_is_stored(framed, link):
    response = _send(framed, link, title="", email="nope")

    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="embed-title_error"' in page and 'id="embed-email_error"' in page
    assert 'value="For our auditors"' in page or "For our auditors</textarea>" in page
    assert (FeatureRequest.objects.count(), Contact.objects.count(), len(mail.outbox)) == (0, 0, 0)


@pytest.mark.parametrize("value", ["", "forged", "other link"])
def test_a_post_without_the_forms_own_token_is_refused(framed, link, product, value):
    if value == "other link":
        value = form_token(ShareLinkFactory(product=product, allow_feedback=True))

    response = _send(framed, link, form_token=value)

    assert response.status_code == 400
    assert EXPIRED in response.content.decode()
    assert (FeatureRequest.objects.count(), len(mail.outbox)) == (0, 0)


def test_a_filled_honeypot_pretends_success_and_does_nothing(framed, link):
    response = _send(framed, link, website="http://spam.example")

    assert response.status_code == 200
    assert "Check your inbox" in response.content.decode()
    assert (FeatureRequest.objects.count(), Contact.objects.count(), len(mail.outbox)) == (0, 0, 0)


def test_too_many_attempts_are_a_429_with_retry_after(framed, link):
    for n in range(services.FEEDBACK_PER_EMAIL):
        assert _send(framed, link, title=f"Idea {n}").status_code == 200

    response = _send(framed, link, title="One more")

    assert response.status_code == 429
    assert response["Retry-After"] == str(services.FEEDBACK_EMAIL_WINDOW)
    assert FeatureRequest.objects.count() == services.FEEDBACK_PER_EMAIL
