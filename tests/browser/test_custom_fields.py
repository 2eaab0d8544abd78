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


def _names(page) -> list[str]:
    return page.locator("#fields [data-row]").evaluate_all(
        "rows => rows.map(row => row.dataset.row)"
    )


def test_pm_reorders_custom_fields_with_the_arrows(page, pm, product):
    from roadmap.planning.services import fields as field_services

    for name in ("Tier", "Deal size", "Renewal"):
        field_services.custom_field_save(product=product, name=name, kind="number")
    log_in(page, pm)
    page.goto(f"{page.base_url}/products/{product.slug}/settings/")
    fields = page.locator("#fields")

    # the first field cannot go up, the last cannot go down
    expect(fields.get_by_role("button", name="Move custom field Tier up")).to_be_disabled()
    expect(fields.get_by_role("button", name="Move custom field Renewal down")).to_be_disabled()

    # Renewal up (htmx swaps the card in place), then Tier down
    fields.get_by_role("button", name="Move custom field Renewal up").click()
    expect(fields).to_contain_text("Custom field “Renewal” moved up.")
    assert _names(page) == ["Tier", "Renewal", "Deal size"]
    fields.get_by_role("button", name="Move custom field Tier down").click()
    expect(fields).to_contain_text("Custom field “Tier” moved down.")
    expect(fields.get_by_role("button", name="Move custom field Renewal up")).to_be_disabled()
    assert _names(page) == ["Renewal", "Tier", "Deal size"]
    assert list(CustomField.objects.values_list("name", flat=True)) == [
        "Renewal",
        "Tier",
        "Deal size",
    ]

    # the feature's form asks for them in that order
    feature = f.FeatureFactory(product=product)
    page.goto(f"{page.base_url}/features/{feature.pk}/edit/")
    labels = page.locator("label").all_inner_texts()
    shown = [text.strip() for text in labels if text.strip() in ("Renewal", "Tier", "Deal size")]
    assert shown == ["Renewal", "Tier", "Deal size"]


def test_pm_reorders_custom_fields_without_javascript(browser, live_server, pm, product):
    from roadmap.planning.services import fields as field_services

    for name in ("Tier", "Deal size"):
        field_services.custom_field_save(product=product, name=name, kind="number")
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.base_url = live_server.url
    try:
        log_in(page, pm)
        page.goto(f"{page.base_url}/products/{product.slug}/settings/")
        page.get_by_role("button", name="Move custom field Deal size up").click()

        # a plain POST, answered with the settings page again at the fields
        page.wait_for_url(f"{page.base_url}/products/{product.slug}/settings/#fields")
        expect(page.get_by_role("status").first).to_contain_text(
            "Custom field “Deal size” moved up."
        )
        assert _names(page) == ["Deal size", "Tier"]
    finally:
        context.close()
    assert list(CustomField.objects.values_list("name", flat=True)) == ["Deal size", "Tier"]
