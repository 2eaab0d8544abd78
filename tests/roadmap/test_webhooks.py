"""Outbound webhooks end to end: a real HTTP receiver on 127.0.0.1 gets signed events; retries,
resends and idempotence; only public addresses are sent to (SSRF); the settings pages and the
API, with who may use them.

The machine running the tests has no DNS: a resolver of our own answers host names (``dns``), and
the receivers on 127.0.0.1 are reachable because ``receiver`` allows 127.0.0.0/8, as a self-hosted
install would with ``WEBHOOK_ALLOWED_NETWORKS``."""

import datetime
import hashlib
import hmac
import ipaddress
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.urls import NoReverseMatch, Resolver404, include, path, resolve, reverse
from django.utils import timezone
from django.utils.html import escape
from rest_framework.routers import SimpleRouter
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.tokens import api_token_issue
from roadmap.integrations import outbound
from roadmap.integrations.services import webhooks as services
from roadmap.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent
from roadmap.planning.services import features as feature_services
from roadmap.planning.services import roadmap as records
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
    from roadmap.integrations.api import WebhookDeliveryViewSet, WebhookEndpointViewSet

    _router = SimpleRouter()
    _router.register("webhooks", WebhookEndpointViewSet, basename="webhook")
    _router.register("webhook-deliveries", WebhookDeliveryViewSet, basename="webhook-delivery")
    urlpatterns = [
        path("api/v1/", include(_router.urls)),
        path("settings/webhooks/", include("roadmap.integrations.urls_webhooks")),
        *config.urls.urlpatterns,
    ]
    pytestmark = [pytest.mark.urls(__name__)]


# --- A real receiver -----------------------------------------------------------------------------


class Receiver:
    """An HTTP server on 127.0.0.1 that records each request and answers from a script
    (then 200 once the script is used up)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None):
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

        self.server = ThreadingHTTPServer((host, port), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.url = f"http://{host}:{self.port}/hooks/waymark"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def answer(self, code: int, text: str = "", headers: dict | None = None) -> None:
        self.answers.append((code, text, headers or {}))


@pytest.fixture
def listen():
    """Start receivers (``listen()``, or ``listen("127.0.0.2", port)``); all stop after the test.
    Nothing allows them: a delivery reaches them only if 127.0.0.0/8 is allowed."""
    started = []

    def start(host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None):
        r = Receiver(host, port, tls)
        r.thread.start()
        started.append(r)
        return r

    yield start
    for r in started:
        r.server.shutdown()
        r.server.server_close()
        r.thread.join(5)


@pytest.fixture
def receiver(listen, settings):
    """A receiver on 127.0.0.1, allowed like a self-hosted install's own network."""
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    return listen()


PUBLIC_ADDRESS = "93.184.215.14"


class Resolver:
    """Our DNS: ``answers`` maps a name to its addresses; other names do not resolve. Names under
    example.com and .example answer a public address unless told otherwise. Once a name in
    ``then`` was answered, it answers that instead. ``asked`` lists the names looked up."""

    def __init__(self):
        self.answers: dict[str, list[str]] = {}
        self.then: dict[str, list[str]] = {}
        self.asked: list[str] = []

    def getaddrinfo(self, host, port, family=0, type=0, proto=0, flags=0):
        self.asked.append(host)
        addresses = self.answers.get(host)
        if host in self.then:
            self.answers[host] = self.then.pop(host)
        if addresses is None and (host.endswith((".example", "example.com"))):
            addresses = [PUBLIC_ADDRESS]
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (
                socket.AF_INET6 if ":" in a else socket.AF_INET,
                socket.SOCK_STREAM,
                socket.IPPROTO_TCP,
                "",
                (a, port, 0, 0) if ":" in a else (a, port),
            )
            for a in addresses
        ]


@pytest.fixture(autouse=True)
def dns(monkeypatch):
    resolver = Resolver()
    monkeypatch.setattr(outbound, "getaddrinfo", resolver.getaddrinfo)
    return resolver


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


def test_priority_changed_lists_the_50_largest_moves_and_links_to_the_rest(
    receiver, product, settings, django_capture_on_commit_callbacks
):
    from django.db.models import F

    from roadmap.models import Feature
    from roadmap.planning.services.scoring import product_recompute_scores

    # given 300 ranked features (the highest reach first), and an endpoint for priority changes
    for n in range(300):
        f.FeatureFactory(product=product, reach=1000 * (n + 1))
    product_recompute_scores(product_id=product.pk)
    before = dict(Feature.objects.filter(product=product).values_list("pk", "rank"))
    assert sorted(before.values()) == list(range(1, 301))
    _endpoint(product.workspace, receiver.url, [WebhookEvent.PRIORITY_CHANGED])

    # when the reaches are turned upside down and the feature in the middle ships
    Feature.objects.filter(product=product).update(reach=301_000 - F("reach"))
    shipped = Feature.objects.get(product=product, reach=150_000)
    Feature.objects.filter(pk=shipped.pk).update(status="shipped")
    with django_capture_on_commit_callbacks(execute=True):
        product_recompute_scores(product_id=product.pk)

    # then every feature moved, and one delivery lists the 50 that moved most, in new rank
    # order, with the shipped one (which left the ranking) among them, last
    after = dict(Feature.objects.filter(product=product).values_list("pk", "rank"))
    assert all(before[pk] != after[pk] for pk in before)
    assert len(receiver.requests) == 1
    body = receiver.requests[0]["body"]
    data = json.loads(body)["data"]
    assert data["product_id"] == product.pk
    assert data["count"] == 300
    assert data["priorities_url"] == settings.SITE_URL + reverse(
        "api:product-priorities", kwargs={"slug": product.slug}
    )
    changes = data["changes"]
    assert len(changes) == 50
    assert all(
        c
        == {
            "feature_id": c["feature_id"],
            "old_rank": before[c["feature_id"]],
            "new_rank": after[c["feature_id"]],
        }
        for c in changes
    )
    assert changes[-1] == {
        "feature_id": shipped.pk,
        "old_rank": before[shipped.pk],
        "new_rank": None,
    }
    ranked = [c["new_rank"] for c in changes[:-1]]
    assert ranked == sorted(ranked)
    listed = {c["feature_id"] for c in changes}
    distance = {pk: abs(after[pk] - before[pk]) for pk in before if pk != shipped.pk}
    assert min(distance[pk] for pk in listed - {shipped.pk}) >= max(
        distance[pk] for pk in distance.keys() - listed
    )
    assert len(body) < 4000


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


def _raw_listener(behaviour) -> tuple[socket.socket, threading.Thread]:
    """A TCP listener on 127.0.0.1 that does ``behaviour(connection)`` with each connection."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve():
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            with connection:
                try:
                    behaviour(connection)
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return server, thread


def _send_to(delivery, url) -> str:
    """The delivery's last error after one attempt to ``url`` (stored bypassing the service)."""
    WebhookEndpoint.objects.filter(pk=delivery.endpoint_id).update(url=url)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=None
    )
    outcome = services.webhook_deliver(delivery_id=delivery.pk)
    assert outcome == services.Outcome(status="failed", retry_in=30)
    delivery.refresh_from_db()
    assert delivery.response_code is None
    return delivery.last_error


def test_failures_to_connect_do_not_tell_closed_ports_from_open_ones(receiver, pending_delivery):
    # given a closed port, a port that answers something else than HTTP, and one that hangs up
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    not_http, _ = _raw_listener(lambda c: c.sendall(b"SSH-2.0-OpenSSH_9.6\r\n"))
    hangs_up, _ = _raw_listener(lambda c: c.shutdown(socket.SHUT_RDWR))

    # when the delivery is sent to each
    errors = [
        _send_to(pending_delivery, f"http://127.0.0.1:{port}/")
        for port in (closed, not_http.getsockname()[1], hangs_up.getsockname()[1])
    ]
    not_http.close()
    hangs_up.close()

    # then each failed with the same words, which name no port state and no reply
    expected = (
        "Could not send: no HTTP answer from the endpoint (connection failed, TLS failed or "
        "timed out)."
    )
    assert errors == [expected] * 3


def test_a_receiver_that_drips_its_answer_is_cut_off_at_the_deadline(
    receiver, pending_delivery, monkeypatch
):
    # given a receiver that sends its status line a byte every 0.2 seconds, and a 1-second budget
    def drip(connection):
        connection.recv(65536)
        for byte in b"HTTP/1.1 200 OK\r\n" * 100:
            connection.sendall(bytes([byte]))
            time.sleep(0.2)

    dripping, _ = _raw_listener(drip)
    monkeypatch.setattr(services, "TIMEOUT_SECONDS", 1)

    # when the delivery is sent to it
    started = time.monotonic()
    error = _send_to(pending_delivery, f"http://127.0.0.1:{dripping.getsockname()[1]}/")
    elapsed = time.monotonic() - started
    dripping.close()

    # then it gave up after the budget, not after each byte's own timeout
    assert 1 <= elapsed < 2.5
    assert error.startswith("Could not send: no HTTP answer")


def test_redirects_are_not_followed(listen, receiver, pending_delivery):
    # given a receiver that redirects to another one (both allowed)
    target = listen()
    receiver.answer(302, "moved", {"Location": target.url})
    receiver.answer(307, "moved", {"Location": target.url})

    # when the delivery is sent and retried
    first = services.webhook_deliver(delivery_id=pending_delivery.pk)
    pending_delivery.refresh_from_db()
    later = pending_delivery.next_attempt_at + datetime.timedelta(seconds=1)
    second = services.webhook_deliver(delivery_id=pending_delivery.pk, now=later)

    # then each redirect was an answer (a failure, retried), and its target got nothing
    assert first == services.Outcome(status="failed", retry_in=30)
    assert second == services.Outcome(status="failed", retry_in=120)
    assert [r["path"] for r in receiver.requests] == ["/hooks/waymark", "/hooks/waymark"]
    assert target.requests == []
    pending_delivery.refresh_from_db()
    assert pending_delivery.response_code == 307
    assert pending_delivery.last_error == (
        "The endpoint answered HTTP 307; redirects are not followed."
    )


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


# --- Only public addresses (SSRF) ----------------------------------------------------------------

LINK_LOCAL = "a link-local address (169.254.0.0/16, where cloud metadata answers)"
LOOPBACK = "a loopback address"
RFC1918 = "a private address (RFC 1918)"

# (URL, what our DNS answers for its name, why it is refused)
NON_PUBLIC_URLS = [
    ("http://169.254.169.254/latest/meta-data/", {}, f"169.254.169.254 is {LINK_LOCAL}"),
    ("http://10.0.0.5/hook", {}, f"10.0.0.5 is {RFC1918}"),
    ("http://192.168.1.10/", {}, f"192.168.1.10 is {RFC1918}"),
    ("http://172.16.0.1/", {}, f"172.16.0.1 is {RFC1918}"),
    ("http://172.31.255.254:8443/", {}, f"172.31.255.254 is {RFC1918}"),
    ("http://100.64.0.1/", {}, "100.64.0.1 is a shared carrier-grade NAT address (100.64.0.0/10)"),
    ("http://[fd00::1]/", {}, "fd00::1 is a unique local address (fc00::/7)"),
    ("http://[::ffff:127.0.0.1]/", {}, f"::ffff:127.0.0.1 is {LOOPBACK}, IPv4-mapped"),
    ("http://[::ffff:a9fe:a9fe]/", {}, f"::ffff:a9fe:a9fe is {LINK_LOCAL}, IPv4-mapped"),
    ("http://[::1]:8080/", {}, f"::1 is {LOOPBACK}"),
    ("http://0.0.0.0/", {}, "0.0.0.0 is the unspecified address"),
    ("http://[::]/", {}, ":: is the unspecified address"),
    ("http://0.1.2.3/", {}, "0.1.2.3 is a “this network” address (0.0.0.0/8)"),
    ("http://127.0.0.1:5432/", {}, f"127.0.0.1 is {LOOPBACK}"),
    ("http://[::127.0.0.1]/", {}, "::127.0.0.1 is a reserved address"),
    ("http://[2002:a9fe:a9fe::1]/", {}, f"2002:a9fe:a9fe::1 is {LINK_LOCAL}, 6to4"),
    ("http://[64:ff9b::a00:5]/", {}, f"64:ff9b::a00:5 is {RFC1918}, NAT64"),
    ("http://[64:ff9b:1::a00:5]/", {}, "64:ff9b:1::a00:5 is a reserved address"),
    (
        "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
        {},
        "2001:0:4136:e378:8000:63bf:3fff:fdd2 is a Teredo tunnel address (2001::/32)",
    ),
    ("http://224.0.0.1/", {}, "224.0.0.1 is a multicast address"),
    ("http://[ff02::1]/", {}, "ff02::1 is a multicast address"),
    ("http://198.18.0.1/", {}, "198.18.0.1 is a benchmarking address (198.18.0.0/15)"),
    ("http://240.0.0.1/", {}, "240.0.0.1 is a reserved address"),
    ("http://255.255.255.255/", {}, "255.255.255.255 is the broadcast address"),
    ("http://[fe80::1]/", {}, "fe80::1 is a link-local address (fe80::/10)"),
    ("http://[fec0::1]/", {}, "fec0::1 is a site-local address (fec0::/10)"),
    ("http://192.0.2.10/", {}, "192.0.2.10 is a special-purpose address, not a public one"),
    (
        "http://localhost:6379/",
        {"localhost": ["127.0.0.1", "::1"]},
        f"localhost resolves to {LOOPBACK}",
    ),
    (
        "http://metadata.google.internal/computeMetadata/v1/",
        {"metadata.google.internal": ["169.254.169.254"]},
        f"metadata.google.internal resolves to {LINK_LOCAL}",
    ),
    (
        "https://mixed.example/hook",
        {"mixed.example": [PUBLIC_ADDRESS, "10.0.0.5"]},
        f"mixed.example resolves to {RFC1918}",
    ),
    (
        "https://mapped.example/hook",
        {"mapped.example": ["::ffff:169.254.169.254"]},
        f"mapped.example resolves to {LINK_LOCAL}, IPv4-mapped",
    ),
    (
        "https://ula.example/hook",
        {"ula.example": ["2606:4700::1", "fd12:3456::1"]},
        "ula.example resolves to a unique local address (fc00::/7)",
    ),
]


@pytest.mark.parametrize(("url", "answers", "why"), NON_PUBLIC_URLS)
def test_a_non_public_url_is_refused_when_saved_in_the_form_and_the_api(
    request, client, admin_user, dns, url, answers, why
):
    # given a name that resolves to a non-public address (or an address typed as such)
    dns.answers.update(answers)
    message = f"Webhooks go to public addresses only: {why}."
    client.force_login(admin_user)

    # when an admin saves it in the settings form and over the API
    form = client.post(
        reverse("webhooks:create"),
        {"url": url, "events": ["feature.created"], "description": "Keep me"},
    )
    api = _api(request, "admin_user").post(
        "/api/v1/webhooks/", {"url": url, "events": ["feature.created"]}, format="json"
    )

    # then both refuse it with the reason next to the URL, and nothing is stored
    assert form.status_code == 400
    html = form.content.decode()
    assert f'<ul class="field__error" id="id_url_error"><li>{escape(message)}</li></ul>' in html
    assert 'value="Keep me"' in html
    assert (api.status_code, api.json()) == (400, {"url": [message]})
    assert WebhookEndpoint.objects.count() == 0


@pytest.mark.parametrize(
    ("url", "answers", "why"),
    [(u, a, w) for u, a, w in NON_PUBLIC_URLS if a],
)
def test_a_name_is_refused_whatever_the_resolver_answers_first(workspace, dns, url, answers, why):
    # the same names, saved through the service: the answer order does not matter
    dns.answers.update({name: list(reversed(a)) for name, a in answers.items()})

    with pytest.raises(ValidationError) as error:
        _endpoint(workspace, url, ["feature.created"])

    assert error.value.message_dict == {"url": [f"Webhooks go to public addresses only: {why}."]}


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", LOOPBACK),
        ("::1", LOOPBACK),
        ("::ffff:127.0.0.1", f"{LOOPBACK}, IPv4-mapped"),
        ("0.0.0.0", "the unspecified address"),
        ("169.254.169.254", LINK_LOCAL),
        ("10.1.2.3", RFC1918),
        ("172.16.5.4", RFC1918),
        ("192.168.0.1", RFC1918),
        ("100.100.100.200", "a shared carrier-grade NAT address (100.64.0.0/10)"),
        ("fd00::1", "a unique local address (fc00::/7)"),
        ("64:ff9b::7f00:1", f"{LOOPBACK}, NAT64"),
        ("2002:7f00:1::1", f"{LOOPBACK}, 6to4"),
        ("224.0.0.251", "a multicast address"),
    ],
)
def test_a_name_that_turns_non_public_after_saving_is_not_sent_to(
    listen, workspace, dns, address, why
):
    # given an endpoint saved while its name resolved to a public address, and a listener on
    # loopback at its port (which a loopback answer would reach)
    listener = listen()
    endpoint = _endpoint(
        workspace, f"http://hooks.example.com:{listener.port}/in", ["feature.created"]
    )
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event="feature.created", payload={"event": "feature.created"}
    )

    # when the name answers a non-public address by the time the delivery runs (DNS rebinding)
    dns.answers["hooks.example.com"] = [address]
    outcome = services.webhook_deliver(delivery_id=delivery.pk)

    # then nothing was sent; the refusal is recorded, and retried later like any failure
    assert outcome == services.Outcome(status="failed", retry_in=30)
    assert listener.requests == []
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("failed", 1, None)
    assert delivery.last_error == f"Not sent: hooks.example.com resolves to {why}."


def test_the_delivery_connects_to_the_address_it_checked(listen, settings, workspace, dns):
    # given two listeners on the same port, at 127.0.0.1 and 127.0.0.2, a network that allows both,
    # and a name that answers 127.0.0.1 once, then 127.0.0.2
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    checked = listen("127.0.0.1")
    other = listen("127.0.0.2", checked.port)
    endpoint = _endpoint(workspace, f"http://flip.example:{checked.port}/in", ["feature.created"])
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event="feature.created", payload={"event": "feature.created"}
    )
    dns.answers["flip.example"] = ["127.0.0.1"]
    dns.then["flip.example"] = ["127.0.0.2"]
    dns.asked.clear()

    # when the delivery runs
    outcome = services.webhook_deliver(delivery_id=delivery.pk)

    # then it looked the name up once and sent to that answer, naming the host in Host
    assert outcome.status == "succeeded"
    assert dns.asked == ["flip.example"]
    assert len(checked.requests) == 1
    assert other.requests == []
    request = checked.requests[0]
    assert request["headers"]["Host"] == f"flip.example:{checked.port}"
    _assert_signed_by(request, endpoint)


def test_a_loopback_receiver_gets_deliveries_only_while_its_network_is_allowed(
    listen, settings, workspace
):
    # given a listener on loopback, and no allowed network
    listener = listen()

    # when its URL is saved: refused
    with pytest.raises(ValidationError) as error:
        _endpoint(workspace, listener.url, ["feature.created"])
    assert error.value.message_dict == {
        "url": [f"Webhooks go to public addresses only: 127.0.0.1 is {LOOPBACK}."]
    }

    # when the install allows 127.0.0.0/8 (WEBHOOK_ALLOWED_NETWORKS): saved and sent, signed
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    endpoint = _endpoint(workspace, listener.url, ["feature.created"])
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event="feature.created", payload={"event": "feature.created"}
    )
    assert services.webhook_deliver(delivery_id=delivery.pk).status == "succeeded"
    assert len(listener.requests) == 1
    _assert_signed_by(listener.requests[0], endpoint)

    # when the setting is removed again, a resend is not sent
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    services.webhook_resend(delivery=delivery)
    outcome = services.webhook_deliver(delivery_id=delivery.pk)
    assert outcome == services.Outcome(status="failed", retry_in=30)
    assert len(listener.requests) == 1
    delivery.refresh_from_db()
    assert delivery.last_error == f"Not sent: 127.0.0.1 is {LOOPBACK}."


def test_a_lookup_that_hangs_gives_up_within_its_bound(workspace, monkeypatch):
    """A DNS server that never answers can't hold a save (or a delivery) beyond RESOLVE_SECONDS."""
    release = threading.Event()

    def hanging(host, port, **kwargs):
        release.wait(10)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(outbound, "getaddrinfo", hanging)
    monkeypatch.setattr(outbound, "RESOLVE_SECONDS", 0.2)
    started = time.monotonic()
    try:
        with pytest.raises(ValidationError) as error:
            _endpoint(workspace, "https://hooks.slow.test/in", ["feature.created"])
    finally:
        release.set()

    assert time.monotonic() - started < 2
    assert error.value.message_dict == {
        "url": ["Cannot resolve hooks.slow.test in time: check the host name."]
    }


def test_a_name_that_does_not_resolve_is_refused_on_save_and_not_sent_to(workspace, dns):
    with pytest.raises(ValidationError) as error:
        _endpoint(workspace, "https://hooks.nowhere.test/in", ["feature.created"])
    assert error.value.message_dict == {
        "url": ["Cannot resolve hooks.nowhere.test: check the host name."]
    }
    assert WebhookEndpoint.objects.count() == 0

    endpoint = _endpoint(workspace, "https://hooks.example.com/in", ["feature.created"])
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event="feature.created", payload={}
    )
    dns.answers["hooks.example.com"] = []
    assert services.webhook_deliver(delivery_id=delivery.pk).status == "failed"
    delivery.refresh_from_db()
    assert delivery.last_error == "Not sent: cannot resolve hooks.example.com."


def test_an_endpoint_whose_name_stopped_resolving_can_still_be_switched_off(
    client, admin_user, workspace, dns
):
    # given an endpoint whose name no longer resolves
    endpoint = _endpoint(workspace, "https://gone.example/in", ["feature.created"])
    dns.answers["gone.example"] = []
    client.force_login(admin_user)

    # when the admin switches it off, leaving the URL as it is
    response = client.post(
        reverse("webhooks:edit", args=[endpoint.pk]),
        {"url": "https://gone.example/in", "events": ["feature.created"]},
    )

    # then it is saved (only a new or changed URL is looked up)
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.is_active is False


@pytest.mark.parametrize(
    "url", ["https://hooks.example.com:99999/in", "https://hooks.example.com:0/in"]
)
def test_a_url_with_an_impossible_port_is_refused(workspace, url):
    with pytest.raises(ValidationError) as error:
        _endpoint(workspace, url, ["feature.created"])

    assert error.value.message_dict == {"url": ["The port is not a number from 1 to 65535."]}


def test_reply_bodies_are_never_stored_nor_shown(
    request, client, receiver, admin_user, pending_delivery
):
    # given a receiver that answers bodies (an internal service's page, say)
    receiver.answer(500, "MARKER-500 root:x:0:0:root:/root:/bin/bash")
    receiver.answer(200, 'MARKER-200 {"AccessKeyId": "AKIA"}')

    # when the delivery fails, then succeeds
    services.webhook_deliver(delivery_id=pending_delivery.pk)
    pending_delivery.refresh_from_db()
    later = pending_delivery.next_attempt_at + datetime.timedelta(seconds=1)
    services.webhook_deliver(delivery_id=pending_delivery.pk, now=later)

    # then the status code is kept and the bodies are nowhere: row, API, delivery log
    row = WebhookDelivery.objects.filter(pk=pending_delivery.pk).values().get()
    assert (row["status"], row["response_code"]) == ("succeeded", 200)
    assert "MARKER" not in repr(row)
    client.force_login(admin_user)
    log = client.get(reverse("webhooks:deliveries", args=[pending_delivery.endpoint_id]))
    api = _api(request, "admin_user").get(f"/api/v1/webhook-deliveries/{pending_delivery.pk}/")
    assert log.status_code == api.status_code == 200
    assert "MARKER" not in log.content.decode()
    assert "MARKER" not in api.content.decode()
    assert "response_body" not in api.json()


def _tls_material(tmp_path, name: str) -> tuple[str, ssl.SSLContext]:
    """A throwaway CA (its file's path) and a server context whose certificate is for ``name``."""

    def openssl(*args):
        subprocess.run(["openssl", *args], cwd=tmp_path, check=True, capture_output=True)

    openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=Test CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign",
        "-keyout", "ca.key", "-out", "ca.pem",
    )  # fmt: skip
    openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}",
        "-keyout", "server.key", "-out", "server.csr",
    )  # fmt: skip
    (tmp_path / "san.cnf").write_text(f"subjectAltName=DNS:{name}\n")
    openssl(
        "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "1", "-extfile", "san.cnf", "-out", "server.pem",
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "server.pem", tmp_path / "server.key")
    return str(tmp_path / "ca.pem"), context


def test_https_checks_the_certificate_of_the_name_while_connecting_to_the_address(
    tmp_path, monkeypatch, listen, settings, workspace, dns
):
    # given a TLS receiver on 127.0.0.1 with a certificate for hooks.test (from a CA we trust)
    ca, tls = _tls_material(tmp_path, "hooks.test")
    server_names = []
    tls.sni_callback = lambda sock, name, context: server_names.append(name)
    monkeypatch.setenv("SSL_CERT_FILE", ca)
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    listener = listen(tls=tls)
    dns.answers.update({"hooks.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]})
    good = _endpoint(workspace, f"https://hooks.test:{listener.port}/in", ["feature.created"])
    bad = _endpoint(workspace, f"https://other.test:{listener.port}/in", ["feature.created"])
    to_good, to_bad = (
        WebhookDelivery.objects.create(endpoint=e, event="feature.created", payload={})
        for e in (good, bad)
    )

    # when both are delivered
    delivered = services.webhook_deliver(delivery_id=to_good.pk)
    refused = services.webhook_deliver(delivery_id=to_bad.pk)

    # then the name went in SNI and Host and its certificate was accepted; the other name's
    # check failed (the certificate is not for it), so nothing reached the receiver
    assert delivered.status == "succeeded"
    assert server_names == ["hooks.test", "other.test"]
    assert [r["headers"]["Host"] for r in listener.requests] == [f"hooks.test:{listener.port}"]
    assert refused == services.Outcome(status="failed", retry_in=30)
    to_bad.refresh_from_db()
    assert to_bad.last_error.startswith("Could not send: no HTTP answer")


@pytest.mark.parametrize(
    "address",
    ["8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"],
)
def test_public_addresses_are_allowed(settings, address):
    settings.WEBHOOK_ALLOWED_NETWORKS = []

    assert outbound.address_refusal(ipaddress.ip_address(address)) is None


def test_allowed_networks_open_what_they_name_and_no_more(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["10.0.0.0/8", "fd00::/8", "0.0.0.0/0", "ff00::/8"]
    refusal = {
        a: outbound.address_refusal(ipaddress.ip_address(a))
        for a in ("10.1.2.3", "::ffff:10.1.2.3", "fd00::5", "192.168.0.1", "0.0.0.0", "ff02::1")
    }

    # 0.0.0.0/0 opens every IPv4 address except the unspecified and multicast ones
    assert refusal == {
        "10.1.2.3": None,
        "::ffff:10.1.2.3": None,
        "fd00::5": None,
        "192.168.0.1": None,
        "0.0.0.0": "the unspecified address",
        "ff02::1": "a multicast address",
    }
    settings.WEBHOOK_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    assert outbound.address_refusal(ipaddress.ip_address("192.168.0.1")) == RFC1918
    assert outbound.address_refusal(ipaddress.ip_address("fd00::5")) == (
        "a unique local address (fc00::/7)"
    )


def test_the_system_resolver_answers_by_default(monkeypatch, workspace):
    # the real resolver (no DNS needed: localhost is in /etc/hosts)
    monkeypatch.setattr(outbound, "getaddrinfo", socket.getaddrinfo)

    with pytest.raises(ValidationError) as error:
        _endpoint(workspace, "http://localhost:8000/", ["feature.created"])

    assert error.value.message_dict == {
        "url": [f"Webhooks go to public addresses only: localhost resolves to {LOOPBACK}."]
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", []), ("10.0.0.0/8, fd00::/8", ["10.0.0.0/8", "fd00::/8"])],
)
def test_allowed_networks_come_from_the_environment(value, expected):
    result = _django_settings("settings.WEBHOOK_ALLOWED_NETWORKS", WEBHOOK_ALLOWED_NETWORKS=value)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == expected


def test_a_mistyped_allowed_network_stops_the_start():
    result = _django_settings("1", WEBHOOK_ALLOWED_NETWORKS="10.0.0.0/8,10.0.0.300/24")

    assert result.returncode != 0
    assert (
        "ImproperlyConfigured: WEBHOOK_ALLOWED_NETWORKS: '10.0.0.300/24' does not appear to be "
        "an IPv4 or IPv6 network"
    ) in result.stderr


def _django_settings(code: str, **environment: str) -> subprocess.CompletedProcess:
    """Evaluate ``code`` with the settings loaded in a fresh process from ``environment``."""
    env = {
        name: os.environ[name] for name in ("PATH", "HOME", "LANG", "TMPDIR") if name in os.environ
    }
    env.update(SECRET_KEY="k" * 60, DJANGO_SETTINGS_MODULE="config.settings", **environment)
    program = (
        "import django, json\nfrom django.conf import settings\n"
        f"django.setup()\nprint(json.dumps({code}))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", program],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
