"""The board and the timeline in a real browser: drag and drop, the keyboard, the toggle, dates."""

import datetime
from functools import partial

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from roadmap.models import RoadmapItem
from roadmap.planning.selectors import planning as selectors
from tests import factories as f
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def plan(product):
    """Lanes Platform and Apps; Single sign-on in now, Audit log and CSV export in next (all
    Platform), a theme in later (Apps). Audit log has dates; CSV export has none."""
    platform = f.LaneFactory(product=product, name="Platform", position=0)
    apps = f.LaneFactory(product=product, name="Apps", position=1)
    start = timezone.localdate() + datetime.timedelta(days=10)

    item = partial(f.RoadmapItemFactory, product=product, lane=platform)
    return {
        "product": product,
        "platform": platform,
        "apps": apps,
        "sso": item(feature__title="Single sign-on", horizon="now"),
        "audit": item(
            feature__title="Audit log",
            horizon="next",
            start_date=start,
            end_date=start + datetime.timedelta(days=30),
        ),
        "export": item(feature__title="CSV export", horizon="next", position=1),
        "theme": f.RoadmapItemFactory(
            product=product, feature=None, title="Faster onboarding", horizon="later", lane=apps
        ),
    }


def _titles(page, horizon: str, lane):
    """The card titles of one board cell, in order."""
    cell = page.locator(f'.plan-cell[data-horizon="{horizon}"][data-lane="{lane.pk}"]')
    return cell.locator(".plan-card__title")


def _cell(page, horizon: str, lane):
    return page.locator(f'.plan-cell[data-horizon="{horizon}"][data-lane="{lane.pk}"]')


def _open(page, pm, plan, view: str) -> None:
    log_in(page, pm)
    page.goto(f"{page.base_url}/products/{plan['product'].slug}/{view}/")
    # The page's module script binds the drag and key handlers after the page has loaded.
    page.wait_for_selector(f"body[data-{view}='ready']", state="attached")


def test_drag_an_item_from_next_to_now(page, pm, plan):
    _open(page, pm, plan, "board")
    audit = page.locator(f"#item-{plan['audit'].pk}")

    # when Audit log is dragged (by its card's edge) to the bottom of Platform's "now" cell
    target = _cell(page, "now", plan["platform"])
    start, box = audit.bounding_box(), target.bounding_box()
    # The pointer's own steps (not one jump): each fires the dragover the drop needs, even on a
    # loaded machine.
    page.mouse.move(start["x"] + 4, start["y"] + 4)
    page.mouse.down()
    page.mouse.move(box["x"] + 30, box["y"] + box["height"] / 2, steps=6)
    page.mouse.move(box["x"] + 30, box["y"] + box["height"] - 6, steps=4)
    # The drop moves the card in the page at once; what counts is the server's answer (a reload
    # sent before it arrives shows the board as it was).
    with page.expect_response(lambda r: r.request.method == "POST" and "/move/" in r.url):
        page.mouse.up()

    # then the board, redrawn by the server, shows it there, without a reload
    expect(_titles(page, "now", plan["platform"])).to_have_text(["Single sign-on", "Audit log"])
    expect(_titles(page, "next", plan["platform"])).to_have_text(["CSV export"])
    # and it is still there after a reload
    page.reload()
    expect(_titles(page, "now", plan["platform"])).to_have_text(["Single sign-on", "Audit log"])
    item = RoadmapItem.objects.get(pk=plan["audit"].pk)
    assert (item.horizon, item.lane_id) == ("now", plan["platform"].pk)


def test_move_an_item_with_its_move_to_menu(page, pm, plan):
    _open(page, pm, plan, "board")
    card = page.locator(f"#item-{plan['export'].pk}")

    card.get_by_text("Move to…").click()
    card.get_by_label("Horizon").select_option("now")
    card.get_by_label("Position").fill("1")
    card.get_by_role("button", name="Move “CSV export”", exact=True).click()

    expect(_titles(page, "now", plan["platform"])).to_have_text(["CSV export", "Single sign-on"])
    item = RoadmapItem.objects.get(pk=plan["export"].pk)
    assert (item.horizon, item.lane_id) == ("now", plan["platform"].pk)


def test_move_an_item_with_the_keyboard(page, pm, plan):
    _open(page, pm, plan, "board")
    handle = page.get_by_role("button", name="Pick up “CSV export”")

    # when CSV export (second in next) is picked up, moved left into now, and dropped
    handle.focus()
    page.keyboard.press("Space")
    expect(page.locator("#board-status")).to_contain_text("Picked up “CSV export”")
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#board-status")).to_contain_text("Now, lane Platform, position 2 of 2")
    page.keyboard.press("Enter")

    # then it is saved there, the move is announced and the handle keeps the focus
    expect(page.locator("#board-status")).to_contain_text(
        "Moved “CSV export” to Now · Platform, position 2."
    )
    expect(page.get_by_role("button", name="Pick up “CSV export”")).to_be_focused()
    page.reload()
    expect(_titles(page, "now", plan["platform"])).to_have_text(["Single sign-on", "CSV export"])
    expect(_titles(page, "next", plan["platform"])).to_have_text(["Audit log"])
    assert RoadmapItem.objects.get(pk=plan["export"].pk).horizon == "now"


def test_escape_puts_a_picked_up_item_back(page, pm, plan):
    _open(page, pm, plan, "board")
    page.get_by_role("button", name="Pick up “Single sign-on”").focus()

    page.keyboard.press("Space")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Escape")

    expect(page.locator("#board-status")).to_contain_text("Move cancelled")
    expect(_titles(page, "now", plan["platform"])).to_have_text(["Single sign-on"])
    expect(_titles(page, "next", plan["platform"])).to_have_text(["Audit log", "CSV export"])
    assert RoadmapItem.objects.get(pk=plan["sso"].pk).horizon == "now"


def test_make_an_item_external(page, pm, plan):
    _open(page, pm, plan, "board")
    card = page.locator(f"#item-{plan['sso'].pk}")

    card.get_by_role("button", name="make “Single sign-on” external").click()

    # the badge turns into External (and its button would make it internal again)
    external = card.get_by_role("button", name="make “Single sign-on” internal")
    expect(external).to_have_text("External: make “Single sign-on” internal")
    expect(external).to_be_focused()
    page.reload()
    expect(external).to_have_text("External: make “Single sign-on” internal")
    assert RoadmapItem.objects.get(pk=plan["sso"].pk).visibility == "external"


def test_add_a_feature_from_the_board(page, pm, plan):
    f.FeatureFactory(product=plan["product"], title="Dark mode")
    f.FeatureFactory(product=plan["product"], title="Webhooks")
    _open(page, pm, plan, "board")

    # when the list is filtered, the one match is picked, and it is added to Apps in "now"
    page.get_by_label("Filter the features").fill("dark")
    expect(page.locator("#add-feature-feature")).to_have_value(
        str(plan["product"].features.get(title="Dark mode").pk)
    )
    page.locator("#add-feature-horizon").select_option("now")
    page.locator("#add-feature-lane").select_option(label="Apps")
    page.get_by_role("button", name="Add feature").click()

    expect(_titles(page, "now", plan["apps"])).to_have_text(["Dark mode"])
    assert RoadmapItem.objects.get(feature__title="Dark mode").horizon == "now"


def test_more_loads_the_rest_of_a_cell_in_place(page, pm, plan):
    # given: Apps' "next" cell holds more cards than a cell shows at first
    shown, step = selectors.CELL_CARDS, selectors.CELL_PAGE
    items = RoadmapItem.objects.bulk_create(
        RoadmapItem(
            product=plan["product"],
            feature=None,
            title=f"Card {i + 1}",
            horizon="next",
            lane=plan["apps"],
            position=i,
        )
        for i in range(shown + step + 3)
    )
    _open(page, pm, plan, "board")
    board_url = page.url
    cards = _titles(page, "next", plan["apps"])
    expect(cards).to_have_count(shown)

    # when "N more" is clicked: the next cards join the cell, on the same page
    page.get_by_role("link", name=f"{step + 3} more in Next · Apps").click()
    expect(cards).to_have_count(shown + step)
    expect(cards.nth(shown)).to_have_text(f"Card {shown + 1}")
    assert page.url == board_url
    # the focus moves on to the first card loaded, not back to the top of the page
    expect(page.locator(f"#item-{items[shown].pk}")).to_be_focused()
    # the new cards can be picked up like the others (their handles are shown)
    expect(page.locator(f"#item-{items[shown].pk} .plan-card__handle")).to_be_visible()

    # and the last part: every card, and no "more" left
    page.get_by_role("link", name="3 more in Next · Apps").click()
    expect(cards).to_have_count(shown + step + 3)
    expect(cards.last).to_have_text(f"Card {shown + step + 3}")
    expect(page.get_by_role("link", name="more in Next · Apps")).to_have_count(0)


def _bar(page, item):
    return page.locator(f'.tl-bar[data-item="{item.pk}"]')


def _day_width(page, item) -> float:
    track = _bar(page, item).locator("xpath=..").bounding_box()
    days = int(page.locator("#timeline").get_attribute("data-days"))
    return track["width"] / days


def test_drag_a_bar_on_the_timeline_to_move_its_dates(page, pm, plan):
    _open(page, pm, plan, "timeline")
    item = plan["audit"]
    bar = _bar(page, item)
    box = bar.bounding_box()
    day = _day_width(page, item)

    # when the bar is dragged 12 days later
    page.mouse.move(box["x"] + 20, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + 20 + 6 * day, box["y"] + box["height"] / 2, steps=3)
    page.mouse.move(box["x"] + 20 + 12 * day, box["y"] + box["height"] / 2, steps=3)
    page.mouse.up()

    # then both dates move by 12 days, and the page says so after a reload too
    start = item.start_date + datetime.timedelta(days=12)
    end = item.end_date + datetime.timedelta(days=12)
    label = f"{start.day} {start:%b} – {end.day} {end:%b %Y}"
    expect(page.locator(f"#tl-item-{item.pk} .tl-label__dates")).to_have_text(label)
    page.reload()
    expect(page.locator(f"#tl-item-{item.pk} .tl-label__dates")).to_have_text(label)
    item.refresh_from_db()
    assert (item.start_date, item.end_date) == (start, end)


def test_drag_the_end_of_a_bar_to_change_its_end(page, pm, plan):
    _open(page, pm, plan, "timeline")
    item = plan["audit"]
    handle = _bar(page, item).locator(".tl-bar__resize")
    box = handle.bounding_box()
    day = _day_width(page, item)

    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 - 5 * day, box["y"] + box["height"] / 2, steps=4)
    page.mouse.up()

    end = item.end_date - datetime.timedelta(days=5)
    expect(page.locator(f"#tl-item-{item.pk} .tl-label__dates")).to_contain_text(
        f"{end.day} {end:%b %Y}"
    )
    item.refresh_from_db()
    assert (item.start_date, item.end_date) == (plan["audit"].start_date, end)


def test_give_an_unscheduled_item_dates_with_the_form(page, pm, plan):
    _open(page, pm, plan, "timeline")
    item = plan["export"]
    form = page.get_by_role("form", name="Dates of “CSV export”")

    # an end before the start: the error shows and nothing is saved
    form.get_by_label("Start").fill("2031-03-10")
    form.get_by_label("End").fill("2031-03-01")
    form.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The end date cannot be before the start date.")).to_be_visible()
    assert RoadmapItem.objects.get(pk=item.pk).end_date is None

    # corrected: saved, and drawn as a bar
    form = page.get_by_role("form", name="Dates of “CSV export”").first
    form.get_by_label("End").fill("2031-04-20")
    form.get_by_role("button", name="Save").click()
    expect(_bar(page, item)).to_be_visible()
    page.reload()
    expect(page.locator(f"#tl-item-{item.pk} .tl-label__dates")).to_have_text(
        "10 Mar – 20 Apr 2031"
    )
    item.refresh_from_db()
    assert (item.start_date, item.end_date) == (
        datetime.date(2031, 3, 10),
        datetime.date(2031, 4, 20),
    )
