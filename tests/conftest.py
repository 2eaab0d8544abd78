"""Shared fixtures. Factories live in tests/factories.py; the common ones are fixtures here."""

import os

import pytest
from django.conf import settings
from django.db import connection

from accounts.models import Role
from config.celery import app as celery_app
from tests import factories as f

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
REQUIRE_BROWSER = os.environ.get("REQUIRE_BROWSER") == "1"


# Why a test cannot run although REQUIRE_SERVICES=1 / REQUIRE_BROWSER=1 says it must.
MISSING = pytest.StashKey[str]()


def pytest_collection_modifyitems(config, items):
    """Tests marked ``services`` need PostgreSQL and Redis; ``browser`` ones need Chromium;
    ``tools`` ones need Java and the Node test tools of tests/tools.

    They skip with the reason when those are absent, unless REQUIRE_SERVICES=1 /
    REQUIRE_BROWSER=1 (as in CI), where absence makes them fail instead.
    """
    from tests.support import (
        browser_missing_reason,
        services_missing_reason,
        tools_missing_reason,
    )

    needs = (
        ("services", services_missing_reason(), "REQUIRE_SERVICES", REQUIRE_SERVICES),
        ("browser", browser_missing_reason(), "REQUIRE_BROWSER", REQUIRE_BROWSER),
        ("tools", tools_missing_reason(), "REQUIRE_BROWSER", REQUIRE_BROWSER),
    )
    for item in items:
        for marker, reason, variable, required in needs:
            if item.get_closest_marker(marker) and reason:
                if required:
                    item.stash[MISSING] = f"{variable}=1 but {reason}"
                else:
                    item.add_marker(pytest.mark.skip(reason=reason))


def pytest_runtest_setup(item):
    """Fail a required test whose service or tool is missing, before any of its fixtures runs (a
    fixture added by ``usefixtures`` in pytest_collection_modifyitems would never run)."""
    if MISSING in item.stash:
        pytest.fail(item.stash[MISSING], pytrace=False)


@pytest.fixture(autouse=True, scope="session")
def _tasks_run_in_process():
    """Unit and HTTP tests run Celery tasks in-process; worker tests start a real worker."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield


@pytest.fixture(autouse=True)
def _clear_cache():
    """Each test starts with an empty cache (throttles, rate limits). On a shared Redis, only
    this test worker's keys are removed, not the other workers'."""
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    cache = caches["default"]  # the backend itself: django.core.cache.cache is only a proxy
    if isinstance(cache, RedisCache):
        client = cache._cache.get_client(write=True)
        keys = list(client.scan_iter(match=f"{cache.key_prefix}:*"))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()
    yield


@pytest.fixture
def is_postgres():
    return connection.vendor == "postgresql"


@pytest.fixture
def workspace(db):
    return f.WorkspaceFactory()


def _member(workspace, role):
    return f.MembershipFactory(workspace=workspace, role=role).user


@pytest.fixture
def editor(workspace):
    return _member(workspace, Role.EDITOR)


@pytest.fixture
def viewer(workspace):
    return _member(workspace, Role.VIEWER)


@pytest.fixture
def admin_user(workspace):
    return _member(workspace, Role.ADMIN)


@pytest.fixture
def product(workspace):
    return f.ProductFactory(workspace=workspace)


@pytest.fixture
def other_workspace(db):
    return f.WorkspaceFactory()


@pytest.fixture
def outsider(other_workspace):
    """An editor of another workspace: must never see anything of ``workspace``."""
    return _member(other_workspace, Role.EDITOR)


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client


@pytest.fixture
def outsider_client(client, outsider):
    client.force_login(outsider)
    return client


@pytest.fixture
def site_url():
    return settings.SITE_URL


@pytest.fixture
def celery_worker_process(transactional_db, tmp_path):
    """A real Celery worker process on a queue of its own, against the test database and Redis.

    Yields a handle with ``queue``; tasks enqueued while the fixture is active go to that worker
    (not in-process). Needs ``@pytest.mark.services`` on the test.
    """
    from tests.support import CeleryWorker

    worker = CeleryWorker(tmp_path)
    worker.start()
    previous = (celery_app.conf.task_always_eager, celery_app.conf.task_default_queue)
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = worker.queue
    try:
        yield worker
    finally:
        celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = previous
        worker.stop()
