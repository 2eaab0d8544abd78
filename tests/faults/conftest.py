"""Fault tests: Redis, PostgreSQL or a worker go away while Waymark runs.

They never touch the shared PostgreSQL and Redis: a service that is stopped is a throwaway one
started here on a free port (or a port nothing listens on).
"""

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from config import cache as resilient_cache
from config.celery import app as celery_app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout}s")


class RedisServer:
    """A throwaway ``redis-server`` on a port of its own that a test may stop and start again."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "no", "--daemonize", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_port(self.port)

    def stop(self) -> None:
        """Gone at once, like a crashed server: its data (the queue) is lost with it."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def redis_server():
    server = RedisServer()
    server.start()
    yield server
    server.stop()


def _reset_celery_connections() -> None:
    """Close every pooled broker connection and forget the pools: kombu keeps them in a registry
    of its own, from which the app would otherwise get a closed pool back."""
    import kombu.pools

    kombu.pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextlib.contextmanager
def celery_broker(url: str, queue: str | None = None):
    """Enqueue to the broker at ``url`` (not in-process) while inside, like a deployed web
    process; the app's pooled connections are dropped on the way in and out."""
    names = ("broker_url", "task_always_eager", "task_default_queue")
    previous = {name: celery_app.conf[name] for name in names}
    celery_app.conf.update(
        broker_url=url,
        task_always_eager=False,
        task_default_queue=queue or previous["task_default_queue"],
    )
    _reset_celery_connections()
    try:
        yield
    finally:
        celery_app.conf.update(previous)
        _reset_celery_connections()


def redis_cache_settings(url: str) -> dict:
    """The production cache configuration (config/settings.py), at ``url``."""
    return {
        "default": {
            "BACKEND": "config.cache.ResilientRedisCache",
            "LOCATION": url,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
            "KEY_PREFIX": f"faults{os.getpid()}",
        }
    }


@pytest.fixture
def redis_at(settings):
    """Point the cache, the broker and /readyz at a Redis URL, for the rest of the test."""
    stack = contextlib.ExitStack()

    def point(url: str, queue: str | None = None) -> None:
        # The broker first: Celery reads what it restores afterwards through Django's settings.
        stack.enter_context(celery_broker(url, queue))
        settings.REDIS_URL = url
        settings.CACHES = redis_cache_settings(url)

    resilient_cache.reset()
    yield point
    stack.close()
    resilient_cache.reset()


@pytest.fixture
def dead_redis_url():
    """A Redis URL where nothing listens (connections are refused at once)."""
    return f"redis://127.0.0.1:{free_port()}/0"


# --- A private PostgreSQL cluster --------------------------------------------------------------


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    binary = shutil.which(name)
    if binary is None:
        pytest.fail(f"PostgreSQL's {name} is not installed")
    return binary


class PostgresCluster:
    """A throwaway PostgreSQL cluster (initdb) on a free port, which a test may stop and start.

    PostgreSQL refuses to run as root, so as root it runs as the ``postgres`` user.
    """

    def __init__(self, base: Path):
        self.base = base
        self.data = base / "data"
        self.port = free_port()
        self._as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def url(self, name: str) -> str:
        return f"postgres://root@127.0.0.1:{self.port}/{name}"

    def _run(self, *args: str) -> None:
        subprocess.run(
            [*self._as_user, *args], check=True, capture_output=True, text=True, timeout=60
        )

    def init(self) -> None:
        if self._as_user:
            shutil.chown(self.base, "postgres")
        self._run(_pg_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "root", "--no-sync")

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c full_page_writes=off"
        )
        self._run(
            _pg_bin("pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.base / "log"),
            "-w",
            "start",
        )
        _wait_for_port(self.port)

    def running(self) -> bool:
        try:
            self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "status")
        except subprocess.CalledProcessError:
            return False
        return True

    def stop(self, mode: str = "fast") -> None:
        """``fast`` disconnects every client and rolls back their transactions; ``immediate``
        is a crash (recovery on the next start)."""
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def create_database(self, name: str) -> None:
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user="root", dbname="postgres")
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        conn.close()

    def copy_schema(self, name: str, source: dict) -> None:
        """Create the tables of the database described by ``source`` (a Django settings dict:
        the test database, already migrated) in database ``name`` here: much faster than
        running the migrations again."""
        dump = subprocess.run(
            [
                _pg_bin("pg_dump"),
                "--schema-only",
                "--no-owner",
                "--no-privileges",
                "-h",
                source["HOST"] or "127.0.0.1",
                "-p",
                str(source["PORT"] or 5432),
                "-U",
                source["USER"] or "root",
                source["NAME"],
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
        subprocess.run(
            [_pg_bin("psql"), "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1"]
            + ["-p", str(self.port), "-U", "root", "-d", name],
            input=dump,
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture(scope="module")
def postgres_cluster():
    # Not under pytest's tmp_path: its parents are private to root, the server runs as postgres.
    cluster = PostgresCluster(Path(tempfile.mkdtemp(prefix="waymark-pg-")))
    cluster.init()
    cluster.start()
    yield cluster
    cluster.destroy()
