"""The Celery app. Configuration comes from Django settings (CELERY_* names).

Workers log through Django's LOGGING, like the web processes, and write one JSON line per task
run (logger ``waymark.tasks``): task name, id, duration, outcome, retries, and the error if any.
"""

import json
import logging
import os
import sys
import time

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("waymark")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

task_log = logging.getLogger("waymark.tasks")

# Start time and error of the runs in progress in this process, by task id.
_started: dict[str, float] = {}
_errors: dict[str, str] = {}


@signals.setup_logging.connect
def _use_django_logging(**kwargs):
    """Keep Django's LOGGING in workers instead of Celery's own set-up (a connected receiver
    tells Celery to leave logging alone)."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)


@signals.task_prerun.connect
def _task_started(task_id=None, **kwargs):
    _started[task_id] = time.perf_counter()


@signals.task_failure.connect
def _task_failed(task_id=None, exception=None, **kwargs):
    _errors[task_id] = f"{exception.__class__.__name__}: {exception}"[:500]


def _propagating() -> tuple[str, str | None]:
    """The outcome of a run whose exception is on its way to the caller (an eager run in tests
    or without a broker): Celery reports no state then, only the exception being raised."""
    from celery.exceptions import Retry

    exc = sys.exc_info()[1]
    if exc is None:
        return "unknown", None
    if isinstance(exc, Retry):
        return "retry", None
    return "failure", f"{exc.__class__.__name__}: {exc}"[:500]


@signals.task_postrun.connect
def _task_finished(task_id=None, task=None, state=None, **kwargs):
    started = _started.pop(task_id, None)
    error = _errors.pop(task_id, None)
    if state:
        outcome = state.lower()
    else:
        outcome, error = _propagating()
    line = {
        "task": task.name if task is not None else None,
        "task_id": task_id,
        "outcome": outcome,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
        "retries": getattr(getattr(task, "request", None), "retries", 0) or 0,
    }
    if error:
        line["error"] = error
    level = logging.ERROR if line["outcome"] == "failure" else logging.INFO
    task_log.log(level, json.dumps(line, separators=(",", ":")))
