"""A worker killed in the middle of a score recompute: the message was not acknowledged
(``acks_late``), so it is delivered again and the recompute, idempotent, completes; the
interrupted run, one transaction, leaves nothing half-written.

Deterministic: the test holds one feature's row, so the recompute's UPDATE waits on it; the kill
comes while PostgreSQL shows that wait.
"""

import json
import os
import signal
import time
from pathlib import Path

import psycopg2
import pytest
from django.db import connection, transaction

from roadmap.models import Feature, Product
from roadmap.planning.services.products import product_update
from roadmap.planning.services.scoring import product_recompute_scores
from tests import factories as f
from tests.support import CeleryWorker, wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

RECOMPUTE = "roadmap.tasks.recompute_product"


def _connect():
    settings = connection.settings_dict
    conn = psycopg2.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        dbname=settings["NAME"],
    )
    conn.autocommit = True
    return conn


class HeldRow:
    """Another session holding a feature's row lock, and a view of who waits for it."""

    def __init__(self, feature_id: int):
        self.holder = _connect()
        self.holder.autocommit = False
        self.holder.cursor().execute(
            "SELECT 1 FROM roadmap_feature WHERE id = %s FOR UPDATE", [feature_id]
        )
        self.monitor = _connect()

    def waiting_backend(self) -> int | None:
        """The pid of the backend whose feature UPDATE waits for the row, if any."""
        with self.monitor.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND query LIKE 'UPDATE \"roadmap_feature\"%'"
            )
            row = cursor.fetchone()
        return row[0] if row else None

    def backend_alive(self, pid: int) -> bool:
        with self.monitor.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
            return cursor.fetchone() is not None

    def release(self) -> None:
        self.holder.rollback()

    def close(self) -> None:
        self.holder.close()
        self.monitor.close()


def _product_to_switch(workspace) -> Product:
    """A RICE product whose features rank differently under WSJF."""
    product = f.ProductFactory(workspace=workspace)
    for i in range(12):
        f.FeatureFactory(
            product=product,
            reach=100 * (i + 1),
            business_value=[1, 2, 3, 5, 8, 13][i % 6],
            time_criticality=[13, 8, 5, 3, 2, 1][i % 6],
            job_size=[1, 2, 3, 5, 8][i % 5],
        )
    product_recompute_scores(product_id=product.pk)
    return product


def _frameworks(product) -> set[str]:
    return set(
        Feature.objects.filter(product=product).values_list("score_breakdown__framework", flat=True)
    )


def _task_lines(log: str, name: str) -> list[dict]:
    lines = []
    for line in log.splitlines():
        start = line.find('{"task":')
        if start != -1:
            record = json.loads(line[start:])
            if record["task"] == name:
                lines.append(record)
    return lines


def _pool_children(pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def _switch_to_wsjf(product) -> None:
    with transaction.atomic():
        product_update(product=product, data={"scoring_framework": "wsjf"})


def _wait_for_held_recompute(held: HeldRow, worker: CeleryWorker) -> int:
    try:
        return wait_for(held.waiting_backend, timeout=15, interval=0.05)
    except AssertionError:
        pytest.fail(f"the recompute never reached the held row; worker log:\n{worker.log()}")


def test_worker_killed_mid_recompute_leaves_nothing_and_the_next_worker_completes_it(
    tmp_path, workspace, redis_server, redis_at
):
    # Given a worker on a Redis of its own, and one feature's row held by another session
    first = CeleryWorker(tmp_path, env={"REDIS_URL": redis_server.url})
    first.start()
    redis_at(redis_server.url, queue=first.queue)
    product = _product_to_switch(workspace)
    scores = dict(Feature.objects.filter(product=product).values_list("pk", "score"))
    held = HeldRow(Feature.objects.filter(product=product).order_by("pk").last().pk)
    second = None
    try:
        # When the PM switches the product to WSJF and the worker's recompute reaches the row
        _switch_to_wsjf(product)
        backend = _wait_for_held_recompute(held, first)

        # ...and the worker is killed there (as a crash or the OOM killer would)
        first.kill()
        held.release()
        wait_for(lambda: not held.backend_alive(backend), timeout=10, interval=0.05)

        # Then none of the interrupted run was stored, and the scores still say they are stale
        assert _frameworks(product) == {"rice"}
        assert dict(Feature.objects.filter(product=product).values_list("pk", "score")) == scores
        assert Product.objects.get(pk=product.pk).scores_stale

        # When a worker starts again, once the unacknowledged message's visibility timeout passed
        second = CeleryWorker(
            tmp_path,
            queue=first.queue,
            env={"REDIS_URL": redis_server.url, "CELERY_VISIBILITY_TIMEOUT": "1"},
        )
        second.start()

        # Then it receives the message again and completes the recompute
        wait_for(lambda: not Product.objects.get(pk=product.pk).scores_stale, timeout=20)
        assert _frameworks(product) == {"wsjf"}
        ranks = sorted(Feature.objects.filter(product=product).values_list("rank", flat=True))
        assert ranks == list(range(1, 13))
        [run] = _task_lines(second.log(), RECOMPUTE)
        assert run["outcome"] == "success"
        assert run["task_id"] and run["duration_ms"] >= 0
        assert _task_lines(first.log(), RECOMPUTE) == []
    finally:
        held.close()
        first.stop()
        if second is not None:
            second.stop()


def test_pool_process_killed_mid_recompute_is_redelivered_at_once(
    tmp_path, workspace, redis_server, redis_at
):
    # Given a worker with a pool process, and one feature's row held by another session
    worker = CeleryWorker(tmp_path, pool="prefork", env={"REDIS_URL": redis_server.url})
    worker.start()
    redis_at(redis_server.url, queue=worker.queue)
    product = _product_to_switch(workspace)
    held = HeldRow(Feature.objects.filter(product=product).order_by("pk").last().pk)
    try:
        # When the recompute waits on the row and its pool process is killed
        _switch_to_wsjf(product)
        _wait_for_held_recompute(held, worker)
        [child] = _pool_children(worker.process.pid)
        os.kill(child, signal.SIGKILL)
        started = time.monotonic()
        held.release()

        # Then the worker rejects the message back to the queue (reject_on_worker_lost), a new
        # pool process takes it, and the recompute completes, without waiting for any timeout
        wait_for(lambda: not Product.objects.get(pk=product.pk).scores_stale, timeout=20)
        assert time.monotonic() - started < 20
        assert _frameworks(product) == {"wsjf"}
        log = worker.log()
        assert "WorkerLostError" in log
        assert [r["outcome"] for r in _task_lines(log, RECOMPUTE)] == ["success"]
    finally:
        held.close()
        worker.stop()
