"""Services enqueue tasks by name (config/dispatch.py): every name they use is a registered task."""

import ast

import pytest

from config.celery import app
from config.dispatch import enqueue
from tests.test_architecture import _app_modules

DISPATCHERS = {"enqueue", "enqueue_on_commit"}


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
