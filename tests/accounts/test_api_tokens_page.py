"""Creating, using and revoking API tokens from the browser."""

import pytest
from rest_framework.test import APIClient

from accounts.models import ApiToken


def test_create_shows_the_token_once_and_it_works(editor_client, editor, product):
    response = editor_client.post(
        "/accounts/tokens/", {"name": "Jira sync", "scope": "write", "expires_in_days": "30"}
    )
    assert response.status_code == 302
    page = editor_client.get("/accounts/tokens/")
    raw = page.context["new_token"]
    again = editor_client.get("/accounts/tokens/")

    assert raw.startswith("wmk_") and raw.encode() in page.content
    assert again.context["new_token"] is None and raw.encode() not in again.content
    token = ApiToken.objects.get(user=editor)
    assert (token.name, token.scope, token.expires_at is not None) == ("Jira sync", "write", True)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get(f"/api/v1/products/{product.slug}/priorities/").status_code == 200


def test_bad_input_shows_errors_and_creates_nothing(editor_client):
    response = editor_client.post(
        "/accounts/tokens/", {"name": "", "scope": "admin", "expires_in_days": "0"}
    )

    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"name", "scope", "expires_in_days"}
    assert not ApiToken.objects.exists()


def test_revoke_stops_the_token_at_once(editor_client, editor, workspace):
    from accounts.tokens import api_token_issue

    token, raw = api_token_issue(user=editor, workspace=workspace, name="ci")

    editor_client.post(f"/accounts/tokens/{token.pk}/revoke/")

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get("/api/v1/products/").status_code == 401


def test_someone_elses_token_cannot_be_revoked_or_seen(client, outsider, editor, workspace):
    from accounts.tokens import api_token_issue

    token, _ = api_token_issue(user=editor, workspace=workspace, name="mine")
    client.force_login(outsider)

    assert client.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 404
    assert b"mine" not in client.get("/accounts/tokens/").content
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


@pytest.mark.django_db
def test_anonymous_is_sent_to_login(client):
    response = client.get("/accounts/tokens/")

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
