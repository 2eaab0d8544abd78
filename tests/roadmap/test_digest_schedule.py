"""When digests are due, and the outbox that makes each one happen once."""

import datetime

import pytest

from roadmap.models import DigestDelivery, Subscription
from roadmap.sharing.services.digests import (
    digests_enqueue_due,
    subscription_period,
    subscription_unsubscribe,
    unsubscribe_url,
)
from tests import factories as f

UTC = datetime.UTC


def _sub(**kwargs):
    defaults = dict(frequency="weekly", weekday=0, send_time=datetime.time(9, 0), timezone="UTC")
    return Subscription(**{**defaults, **kwargs})


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime.datetime(2026, 11, 23, 8, 59, tzinfo=UTC), None),  # Monday, before 9:00
        (datetime.datetime(2026, 11, 23, 9, 0, tzinfo=UTC), "2026-W48"),
        (datetime.datetime(2026, 11, 25, 7, 0, tzinfo=UTC), "2026-W48"),  # missed Monday: caught up
        (datetime.datetime(2026, 11, 22, 23, 0, tzinfo=UTC), "2026-W47"),  # the week before
    ],
)
def test_weekly_period(now, expected):
    assert subscription_period(_sub(), now) == expected


def test_daily_period_uses_the_subscriber_time_zone():
    sub = _sub(frequency="daily", timezone="America/New_York", send_time=datetime.time(8, 0))

    # 12:30 UTC is 07:30 in New York (EST): not yet; 13:00 UTC is 08:00: due for the local date.
    assert subscription_period(sub, datetime.datetime(2026, 11, 23, 12, 30, tzinfo=UTC)) is None
    assert (
        subscription_period(sub, datetime.datetime(2026, 11, 23, 13, 0, tzinfo=UTC)) == "2026-11-23"
    )
    # 03:00 UTC on the 24th is still the 23rd in New York.
    assert (
        subscription_period(sub, datetime.datetime(2026, 11, 24, 3, 0, tzinfo=UTC)) == "2026-11-23"
    )


def _subscription(product, **kwargs):
    link = f.ShareLinkFactory(product=product)
    defaults = dict(
        product=product,
        share_link=link,
        email="ceo@example.org",
        frequency="daily",
        send_time=datetime.time(0, 0),
        confirmed_at=datetime.datetime(2026, 1, 1, tzinfo=UTC),
    )
    return Subscription.objects.create(**{**defaults, **kwargs})


def test_two_beats_create_one_delivery(product, django_capture_on_commit_callbacks):
    _subscription(product)
    now = datetime.datetime(2026, 11, 23, 10, 0, tzinfo=UTC)

    with django_capture_on_commit_callbacks() as first:
        digests_enqueue_due(now=now)
    with django_capture_on_commit_callbacks() as second:
        digests_enqueue_due(now=now + datetime.timedelta(minutes=5))

    assert DigestDelivery.objects.count() == 1
    assert (len(first), len(second)) == (1, 0)


def test_unconfirmed_unsubscribed_and_revoked_get_nothing(product):
    from django.utils import timezone

    _subscription(product, email="a@example.org", confirmed_at=None)
    _subscription(product, email="b@example.org", unsubscribed_at=timezone.now())
    revoked = _subscription(product, email="c@example.org")
    revoked.share_link.revoked_at = timezone.now()
    revoked.share_link.save()
    expired = _subscription(product, email="d@example.org")
    expired.share_link.expires_at = timezone.now() - datetime.timedelta(seconds=1)
    expired.share_link.save()
    still_open = _subscription(product, email="e@example.org")
    still_open.share_link.expires_at = timezone.now() + datetime.timedelta(days=1)
    still_open.share_link.save()

    due = digests_enqueue_due(now=datetime.datetime(2026, 11, 23, 10, tzinfo=UTC))

    assert list(
        DigestDelivery.objects.filter(pk__in=due).values_list("subscription", flat=True)
    ) == [still_open.pk]


def test_unsubscribe_is_signed_and_idempotent(product, client):
    sub = _subscription(product)
    url = unsubscribe_url(sub).removeprefix("http://127.0.0.1:8000")

    first = client.post(url)
    again = client.post(url)
    forged = client.post(url[:-3] + "xyz/")

    assert first.status_code == 200 and again.status_code == 200
    assert b"unsubscribed" in first.content
    assert Subscription.objects.get(pk=sub.pk).unsubscribed_at is not None
    assert forged.status_code == 404
    assert subscription_unsubscribe(token="garbage") is None


# --- Many subscribers at once ----------------------------------------------------------------


def _subscribers(product, count, *, start=0):
    link = f.ShareLinkFactory(product=product)
    Subscription.objects.bulk_create(
        Subscription(
            product=product,
            share_link=link,
            email=f"reader{start + n}@example.org",
            frequency="daily",
            send_time=datetime.time(0, 0),
            confirmed_at=datetime.datetime(2026, 1, 1, tzinfo=UTC),
        )
        for n in range(count)
    )


def test_enqueueing_costs_the_same_queries_for_50_subscribers_as_for_5(
    product, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # given 5 subscribers due on one day, and 50 due on the next
    _subscribers(product, 5)
    day = datetime.datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    with CaptureQueriesContext(connection) as five, django_capture_on_commit_callbacks() as sends5:
        few = digests_enqueue_due(now=day)
    _subscribers(product, 45, start=5)

    # when the 50 are enqueued
    with (
        django_assert_max_num_queries(len(five)),
        django_capture_on_commit_callbacks() as sends50,
    ):
        many = digests_enqueue_due(now=day + datetime.timedelta(days=1))

    # then both took the same (small) number of queries, and each delivery got one send
    assert len(five) <= 4
    assert (len(few), len(many)) == (5, 50)
    # (one burst per call, published through one producer: config/dispatch.enqueue_many)
    assert (_sent(sends5), _sent(sends50)) == (sorted(few), sorted(many))
    assert DigestDelivery.objects.count() == 55


def test_only_the_rows_this_call_created_are_returned_with_their_window(
    product, django_capture_on_commit_callbacks
):
    # given a daily subscriber already sent through an instant, one confirmed but never sent,
    # a weekly one in Tokyo whose Tuesday 09:00 has passed, one whose day has not come yet,
    # and one whose digest of the day another beat created first
    now = datetime.datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # Tuesday 10:00 in Tokyo
    sent_through = datetime.datetime(2026, 11, 22, 0, 0, tzinfo=UTC)
    daily = _subscription(product, email="daily@example.org", sent_through=sent_through)
    fresh = _subscription(product, email="fresh@example.org")
    tokyo = _subscription(
        product,
        email="tokyo@example.org",
        frequency="weekly",
        weekday=1,
        send_time=datetime.time(9, 0),
        timezone="Asia/Tokyo",
    )
    _subscription(
        product, email="later@example.org", frequency="daily", send_time=datetime.time(23, 0)
    )
    done = _subscription(product, email="done@example.org")
    earlier = DigestDelivery.objects.create(
        subscription=done, period="2026-11-24", events_through=sent_through
    )

    # when the beat runs
    with django_capture_on_commit_callbacks() as sends:
        created = digests_enqueue_due(now=now)

    # then the three due and not yet created are, each with its period and events window
    rows = {
        d.subscription_id: (d.period, d.events_from, d.events_through, d.status)
        for d in DigestDelivery.objects.filter(pk__in=created)
    }
    assert rows == {
        daily.pk: ("2026-11-24", sent_through, now, "pending"),
        fresh.pk: ("2026-11-24", fresh.confirmed_at, now, "pending"),
        tokyo.pk: ("2026-W48", tokyo.confirmed_at, now, "pending"),
    }
    assert _sent(sends) == sorted(created) and len(created) == 3
    assert earlier.pk not in created
    assert DigestDelivery.objects.count() == 4


def _sent(callbacks) -> list[int]:
    """The delivery ids whose send the captured on-commit callbacks enqueue."""
    return sorted(args[0] for callback in callbacks for args in callback.args[1])


# --- The stale sweep -----------------------------------------------------------------------------


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_the_sweep_enqueues_a_digest_pending_two_minutes_unless_a_send_holds_it(product):
    import psycopg2
    from django.db import connection
    from django.utils import timezone

    from roadmap.models import DigestStatus
    from roadmap.sharing.services.digests import STALE_PENDING, digests_requeue_stale

    now = timezone.now()

    def delivery(email, age, **fields):
        row = DigestDelivery.objects.create(
            subscription=_subscription(product, email=email),
            period="2026-11-23",
            events_through=now,
            **fields,
        )
        DigestDelivery.objects.filter(pk=row.pk).update(updated_at=now - age)
        return row.pk

    minutes = datetime.timedelta(minutes=1)
    lost = delivery("lost@example.org", 2 * minutes + datetime.timedelta(seconds=5))
    queued = delivery("queued@example.org", 1 * minutes)
    sending = delivery("sending@example.org", 3 * minutes)
    failed = delivery("failed@example.org", 3 * minutes, status=DigestStatus.FAILED, attempts=1)
    delivery("sent@example.org", 30 * minutes, status=DigestStatus.SENT)
    # A send in progress holds its row's lock (digest_send), here from another connection
    settings_dict = connection.settings_dict
    sender = psycopg2.connect(
        host=settings_dict["HOST"] or "127.0.0.1",
        port=settings_dict["PORT"] or 5432,
        user=settings_dict["USER"],
        dbname=settings_dict["NAME"],
    )
    try:
        with sender.cursor() as cursor:
            cursor.execute(
                f"SELECT id FROM {DigestDelivery._meta.db_table} WHERE id = %s FOR UPDATE",
                [sending],
            )

            requeued = digests_requeue_stale(now=now)
            again = digests_requeue_stale(now=now + datetime.timedelta(seconds=30))
    finally:
        sender.rollback()
        sender.close()

    # Only the row pending longer than STALE_PENDING and not being sent; a failed one waits
    # for its own retry (10 minutes); and not again at the next sweep, a minute later
    assert STALE_PENDING == 2 * minutes
    assert requeued == [lost]
    assert again == []
    assert queued not in requeued and failed not in requeued
