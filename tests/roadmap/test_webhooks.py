"""Outbound webhooks end to end: a real HTTP receiver on 127.0.0.1 gets signed events; retries,
resends and idempotence; the settings pages and the API, with who may use them."""

import datetime
import hashlib
import hmac
import json
import socket
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError
from django.urls import NoReverseMatch, Resolver404, include, path, resolve, reverse
from django.utils import timezone
from rest_framework.routers import SimpleRouter
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.tokens import api_token_issue
from roadmap.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent
from roadmap.services import features as feature_services
from roadmap.services import records
from roadmap.services import webhooks as services
from roadmap.tasks import deliver_webhook
from tests import factories as f

# --- Mounting ------------------------------------------------------------------------------------
# Until config/urls.py mounts the pages at settings/webhooks/ and roadmap/api/urls.py registers
# the viewsets, these tests mount them themselves; once both are mounted this block does nothing.


def _mounted() -> bool:
    try:
        reverse("webhooks:list")
        resolve("/api/v1/webhooks/")
        resolve("/api/v1/webhook-deliveries/")
    except (NoReverseMatch, Resolver404):
        return False
    return True


if _mounted():
    pytestmark = []
else:
    import config.urls
    from roadmap.api.webhooks import WebhookDeliveryViewSet, WebhookEndpointViewSet

    _router = SimpleRouter()
    _router.register("webhooks", WebhookEndpointViewSet, basename="webhook")
    _router.register("webhook-deliveries", WebhookDeliveryViewSet, basename="webhook-delivery")
    urlpatterns = [
        path("api/v1/", include(_router.urls)),
        path("settings/webhooks/", include("roadmap.urls_webhooks")),
        *config.urls.urlpatterns,
    ]
    pytestmark = [pytest.mark.urls(__name__)]


# --- A real receiver -----------------------------------------------------------------------------


class Receiver:
    """An HTTP server on 127.0.0.1 that records each request and answers from a script
    (then 200 once the script is used up)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: list[tuple[int, str, dict]] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    receiver.requests.append(
                        {"path": self.path, "headers": dict(self.headers), "body": body}
                    )
                    code, text, headers = (
                        receiver.answers.pop(0) if receiver.answers else (200, "ok", {})
                    )
                payload = text.encode("utf-8")
                self.send_response(code)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/waymark"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def answer(self, code: int, text: str = "", headers: dict | None = None) -> None:
        self.answers.append((code, text, headers or {}))


@pytest.fixture
def receiver():
    r = Receiver()
    r.thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()
    r.thread.join(5)


def _endpoint(workspace, url, events, **data):
    return services.webhook_endpoint_save(
        workspace=workspace, data={"url": url, "events": events, **data}
    )


def _expected_body(delivery) -> bytes:
    return json.dumps(
        delivery.payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False
    ).encode("utf-8")


def _signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _assert_signed_by(request: dict, endpoint: WebhookEndpoint) -> None:
    assert request["headers"]["X-Waymark-Signature"] == _signature(endpoint.secret, request["body"])


# --- Events reach the receiver -------------------------------------------------------------------


def test_creating_a_feature_delivers_a_signed_feature_created(
    receiver, product, django_capture_on_commit_callbacks
):
    # given an endpoint that listens to new features
    endpoint = _endpoint(product.workspace, receiver.url, [WebhookEvent.FEATURE_CREATED])

    # when a feature is created (the task runs once the transaction commits)
    with django_capture_on_commit_callbacks(execute=True):
        feature = feature_services.feature_create(product=product, title="Café export", reach=10)

    # then the receiver got one POST, signed with the endpoint's secret
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    delivery = WebhookDelivery.objects.get()
    assert request["path"] == "/hooks/waymark"
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["headers"]["User-Agent"] == "Waymark-Webhooks/1"
    assert request["headers"]["X-Waymark-Event"] == "feature.created"
    assert request["headers"]["X-Waymark-Delivery"] == str(delivery.event_id)
    assert request["body"] == _expected_body(delivery)
    assert "Café export".encode() in request["body"]
    _assert_signed_by(request, endpoint)
    body = json.loads(request["body"])
    assert body["event"] == "feature.created"
    assert body["data"]["id"] == feature.pk
    assert body["data"]["title"] == "Café export"
    assert body["data"]["product"] == product.slug
    # and the delivery is recorded as succeeded
    assert delivery.endpoint == endpoint
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert delivery.attempts == 1
    assert delivery.response_code == 200
    assert delivery.response_body == "ok"
    assert delivery.last_error == ""
    assert delivery.next_attempt_at is None
    assert delivery.delivered_at is not None


def test_updating_a_feature_delivers_feature_updated_with_what_changed(
    receiver, product, django_capture_on_commit_callbacks
):
    # given a feature, and an endpoint that listens to feature updates only
    feature = feature_services.feature_create(product=product, title="Dark mode")
    endpoint = _endpoint(product.workspace, receiver.url, [WebhookEvent.FEATURE_UPDATED])

    # when its title and status change
    with django_capture_on_commit_callbacks(execute=True):
        feature_services.feature_update(
            feature=feature, data={"title": "Dark theme", "status": "planned"}
        )

    # then one feature.updated names the changed fields
    assert [r["headers"]["X-Waymark-Event"] for r in receiver.requests] == ["feature.updated"]
    _assert_signed_by(receiver.requests[0], endpoint)
    data = json.loads(receiver.requests[0]["body"])["data"]
    assert data["id"] == feature.pk
    assert data["title"] == "Dark theme"
    assert data["status"] == "planned"
    assert data["changed"] == ["status", "title"]


def test_moving_a_roadmap_item_delivers_roadmap_item_moved(
    receiver, product, django_capture_on_commit_callbacks
):
    # given an item in "now", and an endpoint that listens to moves
    item = f.RoadmapItemFactory(product=product, horizon="now", position=0)
    endpoint = _endpoint(product.workspace, receiver.url, [WebhookEvent.ROADMAP_ITEM_MOVED])

    # when it is moved to "next"
    with django_capture_on_commit_callbacks(execute=True):
        records.roadmap_item_move(item=item, horizon="next", position=0)

    # then the receiver learns where from and where to
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert request["headers"]["X-Waymark-Event"] == "roadmap_item.moved"
    _assert_signed_by(request, endpoint)
    data = json.loads(request["body"])["data"]
    assert data["id"] == item.pk
    assert data["feature_id"] == item.feature_id
    assert data["from"] == {"horizon": "now", "position": 0}
    assert data["to"] == {"horizon": "next", "position": 0}


def test_a_rank_change_delivers_priority_changed(
    receiver, product, django_capture_on_commit_callbacks
):
    # given two ranked features, and an endpoint that listens to priority changes
    rice = {"impact": Decimal("1.00"), "confidence": 80, "effort": Decimal("2.00")}
    first = feature_services.feature_create(product=product, title="First", reach=1000, **rice)
    second = feature_services.feature_create(product=product, title="Second", reach=10, **rice)
    assert (first.rank, second.rank) == (1, 2)
    endpoint = _endpoint(product.workspace, receiver.url, [WebhookEvent.PRIORITY_CHANGED])

    # when the second one's reach overtakes the first
    with django_capture_on_commit_callbacks(execute=True):
        feature_services.feature_update(feature=second, data={"reach": 100_000})

    # then one priority.changed lists both moves, new rank first
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert request["headers"]["X-Waymark-Event"] == "priority.changed"
    _assert_signed_by(request, endpoint)
    data = json.loads(request["body"])["data"]
    assert data == {
        "product_id": product.pk,
        "count": 2,
        "changes": [
            {"feature_id": second.pk, "old_rank": 2, "new_rank": 1},
            {"feature_id": first.pk, "old_rank": 1, "new_rank": 2},
        ],
    }


def test_endpoints_not_subscribed_inactive_or_elsewhere_receive_nothing(
    receiver, product, other_workspace, django_capture_on_commit_callbacks
):
    # given endpoints that must not get a new feature: another event, inactive, another workspace
    _endpoint(product.workspace, receiver.url, [WebhookEvent.ROADMAP_ITEM_MOVED])
    _endpoint(product.workspace, receiver.url, [WebhookEvent.FEATURE_CREATED], is_active=False)
    _endpoint(other_workspace, receiver.url, [WebhookEvent.FEATURE_CREATED])

    # when a feature is created
    with django_capture_on_commit_callbacks(execute=True):
        feature_services.feature_create(product=product, title="Quiet")

    # then nothing was created nor sent
    assert WebhookDelivery.objects.count() == 0
    assert receiver.requests == []


# --- Failures, retries, idempotence --------------------------------------------------------------


@pytest.fixture
def pending_delivery(receiver, product, django_capture_on_commit_callbacks):
    """A feature.created delivery to the receiver, created but not sent yet (its task is
    captured, not run)."""
    endpoint = _endpoint(product.workspace, receiver.url, [WebhookEvent.FEATURE_CREATED])
    with django_capture_on_commit_callbacks() as callbacks:
        feature_services.feature_create(product=product, title="Retry me")
    assert len(callbacks) == 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.endpoint, delivery.status, delivery.attempts) == (endpoint, "pending", 0)
    return delivery


def test_a_500_leaves_the_delivery_failed_and_a_retry_after_the_backoff_succeeds(
    receiver, pending_delivery
):
    # given a receiver that fails once
    receiver.answer(500, "database down")

    # when the delivery is sent
    before = timezone.now()
    outcome = services.webhook_deliver(delivery_id=pending_delivery.pk)

    # then it failed and will be retried in 30 seconds
    assert outcome == services.Outcome(status="failed", retry_in=30)
    pending_delivery.refresh_from_db()
    assert pending_delivery.status == DeliveryStatus.FAILED
    assert pending_delivery.response_code == 500
    assert pending_delivery.response_body == "database down"
    assert pending_delivery.attempts == 1
    assert pending_delivery.last_error == "The endpoint answered HTTP 500."
    assert pending_delivery.delivered_at is None
    assert (
        before + datetime.timedelta(seconds=30)
        <= pending_delivery.next_attempt_at
        <= timezone.now() + datetime.timedelta(seconds=30)
    )

    # when it is sent again before the retry is due: nothing is sent
    early = services.webhook_deliver(delivery_id=pending_delivery.pk)
    assert early == services.Outcome(status="failed", retry_in=None)
    assert len(receiver.requests) == 1

    # when the retry is due and the receiver answers 200
    later = pending_delivery.next_attempt_at + datetime.timedelta(seconds=1)
    outcome = services.webhook_deliver(delivery_id=pending_delivery.pk, now=later)

    # then it succeeded on the second attempt, with the same body, id and signature
    assert outcome == services.Outcome(status="succeeded", retry_in=None)
    pending_delivery.refresh_from_db()
    assert pending_delivery.status == DeliveryStatus.SUCCEEDED
    assert pending_delivery.response_code == 200
    assert pending_delivery.attempts == 2
    assert pending_delivery.last_error == ""
    assert pending_delivery.next_attempt_at is None
    assert pending_delivery.delivered_at is not None
    assert len(receiver.requests) == 2
    first, second = receiver.requests
    assert first["body"] == second["body"]
    assert first["headers"]["X-Waymark-Delivery"] == second["headers"]["X-Waymark-Delivery"]
    assert first["headers"]["X-Waymark-Signature"] == second["headers"]["X-Waymark-Signature"]


def test_backoff_grows_and_gives_up_after_six_attempts(receiver, pending_delivery):
    # given a receiver that always fails
    for _ in range(7):
        receiver.answer(503, "busy")

    # when each retry is made as soon as it is due
    delays = []
    now = timezone.now()
    for _ in range(6):
        outcome = services.webhook_deliver(delivery_id=pending_delivery.pk, now=now)
        delays.append(outcome.retry_in)
        pending_delivery.refresh_from_db()
        if pending_delivery.next_attempt_at:
            now = pending_delivery.next_attempt_at + datetime.timedelta(seconds=1)

    # then the waits grow, and after the sixth attempt it stops
    assert delays == [30, 120, 600, 3600, 21600, None]
    assert pending_delivery.status == DeliveryStatus.FAILED
    assert pending_delivery.attempts == 6
    assert pending_delivery.next_attempt_at is None
    assert pending_delivery.last_error == (
        "The endpoint answered HTTP 503. Gave up after 6 attempts."
    )
    # and a stray task later sends nothing
    later = timezone.now() + datetime.timedelta(days=1)
    assert services.webhook_deliver(delivery_id=pending_delivery.pk, now=later) == (
        services.Outcome(status="failed")
    )
    assert len(receiver.requests) == 6


def test_a_delivered_or_missing_delivery_is_not_sent_again(receiver, pending_delivery):
    # given a delivery that was delivered
    assert services.webhook_deliver(delivery_id=pending_delivery.pk).status == "succeeded"

    # when it is delivered again (a duplicate task), or a deleted one is
    again = services.webhook_deliver(delivery_id=pending_delivery.pk)
    missing = services.webhook_deliver(delivery_id=pending_delivery.pk + 1000)

    # then nothing more was sent and nothing changed
    assert again == services.Outcome(status="succeeded", retry_in=None)
    assert missing == services.Outcome(status="missing", retry_in=None)
    assert len(receiver.requests) == 1
    pending_delivery.refresh_from_db()
    assert (pending_delivery.status, pending_delivery.attempts) == ("succeeded", 1)


def test_the_task_sends_a_delivery(receiver, pending_delivery):
    # when the Celery task runs (in-process in tests)
    result = deliver_webhook.delay(pending_delivery.pk)

    # then it reports the delivery's status and the receiver has it
    assert result.get() == "succeeded"
    assert len(receiver.requests) == 1
    pending_delivery.refresh_from_db()
    assert pending_delivery.status == DeliveryStatus.SUCCEEDED


def test_a_failing_task_schedules_its_retry_instead_of_hammering_the_receiver(
    receiver, product, django_capture_on_commit_callbacks
):
    # given an endpoint that fails
    _endpoint(product.workspace, receiver.url, [WebhookEvent.FEATURE_CREATED])
    receiver.answer(500)

    # when a feature is created and its task runs in-process (Celery runs a retry at once there)
    with django_capture_on_commit_callbacks(execute=True):
        feature_services.feature_create(product=product, title="Flaky")

    # then one attempt was made; the retry waits for its time (30 s) instead of firing now
    assert len(receiver.requests) == 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("failed", 1, 500)
    assert delivery.next_attempt_at > timezone.now() + datetime.timedelta(seconds=25)


def test_resend_starts_over_and_sends_the_same_event_again(
    receiver, pending_delivery, django_capture_on_commit_callbacks
):
    # given a delivery that failed once
    receiver.answer(500)
    services.webhook_deliver(delivery_id=pending_delivery.pk)

    # when an admin resends it
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.webhook_resend(delivery=pending_delivery)

    # then it was enqueued once and delivered, as a fresh series of attempts
    assert len(callbacks) == 1
    pending_delivery.refresh_from_db()
    assert pending_delivery.status == DeliveryStatus.SUCCEEDED
    assert pending_delivery.attempts == 1
    assert pending_delivery.response_code == 200
    assert pending_delivery.last_error == ""
    assert len(receiver.requests) == 2
    assert receiver.requests[1]["body"] == receiver.requests[0]["body"]
    assert receiver.requests[1]["headers"]["X-Waymark-Delivery"] == str(pending_delivery.event_id)


def test_an_inactive_endpoint_is_not_sent_to(receiver, pending_delivery):
    # given the endpoint was switched off after the event
    endpoint = pending_delivery.endpoint
    services.webhook_endpoint_save(
        workspace=endpoint.workspace, data={"is_active": False}, endpoint=endpoint
    )

    # when the delivery runs
    outcome = services.webhook_deliver(delivery_id=pending_delivery.pk)

    # then nothing is sent, and it failed for good with a clear reason
    assert outcome == services.Outcome(status="failed", retry_in=None)
    assert receiver.requests == []
    pending_delivery.refresh_from_db()
    assert pending_delivery.status == DeliveryStatus.FAILED
    assert pending_delivery.attempts == 0
    assert pending_delivery.next_attempt_at is None
    assert pending_delivery.last_error == (
        "Not sent: the endpoint is inactive. Activate it, then resend."
    )


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/hooks"])
def test_only_http_and_https_urls_are_sent_to(pending_delivery, url):
    # given an endpoint whose URL is not http(s) (stored before the rule, bypassing the service)
    WebhookEndpoint.objects.filter(pk=pending_delivery.endpoint_id).update(url=url)

    # when the delivery runs
    outcome = services.webhook_deliver(delivery_id=pending_delivery.pk)

    # then it is refused, not retried
    assert outcome == services.Outcome(status="failed", retry_in=None)
    pending_delivery.refresh_from_db()
    assert pending_delivery.attempts == 0
    assert pending_delivery.response_code is None
    assert pending_delivery.last_error == (
        "Not sent: only http:// and https:// URLs can receive webhooks."
    )


def test_an_unreachable_endpoint_fails_and_is_retried(pending_delivery):
    # given an endpoint on a port nobody listens on
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    WebhookEndpoint.objects.filter(pk=pending_delivery.endpoint_id).update(
        url=f"http://127.0.0.1:{port}/"
    )

    # when the delivery runs
    outcome = services.webhook_deliver(delivery_id=pending_delivery.pk)

    # then it failed without a response code, and will be retried
    assert outcome == services.Outcome(status="failed", retry_in=30)
    pending_delivery.refresh_from_db()
    assert pending_delivery.response_code is None
    assert pending_delivery.attempts == 1
    assert pending_delivery.last_error.startswith("Could not send: ")
    assert "refused" in pending_delivery.last_error.lower()


def test_redirects_are_not_followed_and_long_answers_are_cut(receiver, pending_delivery):
    # given a receiver that redirects, then answers a long body
    receiver.answer(302, "moved", {"Location": "/elsewhere"})
    receiver.answer(200, "é" * 5000)

    # when the delivery is sent and retried
    first = services.webhook_deliver(delivery_id=pending_delivery.pk)
    pending_delivery.refresh_from_db()
    later = pending_delivery.next_attempt_at + datetime.timedelta(seconds=1)
    code_after_redirect = pending_delivery.response_code
    second = services.webhook_deliver(delivery_id=pending_delivery.pk, now=later)

    # then the redirect was an answer (a failure), not followed
    assert first == services.Outcome(status="failed", retry_in=30)
    assert code_after_redirect == 302
    assert [r["path"] for r in receiver.requests] == ["/hooks/waymark", "/hooks/waymark"]
    # and the stored answer is the first 2,000 characters
    assert second.status == "succeeded"
    pending_delivery.refresh_from_db()
    assert pending_delivery.response_body == "é" * 2000


def test_the_sweep_enqueues_overdue_retries_and_lost_pending_deliveries(
    receiver, pending_delivery, django_capture_on_commit_callbacks
):
    # given a delivery that failed, and another one whose task was lost
    receiver.answer(500)
    services.webhook_deliver(delivery_id=pending_delivery.pk)
    pending_delivery.refresh_from_db()
    lost = WebhookDelivery.objects.create(
        endpoint=pending_delivery.endpoint, event="feature.created", payload={"lost": True}
    )

    # when the sweep runs while the retry is not overdue by the grace period: nothing
    soon = pending_delivery.next_attempt_at + datetime.timedelta(seconds=1)
    assert services.webhooks_requeue_due(now=soon) == []

    # when the retry became due six minutes ago (its task lost too), and the sweep runs
    six_minutes_ago = timezone.now() - datetime.timedelta(minutes=6)
    WebhookDelivery.objects.filter(pk__in=[pending_delivery.pk, lost.pk]).update(
        next_attempt_at=six_minutes_ago, updated_at=six_minutes_ago
    )
    WebhookDelivery.objects.filter(pk=lost.pk).update(next_attempt_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        swept = services.webhooks_requeue_due()

    # then both were enqueued and delivered
    assert sorted(swept) == sorted([pending_delivery.pk, lost.pk])
    lost.refresh_from_db()
    assert lost.status == DeliveryStatus.SUCCEEDED
    pending_delivery.refresh_from_db()
    assert pending_delivery.status == DeliveryStatus.SUCCEEDED
    assert len(receiver.requests) == 3


# --- Endpoint rules ------------------------------------------------------------------------------


def test_endpoint_events_are_deduplicated_in_a_stable_order(workspace):
    endpoint = _endpoint(
        workspace,
        "https://example.com/hook",
        ["roadmap_item.moved", "feature.created", "roadmap_item.moved"],
    )

    assert endpoint.events == ["feature.created", "roadmap_item.moved"]
    assert len(endpoint.secret) >= 32


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"url": "ftp://example.com/x"}, "url", "Only http:// and https:// URLs"),
        ({"url": "not a url"}, "url", "Enter a valid URL."),
        ({"events": []}, "events", "Pick at least one event."),
        ({"events": ["feature.deleted"]}, "events", "Unknown events: feature.deleted."),
        ({"secret": "mine"}, "secret", "Unknown field."),
    ],
)
def test_invalid_endpoints_are_refused_and_nothing_is_stored(workspace, data, field, message):
    with pytest.raises(ValidationError) as error:
        services.webhook_endpoint_save(
            workspace=workspace,
            data={"url": "https://example.com/hook", "events": ["feature.created"], **data},
        )

    assert field in error.value.message_dict
    assert any(message in m for m in error.value.message_dict[field])
    assert WebhookEndpoint.objects.count() == 0


def test_rotating_the_secret_signs_with_the_new_one(receiver, pending_delivery):
    endpoint = pending_delivery.endpoint
    old = endpoint.secret

    new = services.webhook_endpoint_rotate_secret(endpoint=endpoint)
    services.webhook_deliver(delivery_id=pending_delivery.pk)

    assert new != old
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).secret == new
    assert receiver.requests[0]["headers"]["X-Waymark-Signature"] == _signature(
        new, receiver.requests[0]["body"]
    )


# --- Who may use the pages and the API ------------------------------------------------------------


@pytest.fixture
def other_admin(other_workspace):
    """An admin of another workspace: may manage webhooks, never ``workspace``'s."""
    return f.MembershipFactory(workspace=other_workspace, role=Role.ADMIN).user


@pytest.fixture
def endpoint(workspace, admin_user):
    return services.webhook_endpoint_save(
        workspace=workspace,
        data={"url": "https://example.com/hook", "events": ["feature.created"]},
        actor=admin_user,
    )


@pytest.fixture
def delivery(endpoint):
    return WebhookDelivery.objects.create(
        endpoint=endpoint,
        event="feature.created",
        payload={"event": "feature.created", "data": {"id": 1}},
        status=DeliveryStatus.FAILED,
        attempts=6,
        response_code=500,
        last_error="The endpoint answered HTTP 500. Gave up after 6 attempts.",
    )


def _login(client, request, who):
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    return client


PAGE_ACCESS = [
    # (who, list, an endpoint of ``workspace``)
    ("anonymous", 302, 302),
    ("viewer", 403, 403),
    ("editor", 403, 403),
    ("admin_user", 200, 200),
    ("outsider", 403, 403),
    ("other_admin", 200, 404),
]


@pytest.mark.parametrize(("who", "list_status", "endpoint_status"), PAGE_ACCESS)
def test_page_access_by_role(client, request, endpoint, who, list_status, endpoint_status):
    _login(client, request, who)

    pages = {
        reverse("webhooks:list"): list_status,
        reverse("webhooks:create"): list_status,
        reverse("webhooks:edit", args=[endpoint.pk]): endpoint_status,
        reverse("webhooks:deliveries", args=[endpoint.pk]): endpoint_status,
    }
    statuses = {url: client.get(url).status_code for url in pages}

    assert statuses == pages
    if who == "anonymous":
        response = client.get(reverse("webhooks:list"))
        assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize(("who", "expected"), [(w, s) for w, _, s in PAGE_ACCESS])
def test_page_writes_by_role(client, request, endpoint, delivery, who, expected):
    _login(client, request, who)
    secret = endpoint.secret
    allowed = who == "admin_user"
    expected = 302 if allowed else expected

    rotate = client.post(reverse("webhooks:rotate_secret", args=[endpoint.pk]))
    resend = client.post(reverse("webhooks:resend", args=[delivery.pk]))
    edit = client.post(
        reverse("webhooks:edit", args=[endpoint.pk]),
        {"url": "https://evil.example/", "events": ["feature.created"], "is_active": "on"},
    )
    delete = client.post(reverse("webhooks:delete", args=[endpoint.pk]))

    assert [r.status_code for r in (rotate, resend, edit, delete)] == [expected] * 4
    if not allowed:
        endpoint.refresh_from_db()
        delivery.refresh_from_db()
        assert (endpoint.secret, endpoint.url) == (secret, "https://example.com/hook")
        assert delivery.status == DeliveryStatus.FAILED
    else:
        assert not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_admin_creates_an_endpoint_and_sees_its_secret_once(client, admin_user, workspace):
    client.force_login(admin_user)

    response = client.post(
        reverse("webhooks:create"),
        {
            "url": "https://hooks.example.com/waymark",
            "description": "Jira sync",
            "events": ["priority.changed", "feature.created"],
            "is_active": "on",
        },
    )

    endpoint = WebhookEndpoint.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("webhooks:edit", args=[endpoint.pk])
    assert endpoint.workspace == workspace
    assert endpoint.created_by == admin_user
    assert endpoint.description == "Jira sync"
    assert endpoint.events == ["feature.created", "priority.changed"]
    assert endpoint.is_active is True
    first = client.get(response["Location"]).content.decode()
    second = client.get(response["Location"]).content.decode()
    assert endpoint.secret in first
    assert "it will not be shown again" in first
    assert endpoint.secret not in second
    assert "Rotate secret" in second


def test_create_form_errors_are_shown_next_to_the_fields_and_input_is_kept(client, admin_user):
    client.force_login(admin_user)

    response = client.post(
        reverse("webhooks:create"),
        {"url": "ftp://files.example.com/drop", "description": "Keep me"},
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "Only http:// and https:// URLs can receive webhooks." in html
    assert 'id="id_url_error"' in html
    assert 'value="Keep me"' in html
    assert WebhookEndpoint.objects.count() == 0

    no_events = client.post(reverse("webhooks:create"), {"url": "https://example.com/x"})
    assert no_events.status_code == 400
    assert (
        '<ul class="field__error" id="id_events_error"><li>Pick at least one event.</li></ul>'
        in no_events.content.decode()
    )
    assert WebhookEndpoint.objects.count() == 0


def test_admin_edits_rotates_and_deletes_an_endpoint(client, admin_user, endpoint, delivery):
    client.force_login(admin_user)
    old_secret = endpoint.secret

    edit = client.post(
        reverse("webhooks:edit", args=[endpoint.pk]),
        {"url": "https://example.com/v2", "events": ["feature.updated"], "description": ""},
    )
    endpoint.refresh_from_db()
    assert edit.status_code == 302
    assert (endpoint.url, endpoint.events, endpoint.is_active) == (
        "https://example.com/v2",
        ["feature.updated"],
        False,
    )

    rotate = client.post(reverse("webhooks:rotate_secret", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert rotate.status_code == 302
    assert endpoint.secret != old_secret
    assert endpoint.secret in client.get(rotate["Location"]).content.decode()

    delete = client.post(reverse("webhooks:delete", args=[endpoint.pk]))
    assert delete["Location"] == reverse("webhooks:list")
    assert not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    assert not WebhookDelivery.objects.filter(pk=delivery.pk).exists()


def test_list_and_delivery_log_pages(
    client, admin_user, workspace, endpoint, delivery, django_assert_max_num_queries
):
    client.force_login(admin_user)
    for _ in range(3):
        _endpoint(workspace, "https://example.com/more", ["feature.updated"])
    for _ in range(5):
        WebhookDelivery.objects.create(endpoint=endpoint, event="feature.created", payload={})

    with django_assert_max_num_queries(5):
        listing = client.get(reverse("webhooks:list"))
    with django_assert_max_num_queries(7):
        log = client.get(reverse("webhooks:deliveries", args=[endpoint.pk]))

    html = listing.content.decode()
    assert "4 endpoints" in html
    assert "https://example.com/hook" in html
    assert "Feature created" in html
    assert "1 failed" in html
    html = log.content.decode()
    assert "6 deliveries" in html
    assert "The endpoint answered HTTP 500. Gave up after 6 attempts." in html
    assert f'id="delivery-{delivery.pk}"' in html
    assert reverse("webhooks:resend", args=[delivery.pk]) in html


def test_resend_from_the_log_sends_it_again(
    receiver, client, admin_user, endpoint, delivery, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    services.webhook_endpoint_save(
        workspace=endpoint.workspace, data={"url": receiver.url}, endpoint=endpoint
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("webhooks:resend", args=[delivery.pk]))
    with django_capture_on_commit_callbacks(execute=True):
        partial = client.post(
            reverse("webhooks:resend", args=[delivery.pk]), HTTP_HX_REQUEST="true"
        )

    assert response["Location"] == reverse("webhooks:deliveries", args=[endpoint.pk])
    assert len(receiver.requests) == 2
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("succeeded", 1, 200)
    # htmx gets the row as it is when the request ends (sent after commit, by the task)
    assert partial.status_code == 200
    html = partial.content.decode()
    assert html.lstrip().startswith(f'<tr id="delivery-{delivery.pk}">')
    assert ">Pending</span>" in html


# --- API -----------------------------------------------------------------------------------------


def _api(request, who, scope="write"):
    client = APIClient()
    if who != "anonymous":
        user = request.getfixturevalue(who)
        workspace = user.memberships.get().workspace
        _, raw = api_token_issue(user=user, workspace=workspace, name="test", scope=scope)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


API_ACCESS = [
    # (who, token scope, list, read an endpoint, change it, create one in their workspace)
    ("anonymous", None, 401, 401, 401, 401),
    ("viewer", "write", 403, 403, 403, 403),
    ("editor", "write", 403, 403, 403, 403),
    ("admin_user", "read", 200, 200, 403, 403),
    ("admin_user", "write", 200, 200, 200, 201),
    ("outsider", "write", 403, 403, 403, 403),
    ("other_admin", "write", 200, 404, 404, 201),
]


@pytest.mark.parametrize(("who", "scope", "listing", "read", "write", "create"), API_ACCESS)
def test_api_access_by_role_and_scope(
    request, endpoint, delivery, who, scope, listing, read, write, create
):
    api = _api(request, who, scope)
    url = f"/api/v1/webhooks/{endpoint.pk}/"

    assert api.get("/api/v1/webhooks/").status_code == listing
    assert api.get("/api/v1/webhook-deliveries/").status_code == listing
    assert api.get(url).status_code == read
    assert api.get(f"/api/v1/webhook-deliveries/{delivery.pk}/").status_code == read
    patch = api.patch(url, {"description": "changed"}, format="json")
    resend = api.post(f"/api/v1/webhook-deliveries/{delivery.pk}/resend/")
    created = api.post(
        "/api/v1/webhooks/",
        {"url": "https://example.com/new", "events": ["feature.created"]},
        format="json",
    )

    assert patch.status_code == write
    assert resend.status_code == (202 if write == 200 else write)
    assert created.status_code == create
    endpoint.refresh_from_db()
    assert endpoint.description == ("changed" if write == 200 else "")
    if write != 200:
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.FAILED
    if who == "other_admin":
        # their list holds only their own workspace's endpoint
        assert [e["url"] for e in api.get("/api/v1/webhooks/").json()["results"]] == [
            "https://example.com/new"
        ]
        assert api.delete(url).status_code == 404
        assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_api_create_returns_the_secret_once(
    request, workspace, admin_user, django_assert_max_num_queries
):
    api = _api(request, "admin_user")

    created = api.post(
        "/api/v1/webhooks/",
        {
            "url": "https://example.com/hook",
            "events": ["roadmap_item.moved", "feature.created"],
            "description": "CI",
        },
        format="json",
    )

    assert created.status_code == 201
    body = created.json()
    endpoint = WebhookEndpoint.objects.get()
    assert body["secret"] == endpoint.secret
    assert body["events"] == ["feature.created", "roadmap_item.moved"]
    assert body["workspace"] == workspace.slug
    assert body["is_active"] is True
    assert endpoint.created_by == admin_user
    fetched = api.get(f"/api/v1/webhooks/{endpoint.pk}/").json()
    with django_assert_max_num_queries(5):
        listed = api.get("/api/v1/webhooks/").json()["results"][0]
    assert "secret" not in fetched
    assert "secret" not in listed
    rotated = api.post(f"/api/v1/webhooks/{endpoint.pk}/rotate-secret/")
    endpoint.refresh_from_db()
    assert rotated.json() == {"secret": endpoint.secret}
    assert endpoint.secret != body["secret"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"url": "ftp://example.com/x", "events": ["feature.created"]}, "url"),
        ({"url": "https://example.com/x", "events": []}, "events"),
        ({"url": "https://example.com/x", "events": ["nope"]}, "events"),
        ({"url": "https://example.com/x", "events": ["feature.created"], "secret": "x"}, "secret"),
    ],
)
def test_api_refuses_invalid_endpoints(request, admin_user, data, field):
    api = _api(request, "admin_user")

    response = api.post("/api/v1/webhooks/", data, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert WebhookEndpoint.objects.count() == 0


def test_api_deliveries_list_filters_and_resends(
    request,
    receiver,
    admin_user,
    endpoint,
    delivery,
    django_capture_on_commit_callbacks,
    django_assert_max_num_queries,
):
    api = _api(request, "admin_user")
    services.webhook_endpoint_save(
        workspace=endpoint.workspace, data={"url": receiver.url}, endpoint=endpoint
    )
    for _ in range(4):
        WebhookDelivery.objects.create(
            endpoint=endpoint, event="feature.updated", payload={}, status="succeeded"
        )

    with django_assert_max_num_queries(5):
        failed = api.get("/api/v1/webhook-deliveries/?status=failed").json()
    with django_capture_on_commit_callbacks(execute=True):
        resent = api.post(f"/api/v1/webhook-deliveries/{delivery.pk}/resend/")

    assert [d["id"] for d in failed["results"]] == [delivery.pk]
    assert failed["results"][0]["last_error"] == delivery.last_error
    assert resent.status_code == 202
    assert (resent.json()["status"], resent.json()["attempts"]) == ("pending", 0)
    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 1)
