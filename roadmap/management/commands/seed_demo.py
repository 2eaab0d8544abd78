import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from roadmap.demo import content
from roadmap.demo.load import demo_workspace_load, scale_features_load


class Command(BaseCommand):
    help = (
        "Load the Northwind Labs demo workspace. Safe to re-run: nothing that exists is changed. "
        "--scale N also fills the “Scale test” product up to N synthetic features."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            type=int,
            default=0,
            metavar="N",
            help="Bring the scale-test product up to N synthetic features (e.g. 100000).",
        )

    def handle(self, *args, scale, **options):
        if scale < 0:
            raise CommandError("--scale must be 0 or more.")
        started = time.perf_counter()
        try:
            result = demo_workspace_load(today=timezone.localdate())
        except ValidationError as error:
            # A demo row the models refuse: reported, and the load's transaction rolled back.
            raise CommandError(f"The demo workspace cannot be loaded: {error}") from error
        elapsed = time.perf_counter() - started
        name = result.workspace.name
        if result.created:
            made = ", ".join(
                f"{n} {label if n != 1 else label.removesuffix('s')}"
                for label, n in result.created.items()
            )
            self.stdout.write(f"{name}: created {made} in {elapsed:.1f} s.")
        else:
            self.stdout.write(f"{name} is already loaded; nothing changed ({elapsed:.1f} s).")
        if scale:
            started = time.perf_counter()
            loaded = scale_features_load(workspace=result.workspace, count=scale)
            self.stdout.write(
                f"Scale test: added {loaded.added} features, {loaded.total} in "
                f"“{loaded.product.slug}”, in {time.perf_counter() - started:.1f} s."
            )
        demo, *others = content.USERS
        self.stdout.write(self.style.SUCCESS(f"Demo login: {demo['email']} / {content.PASSWORD}"))
        self.stdout.write(
            "Other members (same password): "
            + ", ".join(f"{u['email']} ({u['role']})" for u in others)
        )
        self.stdout.write("Open http://127.0.0.1:8000/")
