"""A PM imports features from a CSV file in a real browser: upload, preview, confirm."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from roadmap.models import Feature
from tests import factories as f
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


def test_pm_imports_the_valid_rows_of_a_file_with_an_error(page, pm, product, tmp_path):
    # given a product with one feature and a CSV that updates it, adds two and has a bad row
    existing = f.FeatureFactory(product=product, title="Threshold alerts", reach=100)
    upload = tmp_path / "features.csv"
    upload.write_text(
        "id,title,status,reach,confidence\n"
        f"{existing.pk},Threshold alerts,planned,250,80\n"
        ",Slack notifications,idea,40,50\n"
        ",Overconfident idea,idea,10,150\n"
        ",Dashboard templates,discovery,,\n",
        encoding="utf-8",
    )
    log_in(page, pm)

    # when the PM opens the import page and uploads the file
    page.goto(page.base_url + reverse("roadmap:features_import", args=[product.slug]))
    expect(page.get_by_role("heading", name="Import features from CSV")).to_be_visible()
    page.get_by_label("CSV file").set_input_files(upload)
    page.get_by_role("button", name="Preview import").click()

    # then the preview names the bad row, its column and the problem, and saved nothing yet
    errors = page.get_by_role("region", name="Rows with errors")
    expect(errors).to_contain_text("Overconfident idea")
    expect(errors).to_contain_text("Confidence is a percentage between 0 and 100.")
    expect(errors.get_by_role("rowheader")).to_have_text("4")
    expect(page.get_by_role("region", name="New features")).to_contain_text("Slack notifications")
    expect(page.get_by_role("region", name="Updated features")).to_contain_text("250")
    assert Feature.objects.filter(product=product).count() == 1

    # when the PM chooses to import only the valid rows and confirms
    page.get_by_label("Import only the valid rows").check()
    page.get_by_role("button", name="Import 3 features").click()

    # then the table lists the new features, with a summary of what was skipped
    page.wait_for_url(page.base_url + product.get_absolute_url())
    expect(page.get_by_text("Skipped 1 row with errors: 4.")).to_be_visible()
    expect(page.get_by_text("Slack notifications").first).to_be_visible()
    expect(page.get_by_text("Dashboard templates").first).to_be_visible()
    assert not Feature.objects.filter(title="Overconfident idea").exists()
    existing.refresh_from_db()
    assert existing.reach == 250


def test_an_upload_over_the_request_cap_says_so_and_keeps_the_form(
    page, pm, product, tmp_path, settings
):
    settings.MAX_REQUEST_BYTES = 64 * 1024
    page.expected_errors = ["413"]
    upload = tmp_path / "huge.csv"
    upload.write_text("title\n" + "A feature\n" * 10_000, encoding="utf-8")  # ~100 KB
    log_in(page, pm)
    page.goto(page.base_url + reverse("roadmap:features_import", args=[product.slug]))

    page.get_by_label("CSV file").set_input_files(upload)
    page.get_by_role("button", name="Preview import").click()

    alert = page.locator("#request-error")
    expect(alert).to_be_visible()
    expect(alert).to_have_text(re.compile("That was too large to send. Nothing was saved."))
    expect(page.get_by_role("button", name="Preview import")).to_be_enabled()
    assert not Feature.objects.filter(product=product).exists()

    alert.get_by_role("button", name="Dismiss").click()
    expect(alert).to_be_hidden()


def test_pm_imports_custom_field_columns_and_the_values_land(page, pm, product, tmp_path):
    # given a product with a choice, a number and a yes/no field, a feature with a tier, and a
    # CSV that changes that feature's fields and adds a feature with all three
    from roadmap.models import FeatureFieldValue
    from roadmap.planning.services import fields as field_services

    tier = field_services.custom_field_save(
        product=product, name="Tier", kind="choice", choices=[("Gold", 3), ("Silver", 2)]
    )
    deal = field_services.custom_field_save(product=product, name="Deal size", kind="number")
    renewal = field_services.custom_field_save(product=product, name="Renewal", kind="yes_no")
    existing = f.FeatureFactory(product=product, title="Threshold alerts")
    FeatureFieldValue.objects.create(
        feature=existing, field=tier, choice=tier.choices.get(label="Silver")
    )
    upload = tmp_path / "fields.csv"
    upload.write_text(
        "id,title,field: Tier,Field: deal size,field: Renewal\n"
        f"{existing.pk},Threshold alerts,gold,1250.5,yes\n"
        ",Audit log,Silver,300,no\n",
        encoding="utf-8",
    )
    log_in(page, pm)

    # when the PM uploads it on the import page
    page.goto(page.base_url + reverse("roadmap:features_import", args=[product.slug]))
    expect(page.get_by_text("field: Tier", exact=True)).to_be_attached()  # explained, folded
    page.get_by_label("CSV file").set_input_files(upload)
    page.get_by_role("button", name="Preview import").click()

    # then the preview shows the field changes, and nothing is saved yet
    updated = page.get_by_role("region", name="Updated features")
    expect(updated).to_contain_text("field: Tier")
    expect(updated).to_contain_text("Silver")
    expect(updated).to_contain_text("Gold")
    expect(page.get_by_role("region", name="New features")).to_contain_text("Audit log")
    assert FeatureFieldValue.objects.filter(feature=existing).count() == 1

    # when the PM confirms
    page.get_by_role("button", name="Import 2 features").click()
    page.wait_for_url(page.base_url + product.get_absolute_url())

    # then each value is stored on its feature, and the feature's page shows them
    audit = product.features.get(title="Audit log")

    def stored(feature):
        return {
            v.field_id: (v.choice.label if v.choice_id else v.value)
            for v in FeatureFieldValue.objects.filter(feature=feature).select_related("choice")
        }

    assert stored(existing) == {tier.pk: "Gold", deal.pk: Decimal("1250.50"), renewal.pk: 1}
    assert stored(audit) == {tier.pk: "Silver", deal.pk: Decimal("300"), renewal.pk: 0}
    page.goto(page.base_url + reverse("roadmap:feature", args=[existing.pk]))
    facts = page.get_by_label("Custom fields")
    expect(facts).to_contain_text("Gold")
    expect(facts).to_contain_text("1250.5")
    expect(facts).to_contain_text("Yes")
