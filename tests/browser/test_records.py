"""Records pages in a real browser: the insights inbox adds without a reload, and the matrix's
points lead to their features."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests import factories as f
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


def test_pm_adds_an_insight_linked_to_a_feature_without_a_reload(page, pm, product):
    f.FeatureFactory(product=product, title="Offline mode")
    f.FeatureFactory(product=product, title="CSV export")
    f.InsightFactory(product=product, text="An older quote", customer="Initech")
    log_in(page, pm)
    page.goto(f"{page.base_url}/products/{product.slug}/insights/")
    # A marker on the page survives only if the page is not reloaded.
    page.evaluate("window.notReloaded = true")

    page.get_by_label("Quote or note").fill("We need our reports as CSV every Monday.")
    page.get_by_label("Customer or account").fill("Acme Corp")
    page.locator("#id_source").select_option("call")
    checklist = page.locator("#insight-add [data-checklist]")
    checklist.get_by_placeholder("Filter 2 features…").fill("csv")
    expect(checklist.get_by_text("Offline mode")).to_be_hidden()
    checklist.get_by_label("CSV export").check()
    page.get_by_role("button", name="Add insight").click()

    newest = page.locator("#insight-items > li").first
    expect(newest).to_contain_text("We need our reports as CSV every Monday.")
    expect(newest).to_contain_text("Acme Corp")
    expect(newest.get_by_role("link", name="CSV export")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Added the insight")).to_be_visible()
    expect(page.locator("#insight-items > li")).to_have_count(2)
    # The form is ready for the next quote from the same conversation.
    expect(page.get_by_label("Quote or note")).to_have_value("")
    expect(page.get_by_label("Customer or account")).to_have_value("Acme Corp")
    assert page.evaluate("window.notReloaded") is True


def test_pm_clicks_a_point_of_the_matrix_and_lands_on_its_feature(page, pm, product):
    target = f.FeatureFactory(
        product=product, title="Offline mode", reach=500, effort=Decimal("1.00")
    )
    f.FeatureFactory(product=product, title="Big rewrite", reach=50, effort=Decimal("9.00"))
    log_in(page, pm)
    page.goto(f"{page.base_url}/products/{product.slug}/matrix/")

    point = page.locator(f'a.matrix__point[data-feature="{target.pk}"]')
    expect(point).to_have_attribute("data-quadrant", "quick_wins")
    point.locator("circle").click()

    page.wait_for_url(f"**/features/{target.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Offline mode")
