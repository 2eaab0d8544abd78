"""Site-wide HTTP behaviour: health endpoints, security headers, request ids, error pages."""

import json
import logging
import os

import pytest
from rest_framework.test import APIClient

from accounts.tokens import api_token_issue
from tests import factories as f


def test_healthz_is_always_ok(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_checks_the_database_and_broker(client, settings):
    settings.REDIS_URL = ""

    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "in-process"}


@pytest.mark.django_db
def test_readyz_is_503_when_the_broker_is_unreachable(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["broker"].startswith("error:")


@pytest.mark.services
@pytest.mark.django_db
def test_readyz_reaches_the_real_redis(client, settings):
    import os

    settings.REDIS_URL = os.environ["REDIS_URL"]

    assert client.get("/readyz").json()["broker"] == "ok"


@pytest.mark.django_db
def test_readyz_and_queue_health_ask_rabbitmq_when_it_is_the_broker(client, settings):
    from roadmap.queue_health import broker_status
    from tests.support import rabbitmq_missing_reason

    settings.CELERY_BROKER_URL = "amqp://guest:guest@127.0.0.1:1//"  # nothing listens on port 1

    assert client.get("/readyz").json()["broker"].startswith("error:")
    assert broker_status().reachable is False
    if rabbitmq_missing_reason():
        return
    settings.CELERY_BROKER_URL = (
        os.environ.get("TEST_RABBITMQ_URL") or "amqp://guest:guest@127.0.0.1:5672//"
    )
    settings.CELERY_TASK_DEFAULT_QUEUE = "readyz-never-declared"
    assert client.get("/readyz").json()["broker"] == "ok"
    assert (broker_status().reachable, broker_status().queued) == (True, 0)


@pytest.mark.django_db
def test_pages_carry_a_csp_without_inline_scripts(client):
    response = client.get("/accounts/login/")

    csp = response["Content-Security-Policy"]
    script_src = next(p for p in csp.split(";") if p.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_request_id_is_kept_and_logged(client, caplog):
    with caplog.at_level(logging.INFO, logger="waymark.access"):
        response = client.get("/healthz", HTTP_X_REQUEST_ID="abc123")

    assert response["X-Request-ID"] == "abc123"
    line = json.loads(caplog.records[-1].getMessage())
    assert line["request_id"] == "abc123"
    assert line["path"] == "/healthz"
    assert line["status"] == 200
    assert "duration_ms" in line


@pytest.mark.django_db
def test_unknown_page_is_the_own_404(client):
    response = client.get("/no/such/page/")

    assert response.status_code == 404
    assert b"Not found" in response.content
    assert b"Traceback" not in response.content


@pytest.mark.django_db
def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/v1/nothing-here/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_api_docs_need_no_inline_script(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    assert b"<script>" not in response.content.replace(b" ", b"")


@pytest.mark.django_db
def test_an_api_body_over_the_cap_is_a_json_413_and_changes_nothing(settings):
    settings.MAX_REQUEST_BYTES = 1024
    feature = f.FeatureFactory(title="Before")
    membership = f.MembershipFactory(workspace=feature.product.workspace, role="editor")
    _, token = api_token_issue(
        user=membership.user, workspace=membership.workspace, name="ci", scope="write"
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    response = client.patch(
        f"/api/v1/features/{feature.pk}/",
        {"title": "After", "description": "x" * 2000},
        format="json",
    )

    assert response.status_code == 413
    assert response.json() == {
        "detail": "The request is 2.0\xa0KB; Waymark takes at most 1.0\xa0KB.",
        "code": "request_too_large",
    }
    feature.refresh_from_db()
    assert feature.title == "Before"


# --- Bad bytes and shapes (issue 16.11) ----------------------------------------------------------


def _write_api(editor, workspace) -> APIClient:
    _, raw = api_token_issue(user=editor, workspace=workspace, name="ci", scope="write")
    return APIClient(HTTP_AUTHORIZATION=f"Bearer {raw}")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/r/%00/",
        "/r/%00.json",
        "/r/%00/feed.atom",
        "/digests/confirm/%00/",
        "/digests/unsubscribe/%00/",
        "/accounts/invite/%00/",
        "/accounts/password/reset/MQ/%00/",
        "/accounts/login/?next=%00",
    ],
)
def test_a_nul_in_a_public_address_is_a_400(client, url):
    client.raise_request_exception = False

    response = client.get(url)

    assert response.status_code == 400
    assert "Bad request" in response.content.decode()


@pytest.mark.django_db
def test_a_nul_in_a_members_search_is_a_400_on_pages_and_the_api(
    editor_client, editor, workspace, product
):
    editor_client.raise_request_exception = False
    for path in ("", "insights/", "features.csv"):
        url = f"/products/{product.slug}/{path}?q=a%00b"
        assert editor_client.get(url).status_code == 400, url

    answer = _write_api(editor, workspace).get("/api/v1/products/?q=%00")
    assert answer.status_code == 400
    assert answer.json() == {"detail": "Bad request.", "code": "bad_request"}


@pytest.mark.django_db
@pytest.mark.parametrize("opener,closer", [("[", "]"), ('{"a":', "}")])
def test_deeply_nested_json_on_an_api_write_is_a_400_and_changes_nothing(
    editor, workspace, opener, closer
):
    feature = f.FeatureFactory(title="Before", product__workspace=workspace)
    body = '{"title": ' + opener * 100_000 + "1" + closer * 100_000 + "}"

    response = _write_api(editor, workspace).patch(
        f"/api/v1/features/{feature.pk}/", body, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": "JSON parse error - arrays and objects nest at most 20 levels deep.",
        "code": "parse_error",
    }
    feature.refresh_from_db()
    assert feature.title == "Before"


@pytest.mark.django_db
def test_json_nested_within_the_bound_is_read_as_usual(editor, workspace):
    feature = f.FeatureFactory(title="Before", product__workspace=workspace)
    tags = "[" * 19 + '"x"' + "]" * 19

    response = _write_api(editor, workspace).patch(
        f"/api/v1/features/{feature.pk}/",
        '{"title": "After [{ nested }] in text", "tags": ' + tags + "}",
        content_type="application/json",
    )

    assert response.status_code == 400  # a list of lists is not a list of tags
    assert "tags" in response.json()
    response = _write_api(editor, workspace).patch(
        f"/api/v1/features/{feature.pk}/",
        '{"title": "After [[{ \\"quoted\\" ]]"}',
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    feature.refresh_from_db()
    assert feature.title == 'After [[{ "quoted" ]]'


@pytest.mark.django_db
def test_a_json_body_over_the_upload_bound_is_a_400(editor, workspace, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    feature = f.FeatureFactory(title="Before", product__workspace=workspace)

    response = _write_api(editor, workspace).patch(
        f"/api/v1/features/{feature.pk}/",
        {"title": "After", "description": "x" * 2000},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"detail": "Bad request.", "code": "bad_request"}
    feature.refresh_from_db()
    assert feature.title == "Before"
