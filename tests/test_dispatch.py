"""Services enqueue tasks by name (config/dispatch.py): every name they use is a registered task."""

import ast
import os
import uuid

import pytest

from config.celery import app
from config.dispatch import enqueue, enqueue_many, enqueue_many_on_commit
from tests.test_architecture import _app_modules

DISPATCHERS = {"enqueue", "enqueue_on_commit", "enqueue_many", "enqueue_many_on_commit"}


def _enqueued_names() -> dict[str, str]:
    """Each task name given to the dispatch in app code, with the module that gives it."""
    names = {}
    for module, path in _app_modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", None)) in DISPATCHERS
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                names[node.args[0].value] = module
    return names


def test_every_task_the_app_enqueues_by_name_is_registered():
    names = _enqueued_names()

    assert {
        "accounts.tasks.send_password_reset",
        "roadmap.tasks.deliver_webhook",
        "roadmap.tasks.recompute_product",
        "roadmap.tasks.send_digest",
    } <= set(names)
    assert {name: module for name, module in names.items() if name not in app.tasks} == {}


def test_an_unknown_task_name_raises_instead_of_being_dropped():
    with pytest.raises(KeyError):
        enqueue("roadmap.tasks.no_such_task", 1)


def test_a_burst_runs_in_process_without_a_broker(monkeypatch):
    ran = []
    task = app.tasks["roadmap.tasks.send_digest"]
    monkeypatch.setattr(task, "apply_async", lambda args=None, **kw: ran.append(args))

    assert enqueue_many("roadmap.tasks.send_digest", [(1,), (2,), (3,)]) == 3
    assert ran == [(1,), (2,), (3,)]


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_burst_after_commit_reaches_the_redis_broker_through_one_producer(monkeypatch):
    import redis
    from django.db import transaction

    from tests.faults.conftest import celery_broker

    url = os.environ["REDIS_URL"]
    queue = f"burst-{uuid.uuid4().hex}"
    client = redis.Redis.from_url(url)
    acquired = []
    acquire = app.producer_or_acquire

    def counting(producer=None):
        if producer is None:  # a new one from the pool, not the one handed in
            acquired.append(1)
        return acquire(producer)

    monkeypatch.setattr(app, "producer_or_acquire", counting)
    try:
        with celery_broker(url, queue):
            # Given 500 sends enqueued inside a transaction
            with transaction.atomic():
                enqueue_many_on_commit("roadmap.tasks.send_digest", [(pk,) for pk in range(500)])
                # Nothing is published before the commit
                assert client.llen(queue) == 0

        # Then after it, all 500 are in the queue, published through one producer
        assert client.llen(queue) == 500
        assert len(acquired) == 1
    finally:
        client.delete(queue)
