"""A real Chromium (Debian's, via Playwright's ``executable_path``) against a live server.

Playwright's sync API runs an event loop in the test's thread, which makes Django's
async-safety check refuse ORM calls from the test itself; the test is still plain synchronous
code, so the check is switched off for browser tests only.
"""

import os

import pytest

from accounts.models import Role
from tests import factories as f

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"  # the factories' password


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import expect, sync_playwright

    from tests.support import browser_missing_reason, chromium_path

    if browser_missing_reason():
        pytest.skip(browser_missing_reason())
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    # A loaded CI machine (2 cores, the suite in parallel) answers slower than a desk.
    expect.set_options(timeout=15_000)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=chromium_path(), args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (no cookies) with a 1440×900 viewport; ``page.base_url`` is
    the live server's address. Console errors and failed requests fail the test, but for those
    containing one of ``page.expected_errors`` (a test that provokes a refusal lists it)."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.base_url = live_server.url
    page.expected_errors = []
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    errors = [e for e in errors if not any(x in e for x in page.expected_errors)]
    assert errors == [], f"browser console errors: {errors}"


@pytest.fixture
def pm(workspace):
    """An editor with a known password."""
    user = f.UserFactory(email="pm@example.com", display_name="Pat PM")
    f.MembershipFactory(workspace=workspace, user=user, role=Role.EDITOR)
    return user


def log_in(page, user, password: str = PASSWORD) -> None:
    """Log in through the login form, as a person would."""
    page.goto(page.base_url + "/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/accounts/login" not in url)
