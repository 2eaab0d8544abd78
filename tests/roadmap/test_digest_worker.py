"""Due digests through real Celery workers and real Redis, each sent once — also when a worker
is killed in the middle of a send (CI: REQUIRE_SERVICES=1).

The worker is another process, so it writes mail to files (``EMAIL_URL=filemail://…``, or
``tests.support.HeldFileEmailBackend``) that the test counts.
"""

import datetime
import re
import time
import uuid
from types import SimpleNamespace

import pytest
from django.utils import timezone

from config.celery import app as celery_app
from roadmap.models import DigestDelivery, DigestStatus
from roadmap.services.digests import digests_enqueue_due, digests_requeue_stale, subscription_add
from roadmap.services.features import feature_update
from roadmap.tasks import send_digest
from tests import factories as f
from tests.support import CeleryWorker, wait_for

pytestmark = pytest.mark.services


@pytest.fixture
def mail_dir(tmp_path, monkeypatch):
    """Where the worker writes its mail; set before ``celery_worker_process`` starts it."""
    path = tmp_path / "mail"
    path.mkdir()
    # Four slashes: django-environ drops the first character of the path.
    monkeypatch.setenv("EMAIL_URL", f"filemail:///{path}")
    return path


def _mails(mail_dir):
    return sorted(p for p in mail_dir.iterdir() if p.is_file())


def test_worker_sends_a_due_digest_once(mail_dir, celery_worker_process, workspace):
    product = f.ProductFactory(workspace=workspace)
    item = f.RoadmapItemFactory(
        product=product,
        feature=f.FeatureFactory(product=product, status="in_progress"),
        visibility="external",
        external_title="Faster CSV exports",
    )
    link = f.ShareLinkFactory(product=product, audience="customers")
    subscription_add(
        product=product,
        share_link=link,
        email="cto@customer.example",
        frequency="daily",
        send_time=datetime.time(0, 0),
    )
    feature_update(feature=item.feature, data={"status": "shipped"})

    # The beat creates the outbox row and enqueues the send (autocommit: at once)
    [delivery_id] = digests_enqueue_due(now=timezone.now())

    delivery = wait_for(
        lambda: (
            DigestDelivery.objects.exclude(status=DigestStatus.PENDING)
            .filter(pk=delivery_id)
            .first()
        ),
        timeout=30,
    )
    assert delivery.status == DigestStatus.SENT, delivery.last_error
    [mail] = _mails(mail_dir)
    content = mail.read_text()
    assert "cto@customer.example" in content and "Faster CSV exports" in content

    # Another beat, the sweeper and a redelivered message send nothing more
    assert digests_enqueue_due(now=timezone.now()) == []
    digests_requeue_stale(now=timezone.now() + datetime.timedelta(hours=1))
    send_digest.delay(delivery_id)
    wait_for(lambda: celery_worker_process.log().count("succeeded") >= 2, timeout=30)
    assert len(_mails(mail_dir)) == 1
    assert DigestDelivery.objects.get(pk=delivery_id).status == DigestStatus.SENT


# --- A worker killed in the middle of a send -----------------------------------------------------

# Seconds an unacknowledged message waits before Redis gives it to another worker (an hour in
# production, CELERY_VISIBILITY_TIMEOUT); short here so the test sees the redelivery.
VISIBILITY_TIMEOUT = 5


@pytest.fixture
def held_mail(tmp_path):
    """Files for ``HeldFileEmailBackend``: mail sent, sends held in flight, and the hold itself."""
    paths = SimpleNamespace(mail=tmp_path / "sent", held=tmp_path / "held", hold=tmp_path / "hold")
    paths.mail.mkdir()
    paths.held.mkdir()
    return paths


@pytest.fixture
def start_worker(transactional_db, tmp_path, held_mail):
    """Starts prefork workers (two pool processes) on one queue: the first, then its replacement.
    Tasks enqueued meanwhile go to that queue; every worker is stopped at the end."""
    queue = f"test-{uuid.uuid4().hex[:12]}"
    env = {
        "EMAIL_URL": "",
        "EMAIL_BACKEND": "tests.support.HeldFileEmailBackend",
        "TEST_MAIL_DIR": str(held_mail.mail),
        "TEST_MAIL_HELD_DIR": str(held_mail.held),
        "TEST_MAIL_HOLD": str(held_mail.hold),
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
    }
    workers = []

    def start():
        worker = CeleryWorker(tmp_path, queue=queue, pool="prefork", concurrency=2, env=env)
        workers.append(worker)
        worker.start()
        return worker

    previous = (celery_app.conf.task_always_eager, celery_app.conf.task_default_queue)
    celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = False, queue
    try:
        yield start
    finally:
        celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = previous
        for worker in workers:
            worker.stop()


def _recipients(mail_dir):
    """One address per message written, in order of address."""
    return sorted(
        to
        for path in mail_dir.iterdir()
        for to in re.findall(r"^To: (.+)$", path.read_text(), flags=re.MULTILINE)
    )


def _held(held_mail):
    return sorted(path.read_text() for path in held_mail.held.iterdir() if path.is_file())


def test_a_worker_killed_mid_send_and_restarted_sends_every_digest_once(
    held_mail, start_worker, workspace
):
    # Given six subscribers of a link, each due a digest of the same change
    product = f.ProductFactory(workspace=workspace)
    item = f.RoadmapItemFactory(
        product=product,
        feature=f.FeatureFactory(product=product, status="in_progress"),
        visibility="external",
        external_title="Faster CSV exports",
    )
    link = f.ShareLinkFactory(product=product, audience="customers")
    emails = [f"reader{i}@customer.example" for i in range(6)]
    for email in emails:
        subscription_add(
            product=product,
            share_link=link,
            email=email,
            frequency="daily",
            send_time=datetime.time(0, 0),
        )
    feature_update(feature=item.feature, data={"status": "shipped"})
    # ...and mail that holds two of the digests mid-send, before they go out
    in_flight = emails[2:4]
    held_mail.hold.write_text("\n".join(in_flight))

    # When a worker takes the sends and is SIGKILLed, pool processes and all, while both held
    # digests are in flight in its two pool processes
    first = start_worker()
    delivery_ids = digests_enqueue_due(now=timezone.now())
    assert len(delivery_ids) == len(emails)
    wait_for(lambda: len(_held(held_mail)) == 2, timeout=20)
    first.kill()
    killed_at = time.monotonic()

    # Then neither held digest went out, and neither counts as sent or even as tried: the
    # transaction that would have marked it died with the worker
    assert _held(held_mail) == in_flight
    assert not set(_recipients(held_mail.mail)) & set(in_flight)
    assert set(
        DigestDelivery.objects.filter(subscription__email__in=in_flight).values_list(
            "status", "attempts", "sent_at"
        )
    ) == {(DigestStatus.PENDING, 0, None)}

    # When a new worker starts on the same queue once the visibility timeout has passed (on
    # start-up it takes back the messages left unacknowledged longer than that)
    held_mail.hold.unlink()
    time.sleep(max(0.0, killed_at + VISIBILITY_TIMEOUT + 0.5 - time.monotonic()))
    second = start_worker()

    # Then every digest is sent, each exactly once
    wait_for(
        lambda: not DigestDelivery.objects.exclude(status=DigestStatus.SENT).exists(), timeout=20
    )
    assert _recipients(held_mail.mail) == emails
    assert sorted(
        DigestDelivery.objects.values_list("pk", "subscription__email", "status", "attempts")
    ) == sorted(
        (pk, email, DigestStatus.SENT, 1) for pk, email in zip(delivery_ids, emails, strict=True)
    )
    assert "Faster CSV exports" in "".join(p.read_text() for p in held_mail.mail.iterdir())
    assert second.log().count("send_digest") >= len(in_flight)
