"""The prioritization table's layout in Chromium, measured: nothing shifts after the page loads
(Cumulative Layout Shift), an error in a cell does not widen its column, and at a 1,280 px
laptop width every column can be reached inside the table's own scroll box."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from roadmap.planning.services.scoring import product_recompute_scores
from tests import factories as f
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots-tableui")

# The layout shifts seen since navigation began (buffered), summed as Chromium's CLS does
# for a page this short-lived: every shift not caused by the reader's own input.
CLS = """() => new Promise((resolve) => {
  let total = 0;
  const sources = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.hadRecentInput) continue;
      total += entry.value;
      for (const s of entry.sources || []) sources.push(s.node?.outerHTML?.slice(0, 80));
    }
  }).observe({ type: "layout-shift", buffered: true });
  setTimeout(() => resolve({ total, sources }), 1500);
})"""


@pytest.fixture
def backlog(product):
    for title, reach in (("Audit log", 300), ("Dark mode", 200), ("SSO", 100)):
        f.FeatureFactory(product=product, title=title, reach=reach)
    product_recompute_scores(product_id=product.pk)


def _shot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _header_width(page, key: str) -> float:
    return page.locator(f"#col-{key}").evaluate("th => th.getBoundingClientRect().width")


@pytest.mark.parametrize("width", [1024, 1280, 1440])
def test_nothing_shifts_after_the_table_loads(page, pm, product, width):
    # Enough rows to fill the screen: a shift counts for the area it moves.
    for i in range(30):
        f.FeatureFactory(product=product, title=f"Feature {i:02}", reach=100 + i)
    product_recompute_scores(product_id=product.pk)
    page.set_viewport_size({"width": width, "height": 800})
    log_in(page, pm)

    page.goto(page.base_url + product.get_absolute_url())
    result = page.evaluate(CLS)

    assert result["total"] < 0.01, result
    expect(page.locator("#bulk-form")).to_contain_text("Tick rows to edit them together")


def test_an_error_in_a_cell_does_not_widen_its_column(page, pm, product, backlog):
    log_in(page, pm)
    page.goto(page.base_url + product.get_absolute_url())
    widths = {key: _header_width(page, key) for key in ("confidence", "reach", "title")}
    cell = page.get_by_role("textbox", name="Conf. % SSO")

    cell.fill("250")
    cell.press("Enter")

    expect(cell).to_have_attribute("aria-invalid", "true")
    error = page.locator("#feature-rows").get_by_text(
        "Confidence is a percentage between 0 and 100."
    )
    expect(error).to_be_visible()
    _shot(page, "cell-error")
    for key, before in widths.items():
        assert abs(_header_width(page, key) - before) <= 1, key
    # The whole message is readable, not clipped by its narrow column.
    box = error.bounding_box()
    assert box["width"] > 0
    assert error.evaluate("e => e.scrollWidth <= e.clientWidth + 1")


@pytest.mark.parametrize("width", [1280, 1440])
def test_every_column_is_reachable_at_a_laptop_width(page, pm, product, backlog, width):
    # A backlog taller than the screen: the table box's own scrollbar is below the fold.
    for i in range(20):
        f.FeatureFactory(product=product, title=f"Feature {i:02}", reach=10 + i)
    product_recompute_scores(product_id=product.pk)
    page.set_viewport_size({"width": width, "height": 800})
    log_in(page, pm)

    page.goto(page.base_url + product.get_absolute_url())

    _shot(page, f"table-{width}")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    scroll = page.locator(".prio__scroll")
    box = scroll.evaluate(
        """s => ({left: s.getBoundingClientRect().left, right: s.getBoundingClientRect().right,
                  scrollWidth: s.scrollWidth, clientWidth: s.clientWidth,
                  overflowX: getComputedStyle(s).overflowX})"""
    )
    assert box["right"] <= width
    last = page.locator(".prio-table thead th").last
    # The last header lies within what the scroll box scrolls to.
    offset = last.evaluate(
        "th => th.getBoundingClientRect().right - th.closest('.prio__scroll')"
        ".getBoundingClientRect().left + th.closest('.prio__scroll').scrollLeft"
    )
    assert offset <= box["scrollWidth"] + 1
    if box["scrollWidth"] > box["clientWidth"]:
        assert box["overflowX"] in ("auto", "scroll")
    # Above the table, in view as the page opens, a scrollbar as wide as the table moves it.
    bar = page.locator("[data-table-hbar]")
    bar_box = bar.bounding_box()
    assert 0 <= bar_box["y"] and bar_box["y"] + bar_box["height"] <= 800
    reach = "e => e.scrollWidth - e.clientWidth"
    assert bar.evaluate(reach) == scroll.evaluate(reach)
    if box["scrollWidth"] > box["clientWidth"]:
        assert bar.evaluate("b => getComputedStyle(b).overflowX") == "auto"
        bar.evaluate("b => { b.scrollLeft = b.scrollWidth; }")
        expect(last).to_be_in_viewport()
        assert scroll.evaluate("s => s.scrollLeft") == bar.evaluate("b => b.scrollLeft") > 0
        _shot(page, f"table-{width}-scrolled")
    last.scroll_into_view_if_needed()
    expect(last).to_be_in_viewport()
    # The feature titles stay in view while the reader scrolls to the right.
    title = page.locator("#feature-rows .prio__title").first
    scroll.evaluate("s => { s.scrollLeft = s.scrollWidth; }")
    title_box = title.bounding_box()
    assert box["left"] <= title_box["x"] <= box["left"] + 80
