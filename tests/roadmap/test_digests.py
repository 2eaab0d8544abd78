"""Digest emails end to end (locmem mail, tasks run in-process): what a subscriber gets, once;
outsiders signing up from the external page; the PM's subscriber list and next-digest preview."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from roadmap.models import DigestDelivery, DigestStatus, Subscription
from roadmap.services.digests import (
    digest_send,
    digests_enqueue_due,
    subscription_add,
    subscription_request,
)
from roadmap.services.features import feature_update, insight_link_features
from roadmap.services.records import roadmap_item_move
from roadmap.services.scoring import product_recompute_scores
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
    insight_link_features(insight=insight, features=[shipped.feature, secret.feature])
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
    assert client.get(url[url.index("/digests/") :]).status_code == 200
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
    response = client.post(
        _subscribe_url(link), {"email": "not-an-address", "name": "Robin", "frequency": "daily"}
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "Enter a valid email address." in page
    assert 'value="not-an-address"' in page and 'value="Robin"' in page
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
    from roadmap.services.sharing import share_link_create

    link = share_link_create(
        product=product, label="Board", audience="investors", password="s3cret-board-pass"
    )

    response = client.post(_subscribe_url(link), {"email": "a@example.org", "frequency": "daily"})

    assert response.status_code == 302
    assert not Subscription.objects.exists()


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
