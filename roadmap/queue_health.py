"""Reads for the admin's queue health page: what background work is waiting or failing, and
whether the broker answers. A fixed number of queries, whatever the backlog."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, F, Min, Q, QuerySet
from django.utils import timezone

from roadmap.integrations.services import webhooks as webhook_services
from roadmap.models import (
    DeliveryStatus,
    DigestDelivery,
    DigestStatus,
    Product,
    WebhookDelivery,
)
from roadmap.sharing.services import digests as digest_services

# Rows listed per section; the counts cover all of them.
LIST_LIMIT = 50
# The sweeper runs every minute for products stale over 30 s: older than this, nobody is working.
RECOMPUTE_OVERDUE = timedelta(minutes=5)
# Kombu's Redis transport keeps a queue's prioritised messages under these suffixed keys.
_PRIORITY_SEPARATOR = "\x06\x16"
_PRIORITY_STEPS = (3, 6, 9)


@dataclass(frozen=True)
class Backlog:
    """One kind of background work: how many rows wait or failed, the oldest, and the rows."""

    pending: int
    failed: int
    oldest: datetime | None
    rows: list
    # Attempts after which the work is given up (None: retried until it succeeds).
    max_attempts: int | None = None


@dataclass(frozen=True)
class BrokerStatus:
    configured: bool
    reachable: bool
    error: str = ""
    queue: str = ""
    queued: int | None = None
    unacked: int | None = None


def _stale_products():
    return Product.objects.filter(score_recompute_requested_at__isnull=False).filter(
        Q(scores_computed_at__isnull=True)
        | Q(score_recompute_requested_at__gte=F("scores_computed_at"))
    )


def pending_recomputes(*, now: datetime | None = None) -> Backlog:
    """Products whose scores are stale, oldest request first (two queries).

    ``failed`` counts the overdue ones: stale for longer than ``RECOMPUTE_OVERDUE``, which means
    no worker or sweeper is getting to them.
    """
    now = now or timezone.now()
    stale = _stale_products()
    totals = stale.aggregate(
        pending=Count("pk"),
        overdue=Count("pk", filter=Q(score_recompute_requested_at__lt=now - RECOMPUTE_OVERDUE)),
        oldest=Min("score_recompute_requested_at"),
    )
    rows = list(
        stale.select_related("workspace")
        .order_by("score_recompute_requested_at", "pk")
        .only(
            "name",
            "slug",
            "workspace__name",
            "score_recompute_requested_at",
            "score_recompute_queued",
            "scores_computed_at",
        )[:LIST_LIMIT]
    )
    for product in rows:
        product.stale_for = now - product.score_recompute_requested_at
        product.overdue = product.stale_for > RECOMPUTE_OVERDUE
    return Backlog(
        pending=totals["pending"], failed=totals["overdue"], oldest=totals["oldest"], rows=rows
    )


def _delivery_backlog(
    deliveries: QuerySet, *, pending: str, failed: str, related: str, max_attempts: int
) -> Backlog:
    """Deliveries waiting for an attempt (``pending``) or whose last one failed (``failed``),
    failed first, then oldest first (two queries)."""
    backlog = deliveries.filter(status__in=(pending, failed))
    totals = backlog.aggregate(
        pending=Count("pk", filter=Q(status=pending)),
        failed=Count("pk", filter=Q(status=failed)),
        oldest=Min("created_at"),
    )
    rows = list(
        backlog.select_related(related).order_by(
            F("status").asc(),  # "failed" sorts before "pending"
            "created_at",
            "pk",
        )[:LIST_LIMIT]
    )
    return Backlog(
        pending=totals["pending"],
        failed=totals["failed"],
        oldest=totals["oldest"],
        rows=rows,
        max_attempts=max_attempts,
    )


def unsent_digests() -> Backlog:
    """Digest deliveries not sent yet (pending) or whose last attempt failed (two queries)."""
    return _delivery_backlog(
        DigestDelivery.objects.all(),
        pending=DigestStatus.PENDING,
        failed=DigestStatus.FAILED,
        related="subscription__product",
        max_attempts=digest_services.MAX_ATTEMPTS,
    )


def undelivered_webhooks() -> Backlog:
    """Webhook deliveries waiting for a first attempt or a retry, or given up (two queries)."""
    return _delivery_backlog(
        WebhookDelivery.objects.all(),
        pending=DeliveryStatus.PENDING,
        failed=DeliveryStatus.FAILED,
        related="endpoint__workspace",
        max_attempts=webhook_services.MAX_ATTEMPTS,
    )


def broker_status() -> BrokerStatus:
    """Whether the Celery broker answers, with the length of the default queue (messages not yet
    taken by a worker) and the number delivered but not acknowledged (running, waiting for their
    countdown, or left by a dead worker until the visibility timeout sends them again)."""
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    if settings.CELERY_BROKER_URL.startswith("amqp"):
        return _amqp_status(queue)
    if not settings.REDIS_URL:
        return BrokerStatus(configured=False, reachable=True)
    import redis

    try:
        client = redis.Redis.from_url(
            settings.CELERY_BROKER_URL, socket_timeout=1, socket_connect_timeout=1
        )
        pipe = client.pipeline(transaction=False)
        pipe.llen(queue)
        for step in _PRIORITY_STEPS:
            pipe.llen(f"{queue}{_PRIORITY_SEPARATOR}{step}")
        pipe.hlen("unacked")
        *lengths, unacked = pipe.execute()
    except redis.RedisError as exc:
        return BrokerStatus(
            configured=True, reachable=False, error=f"{exc.__class__.__name__}: {exc}", queue=queue
        )
    return BrokerStatus(
        configured=True, reachable=True, queue=queue, queued=sum(lengths), unacked=unacked
    )


def _amqp_status(queue: str) -> BrokerStatus:
    """RabbitMQ: the messages ready in the queue (the unacknowledged count is only in its
    management API, so it is not shown)."""
    from amqp.exceptions import NotFound
    from kombu import Connection

    try:
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=1) as conn:
            try:
                _name, queued, _consumers = conn.default_channel.queue_declare(
                    queue=queue, passive=True
                )
            except NotFound:  # no task was ever sent to it
                queued = 0
    except Exception as exc:  # unreachable or refused: say which
        return BrokerStatus(
            configured=True, reachable=False, error=f"{exc.__class__.__name__}: {exc}", queue=queue
        )
    return BrokerStatus(configured=True, reachable=True, queue=queue, queued=queued)
