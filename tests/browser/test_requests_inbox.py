"""The PM triages requests in Chromium: merges two into one, links the survivor to a feature,
sees the demand counted on the feature page, ships the feature, and each requester gets one
"it's live" email."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from roadmap.models import FeatureRequest, RequestStatus
from roadmap.portal import services
from tests import factories as f
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


def test_the_pm_merges_two_requests_links_the_survivor_and_sees_the_counts(
    page, live_server, product, pm, mailoutbox
):
    # Given two confirmed requests for the same thing, from two people, and a feature
    offline = f.FeatureFactory(product=product, title="Offline mode")
    # On the external roadmap: the "it's live" mail tells its public title.
    f.RoadmapItemFactory(product=product, feature=offline, visibility="external")
    survivor = services.request_import(
        product=product, title="Work offline", email="ana@acme.example"
    )
    duplicate = services.request_import(
        product=product, title="Use it on a plane", email="li@globex.example"
    )
    log_in(page, pm)

    # When the PM opens the inbox from the product's tabs
    page.goto(page.base_url + reverse("roadmap:product", kwargs={"slug": product.slug}))
    page.get_by_role("link", name="Requests 2 new").click()
    expect(page.locator("#requests-summary")).to_have_text("2 requests")
    page.screenshot(path="/tmp/inbox.png", full_page=True)

    # And merges the duplicate into the survivor
    page.get_by_role("link", name="Use it on a plane").click()
    page.get_by_label("Merge into", exact=True).select_option(label="Work offline")
    page.get_by_role("button", name="Merge (this one is the duplicate)").click()
    # Then they land on the survivor, with both requesters
    expect(page.get_by_role("heading", name="Work offline")).to_be_visible()
    expect(page.get_by_text("li@globex.example")).to_be_visible()
    expect(page.get_by_text("ana@acme.example")).to_be_visible()

    # When they link the survivor to the feature
    page.get_by_label("Feature", exact=True).select_option(label="Offline mode")
    page.get_by_role("button", name="Link to this feature").click()
    expect(page.get_by_text("Linked to the feature.")).to_be_visible()
    page.get_by_role("link", name="Offline mode").first.click()

    # Then the feature page counts the two requesters and lists the request
    expect(page.locator("#demand-counts")).to_have_text("0 votes · 2 requesters")
    expect(page.locator("#demand").get_by_role("link", name="Work offline")).to_be_visible()
    duplicate.refresh_from_db()
    survivor.refresh_from_db()
    assert (duplicate.status, survivor.status) == (RequestStatus.MERGED, RequestStatus.LINKED)
    assert FeatureRequest.objects.get(pk=survivor.pk).requesters.count() == 2

    # When the PM ships the feature from its edit page
    mailoutbox.clear()
    page.get_by_role("link", name="Edit").first.click()
    page.get_by_label("Status", exact=True).select_option(label="Shipped")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#demand")).to_contain_text("2 told it's live so far.")

    # Then each requester gets one email saying so, and pressing the button again sends none
    live = [m for m in mailoutbox if "it's live" in m.subject]
    assert sorted(m.to[0] for m in live) == ["ana@acme.example", "li@globex.example"]
    assert all(m.subject == "You asked for Offline mode — it's live" for m in live)
    page.get_by_role("button", name="Tell requesters it's live").click()
    expect(page.locator("#demand")).to_contain_text("2 told it's live so far.")
    assert len([m for m in mailoutbox if "it's live" in m.subject]) == 2
