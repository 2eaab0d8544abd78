"""A rating round end to end in Chromium: the PM starts a round with two raters, each rater
finds it (by email, on the home page) and submits blind, the PM sees the medians and the
disagreement and accepts the consensus, and the feature's value and history change."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accounts.models import Role
from roadmap.models import Feature
from tests import factories as f
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


def _rate(page, reach: str, confidence: str, impact: str) -> None:
    page.get_by_label("Reach of “Offline mode”").fill(reach)
    page.get_by_label("Confidence of “Offline mode”").fill(confidence)
    page.get_by_label("Impact of “Offline mode”").select_option(impact)
    page.get_by_role("button", name="Submit ratings").click()
    expect(page.get_by_text(re.compile(r"Ratings submitted \(3 values\)"))).to_be_visible()


def test_a_round_from_start_to_accepted_consensus(
    browser, page, live_server, product, workspace, pm, mailoutbox, settings
):
    # Given a feature with a reach of 100 and two colleagues
    settings.SITE_URL = live_server.url
    feature = f.FeatureFactory(product=product, title="Offline mode", reach=100)
    ada, bo = (
        f.MembershipFactory(workspace=workspace, role=role, user__display_name=name).user
        for name, role in (("Ada", Role.VIEWER), ("Bo", Role.EDITOR))
    )
    log_in(page, pm)

    # When the PM starts a round from the product's Rating tab
    page.goto(page.base_url + reverse("roadmap:product", kwargs={"slug": product.slug}))
    page.get_by_role("navigation", name=product.name).get_by_role("link", name="Rating").click()
    page.get_by_label("Name").fill("Q3 planning")
    page.get_by_role("checkbox", name="Offline mode").check()
    page.get_by_role("checkbox", name="Ada").check()
    page.get_by_role("checkbox", name="Bo").check()
    page.screenshot(path="/tmp/rating-new.png", full_page=True)
    page.get_by_role("button", name="Start round").click()

    # Then the round is started and each rater is emailed a link to their sheet
    expect(page.get_by_text("Rating round “Q3 planning” started")).to_be_visible()
    assert sorted(m.to[0] for m in mailoutbox) == sorted([ada.email, bo.email])
    link = re.search(r"http://\S+/rate/", next(m for m in mailoutbox if m.to == [ada.email]).body)
    assert link is not None

    # When Ada follows the email's link and rates
    ada_page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    ada_page.base_url = live_server.url
    log_in(ada_page, ada)
    ada_page.goto(link.group(0))
    # (blind: the feature's current reach is nowhere on her sheet)
    expect(ada_page.get_by_label("Reach of “Offline mode”")).to_have_value("")
    ada_page.screenshot(path="/tmp/rating-sheet.png", full_page=True)
    _rate(ada_page, reach="1000", confidence="20", impact="2")

    # And Bo finds the round on his home page and rates
    bo_page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    bo_page.base_url = live_server.url
    log_in(bo_page, bo)
    bo_page.goto(bo_page.base_url + reverse("roadmap:home"))
    expect(bo_page.get_by_role("heading", name="You have 1 rating round to rate")).to_be_visible()
    bo_page.get_by_role("link", name="Q3 planning").click()
    _rate(bo_page, reach="1200", confidence="90", impact="2")

    # Then the PM sees both values, the medians and the disagreement on confidence
    results = Feature.objects.get(pk=feature.pk).rating_rounds.get().get_absolute_url()
    page.goto(page.base_url + results)
    expect(page.get_by_text("2 of 2 raters submitted")).to_be_visible()
    expect(page.locator("#disagreements")).to_have_text("1 disagreement")
    expect(page.get_by_label("Reach to accept for “Offline mode”")).to_have_value("1100")
    page.screenshot(path="/tmp/rating-results.png", full_page=True)

    # When the PM accepts the consensus
    page.get_by_role("button", name="Accept all").click()

    # Then the feature's reach is the median, and its history says where it came from
    expect(page.get_by_text("Accepted: 1 feature changed")).to_be_visible()
    assert Feature.objects.get(pk=feature.pk).reach == 1100
    page.goto(page.base_url + reverse("roadmap:feature", args=[feature.pk]))
    expect(page.locator("#history")).to_contain_text("from rating round “Q3 planning”")
    page.screenshot(path="/tmp/rating-history.png", full_page=True)
    ada_page.context.close()
    bo_page.context.close()
