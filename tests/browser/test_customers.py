"""Customers and experiments in a real browser (issue 18): a PM adds a customer with its email
domains, meets the clash with another customer's domain in place, merges a duplicate, records an
experiment for a feature and finds it on the feature's page."""

import pytest
from playwright.sync_api import expect

from roadmap.evidence import services
from roadmap.models import Customer, Experiment, Insight
from tests import factories as f
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


def test_pm_adds_customers_meets_a_domain_clash_and_merges_a_duplicate(page, pm, product):
    globex = services.customer_save(
        product=product, data={"name": "Globex"}, domains=["globex.com"]
    )
    page.expected_errors = ["status of 400"]  # the refused form answers 400, as it should
    log_in(page, pm)
    page.goto(f"{page.base_url}/products/{product.slug}/customers/")
    expect(page.get_by_role("link", name="Customers", exact=True)).to_have_attribute(
        "aria-current", "page"
    )

    form = page.locator("form.records-form")
    form.get_by_label("Name").fill("Acme Corp")
    form.get_by_label("Annual revenue").fill("120000")
    form.get_by_label("Domains").fill("acme.com\nglobex.com")
    form.get_by_role("button", name="Add customer").click()

    # Refused in place: the error under the field, what was typed kept.
    domains = page.locator("form.records-form").get_by_label("Domains")
    expect(page.get_by_text("globex.com belongs to Globex.")).to_be_visible()
    expect(domains).to_have_attribute("aria-invalid", "true")
    expect(domains).to_have_value("acme.com\nglobex.com")
    assert not Customer.objects.filter(name="Acme Corp").exists()

    domains.fill("acme.com")
    page.locator("form.records-form").get_by_role("button", name="Add customer").click()
    expect(page.get_by_role("link", name="Acme Corp")).to_be_visible()
    expect(page.locator("tr", has=page.get_by_role("link", name="Acme Corp"))).to_contain_text(
        "120,000"
    )

    # Globex turns out to be Acme's: its evidence moves when merged.
    said = f.InsightFactory(product=product, company=globex, text="Offline, please")
    page.get_by_role("link", name="Globex").click()
    expect(page.get_by_text("Offline, please")).to_be_visible()
    page.get_by_label("Merge into").select_option(label="Acme Corp")
    page.get_by_role("button", name="Merge “Globex”").click()

    expect(page.get_by_role("heading", name="Acme Corp")).to_be_visible()
    expect(page.get_by_text("“Globex” merged into “Acme Corp”.")).to_be_visible()
    expect(page.get_by_text("Offline, please")).to_be_visible()
    expect(page.get_by_text("globex.com")).to_be_visible()
    assert Insight.objects.get(pk=said.pk).company.name == "Acme Corp"
    assert not Customer.objects.filter(name="Globex").exists()


def test_pm_records_an_experiment_and_sees_it_on_the_features_page(page, pm, product):
    f.FeatureFactory(product=product, title="Offline mode")
    f.FeatureFactory(product=product, title="Dark mode")
    log_in(page, pm)
    page.goto(f"{page.base_url}/products/{product.slug}/experiments/")

    form = page.locator("form.records-form")
    form.get_by_label("Hypothesis").fill("Field teams will pay for offline mode")
    form.get_by_label("Method").select_option(label="Fake door")
    form.get_by_label("Audience").fill("Field teams")
    form.get_by_label("Result").fill("**38%** clicked *Try offline*.")
    form.get_by_label("Decision").select_option(label="Go ahead")
    form.get_by_label("Offline mode").check()
    form.get_by_role("button", name="Record experiment").click()

    card = page.locator(".experiment").first
    expect(card).to_contain_text("Field teams will pay for offline mode")
    expect(card).to_contain_text("Go ahead")
    card.get_by_role("link", name="Offline mode", exact=True).click()

    block = page.locator("section", has=page.get_by_role("heading", name="Experiments"))
    expect(block).to_contain_text("Field teams will pay for offline mode")
    expect(block.locator("strong")).to_have_text("38%")
    assert Experiment.objects.get().features.get().title == "Offline mode"


def test_pm_edits_and_deletes_an_experiment_and_deletes_a_customer(page, pm, product):
    from roadmap.evidence import services

    experiment = services.experiment_save(
        product=product, data={"hypothesis": "Ops leads want a digest"}
    )
    services.customer_save(product=product, data={"name": "Initech"}, domains=["initech.com"])
    log_in(page, pm)
    page.goto(f"{page.base_url}/products/{product.slug}/experiments/")

    page.get_by_role("link", name="Edit “Ops leads want a digest”").click()
    page.get_by_label("Decision").select_option(label="Stop")
    page.get_by_role("button", name="Save experiment").click()
    expect(page.locator(".experiment").first).to_contain_text("Stop")
    page.get_by_role("link", name="Delete “Ops leads want a digest”").click()
    page.get_by_role("button", name="Delete experiment").click()
    expect(page.get_by_text("No experiments yet")).to_be_visible()
    assert not Experiment.objects.filter(pk=experiment.pk).exists()

    page.goto(f"{page.base_url}/products/{product.slug}/customers/")
    page.get_by_role("link", name="Initech").click()
    page.get_by_role("link", name="Delete Initech").click()
    page.get_by_role("button", name="Delete customer").click()
    expect(page.get_by_text("No customers yet")).to_be_visible()
    assert not Customer.objects.filter(name="Initech").exists()
