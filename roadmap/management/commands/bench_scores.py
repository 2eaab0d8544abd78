"""Benchmark: the set-based recompute against one raw UPDATE computing the same formula (the
lower bound): RICE, then a product's own formula (issue 19), parsed and compiled from its text."""

import math
import statistics
import time
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from accounts.models import Workspace
from roadmap.models import Feature, Product
from roadmap.planning.services.formula import product_formula_save
from roadmap.planning.services.scoring import product_recompute_scores

IMPACTS = [Decimal("0.25"), Decimal("0.50"), Decimal("1.00"), Decimal("2.00"), Decimal("3.00")]
BATCH = 5000
# A product's own formula with a condition in it: compiled into the recompute's one UPDATE.
CUSTOM_FORMULA = (
    "if(confidence >= 50, reach * impact * confidence / 100 / effort, "
    "reach * impact * confidence / 200 / effort)"
)


def _bench_product(features: int) -> Product:
    workspace, _ = Workspace.objects.get_or_create(slug="bench", defaults={"name": "Benchmarks"})
    product, _ = Product.objects.get_or_create(
        slug="bench-scores", defaults={"workspace": workspace, "name": "Score benchmark"}
    )
    have = Feature.objects.filter(product=product).count()
    for start in range(have, features, BATCH):
        Feature.objects.bulk_create(
            [
                Feature(
                    product=product,
                    title=f"Benchmark feature {i}",
                    reach=(i * 37) % 5000,
                    impact=IMPACTS[i % 5],
                    confidence=(i * 13) % 101,
                    # Every tenth feature lacks an input, as in real backlogs.
                    effort=None if i % 10 == 0 else Decimal(1 + (i % 40)) / 2,
                )
                for i in range(start, min(start + BATCH, features))
            ],
            batch_size=BATCH,
        )
    return product


def _time(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


class Command(BaseCommand):
    help = (
        "Seed N features in one product, then time the recompute against a single raw SQL UPDATE "
        "computing the same RICE formula (the lower bound), and print the ratio."
    )

    def add_arguments(self, parser):
        parser.add_argument("--features", type=int, default=100_000)
        parser.add_argument("--repeat", type=int, default=3)

    def handle(self, *args, features, repeat, **options):
        t0 = time.perf_counter()
        product = _bench_product(features)
        count = Feature.objects.filter(product=product).count()
        self.stdout.write(
            f"Database: {connection.vendor}; product has {count} features "
            f"(seeded in {time.perf_counter() - t0:.1f} s)."
        )
        rice = (
            "UPDATE {table} SET score = CAST(reach AS DOUBLE PRECISION) * impact "
            "* (confidence / 100.0) / effort WHERE product_id = %s"
        )
        raw, ours, _ = _race(product, rice, repeat)
        self.stdout.write(f"lower bound (one raw UPDATE, RICE): {raw:.3f} s (median of {repeat})")
        self.stdout.write(
            f"recompute (scores, breakdowns, ranks): {ours:.3f} s (median of {repeat})"
        )
        self.stdout.write(self.style.SUCCESS(f"ratio recompute / lower bound: {ours / raw:.2f}"))

        # The same race with the product's own formula, written as a PM would.
        product_formula_save(product=product, source=CUSTOM_FORMULA, author=None)
        custom = (
            "UPDATE {table} SET score = CASE WHEN confidence >= 50 "
            "THEN CAST(reach AS DOUBLE PRECISION) * impact * confidence / 100.0 "
            "/ NULLIF(effort, 0) "
            "ELSE CAST(reach AS DOUBLE PRECISION) * impact * confidence / 200.0 "
            "/ NULLIF(effort, 0) END WHERE product_id = %s"
        )
        try:
            raw, ours, agreed = _race(product, custom, repeat, check=True)
        finally:  # the next run starts from RICE again
            Product.objects.filter(pk=product.pk).update(scoring_framework="rice")
        self.stdout.write(
            f"custom formula: {CUSTOM_FORMULA} (same scores as the raw UPDATE on all "
            f"{agreed} features)"
        )
        self.stdout.write(
            f"lower bound (one raw UPDATE, the same formula by hand): {raw:.3f} s "
            f"(median of {repeat})"
        )
        self.stdout.write(
            f"recompute with the custom formula (scores, breakdowns, ranks): {ours:.3f} s "
            f"(median of {repeat})"
        )
        self.stdout.write(
            self.style.SUCCESS(f"ratio custom recompute / lower bound: {ours / raw:.2f}")
        )


def _race(product, raw_sql: str, repeat: int, check: bool = False) -> tuple[float, float, int]:
    """Median seconds of one raw UPDATE (``raw_sql``, ``{table}`` for the features' table) and of
    the product's recompute, alternating; with ``check``, first that both give the same scores
    (CommandError otherwise) and on how many features."""
    raw_sql = raw_sql.format(table=connection.ops.quote_name(Feature._meta.db_table))
    if connection.vendor == "sqlite":
        raw_sql = raw_sql.replace("DOUBLE PRECISION", "REAL")

    def raw_update():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(raw_sql, [product.pk])

    def recompute():
        product_recompute_scores(product_id=product.pk)

    def scores():
        return dict(Feature.objects.filter(product=product).values_list("id", "score"))

    agreed = 0
    if check:  # the race is fair: both compute the same numbers
        raw_update()
        by_hand = scores()
        recompute()
        compiled = scores()
        differ = [
            pk
            for pk, score in by_hand.items()
            if (score is None) != (compiled[pk] is None)
            or (score is not None and not math.isclose(score, compiled[pk], rel_tol=1e-9))
        ]
        if differ:
            raise CommandError(f"the recompute and the raw UPDATE differ on {len(differ)} rows")
        agreed = len(by_hand)
    recompute()  # warm caches and bring every row to the same state
    raw_times, recompute_times = [], []
    for _ in range(repeat):
        raw_times.append(_time(raw_update))
        recompute_times.append(_time(recompute))
    return statistics.median(raw_times), statistics.median(recompute_times), agreed
