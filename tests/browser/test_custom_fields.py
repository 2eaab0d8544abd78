"""Custom fields in a real browser (issue 19): the PM adds a choice field in the product's
settings, sets it on a feature through its edit form, and writes a formula that reads it."""

import pytest
from playwright.sync_api import expect

from roadmap.models import CustomField
from tests import factories as f
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


def test_pm_adds_a_choice_field_sets_it_on_a_feature_and_scores_by_it(page, pm, product):
    feature = f.FeatureFactory(product=product, title="Audit log")
    log_in(page, pm)

    # Settings: a choice field with two choices, added in place
    page.goto(f"{page.base_url}/products/{product.slug}/settings/")
    add = page.get_by_role("form", name="Add a custom field")
    add.get_by_label("Name").fill("Segment")
    add.get_by_label("Kind").select_option("Choice")
    add.get_by_label("Choices").fill("Enterprise = 3\nSMB = 1")
    add.get_by_role("button", name="Add custom field").click()
    fields = page.locator("#fields")
    expect(fields).to_contain_text("Custom field “Segment” added.")
    expect(fields.locator('[data-row="Segment"]')).to_be_visible()
    assert list(CustomField.objects.get().choices.values_list("label", flat=True)) == [
        "Enterprise",
        "SMB",
    ]

    # The feature's edit form: Segment is a select of its choices
    page.goto(f"{page.base_url}/features/{feature.pk}/edit/")
    page.get_by_label("Segment").select_option("Enterprise")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status").first).to_contain_text("“Audit log” saved.")
    expect(page.locator("main")).to_contain_text("Enterprise")

    # The formula page offers it by its key; a formula reading it scores the feature
    page.goto(f"{page.base_url}/products/{product.slug}/settings/formula/")
    expect(page.locator(".formula-names")).to_contain_text("segment")
    page.get_by_label("Formula", exact=True).fill("segment * 10")
    expect(page.locator("#formula-status")).to_contain_text("Reads segment.")
    page.get_by_role("button", name="Save and use").click()
    expect(page.get_by_role("status").first).to_contain_text("Formula v1 saved and in use.")

    page.goto(f"{page.base_url}/features/{feature.pk}/")
    expect(page.locator("main")).to_contain_text("segment = 3 (custom field)")
    feature.refresh_from_db()
    assert feature.score == 30.0
