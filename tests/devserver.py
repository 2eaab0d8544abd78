"""Waymark as a newcomer runs it: the commands of ``make run`` in processes of their own.

The server gets the environment of a newcomer's shell (PATH, HOME, locale and nothing of
Waymark's: no DEBUG, no SECRET_KEY, no REDIS_URL) plus the ``.env`` file that ``make run``
writes, made by ``make`` itself in a temporary folder. Only the database differs: a temporary
SQLite file, or the test session's PostgreSQL database when the suite runs on PostgreSQL.
Emails go to the console backend, as they do for a newcomer; ``emails()`` reads them back from
the server's output with Python's email parser.
"""

from __future__ import annotations

import contextlib
import email
import os
import signal
import socket
import subprocess
import sys
import time
from email import policy
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
# What Django's console email backend writes after each message.
CONSOLE_SEPARATOR = "\n" + "-" * 79 + "\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def session_database_url(tmp_path: Path) -> str:
    """The test session's PostgreSQL database (its schema is migrated), or a new SQLite file:
    an in-memory SQLite test database is out of other processes' reach."""
    from django.db import connection

    settings_dict = connection.settings_dict
    if connection.vendor == "postgresql":
        return (
            f"postgres://{settings_dict['USER']}@{settings_dict['HOST']}:"
            f"{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"
        )
    return f"sqlite:///{tmp_path / 'db.sqlite3'}"


class DevServer:
    """``make run``'s three commands (migrate, seed_demo, runserver) on a spare port."""

    def __init__(self, tmp_path: Path, *, database_url: str, env: dict | None = None):
        self.dir = tmp_path
        self.port = free_port()
        self.database_url = database_url
        self.extra_env = env or {}
        self.out_path = tmp_path / "runserver.out"
        self.err_path = tmp_path / "runserver.err"
        self.process = None
        # The file `make run` writes, by the Makefile's own recipe.
        subprocess.run(
            ["make", "--no-print-directory", "-s", "-f", str(ROOT / "Makefile"), ".env"],
            cwd=tmp_path,
            check=True,
            timeout=30,
        )
        self.env_file = tmp_path / ".env"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        env = {name: os.environ[name] for name in INHERITED if name in os.environ}
        env.update(ENV_FILE=str(self.env_file), DATABASE_URL=self.database_url)
        env.update(self.extra_env)
        return env

    def manage(self, *args: str, timeout: float = 120) -> str:
        """Run a manage.py command as a newcomer would; its stdout."""
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.environment(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert result.returncode == 0, f"manage.py {' '.join(args)}:\n{result.stderr}"
        return result.stdout

    def prepare(self) -> None:
        self.manage("migrate", "--noinput")
        self.manage("seed_demo")

    def start(self, timeout: float = 60) -> None:
        self._out = open(self.out_path, "w")  # noqa: SIM115
        self._err = open(self.err_path, "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{self.port}"],
            cwd=ROOT,
            env=self.environment(),
            stdout=self._out,
            stderr=self._err,
            # A process group of its own: stop() ends the autoreloader's child with it.
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"runserver exited:\n{self.log()}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 0.2),
            ):
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"runserver not listening after {timeout}s:\n{self.log()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        for handle in (getattr(self, "_out", None), getattr(self, "_err", None)):
            if handle is not None:
                handle.close()

    def log(self) -> str:
        """The server's stderr: Django's and Celery's log lines."""
        return self.err_path.read_text() if self.err_path.exists() else ""

    def emails(self) -> list[EmailMessage]:
        """The messages the console backend printed so far."""
        text = self.out_path.read_text() if self.out_path.exists() else ""
        messages = []
        for chunk in text.split(CONSOLE_SEPARATOR)[:-1]:
            start = chunk.find("Content-Type: ")
            if start >= 0:
                messages.append(email.message_from_string(chunk[start:], policy=policy.default))
        return messages

    def wait_for(self, predicate, *, timeout: float = 30, what: str = "condition"):
        """Poll ``predicate`` until it returns something truthy; that value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.25)
        raise AssertionError(f"no {what} after {timeout}s; server log:\n{self.log()[-4000:]}")
