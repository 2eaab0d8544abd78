"""Benchmark: a PM's pages for a product of N features against the database work they need.

The lower bound of a page is its own queries, captured from one request and run again as raw SQL
(fetching every row): no page can answer faster than the database answers it. The ratio is what
the rest (Django, the selectors, the templates) costs on top.
"""

import re
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from roadmap.management.commands.bench_api import _bench_product, _median
from roadmap.models import CustomField, Feature, FeatureFieldValue, Product
from roadmap.planning.services import fields as field_services

PAGES = {
    "prioritization table (first 50 rows)": "/products/{slug}/",
    "prioritization table (every row)": "/products/{slug}/?all=1",
    "board (every feature in its picker)": "/products/{slug}/board/",
}
# With --custom-fields: the table with a column per field, and filtered by two of them.
FIELD_PAGES = {
    "prioritization table with 3 custom fields (first 50 rows)": "/products/{slug}/",
    "prioritization table filtered by 2 custom fields": (
        "/products/{slug}/?cf-segment=Enterprise&cf-segment=Mid-market&cf-deal_size-min=1000"
    ),
}
# PostgreSQL runs a queryset's .iterator() through a server-side cursor; its SELECT is the work.
_CURSOR = re.compile(r'^DECLARE "[^"]+" NO SCROLL CURSOR WITH(?:OUT)? HOLD FOR ', re.IGNORECASE)


def _reads(captured: list[dict]) -> list[str]:
    """The SELECTs a request ran, as SQL that runs again on its own."""
    statements = [_CURSOR.sub("", q["sql"]) for q in captured]
    return [s for s in statements if s.lstrip().upper().startswith("SELECT")]


class Command(BaseCommand):
    help = (
        "Time the PM's prioritization table and board for a product of N features against "
        "their own queries run as raw SQL, and print the ratios."
    )

    def add_arguments(self, parser):
        parser.add_argument("--features", type=int, default=1000)
        parser.add_argument("--repeat", type=int, default=20)
        parser.add_argument(
            "--custom-fields",
            action="store_true",
            help="Also time the table with 3 custom fields set on every feature (a choice, yes/no "
            "and a number), and filtered by two of them; the fields are deleted afterwards.",
        )

    def handle(self, *args, features, repeat, custom_fields=False, **options):
        product, _ = _bench_product(features)
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(User.objects.get(email="bench-api@waymark.example"))
        self.stdout.write(f"Database: {connection.vendor}; {features} features")
        self._time(client, product, PAGES, repeat)
        if custom_fields:
            _with_fields(product)
            try:
                self._time(client, product, FIELD_PAGES, repeat)
            finally:
                CustomField.objects.filter(product=product).delete()

    def _time(self, client: Client, product: Product, pages: dict[str, str], repeat: int) -> None:
        for name, path in pages.items():
            url = path.format(slug=product.slug)

            def page(url=url) -> bytes:
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)
                # A streamed page ("every row") costs its whole body: read it, as a browser does.
                if response.streaming:
                    return b"".join(response.streaming_content)
                return response.content

            page()  # warm up
            with CaptureQueriesContext(connection) as captured:
                size = len(page())
            # Read now: the next request clears the connection's query log.
            queries = captured.captured_queries
            statements = _reads(queries)

            def lower_bound(statements=statements):
                with connection.cursor() as cursor:
                    for sql in statements:
                        cursor.execute(sql)
                        cursor.fetchall()

            lower_bound()  # warm up
            ours = _median(page, repeat)
            floor = _median(lower_bound, repeat)
            self.stdout.write(
                f"{name}: {len(queries)} queries, {size // 1024} KB; its queries as raw SQL: "
                f"{floor * 1000:.1f} ms; the page: {ours * 1000:.1f} ms (medians of {repeat})"
            )
            self.stdout.write(self.style.SUCCESS(f"  ratio page / lower bound: {ours / floor:.2f}"))


def _with_fields(product: Product) -> None:
    """Three custom fields (a choice, yes/no, a number), each set on every feature."""
    CustomField.objects.filter(product=product).delete()
    segment = field_services.custom_field_save(
        product=product,
        name="Segment",
        kind="choice",
        choices=[("SMB", "1"), ("Mid-market", "2"), ("Enterprise", "3")],
    )
    urgent = field_services.custom_field_save(product=product, name="Urgent", kind="yes_no")
    deal = field_services.custom_field_save(product=product, name="Deal size", kind="number")
    choices = list(segment.choices.order_by("position").values_list("pk", flat=True))
    ids = Feature.objects.filter(product=product).order_by("pk").values_list("pk", flat=True)
    FeatureFieldValue.objects.bulk_create(
        value
        for i, pk in enumerate(ids)
        for value in (
            FeatureFieldValue(feature_id=pk, field=segment, choice_id=choices[i % 3]),
            FeatureFieldValue(feature_id=pk, field=urgent, value=Decimal(i % 2)),
            FeatureFieldValue(feature_id=pk, field=deal, value=Decimal((i * 97) % 5000)),
        )
    )
