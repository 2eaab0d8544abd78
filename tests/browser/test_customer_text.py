"""In a real browser: writing what customers read of a roadmap item (on a board card and on the
feature page) and previewing it, copying a share link, and the focus after "Move to…"."""

import os
from functools import partial

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from roadmap.models import RoadmapItem
from tests import factories as f
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("SHOTS_DIR", "")  # set to a folder to keep screenshots of these pages


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


@pytest.fixture
def plan(product):
    """Lane Platform: Single sign-on in now (external), Audit log and CSV export in next."""
    platform = f.LaneFactory(product=product, name="Platform", position=0)
    item = partial(f.RoadmapItemFactory, product=product, lane=platform, feature__status="planned")
    return {
        "product": product,
        "platform": platform,
        "sso": item(feature__title="Single sign-on", horizon="now", visibility="external"),
        "audit": item(feature__title="Audit log", horizon="next", visibility="external"),
        "export": item(feature__title="CSV export", horizon="next", position=1),
    }


def _board(page, user, product) -> None:
    log_in(page, user)
    page.goto(f"{page.base_url}/products/{product.slug}/board/")
    page.wait_for_selector("body[data-board='ready']", state="attached")


def test_write_what_customers_read_on_a_card_then_preview_it(page, pm, plan):
    _board(page, pm, plan["product"])
    card = page.locator(f"#item-{plan['sso'].pk}")

    # when the card's "Customer-facing text" is opened, filled in and saved
    card.get_by_text("Customer-facing text").click()
    title = card.get_by_label("Customer-facing title")
    expect(title).to_have_value("")
    title.fill("Log in with your company account")
    card.get_by_label("Customer-facing description").fill("One login for every tool.")
    _shot(page, "board-card-text-form")
    card.get_by_role("button", name="Save what customers read of “Single sign-on”").click()

    # then the card says what customers read, the button keeps the focus, and it is stored
    expect(card.locator(".plan-card__public")).to_have_text(
        "Customers read “Log in with your company account”"
    )
    expect(card.get_by_text("Saved.")).to_be_visible()
    expect(
        card.get_by_role("button", name="Save what customers read of “Single sign-on”")
    ).to_be_focused()
    expect(page.locator("#board-status")).to_contain_text("Saved what customers read")
    item = RoadmapItem.objects.get(pk=plan["sso"].pk)
    assert (item.external_title, item.external_description) == (
        "Log in with your company account",
        "One login for every tool.",
    )
    _shot(page, "board-card-saved")

    # and one click opens the customers' preview, which shows it
    card.get_by_role("link", name="customers").click()
    expect(page.get_by_text("Log in with your company account")).to_be_visible()
    expect(page.get_by_text("One login for every tool.")).to_be_visible()
    expect(page.get_by_text("Single sign-on")).to_have_count(0)


def test_write_what_customers_read_on_the_feature_page_then_preview_it(page, pm, plan):
    feature = plan["audit"].feature
    log_in(page, pm)
    page.goto(page.base_url + feature.get_absolute_url())

    # the product's tabs are there, Prioritize current
    tabs = page.get_by_role("navigation", name=plan["product"].name)
    expect(tabs.get_by_role("link", name="Prioritize")).to_have_attribute("aria-current", "page")
    expect(tabs.get_by_role("link", name="Board")).to_be_visible()

    # when its placement's customer-facing title is written and saved
    section = page.locator(".item-text")
    section.get_by_label("Customer-facing title").fill("Who did what, when")
    section.get_by_role("button", name="Save what customers read of “Audit log”").click()

    # then it says so in place (and to screen readers), and it is stored
    expect(section.get_by_text("Saved.")).to_be_visible()
    expect(page.locator("#item-text-status")).to_have_text(
        "Saved what customers read of “Audit log”: “Who did what, when”."
    )
    expect(page.get_by_label("Customer-facing title")).to_have_value("Who did what, when")
    assert RoadmapItem.objects.get(pk=plan["audit"].pk).external_title == "Who did what, when"
    _shot(page, "feature-page")

    # and one click opens the customers' preview, which shows it
    page.locator(".item-text").get_by_role("link", name="customers").click()
    expect(page.get_by_text("Who did what, when")).to_be_visible()


def test_a_viewer_reads_what_customers_read_on_a_card(page, workspace, plan):
    viewer = f.UserFactory(email="vi@example.com", display_name="Vi Viewer")
    f.MembershipFactory(workspace=workspace, user=viewer, role=Role.VIEWER)
    item = plan["sso"]
    item.external_title = "Company login"
    item.save()
    log_in(page, viewer)
    page.goto(f"{page.base_url}/products/{plan['product'].slug}/board/")
    card = page.locator(f"#item-{item.pk}")

    card.get_by_text("Customers read “Company login”").click()

    expect(card.locator(".item-text__facts")).to_contain_text("Company login")
    expect(card.get_by_role("textbox")).to_have_count(0)
    expect(card.get_by_role("link", name="investors")).to_be_visible()
    assert page.url.endswith("/board/")  # read in place, not on another page


def test_move_to_keeps_the_keyboard_focus_on_the_moved_card(page, pm, plan):
    _board(page, pm, plan["product"])
    card = page.locator(f"#item-{plan['export'].pk}")
    summary = card.locator(".plan-card__move > summary")

    # when, with the keyboard only, CSV export is moved to the top of "now"
    summary.focus()
    page.keyboard.press("Enter")
    expect(card.get_by_label("Horizon")).to_be_visible()
    page.keyboard.press("Tab")
    expect(card.get_by_label("Horizon")).to_be_focused()
    page.keyboard.press("ArrowUp")  # next -> now
    expect(card.get_by_label("Horizon")).to_have_value("now")
    page.keyboard.press("Tab")  # lane: stays Platform
    page.keyboard.press("Tab")
    expect(card.get_by_label("Position")).to_be_focused()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("1")
    page.keyboard.press("Enter")

    # then the board is the server's, and the focus is on the moved card's "Move to…"
    expect(page.locator("#board-status")).to_contain_text("Moved “CSV export” to Now · Platform")
    moved = page.locator(f"#item-{plan['export'].pk}")
    expect(moved.locator(".plan-card__move > summary")).to_be_focused()
    assert page.evaluate("document.activeElement.closest('.plan-card')?.id") == moved.get_attribute(
        "id"
    )
    assert RoadmapItem.objects.get(pk=plan["export"].pk).horizon == "now"
    _shot(page, "board-after-move")


def test_a_refused_move_puts_the_focus_on_the_field_in_error(page, pm, plan):
    _board(page, pm, plan["product"])
    card = page.locator(f"#item-{plan['export'].pk}")

    card.locator(".plan-card__move > summary").focus()
    page.keyboard.press("Enter")
    position = card.get_by_label("Position")
    expect(position).to_be_visible()
    position.focus()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("0")
    page.keyboard.press("Enter")

    expect(page.locator(f"#item-{plan['export'].pk}").get_by_label("Position")).to_be_focused()
    expect(page.locator(f"#item-{plan['export'].pk} .field__error")).to_contain_text("Position")
    assert RoadmapItem.objects.get(pk=plan["export"].pk).horizon == "next"


def test_copy_a_share_links_url(page, pm, plan):
    product = plan["product"]
    link = f.ShareLinkFactory(product=product, label="Acme QBR")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=page.base_url)
    log_in(page, pm)
    page.goto(f"{page.base_url}/products/{product.slug}/share/")

    # the product's tabs are there, Share current
    tabs = page.get_by_role("navigation", name=product.name)
    expect(tabs.get_by_role("link", name="Share")).to_have_attribute("aria-current", "page")
    url = page.get_by_label("Link for Acme QBR").input_value()
    assert f"/r/{link.token}/" in url

    page.get_by_role("button", name="Copy link for Acme QBR").click()

    expect(page.locator("#copy-status")).to_have_text("Copied the link for Acme QBR.")
    expect(page.get_by_role("button", name="Copied for Acme QBR")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == url
    _shot(page, "share-page")
