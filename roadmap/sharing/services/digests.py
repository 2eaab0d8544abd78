"""Stakeholder digests: who is due, the outbox row behind each digest, and the send.

The guarantee is at least once, with the Message-ID as the key to drop a duplicate by; it is
stated here and nowhere else. ``digests_enqueue_due`` creates one ``DigestDelivery`` per
subscription and period (a unique constraint, so two beats cannot both create it) before anything
is sent. ``digest_send`` locks that row, re-checks it, writes the row as sent (and the
subscription's ``sent_through``) and only then hands the email to the mail server, in the same
transaction: a retried task or a redelivered message finds the row sent and does nothing, and a
send that raises rolls everything back. A worker killed before the send leaves the row pending, and
its task comes back (late acknowledgement: RabbitMQ at once, Redis after
``CELERY_VISIBILITY_TIMEOUT``; ``digests_requeue_stale`` picks up a row whose task was lost).

One window is left: a worker killed after the mail server took the message but before the COMMIT
sends that digest again. Nothing makes an SMTP send atomic with a commit; the other choice
(commit "sending" first, never send it again) would lose the digest instead. The window is the
COMMIT alone, and every attempt of a delivery carries the same Message-ID, so mail systems that
drop duplicates by Message-ID drop that one.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import Count, Exists, Max, OuterRef, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.addresses import mailbox, normalize_email
from accounts.models import Membership
from accounts.throttle import client_key, window_count
from config.dispatch import enqueue_many_on_commit
from config.mail import message_id
from roadmap.models import (
    ChangeEvent,
    DigestDelivery,
    DigestStatus,
    Frequency,
    Subscription,
)
from roadmap.sharing.models.sharing import usable_links
from roadmap.sharing.selectors import (
    UNSUBSCRIBE_SALT,
    subscription_by_confirmation_token,
    subscription_by_unsubscribe_token,
)

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
# The sweeper (every minute) enqueues again a row pending for STALE_PENDING and not being sent
# (its task was lost, or waits out Redis's visibility timeout), and one failed STALE_FAILED ago.
STALE_PENDING = datetime.timedelta(minutes=2)
STALE_FAILED = datetime.timedelta(minutes=10)


# --- When ----------------------------------------------------------------------------------------


def subscription_period(subscription: Subscription, now: datetime.datetime) -> str | None:
    """The period a digest is due for at ``now`` in the subscriber's time zone, or None.

    Daily: the local date, once the local send time has passed. Weekly: the ISO week, once the
    chosen weekday's send time has passed (a missed day is caught up later in the same week).
    """
    return schedule_period(
        frequency=subscription.frequency,
        weekday=subscription.weekday,
        send_time=subscription.send_time,
        tz=subscription.timezone,
        now=now,
    )


def schedule_period(
    *,
    frequency: str,
    weekday: int,
    send_time: datetime.time | str,
    tz: str,
    now: datetime.datetime,
) -> str | None:
    """``subscription_period`` from the schedule's fields alone (no model instance needed)."""
    local = now.astimezone(ZoneInfo(tz))
    if isinstance(send_time, str):
        send_time = datetime.time.fromisoformat(send_time)
    if frequency == Frequency.DAILY:
        return local.date().isoformat() if local.time() >= send_time else None
    local_weekday = local.weekday()
    if local_weekday < weekday or (local_weekday == weekday and local.time() < send_time):
        return None
    year, week, _ = local.isocalendar()
    return f"{year}-W{week:02d}"


def _active_subscriptions():
    return (
        Subscription.objects.active()
        .filter(Q(share_link__isnull=True) | usable_links("share_link__"))
        .select_related("share_link")
    )


@transaction.atomic
def digests_enqueue_due(*, now: datetime.datetime | None = None) -> list[int]:
    """Create the outbox row of every digest due now and enqueue its send; returns their ids.

    Two queries whatever the number of subscribers: one reads the schedules of the active
    subscriptions, one INSERT creates the rows of those due (the period is computed here, in
    each subscriber's time zone). Safe to run twice at once: the unique (subscription, period)
    row is created only once, and only the call that created it enqueues its send.
    """
    now = now or timezone.now()
    schedules = _active_subscriptions().values_list(
        "pk", "frequency", "weekday", "send_time", "timezone"
    )
    due = []
    for pk, frequency, weekday, send_time, tz in schedules:
        period = schedule_period(
            frequency=frequency, weekday=weekday, send_time=send_time, tz=tz, now=now
        )
        if period is not None:
            due.append((pk, period))
    created_ids = _deliveries_create(due=due, events_through=now)
    enqueue_many_on_commit("roadmap.tasks.send_digest", [(pk,) for pk in created_ids])
    return created_ids


def _deliveries_create(
    *, due: list[tuple[int, str]], events_through: datetime.datetime
) -> list[int]:
    """Create the outbox rows of ``due`` (subscription id, period) that do not exist yet, in one
    INSERT; returns the ids of the rows it created (not those another call made first). Each
    row's events start where its subscription's last digest ended (or at its confirmation)."""
    if not due:
        return []
    delivery_table = connection.ops.quote_name(DigestDelivery._meta.db_table)
    subscription_table = connection.ops.quote_name(Subscription._meta.db_table)
    # The pairs travel as one JSON parameter, so the statement stays the same size.
    if connection.vendor == "postgresql":
        pairs = (
            "SELECT (pair->>0)::bigint AS subscription_id, pair->>1 AS period "
            "FROM jsonb_array_elements(%s::jsonb) AS pair"
        )
    else:
        pairs = (
            "SELECT json_extract(value, '$[0]') AS subscription_id, "
            "json_extract(value, '$[1]') AS period FROM json_each(%s)"
        )
    created = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        # "WHERE true": SQLite needs it to parse ON CONFLICT after INSERT … SELECT … JOIN.
        cursor.execute(
            f"INSERT INTO {delivery_table} (subscription_id, period, status, events_from, "
            f"events_through, attempts, last_error, created_at, updated_at) "
            f"SELECT s.id, due.period, %s, COALESCE(s.sent_through, s.confirmed_at), %s, 0, '', "
            f"%s, %s FROM ({pairs}) AS due JOIN {subscription_table} AS s "
            f"ON s.id = due.subscription_id WHERE true "
            f"ON CONFLICT (subscription_id, period) DO NOTHING RETURNING id",
            [
                DigestStatus.PENDING.value,
                connection.ops.adapt_datetimefield_value(events_through),
                created,
                created,
                json.dumps(due),
            ],
        )
        return sorted(row[0] for row in cursor.fetchall())


@transaction.atomic
def digests_requeue_stale(*, now: datetime.datetime | None = None) -> list[int]:
    """Enqueue again the pending or failed (retryable) deliveries whose task was lost; returns
    their ids. Rows locked by a send in progress are left to it."""
    now = now or timezone.now()
    ids = list(
        DigestDelivery.objects.select_for_update(skip_locked=True)
        .filter(
            Q(status=DigestStatus.PENDING, updated_at__lt=now - STALE_PENDING)
            | Q(status=DigestStatus.FAILED, updated_at__lt=now - STALE_FAILED),
            attempts__lt=MAX_ATTEMPTS,
        )
        .values_list("pk", flat=True)
    )
    # Not again at the next sweep, while this task waits in the queue.
    DigestDelivery.objects.filter(pk__in=ids).update(updated_at=now)
    enqueue_many_on_commit("roadmap.tasks.send_digest", [(pk,) for pk in ids])
    return ids


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


# Every subscriber of a link told of the same window reads the same sections (only the name and
# the unsubscribe link differ), and one beat gives all subscribers on one schedule the same
# window. So a worker keeps the sections of its last few windows, keyed by product, audience
# (None: the internal roadmap, never shared with a link's) and window, and by the count and
# last id of the window's events: change events are never edited, so an event committed late
# into a window is the only way its sections change, and it changes the key.
SECTIONS_KEPT = 16
_sections_kept: OrderedDict[tuple, list] = OrderedDict()
_sections_lock = threading.Lock()


def _digest_sections(
    subscription: Subscription, since, until, *, reuse: bool
) -> list[dict[str, Any]]:
    from roadmap.sharing.external import digest_sections

    link = subscription.share_link
    audience = link.audience if link else None
    events = digest_events(subscription, since, until)
    if not reuse:
        return digest_sections(product=subscription.product, audience=audience, events=events)
    window = events.aggregate(count=Count("id"), last=Max("id"))
    key = (subscription.product_id, audience, since, until, window["count"], window["last"])
    with _sections_lock:
        if key in _sections_kept:
            _sections_kept.move_to_end(key)
            return _sections_kept[key]
    sections = digest_sections(product=subscription.product, audience=audience, events=events)
    with _sections_lock:
        _sections_kept[key] = sections
        while len(_sections_kept) > SECTIONS_KEPT:
            _sections_kept.popitem(last=False)
    return sections


def digest_sections_forget() -> None:
    """Drop the sections this process keeps (for benchmarks and tests)."""
    with _sections_lock:
        _sections_kept.clear()


def digest_build(
    *,
    subscription: Subscription,
    since: datetime.datetime | None,
    until: datetime.datetime,
    reuse_sections: bool = False,
) -> Digest | None:
    """The digest of the changes a subscriber may read between two instants; None when nothing
    they may see changed. External subscribers see only what the share link's audience allows.

    ``reuse_sections``: take the sections built for another subscriber of the same link (or of
    the internal roadmap) and window by this process, if any; read-only, they are shared.
    """
    product = subscription.product
    sections = _digest_sections(subscription, since, until, reuse=reuse_sections)
    entries = sum(len(s["entries"]) for s in sections)
    if not entries:
        return None
    if subscription.share_link is not None:
        # A link made before tokens were hashed can't be shown again: that digest has no link.
        token = subscription.share_link.token
        roadmap_url = (
            settings.SITE_URL + reverse("external:roadmap", kwargs={"token": token})
            if token
            else ""
        )
        release_notes_url = (
            settings.SITE_URL + reverse("external:releases", kwargs={"token": token})
            if token
            else ""
        )
        title = product.name
    else:
        roadmap_url = settings.SITE_URL + product.get_absolute_url()
        release_notes_url = settings.SITE_URL + reverse(
            "roadmap:releases", kwargs={"slug": product.slug}
        )
        title = f"{product.name} (internal)"
    context = {
        "title": title,
        "sections": sections,
        "entries": entries,
        "roadmap_url": roadmap_url,
        "release_notes_url": release_notes_url,
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


def _subscription_message(
    *, subscription: Subscription, subject: str, text: str, html: str, headers=None, key=None
) -> EmailMultiAlternatives:
    """An email to a subscriber (text and HTML), with RFC 8058 one-click unsubscribe headers and
    a Message-ID of this install (the same for every send of ``key``, see ``message_id``)."""
    headers = {
        "List-Unsubscribe": f"<{unsubscribe_url(subscription)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "Message-ID": message_id(key=key),
        **(headers or {}),
    }
    message = EmailMultiAlternatives(
        # One line, even from a product name saved before names were (roadmap.bounds).
        subject=" ".join(subject.split()),
        body=text,
        to=[subscription.email],
        headers=headers,
    )
    message.attach_alternative(html, "text/html")
    return message


def digest_message(*, subscription: Subscription, digest: Digest, delivery_id=None):
    """The email of a digest; with a delivery, a Message-ID that every attempt of it shares."""
    headers, key = {}, None
    if delivery_id:
        headers["X-Waymark-Digest"] = str(delivery_id)
        # The subscription's random token makes the key unique across installs and database resets.
        key = f"digest:{delivery_id}:{subscription.confirmation_token}"
    return _subscription_message(
        subscription=subscription,
        subject=digest.subject,
        text=digest.text,
        html=digest.html,
        headers=headers,
        key=key,
    )


# --- Send ----------------------------------------------------------------------------------------


def digest_send(*, delivery_id: int) -> str:
    """Send one digest unless it was sent or skipped already. Returns the final status (or
    "gone"). Everything is written before the send, in the transaction that locks the row."""
    with transaction.atomic():
        # Lock only the outbox row: PostgreSQL refuses FOR UPDATE on the nullable side of the
        # outer join to the share link.
        delivery = (
            DigestDelivery.objects.select_for_update(of=("self",))
            .select_related("subscription__product", "subscription__share_link")
            .annotate(
                member=Exists(
                    Membership.objects.filter(
                        user_id=OuterRef("subscription__user_id"),
                        workspace_id=OuterRef("subscription__product__workspace_id"),
                    )
                )
            )
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None:
            return "gone"
        if delivery.status in (DigestStatus.SENT, DigestStatus.SKIPPED):
            return delivery.status
        subscription = delivery.subscription
        skipped = _skip_reason(subscription, member=delivery.member)
        if skipped:
            delivery.status = DigestStatus.SKIPPED
            delivery.last_error = skipped
            delivery.save(update_fields=["status", "last_error", "updated_at"])
            return delivery.status
        digest = digest_build(
            subscription=subscription,
            since=delivery.events_from,
            until=delivery.events_through,
            reuse_sections=True,
        )
        delivery.attempts += 1
        delivery.status = DigestStatus.SKIPPED if digest is None else DigestStatus.SENT
        delivery.sent_at = None if digest is None else timezone.now()
        delivery.last_error = ""
        delivery.save(update_fields=["status", "attempts", "sent_at", "last_error", "updated_at"])
        Subscription.objects.filter(pk=subscription.pk).update(sent_through=delivery.events_through)
        if digest is not None:
            # Last, so that only the COMMIT follows it: killed from here to the commit, the
            # worker leaves the row pending and the digest is sent again (see the top).
            digest_message(subscription=subscription, digest=digest, delivery_id=delivery.pk).send()
        return delivery.status


def _skip_reason(subscription: Subscription, *, member: bool) -> str:
    """Why a digest must not go out now (empty: it may)."""
    if subscription.unsubscribed_at:
        return "Unsubscribed before sending."
    if subscription.share_link and not subscription.share_link.is_usable:
        return "Share link revoked or expired before sending."
    if not subscription.share_link_id and subscription.user_id and not member:
        return "No longer a member of the workspace when sending."
    return ""


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


# --- Subscribe / unsubscribe ---------------------------------------------------------------------

# The sign-up form mails a confirmation to whatever address it is given: without a limit, anyone
# could mail anyone through it, as often as they like. Every request counts, subscribed or not,
# so being refused never tells whether an address is subscribed.
SUBSCRIBE_PER_CLIENT = 5  # requests from one client address (an IPv6 /64 counts as one) ...
SUBSCRIBE_CLIENT_WINDOW = 60 * 60  # ... an hour
SUBSCRIBE_PER_EMAIL = 3  # requests for one mailbox (``mailbox``: +tags dropped), any link ...
SUBSCRIBE_EMAIL_WINDOW = 24 * 60 * 60  # ... a day


class SubscribeLimited(Exception):
    """Too many subscription requests from one client, or for one mailbox."""

    def __init__(self, retry_after: int):
        super().__init__(f"Too many subscription requests; retry in {retry_after} s.")
        self.retry_after = retry_after


def subscription_request_count(*, email: str, client: str | None) -> None:
    """Count one sign-up request; SubscribeLimited once the client or the mailbox has had its
    share. ``client`` None: not from the web (no per-client limit)."""
    if client is not None:
        key = f"digest-subscribe:client:{client_key(client)}"
        if window_count(key, SUBSCRIBE_CLIENT_WINDOW) > SUBSCRIBE_PER_CLIENT:
            raise SubscribeLimited(SUBSCRIBE_CLIENT_WINDOW)
    hashed = hashlib.sha256(mailbox(email).encode()).hexdigest()[:32]
    per_mailbox = window_count(f"digest-subscribe:email:{hashed}", SUBSCRIBE_EMAIL_WINDOW)
    if per_mailbox > SUBSCRIBE_PER_EMAIL:
        raise SubscribeLimited(SUBSCRIBE_EMAIL_WINDOW)


@transaction.atomic
def subscription_unsubscribe(*, token: str) -> Subscription | None:
    """Unsubscribe by the signed token of an email's link; idempotent. None for a bad token."""
    subscription = subscription_by_unsubscribe_token(token=token)
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
    frequency: str = Frequency.WEEKLY,
    weekday: int = 0,
    send_time: datetime.time | None = None,
    tz: str = "UTC",
    client: str | None = None,
) -> Subscription:
    """An outsider asks to follow a share link: nothing is sent before they confirm by email.

    Asking again resends the confirmation (or does nothing if already confirmed), so the form
    never reveals whether an address is subscribed. Rate-limited per ``client`` (the requester's
    address) and per mailbox: SubscribeLimited, and nothing is sent. Whoever asks may not be the
    owner of the address, so nothing they typed but the address is kept or mailed.
    """
    email = normalize_email(email)
    subscription_request_count(email=email, client=client)
    subscription = Subscription.objects.filter(share_link=share_link, email=email).first()
    if subscription is None:
        subscription = Subscription(
            product_id=share_link.product_id,
            share_link=share_link,
            email=email,
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
    }
    _subscription_message(
        subscription=subscription,
        subject=f"Confirm your subscription to the {subscription.product.name} roadmap",
        text=render_to_string("emails/digest_confirm.txt", context),
        html=render_to_string("emails/digest_confirm.html", context),
    ).send()


@transaction.atomic
def subscription_confirm(*, token: str) -> Subscription | None:
    """Confirm a subscription (idempotent); None for an unknown token. Digests start with changes
    after this moment. Confirming an unsubscribed one (its owner pressed "Confirm" after the
    confirmation email's unsubscribe, or an old link) subscribes it again from now on."""
    subscription = subscription_by_confirmation_token(token=token)
    if subscription is None:
        return None
    if subscription.confirmed_at is None or subscription.unsubscribed_at is not None:
        now = timezone.now()
        subscription.confirmed_at = subscription.confirmed_at or now
        subscription.unsubscribed_at = None
        subscription.sent_through = now
        subscription.save(
            update_fields=["confirmed_at", "unsubscribed_at", "sent_through", "updated_at"]
        )
    return subscription


@transaction.atomic
def subscription_add(
    *, product, email: str, name: str = "", share_link=None, user=None, **schedule
) -> Subscription:
    """A PM (or a member for themselves) adds a subscriber; confirmed at once, since a member
    vouches for the address. An address already following gets a field error."""
    email = normalize_email(email)
    following = Subscription.objects.filter(email=email)
    following = (
        following.filter(share_link=share_link)
        if share_link is not None
        else following.filter(product=product, share_link__isnull=True)
    )
    if following.exists():
        where = "this link" if share_link is not None else "this roadmap"
        raise ValidationError({"email": f"This address already follows {where}."})
    now = timezone.now()
    subscription = Subscription(
        product=product,
        share_link=share_link,
        email=email,
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


@transaction.atomic
def subscriptions_end_internal(*, user, workspace) -> int:
    """A member leaves a workspace: delete their subscriptions to its products' internal
    roadmaps (by user, or by their address where none is linked). Returns how many."""
    mine = Q(user=user) | Q(user__isnull=True, email=user.email)
    _, deleted = (
        Subscription.objects.filter(product__workspace=workspace, share_link__isnull=True)
        .filter(mine)
        .delete()
    )
    return deleted.get(Subscription._meta.label, 0)
