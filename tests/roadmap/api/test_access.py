"""Authentication, scopes, roles and workspace isolation over the API."""

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.tokens import api_token_issue, api_token_revoke
from roadmap.models import Feature
from tests import factories as f


def test_no_token_is_401_with_a_json_error(api, product):
    response = api.get(f"/api/v1/products/{product.slug}/priorities/")

    assert response.status_code == 401
    assert response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer wmk_nope_nope", "Bearer", "Bearer a b", "Bearer \xff"])
def test_bad_token_is_401(api, product, header):
    api.credentials(HTTP_AUTHORIZATION=header)

    response = api.get("/api/v1/products/")

    assert response.status_code == 401
    assert "detail" in response.json()


def test_revoked_and_expired_tokens_are_refused(editor, workspace):
    token, raw = api_token_issue(user=editor, workspace=workspace, name="ci", expires_in_days=1)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/products/").status_code == 200

    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - datetime.timedelta(1))
    assert client.get("/api/v1/products/").status_code == 401

    ApiToken.objects.filter(pk=token.pk).update(expires_at=None)
    api_token_revoke(token=token)
    assert client.get("/api/v1/products/").status_code == 401


def test_token_is_stored_hashed_and_records_last_use(read_api):
    token = ApiToken.objects.get()
    assert read_api.raw_token not in (token.token_hash, token.prefix)
    assert read_api.raw_token.startswith(f"wmk_{token.prefix}_")
    assert token.last_used_at is None

    read_api.get("/api/v1/products/")

    token.refresh_from_db()
    assert token.last_used_at is not None


def test_another_workspace_is_404_even_by_guessing_ids(outsider_api, product):
    feature = f.FeatureFactory(product=product)
    item = f.RoadmapItemFactory(product=product, feature=feature)
    persona = f.PersonaFactory(product=product)

    assert outsider_api.get(f"/api/v1/products/{product.slug}/").status_code == 404
    assert outsider_api.get(f"/api/v1/products/{product.slug}/priorities/").status_code == 404
    assert outsider_api.get(f"/api/v1/features/{feature.pk}/").status_code == 404
    assert outsider_api.get(f"/api/v1/roadmap-items/{item.pk}/").status_code == 404
    assert outsider_api.get(f"/api/v1/personas/{persona.pk}/").status_code == 404
    patch = outsider_api.patch(f"/api/v1/features/{feature.pk}/", {"title": "x"}, format="json")
    assert patch.status_code == 404
    assert outsider_api.delete(f"/api/v1/features/{feature.pk}/").status_code == 404
    assert outsider_api.get("/api/v1/features/").json()["count"] == 0
    Feature.objects.get(pk=feature.pk, title=feature.title)


def test_cannot_create_into_another_workspace_product(outsider_api, product):
    response = outsider_api.post(
        "/api/v1/features/", {"product": product.slug, "title": "Sneaky"}, format="json"
    )

    assert response.status_code == 400
    assert "product" in response.json()
    assert not Feature.objects.filter(title="Sneaky").exists()


def test_cannot_link_another_workspace_persona(write_api, product):
    foreign = f.PersonaFactory()

    response = write_api.post(
        "/api/v1/features/",
        {"product": product.slug, "title": "X", "personas": [foreign.pk]},
        format="json",
    )

    assert response.status_code == 400
    assert "personas" in response.json()


def test_read_token_cannot_write(read_api, product):
    feature = f.FeatureFactory(product=product)

    response = read_api.patch(f"/api/v1/features/{feature.pk}/", {"title": "x"}, format="json")

    assert response.status_code == 403
    assert "read-only" in response.json()["detail"]


def test_viewer_token_cannot_write_whatever_its_scope(viewer_write_api, product):
    feature = f.FeatureFactory(product=product)

    patch = viewer_write_api.patch(f"/api/v1/features/{feature.pk}/", {"title": "x"}, format="json")
    create = viewer_write_api.post(
        "/api/v1/features/", {"product": product.slug, "title": "New"}, format="json"
    )

    assert patch.status_code == 403
    assert create.status_code == 403
    assert viewer_write_api.get(f"/api/v1/features/{feature.pk}/").status_code == 200
    assert Feature.objects.get(pk=feature.pk).title == feature.title


def test_token_is_limited_to_its_workspace(editor, workspace, product):
    # The editor is also a member of a second workspace, but the token belongs to the first.
    second = f.MembershipFactory(user=editor).workspace
    elsewhere = f.ProductFactory(workspace=second)
    _, raw = api_token_issue(user=editor, workspace=workspace, name="one")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    slugs = [p["slug"] for p in client.get("/api/v1/products/").json()["results"]]

    assert slugs == [product.slug]
    assert client.get(f"/api/v1/products/{elsewhere.slug}/").status_code == 404


def test_session_authentication_works_with_csrf(client, editor, product):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(editor)
    feature = f.FeatureFactory(product=product)

    read = csrf_client.get(f"/api/v1/features/{feature.pk}/")
    write = csrf_client.patch(
        f"/api/v1/features/{feature.pk}/", '{"title": "x"}', content_type="application/json"
    )

    assert read.status_code == 200
    assert write.status_code == 403
    assert "CSRF" in write.json()["detail"]


def test_throttled_token_gets_429_with_retry_after(read_api, settings):
    settings.API_THROTTLE_RATE = "3/minute"

    codes = [read_api.get("/api/v1/products/").status_code for _ in range(4)]

    assert codes == [200, 200, 200, 429]
    last = read_api.get("/api/v1/products/")
    assert int(last["Retry-After"]) > 0


def test_schema_and_docs_are_public(api):
    schema = api.get("/api/v1/schema/")
    docs = api.get("/api/docs/")

    assert schema.status_code == 200
    assert b"/api/v1/products/{slug}/priorities/" in schema.content
    assert docs.status_code == 200
