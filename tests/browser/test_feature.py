"""A PM edits a feature in the browser, sees its history, and meets a colleague's save."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from roadmap.models import Feature, Lane
from tests import factories as f
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def feature(product):
    return f.FeatureFactory(product=product, title="Audit log", status="idea", effort=Decimal("2"))


@pytest.fixture
def colleague(workspace):
    user = f.UserFactory(email="ada@example.com", display_name="Ada Lovelace")
    f.MembershipFactory(workspace=workspace, user=user, role=Role.EDITOR)
    return user


def test_pm_edits_effort_and_status_and_sees_the_history(page, pm, feature):
    log_in(page, pm)
    page.goto(page.base_url + feature.get_absolute_url())
    history = page.locator("#history")
    expect(history.locator(".history__entry")).to_have_count(1)
    expect(history).to_contain_text("created the feature")

    page.get_by_role("link", name="Edit feature").click()
    page.get_by_label("Effort").fill("3")
    page.get_by_label("Status").select_option(label="Planned")
    page.get_by_role("button", name="Save changes").click()

    expect(page).to_have_url(page.base_url + feature.get_absolute_url())
    expect(page.get_by_text("“Audit log” saved.")).to_be_visible()
    expect(history.locator(".history__entry")).to_have_count(2)
    expect(history.locator(".history__entry").first).to_contain_text(
        "Pat PM changed status from Idea to Planned, effort from 2 to 3"
    )
    feature.refresh_from_db()
    assert (feature.status, feature.effort, feature.version) == ("planned", Decimal("3"), 2)


def test_a_second_save_shows_the_conflict_with_both_versions(page, browser, pm, colleague, feature):
    log_in(page, pm)
    page.goto(page.base_url + f"/features/{feature.pk}/edit/")
    other = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    other.base_url = page.base_url
    errors = []
    other.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    log_in(other, colleague)
    other.goto(other.base_url + f"/features/{feature.pk}/edit/")

    # Ada saves first.
    other.get_by_label("Effort").fill("5")
    other.get_by_label("Title").fill("Audit trail")
    other.get_by_role("button", name="Save changes").click()
    expect(other).to_have_url(other.base_url + feature.get_absolute_url())
    # Pat saves the form loaded before Ada's save.
    page.get_by_label("Effort").fill("1.5")
    page.get_by_label("Title").fill("Audit history")
    page.get_by_role("button", name="Save changes").click()

    conflict = page.get_by_role("alert").filter(has_text="saved this feature while you were")
    expect(conflict).to_contain_text("Ada Lovelace saved this feature while you were editing")
    row = conflict.locator('tr[data-conflict="effort"]')
    expect(row.locator(".conflict__yours .conflict__value")).to_have_text("1.5")
    expect(row.locator(".conflict__theirs .conflict__value")).to_have_text("5")
    expect(conflict).to_contain_text("saved by Ada Lovelace at")
    expect(page.get_by_label("Effort")).to_have_value("1.5")
    expect(page.get_by_label("Title")).to_have_value("Audit history")
    saved = Feature.objects.get(pk=feature.pk)
    assert (saved.title, saved.effort) == ("Audit trail", Decimal("5"))

    # Pat keeps their effort but takes Ada's title, then saves on top of her version.
    conflict.get_by_role("button", name="Use theirs for Title").click()
    expect(page.get_by_label("Title")).to_have_value("Audit trail")
    page.get_by_role("button", name="Save mine on top of theirs").click()

    expect(page).to_have_url(page.base_url + feature.get_absolute_url())
    saved = Feature.objects.get(pk=feature.pk)
    assert (saved.title, saved.effort, saved.version) == ("Audit trail", Decimal("1.5"), 3)
    other.context.close()
    assert errors == []


def test_new_product_suggests_a_slug_from_its_name(page, pm, workspace):
    log_in(page, pm)
    page.goto(page.base_url + "/")
    page.get_by_role("link", name="New product").click()

    page.get_by_label("Name", exact=True).fill("Café Field Ops")

    expect(page.get_by_label("Slug")).to_have_value("cafe-field-ops")
    page.get_by_label("Slug").fill("field-ops")
    page.get_by_label("Name", exact=True).fill("Field Ops 2")
    expect(page.get_by_label("Slug")).to_have_value("field-ops")  # typed by hand: kept
    page.get_by_role("button", name="Create product").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Field Ops 2")


def test_a_lane_is_added_in_place(page, pm, product):
    log_in(page, pm)
    page.goto(page.base_url + f"/products/{product.slug}/settings/")
    lanes = page.locator("#lanes")

    lanes.get_by_label("Name", exact=True).fill("Growth")
    lanes.get_by_role("button", name="Add lane").click()

    expect(lanes.get_by_role("status")).to_have_text("Lane “Growth” added.")
    expect(lanes.get_by_label("Name of lane Growth")).to_have_value("Growth")
    assert list(Lane.objects.filter(product=product).values_list("name", flat=True)) == ["Growth"]

    page.once("dialog", lambda dialog: dialog.accept())
    lanes.get_by_role("button", name="Delete lane Growth").click()

    expect(lanes.get_by_text("No lanes yet.")).to_be_visible()
    assert not Lane.objects.filter(product=product).exists()
