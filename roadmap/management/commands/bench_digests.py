"""Benchmark: the digests of one share link's subscribers against rendering their templates alone.

Seeds a product with one customers share link, N confirmed subscribers and two windows of change
events (50, then 500: a busy week, a very busy one), then builds every subscriber's digest and
email as ``digest_send`` does (``digest_build`` reusing the link's sections + ``digest_message``,
sent to the locmem backend, not SMTP). The lower bound, measured in the same run, renders the
same two templates from a context computed once, with each subscriber's name and unsubscribe
link: what any digest costs at least. Queries per digest must not grow with the number of events.
The 500-event window is timed over a sample of the subscribers (``--sample``): the time per
digest does not depend on how many there are. A few digests are also built without reusing the
sections, each reading and describing the events itself (as the PM's preview does).
"""

import datetime
import time

from django.core import mail
from django.core.management.base import BaseCommand
from django.db import connection, reset_queries
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext, override_settings

from accounts.models import Workspace
from roadmap.models import ChangeEvent, ChangeKind, Product, ShareLink, Subscription
from roadmap.sharing.external import digest_sections
from roadmap.sharing.services.digests import (
    digest_build,
    digest_events,
    digest_message,
    digest_sections_forget,
    unsubscribe_url,
)
from roadmap.sharing.services.sharing import share_link_create

BATCH = 2000
# Fixed instants, so a second run finds the same windows: events of the small window fall in
# (START, MIDDLE], those of the large one in (MIDDLE, END].
START = datetime.datetime(2026, 1, 5, 9, 0, tzinfo=datetime.UTC)
SMALL, LARGE = 50, 500
MIDDLE = START + datetime.timedelta(hours=1)
END = MIDDLE + datetime.timedelta(hours=1)
LANES = ("Reporting", "Integrations", "Admin", "")
ALONE = 100  # subscribers whose digests are also timed without reusing the link's sections


def _snapshot(i: int, **changes) -> dict:
    snapshot = {
        "item_id": None,
        "feature_id": None,
        "title": f"Internal title {i}",
        "external_title": f"Roadmap item {i}",
        "external_description": f"What item {i} does for customers.",
        "visibility": "external",
        "horizon": "next",
        "position": i,
        "lane": LANES[i % len(LANES)],
        "start_date": None,
        "end_date": None,
        "release": "",
        "release_date": None,
        "status": "planned",
        "rank": i,
    }
    return {**snapshot, **changes}


def _event(product: Product, i: int, occurred_at: datetime.datetime) -> ChangeEvent:
    """A realistic mix: most changes say something to customers, some are internal only."""
    kind, before, after = {
        0: (ChangeKind.STATUS_CHANGED, {"visibility": "internal"}, {"visibility": "internal"}),
        1: (ChangeKind.PRIORITY_CHANGED, {"rank": i + 9}, {}),
        2: (ChangeKind.SHIPPED, {"status": "in_progress"}, {"status": "shipped"}),
        3: (ChangeKind.MOVED, {"horizon": "later"}, {"horizon": "next"}),
        4: (ChangeKind.STATUS_CHANGED, {}, {"status": "in_progress"}),
        5: (ChangeKind.MADE_EXTERNAL, {"visibility": "internal"}, {}),
        6: (ChangeKind.DATES_CHANGED, {"end_date": "2026-03-01"}, {"end_date": "2026-05-01"}),
        7: (ChangeKind.MOVED, {"lane": "Admin"}, {"lane": "Reporting"}),
        8: (ChangeKind.MADE_INTERNAL, {}, {"visibility": "internal"}),
        9: (ChangeKind.MOVED, {"horizon": "now"}, {"horizon": "later"}),
    }[i % 10]
    if kind == ChangeKind.STATUS_CHANGED and i % 10 == 0:
        before, after = {**before, "status": "idea"}, {**after, "status": "discovery"}
    return ChangeEvent(
        product=product,
        kind=kind,
        occurred_at=occurred_at,
        before=_snapshot(i, **before),
        after=_snapshot(i, **after),
    )


def _bench_link(subscribers: int) -> ShareLink:
    workspace, _ = Workspace.objects.get_or_create(
        slug="bench-digests", defaults={"name": "Digest benchmark"}
    )
    product, _ = Product.objects.get_or_create(
        slug="bench-digests", defaults={"workspace": workspace, "name": "Digest benchmark"}
    )
    link = ShareLink.objects.filter(product=product).usable().first()
    if link is None:
        link = share_link_create(product=product, label="Customers", audience="customers")
    if not ChangeEvent.objects.filter(product=product).exists():
        step = datetime.timedelta(seconds=1)
        ChangeEvent.objects.bulk_create(
            [_event(product, i, START + (i + 1) * step) for i in range(SMALL)]
            + [_event(product, SMALL + i, MIDDLE + (i + 1) * step) for i in range(LARGE)]
        )
    subscribers_seed(link, subscribers, since=START)
    return link


def subscribers_seed(link: ShareLink, subscribers: int, *, since: datetime.datetime) -> None:
    """Confirmed daily subscribers of ``link`` up to ``subscribers`` in all, told everything up to
    ``since``; the ones it already has stay."""
    have = Subscription.objects.filter(share_link=link).count()
    for start in range(have, subscribers, BATCH):
        Subscription.objects.bulk_create(
            [
                Subscription(
                    product_id=link.product_id,
                    share_link=link,
                    email=f"reader{i}@bench.example",
                    name=f"Reader {i}",
                    frequency="daily",
                    confirmed_at=since,
                    sent_through=since,
                )
                for i in range(start, min(start + BATCH, subscribers))
            ]
        )


class Command(BaseCommand):
    help = (
        "Seed one share link with N subscribers and 50 then 500 change events, build every "
        "subscriber's digest email (locmem, not SMTP) and print seconds and queries per digest, "
        "and the ratio to rendering the templates from a precomputed context (the lower bound)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--subscribers", type=int, default=10_000)
        parser.add_argument("--sample", type=int, default=1000)

    def handle(self, *args, subscribers, sample, **options):
        t0 = time.perf_counter()
        link = _bench_link(subscribers)
        subscriptions = list(
            Subscription.objects.filter(share_link=link)
            .select_related("product", "share_link")
            .order_by("pk")[:subscribers]
        )
        self.stdout.write(
            f"Database: {connection.vendor}; {len(subscriptions)} subscribers of one share link "
            f"(seeded in {time.perf_counter() - t0:.1f} s)."
        )
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            self._window(subscriptions, START, MIDDLE, SMALL)
            self._window(subscriptions[:sample], MIDDLE, END, LARGE)

    def _window(self, subscriptions, since, until, events):
        def build(subscription, reuse=True):
            digest = digest_build(
                subscription=subscription, since=since, until=until, reuse_sections=reuse
            )
            digest_message(subscription=subscription, digest=digest, delivery_id=1).send()
            mail.outbox.clear()
            return digest

        first, rest = subscriptions[0], subscriptions[1:] or subscriptions
        digest_sections_forget()
        reset_queries()  # a full query log (DEBUG) would count nothing
        with CaptureQueriesContext(connection) as queries:
            digest = build(first)
        cold = len(queries)
        with CaptureQueriesContext(connection) as queries:
            build(rest[0])
        warm = len(queries)
        started = time.perf_counter()
        for subscription in subscriptions:
            build(subscription)
        ours = (time.perf_counter() - started) / len(subscriptions)
        alone = subscriptions[:ALONE]
        started = time.perf_counter()
        for subscription in alone:
            build(subscription, reuse=False)
        unshared = (time.perf_counter() - started) / len(alone)

        # The lower bound: the same templates from a context computed once.
        context = {
            "title": first.product.name,
            "sections": digest_sections(
                product=first.product,
                audience=first.share_link.audience,
                events=digest_events(first, since, until),
            ),
            "entries": digest.entries,
            "roadmap_url": "https://example.com/r/token/",
            "since": since,
            "until": until,
        }
        urls = {s.pk: unsubscribe_url(s) for s in subscriptions}
        started = time.perf_counter()
        for subscription in subscriptions:
            context.update(name=subscription.name, unsubscribe_url=urls[subscription.pk])
            render_to_string("emails/digest.txt", context)
            render_to_string("emails/digest.html", context)
        floor = (time.perf_counter() - started) / len(subscriptions)

        self.stdout.write(
            f"{events} events, {digest.entries} told to customers, timed over "
            f"{len(subscriptions)} subscribers: {ours * 1000:.2f} ms per digest; queries: "
            f"{cold} for the first digest of the window, {warm} for each other"
        )
        self.stdout.write(
            f"  each built on its own (sections not reused; {len(alone)} subscribers): "
            f"{unshared * 1000:.2f} ms per digest"
        )
        self.stdout.write(
            f"  lower bound (templates from a precomputed context): {floor * 1000:.2f} ms"
        )
        self.stdout.write(self.style.SUCCESS(f"  ratio digest / lower bound: {ours / floor:.2f}"))
