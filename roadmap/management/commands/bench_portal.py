"""Benchmark: the voice of the customer at size — a share link that takes votes, with N external
items and M confirmed votes (issue 18: 500 items, 50,000 votes).

Prints, for the link's page as a remembered stakeholder sees it (their own votes marked), its
queries and time beside its own queries run again as raw SQL (the floor), and the server time of
a vote (cast by a remembered contact, so it counts at once; taken back between runs, untimed).
The rows are kept in a "bench-portal" workspace and reused; only what is missing is seeded.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand
from django.db import connection, reset_queries, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Workspace
from roadmap.management.commands.bench_api import _median
from roadmap.management.commands.bench_pages import _reads
from roadmap.models import Contact, Feature, Product, RoadmapItem, ShareLink, Vote
from roadmap.portal.services import contact_remember_value
from roadmap.portal.views_external import cookie_name
from roadmap.sharing.external import item_anchor
from roadmap.sharing.services.sharing import share_link_create

BATCH = 5000


def portal_seed(*, items: int, votes: int) -> tuple[ShareLink, Contact, list[RoadmapItem]]:
    """The bench's product with ``items`` external items and ``votes`` confirmed votes (spread
    over contacts voting for 50 items each), its feedback link and the stakeholder who browses.
    Returns what is there when more exists than asked (rows are never removed)."""
    workspace, _ = Workspace.objects.get_or_create(
        slug="bench-portal", defaults={"name": "Portal benchmark"}
    )
    product, _ = Product.objects.get_or_create(
        workspace=workspace, slug="bench-portal", defaults={"name": "Portal benchmark"}
    )
    with transaction.atomic():
        have = Feature.objects.filter(product=product).count()
        if have < items:
            features = Feature.objects.bulk_create(
                Feature(product=product, title=f"Portal feature {n}", reach=n + 1)
                for n in range(have, items)
            )
            RoadmapItem.objects.bulk_create(
                RoadmapItem(
                    product=product,
                    feature=feature,
                    visibility="external",
                    horizon=("now", "next", "later")[n % 3],
                    position=have + n,
                )
                for n, feature in enumerate(features)
            )
    all_items = list(RoadmapItem.objects.filter(product=product).order_by("pk"))
    per_contact = min(50, len(all_items))
    contacts_needed = -(-votes // per_contact)
    now = timezone.now()
    have_contacts = Contact.objects.filter(product=product, email__startswith="voter").count()
    Contact.objects.bulk_create(
        (
            Contact(product=product, email=f"voter{n}@bench.example", confirmed_at=now)
            for n in range(have_contacts, contacts_needed)
        ),
        batch_size=BATCH,
    )
    if Vote.objects.filter(item__product=product).count() < votes:
        contacts = list(
            Contact.objects.filter(product=product, email__startswith="voter")
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        taken = set(Vote.objects.filter(item__product=product).values_list("item_id", "contact_id"))
        pending = []
        for n, contact_id in enumerate(contacts):
            for k in range(per_contact):
                item = all_items[(n * 7 + k) % len(all_items)]
                if (item.pk, contact_id) not in taken:
                    pending.append(Vote(item=item, contact_id=contact_id, confirmed_at=now))
        Vote.objects.bulk_create(pending[: max(0, votes - len(taken))], batch_size=BATCH)
    link = ShareLink.objects.filter(product=product, allow_feedback=True).usable().first()
    if link is None or not link.token:
        link = share_link_create(
            product=product, label="Feedback", audience="customers", allow_feedback=True
        )
    browser, _ = Contact.objects.get_or_create(
        product=product, email="browser@bench.example", defaults={"confirmed_at": now}
    )
    return link, browser, all_items


class Command(BaseCommand):
    help = "Time a feedback share link's page and a vote at size, against their floors."

    def add_arguments(self, parser):
        parser.add_argument("--items", type=int, default=500)
        parser.add_argument("--votes", type=int, default=50_000)
        parser.add_argument("--repeat", type=int, default=15)

    def handle(self, *args, items, votes, repeat, **options):
        started = time.perf_counter()
        link, browser, all_items = portal_seed(items=items, votes=votes)
        self.stdout.write(
            f"Database: {connection.vendor}; {len(all_items)} external items, "
            f"{Vote.objects.filter(item__product=link.product).count()} votes "
            f"(ready in {time.perf_counter() - started:.1f} s)"
        )
        client = Client(HTTP_HOST="127.0.0.1")
        client.cookies[cookie_name(link.product_id)] = contact_remember_value(browser)
        page_url = f"/r/{link.token}/"

        def page() -> bytes:
            response = client.get(page_url)
            assert response.status_code == 200, response.status_code
            return response.content

        page()
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            size = len(page())
        statements = _reads(captured.captured_queries)

        def floor() -> None:
            with connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)
                    cursor.fetchall()

        floor()
        ours, base = _median(page, repeat), _median(floor, repeat)
        self.stdout.write(
            f"feedback page: {len(captured.captured_queries)} queries, {size // 1024} KB, "
            f"{ours * 1000:.1f} ms; its queries as raw SQL: {base * 1000:.1f} ms; "
            f"ratio {ours / base:.1f}"
        )

        anchor = item_anchor(all_items[len(all_items) // 2].pk)
        vote_url, withdraw_url = f"/r/{link.token}/vote/", f"/r/{link.token}/vote/withdraw/"
        times = []
        for _ in range(repeat):
            began = time.perf_counter()
            response = client.post(vote_url, {"item": anchor, "note": ""})
            times.append(time.perf_counter() - began)
            assert response.status_code == 302, response.status_code
            client.post(withdraw_url, {"item": anchor})
        times.sort()
        reset_queries()  # the log holds 9,000 at most: a full one would capture nothing
        with CaptureQueriesContext(connection) as cast:
            response = client.post(vote_url, {"item": anchor, "note": ""})
        assert response.status_code == 302, response.status_code
        client.post(withdraw_url, {"item": anchor})
        median = times[len(times) // 2]
        self.stdout.write(
            f"a vote (remembered stakeholder): {median * 1000:.1f} ms median of {repeat}, "
            f"{len(cast.captured_queries)} queries"
        )
