"""Strategy and launch in a real browser, as a PM tries them: write the positioning citing an
insight, compare with a competitor, read the business case, walk a release through its launch
checklist to "shipped" — and the stakeholders' digest says it shipped, once."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from roadmap.models import Comparison, LaunchTask, PositioningAnswer, Release
from roadmap.sharing.services.digests import digest_build, subscription_add
from tests import factories as f
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def launch_world(product, workspace):
    """A product with an insight, a competitor, a release of two external features under way
    (with revenue and cost), a two-task launch template and a customer following its roadmap."""
    f.InsightFactory(product=product, customer="Meridian", text="We drown in paperwork.")
    f.CompetitorFactory(product=product, name="Acme")
    release = f.ReleaseFactory(
        product=product,
        name="Spring release",
        target_date=timezone.localdate() + datetime.timedelta(days=20),
    )
    for title, public in (("SSO", "Single sign-on"), ("Audit", "Audit log")):
        feature = f.FeatureFactory(
            product=product,
            title=title,
            status="in_progress",
            expected_revenue=120000,
            cost=40000,
        )
        f.RoadmapItemFactory(
            product=product,
            feature=feature,
            release=release,
            visibility="external",
            external_title=public,
        )
    f.LaunchTemplateTaskFactory(
        workspace=workspace, team="marketing", title="Launch blog post", days_before_release=3
    )
    f.LaunchTemplateTaskFactory(
        workspace=workspace, team="support", title="Train support", days_before_release=5
    )
    link = f.ShareLinkFactory(product=product, audience="customers")
    subscription = subscription_add(product=product, share_link=link, email="cto@customer.example")
    return {"product": product, "release": release, "subscription": subscription}


def test_a_pm_positions_compares_and_ships_and_the_digest_says_so(page, pm, launch_world):
    product, release = launch_world["product"], launch_world["release"]
    since = timezone.now()
    log_in(page, pm)

    # Positioning: answer a question in place, citing the insight.
    page.goto(f"{page.base_url}/products/{product.slug}/strategy/")
    answer = page.locator("#q-problem")
    answer.get_by_role("link", name=re.compile("^Answer")).click()
    form = page.locator("form#q-problem")
    form.get_by_label("Answer").fill("Field teams lose **a day a week** to paperwork.")
    form.get_by_label(re.compile("Meridian")).check()
    form.get_by_role("button", name="Save answer").click()
    expect(page.locator("article#q-problem strong")).to_have_text("a day a week")
    expect(page.locator("article#q-problem blockquote")).to_have_text("We drown in paperwork.")
    assert page.url.endswith("/strategy/")  # saved in place
    assert PositioningAnswer.objects.get(question="problem").insights.count() == 1

    # Market: one select of the comparison grid, saved at once.
    page.goto(f"{page.base_url}/products/{product.slug}/strategy/market/")
    page.get_by_label("Acme on SSO").select_option("partial")
    expect(page.locator("td.st-grid__cell--partial .st-saved")).to_have_text("Saved")
    assert Comparison.objects.get().status == "partial"
    page.get_by_label("Market position of SSO").select_option("differentiator")
    expect(page.locator("td.st-grid__position .st-saved")).to_have_text("Saved")

    # Business case: the charts and the table by quarter.
    page.goto(f"{page.base_url}/products/{product.slug}/strategy/business-case/")
    expect(page.get_by_role("img", name=re.compile("Revenue vs. cost by quarter"))).to_be_visible()
    expect(page.locator("#by-release")).to_contain_text("Spring release")
    expect(page.locator("#by-release")).to_contain_text("240,000")

    # Launch: the checklist from the template, each task ticked off, then ship.
    page.goto(f"{page.base_url}/products/{product.slug}/releases/")
    page.get_by_role("link", name="Spring release").click()
    page.get_by_role("button", name="Create checklist from template").click()
    expect(page.locator(".st-task")).to_have_count(2)
    expect(page.locator("#readiness .st-readiness")).to_have_text("In progress")
    for title in ("Launch blog post", "Train support"):
        page.get_by_label(f"Done: {title}").check()
        row = page.locator(".st-task", has_text=title)
        expect(row).to_have_class(re.compile("st-task--done"))
    expect(page.locator("#readiness .st-readiness")).to_have_text("Ready to ship")
    assert LaunchTask.objects.filter(done_at__isnull=True).count() == 0
    page.get_by_role("button", name="Ship release").click()
    expect(page.get_by_text("“Spring release” shipped: 2 items moved to shipped.")).to_be_visible()
    assert Release.objects.get(pk=release.pk).status == "released"

    # The customers' digest tells each shipped item once.
    digest = digest_build(
        subscription=launch_world["subscription"],
        since=since,
        until=timezone.now() + datetime.timedelta(seconds=1),
    )
    assert digest is not None
    assert digest.text.count("Single sign-on — Shipped") == 1
    assert digest.text.count("Audit log — Shipped") == 1
