"""Webhook settings in a real browser: a non-public URL is refused next to the field."""

import os

import pytest
from playwright.sync_api import expect

from roadmap.models import WebhookEndpoint
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("WAYMARK_SHOTS")  # a folder to save screenshots in, when set


def test_an_admin_is_told_why_a_metadata_url_cannot_receive_webhooks(page, admin_user):
    # given an admin on the form to add an endpoint (the refused form comes back with a 400)
    page.expected_errors = ["status of 400"]
    log_in(page, admin_user)
    page.goto(page.base_url + "/settings/webhooks/new/")

    # when they enter the cloud metadata address and submit
    url = page.get_by_label("Payload URL")
    url.fill("http://169.254.169.254/latest/meta-data/")
    page.get_by_label("Feature created").check()
    page.get_by_role("button", name="Add endpoint").click()

    # then the reason is shown under the URL, which is kept, and nothing is stored
    error = page.locator("#id_url_error")
    expect(error).to_have_text(
        "Webhooks go to public addresses only: 169.254.169.254 is a link-local address "
        "(169.254.0.0/16, where cloud metadata answers)."
    )
    expect(url).to_have_value("http://169.254.169.254/latest/meta-data/")
    expect(page.get_by_label("Feature created")).to_be_checked()
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "webhook-refused.png"), full_page=True)
    assert WebhookEndpoint.objects.count() == 0
