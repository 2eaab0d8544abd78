"""Structured logs: one JSON line per request (waymark.access) and one per task run
(waymark.tasks), each with what an operator needs to follow it."""

import json
import logging

import pytest

from accounts.tokens import api_token_issue
from roadmap.planning.services import scoring as scoring_services
from roadmap.tasks import recompute_product


def _lines(caplog, logger: str) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == logger]


@pytest.mark.django_db
def test_page_request_is_logged_with_its_user_and_workspace(
    editor_client, editor, workspace, caplog
):
    with caplog.at_level(logging.INFO, logger="waymark.access"):
        response = editor_client.get("/", HTTP_X_REQUEST_ID="req-42")

    [line] = _lines(caplog, "waymark.access")
    assert response.status_code == 200
    assert line["request_id"] == "req-42"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/", 200)
    assert (line["user"], line["workspace"]) == (editor.pk, workspace.pk)
    assert line["duration_ms"] >= 0


@pytest.mark.django_db
def test_api_request_is_logged_with_the_tokens_user_and_workspace(editor, workspace, caplog):
    from rest_framework.test import APIClient

    _, raw = api_token_issue(user=editor, workspace=workspace, name="ci", scope="read")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    with caplog.at_level(logging.INFO, logger="waymark.access"):
        response = api.get("/api/v1/products/")

    [line] = _lines(caplog, "waymark.access")
    assert response.status_code == 200
    assert (line["user"], line["workspace"], line["status"]) == (editor.pk, workspace.pk, 200)
    assert len(line["request_id"]) == 32  # generated when no proxy sent one
    assert response["X-Request-ID"] == line["request_id"]


@pytest.mark.django_db
def test_logging_a_request_costs_no_query(editor_client, django_assert_num_queries, caplog):
    # A probe with a session cookie: nothing looked the user up, so the log does not either
    with caplog.at_level(logging.INFO, logger="waymark.access"), django_assert_num_queries(0):
        response = editor_client.get("/healthz")

    [line] = _lines(caplog, "waymark.access")
    assert response.status_code == 200
    assert (line["user"], line["workspace"]) == (None, None)


@pytest.mark.django_db
def test_task_run_is_logged_with_its_id_duration_and_outcome(product, caplog):
    with caplog.at_level(logging.INFO, logger="waymark.tasks"):
        result = recompute_product.apply_async(args=(product.pk,))

    [line] = _lines(caplog, "waymark.tasks")
    assert line["task"] == "roadmap.tasks.recompute_product"
    assert line["task_id"] == result.id
    assert line["outcome"] == "success"
    assert line["retries"] == 0
    assert line["duration_ms"] >= 0
    assert "error" not in line


@pytest.mark.django_db
def test_failed_task_is_logged_as_an_error_with_the_exception(product, caplog, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(scoring_services, "product_recompute_scores", broken)

    with caplog.at_level(logging.INFO, logger="waymark.tasks"), pytest.raises(RuntimeError):
        recompute_product.apply_async(args=(product.pk,))

    [record] = [r for r in caplog.records if r.name == "waymark.tasks"]
    line = json.loads(record.getMessage())
    assert record.levelno == logging.ERROR
    assert (line["outcome"], line["error"]) == ("failure", "RuntimeError: disk full")
