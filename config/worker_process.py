"""A real ``celery worker`` in a subprocess, against this process's database.

The tests start one to run tasks in (``tests/conftest.py``'s ``celery_worker_process``, the
fault tests) and ``bench_digest_kills`` starts and SIGKILLs them by the dozen: one class for both,
importable without pytest.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent


class WorkerNotReady(RuntimeError):
    """The worker exited, or did not say "ready.", before the timeout."""


def database_url() -> str:
    """``DATABASE_URL`` for a process that should use the database this one is connected to
    (under pytest, the test database)."""
    from django.db import connection

    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    host = db["HOST"] or "127.0.0.1"
    return f"postgres://{db['USER']}{password}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


class CeleryWorker:
    """Starts ``celery worker`` in a subprocess on a unique queue, against this database.

    ``queue`` names an existing queue instead (a restarted worker); ``pool`` and ``concurrency``
    are the worker's options; ``env`` adds to its environment. Its log goes to a file of its own
    in ``log_dir``.
    """

    def __init__(
        self,
        log_dir: Path,
        *,
        queue: str | None = None,
        pool: str = "solo",
        concurrency: int = 1,
        env: dict | None = None,
    ):
        self.queue = queue or f"test-{uuid.uuid4().hex[:12]}"
        # Another worker on the same queue (a restart) keeps its own log.
        self.log_path = Path(log_dir) / f"{self.queue}-{uuid.uuid4().hex[:6]}.log"
        self.pool, self.concurrency, self.extra_env = pool, concurrency, env or {}
        self.process: subprocess.Popen | None = None
        self._log: IO[str] | None = None

    def environment(self) -> dict:
        env = dict(os.environ)
        env.update(
            DATABASE_URL=database_url(),
            CELERY_QUEUE=self.queue,
            CELERY_TASK_ALWAYS_EAGER="0",
            DEBUG="1",
            # A worker as deployed, not with the calling process's (e.g. the tests') settings.
            DJANGO_SETTINGS_MODULE="config.settings",
        )
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 30.0) -> None:
        """Start the worker and wait until it is ready; WorkerNotReady (with its log) if not."""
        self._log = open(self.log_path, "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                f"--pool={self.pool}",
                f"--concurrency={self.concurrency}",
                "-Q",
                self.queue,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-l",
                "info",
            ],
            cwd=ROOT,
            env=self.environment(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            # A process group of its own: ``kill()`` takes the pool's children with it, and
            # nothing else.
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while "ready." not in self.log():
            if self.process.poll() is not None:
                self.kill()
                raise WorkerNotReady(f"Celery worker exited early:\n{self.log()}")
            if time.monotonic() > deadline:
                self.kill()
                raise WorkerNotReady(f"Celery worker not ready after {timeout}s:\n{self.log()}")
            time.sleep(0.1)

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def stop(self, timeout: float = 10.0) -> None:
        """A warm shutdown (SIGTERM to the worker); SIGKILL for all of it after ``timeout``."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close_log()

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes at once, as a crash or the OOM killer
        would: no warm shutdown, no acknowledgement, no requeue."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
