"""Every email Waymark sends, read as a mail client reads it (Python's email parser): text and HTML
alternatives, a title in the HTML, absolute links that answer 200, one-click unsubscribe headers
on everything a subscription sends, and a Message-ID of the site's own domain, unique across
installs.

The emails: the digest sign-up's confirmation, a digest of a share link, a member's digest of the
internal roadmap, a workspace invitation and a password reset. A new kind of email gets a case
here."""

import datetime
import email
import re
from email import policy

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Role
from accounts.services import invitation_create, password_reset_request
from roadmap.models import Subscription
from roadmap.planning.services.roadmap import roadmap_item_move
from roadmap.sharing.services.digests import digests_enqueue_due, subscription_add
from tests import factories as f

URL = re.compile(r"https?://[^\s\"'<>]+")
KINDS = ["confirmation", "digest", "internal digest", "invitation", "password reset"]


@pytest.fixture
def sent(
    client, workspace, product, admin_user, settings, mailoutbox, django_capture_on_commit_callbacks
):
    """One email of each kind, with the client that opens its links (its recipient's)."""
    settings.SITE_URL = "https://roadmap.example.com"
    settings.DEFAULT_FROM_EMAIL = "Waymark <roadmap@mail.example.com>"
    item = f.RoadmapItemFactory(
        product=product, visibility="external", external_title="Exports", horizon="next"
    )
    link = f.ShareLinkFactory(product=product, audience="customers")
    member = f.MembershipFactory(workspace=workspace, role=Role.VIEWER).user
    schedule = {"frequency": "daily", "send_time": datetime.time(0, 0)}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/r/{link.token}/subscribe/", {"email": "new@example.org", **schedule})
        subscription_add(product=product, share_link=link, email="cto@example.org", **schedule)
        subscription_add(product=product, email=member.email, user=member, **schedule)
        invitation_create(
            workspace=workspace, email="ada@example.com", role=Role.EDITOR, invited_by=admin_user
        )
        password_reset_request(email=admin_user.email, client="198.51.100.7")
    roadmap_item_move(item=item, horizon="now", position=0)
    with django_capture_on_commit_callbacks(execute=True):
        digests_enqueue_due(
            now=(timezone.now() + datetime.timedelta(days=1)).replace(hour=12, minute=0)
        )
    member_client = Client()
    member_client.force_login(member)
    kinds = {
        "new@example.org": ("confirmation", Client()),
        "cto@example.org": ("digest", Client()),
        member.email: ("internal digest", member_client),
        "ada@example.com": ("invitation", Client()),
        admin_user.email: ("password reset", Client()),
    }
    parsed = {}
    for message in mailoutbox:
        kind, reader = kinds[message.to[0]]
        assert kind not in parsed, f"two emails of one kind: {kind}"
        parsed[kind] = (
            email.message_from_bytes(message.message().as_bytes(), policy=policy.default),
            reader,
        )
    return parsed


def test_the_app_sends_each_kind_of_email(sent):
    assert sorted(sent) == KINDS


@pytest.mark.parametrize("kind", KINDS)
def test_each_email_is_text_and_html_with_a_title_and_links_that_open(sent, kind):
    message, reader = sent[kind]

    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    title = re.search(r"<title>([^<]+)</title>", html)
    assert title is not None and title.group(1).strip()
    links = set(URL.findall(html)) | set(URL.findall(text))
    assert links
    for url in links:
        assert url.startswith("https://roadmap.example.com/"), url
        # Django's password reset link moves its token out of the address (a redirect to
        # .../set-password/) before showing the form; it must stay on the site.
        response = reader.get(url.removeprefix("https://roadmap.example.com"), follow=True)
        assert response.status_code == 200, url
        assert all(not hop.startswith("http") for hop, _ in response.redirect_chain), url
        assert len(response.redirect_chain) <= (1 if kind == "password reset" else 0), url


def test_what_a_subscription_sends_carries_one_click_unsubscribe(sent):
    # An invitation or a password reset is a one-off message to one person, not a list: it has
    # no such headers.
    for kind in ("confirmation", "digest", "internal digest"):
        message = sent[kind][0]
        url = re.fullmatch(r"\s*<(\S+)>", message["List-Unsubscribe"]).group(1)
        assert url.startswith("https://roadmap.example.com/digests/unsubscribe/")
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        response = Client(enforce_csrf_checks=True).post(
            url.removeprefix("https://roadmap.example.com"),
            "List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 200
    assert not Subscription.objects.filter(unsubscribed_at__isnull=True).exists()


def test_message_ids_name_the_senders_domain_and_never_repeat(sent, settings):
    ids = [str(message["Message-ID"]) for message, _ in sent.values()]

    assert all(re.fullmatch(r"<[0-9a-f]{32}@mail\.example\.com>", i) for i in ids), ids
    assert len(set(ids)) == len(ids) == len(KINDS)
