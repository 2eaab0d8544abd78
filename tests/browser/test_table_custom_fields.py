"""Custom fields on the prioritization table in a real browser (issue 19): the PM adds a field in
the settings, finds its column on the table, hides and shows it from Columns, sets a value in
the cell, filters by it (and is told when a bound is not a number); the score's shares are
reached from the keyboard; axe-core and the Nu HTML Checker pass on the table with its field
columns, filters, an error and a tooltip."""

import os

import pytest
from playwright.sync_api import expect

from roadmap.models import FeatureFieldValue
from roadmap.planning.services import fields as field_services
from roadmap.planning.services.scoring import product_recompute_scores
from tests import factories as f
from tests.browser.conftest import log_in
from tests.support import AXE_PATH, tools_missing_reason

pytestmark = pytest.mark.browser


@pytest.fixture
def backlog(product):
    """Audit log #1, Dark mode #2, SSO #3, every RICE input set (so each score has shares)."""
    features = {
        title: f.FeatureFactory(product=product, title=title, reach=reach)
        for title, reach in (("Audit log", 300), ("Dark mode", 200), ("SSO", 100))
    }
    product_recompute_scores(product_id=product.pk)
    return features


def _row(page, title: str):
    return page.locator("#feature-rows tr").filter(
        has=page.get_by_role("link", name=title, exact=True)
    )


def _titles(page) -> list[str]:
    return page.locator("#feature-rows .table__title").all_text_contents()


def test_pm_adds_a_field_shows_its_column_sets_it_in_the_cell_and_filters_by_it(
    page, pm, product, backlog
):
    field_services.custom_field_save(product=product, name="Deal size", kind="number")
    log_in(page, pm)

    # Settings: a choice field, added in place
    page.goto(f"{page.base_url}/products/{product.slug}/settings/")
    add = page.get_by_role("form", name="Add a custom field")
    add.get_by_label("Name").fill("Segment")
    add.get_by_label("Kind").select_option("Choice")
    add.get_by_label("Choices").fill("SMB = 1\nEnterprise = 3")
    add.get_by_role("button", name="Add custom field").click()
    expect(page.locator("#fields")).to_contain_text("Custom field “Segment” added.")

    # The table: a column per field, after Kano
    page.goto(page.base_url + product.get_absolute_url())
    expect(page.get_by_role("columnheader", name="Segment")).to_be_visible()
    headers = [t.strip() for t in page.locator(".prio-table thead th").all_text_contents()]
    kano = headers.index("Kano")
    assert headers[kano + 1 : kano + 4] == ["Deal size", "Segment", "Personas"]

    # Columns: hidden, then shown again
    page.get_by_text("Columns", exact=True).click()
    segment_box = page.get_by_role("checkbox", name="Segment")
    segment_box.uncheck()
    expect(page.get_by_role("columnheader", name="Segment")).to_have_count(0)
    page.get_by_role("checkbox", name="Segment").check()
    expect(page.get_by_role("columnheader", name="Segment")).to_be_visible()
    page.keyboard.press("Escape")
    page.locator("body").click(position={"x": 5, "y": 5})

    # A value set in the cell: a select saves on change, a number on Enter
    sso = _row(page, "SSO")
    sso.get_by_role("combobox", name="Segment SSO").select_option("Enterprise")
    expect(page.locator("#table-status")).to_contain_text("Saved Segment of “SSO”")
    deal = sso.get_by_role("textbox", name="Deal size SSO")
    deal.fill("12500")
    deal.press("Enter")
    expect(page.locator("#table-status")).to_contain_text("Saved Deal size of “SSO”")
    audit = _row(page, "Audit log")
    audit.get_by_role("combobox", name="Segment Audit log").select_option("SMB")
    expect(page.locator("#table-status")).to_contain_text("Saved Segment of “Audit log”")
    values = {
        (v.feature.title, v.field.key): v.display
        for v in FeatureFieldValue.objects.select_related("feature", "field", "choice")
    }
    assert values == {
        ("SSO", "segment"): "Enterprise",
        ("SSO", "deal_size"): "12500",
        ("Audit log", "segment"): "SMB",
    }

    # A bad number in the cell: refused in place, nothing saved
    deal.fill("lots")
    deal.press("Tab")
    expect(deal).to_have_attribute("aria-invalid", "true")
    expect(sso.get_by_text("Give a number.")).to_be_visible()
    deal.focus()
    deal.press("Escape")
    expect(deal).to_have_value("12500")

    # Filter by the choice: the menu's boxes filter at once
    filters = page.locator("#table-filters")
    filters.get_by_text("Segment", exact=True).click()
    filters.get_by_role("checkbox", name="Enterprise").check()
    expect(page.locator("#feature-rows .table__title")).to_have_count(1)
    assert _titles(page) == ["SSO"]
    assert "cf-segment=Enterprise" in page.url
    filters.get_by_role("checkbox", name="SMB").check()
    expect(page.locator("#feature-rows .table__title")).to_have_count(2)
    assert _titles(page) == ["Audit log", "SSO"]

    # And by the number's bounds; one that is not a number is said, not applied. (Enter sends
    # the form through its Apply button, whose click closes the menu like any click outside it.)
    at_least = filters.get_by_label("At least")
    filters.get_by_text("Deal size", exact=True).click()
    at_least.fill("20000")
    at_least.press("Enter")
    expect(page.locator("#feature-rows .table__title")).to_have_count(0)
    expect(at_least).to_be_hidden()
    filters.get_by_text("Deal size", exact=True).click()
    at_least.fill("a lot")
    at_least.press("Enter")
    expect(page.locator("#table-filter-errors")).to_contain_text(
        "cf-deal_size-min: Give a number between"
    )
    expect(page.locator("#feature-rows .table__title")).to_have_count(2)


def test_the_scores_shares_are_reached_by_keyboard_and_described(page, pm, product, backlog):
    log_in(page, pm)
    page.goto(page.base_url + product.get_absolute_url())
    score = _row(page, "SSO").locator(".prio__shares")
    tip = page.locator(f"#f{backlog['SSO'].pk}-shares")

    # Hidden until the score is focused (by keyboard: it is in the tab order)
    assert tip.bounding_box()["width"] <= 1
    score.focus()
    expect(score).to_be_focused()
    expect(tip).to_contain_text("reach ×100")
    assert tip.bounding_box()["width"] > 100
    # Screen readers get the shares as the score's description
    assert score.get_attribute("aria-describedby") == tip.get_attribute("id")
    assert score.get_attribute("tabindex") == "0"
    description = page.evaluate(
        "id => document.getElementById(id).textContent", tip.get_attribute("id")
    )
    assert description.startswith("reach ×100")
    score.blur()
    assert tip.bounding_box()["width"] <= 1


def test_the_table_with_field_columns_and_filters_is_accessible_and_valid_html(
    browser, page, pm, product, backlog, tmp_path
):
    reason = tools_missing_reason()
    if reason:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    from tests.browser.test_conformance import Conformance

    field_services.custom_field_save(
        product=product, name="Segment", kind="choice", choices=[("SMB", "1"), ("Big <&>", "3")]
    )
    field_services.custom_field_save(product=product, name="Urgent", kind="yes_no")
    field_services.custom_field_save(product=product, name="Deal size", kind="number")
    checker = Conformance(out_dir=tmp_path, axe_source=AXE_PATH.read_text())
    log_in(page, pm)
    table = page.base_url + product.get_absolute_url()

    checker.goto(page, "table with custom field columns", table)
    checker.goto(
        page,
        "table filtered by custom fields, with an error",
        table + "?cf-segment=SMB&cf-urgent=yes&cf-deal_size-min=x&cf-ghost=1",
    )
    page.goto(table)
    _row(page, "SSO").locator(".prio__shares").focus()
    checker.check(page, "table with a score's shares shown", page.content())

    errors = checker.vnu_errors()
    assert not checker.violations and not errors, [*checker.violations, *errors]
