"""A product's own formula in a real browser (issue 19), as the issue tries it: the PM types the
formula, sees a mistake pointed out in place as they type, previews the ranking it gives beside
today's, saves it and watches the table reorder."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from roadmap.models import Customer, ScoringFormulaVersion
from roadmap.planning.services.scoring import product_recompute_scores
from tests import factories as f
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser

ISSUE = "reach * impact * confidence / 100 / effort * (1 + at_stake / 100000)"


def test_pm_writes_previews_and_saves_a_formula_and_the_table_reorders(page, pm, product):
    # Given: by RICE, "Wide reach" leads; "Big account" is asked for by a $900k customer
    wide = f.FeatureFactory(product=product, title="Wide reach", reach=1000, effort=Decimal("2"))
    big = f.FeatureFactory(product=product, title="Big account", reach=400, effort=Decimal("2"))
    customer = Customer.objects.create(
        product=product, name="Acme", annual_revenue=Decimal("900000")
    )
    f.InsightFactory(product=product, customer="Acme", company=customer).features.add(big)
    product_recompute_scores(product_id=product.pk)
    log_in(page, pm)
    page.goto(f"{page.base_url}/products/{product.slug}/settings/formula/")
    editor = page.get_by_label("Formula", exact=True)
    status = page.locator("#formula-status")

    # A typo is pointed out as the PM types: what, and where
    editor.fill("reach * impact * confidance")
    expect(status).to_contain_text("Unknown name “confidance”")
    expect(status).to_contain_text("line 1, column 18")
    expect(status.locator(".formula-status__where")).to_contain_text("^")

    # The issue's formula reads cleanly
    editor.fill(ISSUE)
    expect(status).to_contain_text("Reads reach, impact, confidence, effort, at_stake.")

    # Preview: Big account moves up past Wide reach; nothing is saved
    page.get_by_role("button", name="Preview ranking").click()
    preview = page.locator("#preview")
    expect(preview).to_contain_text("2 of 2 open features would change rank.")
    first = preview.locator("tbody tr").first
    expect(first).to_contain_text("Big account")
    expect(first).to_contain_text("↑ 1")
    expect(editor).to_have_value(ISSUE)
    assert not ScoringFormulaVersion.objects.exists()

    # Save: the product uses it, and the table shows the new order
    page.get_by_role("button", name="Save and use").click()
    expect(page.get_by_role("status").first).to_contain_text("Formula v1 saved and in use.")
    expect(page.locator("#versions")).to_contain_text("Version 1")
    page.goto(page.base_url + product.get_absolute_url())
    rows = page.locator("#feature-rows tr")
    expect(rows.first).to_contain_text("Big account")
    expect(rows.nth(1)).to_contain_text("Wide reach")
    wide.refresh_from_db()
    big.refresh_from_db()
    assert (big.rank, wide.rank) == (1, 2)
    assert big.score == pytest.approx(400 * 0.8 / 2 * 10)


def test_saving_a_broken_formula_without_javascript_keeps_the_text_and_says_where(
    browser, live_server, pm, product
):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.base_url = live_server.url
    try:
        log_in(page, pm)
        page.goto(f"{page.base_url}/products/{product.slug}/settings/formula/")
        page.get_by_label("Formula", exact=True).fill("reach *\n  (impact")
        page.get_by_role("button", name="Save and use").click()

        expect(page.locator("#formula-status")).to_contain_text("line 2, column 10")
        expect(page.get_by_label("Formula", exact=True)).to_have_value("reach *\n  (impact")
        expect(page.get_by_label("Formula", exact=True)).to_have_attribute("aria-invalid", "true")
    finally:
        context.close()
    product.refresh_from_db()
    assert product.scoring_formula == ""
