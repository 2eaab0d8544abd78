"""Digest emails end to end (locmem mail, tasks run in-process): what a subscriber gets, once;
outsiders signing up from the external page; the PM's subscriber list and next-digest preview."""

import datetime
import re

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from roadmap.evidence.services import insight_save
from roadmap.models import DigestDelivery, DigestStatus, Subscription
from roadmap.planning.services.features import feature_update
from roadmap.planning.services.roadmap import roadmap_item_move
from roadmap.planning.services.scoring import product_recompute_scores
from roadmap.sharing.services.digests import (
    digest_build,
    digest_sections_forget,
    digest_send,
    digests_enqueue_due,
    subscription_add,
    subscription_request,
    unsubscribe_url,
)
from tests import factories as f

SHIPPED = "Faster CSV exports"
MOVED = "Dark mode everywhere"
INTERNAL_MARKERS = (
    "Project Nightingale",  # an internal item's title
    "Acme churn risk",  # internal_notes
    "Globex Industries",  # a customer behind an insight
    "export-v2-internal",  # the shipped feature's internal title
    "123457",  # a scoring input (reach)
)


@pytest.fixture
def roadmap(product):
    """Two external items (one with an internal feature title), one internal item."""
    shipped = f.RoadmapItemFactory(
        product=product,
        feature=f.FeatureFactory(
            product=product,
            title="export-v2-internal",
            status="in_progress",
            internal_notes="Acme churn risk if late",
            reach=123457,
        ),
        visibility="external",
        external_title=SHIPPED,
        horizon="now",
    )
    moved = f.RoadmapItemFactory(
        product=product,
        feature=f.FeatureFactory(product=product, title=MOVED, status="planned"),
        visibility="external",
        horizon="next",
    )
    secret = f.RoadmapItemFactory(
        product=product,
        feature=f.FeatureFactory(
            product=product, title="Project Nightingale", internal_notes="Acme churn risk"
        ),
        visibility="internal",
        horizon="now",
    )
    insight = f.InsightFactory(product=product, customer="Globex Industries")
    insight_save(
        product=product, data={}, insight=insight, features=[shipped.feature, secret.feature]
    )
    product_recompute_scores(product_id=product.pk)
    return {"shipped": shipped, "moved": moved, "secret": secret}


@pytest.fixture
def link(product):
    return f.ShareLinkFactory(product=product, audience="customers")


def _follow(product, link, email="cto@customer.example"):
    return subscription_add(
        product=product,
        share_link=link,
        email=email,
        name="Dana",
        frequency="daily",
        send_time=datetime.time(0, 0),
    )


def _enqueue(capture):
    with capture(execute=True):
        return digests_enqueue_due(now=timezone.now())


def _body(message):
    return message.body + message.alternatives[0][0]


def _ship_and_move(roadmap):
    feature_update(feature=roadmap["shipped"].feature, data={"status": "shipped"})
    roadmap_item_move(item=roadmap["moved"], horizon="later", position=0)


def test_subscriber_gets_one_digest_of_what_changed(
    product, roadmap, link, mailoutbox, django_capture_on_commit_callbacks
):
    subscription = _follow(product, link)

    _ship_and_move(roadmap)
    _enqueue(django_capture_on_commit_callbacks)
    _enqueue(django_capture_on_commit_callbacks)  # the beat again: nothing twice

    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["cto@customer.example"]
    assert message.subject == f"{product.name}: 2 roadmap updates"
    html = message.alternatives[0][0]
    for body in (message.body, html):
        assert SHIPPED in body and MOVED in body
        assert "Moved from Next to Later" in body
    assert "SHIPPED\n- Faster CSV exports" in message.body
    assert "MOVED\n- Dark mode everywhere — Moved from Next to Later" in message.body
    unsubscribe = re.search(r"<(http[^>]+)>", message.extra_headers["List-Unsubscribe"]).group(1)
    assert "/digests/unsubscribe/" in unsubscribe
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe in message.body and unsubscribe in html
    delivery = DigestDelivery.objects.get(subscription=subscription)
    assert delivery.status == DigestStatus.SENT


def test_a_sent_delivery_is_not_sent_again(
    product, roadmap, link, mailoutbox, django_capture_on_commit_callbacks
):
    _follow(product, link)
    _ship_and_move(roadmap)
    [delivery_id] = _enqueue(django_capture_on_commit_callbacks)

    assert digest_send(delivery_id=delivery_id) == DigestStatus.SENT
    assert len(mailoutbox) == 1


def test_a_digest_sent_again_keeps_its_message_id(
    product, roadmap, link, mailoutbox, django_capture_on_commit_callbacks, settings
):
    settings.DEFAULT_FROM_EMAIL = "Atlas roadmap <roadmap@mail.example.com>"
    _follow(product, link)
    _ship_and_move(roadmap)
    [delivery_id] = _enqueue(django_capture_on_commit_callbacks)

    # A worker that died after the mail went out but before the row was marked sent: the
    # digest goes out again, as the same message, so mail systems can drop the duplicate
    DigestDelivery.objects.filter(pk=delivery_id).update(status=DigestStatus.PENDING)
    assert digest_send(delivery_id=delivery_id) == DigestStatus.SENT

    first, again = (message.message()["Message-ID"] for message in mailoutbox)
    assert first == again
    assert re.fullmatch(r"<[0-9a-f]{32}@mail\.example\.com>", first)
    assert mailoutbox[0].body == mailoutbox[1].body
    # Another install (another SECRET_KEY) sending its delivery of the same number: another id.
    settings.SECRET_KEY = "another install's secret key, long enough for its checks"
    DigestDelivery.objects.filter(pk=delivery_id).update(status=DigestStatus.PENDING)
    digest_send(delivery_id=delivery_id)
    assert mailoutbox[2].message()["Message-ID"] != first


def test_a_send_the_mail_server_refuses_records_nothing(
    product, roadmap, link, django_capture_on_commit_callbacks, settings
):
    subscription = _follow(product, link)
    sent_through = Subscription.objects.get(pk=subscription.pk).sent_through
    _ship_and_move(roadmap)
    with django_capture_on_commit_callbacks(execute=False):  # enqueued, not run
        [delivery_id] = digests_enqueue_due(now=timezone.now())
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2

    # The row is written as sent before the send: the refusal rolls all of it back
    with pytest.raises(OSError):
        digest_send(delivery_id=delivery_id)

    delivery = DigestDelivery.objects.get(pk=delivery_id)
    assert (delivery.status, delivery.attempts, delivery.sent_at) == (
        DigestStatus.PENDING,
        0,
        None,
    )
    assert Subscription.objects.get(pk=subscription.pk).sent_through == sent_through


def test_a_member_removed_from_the_workspace_gets_no_more_internal_digests(
    product, roadmap, editor, mailoutbox, django_capture_on_commit_callbacks
):
    subscription = subscription_add(
        product=product,
        email=editor.email,
        user=editor,
        frequency="daily",
        send_time=datetime.time(0, 0),
    )
    _same_window(subscription)
    _ship_and_move(roadmap)
    editor.memberships.all().delete()

    [delivery_id] = _enqueue(django_capture_on_commit_callbacks)

    assert mailoutbox == []
    delivery = DigestDelivery.objects.get(pk=delivery_id)
    assert (delivery.status, delivery.last_error) == (
        DigestStatus.SKIPPED,
        "No longer a member of the workspace when sending.",
    )


def test_no_email_when_only_internal_items_changed(
    product, roadmap, link, mailoutbox, django_capture_on_commit_callbacks
):
    subscription = _follow(product, link)

    feature_update(feature=roadmap["secret"].feature, data={"status": "shipped"})
    roadmap_item_move(item=roadmap["secret"], horizon="later", position=0)
    feature_update(feature=roadmap["shipped"].feature, data={"internal_notes": "more notes"})
    _enqueue(django_capture_on_commit_callbacks)

    assert mailoutbox == []
    assert DigestDelivery.objects.get(subscription=subscription).status == DigestStatus.SKIPPED


def test_external_digest_leaks_nothing_internal(
    product, roadmap, link, mailoutbox, django_capture_on_commit_callbacks
):
    _follow(product, link)
    scores = [str(item.feature.score) for item in roadmap.values()]
    scores = [s for s in scores if s not in ("", "None", "0", "0.00")]

    _ship_and_move(roadmap)
    feature_update(feature=roadmap["secret"].feature, data={"status": "shipped"})
    _enqueue(django_capture_on_commit_callbacks)

    [message] = mailoutbox
    text = message.subject + _body(message) + str(message.extra_headers)
    for marker in (*INTERNAL_MARKERS, *scores):
        assert marker not in text, marker


def test_changes_before_subscribing_are_not_told(
    product, roadmap, link, mailoutbox, django_capture_on_commit_callbacks
):
    _ship_and_move(roadmap)  # before anyone follows
    subscription = _follow(product, link)
    _enqueue(django_capture_on_commit_callbacks)

    assert mailoutbox == []
    assert DigestDelivery.objects.get(subscription=subscription).status == DigestStatus.SKIPPED


# --- Subscribers of one window share its sections, never across audiences -----------------------


def _same_window(*subscriptions):
    start = timezone.now() - datetime.timedelta(minutes=1)
    Subscription.objects.filter(pk__in=[s.pk for s in subscriptions]).update(sent_through=start)


def test_internal_sections_built_first_never_reach_an_external_subscriber(
    product, roadmap, link, editor, mailoutbox, django_capture_on_commit_callbacks
):
    digest_sections_forget()
    investors = f.ShareLinkFactory(product=product, audience="investors")
    # Sent in the order of their addresses: the internal digest is built first
    subscriptions = [
        subscription_add(
            product=product,
            email="a-member@example.org",
            user=editor,
            frequency="daily",
            send_time=datetime.time(0, 0),
        ),
        _follow(product, link, email="b-customer@example.org"),
        _follow(product, investors, email="c-investor@example.org"),
        _follow(product, link, email="d-customer@example.org"),
    ]
    _same_window(*subscriptions)
    # Dated: investors, told quarters, see no move when the horizon changes
    roadmap["moved"].end_date = datetime.date(2027, 8, 1)
    roadmap["moved"].save(update_fields=["end_date"])
    _ship_and_move(roadmap)
    feature_update(feature=roadmap["secret"].feature, data={"status": "shipped"})

    _enqueue(django_capture_on_commit_callbacks)

    mails = {message.to[0]: message for message in mailoutbox}
    assert sorted(mails) == [s.email for s in subscriptions]
    assert "Project Nightingale" in _body(mails["a-member@example.org"])
    for email in ("b-customer@example.org", "c-investor@example.org", "d-customer@example.org"):
        text = mails[email].subject + _body(mails[email])
        assert SHIPPED in text
        for marker in INTERNAL_MARKERS:
            assert marker not in text, (email, marker)
    # Customers read of the move by horizon; investors, by quarter, are not told of it
    assert "Moved from Next to Later" in _body(mails["d-customer@example.org"])
    assert MOVED not in _body(mails["c-investor@example.org"])
    # Each with their own unsubscribe link
    links = {email: mails[email].extra_headers["List-Unsubscribe"] for email in mails}
    assert len(set(links.values())) == 4


def test_a_change_committed_late_into_a_window_reaches_later_subscribers(
    product, roadmap, link, django_assert_num_queries
):
    digest_sections_forget()
    first, second = _follow(product, link, "first@example.org"), _follow(product, link)
    since = timezone.now() - datetime.timedelta(minutes=1)
    roadmap_item_move(item=roadmap["moved"], horizon="later", position=0)
    until = timezone.now() + datetime.timedelta(seconds=1)
    before = digest_build(subscription=first, since=since, until=until, reuse_sections=True)

    # A transaction that began inside the window commits its change only now
    feature_update(feature=roadmap["shipped"].feature, data={"status": "shipped"})
    after = digest_build(subscription=second, since=since, until=until, reuse_sections=True)
    with django_assert_num_queries(1):  # the window's events are counted, not read again
        again = digest_build(subscription=second, since=since, until=until, reuse_sections=True)

    assert SHIPPED not in before.text and MOVED in before.text
    assert SHIPPED in after.text and MOVED in after.text
    assert again == after


# --- Outsiders sign up from the external page ----------------------------------------------------


def _page(link):
    return reverse("external:roadmap", kwargs={"token": link.token})


def _subscribe_url(link):
    return reverse("external:subscribe", kwargs={"token": link.token})


def test_external_page_has_a_subscribe_form(client, link):
    page = client.get(_page(link)).content.decode()

    assert f'action="{_subscribe_url(link)}"' in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert 'name="email"' in page and 'value="daily"' in page and 'value="weekly"' in page


def test_outsider_subscribes_confirms_and_only_then_gets_digests(
    client, product, roadmap, link, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            _subscribe_url(link),
            {"email": "Reader@Example.org", "name": "Robin", "frequency": "daily"},
        )

    assert response.status_code == 200
    assert b"Check your inbox" in response.content
    subscription = Subscription.objects.get(share_link=link)
    assert (subscription.email, subscription.frequency) == ("reader@example.org", "daily")
    assert subscription.confirmed_at is None
    [confirmation] = mailoutbox
    assert confirmation.to == ["reader@example.org"]

    # Nothing is sent before confirmation
    Subscription.objects.filter(pk=subscription.pk).update(send_time=datetime.time(0, 0))
    _ship_and_move(roadmap)
    assert _enqueue(django_capture_on_commit_callbacks) == []
    assert len(mailoutbox) == 1

    url = re.search(r"https?://\S+/digests/confirm/\S+/", confirmation.body).group(0)
    assert client.post(url[url.index("/digests/") :]).status_code == 200
    subscription.refresh_from_db()
    assert subscription.confirmed_at is not None

    roadmap_item_move(item=roadmap["moved"], horizon="now", position=0)
    _enqueue(django_capture_on_commit_callbacks)
    assert len(mailoutbox) == 2
    assert mailoutbox[1].to == ["reader@example.org"]
    assert "Moved from Later to Now" in mailoutbox[1].body


def test_subscribing_twice_gives_the_same_answer(
    client, product, link, mailoutbox, django_capture_on_commit_callbacks
):
    _follow(product, link, email="known@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post(
            _subscribe_url(link), {"email": "known@example.org", "frequency": "weekly"}
        )
        new = client.post(_subscribe_url(link), {"email": "new@example.org", "frequency": "weekly"})

    assert known.status_code == new.status_code == 200
    assert known.content == new.content
    assert [m.to for m in mailoutbox] == [["new@example.org"]]  # the confirmed one is not re-asked


def test_invalid_email_shows_the_form_again_with_the_error(client, link, mailoutbox):
    response = client.post(_subscribe_url(link), {"email": "not-an-address", "frequency": "daily"})

    assert response.status_code == 400
    page = response.content.decode()
    assert "Enter a valid email address." in page
    assert 'value="not-an-address"' in page
    assert not Subscription.objects.exists()
    assert mailoutbox == []


def test_subscribe_is_csrf_protected(link):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(
        _subscribe_url(link), {"email": "a@example.org", "frequency": "daily"}
    )

    assert response.status_code == 403
    assert not Subscription.objects.exists()


def test_revoked_or_unknown_link_cannot_be_subscribed(client, link, mailoutbox):
    unknown = client.post(
        reverse("external:subscribe", kwargs={"token": "nope"}), {"email": "a@example.org"}
    )
    link.revoked_at = timezone.now()
    link.save()
    revoked = client.post(_subscribe_url(link), {"email": "a@example.org", "frequency": "daily"})

    assert unknown.status_code == revoked.status_code == 404
    assert unknown.content == revoked.content
    assert not Subscription.objects.exists()
    assert mailoutbox == []


def test_password_protected_link_needs_the_password_to_subscribe(client, product, mailoutbox):
    from roadmap.sharing.services.sharing import share_link_create

    link = share_link_create(
        product=product, label="Board", audience="investors", password="s3cret-board-pass"
    )

    response = client.post(_subscribe_url(link), {"email": "a@example.org", "frequency": "daily"})

    assert response.status_code == 302
    assert not Subscription.objects.exists()


def _ask(client, link, email, address="203.0.113.7"):
    return client.post(
        _subscribe_url(link), {"email": email, "frequency": "weekly"}, REMOTE_ADDR=address
    )


def test_one_address_may_ask_five_times_an_hour(
    client, link, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        allowed = [_ask(client, link, f"reader{i}@example.org") for i in range(5)]
        refused = _ask(client, link, "sixth@example.org")
        elsewhere = _ask(client, link, "sixth@example.org", address="198.51.100.9")

    assert [r.status_code for r in allowed] == [200] * 5
    assert refused.status_code == 429
    assert refused["Retry-After"] == "3600"
    page = refused.content.decode()
    assert "Too many subscription requests. Please try again later." in page
    assert 'value="sixth@example.org"' in page
    # The refused request created nothing and mailed no one; another address is not held back
    assert elsewhere.status_code == 200
    assert [m.to for m in mailoutbox] == [[f"reader{i}@example.org"] for i in range(5)] + [
        ["sixth@example.org"]
    ]
    assert Subscription.objects.count() == 6


def test_one_email_address_gets_three_requests_a_day_whatever_the_link(
    client, product, link, mailoutbox, django_capture_on_commit_callbacks
):
    other_link = f.ShareLinkFactory(product=f.ProductFactory(), audience="investors")
    with django_capture_on_commit_callbacks(execute=True):
        allowed = [
            _ask(client, link, "victim@example.org", address=f"198.51.100.{i}") for i in range(3)
        ]
        refused = [
            _ask(client, link, "Victim@Example.org", address="192.0.2.1"),
            _ask(client, other_link, "victim@example.org", address="192.0.2.2"),
        ]

    assert [r.status_code for r in allowed] == [200] * 3
    assert [r.status_code for r in refused] == [429, 429]
    assert refused[0]["Retry-After"] == str(24 * 60 * 60)
    assert len(mailoutbox) == 3  # the confirmation, sent again twice, then nothing
    assert list(Subscription.objects.values_list("share_link", "email")) == [
        (link.pk, "victim@example.org")
    ]


def test_an_ipv6_client_counts_as_its_whole_64(client, link, mailoutbox):
    for i in range(5):
        assert (
            _ask(client, link, f"r{i}@example.org", address=f"2001:db8:1:2::{i + 1}").status_code
            == 200
        )

    assert _ask(client, link, "r5@example.org", address="2001:db8:1:2:ffff::1").status_code == 429
    assert _ask(client, link, "r5@example.org", address="2001:db8:1:3::1").status_code == 200


def test_invalid_requests_do_not_use_up_the_limit(client, link):
    for _ in range(6):
        assert _ask(client, link, "not-an-address").status_code == 400

    assert _ask(client, link, "reader@example.org").status_code == 200


# --- The PM's subscriber list --------------------------------------------------------------------


def _list(product):
    return reverse("sharing:list", kwargs={"slug": product.slug})


def _add_url(product, link):
    return reverse("sharing:subscriber-add", kwargs={"slug": product.slug, "pk": link.pk})


def _sub_url(name, product, link, subscription):
    kwargs = {"slug": product.slug, "pk": link.pk, "subscription_pk": subscription.pk}
    return reverse(f"sharing:{name}", kwargs=kwargs)


def test_pm_sees_subscribers_of_each_link(editor_client, product, link):
    _follow(product, link, email="confirmed@example.org")
    subscription_request(share_link=link, email="pending@example.org", frequency="weekly")

    page = editor_client.get(_list(product)).content.decode()

    assert "confirmed@example.org" in page and "pending@example.org" in page
    assert "Confirmed" in page and "Not yet" in page
    assert "Daily" in page and "Weekly" in page
    assert f'action="{_add_url(product, link)}"' in page


@pytest.mark.parametrize("spelling", ["sam@example.org", "SAM@Example.org", "ſam@example.org"])
def test_an_address_follows_a_link_or_a_roadmap_once_however_it_is_spelled(product, link, spelling):
    subscription_add(product=product, share_link=link, email="sam@example.org")
    subscription_add(product=product, email="sam@example.org")

    with pytest.raises(ValidationError) as on_link:
        subscription_add(product=product, share_link=link, email=spelling)
    with pytest.raises(ValidationError) as internal:
        subscription_add(product=product, email=spelling)

    assert on_link.value.message_dict == {"email": ["This address already follows this link."]}
    assert internal.value.message_dict == {"email": ["This address already follows this roadmap."]}
    assert Subscription.objects.count() == 2


def test_pm_adds_and_removes_a_subscriber(editor_client, product, link):
    response = editor_client.post(
        _add_url(product, link),
        {"email": "Board@Example.org", "name": "Board", "frequency": "weekly"},
    )

    assert response.status_code == 302
    subscription = Subscription.objects.get(share_link=link)
    assert subscription.email == "board@example.org" and subscription.confirmed_at is not None

    again = editor_client.post(
        _add_url(product, link), {"email": "board@example.org", "frequency": "weekly"}
    )
    assert again.status_code == 400
    assert "already follows" in again.content.decode()

    bad = editor_client.post(_add_url(product, link), {"email": "nope", "frequency": "weekly"})
    assert bad.status_code == 400 and 'value="nope"' in bad.content.decode()

    removed = editor_client.post(_sub_url("subscriber-remove", product, link, subscription))
    assert removed.status_code == 302
    assert not Subscription.objects.exists()


def test_viewers_see_subscribers_but_cannot_change_them(viewer_client, product, link):
    subscription = _follow(product, link)

    page = viewer_client.get(_list(product)).content.decode()
    add = viewer_client.post(
        _add_url(product, link), {"email": "x@example.org", "frequency": "daily"}
    )
    remove = viewer_client.post(_sub_url("subscriber-remove", product, link, subscription))

    assert subscription.email in page
    assert f'action="{_add_url(product, link)}"' not in page
    assert _sub_url("subscriber-remove", product, link, subscription) not in page
    assert _sub_url("subscriber-preview", product, link, subscription) in page
    assert add.status_code == remove.status_code == 403
    assert Subscription.objects.count() == 1


def test_other_workspaces_get_404(outsider_client, product, link):
    subscription = _follow(product, link)

    answers = [
        outsider_client.post(_add_url(product, link), {"email": "x@example.org"}),
        outsider_client.post(_sub_url("subscriber-remove", product, link, subscription)),
        outsider_client.get(_sub_url("subscriber-preview", product, link, subscription)),
    ]

    assert [r.status_code for r in answers] == [404, 404, 404]
    assert Subscription.objects.count() == 1


def test_subscriber_of_another_link_is_404(editor_client, product, link):
    other = f.ShareLinkFactory(product=product)
    subscription = _follow(product, other)

    response = editor_client.post(_sub_url("subscriber-remove", product, link, subscription))

    assert response.status_code == 404
    assert Subscription.objects.count() == 1


def test_pm_previews_the_next_digest(client, editor, viewer, product, roadmap, link, mailoutbox):
    subscription = _follow(product, link)
    url = _sub_url("subscriber-preview", product, link, subscription)
    client.force_login(viewer)

    empty = client.get(url).content.decode()
    _ship_and_move(roadmap)
    client.force_login(editor)
    full = client.get(url).content.decode()

    assert "Nothing to send" in empty
    assert SHIPPED in full and "Moved from Next to Later" in full
    assert f"{product.name}: 2 roadmap updates" in full
    for marker in INTERNAL_MARKERS:
        assert marker not in full
    assert mailoutbox == []
    assert not DigestDelivery.objects.exists()


@pytest.mark.parametrize("role", [Role.ADMIN])
def test_admins_can_add_subscribers(client, workspace, product, link, role):
    client.force_login(f.MembershipFactory(workspace=workspace, role=role).user)

    response = client.post(
        _add_url(product, link), {"email": "a@example.org", "frequency": "daily"}
    )

    assert response.status_code == 302
    assert Subscription.objects.filter(share_link=link, email="a@example.org").exists()


# --- The links in the emails: a page with one button; the button acts ----------------------------


def _confirm_url(subscription):
    return reverse("digests:confirm", kwargs={"token": subscription.confirmation_token})


def _unsubscribe_path(subscription):
    return unsubscribe_url(subscription).removeprefix(settings.SITE_URL)


@pytest.fixture
def pending(link):
    return subscription_request(share_link=link, email="reader@example.org", frequency="daily")


def test_opening_the_confirmation_link_confirms_nothing_until_the_button(client, pending):
    # A mail scanner opens every link of a message: GET and HEAD change nothing.
    page = client.get(_confirm_url(pending))
    head = client.head(_confirm_url(pending))

    assert (page.status_code, head.status_code) == (200, 200)
    html = page.content.decode()
    assert "Confirm your subscription" in html and "reader@example.org" in html
    assert 'method="post"' in html and 'name="csrfmiddlewaretoken"' in html
    assert page["Referrer-Policy"] == "same-origin"
    assert "no-store" in page["Cache-Control"]
    pending.refresh_from_db()
    assert pending.confirmed_at is None

    confirmed = client.post(_confirm_url(pending))

    assert confirmed.status_code == 200
    assert "You're subscribed" in confirmed.content.decode()
    pending.refresh_from_db()
    assert pending.confirmed_at is not None
    assert pending.sent_through == pending.confirmed_at
    # Opened again later: it says so, without a button.
    again = client.get(_confirm_url(pending)).content.decode()
    assert "You're subscribed" in again and 'method="post"' not in again


def test_confirming_needs_the_csrf_token_and_a_real_token(pending):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)

    assert strict.post(_confirm_url(pending)).status_code == 403
    assert strict.get("/digests/confirm/not-a-token/").status_code == 404
    assert Client().post("/digests/confirm/not-a-token/").status_code == 404
    pending.refresh_from_db()
    assert pending.confirmed_at is None


def test_confirming_after_unsubscribing_subscribes_again_from_then_on(client, pending):
    client.post(_confirm_url(pending))
    client.post(_unsubscribe_path(pending))
    pending.refresh_from_db()
    first_confirmed, unsubscribed_at = pending.confirmed_at, pending.unsubscribed_at
    assert unsubscribed_at is not None
    assert "Confirm subscription" in client.get(_confirm_url(pending)).content.decode()

    client.post(_confirm_url(pending))

    pending.refresh_from_db()
    assert pending.unsubscribed_at is None
    assert pending.confirmed_at == first_confirmed
    assert pending.sent_through > unsubscribed_at  # nothing from while they were away


def test_opening_the_unsubscribe_link_unsubscribes_nothing_until_the_button(client, product, link):
    subscription = _follow(product, link)

    page = client.get(_unsubscribe_path(subscription))
    head = client.head(_unsubscribe_path(subscription))

    assert (page.status_code, head.status_code) == (200, 200)
    html = page.content.decode()
    assert "Unsubscribe?" in html and "cto@customer.example" in html
    assert 'name="csrfmiddlewaretoken"' in html
    subscription.refresh_from_db()
    assert subscription.unsubscribed_at is None

    done = client.post(_unsubscribe_path(subscription))

    assert done.status_code == 200
    assert "You're unsubscribed" in done.content.decode()
    subscription.refresh_from_db()
    assert subscription.unsubscribed_at is not None


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_one_click_unsubscribe_of_rfc_8058_needs_no_page_nor_csrf_token(product, link, encoding):
    from django.test import Client

    subscription = _follow(product, link)
    mail_client = Client(enforce_csrf_checks=True)  # no cookie, no token: a mail client's POST
    if encoding == "urlencoded":
        response = mail_client.post(
            _unsubscribe_path(subscription),
            "List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )
    else:
        response = mail_client.post(
            _unsubscribe_path(subscription), {"List-Unsubscribe": "One-Click"}
        )

    assert response.status_code == 200
    subscription.refresh_from_db()
    assert subscription.unsubscribed_at is not None


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"List-Unsubscribe": "one-click"},
        {"List-Unsubscribe": "One-Click", "also": "this"},
        {"List-Unsubscribe": ["One-Click", "One-Click"]},
    ],
)
def test_any_other_unsubscribe_post_needs_the_csrf_token(product, link, body):
    from django.test import Client

    subscription = _follow(product, link)

    response = Client(enforce_csrf_checks=True).post(_unsubscribe_path(subscription), body)

    assert response.status_code == 403
    subscription.refresh_from_db()
    assert subscription.unsubscribed_at is None


def test_a_forged_unsubscribe_link_is_404_for_every_method(client, product, link):
    subscription = _follow(product, link)
    forged = _unsubscribe_path(subscription)[:-4] + "xyz/"

    assert client.get(forged).status_code == 404
    assert client.post(forged).status_code == 404
    assert client.post(forged, {"List-Unsubscribe": "One-Click"}).status_code == 404
    assert client.put(forged).status_code == 405
    subscription.refresh_from_db()
    assert subscription.unsubscribed_at is None
