"""Benchmark: duplicate and lost digests per 1,000 sends while workers are SIGKILLed mid-send.

Each run enqueues one digest for each of N subscribers of a share link, starts a real Celery
worker (prefork, two pool processes) on a queue of its own, SIGKILLs it with its pool processes
at random moments while it sends (``--kills`` times), starts a new one each time, and waits
until every digest is sent. Mail goes to one file per message (``OneFilePerMessage``), so
duplicates are counted by Message-ID: every attempt of a delivery carries the same one.

A task that vanished with its worker (Redis pops a message before it records it as unacknowledged)
leaves its row pending; the run then calls the stale sweep, as beat would, and counts those rows
as "left to the sweep". The lower bound of both counts is 0. Needs PostgreSQL and a broker
(``REDIS_URL`` or ``CELERY_BROKER_URL``; ``--broker`` for another).
"""

from __future__ import annotations

import datetime
import os
import random
import re
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory

from django.conf import settings
from django.core.mail.backends.filebased import EmailBackend as FileEmailBackend
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from accounts.models import Workspace
from config.celery import app as celery_app
from config.worker_process import CeleryWorker, WorkerNotReady
from roadmap.management.commands.bench_digests import subscribers_seed
from roadmap.models import (
    ChangeEvent,
    ChangeKind,
    DigestDelivery,
    DigestStatus,
    Product,
    ShareLink,
    Subscription,
)
from roadmap.sharing.services import digests as digest_services

VISIBILITY_TIMEOUT = 3  # seconds: Redis gives a dead worker's taken tasks back after this long
CONCURRENCY = 2


class OneFilePerMessage(FileEmailBackend):
    """Each message in a file of its own under ``$BENCH_MAIL_DIR`` (Django's names can collide
    across a worker's forked pool processes)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("file_path", os.environ["BENCH_MAIL_DIR"])
        super().__init__(*args, **kwargs)

    def _get_filename(self):
        return os.path.join(self.file_path, f"{os.getpid()}-{uuid.uuid4().hex}.eml")


@dataclass
class KillTrial:
    sends: int  # messages handed to the mail backend
    digests: int  # deliveries sent (distinct Message-IDs)
    duplicates: int  # sends beyond the first of a Message-ID
    kills: int  # kills that landed while digests were still pending
    swept: int  # rows whose task vanished: pending until the stale sweep
    unsent: int  # rows still not sent at the end (should be 0)
    seconds: float


def _worker(*, queue: str, broker_url: str, mail_dir: Path, log_dir: Path) -> CeleryWorker:
    """A started worker (prefork, CONCURRENCY pool processes) on ``queue``, mail to ``mail_dir``."""
    worker = CeleryWorker(
        log_dir,
        queue=queue,
        pool="prefork",
        concurrency=CONCURRENCY,
        env={
            "CELERY_BROKER_URL": broker_url,
            "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
            "EMAIL_URL": "",
            "EMAIL_BACKEND": f"{__name__}.OneFilePerMessage",
            "BENCH_MAIL_DIR": str(mail_dir),
        },
    )
    try:
        worker.start(timeout=60)
    except WorkerNotReady as error:
        raise CommandError(f"The Celery worker did not start: {error}") from error
    return worker


@contextmanager
def publishing_to(broker_url: str, queue: str):
    """Tasks enqueued by this process meanwhile go to ``broker_url``'s ``queue`` (not run
    in-process); on RabbitMQ, the queue is deleted at the end (it outlives its workers)."""
    conf = celery_app.conf
    previous = (
        conf.broker_url,
        conf.broker_transport_options,
        conf.task_default_queue,
        conf.task_always_eager,
    )
    if broker_url == settings.CELERY_BROKER_URL:
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    else:
        options = {"confirm_publish": True} if broker_url.startswith("amqp") else {}
    conf.broker_url, conf.broker_transport_options = broker_url, options
    conf.task_default_queue, conf.task_always_eager = queue, False
    _forget_connections()
    try:
        yield
    finally:
        (
            conf.broker_url,
            conf.broker_transport_options,
            conf.task_default_queue,
            conf.task_always_eager,
        ) = previous
        _forget_connections()
        _drop_queue(broker_url, queue)


def _forget_connections() -> None:
    # Celery keeps its connection and producer pools for the broker it first used (kombu keeps
    # them, open, by broker: used again on the way back).
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def _drop_queue(broker_url: str, queue: str) -> None:
    """RabbitMQ keeps a durable queue (and its exchange) after its last worker: remove them."""
    if not broker_url.startswith("amqp"):
        return
    from kombu import Connection

    with Connection(broker_url) as conn:
        channel = conn.default_channel
        channel.queue_delete(queue)
        channel.exchange_delete(queue)


def bench_link(subscribers: int, *, slug: str = "bench-digest-kills") -> ShareLink:
    """A share link with ``subscribers`` confirmed subscribers and one shipped item to tell."""
    workspace, _ = Workspace.objects.get_or_create(slug=slug, defaults={"name": "Kill benchmark"})
    product, _ = Product.objects.get_or_create(
        workspace=workspace, slug=slug, defaults={"name": "Kill benchmark"}
    )
    link = ShareLink.objects.filter(product=product).usable().first()
    if link is None:
        from roadmap.sharing.services.sharing import share_link_create

        link = share_link_create(product=product, label="Customers", audience="customers")
    start = datetime.datetime(2026, 1, 5, 9, 0, tzinfo=datetime.UTC)
    if not ChangeEvent.objects.filter(product=product).exists():
        snapshot = {
            "item_id": None,
            "feature_id": None,
            "title": "Internal title",
            "external_title": "Faster CSV exports",
            "external_description": "Exports of any size in seconds.",
            "visibility": "external",
            "horizon": "now",
            "position": 0,
            "lane": "",
            "start_date": None,
            "end_date": None,
            "release": "",
            "release_date": None,
            "status": "in_progress",
            "rank": 1,
        }
        ChangeEvent.objects.create(
            product=product,
            kind=ChangeKind.SHIPPED,
            occurred_at=start + datetime.timedelta(minutes=1),
            before=snapshot,
            after={**snapshot, "status": "shipped"},
        )
    subscribers_seed(link, subscribers, since=start)
    return link


def kill_trial(
    *, link: ShareLink, subscribers: int, kills: int, broker_url: str, workdir: Path, seed: int
) -> KillTrial:
    """One run: enqueue a digest for each of the link's first ``subscribers``, kill the worker
    ``kills`` times while it sends, and count what went out."""
    from roadmap.tasks import send_digest

    rng = random.Random(seed)
    run = uuid.uuid4().hex[:12]
    queue = f"bench-kills-{run}"
    mail_dir = workdir / queue
    mail_dir.mkdir(parents=True)
    worker_args = {"queue": queue, "broker_url": broker_url, "mail_dir": mail_dir}
    start = datetime.datetime(2026, 1, 5, 9, 0, tzinfo=datetime.UTC)
    subscriptions = list(Subscription.objects.filter(share_link=link).order_by("pk")[:subscribers])
    deliveries = DigestDelivery.objects.bulk_create(
        [
            DigestDelivery(
                subscription=s,
                period=f"kill-{run}",
                events_from=start,
                events_through=timezone.now(),
            )
            for s in subscriptions
        ]
    )
    ids = [d.pk for d in deliveries]
    pending = DigestDelivery.objects.filter(pk__in=ids).exclude(status=DigestStatus.SENT)
    workers = []
    started = time.monotonic()
    landed = swept = 0
    with publishing_to(broker_url, queue):
        try:
            for pk in ids:
                send_digest.delay(pk)
            workers.append(_worker(**worker_args, log_dir=workdir))
            for _ in range(kills):
                # After a random share of the digests, at a random moment of a send (one takes
                # some 25 ms): the kills are spread over the whole batch and over each send.
                target = _count(mail_dir) + rng.randint(1, max(1, subscribers // (kills + 1)))
                _wait(lambda target=target: _count(mail_dir) >= target, timeout=30, interval=0.01)
                time.sleep(rng.uniform(0.0, 0.03))
                landed += pending.exists()
                workers[-1].kill()
                if broker_url.startswith(("redis://", "rediss://")):
                    # A new worker takes back, on start, what was taken longer ago than this.
                    time.sleep(VISIBILITY_TIMEOUT + 0.5)
                workers.append(_worker(**worker_args, log_dir=workdir))
            if not _settle(pending):
                # Their tasks vanished: what beat's sweep would do a few minutes later.
                later = (
                    timezone.now() + digest_services.STALE_PENDING + datetime.timedelta(seconds=1)
                )
                swept = len(set(digest_services.digests_requeue_stale(now=later)) & set(ids))
                _settle(pending)
        finally:
            for worker in workers:
                worker.stop(timeout=15)
    seconds = time.monotonic() - started
    message_ids = [
        match
        for path in mail_dir.iterdir()
        for match in re.findall(r"^Message-ID: (\S+)$", path.read_text(), flags=re.MULTILINE)
    ]
    return KillTrial(
        sends=len(message_ids),
        digests=len(set(message_ids)),
        duplicates=len(message_ids) - len(set(message_ids)),
        kills=landed,
        swept=swept,
        unsent=pending.count(),
        seconds=seconds,
    )


def _count(mail_dir: Path) -> int:
    return sum(1 for _ in mail_dir.iterdir())


def _settle(pending, quiet: float = 5.0) -> bool:
    """Wait until no delivery is pending (True) or none has been sent for ``quiet`` seconds."""
    left, since = pending.count(), time.monotonic()
    while left and time.monotonic() - since < quiet:
        time.sleep(0.2)
        now_left = pending.count()
        if now_left != left:
            left, since = now_left, time.monotonic()
    return not left


def _wait(predicate, timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


class Command(BaseCommand):
    help = (
        "Send N digests through real Celery workers SIGKILLed mid-send, and print duplicate "
        "and lost (left to the stale sweep) digests per 1,000 sends (lower bound: 0)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--subscribers", type=int, default=300)
        parser.add_argument("--kills", type=int, default=4)
        parser.add_argument("--runs", type=int, default=3)
        parser.add_argument("--broker", default="", help="Broker URL (default: the settings').")
        parser.add_argument("--seed", type=int, default=None)

    def handle(self, *args, subscribers, kills, runs, broker, seed, **options):
        broker_url = broker or settings.CELERY_BROKER_URL
        if connection.vendor != "postgresql" or broker_url.startswith("memory"):
            raise CommandError("Needs PostgreSQL (DATABASE_URL) and a broker (REDIS_URL).")
        seed = seed if seed is not None else random.randrange(10**6)
        link = bench_link(subscribers)
        scheme = broker_url.split(":", 1)[0]
        self.stdout.write(
            f"{subscribers} digests per run, {kills} SIGKILLs of the worker ({CONCURRENCY} pool "
            f"processes) per run, broker {scheme}, seed {seed}."
        )
        totals = KillTrial(0, 0, 0, 0, 0, 0, 0.0)
        with TemporaryDirectory() as tmp:
            for run in range(runs):
                trial = kill_trial(
                    link=link,
                    subscribers=subscribers,
                    kills=kills,
                    broker_url=broker_url,
                    workdir=Path(tmp),
                    seed=seed + run,
                )
                self.stdout.write(
                    f"  run {run + 1}: {trial.digests} digests, {trial.kills} kills mid-send, "
                    f"{trial.duplicates} sent twice, {trial.swept} left to the stale sweep, "
                    f"{trial.unsent} unsent ({trial.seconds:.0f} s)"
                )
                for field in ("sends", "digests", "duplicates", "kills", "swept", "unsent"):
                    setattr(totals, field, getattr(totals, field) + getattr(trial, field))
        per_1000 = 1000 / max(totals.digests, 1)
        self.stdout.write(
            self.style.SUCCESS(
                f"  duplicates per 1,000 digests: {totals.duplicates * per_1000:.2f} "
                f"({totals.duplicates} in {totals.digests}, {runs} runs, {totals.kills} kills); "
                f"left to the stale sweep per 1,000: {totals.swept * per_1000:.2f}; "
                f"unsent: {totals.unsent}"
            )
        )
