"""Benchmark: how long the prioritization table's "Show all" takes in Chromium to become usable.

The demo PM opens the table of a product of ``--features`` features (the "Scale test" product of
the workspace "Table browser bench", seeded once and kept), clicks "Show all", and the page
records, from the click: when the answer has arrived (htmx's ``afterOnLoad``), when htmx has
settled it (``afterSettle``: every row swapped in and set up), and when the browser is free for
the PM's next key (a task queued after the next frame runs). Each run loads the page afresh.

The floor, measured in the same page after each run, is the browser's own work on the same rows:
the table body's HTML, as it now is (its ids renamed), parsed into a hidden copy of the table and
laid out, with no script setting anything up. The ratio: the browser's part of "usable" (from the
answer's arrival) over that floor.

Needs Chromium (/usr/bin/chromium) and DEBUG=1 (the dev server serves the static files); it
starts ``manage.py runserver`` on a free port with this process's environment (its database).
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Role, User, Workspace
from roadmap.demo import content
from roadmap.demo.load import demo_workspace_load, scale_features_load
from roadmap.planning.scoring import CLOSED_STATUSES

ROOT = Path(__file__).resolve().parents[3]

# Runs in the page: click "Show all" and time what follows (the promise resolves with the times).
MEASURE = """
(link) => new Promise((resolve) => {
  const times = {};
  const start = performance.now();
  document.addEventListener("htmx:afterOnLoad", () => {
    times.arrived = performance.now() - start;
  }, { once: true });
  document.addEventListener("htmx:afterSettle", () => {
    times.settled = performance.now() - start;
    requestAnimationFrame(() => setTimeout(() => {
      times.usable = performance.now() - start;
      // The floor: the same rows parsed and laid out, in a copy of the table no script sees.
      const table = document.querySelector("#feature-rows").closest("table");
      const copy = table.cloneNode(false);
      copy.style.position = "absolute";
      copy.style.visibility = "hidden";
      // Its ids renamed: a second element of an id makes every look-up of it walk the page.
      const html = document
        .querySelector("#feature-rows")
        .outerHTML.replace(/ (id|form)="/g, ' data-$1="');
      const floorStart = performance.now();
      copy.innerHTML = html;
      document.body.append(copy);
      void copy.offsetHeight;
      times.floor = performance.now() - floorStart;
      copy.remove();
      times.rows = document.querySelectorAll("#feature-rows .prio__row").length;
      resolve(times);
    }, 0));
  }, { once: true });
  link.click();
})
"""


# Runs in the page: the workspace switcher's POST.
SWITCH = """
([url, id]) => {
  const token = document.cookie.match(/csrftoken=([^;]+)/)[1];
  const body = new FormData();
  body.set("workspace_id", id);
  return fetch(url, { method: "POST", body, headers: { "X-CSRFToken": token } }).then((r) => r.ok);
}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Command(BaseCommand):
    help = 'Time the prioritization table\'s "Show all" in Chromium, against a floor.'

    def add_arguments(self, parser):
        parser.add_argument("--features", type=int, default=620)
        parser.add_argument("--repeat", type=int, default=5)

    def handle(self, *args, features, repeat, **options):
        if not settings.DEBUG:
            raise CommandError("Run it with DEBUG=1: the dev server serves the static files.")
        from playwright.sync_api import sync_playwright

        demo_workspace_load(today=timezone.localdate())
        pm = User.objects.get(email=content.USERS[0]["email"])
        workspace, _ = Workspace.objects.get_or_create(
            slug="bench-table-browser", defaults={"name": "Table browser bench"}
        )
        Membership.objects.get_or_create(
            user=pm, workspace=workspace, defaults={"role": Role.ADMIN}
        )
        loaded = scale_features_load(workspace=workspace, count=features)
        open_count = loaded.product.features.exclude(status__in=CLOSED_STATUSES).count()
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "manage.py"),
                "runserver",
                f"127.0.0.1:{port}",
                "--noreload",
            ],
            env={**os.environ, "DEBUG": "1"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(200):
                try:
                    urllib.request.urlopen(base + "/healthz", timeout=1)
                    break
                except OSError:
                    time.sleep(0.1)
            else:
                raise CommandError(f"runserver did not answer {base}/healthz in 20 s")
            runs = self._runs(sync_playwright, base, loaded.product, open_count, repeat)
        finally:
            server.terminate()
            server.wait()
        median = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        browser = median["usable"] - median["arrived"]
        self.stdout.write(
            f'"Show all" of {int(median["rows"])} rows (median of {len(runs)}): answer arrived '
            f"{median['arrived']:.0f} ms, settled {median['settled']:.0f} ms, usable "
            f"{median['usable']:.0f} ms after the click; in the browser {browser:.0f} ms, "
            f"floor {median['floor']:.0f} ms, ratio {browser / median['floor']:.1f}"
        )

    def _runs(self, sync_playwright, base: str, product, open_count: int, repeat: int):
        runs = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=["--no-sandbox"]
            )
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(base + "/accounts/login/")
            page.get_by_label("Email").fill(content.USERS[0]["email"])
            page.get_by_label("Password").fill(content.PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(base + "/")
            # The bench's product has the demo's scale product's slug: work in its workspace.
            page.evaluate(SWITCH, [reverse("accounts:workspace_switch"), product.workspace_id])
            for _ in range(repeat):
                page.goto(base + product.get_absolute_url())
                link = page.locator("a[data-table-more]", has_text="Show all")
                times = link.evaluate(MEASURE)
                if times["rows"] != open_count:
                    raise CommandError(f"{times['rows']} rows shown, {open_count} expected")
                runs.append(times)
            browser.close()
        return runs
