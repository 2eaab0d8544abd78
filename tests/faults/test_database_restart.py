"""PostgreSQL restarted while Waymark runs: requests fail cleanly (a 503 page of our own, with
Retry-After) during the outage, recover by themselves afterwards (connection health checks), and a
write in flight when the database died leaves nothing half-written."""

import json
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg2
import pytest
import requests
from django.db import OperationalError
from django.urls import reverse

from tests.faults.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]

PREPARE = """
import json
import django
django.setup()
from django.test import Client
from accounts.models import Role
from accounts.tokens import api_token_issue
from roadmap.planning.services.scoring import product_recompute_scores
from tests import factories as f
editor = f.MembershipFactory(role=Role.EDITOR).user
workspace = editor.memberships.get().workspace
product = f.ProductFactory(workspace=workspace)
features = [f.FeatureFactory(product=product, reach=100 * (i + 1)) for i in range(6)]
product_recompute_scores(product_id=product.pk)
_, token = api_token_issue(user=editor, workspace=workspace, name="faults", scope="write")
client = Client()
client.force_login(editor)
print(json.dumps({
    "slug": product.slug,
    "product_id": product.pk,
    "feature_ids": [x.pk for x in features],
    "token": token,
    "session": client.cookies["sessionid"].value,
}))
"""


class LiveServer:
    """gunicorn with two workers, DEBUG off, on a database of the private cluster."""

    def __init__(self, database_url: str, log_path: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.env = {
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(ROOT),
            "DJANGO_SETTINGS_MODULE": "tests.faults.live_settings",
            "DATABASE_URL": database_url,
            "DATABASE_CONNECT_TIMEOUT": "2",
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "SECURE_SSL_REDIRECT": "0",
            "SECURE_COOKIES": "0",
            "LOG_LEVEL": "WARNING",
            "ACCESS_LOG_LEVEL": "WARNING",
        }
        self.process = None

    def prepare(self) -> dict:
        out = subprocess.run(
            [sys.executable, "-c", PREPARE],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return json.loads(out.stdout.strip().splitlines()[-1])

    def start(self) -> None:
        self._log = open(self.log_path, "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi", "-w", "2", "--timeout", "30"]
            + ["-b", f"127.0.0.1:{self.port}"],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:  # not listening yet, or no worker booted
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn did not start:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


@pytest.fixture(scope="module")
def gunicorn_server(postgres_cluster, django_db_setup, tmp_path_factory):
    """One server for the module: preparing a database and booting gunicorn is most of the time.

    Its tables are copied from the test database, which pytest-django has migrated."""
    from django.db import connection

    postgres_cluster.create_database("waymark")
    postgres_cluster.copy_schema("waymark", connection.settings_dict)
    server = LiveServer(
        postgres_cluster.url("waymark"), tmp_path_factory.mktemp("live") / "gunicorn.log"
    )
    data = server.prepare()
    server.start()
    try:
        yield server, data
    finally:
        server.stop()


@pytest.fixture
def live(gunicorn_server, postgres_cluster):
    """The server, with its database up (whatever a previous test left)."""
    if not postgres_cluster.running():
        postgres_cluster.start()
    return gunicorn_server


def _ranks(cluster, product_id: int) -> dict[int, tuple]:
    conn = psycopg2.connect(host="127.0.0.1", port=cluster.port, user="root", dbname="waymark")
    with conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT id, reach, version, score, rank FROM roadmap_feature WHERE product_id = %s",
            [product_id],
        )
        rows = {row[0]: row[1:] for row in cursor.fetchall()}
    conn.close()
    return rows


# django_db: the test database must exist, its schema is copied (see ``gunicorn_server``).
@pytest.mark.services
@pytest.mark.django_db
def test_requests_fail_cleanly_while_postgres_is_down_and_recover_by_themselves(
    live, postgres_cluster
):
    # Given Waymark serving from a database of a cluster of its own, with two gunicorn workers
    server, data = live
    page = f"{server.base}/products/{data['slug']}/"
    api = f"{server.base}/api/v1/products/{data['slug']}/priorities/"
    cookies = {"sessionid": data["session"]}
    bearer = {"Authorization": f"Bearer {data['token']}"}
    # Several of each, so that both workers hold a database connection
    for _ in range(4):
        assert requests.get(page, cookies=cookies, timeout=10).status_code == 200
        assert requests.get(api, headers=bearer, timeout=10).status_code == 200

    # When PostgreSQL stops (every connection is cut)
    postgres_cluster.stop("fast")
    started = time.monotonic()
    pages = [requests.get(page, cookies=cookies, timeout=10) for _ in range(4)]
    apis = [requests.get(api, headers=bearer, timeout=10) for _ in range(4)]
    health = requests.get(f"{server.base}/healthz", timeout=10)
    ready = requests.get(f"{server.base}/readyz", timeout=10)
    elapsed = time.monotonic() - started

    # Then pages answer our own 503 page and the API a JSON 503, both with Retry-After, at once
    assert {r.status_code for r in pages} == {503}
    for response in pages:
        assert "temporarily unavailable" in response.text
        assert "Traceback" not in response.text
        assert response.headers["Retry-After"] == "30"
    assert {r.status_code for r in apis} == {503}
    assert {r.json()["code"] for r in apis} == {"service_unavailable"}
    assert elapsed < 5
    # ...the process is alive (/healthz) but not ready (/readyz names the database)
    assert health.status_code == 200
    assert ready.status_code == 503
    assert ready.json()["database"].startswith("error:")

    # When PostgreSQL is back, with no restart of the app
    postgres_cluster.start()

    # Then every request succeeds again: each worker replaced its broken connection by itself
    after = [requests.get(page, cookies=cookies, timeout=10) for _ in range(4)]
    after += [requests.get(api, headers=bearer, timeout=10) for _ in range(4)]
    assert [r.status_code for r in after] == [200] * 8
    assert requests.get(f"{server.base}/readyz", timeout=10).json()["database"] == "ok"


@pytest.mark.services
@pytest.mark.django_db
def test_a_write_in_flight_when_postgres_dies_leaves_nothing_half_written(live, postgres_cluster):
    # Given a product whose features are ranked
    server, data = live
    bearer = {"Authorization": f"Bearer {data['token']}"}
    before = _ranks(postgres_cluster, data["product_id"])
    top, *_, lowest = sorted(data["feature_ids"], key=lambda pk: before[pk][3])

    # ...and another session holding one feature's row, so a re-rank waits for it
    holder = psycopg2.connect(
        host="127.0.0.1", port=postgres_cluster.port, user="root", dbname="waymark"
    )
    holder.cursor().execute("SELECT 1 FROM roadmap_feature WHERE id = %s FOR UPDATE", [top])
    monitor = psycopg2.connect(
        host="127.0.0.1", port=postgres_cluster.port, user="root", dbname="waymark"
    )
    monitor.autocommit = True

    # When a PM's edit moves the lowest feature to the top: one transaction that writes the
    # feature, its score, its version and the rank of every other feature...
    answer = {}

    def edit():
        answer["response"] = requests.patch(
            f"{server.base}/api/v1/features/{lowest}/",
            json={"reach": 1_000_000},
            headers=bearer,
            timeout=20,
        )

    thread = threading.Thread(target=edit)
    thread.start()

    # ...which has written part of that and waits for the held row
    def waiting() -> bool:
        with monitor.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE%roadmap_feature%'"
            )
            return cursor.fetchone()[0] > 0

    deadline = time.monotonic() + 10
    while not waiting():
        assert time.monotonic() < deadline, "the edit never reached the re-rank"
        time.sleep(0.05)

    # ...and PostgreSQL goes down in the middle of it
    postgres_cluster.stop("fast")
    thread.join(20)
    postgres_cluster.start()

    # Then the PM got a clean 503, and none of the edit was stored: no reach, score, version
    # or rank of any feature changed
    response = answer["response"]
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    assert _ranks(postgres_cluster, data["product_id"]) == before

    # ...and once the database is back, the same edit goes through whole
    retried = requests.patch(
        f"{server.base}/api/v1/features/{lowest}/",
        json={"reach": 1_000_000},
        headers=bearer,
        timeout=20,
    )
    assert retried.status_code == 200
    after = _ranks(postgres_cluster, data["product_id"])
    assert after[lowest][0] == 1_000_000 and after[lowest][3] == 1
    assert sorted(rank for *_, rank in after.values()) == list(range(1, 7))


# --- The error handler, without services -------------------------------------------------------


@pytest.fixture
def database_down(monkeypatch):
    """Every session lookup fails as it would with the database unreachable: no connection,
    and an OperationalError."""
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connections

    def unreachable(self):
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")

    monkeypatch.setattr(SessionStore, "load", unreachable)
    monkeypatch.setattr(connections["default"], "connection", None)


def test_error_on_a_live_connection_is_a_500_not_a_503(client, monkeypatch):
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connections

    def timed_out(self):
        raise OperationalError("canceling statement due to statement timeout")

    monkeypatch.setattr(SessionStore, "load", timed_out)
    monkeypatch.setattr(connections["default"], "connection", type("Live", (), {"closed": 0})())
    client.raise_request_exception = False
    client.cookies["sessionid"] = "a" * 32

    response = client.get(reverse("roadmap:home"))

    assert response.status_code == 500
    assert "Retry-After" not in response


def test_page_is_a_503_of_our_own_when_the_database_is_unreachable(client, database_down):
    client.raise_request_exception = False
    client.cookies["sessionid"] = "a" * 32

    response = client.get(reverse("roadmap:home"))

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "Waymark is temporarily unavailable" in response.content.decode()
    assert "Traceback" not in response.content.decode()


def test_api_answers_a_json_503_when_the_database_is_unreachable(client, database_down):
    client.raise_request_exception = False
    client.cookies["sessionid"] = "a" * 32

    response = client.get("/api/v1/products/")

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.json() == {
        "detail": "Waymark is temporarily unavailable. Try again shortly.",
        "code": "service_unavailable",
    }


def test_other_errors_are_still_the_500_page(client, monkeypatch):
    from django.contrib.sessions.backends.db import SessionStore

    def broken(self):
        raise RuntimeError("a bug")

    monkeypatch.setattr(SessionStore, "load", broken)
    client.raise_request_exception = False
    client.cookies["sessionid"] = "a" * 32

    response = client.get(reverse("roadmap:home"))

    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()
    assert "Retry-After" not in response
