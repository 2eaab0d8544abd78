"""The prioritization table in a real browser: quick add, an inline edit that re-ranks without a
page load, an invalid value and Escape, filters and search (with "/"), and a bulk status change."""

import re
from decimal import Decimal
from urllib.parse import parse_qs

import pytest
from playwright.sync_api import expect

from roadmap.models import Feature
from roadmap.planning.services.scoring import product_recompute_scores
from tests import factories as f
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def backlog(product):
    """Three open features ranked by reach: Audit log #1, Dark mode #2, SSO #3."""
    features = {
        title: f.FeatureFactory(product=product, title=title, reach=reach)
        for title, reach in (("Audit log", 300), ("Dark mode", 200), ("SSO", 100))
    }
    product_recompute_scores(product_id=product.pk)
    return features


def _open(page, pm, product) -> None:
    log_in(page, pm)
    page.goto(page.base_url + product.get_absolute_url())
    # Survives only as long as the page is not loaded again.
    page.evaluate("window.tableMarker = 'still here'")


def _row(page, title: str):
    return page.locator("#feature-rows tr").filter(
        has=page.get_by_role("link", name=title, exact=True)
    )


def _ranked(product, count: int) -> None:
    """``count`` scored features, "Feature 000" first in rank."""
    Feature.objects.bulk_create(
        [
            Feature(
                product=product,
                title=f"Feature {i:03}",
                reach=1000 - i,
                impact=Decimal("1.00"),
                confidence=80,
                effort=Decimal("2.00"),
            )
            for i in range(count)
        ]
    )
    product_recompute_scores(product_id=product.pk)


def _not_reloaded(page) -> None:
    assert page.evaluate("window.tableMarker") == "still here"


def test_create_a_feature_with_quick_add(page, pm, product, backlog):
    _open(page, pm, product)
    title = page.get_by_label("Title of a new feature")

    title.fill("Offline mode")
    title.press("Enter")

    expect(_row(page, "Offline mode")).to_be_visible()
    expect(_row(page, "Offline mode").locator(".prio__rank")).to_have_text("#4")
    expect(title).to_have_value("")
    expect(title).to_be_focused()  # ready for the next one
    expect(page.locator("#table-count")).to_have_text("4 open features")
    assert Feature.objects.filter(product=product, title="Offline mode").count() == 1
    _not_reloaded(page)


def test_edit_an_input_inline_and_see_the_ranks_change_without_a_reload(page, pm, product, backlog):
    _open(page, pm, product)
    sso = _row(page, "SSO")
    reach = sso.get_by_role("textbox", name="Reach SSO")
    expect(sso.locator(".prio__rank")).to_have_text("#3")
    # Someone else adds a feature this page does not show; its rank moves too.
    f.FeatureFactory(product=product, title="Added elsewhere", reach=150)
    product_recompute_scores(product_id=product.pk)

    reach.fill("5000")
    with page.expect_request(lambda r: r.method == "POST" and "/edit/" in r.url) as sent:
        reach.press("Enter")

    expect(sso.locator(".prio__rank")).to_have_text("#1")
    expect(sso.locator(".prio__score .prio__shares")).to_have_text("2,000")
    # The page told the server which rows it shows, so only their ranks come back.
    shown = parse_qs(sent.value.post_data)["shown"][0].split(",")
    assert sorted(map(int, shown)) == sorted(x.pk for x in backlog.values())
    expect(_row(page, "Audit log").locator(".prio__rank")).to_have_text("#2")
    expect(_row(page, "Dark mode").locator(".prio__rank")).to_have_text("#3")
    expect(reach).to_be_focused()
    expect(page.locator("#table-status")).to_contain_text("rank #1 (was #4)")
    assert Feature.objects.get(pk=backlog["SSO"].pk).reach == 5000
    _not_reloaded(page)

    # An invalid value: its error in the cell, nothing saved; Escape brings the stored one back.
    confidence = sso.get_by_role("textbox", name="Conf. % SSO")
    confidence.fill("250")
    confidence.press("Tab")
    expect(confidence).to_have_attribute("aria-invalid", "true")
    expect(sso.get_by_text("Confidence is a percentage between 0 and 100.")).to_be_visible()
    assert Feature.objects.get(pk=backlog["SSO"].pk).confidence == 80
    confidence.focus()
    confidence.press("Escape")
    expect(confidence).to_have_value("80")
    expect(confidence).not_to_have_attribute("aria-invalid", "true")

    # A select saves on change too.
    sso.get_by_role("combobox", name="MoSCoW SSO").select_option("must")
    expect(page.locator("#table-status")).to_contain_text("Saved MoSCoW of “SSO”")
    assert Feature.objects.get(pk=backlog["SSO"].pk).moscow == "must"
    _not_reloaded(page)


def test_filter_by_status_and_search(page, pm, product, backlog):
    Feature.objects.filter(pk=backlog["Dark mode"].pk).update(status="discovery")
    _open(page, pm, product)
    rows = page.locator("#feature-rows tr.prio__row")
    expect(rows).to_have_count(3)

    page.get_by_label("Filter by status").select_option("discovery")

    expect(rows).to_have_count(1)
    expect(_row(page, "Dark mode")).to_be_visible()
    expect(page).to_have_url(re.compile(r"\?status=discovery$"))

    page.get_by_label("Filter by status").select_option("open")
    expect(rows).to_have_count(3)
    page.locator("h1").click()
    page.keyboard.press("/")
    search = page.get_by_label("Search features")
    expect(search).to_be_focused()
    page.keyboard.type("audit")

    expect(rows).to_have_count(1)
    expect(_row(page, "Audit log")).to_be_visible()
    expect(page).to_have_url(re.compile(r"\?q=audit$"))
    _not_reloaded(page)


def test_sort_by_a_column_header(page, pm, product, backlog):
    _open(page, pm, product)

    page.get_by_role("link", name="Feature", exact=True).click()

    expect(page.locator("#col-title")).to_have_attribute("aria-sort", "ascending")
    titles = page.locator("#feature-rows .table__title")
    expect(titles).to_have_text(["Audit log", "Dark mode", "SSO"])
    page.get_by_role("link", name="Feature", exact=True).click()
    expect(titles).to_have_text(["SSO", "Dark mode", "Audit log"])
    expect(page).to_have_url(re.compile(r"\?sort=-title$"))
    _not_reloaded(page)


def test_bulk_set_a_status(page, pm, product, backlog):
    _open(page, pm, product)
    bulk = page.locator("#bulk-form")
    expect(bulk.get_by_role("button", name="Apply")).to_be_disabled()

    _row(page, "Audit log").get_by_role("checkbox").check()
    _row(page, "SSO").get_by_role("checkbox").check()
    expect(bulk.get_by_text("2 selected")).to_be_visible()
    bulk.get_by_label("Set the status of the ticked features").select_option("planned")
    bulk.get_by_role("button", name="Apply").click()

    expect(page.locator("#table-status")).to_have_text("Status Planned: 2 of 2 features changed.")
    for title, status in (("Audit log", "planned"), ("SSO", "planned"), ("Dark mode", "idea")):
        select = _row(page, title).get_by_role("combobox", name=f"Status {title}")
        expect(select).to_have_value(status)
        assert Feature.objects.get(pk=backlog[title].pk).status == status
    # The selection stays for a next edit; select-all ticks every row shown.
    expect(bulk.get_by_text("2 selected")).to_be_visible()
    page.get_by_label("Select every feature shown").check()
    expect(bulk.get_by_text("3 selected")).to_be_visible()
    _not_reloaded(page)


def test_show_more_adds_rows_in_place_and_moves_the_focus_to_them(page, pm, product):
    _ranked(product, 70)
    _open(page, pm, product)
    rows = page.locator("#feature-rows .prio__row")
    expect(rows).to_have_count(50)

    page.get_by_role("link", name="Show 20 more").click()

    expect(rows).to_have_count(70)
    expect(page.get_by_role("link", name="Feature 050", exact=True)).to_be_focused()
    expect(page.get_by_role("link", name="Show 20 more")).to_have_count(0)
    assert page.url.endswith(f"{product.get_absolute_url()}?rows=70")
    # An edit in an added row re-ranks in place like any other.
    reach = _row(page, "Feature 069").get_by_role("textbox", name="Reach Feature 069")
    reach.fill("5000")
    reach.press("Enter")
    expect(_row(page, "Feature 069").locator(".prio__rank")).to_have_text("#1")
    _not_reloaded(page)


def test_show_all_streams_every_row_in_place_and_edits_still_re_rank(page, pm, product):
    """More rows than one chunk of the stream (500): the table arrives whole, in rank order."""
    _ranked(product, 620)
    _open(page, pm, product)
    rows = page.locator("#feature-rows .prio__row")
    expect(rows).to_have_count(50)

    page.get_by_role("link", name="Show all 620").click()

    expect(rows).to_have_count(620)
    expect(page.get_by_role("link", name="Feature 050", exact=True)).to_be_focused()
    assert page.url.endswith(f"{product.get_absolute_url()}?all=1")
    assert rows.last.get_by_role("link").first.inner_text() == "Feature 619"
    reach = _row(page, "Feature 600").get_by_role("textbox", name="Reach Feature 600")
    reach.fill("5000")
    reach.press("Enter")
    expect(_row(page, "Feature 600").locator(".prio__rank")).to_have_text("#1")
    expect(_row(page, "Feature 000").locator(".prio__rank")).to_have_text("#2")
    _not_reloaded(page)
    # Loaded afresh, the streamed page is whole too.
    page.reload()
    expect(rows).to_have_count(620)
    expect(page.locator("#table-count")).to_have_text("620 open features")


def test_editing_a_feature_deleted_meanwhile_says_it_is_gone(page, pm, product, backlog):
    _open(page, pm, product)
    page.expected_errors = ["404"]
    backlog["SSO"].delete()  # by someone else, after the page was read

    reach = _row(page, "SSO").get_by_role("textbox", name="Reach SSO")
    reach.fill("5000")
    reach.press("Enter")

    expect(page.get_by_role("alert")).to_have_text(
        re.compile("This is gone: someone may have deleted it. Reload the page.")
    )
    _not_reloaded(page)


def test_hide_and_show_columns_from_the_columns_menu(page, pm, product, backlog):
    _open(page, pm, product)
    kano = page.get_by_role("columnheader", name="Kano")
    expect(kano).to_be_visible()

    page.get_by_text("Columns", exact=True).click()
    menu = page.get_by_role("group", name="Show these columns")
    menu.get_by_role("checkbox", name="Kano").uncheck()
    menu.get_by_role("checkbox", name="Personas").uncheck()

    expect(kano).to_have_count(0)
    expect(page.get_by_role("columnheader", name="Personas")).to_have_count(0)
    expect(page.get_by_role("columnheader", name="Status")).to_be_visible()
    _not_reloaded(page)
    # An edit still works in the narrower table.
    reach = _row(page, "SSO").get_by_role("textbox", name="Reach SSO")
    reach.fill("5000")
    reach.press("Enter")
    expect(_row(page, "SSO").locator(".prio__rank")).to_have_text("#1")

    page.reload()
    expect(page.get_by_role("columnheader", name="Kano")).to_have_count(0)
    page.get_by_text("Columns", exact=True).click()
    menu.get_by_role("checkbox", name="Kano").check()
    expect(page.get_by_role("columnheader", name="Kano")).to_be_visible()
