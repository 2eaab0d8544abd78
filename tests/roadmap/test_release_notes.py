"""Release notes (issue 18): a release's shipped external items, with the PM's summary, become a
page on every share link, an entry of its Atom feed and a section of its digests — once
published, and never anything internal."""

import datetime
import re

import feedparser
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from roadmap.models import ChangeEvent, ChangeKind, Release
from roadmap.planning.services.features import feature_update
from roadmap.sharing.external import release_anchor
from roadmap.sharing.services.digests import digests_enqueue_due, subscription_add
from roadmap.strategy.services.launch import release_notes_save
from tests import factories as f

SUMMARY = "Offline at last: **work on the train**."


@pytest.fixture
def release(product):
    """A release with one shipped external item, one shipped internal item, and one external
    item still in progress."""
    release = f.ReleaseFactory(product=product, name="Winter 2026")
    shipped = f.FeatureFactory(
        product=product, title="Offline sync v2", status="shipped", internal_notes="Acme asked"
    )
    f.RoadmapItemFactory(
        product=product,
        feature=shipped,
        release=release,
        visibility="external",
        external_title="Offline mode",
        external_description="Keep working without a connection.",
    )
    secret = f.FeatureFactory(product=product, title="Project Nightingale", status="shipped")
    f.RoadmapItemFactory(product=product, feature=secret, release=release, visibility="internal")
    pending = f.FeatureFactory(product=product, title="Dark mode", status="in_progress")
    f.RoadmapItemFactory(product=product, feature=pending, release=release, visibility="external")
    f.InsightFactory(product=product, customer="Globex Industries").features.add(shipped)
    return release


@pytest.fixture
def link(product):
    return f.ShareLinkFactory(product=product, audience="customers")


def _releases_url(link) -> str:
    return reverse("external:releases", kwargs={"token": link.token})


def test_publishing_needs_a_shipped_external_item(product):
    empty = f.ReleaseFactory(product=product)
    f.RoadmapItemFactory(
        product=product,
        feature=f.FeatureFactory(product=product, status="shipped"),
        release=empty,
        visibility="internal",
    )

    with pytest.raises(ValidationError) as refused:
        release_notes_save(release=empty, public_summary="Hi", publish=True)

    assert "has shipped on the external roadmap" in str(refused.value)
    empty.refresh_from_db()
    assert empty.notes_published_at is None and empty.public_summary == ""
    assert not ChangeEvent.objects.filter(kind=ChangeKind.RELEASE_NOTES).exists()


def test_publishing_records_one_change_until_taken_back(release, editor):
    release_notes_save(release=release, public_summary=SUMMARY, publish=True, actor=editor)
    release_notes_save(release=release, public_summary=SUMMARY + " More.", publish=True)
    assert ChangeEvent.objects.filter(kind=ChangeKind.RELEASE_NOTES).count() == 1
    event = ChangeEvent.objects.get(kind=ChangeKind.RELEASE_NOTES)
    assert event.after == {
        "visibility": "external",
        "release_id": release.pk,
        "release_name": "Winter 2026",
        "summary": SUMMARY,
    }

    release_notes_save(release=release, public_summary=SUMMARY, publish=False)
    assert Release.objects.get(pk=release.pk).notes_published_at is None
    release_notes_save(release=release, public_summary=SUMMARY, publish=True)
    assert ChangeEvent.objects.filter(kind=ChangeKind.RELEASE_NOTES).count() == 2


def test_the_share_link_page_shows_published_notes_and_nothing_internal(
    client, release, link, product, django_assert_max_num_queries
):
    unpublished = f.ReleaseFactory(product=product, name="Spring 2027", public_summary="Soon")
    f.RoadmapItemFactory(
        product=product,
        feature=f.FeatureFactory(product=product, status="shipped", title="Calendar"),
        release=unpublished,
        visibility="external",
    )
    assert "No release notes yet" in client.get(_releases_url(link)).content.decode()
    release_notes_save(release=release, public_summary=SUMMARY, publish=True)

    with django_assert_max_num_queries(4):
        response = client.get(_releases_url(link))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Winter 2026" in html and f'id="{release_anchor(release.pk)}"' in html
    assert "<strong>work on the train</strong>" in html
    assert "Offline mode" in html and "Keep working without a connection." in html
    for secret in (
        "Offline sync v2",
        "Project Nightingale",
        "Dark mode",
        "Acme asked",
        "Globex",
        "Spring 2027",
        "Calendar",
    ):
        assert secret not in html
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "default-src 'none'" in response["Content-Security-Policy"]
    page = client.get(reverse("external:roadmap", kwargs={"token": link.token})).content.decode()
    assert f'href="{_releases_url(link)}"' in page


def test_the_page_answers_like_the_roadmap_for_unusable_or_locked_links(client, product, release):
    release_notes_save(release=release, public_summary=SUMMARY, publish=True)
    revoked = f.ShareLinkFactory(product=product, revoked_at=timezone.now())
    unknown = client.get("/r/no-such-token/releases/")
    closed = client.get(_releases_url(revoked))
    assert unknown.status_code == closed.status_code == 404
    assert unknown.content == closed.content
    from roadmap.sharing.services import sharing

    locked = sharing.share_link_create(
        product=product, label="Locked", audience="customers", password="open sesame"
    )
    response = client.get(_releases_url(locked))
    assert response.status_code == 302
    assert response.url == reverse("external:roadmap", kwargs={"token": locked.token})


def test_pages_of_release_notes(client, product, link):
    for n in range(12):
        release = f.ReleaseFactory(product=product, name=f"R{n:02}")
        f.RoadmapItemFactory(
            product=product,
            feature=f.FeatureFactory(product=product, status="shipped"),
            release=release,
            visibility="external",
        )
        release_notes_save(release=release, public_summary="", publish=True)

    first = client.get(_releases_url(link)).content.decode()
    second = client.get(_releases_url(link), {"page": "2"}).content.decode()
    odd = client.get(_releases_url(link), {"page": "x" * 50})

    assert first.count('class="x-section x-release"') == 10 and "R11" in first
    assert 'rel="next"' in first and "R00" not in first
    assert second.count('class="x-section x-release"') == 2 and "R00" in second
    assert odd.status_code == 200


def test_the_feed_has_an_entry_linking_to_the_notes(client, release, link):
    release_notes_save(release=release, public_summary=SUMMARY, publish=True)

    response = client.get(reverse("external:feed", kwargs={"token": link.token}))

    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0
    [entry] = [e for e in parsed.entries if e.title == "Release notes: Winter 2026"]
    assert entry.link.endswith(f"{_releases_url(link)}#{release_anchor(release.pk)}")
    assert "work on the train" in entry.summary
    assert "Nightingale" not in response.content.decode()


def test_digests_have_a_release_notes_section_with_its_link(
    product, release, link, mailoutbox, django_capture_on_commit_callbacks
):
    subscription_add(
        product=product,
        share_link=link,
        email="cto@customer.example",
        name="Dana",
        frequency="daily",
        send_time=datetime.time(0, 0),
    )
    release_notes_save(release=release, public_summary=SUMMARY, publish=True)
    feature_update(
        feature=f.FeatureFactory(product=product, title="Project Falcon"), data={"title": "X"}
    )

    with django_capture_on_commit_callbacks(execute=True):
        digests_enqueue_due(now=timezone.now())

    [message] = mailoutbox
    html = message.alternatives[0][0]
    assert "RELEASE NOTES\n- Winter 2026 — Offline at last: **work on the train**." in message.body
    url = re.search(r"Read the release notes: (\S+)", message.body).group(1)
    assert url.endswith(_releases_url(link))
    assert f'href="{url}"' in html and "Read the release notes" in html
    for body in (message.body, html):
        assert "Nightingale" not in body and "Globex" not in body and "Acme asked" not in body


def test_the_pm_publishes_from_the_release_page(editor_client, product, release):
    url = reverse("roadmap:release_notes", args=[product.slug, release.pk])
    page = editor_client.get(reverse("roadmap:release", args=[product.slug, release.pk]))
    html = page.content.decode()
    assert "Release notes" in html and "Offline mode" in html and "Not published" in html

    response = editor_client.post(url, {"public_summary": SUMMARY, "action": "publish"})

    assert response.status_code == 302
    release.refresh_from_db()
    assert release.notes_published_at is not None and release.public_summary == SUMMARY
    taken = editor_client.post(url, {"public_summary": SUMMARY, "action": "unpublish"})
    assert taken.status_code == 302
    release.refresh_from_db()
    assert release.notes_published_at is None


def test_publishing_nothing_shipped_is_an_error_on_the_page(editor_client, product):
    empty = f.ReleaseFactory(product=product, name="Empty")
    url = reverse("roadmap:release_notes", args=[product.slug, empty.pk])

    response = editor_client.post(url, {"public_summary": "Hello", "action": "publish"})
    too_long = editor_client.post(url, {"public_summary": "x" * 20_001, "action": "save"})

    assert response.status_code == 400
    assert "Nothing of “Empty” has shipped on the external roadmap yet" in response.content.decode()
    assert too_long.status_code == 400
    empty.refresh_from_db()
    assert empty.notes_published_at is None and empty.public_summary == ""
