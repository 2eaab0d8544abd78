"""A driver fed by the evidence, set up in a real browser (issue 18): the PM adds it on the
settings page and the feature's score follows its customers."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from roadmap.models import Feature, ScoringDriver
from roadmap.planning.services.scoring import product_recompute_scores
from tests import factories as f
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


def test_pm_adds_a_driver_fed_by_distinct_customers(page, pm, workspace):
    product = f.ProductFactory(workspace=workspace, scoring_framework="weighted")
    feature = f.FeatureFactory(product=product, title="Offline mode")
    fit = f.ScoringDriverFactory(product=product, name="Strategic fit", weight=Decimal("1"))
    f.FeatureDriverScoreFactory(feature=feature, driver=fit, score=8)
    for company in ("Acme", "Globex", "Initech", "Umbrella", "Hooli"):
        f.InsightFactory(product=product, customer=company).features.add(feature)
    product_recompute_scores(product_id=product.pk)
    log_in(page, pm)
    page.goto(f"{page.base_url}/products/{product.slug}/settings/#drivers")

    add = page.locator("form.settings-add", has=page.get_by_role("button", name="Add driver"))
    add.get_by_label("Name").fill("Demand")
    add.get_by_label("Weight").fill("1")
    add.get_by_label("Scored").select_option(label="Distinct customers asking (from evidence)")
    add.get_by_label("Full scale").fill("10")
    add.get_by_role("button", name="Add driver").click()

    expect(page.locator('[data-row="Demand"]')).to_be_visible()
    demand = ScoringDriver.objects.get(product=product, name="Demand")
    assert (demand.source, demand.full_scale) == ("customers", Decimal("10"))
    # 5 customers of a full scale of 10 score 5; with Strategic fit's 8: (8 + 5) / 2.
    page.goto(f"{page.base_url}/features/{feature.pk}/")
    expect(page.locator("body")).to_contain_text("6.5")
    assert Feature.objects.get(pk=feature.pk).score == pytest.approx(6.5)
