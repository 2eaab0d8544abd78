"""The demo workspace's features have a history from the start: a PM's first edit of a seeded
feature, in the table, is on the feature's page."""

from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from accounts.models import User
from roadmap.demo import content
from roadmap.models import Feature
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


def test_the_first_edit_of_a_seeded_feature_is_in_its_history(page, live_server):
    call_command("seed_demo", stdout=StringIO())
    dana = User.objects.get(email=content.USERS[0]["email"])
    feature = Feature.objects.filter(
        product__slug="northwind-connect", status="idea", reach__isnull=False
    ).first()
    log_in(page, dana, content.PASSWORD)
    page.goto(page.base_url + feature.product.get_absolute_url() + "?status=all")

    reach = page.get_by_role("textbox", name=f"Reach {feature.title}", exact=True)
    reach.fill(str(feature.reach + 7))
    reach.press("Enter")
    expect(page.locator("#table-status")).to_contain_text(f"Saved Reach of “{feature.title}”")
    page.goto(page.base_url + feature.get_absolute_url())

    history = page.locator("#history .history__entry")
    expect(history).to_have_count(2)
    expect(history.first).to_contain_text(
        f"Dana Whitfield changed reach from {feature.reach} to {feature.reach + 7}"
    )
    expect(history.last).to_contain_text("Dana Whitfield created the feature")
