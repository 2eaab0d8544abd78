"""Benchmark: the priorities endpoint against the raw SQL query plus JSON encoding (lower bound)."""

import statistics
import time
from decimal import Decimal

import orjson
from django.core.management.base import BaseCommand
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Membership, Role, User, Workspace
from accounts.tokens import api_token_issue
from roadmap.models import Feature, Product
from roadmap.planning.selectors.priorities import MAX_PAGE_SIZE
from roadmap.planning.services.scoring import product_recompute_scores

IMPACTS = [Decimal("0.25"), Decimal("0.50"), Decimal("1.00"), Decimal("2.00"), Decimal("3.00")]


def _bench_product(features: int) -> tuple[Product, str]:
    workspace, _ = Workspace.objects.get_or_create(slug="bench-api", defaults={"name": "Bench"})
    user, _ = User.objects.get_or_create(email="bench-api@waymark.example")
    Membership.objects.get_or_create(user=user, workspace=workspace, defaults={"role": Role.EDITOR})
    product, _ = Product.objects.get_or_create(
        slug="bench-api", defaults={"workspace": workspace, "name": "API benchmark"}
    )
    have = Feature.objects.filter(product=product).count()
    if have < features:
        Feature.objects.bulk_create(
            Feature(
                product=product,
                title=f"Priority {i}",
                reach=(i * 37) % 5000,
                impact=IMPACTS[i % 5],
                confidence=(i * 13) % 101,
                effort=Decimal(1 + (i % 40)) / 2,
            )
            for i in range(have, features)
        )
    product_recompute_scores(product_id=product.pk)
    _, raw = api_token_issue(user=user, workspace=workspace, name="bench")
    return product, raw


def _median(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


class Command(BaseCommand):
    help = (
        "Time GET /api/v1/products/<slug>/priorities/ for a product of N features against the "
        "raw SQL query of the same rows plus JSON encoding, and print the ratio."
    )

    def add_arguments(self, parser):
        parser.add_argument("--features", type=int, default=1000)
        parser.add_argument("--repeat", type=int, default=30)

    def handle(self, *args, features, repeat, **options):
        product, raw = _bench_product(features)
        client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_HOST="127.0.0.1")
        # Every feature in one answer: the largest page (the endpoint's maximum) past 1,000.
        url = f"/api/v1/products/{product.slug}/priorities/?limit={min(features, MAX_PAGE_SIZE)}"
        table = connection.ops.quote_name(Feature._meta.db_table)
        sql = (
            f"SELECT rank, id, title, status, score, score_breakdown, moscow, kano, updated_at "
            f"FROM {table} WHERE product_id = %s AND status NOT IN ('shipped', 'archived') "
            f"ORDER BY rank LIMIT {min(features, MAX_PAGE_SIZE)}"
        )

        def endpoint(url=url):
            response = client.get(url)
            assert response.status_code == 200, response.status_code

        def endpoint_with_shares():
            endpoint(f"{url}&shares=true")

        def lower_bound():
            with connection.cursor() as cursor:
                cursor.execute(sql, [product.pk])
                columns = [c[0] for c in cursor.description]
                rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
            for row in rows:
                if isinstance(row["score_breakdown"], str):
                    row["score_breakdown"] = orjson.loads(row["score_breakdown"])
            orjson.dumps(rows, default=str)

        endpoint(), lower_bound()  # warm up
        with CaptureQueriesContext(connection) as captured:
            endpoint()
        queries = len(captured)  # now: the next request clears the connection's query log
        ours = _median(endpoint, repeat)
        with_shares = _median(endpoint_with_shares, repeat)
        floor = _median(lower_bound, repeat)
        self.stdout.write(
            f"Database: {connection.vendor}; {features} features; {queries} queries per request"
        )
        self.stdout.write(
            f"lower bound (raw SQL + JSON): {floor * 1000:.1f} ms (median of {repeat})"
        )
        self.stdout.write(f"priorities endpoint: {ours * 1000:.1f} ms (median of {repeat})")
        self.stdout.write(self.style.SUCCESS(f"ratio endpoint / lower bound: {ours / floor:.2f}"))
        self.stdout.write(
            f"with each row's shares (shares=true): {with_shares * 1000:.1f} ms, "
            f"ratio {with_shares / floor:.2f}"
        )
