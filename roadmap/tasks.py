"""Celery tasks: thin, idempotent adapters over services. They take ids, never objects."""

import logging
import time
from datetime import timedelta

from celery import shared_task
from django.db.models import F, Q
from django.utils import timezone

from roadmap.integrations.services.csv_io import csv_imports_sweep
from roadmap.integrations.services.webhooks import webhook_deliver, webhooks_requeue_due
from roadmap.models import Product
from roadmap.planning.services import rating as rating_services
from roadmap.planning.services import scoring as scoring_services
from roadmap.portal import services as portal
from roadmap.sharing.services import digests

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def recompute_product(product_id: int) -> int:
    """Recompute one product's scores and ranks; a no-op for a deleted product."""
    started = time.monotonic()
    count = scoring_services.product_recompute_scores(product_id=product_id)
    logger.info(
        "recompute_product product=%s features=%s seconds=%.3f",
        product_id,
        count,
        time.monotonic() - started,
    )
    return count


@shared_task(acks_late=True)
def recompute_pending_products(min_age_seconds: int = 30) -> list[int]:
    """Sweeper: products stale for a while (their enqueue failed or was lost) get a run."""
    cutoff = timezone.now() - timedelta(seconds=min_age_seconds)
    ids = list(
        Product.objects.filter(score_recompute_requested_at__lt=cutoff)
        .filter(
            Q(scores_computed_at__isnull=True)
            | Q(score_recompute_requested_at__gte=F("scores_computed_at"))
        )
        .values_list("pk", flat=True)
    )
    for product_id in ids:
        scoring_services.product_recompute_scores(product_id=product_id)
    return ids


@shared_task(acks_late=True)
def recompute_all_products() -> int:
    """Beat, every 24 hours: recompute every product, whatever its state."""
    ids = list(Product.objects.values_list("pk", flat=True))
    for product_id in ids:
        scoring_services.product_recompute_scores(product_id=product_id)
    return len(ids)


@shared_task(acks_late=True)
def take_rank_snapshots() -> int:
    """Record today's rank of every ranked feature (idempotent: reruns overwrite the day)."""
    return scoring_services.ranks_snapshot(taken_on=timezone.localdate())


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def deliver_webhook(self, delivery_id: int) -> str:
    """Send one webhook delivery; retried with backoff while the endpoint fails."""
    outcome = webhook_deliver(delivery_id=delivery_id)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


@shared_task(acks_late=True)
def enqueue_due_digests() -> int:
    """Beat: create and enqueue every digest due now."""
    return len(digests.digests_enqueue_due())


@shared_task(acks_late=True)
def requeue_stale_digests() -> int:
    """Beat: enqueue again the digests whose task was lost."""
    return len(digests.digests_requeue_stale())


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=5)
def send_digest(self, delivery_id: int) -> str:
    """Send one digest (the guarantee: roadmap/sharing/services/digests.py); failures are recorded
    and retried with backoff."""
    try:
        return digests.digest_send(delivery_id=delivery_id)
    except Exception as exc:
        attempts = digests.digest_record_failure(delivery_id=delivery_id, error=repr(exc))
        if attempts >= digests.MAX_ATTEMPTS:
            raise
        raise self.retry(exc=exc, countdown=min(60 * 2**attempts, 6 * 3600)) from exc


@shared_task(acks_late=True)
def ship_notices_enqueue(feature_id: int) -> int:
    """A feature shipped: make the "it's live" outbox rows of its requesters and send them."""
    return len(portal.ship_notices_enqueue(feature_id=feature_id))


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=5)
def send_ship_notice(self, notice_id: int) -> str:
    """Send one "it's live" email (exactly once: roadmap/portal/services.py); failures retry with
    backoff."""
    try:
        return portal.ship_notice_send(notice_id=notice_id)
    except Exception as exc:
        raise self.retry(exc=exc, countdown=min(60 * 2**self.request.retries, 6 * 3600)) from exc


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=5)
def send_rating_invitation(self, seat_id: int) -> str:
    """Email a rater that a rating round awaits them (once: roadmap/planning/services/rating.py);
    failures retry with backoff."""
    try:
        return rating_services.rating_invitation_send(seat_id=seat_id)
    except Exception as exc:
        raise self.retry(exc=exc, countdown=min(60 * 2**self.request.retries, 6 * 3600)) from exc


@shared_task(acks_late=True)
def retry_due_webhooks() -> int:
    """Beat: enqueue overdue webhook retries and pending deliveries whose task was lost."""
    return len(webhooks_requeue_due())


@shared_task(acks_late=True)
def sweep_csv_uploads() -> int:
    """Beat: delete CSV uploads kept past their preview's lifetime."""
    return csv_imports_sweep()
