"""The beat schedule, run by the web process itself when there is no broker.

Deployed, Celery beat (its own process) sends ``CELERY_BEAT_SCHEDULE``'s tasks to the workers.
Without a broker (neither ``REDIS_URL`` nor ``CELERY_BROKER_URL``: ``make run``) there is
neither beat nor worker, and tasks run in-process when they are enqueued; so the web process
runs the schedule in a thread, with Celery's own scheduler: digests go out, rank snapshots are
taken, failed webhooks are retried, stale scores are recomputed, expired CSV uploads are deleted.

- Started from ``config/wsgi.py`` and ``config/asgi.py``, so only a process that serves runs it:
  not ``migrate`` or any other command, not runserver's autoreloader (only its child serves), not
  pytest's live server.
- One process per database runs it: the thread takes an exclusive lock on a file named after the
  database, and the others (gunicorn workers without a broker) wait for it to be released.
- Every entry runs once at start, then on its schedule: a laptop that was off all night catches up
  (the full recompute, today's rank snapshot) instead of waiting a whole interval again.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

from celery import beat
from django.conf import settings
from django.db import close_old_connections, connections

logger = logging.getLogger("waymark.beat")

# How often a process waiting for the lock tries again (the holder may have exited).
LOCK_RETRY_SECONDS = 30.0

_started = False
_start_lock = threading.Lock()


class InProcessScheduler(beat.Scheduler):
    """Celery's in-memory scheduler; entries are due at start, and each run has fresh database
    connections (the thread's own, closed afterwards as a worker's would be)."""

    def install_default_entries(self, data):
        """None: Celery's result cleanup concerns a result backend, and there is none."""

    def setup_schedule(self):
        super().setup_schedule()
        for entry in self.schedule.values():
            entry.last_run_at = entry.default_now() - timedelta(days=366)

    def apply_entry(self, entry, producer=None):
        close_old_connections()
        try:
            super().apply_entry(entry, producer=producer)
        finally:
            connections.close_all()


def lock_path() -> Path:
    """The lock file of this database: one scheduler per database on this machine."""
    database = settings.DATABASES["default"]
    identity = "|".join(str(database.get(key) or "") for key in ("ENGINE", "HOST", "PORT", "NAME"))
    digest = hashlib.sha256(identity.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"waymark-beat-{digest}.lock"


def _lock(path: Path):
    """An exclusive lock held as long as the returned file stays open; None if another process
    holds it. The operating system releases it when the holder exits, however it exits."""
    import fcntl

    handle = open(path, "a")  # noqa: SIM115 - held open for the life of the process
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    return handle


class InProcessBeat(threading.Thread):
    def __init__(self, app):
        super().__init__(name="waymark-beat", daemon=True)
        self.app = app
        self.service = beat.Service(app, scheduler_cls=InProcessScheduler, remote_control=False)

    def run(self) -> None:
        path = lock_path()
        held = _lock(path)
        if held is None:
            logger.info("Another process runs the beat schedule (%s); waiting to take over.", path)
        while held is None:
            time.sleep(LOCK_RETRY_SECONDS)
            held = _lock(path)
        self.app.set_current()
        # The tasks' modules (autodiscovered only when a worker starts): the scheduler calls a
        # task it finds registered; one it does not would be sent to a broker nobody reads.
        self.app.loader.import_default_modules()
        logger.info(
            "No broker: this process runs the beat schedule (%s).",
            ", ".join(sorted(self.app.conf.beat_schedule)),
        )
        self.service.start()


def start_in_process_beat() -> bool:
    """Start the schedule's thread in this process, once, if settings ask for it
    (``IN_PROCESS_BEAT``: on when there is no broker). Returns whether it was started now."""
    global _started
    if not getattr(settings, "IN_PROCESS_BEAT", False):
        return False
    with _start_lock:
        if _started:
            return False
        _started = True
    from config.celery import app

    InProcessBeat(app).start()
    return True
