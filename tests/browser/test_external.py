"""A stakeholder in a real Chromium, as a new user would be: opens a share link (with its
password), subscribes, confirms from the email, reads a digest, follows its links, unsubscribes.
Every external form is submitted by the browser, so its Origin and Referer are the browser's."""

import datetime
import email
import re
from email import policy

import feedparser
import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from roadmap.models import ShareLink, Subscription
from roadmap.planning.services import roadmap as records
from roadmap.sharing.services import sharing
from roadmap.sharing.services.digests import digests_enqueue_due
from tests import factories as f
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser

SHOTS = "/tmp/shots-external"


@pytest.fixture
def shared(product, settings, live_server):
    """A product with one external item on the roadmap, and absolute links in emails that lead
    to the live server."""
    settings.SITE_URL = live_server.url
    product.name = "Atlas"
    product.save()
    item = records.roadmap_item_save(
        product=product,
        data={
            "feature": f.FeatureFactory(product=product, title="exports-v2", status="planned"),
            "visibility": "external",
            "external_title": "Exports to Excel",
            "horizon": "next",
        },
    )
    return item


def _parsed(message):
    """A sent message as a mail client reads it."""
    return email.message_from_bytes(message.message().as_bytes(), policy=policy.default)


def _hrefs(html: str) -> list[str]:
    return re.findall(r'href="([^"]+)"', html)


def test_stakeholder_subscribes_confirms_reads_a_digest_and_unsubscribes(page, shared, product):
    link = f.ShareLinkFactory(product=product, audience="customers")
    page.goto(f"{page.base_url}/r/{link.token}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Atlas")

    # Signs up on the page: the browser's own POST passes the CSRF check.
    page.get_by_role("textbox", name="Email").fill("Robin@Customer.example")
    page.get_by_label("Daily").check()
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    page.screenshot(path=f"{SHOTS}/subscribe-sent.png")
    subscription = Subscription.objects.get(share_link=link)
    assert subscription.confirmed_at is None

    # Opens the confirmation email's link: a page with one button, nothing confirmed yet.
    [confirmation] = mail.outbox
    confirm_url = _hrefs(_parsed(confirmation).get_body(("html",)).get_content())[0]
    assert confirm_url.startswith(f"{page.base_url}/digests/confirm/")
    assert page.goto(confirm_url).status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your subscription")
    page.screenshot(path=f"{SHOTS}/confirm.png")
    subscription.refresh_from_db()
    assert subscription.confirmed_at is None
    page.get_by_role("button", name="Confirm subscription").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You're subscribed")
    subscription.refresh_from_db()
    assert subscription.confirmed_at is not None

    # Something changes; the digest is sent through the service, on the next day's schedule.
    records.roadmap_item_move(item=shared, horizon="now", position=0)
    # Noon: after the default 09:00 send time, whatever the hour the test runs at.
    tomorrow = (timezone.now() + datetime.timedelta(days=1)).replace(hour=12, minute=0)
    assert len(digests_enqueue_due(now=tomorrow)) == 1
    assert len(mail.outbox) == 2
    digest = _parsed(mail.outbox[1])
    assert digest["To"] == "robin@customer.example"
    assert digest.get_content_type() == "multipart/alternative"
    html = digest.get_body(("html",)).get_content()
    assert "<title>Atlas · roadmap update</title>" in html
    assert "Exports to Excel" in html and "exports-v2" not in html

    # Every link of the digest opens in the browser.
    links = _hrefs(html)
    roadmap_url = f"{page.base_url}/r/{link.token}/"
    unsubscribe_url = re.fullmatch(r"\s*<(\S+)>", digest["List-Unsubscribe"]).group(1)
    assert links == [roadmap_url, unsubscribe_url]
    assert page.goto(roadmap_url).status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text("Atlas")

    # Unsubscribes from the digest's link: the page asks, the button acts.
    assert page.goto(unsubscribe_url).status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text("Unsubscribe?")
    page.screenshot(path=f"{SHOTS}/unsubscribe.png")
    subscription.refresh_from_db()
    assert subscription.unsubscribed_at is None
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You're unsubscribed")
    page.screenshot(path=f"{SHOTS}/unsubscribed.png")
    subscription.refresh_from_db()
    assert subscription.unsubscribed_at is not None


def test_password_link_opens_and_its_roadmap_can_be_followed(page, shared, product):
    link = sharing.share_link_create(product=product, label="Board", password="open sesame")
    page.goto(f"{page.base_url}/r/{link.token}/")
    expect(page.get_by_text("Exports to Excel")).to_have_count(0)

    page.get_by_label("Password").fill("not it")
    page.get_by_role("button", name="Open the roadmap").click()
    expect(page.get_by_role("alert")).to_have_text("That password is not right.")
    page.expected_errors.append("status of 400")
    page.get_by_label("Password").fill("open sesame")
    page.get_by_role("button", name="Open the roadmap").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Atlas")
    expect(page.get_by_text("Exports to Excel")).to_be_visible()
    page.screenshot(path=f"{SHOTS}/password-opened.png", full_page=True)
    # The unlocked page's own sign-up form works too.
    page.get_by_role("textbox", name="Email").fill("board@customer.example")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    assert [m.to for m in mail.outbox] == [["board@customer.example"]]


def test_feed_and_json_open_in_the_browser(page, shared, product):
    link = f.ShareLinkFactory(product=product)
    page.goto(f"{page.base_url}/r/{link.token}/")

    with page.expect_navigation() as feed:
        page.get_by_role("link", name="Atom feed").click()
    assert feed.value.status == 200
    parsed = feedparser.parse(feed.value.body())
    assert parsed.bozo == 0 and parsed.feed.title == "Atlas roadmap"
    [entry] = parsed.entries
    assert entry.title == "Added to the roadmap: Exports to Excel"
    # The entry's link leads to its item on the page.
    assert page.goto(entry.link).status == 200
    target = page.locator(":target")
    expect(target).to_have_count(1)
    expect(target.get_by_role("heading")).to_have_text("Exports to Excel")
    page.screenshot(path=f"{SHOTS}/feed-entry-target.png")
    page.goto(f"{page.base_url}/r/{link.token}/")
    with page.expect_navigation() as data:
        page.get_by_role("link", name="JSON").click()
    assert data.value.status == 200
    assert data.value.json()["product"]["name"] == "Atlas"


def test_the_link_is_never_sent_to_another_origin(page, shared, product):
    link = f.ShareLinkFactory(product=product)
    page.goto(f"{page.base_url}/r/{link.token}/")
    seen = []

    def elsewhere(route):
        seen.append(route.request.header_value("referer"))
        route.fulfill(status=200, content_type="text/html", body="<title>Elsewhere</title>")

    page.route("http://elsewhere.example/**", elsewhere)
    # A link to another origin without rel="noreferrer" (as a PM's Markdown might give).
    page.evaluate(
        """() => {
            const a = document.createElement("a");
            a.href = "http://elsewhere.example/page";
            a.textContent = "Elsewhere";
            document.body.append(a);
            a.click();
        }"""
    )
    page.wait_for_url("http://elsewhere.example/page")

    assert seen == [None]


def test_a_pm_is_told_which_embed_origin_is_refused(page, pm, product):
    log_in(page, pm)
    page.goto(f"{page.base_url}/products/{product.slug}/share/")

    page.get_by_label("Label").fill("Intranet")
    page.get_by_label("May be embedded by").fill("https://wiki.example.org\nhttps://*.com")
    page.get_by_role("button", name="Create share link").click()
    page.expected_errors.append("status of 400")

    expect(page.get_by_text("Line 2: “https://*.com” covers sites of many owners")).to_be_visible()
    expect(page.get_by_label("May be embedded by")).to_have_value(
        "https://wiki.example.org\nhttps://*.com"
    )
    page.screenshot(path=f"{SHOTS}/embed-origin-refused.png")
    assert not ShareLink.objects.exists()
