"""What the environment offers the tests: real services and a browser, or why not; a Celery
worker process to run tasks in, and a mail backend that worker can be stopped in the middle of."""

import os
import shutil
import socket
import time
import uuid
from functools import cache
from pathlib import Path
from urllib.parse import urlparse

from django.core.mail.backends.filebased import EmailBackend as FileEmailBackend

# The worker the tests start is the bench commands' too: it lives in app code.
from config.worker_process import CeleryWorker as CeleryWorker

CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
# The conformance tests' tools, installed by `npm ci --prefix tests/tools` (CI does).
TOOLS_DIR = Path(__file__).resolve().parent / "tools" / "node_modules"
AXE_PATH = TOOLS_DIR / "axe-core" / "axe.min.js"
VNU_JAR = TOOLS_DIR / "vnu-jar" / "build" / "dist" / "vnu.jar"


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or default_port), timeout=1):
            return True
    except OSError:
        return False


@cache
def services_missing_reason() -> str | None:
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        return "DATABASE_URL does not point at PostgreSQL"
    if not redis_url:
        return "REDIS_URL is not set"
    if not _reachable(database_url, 5432):
        return f"PostgreSQL at {database_url} is not reachable"
    if not _reachable(redis_url, 6379):
        return f"Redis at {redis_url} is not reachable"
    return None


@cache
def rabbitmq_missing_reason() -> str | None:
    """For the tests run on RabbitMQ too: TEST_RABBITMQ_URL, by default the local server."""
    url = os.environ.get("TEST_RABBITMQ_URL") or "amqp://guest:guest@127.0.0.1:5672//"
    if not _reachable(url, 5672):
        return f"RabbitMQ at {url} is not reachable (set TEST_RABBITMQ_URL)"
    return None


def chromium_path() -> str | None:
    for path in CHROMIUM_PATHS:
        if shutil.which(path):
            return path
    return None


@cache
def browser_missing_reason() -> str | None:
    if chromium_path() is None:
        return "Chromium is not installed (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed"
    return None


@cache
def tools_missing_reason() -> str | None:
    if shutil.which("java") is None:
        return "Java is not installed (apt-get install default-jre-headless)"
    for path in (AXE_PATH, VNU_JAR):
        if not path.exists():
            return f"{path.name} is missing: run `npm ci --prefix tests/tools`"
    return None


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.2):
    """Poll until ``predicate()`` is truthy; return its value or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


class HeldFileEmailBackend(FileEmailBackend):
    """Writes each message to its own file in ``$TEST_MAIL_DIR``, and can be held mid-send.

    For a worker process (``EMAIL_BACKEND=tests.support.HeldFileEmailBackend``): while the file
    ``$TEST_MAIL_HOLD`` exists, a message to an address listed in it is announced by a file in
    ``$TEST_MAIL_HELD_DIR`` (holding its recipients) and waits, unsent, until the hold file is
    removed. A test can so kill the worker while a send is in flight and before any mail is out.
    """

    HOLD_AT_MOST = 60.0  # seconds: a test that never releases the hold does not hang the worker

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("file_path", os.environ["TEST_MAIL_DIR"])
        super().__init__(*args, **kwargs)

    def send_messages(self, email_messages):
        hold = Path(os.environ.get("TEST_MAIL_HOLD") or "/nonexistent")
        recipients = sorted({r for message in email_messages for r in message.recipients()})
        if hold.exists() and set(recipients) & set(hold.read_text().split()):
            held_dir = Path(os.environ["TEST_MAIL_HELD_DIR"])
            partial = held_dir / f".{uuid.uuid4().hex}"
            partial.write_text("\n".join(recipients))
            partial.rename(held_dir / partial.name[1:])  # appears whole
            deadline = time.monotonic() + self.HOLD_AT_MOST
            while hold.exists() and time.monotonic() < deadline:
                time.sleep(0.02)
        return super().send_messages(email_messages)

    def _get_filename(self):
        # One file per message, named apart across processes (the default name is the time to the
        # second and id(self), which two forked pool processes can share).
        return os.path.join(self.file_path, f"{os.getpid()}-{uuid.uuid4().hex}.eml")
