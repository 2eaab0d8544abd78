"""Product slugs are unique per workspace (issue 16.8): two workspaces may use the same one, and
each member reaches their own product by it, in pages and in the API. Someone in both reaches
the one of their current workspace. Nothing tells a member which slugs other workspaces use."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from accounts.middleware import SESSION_KEY
from accounts.models import Role
from accounts.tokens import api_token_issue
from roadmap.access import product_for
from roadmap.models import Feature, Product
from roadmap.planning.services.products import SLUG_TAKEN
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def alpha():
    return f.WorkspaceFactory(name="Alpha")


@pytest.fixture
def beta():
    return f.WorkspaceFactory(name="Beta")


@pytest.fixture
def alpha_web(alpha):
    return f.ProductFactory(workspace=alpha, slug="web", name="Alpha Web")


@pytest.fixture
def beta_web(beta):
    return f.ProductFactory(workspace=beta, slug="web", name="Beta Web")


def _member(*workspaces, email):
    user = f.UserFactory(email=email)
    for workspace in workspaces:
        f.MembershipFactory(user=user, workspace=workspace, role=Role.EDITOR)
    return user


@pytest.fixture
def alice(alpha):
    return _member(alpha, email="alice@example.com")


@pytest.fixture
def bob(beta):
    return _member(beta, email="bob@example.com")


@pytest.fixture
def carol(alpha, beta):
    return _member(alpha, beta, email="carol@example.com")


def _browser(user):
    client = Client()
    client.force_login(user)
    return client


def _api(user, workspace):
    _, raw = api_token_issue(user=user, workspace=workspace, name="test", scope="write")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def _switch(client, workspace):
    assert client.post("/accounts/workspace/", {"workspace_id": workspace.pk}).status_code == 302


# --- Pages ---------------------------------------------------------------------------------


def test_each_member_opens_their_own_workspace_s_product(alice, bob, alpha_web, beta_web):
    for_alice = _browser(alice).get("/products/web/").content.decode()
    for_bob = _browser(bob).get("/products/web/").content.decode()

    assert "Alpha Web" in for_alice and "Beta Web" not in for_alice
    assert "Beta Web" in for_bob and "Alpha Web" not in for_bob


def test_a_member_of_both_opens_the_current_workspace_s_product(carol, alpha_web, beta_web):
    client = _browser(carol)

    first = client.get("/products/web/").content.decode()  # no choice yet: as the home page
    _switch(client, beta_web.workspace)
    after_switch = client.get("/products/web/").content.decode()
    saved = client.post(
        "/products/web/settings/",
        {"name": "Beta Web 2", "slug": "web", "product_line": "", "vision": "", "description": ""},
    )

    assert "Alpha Web" in first and "Beta Web" not in first
    assert "Beta Web" in after_switch and "Alpha Web" not in after_switch
    assert saved.status_code == 302
    assert list(Product.objects.order_by("pk").values_list("name", flat=True)) == [
        "Alpha Web",
        "Beta Web 2",
    ]


def test_a_feature_page_shows_its_own_product_whatever_the_current_workspace(
    carol, alpha_web, beta_web
):
    feature = f.FeatureFactory(product=beta_web, title="Beta feature")
    client = _browser(carol)  # current workspace: Alpha

    page = client.get(f"/features/{feature.pk}/").content.decode()
    edit = client.get(f"/features/{feature.pk}/edit/")

    assert "Beta Web" in page and "Alpha Web" not in page
    assert edit.status_code == 200 and "Beta Web" in edit.content.decode()


def test_the_slug_is_resolved_in_one_query(carol, alpha_web, beta_web, django_assert_num_queries):
    request = RequestFactory().get("/products/web/")
    request.user, request.session = carol, {SESSION_KEY: beta_web.workspace_id}

    with django_assert_num_queries(1):
        product = product_for(request, "web", edit=True)

    assert (product.pk, product.can_edit) == (beta_web.pk, True)


def test_an_outsider_still_gets_404(alice, beta_web):
    assert _browser(alice).get("/products/web/").status_code == 404


# --- API -----------------------------------------------------------------------------------


def test_each_token_reaches_its_own_workspace_s_product(alice, bob, alpha_web, beta_web):
    f.FeatureFactory(product=alpha_web, title="Alpha feature")
    f.FeatureFactory(product=beta_web, title="Beta feature")
    for_alice, for_bob = _api(alice, alpha_web.workspace), _api(bob, beta_web.workspace)

    assert for_alice.get("/api/v1/products/web/").json()["name"] == "Alpha Web"
    assert for_bob.get("/api/v1/products/web/").json()["name"] == "Beta Web"
    priorities = for_bob.get("/api/v1/products/web/priorities/").json()["results"]
    listed = for_alice.get("/api/v1/features/?product=web").json()["results"]

    assert [r["title"] for r in priorities] == ["Beta feature"]
    assert [r["title"] for r in listed] == ["Alpha feature"]


def test_a_member_of_both_reaches_the_token_s_or_the_current_workspace_s_product(
    carol, alpha_web, beta_web
):
    f.FeatureFactory(product=alpha_web, title="Alpha feature")
    f.FeatureFactory(product=beta_web, title="Beta feature")
    beta_token = _api(carol, beta_web.workspace)
    session = APIClient()
    session.force_login(carol)

    by_token = beta_token.get("/api/v1/products/web/").json()["name"]
    listed = beta_token.get("/api/v1/features/?product=web").json()["results"]
    created = beta_token.post(
        "/api/v1/features/", {"product": "web", "title": "Made by token"}, format="json"
    )
    by_session_first = session.get("/api/v1/products/web/").json()["name"]
    session.post("/accounts/workspace/", {"workspace_id": beta_web.workspace_id})
    by_session_then = session.get("/api/v1/products/web/").json()["name"]
    session_listed = session.get("/api/v1/features/?product=web").json()["results"]

    assert by_token == "Beta Web"
    assert [r["title"] for r in listed] == ["Beta feature"]
    assert created.status_code == 201, created.json()
    assert Feature.objects.get(title="Made by token").product == beta_web
    assert (by_session_first, by_session_then) == ("Alpha Web", "Beta Web")
    assert sorted(r["title"] for r in session_listed) == ["Beta feature", "Made by token"]


def test_another_workspace_s_slug_is_not_found_through_a_token(alice, beta_web):
    gamma = f.MembershipFactory(user=alice, workspace=f.WorkspaceFactory(name="Gamma")).workspace
    f.MembershipFactory(user=alice, workspace=beta_web.workspace)
    api = _api(alice, gamma)  # a token of a workspace without "web"; Beta has one

    assert api.get("/api/v1/products/web/").status_code == 404
    assert api.post(
        "/api/v1/features/", {"product": "web", "title": "x"}, format="json"
    ).json() == {"product": ["Object with slug=web does not exist."]}


def test_a_slug_of_another_workspace_is_free_and_one_of_this_workspace_is_taken(
    alice, alpha_web, beta
):
    f.ProductFactory(workspace=beta, slug="mobile", name="Beta Mobile")
    api = _api(alice, alpha_web.workspace)

    elsewhere = api.post("/api/v1/products/", {"name": "Mobile", "slug": "mobile"}, format="json")
    here = api.post("/api/v1/products/", {"name": "Web again", "slug": "web"}, format="json")
    renamed = api.patch("/api/v1/products/mobile/", {"slug": "web"}, format="json")

    assert elsewhere.status_code == 201
    assert (here.status_code, here.json()) == (400, {"slug": [SLUG_TAKEN]})
    assert (renamed.status_code, renamed.json()) == (400, {"slug": [SLUG_TAKEN]})
    assert sorted(Product.objects.values_list("workspace__name", "slug")) == [
        ("Alpha", "mobile"),
        ("Alpha", "web"),
        ("Beta", "mobile"),
    ]


def test_slug_taken_in_this_workspace_on_the_settings_page(alice, alpha_web, alpha):
    f.ProductFactory(workspace=alpha, slug="mobile")

    response = _browser(alice).post(
        "/products/web/settings/",
        {"name": "Web", "slug": "mobile", "product_line": "", "vision": "", "description": ""},
    )

    assert response.status_code == 400
    assert SLUG_TAKEN in response.content.decode()
    assert Product.objects.get(pk=alpha_web.pk).slug == "web"


# --- Owners named by email -------------------------------------------------------------------


def test_no_account_and_not_a_member_get_the_same_answer(alice, bob, alpha_web):
    api = _api(alice, alpha_web.workspace)
    feature = f.FeatureFactory(product=alpha_web)
    release = f.ReleaseFactory(product=alpha_web)
    task = f.LaunchTaskFactory(release=release)

    answers = {
        (url, email): api.patch(url, {"owner": email}, format="json")
        for url in (f"/api/v1/features/{feature.pk}/", f"/api/v1/launch-tasks/{task.pk}/")
        for email in ("bob@example.com", "nobody@example.com", "not an address")
    }

    assert {(r.status_code, str(r.json())) for r in answers.values()} == {
        (400, str({"owner": ["The owner must be a member of this workspace."]}))
    }
    assert Feature.objects.get(pk=feature.pk).owner is None


def test_an_owner_is_found_under_any_spelling_of_their_address(alice, alpha_web):
    api = _api(alice, alpha_web.workspace)
    feature = f.FeatureFactory(product=alpha_web)

    response = api.patch(
        f"/api/v1/features/{feature.pk}/", {"owner": "ALICE@Example.com"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["owner"] == "alice@example.com"


def test_a_member_of_another_of_my_workspaces_is_refused_through_a_token(carol, bob, beta_web):
    alpha_product = f.ProductFactory(workspace=carol.workspaces.get(name="Alpha"))
    feature = f.FeatureFactory(product=alpha_product)
    api = _api(carol, alpha_product.workspace)

    response = api.patch(f"/api/v1/features/{feature.pk}/", {"owner": bob.email}, format="json")

    assert response.json() == {"owner": ["The owner must be a member of this workspace."]}


def test_a_slug_taken_between_the_check_and_the_save_is_a_form_error(alpha_web, monkeypatch):
    # Two saves at once both pass the checks; the second meets the constraint. Here the other
    # product is made right after this one's checks, as the other transaction's commit would be.
    from roadmap.planning.services import products

    checked = Product.full_clean

    def then_the_other_save_commits(product, *args, **kwargs):
        checked(product, *args, **kwargs)
        f.ProductFactory(workspace=alpha_web.workspace, slug="mobile", name="Other mobile")

    monkeypatch.setattr(Product, "full_clean", then_the_other_save_commits)

    with pytest.raises(ValidationError) as error:
        products.product_create(workspace=alpha_web.workspace, name="Mobile", slug="mobile")

    assert error.value.message_dict == {"slug": [SLUG_TAKEN]}
