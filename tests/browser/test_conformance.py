"""Conformance of every page kind: accessible (axe-core) and valid HTML (the Nu HTML Checker).

The pages are not listed here: every GET route of the permission table
(``tests/test_permissions.py``, which fails when a route has no row) that answers a member or a
visitor with an HTML page is visited, so a new page kind is checked the day it is added. To those
come the pages only reached by doing something (a form sent with a mistake, a sign-up sent, a
password asked for), every error page template and every HTML email the app sends.

Each page is opened in Chromium over the demo workspace (the richest data there is), with its
menus and disclosures opened, and axe-core runs on it: no critical or serious violation of
WCAG 2.1 A/AA may remain. The HTML Chromium received (the response body, not the live DOM) is
kept, and the Nu HTML Checker reads all of it in one run at the end: no error may remain.

The tools are pinned in tests/tools/package.json (``npm ci --prefix tests/tools``); without them
(or without Java) the test skips, unless REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import datetime
import email
import json
import re
import subprocess
from dataclasses import dataclass, field
from email import policy
from pathlib import Path

import pytest
from django.core import mail
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.signals import template_rendered
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from accounts.services import invitation_create
from roadmap.demo import content as demo
from roadmap.demo.load import demo_workspace_load
from roadmap.models import (
    Comparison,
    Competitor,
    Contact,
    Insight,
    LaunchTask,
    LaunchTemplateTask,
    MarketSize,
    Persona,
    PricePlan,
    Product,
    RoadmapItem,
    Vote,
    WebhookDelivery,
    WebhookEndpoint,
)
from roadmap.planning.rating import field_name
from roadmap.planning.selectors.rating import round_inputs
from roadmap.planning.services import roadmap as records
from roadmap.planning.services.features import feature_update
from roadmap.planning.services.fields import custom_field_save
from roadmap.planning.services.rating import ratings_save, round_create
from roadmap.portal.notices import unsubscribe_url as portal_unsubscribe_url
from roadmap.sharing.services import sharing
from roadmap.sharing.services.digests import digests_enqueue_due, subscription_add, unsubscribe_url
from tests.support import AXE_PATH, VNU_JAR
from tests.test_permissions import ROWS

pytestmark = [pytest.mark.browser, pytest.mark.tools]

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("critical", "serious")
# Routes that answer HTML but are not pages of ours: the API's Swagger UI (drf-spectacular's).
NOT_OURS = {"api-docs"}


# --- The world: the demo workspace, and what it does not have -----------------------------------


class DemoWorld:
    """The demo workspace's richest product, named like ``tests.test_permissions.World`` so the
    permission table's URL arguments resolve against it; plus a share link with a subscriber, an
    invitation and a webhook with a failed delivery, which the demo does not load."""

    def __init__(self):
        demo_workspace_load(today=timezone.localdate())
        self.admin = User.objects.get(email=demo.USERS[0]["email"])
        self.product = Product.objects.get(slug="northwind-insight")
        self.workspace = self.product.workspace
        items = RoadmapItem.objects.filter(product=self.product)
        self.item = items.filter(feature__isnull=False, visibility="external").first()
        self.feature = self.item.feature
        self.lane = self.item.lane
        self.persona = Persona.objects.filter(product=self.product).first()
        self.insight = Insight.objects.filter(product=self.product).first()
        self.objective = self.product.objectives.first()
        self.launch_task = LaunchTask.objects.filter(release__product=self.product).first()
        self.release = self.launch_task.release
        self.competitor = Competitor.objects.filter(product=self.product).first()
        self.comparison = Comparison.objects.filter(competitor=self.competitor).first()
        self.market_size = MarketSize.objects.filter(product=self.product).first()
        self.price_plan = PricePlan.objects.filter(product=self.product).first()
        self.launch_template_task = LaunchTemplateTask.objects.filter(
            workspace=self.workspace
        ).first()
        self.share_link = sharing.share_link_create(
            product=self.product, label="Customers", audience="customers"
        )
        self.subscription = subscription_add(
            product=self.product,
            share_link=self.share_link,
            email="cto@customer.example",
            name="Chris",
        )
        self.unsubscribe_token = unsubscribe_url(self.subscription).rstrip("/").split("/")[-1]
        # The portal: a link that takes votes and requests, a contact and its email links.
        self.feedback_link = sharing.share_link_create(
            product=self.product, label="Feedback", audience="customers", allow_feedback=True
        )
        self.portal_contact = Contact.objects.create(
            product=self.product, email="voter@customer.example"
        )
        self.portal_unsubscribe_token = (
            portal_unsubscribe_url(self.portal_contact).rstrip("/").split("/")[-1]
        )
        # A confirmed request for the PM's inbox and request page (roadmap.portal.views).
        from roadmap.portal.services import request_import

        self.portal_request = request_import(
            product=self.product, title="Export to PDF", email="ana@customer.example"
        )
        # Customers (one with its domain and evidence) and an experiment, for their pages.
        from roadmap.evidence.services import customer_save, experiment_save

        self.customer_api = customer_save(
            product=self.product,
            data={"name": "Zeta Corp", "segment": "Enterprise", "annual_revenue": 90000},
            domains=["zeta.example"],
        )
        self.customer_api_survivor = customer_save(product=self.product, data={"name": "Omega"})
        # Release notes published for the share links' release-notes page.
        from roadmap.strategy.services.launch import release_notes_save

        noted = RoadmapItem.objects.filter(
            product=self.product, visibility="external", feature__status="shipped"
        ).first()
        assert noted is not None, "the demo has no shipped external item for release notes"
        release = noted.release or self.release
        if noted.release_id is None:
            RoadmapItem.objects.filter(pk=noted.pk).update(release=release)
        release_notes_save(
            release=release, public_summary="What is **new** this time.", publish=True
        )
        self.experiment_api = experiment_save(
            product=self.product,
            data={"hypothesis": "Ops leads want a weekly digest", "result": "**7 of 9** said yes"},
            features=[self.feature],
        )
        # A rating round the admin rates (the sheet) and leads (the results), which two others
        # have rated already: one value of each input, apart enough to be a disagreement.
        self.priya = User.objects.get(email="priya@waymark.example")
        self.sam = User.objects.get(email="sam@waymark.example")
        features = list(self.product.features.order_by("rank", "id")[:3])
        self.rating_round = round_create(
            product=self.product,
            name="Q3 planning",
            features=features,
            raters=[self.admin, self.priya, self.sam],
            created_by=self.admin,
        )
        for rater, high in ((self.priya, False), (self.sam, True)):
            ratings_save(
                rating_round=self.rating_round,
                rater=rater,
                values={
                    field_name(feature.pk, item.key): _rating(item.scale, high=high)
                    for feature in features
                    for item in round_inputs(product=self.product)
                },
                submit=True,
            )
        # Custom fields, so the settings page shows their rows with the move buttons (the first
        # one's "up" disabled) and the feature's form their inputs.
        self.custom_field = custom_field_save(
            product=self.product, name="Tier", kind="choice", choices=[("Gold", 3), ("Silver", 2)]
        )
        custom_field_save(product=self.product, name="Renewal", kind="yes_no")
        # Made before the emails are collected; its email is not one of them.
        _, self.invitation_token = invitation_create(
            workspace=self.workspace,
            email="first@example.com",
            role=Role.VIEWER,
            invited_by=self.admin,
        )
        # Created as a row: the service resolves the host, and the tests reach no network.
        self.webhook = WebhookEndpoint.objects.create(
            workspace=self.workspace,
            url="https://hooks.example.com/waymark",
            events=["feature.updated", "roadmap_item.moved"],
            is_active=False,  # nothing is sent when the test moves an item
        )
        self.webhook_delivery = WebhookDelivery.objects.create(
            endpoint=self.webhook,
            event="feature.updated",
            payload={"feature": {"id": self.feature.pk}},
            status="failed",
            attempts=3,
            response_code=502,
            last_error="Bad gateway",
        )
        assert None not in vars(self).values(), "the demo lacks a record the pages need"


def _rating(scale, *, high: bool) -> str:
    """A value at one end of an input's scale (open-ended ones: 10 above their lowest)."""
    if scale.choices:
        return str(scale.choices[-1 if high else 0])
    if not high:
        return str(scale.low)
    return str(scale.low + 10 if scale.open_ended else scale.high)


# --- Checking a page ------------------------------------------------------------------------------


@dataclass
class Conformance:
    """Runs axe-core on what a page shows and keeps what it received for the HTML checker."""

    out_dir: Path
    axe_source: str
    documents: dict[str, str] = field(default_factory=dict)  # file name -> page label
    violations: list[str] = field(default_factory=list)

    def check(self, page, label: str, html: str) -> None:
        slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")[:60]
        name = f"{len(self.documents):03d}-{slug}.html"
        (self.out_dir / name).write_text(html)
        self.documents[name] = label
        # Each page has axe from its context's init script (which a CSP does not stop); a page
        # written with set_content may not: evaluated, as the external pages allow no <script>.
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.evaluate(self.axe_source)
        # What menus and disclosures hide is checked too.
        results = page.evaluate(
            """tags => {
              document.querySelectorAll('details').forEach(d => { d.open = true; });
              return axe.run(document, {runOnly: {type: 'tag', values: tags},
                                        resultTypes: ['violations']});
            }""",
            AXE_TAGS,
        )
        for violation in results["violations"]:
            if violation["impact"] not in BLOCKING:
                continue
            nodes = violation["nodes"]
            targets = ", ".join(" ".join(node["target"]) for node in nodes[:3])
            more = f" and {len(nodes) - 3} more" if len(nodes) > 3 else ""
            summary = " ".join(nodes[0]["failureSummary"].split("\n")[1:2]).strip()
            self.violations.append(
                f"{label} ({page.url}): {violation['impact']} {violation['id']} "
                f"({violation['help']}) at {targets}{more}: {summary}"
            )

    def goto(self, page, label: str, url: str, status: int = 200) -> None:
        response = page.goto(url)
        assert response.status == status, f"{label}: {url} answered {response.status}"
        self.check(page, label, response.text())

    def submit(self, page, label: str, button) -> None:
        """Press a form's button and check the page that answers."""
        with page.expect_navigation() as navigation:
            button.click()
        self.check(page, label, navigation.value.text())

    def vnu_errors(self) -> list[str]:
        """Every kept document through the Nu HTML Checker in one run (one JVM start)."""
        files = [str(self.out_dir / name) for name in self.documents]
        result = subprocess.run(
            ["java", "-jar", str(VNU_JAR), "--format", "json", "--errors-only", *files],
            capture_output=True,
            text=True,
            timeout=180,
        )
        try:
            messages = json.loads(result.stderr)["messages"]
        except ValueError:
            raise AssertionError(f"the Nu HTML Checker failed: {result.stderr}") from None
        return [
            f"{self.documents[Path(m['url']).name]} ({Path(m['url']).name}) line "
            f"{m.get('lastLine', '?')}: {m['message']} [{m.get('extract', '').strip()}]"
            for m in messages
            if m["type"] == "error" or m.get("subType") == "fatal"
        ]


def _html_part(message) -> str:
    """An email's HTML alternative, as a mail client reads it."""
    parsed = email.message_from_bytes(message.message().as_bytes(), policy=policy.default)
    return parsed.get_body(("html",)).get_content()


def _hrefs(html: str) -> list[str]:
    return re.findall(r'href="([^"]+)"', html)


def _new_page(browser, errors: list[str]):
    """A fresh context (no cookies), 1440×900, whose console errors go to ``errors``."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    # A page answered with an error status logs one; anything else is a fault of the page.
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and "the server responded with a status of" not in m.text
            else None
        ),
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page


def _log_in(page, base: str, user) -> None:
    page.goto(base + reverse("accounts:login"))
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(demo.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/accounts/login" not in url)


def _is_html_page(page, url: str) -> bool:
    """Whether ``url`` answers a page (not JSON, a feed or a download)."""
    response = page.request.get(url, max_redirects=0)
    return response.status == 200 and response.headers["content-type"].startswith("text/html")


def _serve(html: str, status: int):
    """A route handler that answers ``html`` with ``status``."""

    def handler(route, request):
        route.fulfill(status=status, body=html, content_type="text/html; charset=utf-8")

    return handler


@pytest.fixture
def world(live_server, settings):
    settings.SITE_URL = live_server.url  # the emails' links lead to the live server
    return DemoWorld()


# --- axe-core and the Nu HTML Checker on every page kind -----------------------------------------


def test_every_page_kind_is_accessible_and_valid_html(browser, live_server, world, tmp_path):
    checker = Conformance(out_dir=tmp_path, axe_source=AXE_PATH.read_text())
    errors: list[str] = []
    base = live_server.url
    visitor = _new_page(browser, errors)
    member = _new_page(browser, errors)
    for page in (visitor, member):
        page.context.add_init_script(path=AXE_PATH)

    # A visitor's login page, and its answer to a wrong password.
    checker.goto(visitor, "login", base + reverse("accounts:login"))
    visitor.get_by_label("Email").fill(world.admin.email)
    visitor.get_by_label("Password").fill("not the password")
    checker.submit(visitor, "login: wrong password", visitor.get_by_role("button", name="Log in"))
    # The member is the demo's admin, who may open every page of the workspace.
    _log_in(member, base, world.admin)

    # Every page of the permission table: as the member if they may open it, else as a visitor.
    visited = 0
    for row in ROWS:
        if row.method != "GET" or row.api or row.name in NOT_OURS:
            continue
        statuses = row.statuses()
        page = member if statuses["admin"] == 200 else visitor if statuses["anon"] == 200 else None
        if page is None:
            continue
        url = base + reverse(row.name, kwargs=row.kwargs(world) if row.kwargs else None)
        if row.query:
            url += "?" + row.query
        if _is_html_page(page, url):
            checker.goto(page, row.id, url)
            visited += 1
    assert visited >= 40, f"only {visited} pages of the permission table were visited"

    # Pages that only an action or a wrong address shows.
    checker.goto(member, "404", base + "/no-such-page/", status=404)
    checker.goto(visitor, "external: not found", base + "/r/no-such-token/", status=404)
    checker.goto(visitor, "digest: unknown link", base + "/digests/confirm/no-such-token/", 404)
    checker.goto(visitor, "invitation: unknown link", base + "/accounts/invite/no-such-token/", 404)
    rating = {"slug": world.product.slug, "pk": world.rating_round.pk}
    member.goto(base + reverse("roadmap:rating_sheet", kwargs=rating))
    member.locator(".rating-sheet__input").first.fill("lots")
    checker.submit(
        member, "rating sheet: errors", member.get_by_role("button", name="Submit ratings")
    )
    member.goto(base + reverse("roadmap:rating_results", kwargs=rating))
    member.locator(".rating-sheet__input").first.fill("-1")
    accept = member.get_by_role("button", name="Accept all")
    checker.submit(member, "rating results: errors", accept)
    member.goto(base + reverse("roadmap:rating_rounds", kwargs={"slug": world.product.slug}))
    checker.submit(
        member, "rating round form: errors", member.get_by_role("button", name="Start round")
    )
    checker.goto(member, "home: rounds to rate", base + reverse("roadmap:home"))
    member.goto(base + reverse("roadmap:feature_create", kwargs={"slug": world.product.slug}))
    checker.submit(
        member,
        "feature form: errors",
        member.get_by_role("button", name="Create feature"),
    )
    # The formula page with an error in place, then with the ranking a formula gives.
    member.goto(base + reverse("roadmap:product_formula", kwargs={"slug": world.product.slug}))
    member.get_by_label("Formula", exact=True).fill("reach *\n  (impact")
    checker.submit(member, "formula: error", member.get_by_role("button", name="Check"))
    member.get_by_label("Formula", exact=True).fill("reach * impact / effort")
    checker.submit(member, "formula: preview", member.get_by_role("button", name="Preview ranking"))
    locked = sharing.share_link_create(
        product=world.product, label="Board", audience="customers", password="open sesame"
    )
    checker.goto(visitor, "external: password", base + f"/r/{locked.token}/")
    visitor.get_by_label("Password").fill("not it")
    checker.submit(
        visitor,
        "external: wrong password",
        visitor.get_by_role("button", name="Open the roadmap"),
    )

    # Error pages a browser cannot provoke, rendered and answered with their status.
    request = RequestFactory().get("/")
    request.user = world.admin
    for template in sorted(TEMPLATES.glob("[0-9][0-9][0-9].html")):
        status = int(template.stem)
        html = render_to_string(template.name, {"message": "The upload is 3 MB."}, request=request)
        url = f"{base}/conformance/error-{status}/"
        visitor.route(url, _serve(html, status))
        checker.goto(visitor, f"error page {status}", url, status=status)

    # Every email the app sends, shown as a mail client would, and the pages its links open.
    rendered: set[str] = set()
    template_rendered.connect(record := lambda sender, template, **kw: rendered.add(template.name))
    try:
        mail.outbox.clear()
        # A rater (not the admin, whose password-reset email is looked for below) is asked.
        round_create(
            product=world.product,
            name="Q4 bets",
            features=[world.feature],
            raters=[world.sam],
            created_by=world.admin,
        )
        invitation_create(
            workspace=world.workspace,
            email="new.pm@example.com",
            role=Role.EDITOR,
            invited_by=world.admin,
        )
        visitor.goto(base + reverse("external:roadmap", kwargs={"token": world.share_link.token}))
        visitor.get_by_role("textbox", name="Email").fill("robin@customer.example")
        visitor.get_by_label("Daily").check()
        checker.submit(
            visitor, "external: subscribe sent", visitor.get_by_role("button", name="Subscribe")
        )
        [confirmation] = [m for m in mail.outbox if m.to == ["robin@customer.example"]]
        checker.goto(visitor, "digest: confirm", _hrefs(_html_part(confirmation))[0])
        checker.submit(
            visitor,
            "digest: confirmed",
            visitor.get_by_role("button", name="Confirm subscription"),
        )
        # A visitor votes on a feedback link (the page with its forms), confirms by the email.
        feedback_page = base + reverse(
            "external:roadmap", kwargs={"token": world.feedback_link.token}
        )
        checker.goto(visitor, "external: feedback", feedback_page)
        vote = visitor.locator(".x-vote").first
        vote.locator("details").evaluate("details => { details.open = true; }")
        vote.get_by_label("Your email").fill("vera@customer.example")
        checker.submit(visitor, "portal: vote sent", vote.get_by_role("button", name="I want this"))
        [portal_confirm] = [m for m in mail.outbox if m.to == ["vera@customer.example"]]
        checker.goto(visitor, "portal: confirm", _hrefs(_html_part(portal_confirm))[0])
        checker.submit(visitor, "portal: confirmed", visitor.get_by_role("button", name="Confirm"))
        # Its item ships: the voter hears once ("it's live").
        voted = Vote.objects.select_related("item__feature").get(
            contact__email="vera@customer.example"
        )
        feature_update(feature=voted.item.feature, data={"status": "shipped"}, actor=world.admin)
        checker.goto(visitor, "external: feedback, remembered", feedback_page)
        visitor.get_by_label("What do you need?").fill("")
        checker.submit(
            visitor, "portal: request errors", visitor.get_by_role("button", name="Send request")
        )
        records.roadmap_item_move(item=world.item, horizon="now", position=0)
        digests_enqueue_due(
            now=(timezone.now() + datetime.timedelta(days=8)).replace(hour=12, minute=0)
        )
        checker.goto(visitor, "password reset", base + reverse("accounts:password_reset"))
        visitor.get_by_label("Email").fill(world.admin.email)
        checker.submit(
            visitor, "password reset: sent", visitor.locator("main form [type=submit]").last
        )
    finally:
        template_rendered.disconnect(record)
    emails = {f"emails/{t.name}" for t in (TEMPLATES / "emails").glob("*.html")}
    unsent = sorted(emails - rendered)
    for message in mail.outbox:
        html = _html_part(message)
        visitor.set_content(html)
        checker.check(visitor, f"email to {message.to[0]}: {message.subject}", html)
    [digest] = [
        m
        for m in mail.outbox
        if m.to == ["robin@customer.example"] and "X-Waymark-Digest" in m.extra_headers
    ]
    unsubscribe = next(url for url in _hrefs(_html_part(digest)) if "/unsubscribe/" in url)
    checker.goto(visitor, "digest: unsubscribe", unsubscribe)
    checker.submit(
        visitor, "digest: unsubscribed", visitor.get_by_role("button", name="Unsubscribe")
    )
    [reset] = [m for m in mail.outbox if m.to == [world.admin.email]]
    reset_url = next(url for url in _hrefs(_html_part(reset)) if "/password/reset/" in url)
    checker.goto(visitor, "password reset: new password", reset_url)

    visitor.context.close()
    member.context.close()
    vnu_errors = checker.vnu_errors()

    print(f"{len(checker.documents)} documents checked:", *checker.documents.values(), sep="\n  ")
    report = "\n".join(
        [f"axe-core: {len(checker.violations)}", *checker.violations]
        + [f"Nu HTML Checker: {len(vnu_errors)}", *vnu_errors]
        + [f"Emails not sent by this test, so not checked: {unsent}"] * bool(unsent)
    )
    assert not checker.violations and not vnu_errors and not unsent, report
    assert errors == [], f"browser console errors: {errors}"


# --- Focus indicators ----------------------------------------------------------------------------

# For one control of each kind (tag, type and classes) visible on the page: focus it as the
# keyboard does, then read its focus indicator (an outline, a box-shadow ring without blur, or an
# SVG shape's thick stroke) and the background around it, both as painted (alpha composited) RGB.
FOCUS_INDICATORS_JS = """() => {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 1;
  const ctx = canvas.getContext('2d', {willReadFrequently: true});
  const paint = colors => {
    ctx.clearRect(0, 0, 1, 1);
    for (const color of colors) { ctx.fillStyle = color; ctx.fillRect(0, 0, 1, 1); }
    return Array.from(ctx.getImageData(0, 0, 1, 1).data.slice(0, 3));
  };
  const seen = new Set();
  const found = [];
  const focusable = 'a[href], button, input:not([type=hidden]), select, textarea, summary, ' +
    '[tabindex]';
  for (const el of document.querySelectorAll(focusable)) {
    const box = el.getBoundingClientRect();
    if (el.tabIndex < 0 || el.disabled || !box.width || !box.height) continue;
    const kind = `${el.tagName.toLowerCase()}${el.type ? '[' + el.type + ']' : ''}` +
      `${[...el.classList].map(c => '.' + c).join('')}`;
    if (seen.has(kind)) continue;
    seen.add(kind);
    el.focus();
    if (document.activeElement !== el || !el.matches(':focus-visible')) continue;
    el.getAnimations({subtree: true}).forEach(t => t.finish());  // as it looks once settled
    const layers = ['#ffffff'];
    const ancestors = [];
    for (let n = el.parentElement; n; n = n.parentElement) ancestors.unshift(n);
    for (const n of ancestors) layers.push(getComputedStyle(n).backgroundColor);
    const style = getComputedStyle(el);
    const rings = [];
    if (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 1) {
      rings.push(style.outlineColor);
    }
    // A chart's point (SVG) shows its focus as a thick stroke around its shape.
    for (const shape of el.querySelectorAll('circle, rect, path')) {
      const shapeStyle = getComputedStyle(shape);
      if (shapeStyle.stroke !== 'none' && parseFloat(shapeStyle.strokeWidth) >= 2) {
        rings.push(shapeStyle.stroke);
      }
    }
    if (style.boxShadow !== 'none') {
      for (const shadow of style.boxShadow.split(/,(?![^(]*\\))/)) {
        const color = shadow.match(/(rgba?|color|lab|lch|oklab|oklch)\\([^)]*\\)/);
        const lengths = shadow.replace(color ? color[0] : '', '').trim().split(/\\s+/);
        const [blur, spread] = [parseFloat(lengths[2] || 0), parseFloat(lengths[3] || 0)];
        if (color && !shadow.includes('inset') && blur === 0 && spread > 0) rings.push(color[0]);
      }
    }
    found.push({
      kind,
      background: paint(layers),
      indicators: rings.map(ring => paint([...layers, ring])),
    });
  }
  document.activeElement.blur();
  return found;
}"""


def _luminance(rgb) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a, b) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_focus_indicators_contrast_with_what_is_around_them(browser, live_server, world):
    """WCAG 1.4.11: a control's focus indicator has 3:1 or more against the colours next to it,
    for every kind of control on the pages that have them all (forms, tables, the board, the
    external page)."""
    errors: list[str] = []
    base = live_server.url
    visitor = _new_page(browser, errors)
    member = _new_page(browser, errors)
    _log_in(member, base, world.admin)
    slug = {"slug": world.product.slug}
    pages = [
        (visitor, reverse("accounts:login")),
        (visitor, reverse("external:roadmap", kwargs={"token": world.share_link.token})),
        (member, reverse("roadmap:home")),
        (member, reverse("roadmap:product", kwargs=slug)),
        (member, reverse("roadmap:board", kwargs=slug)),
        (member, reverse("roadmap:feature_edit", kwargs={"pk": world.feature.pk})),
        (member, reverse("roadmap:product_settings", kwargs=slug)),
        (member, reverse("roadmap:insights", kwargs=slug)),
        (member, reverse("roadmap:timeline", kwargs=slug)),
        (member, reverse("roadmap:matrix", kwargs=slug)),
        (member, reverse("roadmap:strategy_market", kwargs=slug)),
        (member, reverse("roadmap:release", kwargs={**slug, "pk": world.release.pk})),
    ]
    measured, failures = 0, []
    for page, path in pages:
        page.goto(base + path)
        page.keyboard.press("Tab")  # from now on, focus moves as the keyboard's does
        for control in page.evaluate(FOCUS_INDICATORS_JS):
            measured += 1
            best = max(
                (_contrast(c, control["background"]) for c in control["indicators"]), default=0
            )
            if best < 3:
                failures.append(
                    f"{path} {control['kind']}: focus indicator {best:.2f}:1 "
                    f"(indicators {control['indicators']}, around {control['background']})"
                )
    visitor.context.close()
    member.context.close()

    assert measured >= 40, f"only {measured} kinds of control were focused"
    assert failures == [], "\n".join(failures)
    assert errors == [], f"browser console errors: {errors}"
