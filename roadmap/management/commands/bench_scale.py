"""Benchmark: what a PM's requests cost as a product grows from 10k to 100k (and 1M) features.

Each size gets its own workspace ("Scale bench 10k", …) beside the demo, holding one "Scale test"
product of that many synthetic features (``scale_features_load``), with the demo PM as a member;
a further workspace holds a small product of 100 features, read through the API while the large
ones exist elsewhere in the database. Everything is kept for the next run (seeding is the slow
part): a second run reuses the rows and seeds only what is missing.

Every request goes through Django's test client (the PM logged in, or an API token) and is timed
as a median of several runs, beside a floor measured in the same run. A page's floor is its own
SQL statements (every SELECT the request ran: the session, the product, the rows) run again as
raw SQL, and every row they return written out with an f-string, each value escaped
(``_replayed``): what the page would cost with nothing between the database and the bytes. An
API's floor is the same: its own statements run again, their rows written with ``orjson`` (what
the API writes its answers with).
"Show all"'s is the table's rows read by one query and written with an f-string. A page that
shows a bounded number of rows should cost the same at every size and stay within a small
multiple of its floor.
"""

from __future__ import annotations

import datetime
import logging
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

import orjson
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.middleware import SESSION_KEY
from accounts.models import Membership, Role, User, Workspace
from accounts.tokens import api_token_issue
from roadmap.demo import content
from roadmap.demo.load import demo_workspace_load, scale_features_load
from roadmap.management.commands.bench_digests import _bench_link
from roadmap.management.commands.bench_pages import _reads
from roadmap.models import (
    DigestDelivery,
    Feature,
    Horizon,
    Lane,
    Product,
    RoadmapItem,
    Subscription,
    Visibility,
)
from roadmap.planning.scoring import CLOSED_STATUSES
from roadmap.sharing.services.digests import digests_enqueue_due, subscription_period

SIZES = (10_000, 100_000)
BIG = 1_000_000
SMALL = 100  # features of the small product read through the API
PAGE_ROWS = 50  # rows of the table's first page (an edit is made on one of them)
EDIT_STEP = 10  # confidence points an edit adds or takes back: a move of a few ranks
# One feature in ITEMS_EVERY is on the board (10k cards at 100k features), spread over the lanes
# (and no lane) and the three horizons: the board shows the top of each cell, "more" for the rest.
ITEMS_EVERY = 10
BOARD_LANES = ("Reporting", "Integrations", "Admin", "Mobile")
# PostgreSQL's type ids of json and jsonb (a column's type in ``cursor.description``).
JSON_TYPES = (114, 3802)
ROW_COLUMNS = "id, rank, title, status, reach, impact, confidence, effort, score, version"


def label(size: int) -> str:
    if size >= 1_000_000 and size % 1_000_000 == 0:
        return f"{size // 1_000_000}M"
    if size >= 1000 and size % 1000 == 0:
        return f"{size // 1000}k"
    return str(size)


@dataclass
class Measure:
    request: str
    size: str
    seconds: float
    queries: int
    size_bytes: int
    floor: float
    runs: int
    note: str = ""


def _timed(fn: Callable[[], object], repeat: int, budget: float) -> tuple[float, int]:
    """The median time of ``fn`` over ``repeat`` runs, or fewer (at least one) when they would
    take longer than ``budget`` seconds in all."""
    times: list[float] = []
    spent = 0.0
    while len(times) < repeat and (not times or spent < budget):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
        spent += times[-1]
    return statistics.median(times), len(times)


def _one(cursor, sql: str, params: list) -> list[dict]:
    cursor.execute(sql, params)
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _html_rows(rows: list[dict]) -> str:
    """The table's rows as the floor writes them: one f-string per row, every value escaped."""
    return "".join(
        f'<tr id="feature-{r["id"]}"><td>{r["rank"] or ""}</td><td><a href="/features/{r["id"]}/">'
        f"{escape(r['title'])}</a></td><td>{r['status']}</td><td>{r['reach']}</td>"
        f"<td>{r['impact']}</td><td>{r['confidence']}</td><td>{r['effort']}</td>"
        f"<td>{r['score']}</td><td>{r['version']}</td></tr>"
        for r in rows
    )


def _html_cells(rows: list[tuple]) -> str:
    """Any statement's rows as a page's floor writes them: a row per line, a cell per value."""
    return "".join(
        "<tr>" + "".join(f"<td>{escape(str(value))}</td>" for value in row) + "</tr>"
        for row in rows
    )


class Command(BaseCommand):
    help = (
        "Seed workspaces with products of 10k and 100k features (1M with --big) beside the demo, "
        "then time the PM's table, edits, board, home page and API against floors measured in "
        "the same run, and print the series. PostgreSQL only."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--sizes",
            type=int,
            nargs="+",
            default=list(SIZES),
            help="Features of the large products, smallest first (default: 10000 100000).",
        )
        parser.add_argument(
            "--big", action="store_true", help="Add a product of 1M features (seeding: minutes)."
        )
        parser.add_argument("--repeat", type=int, default=10, help="Runs per median, at most.")
        parser.add_argument(
            "--budget",
            type=float,
            default=10.0,
            help="Seconds a median may take in all; fewer runs (at least one) beyond it.",
        )
        parser.add_argument("--subscribers", type=int, default=10_000)
        parser.add_argument(
            "--show-all-max",
            type=int,
            default=10_000,
            help="Largest product whose every row is rendered by the table's 'Show all'.",
        )

    def handle(self, *args, sizes, big, repeat, budget, subscribers, show_all_max, **options):
        if connection.vendor != "postgresql":
            raise CommandError(
                "bench_scale measures PostgreSQL's plans: run it with "
                "DATABASE_URL=postgres://… (SQLite's numbers would say nothing about scale)."
            )
        sizes = sorted(set(sizes) | ({BIG} if big else set()))
        # One access-log line per request would bury the series.
        logging.getLogger("waymark.access").setLevel(logging.WARNING)
        self.repeat, self.budget = repeat, budget
        self.results: list[Measure] = []
        demo_workspace_load(today=timezone.localdate())
        self.pm = User.objects.get(email=content.USERS[0]["email"])
        self.stdout.write(
            f"Database: {connection.vendor} {connection.pg_version}; sizes: "
            f"{', '.join(label(s) for s in sizes)}; medians of up to {repeat} runs"
        )
        crowded = Workspace.objects.filter(
            slug__startswith="bench-scale-", products__features__isnull=False
        ).exclude(slug="bench-scale-small")
        already = "large products seeded by an earlier run" if crowded.exists() else ""
        small_product, small_token = self._workspace("small", SMALL)
        self._api_small(small_product, small_token, "before", note=already)
        for size in sizes:
            product, token = self._workspace(label(size), size)
            self._api_small(small_product, small_token, label(size))
            self._size(product, token, label(size), show_all=size <= show_all_max)
        self._digests(subscribers)
        self._series([label(s) for s in sizes])

    # --- Seeding ---------------------------------------------------------------------------------

    def _workspace(self, name: str, features: int) -> tuple[Product, str]:
        """The workspace "Scale bench <name>" with the demo PM as its admin and a "Scale test"
        product of ``features`` features, and a read token for it."""
        workspace, _ = Workspace.objects.get_or_create(
            slug=f"bench-scale-{name.lower()}", defaults={"name": f"Scale bench {name}"}
        )
        Membership.objects.get_or_create(
            user=self.pm, workspace=workspace, defaults={"role": Role.ADMIN}
        )
        started = time.perf_counter()
        loaded = scale_features_load(workspace=workspace, count=features)
        if loaded.added:
            self.stdout.write(
                f"Seeded {loaded.added} features in “{workspace.name}” "
                f"({loaded.total} in all) in {time.perf_counter() - started:.1f} s"
            )
        started = time.perf_counter()
        if added := _board_items_load(loaded.product, loaded.total // ITEMS_EVERY):
            self.stdout.write(
                f"Placed {added} features on the board of “{workspace.name}” "
                f"in {time.perf_counter() - started:.1f} s"
            )
        # Expiring, so that the tokens of many runs do not pile up as live credentials.
        _, raw = api_token_issue(
            user=self.pm, workspace=workspace, name="bench-scale", expires_in_days=1
        )
        return loaded.product, raw

    # --- Measuring -------------------------------------------------------------------------------

    def _record(self, measure: Measure) -> None:
        self.results.append(measure)
        ratio = measure.seconds / measure.floor if measure.floor else float("nan")
        self.stdout.write(
            f"{measure.request:<44} {measure.size:>6}: {measure.seconds * 1000:9.1f} ms "
            f"{measure.queries:6d} queries {measure.size_bytes / 1024:9.0f} KB  "
            f"floor {measure.floor * 1000:8.1f} ms  ratio {ratio:6.1f}  "
            f"(n={measure.runs}){'  ' + measure.note if measure.note else ''}"
        )

    def _skipped(self, request: str, size: str, option: str) -> None:
        self.stdout.write(f"{request:<44} {size:>6}: skipped (larger than {option})")

    def _request(
        self,
        request: str,
        size: str,
        call: Callable[[], object],
        floor: Callable[[], object],
        note: str = "",
    ) -> None:
        """Time ``call`` (a client request) and ``floor``, with the queries and bytes of one
        request."""
        call()  # warm up
        with CaptureQueriesContext(connection) as captured:
            response = call()
        queries = len(captured)
        floor()  # warm up
        seconds, runs = _timed(call, self.repeat, self.budget)
        floor_seconds, _ = _timed(floor, self.repeat, self.budget)
        self._record(
            Measure(request, size, seconds, queries, _length(response), floor_seconds, runs, note)
        )

    def _get(self, client: Client, url: str) -> Callable[[], object]:
        def call():
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            if response.streaming:
                # A streamed page ("Show all") costs its whole body: read here, as a browser does.
                response.body_read = b"".join(response.streaming_content)
            return response

        return call

    def _page_client(self, workspace_id: int) -> Client:
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(self.pm)
        session = client.session
        session[SESSION_KEY] = workspace_id
        session.save()
        return client

    def _replayed(self, call: Callable[[], object], *, api: bool = False) -> Callable[[], None]:
        """The floor of a page: its own SELECTs, run again as raw SQL, and every row they return
        written out with an f-string (each value escaped); of an API (``api``), written with
        ``orjson``, a dict per row by column name, a JSON column's text read as JSON (as
        ``bench_api``'s floor does: the answer holds it as an object, not as a string)."""
        with CaptureQueriesContext(connection) as captured:
            call()
        statements = _reads(captured.captured_queries)

        def floor():
            with connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)
                    if api:
                        names = [c[0] for c in cursor.description]
                        jsons = [i for i, c in enumerate(cursor.description) if c[1] in JSON_TYPES]
                        rows = []
                        for row in cursor.fetchall():
                            if jsons:
                                row = list(row)
                                for i in jsons:
                                    if isinstance(row[i], str):
                                        row[i] = orjson.loads(row[i])
                            rows.append(dict(zip(names, row, strict=True)))
                        orjson.dumps(rows, default=str)
                    else:
                        _html_cells(cursor.fetchall()).encode()

        return floor

    def _api_small(self, product: Product, token: str, size: str, note: str = "") -> None:
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="127.0.0.1")
        listed = self._get(client, f"/api/v1/features/?product={product.slug}")
        self._request(
            f"API features list, {SMALL}-feature product",
            size,
            listed,
            self._replayed(listed, api=True),
            note=note,
        )

    def _size(self, product: Product, token: str, size: str, *, show_all: bool) -> None:
        pages = self._page_client(product.workspace_id)
        api = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="127.0.0.1")
        table = connection.ops.quote_name(Feature._meta.db_table)
        closed = ", ".join(f"'{s}'" for s in CLOSED_STATUSES)
        open_rows = (
            f"SELECT {ROW_COLUMNS} FROM {table} WHERE product_id = %s AND status NOT IN "
            f"({closed}) ORDER BY rank NULLS LAST, id"
        )

        def every_row_floor():
            with connection.cursor() as cursor:
                _html_rows(_one(cursor, open_rows, [product.pk])).encode()

        first_page = self._get(pages, f"/products/{product.slug}/")
        self._request(
            "prioritization table, first page", size, first_page, self._replayed(first_page)
        )
        self._edit(pages, product, size)

        # The endpoint answers a page at a time (its default size, then a cursor).
        priorities = self._get(api, f"/api/v1/products/{product.slug}/priorities/")
        self._request(
            "GET priorities, first page",
            size,
            priorities,
            self._replayed(priorities, api=True),
        )
        board = self._get(pages, f"/products/{product.slug}/board/")
        self._request("board", size, board, self._replayed(board))
        if show_all:
            self._request(
                'table, "Show all"',
                size,
                self._get(pages, f"/products/{product.slug}/?all=1"),
                every_row_floor,
            )
        else:
            self._skipped('table, "Show all"', size, "--show-all-max")
        home = self._get(pages, "/")
        self._request("home page", size, home, self._replayed(home))

    def _edit(self, client: Client, product: Product, size: str) -> None:
        """One cell of a row on the first page (confidence, ten points down then up again: a
        small rank move), as table.js posts it. Floor: the row's UPDATE and one UPDATE of the
        ranks that moved, in a transaction rolled back."""
        first_page = list(
            Feature.objects.filter(product=product, rank__isnull=False)
            .order_by("rank")
            .values_list("pk", flat=True)[:PAGE_ROWS]
        )
        pk = first_page[len(first_page) // 2]
        url = f"/products/{product.slug}/table/{pk}/edit/"
        step = [EDIT_STEP]

        original = Feature.objects.get(pk=pk).confidence

        def call(confidence: int | None = None):
            feature = Feature.objects.only("confidence", "version").get(pk=pk)
            if confidence is None:
                step[0] = -step[0]
                confidence = feature.confidence + step[0]
                if not 0 <= confidence <= 100:
                    confidence = feature.confidence - step[0]
            started = time.perf_counter()
            response = client.post(
                url,
                {
                    "confidence": confidence,
                    "version": feature.version,
                    "shown": first_page,
                },
                HTTP_HX_REQUEST="true",
                HTTP_HX_TRIGGER_NAME="confidence",
            )
            elapsed = time.perf_counter() - started
            assert response.status_code == 200, (url, response.status_code)
            assert b"not saved" not in response.content.lower(), response.content[:500]
            return response, elapsed

        def ranks():
            return dict(
                Feature.objects.filter(product=product, rank__isnull=False).values_list(
                    "pk", "rank"
                )
            )

        call()  # warm up
        before = ranks()
        with CaptureQueriesContext(connection) as captured:
            response, _ = call()
        queries = len(captured)
        after = ranks()
        moved = [p for p, rank in after.items() if before.get(p) != rank]
        low = min((after[p] for p in moved), default=0)
        high = max((after[p] for p in moved), default=-1)
        times = []
        while len(times) < self.repeat and (not times or sum(times) < self.budget):
            times.append(call()[1])
        call(original)  # the feature as it was
        table = connection.ops.quote_name(Feature._meta.db_table)

        def floor():
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} SET confidence = confidence, version = version + 1, "
                    f"updated_at = now() WHERE id = %s",
                    [pk],
                )
                if moved:
                    cursor.execute(
                        f"UPDATE {table} SET rank = rank WHERE product_id = %s "
                        f"AND rank BETWEEN %s AND %s",
                        [product.pk, low, high],
                    )
                transaction.set_rollback(True)

        floor()
        floor_seconds, _ = _timed(floor, self.repeat, self.budget)
        self._record(
            Measure(
                "edit one input in the table",
                size,
                statistics.median(times),
                queries,
                _length(response),
                floor_seconds,
                len(times),
                note=f"{len(moved)} ranks moved",
            )
        )

    def _digests(self, subscribers: int) -> None:
        """Enqueue every due digest of ``subscribers`` subscribers of one share link, in a
        transaction rolled back (nothing is sent). Floor: one INSERT … SELECT of the same rows."""
        link = _bench_link(subscribers)
        now = datetime.datetime.combine(
            timezone.localdate(), datetime.time(23, 0), tzinfo=datetime.UTC
        )

        def call():
            with transaction.atomic():
                created = digests_enqueue_due(now=now)
                transaction.set_rollback(True)
            return created

        call()
        with CaptureQueriesContext(connection) as captured:
            created = call()
        queries = len(captured)
        seconds, runs = _timed(call, self.repeat, self.budget)
        first = Subscription.objects.filter(share_link=link).first()
        period = subscription_period(first, now) if first else ""
        deliveries = connection.ops.quote_name(DigestDelivery._meta.db_table)
        subscriptions = connection.ops.quote_name(Subscription._meta.db_table)
        sql = (
            f"INSERT INTO {deliveries} (subscription_id, period, status, events_from, "
            f"events_through, attempts, last_error, created_at, updated_at) "
            f"SELECT id, %s, 'pending', COALESCE(sent_through, confirmed_at), %s, 0, '', "
            f"now(), now() FROM {subscriptions} WHERE id = ANY(%s) RETURNING id"
        )
        # The rows the service wrote: a delivery for each active subscriber of the link.
        ids = list(
            Subscription.objects.active().filter(share_link=link).values_list("pk", flat=True)
        )

        def floor():
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, [period, now, ids])
                cursor.fetchall()
                transaction.set_rollback(True)

        floor()
        floor_seconds, _ = _timed(floor, self.repeat, self.budget)
        self._record(
            Measure(
                "enqueue due digests",
                f"{label(len(ids))} subs",
                seconds,
                queries,
                0,
                floor_seconds,
                runs,
                note=f"{len(created)} deliveries",
            )
        )

    # --- Summary ---------------------------------------------------------------------------------

    def _series(self, sizes: list[str]) -> None:
        """Each request's times across the sizes, and how much the largest costs over the
        smallest."""
        self.stdout.write("")
        self.stdout.write("| request | " + " | ".join(sizes) + " | growth | ratio to floor |")
        self.stdout.write("|---|" + "---|" * (len(sizes) + 2))
        requests = list(dict.fromkeys(m.request for m in self.results))
        for request in requests:
            by_size = {m.size: m for m in self.results if m.request == request}
            if not set(by_size) & {*sizes, "before"}:  # measured once, at its own size
                only = next(iter(by_size.values()))
                self.stdout.write(
                    f"| {request} ({only.size}) | {only.seconds * 1000:.0f} ms, {only.queries} q"
                    + " | —" * len(sizes)
                    + f" | {only.seconds / only.floor:.1f}× |"
                )
                continue
            cells = [
                f"{by_size[s].seconds * 1000:.0f} ms, {by_size[s].queries} q"
                if s in by_size
                else "—"
                for s in sizes
            ]
            measured = [by_size[s] for s in sizes if s in by_size] or list(by_size.values())
            growth = (
                f"{measured[-1].seconds / measured[0].seconds:.2f}×" if len(measured) > 1 else "—"
            )
            last = measured[-1]
            ratio = f"{last.seconds / last.floor:.1f}× ({last.size})" if last.floor else "—"
            if "before" in by_size:
                growth = f"{measured[-1].seconds / by_size['before'].seconds:.2f}× vs before"
            self.stdout.write(f"| {request} | " + " | ".join(cells) + f" | {growth} | {ratio} |")
        self.stdout.write(
            self.style.SUCCESS(
                "growth: the largest size's time over the smallest's (the small product's API "
                "list: over its time before the series, with no large product on a first run)"
            )
        )


@transaction.atomic
def _board_items_load(product: Product, count: int) -> int:
    """Bring the product's roadmap items up to ``count``: every ITEMS_EVERY-th feature not yet on
    the board, placed round-robin over the lanes (and no lane) and the horizons, in bulk (the
    bench's rows keep no history), then analyzed. Returns how many were added."""
    have = RoadmapItem.objects.filter(product=product).count()
    if have >= count:
        return 0
    lanes = [
        Lane.objects.get_or_create(product=product, name=name, defaults={"position": i})[0]
        for i, name in enumerate(BOARD_LANES)
    ] + [None]
    horizons = list(Horizon.values)
    feature_ids = list(
        Feature.objects.filter(product=product, roadmap_item__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)[: (count - have) * ITEMS_EVERY : ITEMS_EVERY]
    )
    items = [
        RoadmapItem(
            product=product,
            feature_id=pk,
            horizon=horizons[n % len(horizons)],
            lane=lanes[(n // len(horizons)) % len(lanes)],
            position=have + n,
            visibility=Visibility.EXTERNAL if n % 2 else Visibility.INTERNAL,
        )
        for n, pk in enumerate(feature_ids[: count - have])
    ]
    RoadmapItem.objects.bulk_create(items, batch_size=1000)
    if items and connection.vendor == "postgresql":
        # As scale_features_load does for the features: without fresh statistics (autovacuum
        # may be off, or not yet round), the planner takes 10,000 new items for a handful and
        # joins the board's cards by reading every item of the product (0.4 s at 100k).
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(RoadmapItem._meta.db_table)}")
    return len(items)


def _length(response) -> int:
    if isinstance(response, tuple):
        response = response[0]
    if hasattr(response, "body_read"):
        return len(response.body_read)
    return len(response.content) if hasattr(response, "content") else 0
