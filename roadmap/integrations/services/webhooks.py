"""Outbound webhooks: managing a workspace's endpoints, and sending one delivery.

A delivery row exists before anything is sent (``events.webhooks_emit``). ``webhook_deliver``
claims it in a short transaction (counting the attempt and leasing it, so a duplicate task does
not send it at the same time), sends the signed POST with no transaction open, then records the
answer in another short transaction. Failures are retried with backoff: the task retries with the
``retry_in`` it is given, and ``webhooks_requeue_due`` (a periodic sweep) picks up any delivery
whose task was lost. Delivery is at least once: receivers deduplicate by ``X-Waymark-Delivery``.

URLs go only to public addresses (``roadmap.integrations.outbound`` has the policy): checked
when an endpoint is saved, and again on each delivery, which connects to the address it
checked. The reply's body is never stored; its status code and a short reason are.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from config.dispatch import enqueue_on_commit
from roadmap.fields import save_if_changed
from roadmap.integrations import outbound
from roadmap.integrations.models.webhooks import new_webhook_secret
from roadmap.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent

logger = logging.getLogger(__name__)

USER_AGENT = "Waymark-Webhooks/1"
# For the whole exchange: connecting, sending, and the answer's status line and headers.
TIMEOUT_SECONDS = 10
# Seconds to wait after the 1st, 2nd, … failed attempt; after the last one we stop.
BACKOFF_SECONDS = (30, 2 * 60, 10 * 60, 60 * 60, 6 * 60 * 60)
MAX_ATTEMPTS = len(BACKOFF_SECONDS) + 1
# A claimed delivery is not sent again by another task for this long (longer than one attempt).
LEASE = datetime.timedelta(seconds=TIMEOUT_SECONDS * 6)
# A retry task may run a little before ``next_attempt_at`` (clocks of workers differ).
EARLY_TOLERANCE = datetime.timedelta(seconds=5)
# The sweep leaves a due delivery this long to its own retry task before enqueuing it again.
SWEEP_GRACE = datetime.timedelta(minutes=5)

ENDPOINT_FIELDS = ("url", "description", "events", "is_active")


@dataclass(frozen=True)
class Outcome:
    """What one ``webhook_deliver`` call left: the delivery's status, and when to try again."""

    status: str
    retry_in: int | None = None


# --- Signing --------------------------------------------------------------------------------


def webhook_body(payload: Mapping[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact JSON with sorted keys, UTF-8."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode(
        "utf-8"
    )


def webhook_signature(*, secret: str, body: bytes) -> str:
    """The ``X-Waymark-Signature`` value: ``sha256=`` and the hex HMAC-SHA256 of the body."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def url_scheme_allowed(url: str) -> bool:
    return urlsplit(url).scheme.lower() in outbound.ALLOWED_SCHEMES


# --- Endpoints ------------------------------------------------------------------------------


def _normalise_events(events: Any) -> Any:
    """Unique event names in the order of ``WebhookEvent``; anything else is left for clean()."""
    if not isinstance(events, list | tuple):
        return events
    names = list(dict.fromkeys(str(e) for e in events))
    order = {value: index for index, value in enumerate(WebhookEvent.values)}
    return sorted(names, key=lambda name: (order.get(name, len(order)), name))


@transaction.atomic
def webhook_endpoint_save(
    *,
    workspace,
    data: Mapping[str, Any],
    endpoint: WebhookEndpoint | None = None,
    actor=None,
) -> WebhookEndpoint:
    """Create an endpoint in a workspace (with a new secret) or edit one of its endpoints.

    Only http and https URLs whose host is public are accepted (the host is resolved when the
    URL is new or changed). Nothing is stored unless all of it is valid.
    """
    unknown = set(data) - set(ENDPOINT_FIELDS)
    if unknown:
        raise ValidationError({name: "Unknown field." for name in sorted(unknown)})
    if endpoint is None:
        endpoint = WebhookEndpoint(
            workspace=workspace,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
    elif endpoint.workspace_id != workspace.pk:
        raise ValidationError("This endpoint belongs to another workspace.")
    url_before = endpoint.url
    changed = False
    for name, value in data.items():
        value = _normalise_events(value) if name == "events" else value
        changed = changed or getattr(endpoint, name) != value
        setattr(endpoint, name, value)
    errors: dict[str, list] = {}
    try:
        # The model's clean() says what is wrong with the events better than "cannot be blank".
        endpoint.full_clean(exclude=["events"])
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    if "url" not in errors and not url_scheme_allowed(endpoint.url):
        errors["url"] = ["Only http:// and https:// URLs can receive webhooks."]
    if "url" not in errors and (endpoint.pk is None or endpoint.url != url_before):
        # Not on every save: an admin must be able to switch off an endpoint whose name no longer
        # resolves. Each delivery checks again anyway.
        try:
            outbound.check_url(endpoint.url)
        except outbound.OutboundRefused as exc:
            errors["url"] = [_refusal_message(exc)]
    if errors:
        raise ValidationError(errors)
    save_if_changed(endpoint, changed)
    return endpoint


def _refusal_message(exc: outbound.OutboundRefused) -> str:
    if isinstance(exc, outbound.AddressRefused):
        return f"Webhooks go to public addresses only: {exc.message}."
    message = exc.message[0].upper() + exc.message[1:]
    if isinstance(exc, outbound.HostUnresolved):
        return f"{message}: check the host name."
    return f"{message}."


@transaction.atomic
def webhook_endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> str:
    """Give the endpoint a new signing secret and return it; the old one stops working at once."""
    endpoint.secret = new_webhook_secret()
    endpoint.save(update_fields=["secret", "updated_at"])
    return endpoint.secret


@transaction.atomic
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Delete an endpoint and its delivery log; a send in progress finds its row gone."""
    endpoint.delete()


# --- Deliveries -----------------------------------------------------------------------------


@transaction.atomic
def webhook_resend(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """An admin's resend: the delivery starts over as pending (same event id, a fresh series of
    attempts) and is enqueued after commit."""
    delivery.status = DeliveryStatus.PENDING
    delivery.attempts = 0
    delivery.response_code = None
    delivery.last_error = ""
    delivery.next_attempt_at = None
    delivery.delivered_at = None
    delivery.save(
        update_fields=[
            "status",
            "attempts",
            "response_code",
            "last_error",
            "next_attempt_at",
            "delivered_at",
            "updated_at",
        ]
    )
    enqueue_on_commit("roadmap.tasks.deliver_webhook", delivery.pk)
    return delivery


def webhooks_requeue_due(*, now: datetime.datetime | None = None) -> list[int]:
    """Sweep: enqueue deliveries whose retry is overdue or which stayed pending (their task was
    lost, or the broker was down). Returns their ids."""
    now = now or timezone.now()
    cutoff = now - SWEEP_GRACE
    ids = list(
        WebhookDelivery.objects.filter(endpoint__is_active=True)
        .filter(
            Q(status=DeliveryStatus.FAILED, next_attempt_at__lt=cutoff)
            | (
                Q(status=DeliveryStatus.PENDING, updated_at__lt=cutoff)
                & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lt=cutoff))
            )
        )
        .values_list("pk", flat=True)
    )
    for pk in ids:
        enqueue_on_commit("roadmap.tasks.deliver_webhook", pk)
    return ids


@dataclass(frozen=True)
class _Claim:
    url: str
    secret: str
    event: str
    event_id: str
    payload: Any
    attempt: int


@dataclass(frozen=True)
class _Answer:
    code: int | None
    error: str


def _finish(delivery: WebhookDelivery, *, status: str, error: str) -> Outcome:
    delivery.status = status
    delivery.last_error = error
    delivery.next_attempt_at = None
    delivery.save(update_fields=["status", "last_error", "next_attempt_at", "updated_at"])
    return Outcome(status=status)


@transaction.atomic
def _claim(delivery_id: int, now: datetime.datetime) -> _Claim | Outcome:
    """Lock the delivery and decide: send it (the attempt is counted now), or why not."""
    delivery = (
        WebhookDelivery.objects.select_for_update(of=("self",))
        .select_related("endpoint")
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None:
        return Outcome(status="missing")
    if delivery.status == DeliveryStatus.SUCCEEDED:
        return Outcome(status=delivery.status)
    if delivery.status == DeliveryStatus.FAILED and delivery.next_attempt_at is None:
        return Outcome(status=delivery.status)  # given up; only a resend sends it again
    if delivery.next_attempt_at and delivery.next_attempt_at > now + EARLY_TOLERANCE:
        return Outcome(status=delivery.status)  # not due, or another task is sending it
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        return _finish(
            delivery,
            status=DeliveryStatus.FAILED,
            error="Not sent: the endpoint is inactive. Activate it, then resend.",
        )
    if not url_scheme_allowed(endpoint.url):
        return _finish(
            delivery,
            status=DeliveryStatus.FAILED,
            error="Not sent: only http:// and https:// URLs can receive webhooks.",
        )
    delivery.attempts += 1
    delivery.next_attempt_at = now + LEASE
    delivery.save(update_fields=["attempts", "next_attempt_at", "updated_at"])
    return _Claim(
        url=endpoint.url,
        secret=endpoint.secret,
        event=delivery.event,
        event_id=str(delivery.event_id),
        payload=delivery.payload,
        attempt=delivery.attempts,
    )


def _post(claim: _Claim) -> _Answer:
    """POST the signed body; never raises for what the network or the receiver does.

    Only the status code is kept: a reply's body could be an internal page."""
    body = webhook_body(claim.payload)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Waymark-Event": claim.event,
        "X-Waymark-Delivery": claim.event_id,
        "X-Waymark-Signature": webhook_signature(secret=claim.secret, body=body),
    }
    try:
        code = outbound.post(claim.url, body=body, headers=headers, timeout=TIMEOUT_SECONDS)
    except outbound.OutboundRefused as exc:
        return _Answer(code=None, error=f"Not sent: {exc.message}.")
    except outbound.OutboundFailed as exc:
        return _Answer(code=None, error=f"Could not send: {exc.message}.")
    if 200 <= code < 300:
        return _Answer(code=code, error="")
    if 300 <= code < 400:
        return _Answer(
            code=code, error=f"The endpoint answered HTTP {code}; redirects are not followed."
        )
    return _Answer(code=code, error=f"The endpoint answered HTTP {code}.")


@transaction.atomic
def _record(delivery_id: int, claim: _Claim, answer: _Answer) -> Outcome:
    now = timezone.now()
    fields: dict[str, Any] = {
        "response_code": answer.code,
        "last_error": answer.error,
        "updated_at": now,
    }
    if not answer.error:
        outcome = Outcome(status=DeliveryStatus.SUCCEEDED)
        fields.update(status=outcome.status, next_attempt_at=None, delivered_at=now)
    elif claim.attempt >= MAX_ATTEMPTS:
        outcome = Outcome(status=DeliveryStatus.FAILED)
        fields.update(
            status=outcome.status,
            next_attempt_at=None,
            last_error=f"{answer.error} Gave up after {claim.attempt} attempts.",
        )
    else:
        retry_in = BACKOFF_SECONDS[claim.attempt - 1]
        outcome = Outcome(status=DeliveryStatus.FAILED, retry_in=retry_in)
        fields.update(
            status=outcome.status, next_attempt_at=now + datetime.timedelta(seconds=retry_in)
        )
    # Only the attempt this call claimed is recorded (a resend meanwhile starts a new series).
    updated = WebhookDelivery.objects.filter(pk=delivery_id, attempts=claim.attempt).update(
        **fields
    )
    if not updated:
        return Outcome(status="superseded")
    return outcome


def webhook_deliver(*, delivery_id: int, now: datetime.datetime | None = None) -> Outcome:
    """Send one delivery if it is due: missing, delivered, abandoned or not-yet-due deliveries
    are left alone (idempotent). Must not be called inside a transaction: the HTTP call would
    hold it open for up to the timeout."""
    claim = _claim(delivery_id, now or timezone.now())
    if isinstance(claim, Outcome):
        return claim
    answer = _post(claim)
    if answer.error:
        logger.info(
            "webhook delivery=%s attempt=%s failed: %s", delivery_id, claim.attempt, answer.error
        )
    return _record(delivery_id, claim, answer)
