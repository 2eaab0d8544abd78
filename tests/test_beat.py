"""`make run` (no Redis, so no worker and no Celery beat) still runs the beat schedule.

The server is started the way ``make run`` starts it (tests/devserver.py): runserver with its
autoreloader, SQLite (or the session's PostgreSQL), console emails, no REDIS_URL. Every entry of
the schedule runs at start, then on its own schedule; ``BEAT_EVERY_SECONDS=2`` shortens the
schedule so a second run comes within seconds instead of minutes.
"""

import json

import pytest

from tests.devserver import DevServer, session_database_url

SUBSCRIBER = "cto@customer.example"

# A member's subscriber to Northwind Insight's internal roadmap, daily at 00:00 UTC (so due
# today from now on), then two changes by the PM: an item moved to "now", a feature lifted to
# the top of the ranking. Prints what the test needs to find them again.
CHANGES = """
import datetime, decimal, json
from accounts.models import User
from roadmap.models import Feature, Product, RoadmapItem
from roadmap.sharing.services.digests import subscription_add
from roadmap.planning.services.features import feature_update
from roadmap.planning.services.roadmap import roadmap_item_move

product = Product.objects.get(slug="northwind-insight")
pm = User.objects.get(email="demo@waymark.example")
subscription_add(
    product=product, email="cto@customer.example", name="Casey", frequency="daily",
    send_time=datetime.time(0, 0), timezone="UTC",
)
item = (
    RoadmapItem.objects.filter(product=product, horizon="later", feature__isnull=False)
    .order_by("position").first()
)
roadmap_item_move(item=item, horizon="now", position=0, actor=pm)
last = Feature.objects.filter(product=product, rank__isnull=False).order_by("-rank").first()
rank_before = last.rank
inputs = {"impact": 3, "confidence": 100, "effort": decimal.Decimal("0.1")}
feature_update(feature=last, data=inputs, actor=pm)
last.refresh_from_db()
print(json.dumps({
    "moved": item.feature.title, "lifted": last.pk, "rank_before": rank_before,
    "rank_now": last.rank,
}))
"""


def _snapshot_script(feature_id: int) -> str:
    """Prints the rank of today's snapshot of a feature."""
    return (
        "import json\n"
        "from django.utils import timezone\n"
        "from roadmap.models import FeatureRankSnapshot\n"
        f"snapshot = FeatureRankSnapshot.objects.get(feature_id={feature_id}, "
        "taken_on=timezone.localdate())\n"
        "print(json.dumps(snapshot.rank))\n"
    )


BEAT_STARTED = "No broker: this process runs the beat schedule"
SWEEP_DONE = '"task":"roadmap.tasks.enqueue_due_digests","task_id"'


@pytest.fixture
def newcomer_server(transactional_db, tmp_path):
    server = DevServer(
        tmp_path, database_url=session_database_url(tmp_path), env={"BEAT_EVERY_SECONDS": "2"}
    )
    server.prepare()
    yield server
    server.stop()


def _digests(server):
    return [m for m in server.emails() if m["To"] == SUBSCRIBER]


def test_make_run_sends_due_digests_and_takes_rank_snapshots(newcomer_server, tmp_path):
    server = newcomer_server
    server.start()
    server.wait_for(lambda: SWEEP_DONE in server.log(), what="digest sweep at start")
    assert _digests(server) == []

    changes = json.loads(server.manage("shell", "--no-imports", "-c", CHANGES))

    # A digest arrives on the console within seconds: the next sweep found it due.
    (digest,) = server.wait_for(lambda: _digests(server), timeout=30, what="digest email")
    assert digest.get_content_type() == "multipart/alternative"
    assert digest["Subject"].startswith("Northwind Insight (internal): ")
    text = digest.get_body(preferencelist=("plain",)).get_content()
    assert changes["moved"] in text
    assert digest["List-Unsubscribe"].strip().startswith("<http://127.0.0.1:8000/")

    # Today's rank snapshot follows the lifted feature to its new rank.
    assert changes["rank_before"] > 1
    assert changes["rank_now"] == 1
    snapshot_rank = server.wait_for(
        lambda: (
            json.loads(
                server.manage("shell", "--no-imports", "-c", _snapshot_script(changes["lifted"]))
            )
            == 1
        ),
        timeout=30,
        what="today's snapshot at the new rank",
    )
    assert snapshot_rank is True

    # One scheduler: runserver's autoreloader process does not run one, and a second server on
    # the same database waits instead of running the schedule twice.
    assert server.log().count(BEAT_STARTED) == 1
    (tmp_path / "second").mkdir()
    second = DevServer(tmp_path / "second", database_url=server.database_url)
    try:
        second.start()
        second.wait_for(
            lambda: "Another process runs the beat schedule" in second.log(),
            what="the second server waiting",
        )
        assert BEAT_STARTED not in second.log()
    finally:
        second.stop()
    assert len(_digests(server)) == 1
