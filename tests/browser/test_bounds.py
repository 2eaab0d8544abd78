"""Issue 16 in a real browser: over-long Markdown and out-of-range dates get a message next to the
field, and rows saved before those bounds still draw a bounded timeline."""

import datetime
import pathlib

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from roadmap import bounds
from roadmap.models import RoadmapItem
from roadmap.sharing.services import sharing as sharing_services
from roadmap.strategy.services import strategy as strategy_services
from tests import factories as f
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser

DATE_MESSAGE = "Enter a date between 1 January 2000 and 31 December 2099."
SHOTS = pathlib.Path("/tmp/shots-bounds")


def _shot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_requirements_over_the_bound_get_a_message_and_nothing_is_saved(page, pm, product):
    feature = f.FeatureFactory(product=product, title="Audit log", requirements="Before")
    page.expected_errors = ["400 (Bad Request)"]  # the refused save answers 400
    log_in(page, pm)
    page.goto(page.base_url + feature.get_absolute_url())
    page.get_by_role("link", name="Edit feature").click()

    page.get_by_role("textbox", name="Requirements").fill("x" * (bounds.MARKDOWN_MAX_LENGTH + 1))
    page.get_by_role("button", name="Save changes").click()

    expect(
        page.get_by_text("Keep this to 20000 characters at most (it has 20001).")
    ).to_be_visible()
    expect(page.get_by_role("textbox", name="Requirements")).to_have_attribute(
        "aria-invalid", "true"
    )
    _shot(page, "requirements-too-long")
    feature.refresh_from_db()
    assert feature.requirements == "Before"


def test_rows_dated_in_years_1_and_9999_draw_a_bounded_timeline_and_9999_is_refused(
    page, pm, product
):
    far = f.RoadmapItemFactory(product=product, feature__title="Far out")
    near = f.RoadmapItemFactory(product=product, feature__title="Near")
    RoadmapItem.objects.filter(pk=far.pk).update(
        start_date=datetime.date(1, 1, 1), end_date=datetime.date(9999, 12, 31)
    )
    today = timezone.localdate()
    RoadmapItem.objects.filter(pk=near.pk).update(
        start_date=today, end_date=today + datetime.timedelta(90)
    )
    log_in(page, pm)
    page.goto(f"{page.base_url}/products/{product.slug}/timeline/")

    first, last = bounds.drawn_window(today)
    heading = f"{first:%b %Y} – {last:%b %Y}"
    expect(page.locator("#timeline-heading")).to_have_text(heading)
    expect(page.locator(".tl-scale--months .tl-scale__cell")).to_have_count(123)
    expect(page.locator(f"#tl-item-{far.pk} .tl-label__dates")).to_have_text("1 Jan – 31 Dec 9999")
    _shot(page, "timeline-legacy-dates")

    row = page.locator(f"#tl-item-{near.pk}")
    row.locator("summary").click()
    form = page.get_by_role("form", name="Dates of “Near”")
    form.get_by_label("End").fill("9999-12-31")
    form.get_by_role("button", name="Save").click()

    expect(page.get_by_text(DATE_MESSAGE)).to_be_visible()
    _shot(page, "timeline-date-refused")
    near.refresh_from_db()
    assert near.end_date == today + datetime.timedelta(90)


def test_investors_read_a_pathological_answer_as_text(page, product):
    link = sharing_services.share_link_create(product=product, label="Seed", audience="investors")
    strategy_services.positioning_set_audiences(
        product=product, show_to_investors=True, show_to_executives=False
    )
    strategy_services.positioning_answer_save(
        product=product, question="problem", text="Paperwork **all day**.\n\n" + ">" * 5000
    )

    page.goto(f"{page.base_url}/r/{link.token}/")

    # nested 5,000 deep: shown as plain text, at once
    expect(page.get_by_text("Paperwork **all day**.")).to_be_visible()
    expect(page.get_by_text(">" * 5000)).to_be_visible()
    _shot(page, "investor-page")
