"""A PM imports features from a CSV file in a real browser: upload, preview, confirm."""

import re

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
