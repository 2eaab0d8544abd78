"""A due digest through a real Celery worker and real Redis, sent once (CI: REQUIRE_SERVICES=1).

The worker is another process, so it writes mail to files (``EMAIL_URL=filemail://…``) that the
test counts.
"""

import datetime

import pytest
from django.utils import timezone

from roadmap.models import DigestDelivery, DigestStatus
from roadmap.services.digests import digests_enqueue_due, digests_requeue_stale, subscription_add
from roadmap.services.features import feature_update
from roadmap.tasks import send_digest
from tests import factories as f
from tests.support import wait_for

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
