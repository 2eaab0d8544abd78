"""The value vs. effort matrix in Chromium: a product's only feature, valuable and cheap, is a
quick win, and its dot is drawn whole inside the chart."""

from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from roadmap.planning.services.scoring import product_recompute_scores
from tests import factories as f
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots-tableui")


def _inside(inner: dict, outer: dict) -> bool:
    return (
        outer["x"] <= inner["x"]
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"]
        and outer["y"] <= inner["y"]
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"]
    )


@pytest.mark.parametrize("reach", [1000, 900])
def test_a_lone_valuable_cheap_feature_is_a_quick_win_drawn_whole(page, pm, product, reach):
    feature = f.FeatureFactory(
        product=product,
        title="Export to Excel",
        reach=reach,
        impact=Decimal("3.00"),
        confidence=100,
        effort=Decimal("0.5"),
    )
    product_recompute_scores(product_id=product.pk)
    log_in(page, pm)

    page.goto(page.base_url + reverse("roadmap:matrix", kwargs={"slug": product.slug}))

    point = page.locator(f'.matrix__point[data-feature="{feature.pk}"]')
    SHOTS.mkdir(exist_ok=True)
    page.locator(".matrix").screenshot(path=str(SHOTS / f"matrix-one-{reach}.png"))
    svg = page.locator(".matrix__chart").bounding_box()
    dot = point.locator("circle")
    # Hovered, the dot's outline is at its widest.
    dot.hover()
    dot_box = dot.bounding_box()
    assert _inside(dot_box, svg), (dot_box, svg)
    plot = page.locator(".matrix__quadrant--quick_wins").bounding_box()
    assert plot["width"] > 0 and plot["height"] > 0
    expect(point).to_have_attribute("data-quadrant", "quick_wins")
    expect(page.locator(".matrix__quadrant-list")).to_contain_text("Quick wins · 1")
