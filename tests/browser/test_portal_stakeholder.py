"""A stakeholder on a share link, in Chromium: votes for an item, asks for something, confirms
by the emailed link, and follows where both stand; their next vote counts at once."""

import re

import pytest
from django.core import mail
from django.urls import reverse
from playwright.sync_api import expect

from roadmap.models import FeatureRequest, Vote
from roadmap.portal import services
from roadmap.sharing.services.sharing import share_link_create
from tests import factories as f

pytestmark = pytest.mark.browser


def _href(message) -> str:
    html = message.alternatives[0][0]
    return re.search(r'href="([^"]+/portal/confirm/[^"]+)"', html).group(1)


def test_a_stakeholder_votes_asks_confirms_and_follows_the_statuses(
    page, live_server, product, settings
):
    # Given a roadmap with two open items, shared on a link that takes feedback
    settings.SITE_URL = live_server.url  # the emails' links lead to the live server
    f.RoadmapItemFactory(
        product=product,
        feature=f.FeatureFactory(product=product, title="Codename Ghost", status="planned"),
        visibility="external",
        external_title="Offline mode",
    )
    f.RoadmapItemFactory(
        product=product,
        feature=f.FeatureFactory(product=product, status="in_progress"),
        visibility="external",
        external_title="Dark theme",
        horizon="next",
    )
    link = share_link_create(
        product=product, label="Customers", audience="customers", allow_feedback=True
    )
    roadmap = page.base_url + reverse("external:roadmap", kwargs={"token": link.token})

    # When the stakeholder wants "Offline mode", with a note
    page.goto(roadmap)
    item = page.locator("li.x-item", has_text="Offline mode")
    item.get_by_text("I want this").first.click()
    item.get_by_label("Why it matters to you").fill("Our field team works offline.")
    item.get_by_label("Your email").fill("ana@acme.example.org")
    item.get_by_role("button", name="I want this").click()
    # Then they are asked to confirm first
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()

    # When they also ask for something that is not on the roadmap
    page.goto(roadmap)
    page.get_by_label("What do you need?").fill("Export to PDF")
    page.get_by_label("Tell us more").fill("For our board packs.")
    page.get_by_label("How important is it to you?").select_option(label="High")
    page.locator("#request-email").fill("ana@acme.example.org")
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    assert Vote.objects.get().confirmed_at is None

    # And confirm by the link in the email (opening it confirms nothing; the button does)
    assert [m.to for m in mail.outbox] == [["ana@acme.example.org"]] * 2
    page.goto(_href(mail.outbox[-1]))
    assert Vote.objects.get().confirmed_at is None
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Confirmed")).to_be_visible()
    page.get_by_role("link", name="Back to the roadmap").click()

    # Then the roadmap shows their vote and their request, in the words outsiders read
    mine = page.locator("#mine")
    expect(mine.locator("li", has_text="Offline mode")).to_contain_text("Planned")
    expect(mine.locator("li", has_text="Export to PDF")).to_contain_text("Received")
    expect(item.get_by_text("You want this")).to_be_visible()
    assert "Codename Ghost" not in page.content()
    page.screenshot(path="/tmp/portal.png", full_page=True)

    # When the PM links the request to a feature in progress (shown on the roadmap)
    request = FeatureRequest.objects.get()
    shown = f.FeatureFactory(product=product, status="in_progress")
    f.RoadmapItemFactory(product=product, feature=shown, visibility="external")
    services.request_link(request=request, feature=shown)
    page.reload()
    # Then the stakeholder reads it as in progress
    expect(mine.locator("li", has_text="Export to PDF")).to_contain_text("In progress")

    # And their next vote counts at once, without another email
    dark = page.locator("li.x-item", has_text="Dark theme")
    dark.get_by_text("I want this").first.click()
    expect(dark.get_by_label("Your email")).to_have_count(0)
    dark.get_by_role("button", name="I want this").click()
    expect(page.get_by_role("status")).to_contain_text("Your vote counts")
    expect(dark.get_by_text("You want this")).to_be_visible()
    assert len(mail.outbox) == 2
    assert Vote.objects.filter(confirmed_at__isnull=False).count() == 2

    # And they can take it back
    dark.get_by_role("button", name="Remove my vote").click()
    expect(page.get_by_role("status")).to_contain_text("Your vote is removed")
    assert Vote.objects.count() == 1
