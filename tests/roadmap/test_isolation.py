"""Workspace isolation of the browser pages: another workspace's rows are not found (404),
anonymous visitors are sent to log in, and every role of the workspace can read."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Role
from tests import factories as f


@pytest.fixture
def pages(product):
    feature = f.FeatureFactory(product=product, title="Secret plan")
    f.InsightFactory(product=product, customer="Hidden Customer").features.add(feature)
    f.RoadmapItemFactory(product=product, feature=feature)
    return {
        "product": product.get_absolute_url(),
        "product filtered": product.get_absolute_url() + "?status=all",
        "feature": feature.get_absolute_url(),
    }


def test_urls_are_the_ones_models_link_to(pages, product):
    assert pages["product"] == reverse("roadmap:product", kwargs={"slug": product.slug})
    assert pages["feature"].startswith("/features/")


@pytest.mark.parametrize("page", ["product", "product filtered", "feature"])
def test_member_of_another_workspace_gets_404(outsider_client, pages, page):
    response = outsider_client.get(pages[page])

    assert response.status_code == 404
    html = response.content.decode()
    assert "Secret plan" not in html
    assert "Hidden Customer" not in html


@pytest.mark.parametrize("page", ["product", "feature"])
def test_htmx_request_from_another_workspace_gets_404(outsider_client, pages, page):
    response = outsider_client.get(pages[page], headers={"HX-Request": "true"})

    assert response.status_code == 404


def test_another_workspaces_products_are_not_on_home(outsider_client, product):
    response = outsider_client.get(reverse("roadmap:home"))

    assert response.status_code == 200
    assert product.get_absolute_url() not in response.content.decode()
    assert product.name not in response.content.decode()


def test_unknown_ids_and_slugs_are_404(viewer_client, db):
    assert viewer_client.get("/products/no-such-product/").status_code == 404
    assert viewer_client.get("/features/999999/").status_code == 404


def test_user_without_any_workspace_gets_404(client, pages):
    client.force_login(f.UserFactory())

    for url in pages.values():
        assert client.get(url).status_code == 404
    assert client.get(reverse("accounts:members")).status_code == 404


def test_switching_workspace_does_not_open_another_company(outsider_client, product, pages):
    outsider_client.post(
        reverse("accounts:workspace_switch"), {"workspace_id": product.workspace_id}
    )

    assert outsider_client.session.get("workspace_id") != product.workspace_id
    assert outsider_client.get(pages["product"]).status_code == 404


@pytest.mark.parametrize("page", ["product", "product filtered", "feature"])
def test_anonymous_is_redirected_to_login(client, pages, page):
    response = client.get(pages[page])

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login") + "?next=")


@pytest.mark.parametrize("role", [Role.VIEWER, Role.EDITOR, Role.ADMIN])
def test_every_role_of_the_workspace_reads_the_pages(workspace, pages, role):
    client = Client()
    client.force_login(f.MembershipFactory(workspace=workspace, role=role).user)

    for url in pages.values():
        response = client.get(url)
        assert response.status_code == 200
        assert "Secret plan" in response.content.decode()


def test_a_member_of_two_workspaces_reads_both(outsider, outsider_client, product, pages):
    f.MembershipFactory(user=outsider, workspace=product.workspace, role=Role.VIEWER)

    assert outsider_client.get(pages["product"]).status_code == 200
    assert outsider_client.get(pages["feature"]).status_code == 200
