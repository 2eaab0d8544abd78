"""The voice of the customer's webhooks: ``request.created`` and ``vote.created`` are offered on
the endpoint form and the API, and a delivery is made with the payload the README documents
when a vote or request starts to count (confirmed by email, or pushed through the API)."""

import socket

import pytest
from django.core import mail
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.tokens import api_token_issue
from roadmap.integrations import outbound
from roadmap.models import WebhookDelivery, WebhookEndpoint
from roadmap.portal import services
from roadmap.sharing.external import item_anchor
from tests.factories import FeatureFactory, RoadmapItemFactory, ShareLinkFactory

PORTAL_EVENTS = ["request.created", "vote.created"]


@pytest.fixture
def public_dns(monkeypatch):
    """Every host name resolves to one public address (the test machine has no DNS)."""

    def getaddrinfo(host, port, *args, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("93.184.215.14", port))
        ]

    monkeypatch.setattr(outbound, "getaddrinfo", getaddrinfo)


@pytest.fixture
def endpoint(product):
    return WebhookEndpoint.objects.create(
        workspace=product.workspace, url="https://hooks.example.com/in", events=PORTAL_EVENTS
    )


@pytest.fixture
def link(product):
    return ShareLinkFactory(product=product, allow_feedback=True)


@pytest.fixture
def item(product):
    return RoadmapItemFactory(
        product=product, feature=FeatureFactory(product=product), visibility="external"
    )


def _confirm_last_mail():
    token = mail.outbox[-1].body.split("/portal/confirm/")[1].split("/")[0]
    return services.contact_confirm(token=token)


def test_the_endpoint_form_offers_the_portal_events(client, admin_user, public_dns):
    client.force_login(admin_user)

    page = client.get(reverse("webhooks:create")).content.decode()
    response = client.post(
        reverse("webhooks:create"),
        {"url": "https://hooks.example.com/support", "events": PORTAL_EVENTS, "is_active": "on"},
    )

    assert 'value="request.created"' in page and 'value="vote.created"' in page
    assert "Request created (confirmed by its requester)" in page
    assert response.status_code == 302
    assert WebhookEndpoint.objects.get().events == PORTAL_EVENTS


def test_the_api_subscribes_an_endpoint_to_the_portal_events(admin_user, workspace, public_dns):
    _, raw = api_token_issue(user=admin_user, workspace=workspace, name="t", scope="write")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    response = api.post(
        "/api/v1/webhooks/",
        {"url": "https://hooks.example.com/support", "events": ["vote.created"]},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["events"] == ["vote.created"]


def test_a_visitors_vote_sends_vote_created_once_confirmed(
    endpoint, link, item, product, django_capture_on_commit_callbacks
):
    # given a visitor's vote, pending
    with django_capture_on_commit_callbacks(execute=True):
        services.vote_cast(
            share_link=link, anchor=item_anchor(item.pk), email="ana@acme.example.org"
        )
    assert WebhookDelivery.objects.count() == 0

    # when they confirm their address
    _confirm_last_mail()

    # then one vote.created, with the documented payload
    delivery = WebhookDelivery.objects.get()
    vote = item.votes.get()
    assert (delivery.endpoint, delivery.event) == (endpoint, "vote.created")
    assert set(delivery.payload) == {"event", "occurred_at", "data"}
    assert delivery.payload["event"] == "vote.created"
    assert delivery.payload["data"] == {
        "product_id": product.pk,
        "roadmap_item_id": item.pk,
        "feature_id": item.feature_id,
        "vote_id": vote.pk,
        "customer": "acme.example.org",
    }

    # and confirming again sends nothing more
    _confirm_last_mail()
    assert WebhookDelivery.objects.count() == 1


def test_a_visitors_request_sends_request_created_once_confirmed(
    endpoint, link, product, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        cast = services.request_submit(
            product=product,
            share_link=link,
            title="Export to PDF",
            description="For audits",
            importance=4,
            email="bo@gmail.com",
        )
    assert WebhookDelivery.objects.count() == 0

    _confirm_last_mail()

    delivery = WebhookDelivery.objects.get()
    assert (delivery.event, delivery.payload["event"]) == ("request.created", "request.created")
    assert delivery.payload["data"] == {
        "product_id": product.pk,
        "request_id": cast.request.pk,
        "title": "Export to PDF",
        "description": "For audits",
        "importance": 4,
        "status": "new",
        "source": "portal",
        "feature_id": None,
    }


def test_endpoints_not_subscribed_to_portal_events_get_nothing(product, item):
    WebhookEndpoint.objects.create(
        workspace=product.workspace, url="https://hooks.example.com/f", events=["feature.created"]
    )

    services.vote_import(item=item, email="ana@acme.example.org")
    services.request_import(product=product, title="SSO", email="ana@acme.example.org")

    assert WebhookDelivery.objects.count() == 0
