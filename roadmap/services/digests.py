"""Stakeholder digests: who is due, the outbox row that makes each digest happen once, and the send.

Exactly once: ``digests_enqueue_due`` creates one ``DigestDelivery`` per subscription and period
(a unique constraint, so two beats cannot both create it) before anything is sent. ``digest_send``
locks that row, re-checks its status and marks it sent in the same transaction as the send, so a
retried task or a redelivered message finds it sent and does nothing. A worker killed mid-send
rolls the transaction back; with late acknowledgement the message is delivered again (and the
sweeper re-enqueues anything left pending), and the digest goes out once.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from roadmap.models import (
    ChangeEvent,
    DigestDelivery,
    DigestStatus,
    Frequency,
    Subscription,
)

logger = logging.getLogger(__name__)

UNSUBSCRIBE_SALT = "waymark.digest.unsubscribe"
MAX_ATTEMPTS = 6
# Outbox rows left pending this long (their task was lost) are enqueued again by the sweeper.
STALE_PENDING = datetime.timedelta(minutes=10)


# --- When ----------------------------------------------------------------------------------------


def subscription_period(subscription: Subscription, now: datetime.datetime) -> str | None:
    """The period a digest is due for at ``now`` in the subscriber's time zone, or None.

    Daily: the local date, once the local send time has passed. Weekly: the ISO week, once the
    chosen weekday's send time has passed (a missed day is caught up later in the same week).
    """
    local = now.astimezone(ZoneInfo(subscription.timezone))
    send_time = subscription.send_time
    if isinstance(send_time, str):
        send_time = datetime.time.fromisoformat(send_time)
    if subscription.frequency == Frequency.DAILY:
        return local.date().isoformat() if local.time() >= send_time else None
    weekday = local.weekday()
    if weekday < subscription.weekday or (
        weekday == subscription.weekday and local.time() < send_time
    ):
        return None
    year, week, _ = local.isocalendar()
    return f"{year}-W{week:02d}"


def _active_subscriptions():
    now = timezone.now()
    return (
        Subscription.objects.active()
        .filter(
            Q(share_link__isnull=True)
            | Q(share_link__revoked_at__isnull=True)
            & (Q(share_link__expires_at__isnull=True) | Q(share_link__expires_at__gt=now))
        )
        .select_related("share_link")
    )


def digests_enqueue_due(*, now: datetime.datetime | None = None) -> list[int]:
    """Create the outbox row of every digest due now and enqueue its send; returns their ids.

    Safe to run twice at once: the unique (subscription, period) row is created only once.
    """
    from roadmap.tasks import send_digest

    now = now or timezone.now()
    created_ids = []
    for subscription in _active_subscriptions().iterator():
        period = subscription_period(subscription, now)
        if period is None:
            continue
        delivery, created = DigestDelivery.objects.get_or_create(
            subscription=subscription,
            period=period,
            defaults={
                "events_from": subscription.sent_through or subscription.confirmed_at,
                "events_through": now,
            },
        )
        if created:
            created_ids.append(delivery.pk)
    for pk in created_ids:
        transaction.on_commit(lambda pk=pk: _enqueue(send_digest, pk))
    return created_ids


def digests_requeue_stale(*, now: datetime.datetime | None = None) -> list[int]:
    """Enqueue again the pending or failed (retryable) deliveries whose task was lost."""
    from roadmap.tasks import send_digest

    now = now or timezone.now()
    ids = list(
        DigestDelivery.objects.filter(
            status__in=(DigestStatus.PENDING, DigestStatus.FAILED),
            attempts__lt=MAX_ATTEMPTS,
            updated_at__lt=now - STALE_PENDING,
        ).values_list("pk", flat=True)
    )
    for pk in ids:
        transaction.on_commit(lambda pk=pk: _enqueue(send_digest, pk))
    return ids


def _enqueue(task, *args) -> None:
    try:
        task.delay(*args)
    except Exception:  # broker down: the sweeper enqueues it again later
        logger.warning("Could not enqueue %s%r; the sweeper will retry.", task.name, args)


# --- What ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Digest:
    subject: str
    text: str
    html: str
    entries: int


def digest_events(subscription: Subscription, since, until):
    events = ChangeEvent.objects.filter(product_id=subscription.product_id, occurred_at__lte=until)
    if since is not None:
        events = events.filter(occurred_at__gt=since)
    return events.order_by("occurred_at", "id")


def digest_build(
    *, subscription: Subscription, since: datetime.datetime | None, until: datetime.datetime
) -> Digest | None:
    """The digest of the changes a subscriber may read between two instants; None when nothing
    they may see changed. External subscribers see only what the share link's audience allows."""
    from roadmap.external import digest_sections

    product = subscription.product
    audience = subscription.share_link.audience if subscription.share_link_id else None
    sections = digest_sections(
        product=product,
        audience=audience,
        events=digest_events(subscription, since, until),
    )
    entries = sum(len(s["entries"]) for s in sections)
    if not entries:
        return None
    if subscription.share_link_id:
        roadmap_url = settings.SITE_URL + reverse(
            "external:roadmap", kwargs={"token": subscription.share_link.token}
        )
        title = product.name
    else:
        roadmap_url = settings.SITE_URL + product.get_absolute_url()
        title = f"{product.name} (internal)"
    context = {
        "title": title,
        "sections": sections,
        "entries": entries,
        "roadmap_url": roadmap_url,
        "unsubscribe_url": unsubscribe_url(subscription),
        "name": subscription.name,
        "since": since,
        "until": until,
    }
    subject = f"{title}: {entries} roadmap update{'s' if entries != 1 else ''}"
    return Digest(
        subject=subject,
        # The text part is rendered without autoescaping, so it is not HTML-safe: drop the
        # SafeString mark, or a page showing it (the PM's preview) would not escape it.
        text="".join([render_to_string("emails/digest.txt", context)]),
        html=render_to_string("emails/digest.html", context),
        entries=entries,
    )


def unsubscribe_url(subscription: Subscription) -> str:
    token = signing.dumps(subscription.pk, salt=UNSUBSCRIBE_SALT)
    return settings.SITE_URL + reverse("digests:unsubscribe", kwargs={"token": token})


def digest_message(*, subscription: Subscription, digest: Digest, delivery_id=None):
    url = unsubscribe_url(subscription)
    message = EmailMultiAlternatives(
        subject=digest.subject,
        body=digest.text,
        to=[subscription.email],
        headers={
            "List-Unsubscribe": f"<{url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            **({"X-Waymark-Digest": str(delivery_id)} if delivery_id else {}),
        },
    )
    message.attach_alternative(digest.html, "text/html")
    return message


# --- Send ----------------------------------------------------------------------------------------


def digest_send(*, delivery_id: int) -> str:
    """Send one digest at most once. Returns the final status (or "gone")."""
    with transaction.atomic():
        # Lock only the outbox row: PostgreSQL refuses FOR UPDATE on the nullable side of the
        # outer join to the share link.
        delivery = (
            DigestDelivery.objects.select_for_update(of=("self",))
            .select_related("subscription__product", "subscription__share_link")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None:
            return "gone"
        if delivery.status in (DigestStatus.SENT, DigestStatus.SKIPPED):
            return delivery.status
        subscription = delivery.subscription
        if subscription.unsubscribed_at or (
            subscription.share_link_id and not subscription.share_link.is_usable
        ):
            delivery.status = DigestStatus.SKIPPED
            delivery.last_error = "Unsubscribed or share link revoked before sending."
            delivery.save(update_fields=["status", "last_error", "updated_at"])
            return delivery.status
        delivery.attempts += 1
        digest = digest_build(
            subscription=subscription, since=delivery.events_from, until=delivery.events_through
        )
        if digest is None:
            delivery.status = DigestStatus.SKIPPED
        else:
            digest_message(subscription=subscription, digest=digest, delivery_id=delivery.pk).send()
            delivery.status = DigestStatus.SENT
            delivery.sent_at = timezone.now()
        delivery.last_error = ""
        delivery.save(update_fields=["status", "attempts", "sent_at", "last_error", "updated_at"])
        Subscription.objects.filter(pk=subscription.pk).update(sent_through=delivery.events_through)
        return delivery.status


def digest_record_failure(*, delivery_id: int, error: str) -> int:
    """Remember why a send failed (shown to the PM); returns the attempts so far."""
    with transaction.atomic():
        delivery = DigestDelivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None or delivery.status == DigestStatus.SENT:
            return 0
        delivery.attempts += 1
        delivery.status = DigestStatus.FAILED
        delivery.last_error = error[:2000]
        delivery.save(update_fields=["attempts", "status", "last_error", "updated_at"])
        return delivery.attempts


@transaction.atomic
def digest_retry(*, delivery: DigestDelivery) -> None:
    """A PM's "retry now" on a failed digest."""
    from roadmap.tasks import send_digest

    DigestDelivery.objects.filter(pk=delivery.pk, status=DigestStatus.FAILED).update(
        status=DigestStatus.PENDING, last_error=""
    )
    transaction.on_commit(lambda: _enqueue(send_digest, delivery.pk))


# --- Subscribe / unsubscribe ---------------------------------------------------------------------


@transaction.atomic
def subscription_unsubscribe(*, token: str) -> Subscription | None:
    """One-click unsubscribe from a signed token; idempotent. None for a bad token."""
    try:
        pk = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    subscription = Subscription.objects.filter(pk=pk).first()
    if subscription and subscription.unsubscribed_at is None:
        subscription.unsubscribed_at = timezone.now()
        subscription.save(update_fields=["unsubscribed_at", "updated_at"])
    return subscription


def confirmation_url(subscription: Subscription) -> str:
    return settings.SITE_URL + reverse(
        "digests:confirm", kwargs={"token": subscription.confirmation_token}
    )


@transaction.atomic
def subscription_request(
    *,
    share_link,
    email: str,
    name: str = "",
    frequency: str = Frequency.WEEKLY,
    weekday: int = 0,
    send_time: datetime.time | None = None,
    tz: str = "UTC",
) -> Subscription:
    """An outsider asks to follow a share link: nothing is sent before they confirm by email.

    Asking again resends the confirmation (or does nothing if already confirmed), so the form
    never reveals whether an address is subscribed.
    """
    email = email.strip().lower()
    subscription = Subscription.objects.filter(share_link=share_link, email=email).first()
    if subscription is None:
        subscription = Subscription(
            product_id=share_link.product_id,
            share_link=share_link,
            email=email,
            name=name.strip(),
            frequency=frequency,
            weekday=weekday,
            send_time=send_time or datetime.time(9, 0),
            timezone=tz,
        )
        subscription.full_clean()
        subscription.save()
    elif subscription.unsubscribed_at is not None:
        subscription.unsubscribed_at = None
        subscription.confirmed_at = None
        subscription.save(update_fields=["unsubscribed_at", "confirmed_at", "updated_at"])
    if subscription.confirmed_at is None:
        transaction.on_commit(lambda: _send_confirmation(subscription.pk))
    return subscription


def _send_confirmation(subscription_id: int) -> None:
    subscription = Subscription.objects.select_related("product").get(pk=subscription_id)
    context = {
        "product": subscription.product.name,
        "confirm_url": confirmation_url(subscription),
        "name": subscription.name,
    }
    message = EmailMultiAlternatives(
        subject=f"Confirm your subscription to the {subscription.product.name} roadmap",
        body=render_to_string("emails/digest_confirm.txt", context),
        to=[subscription.email],
    )
    message.attach_alternative(render_to_string("emails/digest_confirm.html", context), "text/html")
    message.send()


@transaction.atomic
def subscription_confirm(*, token: str) -> Subscription | None:
    """Confirm a subscription (idempotent). Digests start with changes after this moment."""
    subscription = Subscription.objects.filter(confirmation_token=token).first()
    if subscription is None:
        return None
    if subscription.confirmed_at is None:
        subscription.confirmed_at = timezone.now()
        subscription.sent_through = subscription.confirmed_at
        subscription.save(update_fields=["confirmed_at", "sent_through", "updated_at"])
    return subscription


@transaction.atomic
def subscription_add(
    *, product, email: str, name: str = "", share_link=None, user=None, **schedule
) -> Subscription:
    """A PM (or a member for themselves) adds a subscriber; confirmed at once, since a member
    vouches for the address."""
    now = timezone.now()
    subscription = Subscription(
        product=product,
        share_link=share_link,
        email=email.strip().lower(),
        name=name.strip(),
        user=user,
        confirmed_at=now,
        sent_through=now,
        **schedule,
    )
    subscription.full_clean()
    subscription.save()
    return subscription


@transaction.atomic
def subscription_remove(*, subscription: Subscription) -> None:
    subscription.delete()
