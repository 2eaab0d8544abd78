"""The harness itself: a PM logs in through the form and lands on the products page."""

import pytest

from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


def test_pm_logs_in_and_sees_products(page, pm, product):
    log_in(page, pm)

    assert page.get_by_role("heading", level=1).inner_text().strip() != ""
    assert page.get_by_role("link", name=product.name).first.is_visible()
