"""The one way services enqueue a Celery task: by its name, after the transaction commits.

Services name the task (``"roadmap.tasks.send_digest"``) instead of importing the tasks module,
which imports the services. Tasks are registered when each app is ready (its ``AppConfig.ready``
imports its ``tasks`` module), so every process that enqueues knows them. Without a broker
(``CELERY_TASK_ALWAYS_EAGER``) the task runs here, in-process. With the broker down, enqueueing
gives up at once (``CELERY_TASK_PUBLISH_RETRY_POLICY``) and logs a warning: the beat's sweeps
(``recompute_pending_products``, ``requeue_stale_digests``, ``retry_due_webhooks``) pick the
work up later; a password reset is simply asked for again.
"""

import logging
from collections.abc import Iterable, Sequence
from functools import partial
from typing import Any

from django.db import transaction

from config.celery import app

logger = logging.getLogger(__name__)


def enqueue_on_commit(name: str, *args: Any, countdown: float | None = None) -> None:
    """Enqueue the task ``name`` with ``args`` once the current transaction commits (at once
    outside one); ``countdown`` seconds later if given."""
    transaction.on_commit(partial(enqueue, name, *args, countdown=countdown))


def enqueue_many_on_commit(name: str, argslist: Iterable[Sequence[Any]]) -> None:
    """Enqueue the task ``name`` once per item of ``argslist`` once the current transaction
    commits, the whole burst through one producer (one broker connection), not one each."""
    argslist = [tuple(args) for args in argslist]
    if argslist:
        transaction.on_commit(partial(enqueue_many, name, argslist))


def enqueue_many(name: str, argslist: Sequence[Sequence[Any]]) -> int:
    """Enqueue the task ``name`` now once per item of ``argslist`` through one producer; returns
    how many were enqueued (a warning is logged for the rest). In-process (no broker) each runs
    here as ``enqueue`` runs it. An unknown name raises KeyError."""
    task = app.tasks[name]
    if app.conf.task_always_eager:
        return sum(enqueue(name, *args) for args in argslist)
    sent = 0
    try:
        with app.producer_or_acquire() as producer:
            for args in argslist:
                task.apply_async(args=tuple(args), producer=producer)
                sent += 1
    except Exception:
        logger.warning(
            "Could not enqueue %s: %d of %d sent.", name, sent, len(argslist), exc_info=True
        )
    return sent


def enqueue(name: str, *args: Any, countdown: float | None = None) -> bool:
    """Enqueue the task ``name`` now; False, with a warning logged, if it could not be (the
    broker is down, or run in-process, the task failed). An unknown name raises KeyError."""
    task = app.tasks[name]
    try:
        task.apply_async(args=args, countdown=countdown)
    except Exception:
        logger.warning("Could not enqueue %s%r.", name, args, exc_info=True)
        return False
    return True
