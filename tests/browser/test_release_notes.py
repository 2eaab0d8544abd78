"""Release notes in a real browser (issue 18): the PM writes the summary and publishes on the
release's page; a stakeholder follows the share link's "release notes" and reads them."""

import pytest
from playwright.sync_api import expect

from roadmap.sharing.services import sharing
from tests import factories as f
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


def test_pm_publishes_release_notes_and_a_stakeholder_reads_them(page, browser, pm, product):
    release = f.ReleaseFactory(product=product, name="Winter 2026")
    f.RoadmapItemFactory(
        product=product,
        feature=f.FeatureFactory(product=product, title="Offline sync v2", status="shipped"),
        release=release,
        visibility="external",
        external_title="Offline mode",
    )
    link = sharing.share_link_create(product=product, label="Customers", audience="customers")
    log_in(page, pm)
    page.goto(f"{page.base_url}/products/{product.slug}/releases/{release.pk}/")

    notes = page.locator("#notes")
    expect(notes).to_contain_text("Not published")
    expect(notes).to_contain_text("Offline mode")
    notes.get_by_label("Summary for customers").fill("Offline at last: **work on the train**.")
    notes.get_by_role("button", name="Publish release notes").click()

    expect(
        page.get_by_text("Release notes of “Winter 2026” published on the share links.")
    ).to_be_visible()
    expect(page.locator("#notes")).to_contain_text("Published")

    visitor = browser.new_context().new_page()
    visitor.goto(f"{page.base_url}/r/{link.token}/")
    visitor.get_by_role("link", name="release notes").click()
    expect(visitor.get_by_role("heading", name="Winter 2026")).to_be_visible()
    expect(visitor.locator(".x-release strong").first).to_have_text("work on the train")
    expect(visitor.locator(".x-release__items")).to_contain_text("Offline mode")
    assert "Offline sync v2" not in visitor.content()
    visitor.context.close()


def test_pm_takes_release_notes_back(page, pm, product):
    from roadmap.strategy.services.launch import release_notes_save

    release = f.ReleaseFactory(product=product, name="Winter 2026")
    f.RoadmapItemFactory(
        product=product,
        feature=f.FeatureFactory(product=product, status="shipped"),
        release=release,
        visibility="external",
    )
    release_notes_save(release=release, public_summary="Hello", publish=True)
    log_in(page, pm)
    page.goto(f"{page.base_url}/products/{product.slug}/releases/{release.pk}/")

    page.locator("#notes").get_by_role("button", name="Take back").click()

    expect(page.get_by_text("Release notes of “Winter 2026” taken back.")).to_be_visible()
    expect(page.locator("#notes")).to_contain_text("Not published")
    release.refresh_from_db()
    assert release.notes_published_at is None
