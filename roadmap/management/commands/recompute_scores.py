import time

from django.core.management.base import BaseCommand, CommandError

from roadmap.models import Product
from roadmap.planning.services.scoring import product_recompute_scores


class Command(BaseCommand):
    help = "Recompute feature scores and ranks synchronously (the same code the workers run)."

    def add_arguments(self, parser):
        parser.add_argument("--product", metavar="SLUG", help="Only this product.")

    def handle(self, *args, product=None, **options):
        products = Product.objects.order_by("pk")
        if product:
            products = products.filter(slug=product)
            if not products.exists():
                raise CommandError(f"No product with slug “{product}”.")
        started = time.perf_counter()
        total = 0
        for pk, slug in products.values_list("pk", "slug"):
            t0 = time.perf_counter()
            count = product_recompute_scores(product_id=pk)
            total += count
            self.stdout.write(
                f"{slug}: scored {count} features in {time.perf_counter() - t0:.3f} s"
            )
        self.stdout.write(
            self.style.SUCCESS(f"Scored {total} features in {time.perf_counter() - started:.3f} s.")
        )
