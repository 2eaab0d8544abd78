"""The admin's queue health page: stale scores, unsent digests, undelivered webhooks, broker."""

import datetime
import os
import uuid

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from roadmap.models import (
    DeliveryStatus,
    DigestDelivery,
    DigestStatus,
    Product,
    Subscription,
    WebhookDelivery,
    WebhookEndpoint,
)
from tests import factories as f

URL = "/admin/queue-health/"


@pytest.fixture
def superuser_client(db):
    client = Client()
    client.force_login(User.objects.create_superuser(email="ops@example.com", password="x" * 12))
    return client


@pytest.fixture
def no_broker(settings):
    settings.REDIS_URL = ""


def _stale(workspace, name, requested_minutes_ago, queued=True) -> Product:
    now = timezone.now()
    return f.ProductFactory(
        workspace=workspace,
        name=name,
        score_recompute_requested_at=now - datetime.timedelta(minutes=requested_minutes_ago),
        score_recompute_queued=queued,
        scores_computed_at=now - datetime.timedelta(hours=1),
    )


def _digest(product, status, attempts=0, error="") -> DigestDelivery:
    subscription = Subscription.objects.create(
        product=product, email=f"{uuid.uuid4().hex[:8]}@example.com"
    )
    return DigestDelivery.objects.create(
        subscription=subscription,
        period="2026-W48",
        events_through=timezone.now(),
        status=status,
        attempts=attempts,
        last_error=error,
    )


def _webhook(endpoint, status, attempts=0, error="", next_attempt_at=None) -> WebhookDelivery:
    return WebhookDelivery.objects.create(
        endpoint=endpoint,
        event="feature.created",
        payload={},
        status=status,
        attempts=attempts,
        last_error=error,
        next_attempt_at=next_attempt_at,
    )


def _backlog(workspace, size: int) -> None:
    for i in range(size):
        _stale(workspace, f"Stale {i}", requested_minutes_ago=1)
    product = f.ProductFactory(workspace=workspace)
    endpoint = WebhookEndpoint.objects.create(
        workspace=workspace, url="https://hooks.example.com/w", events=["feature.created"]
    )
    for _ in range(size):
        _digest(product, DigestStatus.FAILED, attempts=2, error="SMTP 451")
        _webhook(endpoint, DeliveryStatus.PENDING)


def test_superuser_sees_each_backlog_counted_and_listed(superuser_client, workspace, no_broker):
    # Given products with stale scores (one overdue), fresh ones, and digests and webhook
    # deliveries in every state
    now = timezone.now()
    overdue = _stale(workspace, "Overdue product", requested_minutes_ago=12, queued=False)
    recent = _stale(workspace, "Recent product", requested_minutes_ago=1)
    f.ProductFactory(
        workspace=workspace,
        name="Fresh product",
        score_recompute_requested_at=now - datetime.timedelta(minutes=5),
        scores_computed_at=now - datetime.timedelta(minutes=4),
    )
    f.ProductFactory(workspace=workspace, name="Never asked")
    failed_digest = _digest(recent, DigestStatus.FAILED, attempts=3, error="SMTP 451 try later")
    _digest(recent, DigestStatus.FAILED, attempts=6, error="SMTP 550")
    _digest(recent, DigestStatus.PENDING)
    _digest(recent, DigestStatus.SENT, attempts=1)
    _digest(recent, DigestStatus.SKIPPED)
    endpoint = WebhookEndpoint.objects.create(
        workspace=workspace, url="https://hooks.example.com/waymark", events=["feature.created"]
    )
    _webhook(endpoint, DeliveryStatus.FAILED, attempts=6, error="The endpoint answered HTTP 500.")
    _webhook(
        endpoint,
        DeliveryStatus.FAILED,
        attempts=2,
        error="Could not send: timed out",
        next_attempt_at=now + datetime.timedelta(minutes=2),
    )
    _webhook(endpoint, DeliveryStatus.PENDING)
    _webhook(endpoint, DeliveryStatus.SUCCEEDED, attempts=1)

    # When a superuser opens the page
    response = superuser_client.get(URL)

    # Then each section counts and lists what waits or failed, oldest first
    assert response.status_code == 200
    recomputes = response.context["recomputes"]
    assert (recomputes.pending, recomputes.failed) == (2, 1)
    assert [p.name for p in recomputes.rows] == ["Overdue product", "Recent product"]
    assert [p.overdue for p in recomputes.rows] == [True, False]
    assert recomputes.oldest == overdue.score_recompute_requested_at
    digests = response.context["digests"]
    assert (digests.failed, digests.pending) == (2, 1)
    assert [d.status for d in digests.rows] == ["failed", "failed", "pending"]
    webhooks = response.context["webhooks"]
    assert (webhooks.failed, webhooks.pending) == (2, 1)
    assert [w.status for w in webhooks.rows] == ["failed", "failed", "pending"]
    html = response.content.decode()
    assert "Overdue product" in html and "(overdue)" in html
    assert "Fresh product" not in html and "Never asked" not in html
    assert failed_digest.subscription.email in html and "SMTP 451 try later" in html
    assert "The endpoint answered HTTP 500." in html and "Given up" in html
    assert "No broker configured" in html


def test_product_whose_recompute_was_requested_shows_up_until_it_ran(
    superuser_client, product, no_broker
):
    from roadmap.planning.services.scoring import (
        product_recompute_scores,
        product_request_recompute,
    )

    # Given a product whose scores were just asked for again (the enqueue is not run here)
    product_recompute_scores(product_id=product.pk)
    product_request_recompute(product_id=product.pk)

    # Then the page lists it as queued
    listed = superuser_client.get(URL).context["recomputes"].rows
    assert [(p.pk, p.score_recompute_queued) for p in listed] == [(product.pk, True)]

    # When the recompute has run, it is gone
    product_recompute_scores(product_id=product.pk)
    assert superuser_client.get(URL).context["recomputes"].rows == []


def test_page_runs_the_same_queries_whatever_the_backlog(superuser_client, no_broker):
    small, large = f.WorkspaceFactory(), f.WorkspaceFactory()
    _backlog(small, 1)
    superuser_client.get(URL)  # warm: the session and the user's permissions
    with CaptureQueriesContext(connection) as one:
        superuser_client.get(URL)
    _backlog(large, 15)

    with CaptureQueriesContext(connection) as many:
        response = superuser_client.get(URL)

    assert len(many) == len(one) <= 10
    assert response.context["digests"].failed == 16


def test_member_who_is_not_staff_is_sent_to_the_admin_login(editor_client):
    response = editor_client.get(URL)

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_anonymous_is_sent_to_the_admin_login(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_staff_sees_only_the_lists_their_permissions_allow(db, no_broker):
    # Given a staff user who may view products but not digests or webhook deliveries
    staff = f.UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_product"))
    _stale(f.WorkspaceFactory(), "Stale", requested_minutes_ago=1)
    _digest(f.ProductFactory(), DigestStatus.FAILED, error="secret@example.com bounced")
    client = Client()
    client.force_login(staff)

    response = client.get(URL)

    assert response.status_code == 200
    assert response.context["recomputes"].pending == 1
    assert response.context["digests"] is None
    assert response.context["webhooks"] is None
    assert "bounced" not in response.content.decode()


def test_admin_index_links_to_the_page(superuser_client):
    response = superuser_client.get(reverse("admin:index"))

    assert f'href="{URL}"' in response.content.decode()


@pytest.mark.django_db
def test_unreachable_broker_is_reported(superuser_client, settings):
    settings.REDIS_URL = settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"

    response = superuser_client.get(URL)

    broker = response.context["broker"]
    assert response.status_code == 200
    assert (broker.configured, broker.reachable) == (True, False)
    assert broker.error.startswith("ConnectionError")
    assert "Unreachable" in response.content.decode()


@pytest.mark.services
@pytest.mark.django_db
def test_queue_length_is_read_from_the_broker(superuser_client, settings):
    import redis

    # Given three messages waiting in a queue of this test's own, one of them prioritised
    url = os.environ["REDIS_URL"]
    queue = f"test-health-{uuid.uuid4().hex[:8]}"
    settings.REDIS_URL = settings.CELERY_BROKER_URL = url
    settings.CELERY_TASK_DEFAULT_QUEUE = queue
    client = redis.Redis.from_url(url)
    client.lpush(queue, "a", "b")
    client.lpush(f"{queue}\x06\x163", "c")
    try:
        # When a superuser opens the page
        broker = superuser_client.get(URL).context["broker"]
    finally:
        client.delete(queue, f"{queue}\x06\x163")

    # Then the broker answers and the queue holds three
    assert (broker.reachable, broker.queue, broker.queued) == (True, queue, 3)
    assert broker.unacked >= 0
