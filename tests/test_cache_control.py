"""What caches may keep (issue 16.13): a member's pages only in their own browser, API answers
nowhere, a page showing a secret once nowhere; public pages are left to their views."""

from django.urls import reverse
from rest_framework.test import APIClient

from accounts.tokens import api_token_issue
from roadmap.models import WebhookEndpoint


def _directives(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part.strip()}


def test_a_members_pages_are_private(editor_client, product):
    for url in (reverse("roadmap:home"), reverse("roadmap:product", args=[product.slug])):
        response = editor_client.get(url)

        assert response.status_code == 200
        assert "private" in _directives(response), url
        assert "public" not in _directives(response)


def test_api_answers_are_never_stored_and_still_revalidate(editor, workspace, product):
    _, raw = api_token_issue(user=editor, workspace=workspace, name="cache", scope="read")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    url = f"/api/v1/products/{product.slug}/priorities/"

    first = api.get(url)
    again = api.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    refused = APIClient().get(url)

    assert first.status_code == 200
    assert {"private", "no-store"} <= _directives(first)
    assert again.status_code == 304
    assert refused.status_code == 401 and "no-store" in _directives(refused)


def test_the_public_schema_may_be_cached(client):
    response = client.get("/api/v1/schema/")

    assert response.status_code == 200
    assert "no-store" not in _directives(response)


def test_a_new_api_token_is_shown_on_a_page_no_cache_keeps(editor_client):
    editor_client.post(
        "/accounts/tokens/", {"name": "Jira sync", "scope": "read", "expires_in_days": "30"}
    )

    page = editor_client.get("/accounts/tokens/")

    assert page.context["new_token"] and page.context["new_token"].encode() in page.content
    assert {"no-store", "private"} <= _directives(page)


def test_a_webhook_secret_is_shown_on_a_page_no_cache_keeps(client, admin_user, workspace):
    client.force_login(admin_user)
    # A public address literal: saved without a name lookup.
    created = client.post(
        reverse("webhooks:create"),
        {"url": "https://93.184.216.34/waymark", "events": ["feature.created"]},
    )
    endpoint = WebhookEndpoint.objects.get(workspace=workspace)

    page = client.get(created["Location"])

    assert created.status_code == 302
    assert page.status_code == 200 and endpoint.secret in page.content.decode()
    assert {"no-store", "private"} <= _directives(page)
