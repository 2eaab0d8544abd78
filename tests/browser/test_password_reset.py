"""A person who forgot their password sets a new one from the login page, in Chromium."""

import email
import os
import re
from email import policy

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser

NEW_PASSWORD = "lighthouse keeper 1907"
SHOTS = os.environ.get("SHOTS_DIR")


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def test_a_forgotten_password_is_reset_from_the_emailed_link_once(
    page, pm, mailoutbox, settings, live_server
):
    settings.SITE_URL = live_server.url  # the email's absolute links point at this server
    page.goto(page.base_url + "/accounts/login/")
    _shot(page, "login")
    page.get_by_role("link", name="Forgot your password?").click()
    _shot(page, "reset-form")
    page.get_by_label("Email").fill(pm.email)
    page.get_by_role("button", name="Email me a link").click()

    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    _shot(page, "reset-sent")
    (message,) = mailoutbox
    parsed = email.message_from_bytes(message.message().as_bytes(), policy=policy.default)
    text = parsed.get_body(preferencelist=("plain",)).get_content()
    (link,) = re.findall(re.escape(live_server.url) + r"/accounts/password/reset/\S+/", text)

    page.goto(link)
    expect(page.get_by_role("heading", name="Set a new password")).to_be_visible()
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    _shot(page, "reset-set-password")
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("heading", name="Password set")).to_be_visible()
    _shot(page, "reset-complete")

    log_in(page, pm, NEW_PASSWORD)
    expect(page).not_to_have_url(re.compile(r"/accounts/"))

    page.goto(link)
    expect(page.get_by_role("heading", name="Link no longer valid")).to_be_visible()
    expect(page.get_by_label("New password", exact=True)).to_have_count(0)
    _shot(page, "reset-link-used")


def test_an_unknown_address_gets_the_same_page_and_no_email(page, db, mailoutbox):
    page.goto(page.base_url + "/accounts/password/reset/")
    page.get_by_label("Email").fill("nobody@example.com")
    page.get_by_role("button", name="Email me a link").click()

    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    expect(page.get_by_text("If an account uses that address")).to_be_visible()
    assert mailoutbox == []
