"""Who may edit and who administers: one rule (accounts.models, asked through roadmap.access),
which pages, the API and templates all answer alike, for every role."""

import ast
from pathlib import Path

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Membership, Role, role_can_edit, role_is_admin
from accounts.tokens import api_token_issue
from roadmap.access import role_allows
from roadmap.models import Feature, WebhookEndpoint
from tests import factories as f

ROOT = Path(__file__).resolve().parents[2]
MAY_EDIT = {Role.ADMIN: True, Role.EDITOR: True, Role.VIEWER: False}
MAY_ADMINISTER = {Role.ADMIN: True, Role.EDITOR: False, Role.VIEWER: False}


def _member(workspace, role, client):
    user = f.MembershipFactory(workspace=workspace, role=role).user
    client.force_login(user)
    _, raw = api_token_issue(user=user, workspace=workspace, name="test", scope="write")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return api


def test_every_role_has_an_answer():
    assert set(MAY_EDIT) == set(MAY_ADMINISTER) == set(Role)


@pytest.mark.parametrize("role", list(Role))
def test_the_rule_and_its_askers_agree_for_every_role(role):
    membership = Membership(role=role)

    assert role_can_edit(role) is membership.can_edit is role_allows(role, edit=True)
    assert role_can_edit(role) is MAY_EDIT[role]
    assert role_is_admin(role) is membership.is_admin is role_allows(role, admin=True)
    assert role_is_admin(role) is MAY_ADMINISTER[role]
    assert role_allows(role) is True  # every member reads


def test_a_non_member_may_do_nothing():
    assert role_allows(None) is role_allows(None, edit=True) is role_allows(None, admin=True)
    assert role_allows(None) is False


@pytest.mark.parametrize("role", list(Role))
def test_pages_and_api_agree_on_who_may_edit(client, workspace, product, role):
    # Given a member with this role, signed in to the pages and holding a write token
    feature = f.FeatureFactory(product=product, title="Before")
    api = _member(workspace, role, client)

    # When they open a page that edits, and change a feature through the API
    page = client.get(reverse("roadmap:feature_create", args=[product.slug]))
    table = client.get(reverse("roadmap:product", args=[product.slug]))
    patch = api.patch(f"/api/v1/features/{feature.pk}/", {"title": "After"}, format="json")

    # Then both say what the rule says
    allowed = MAY_EDIT[role]
    assert page.status_code == (200 if allowed else 403)
    assert patch.status_code == (200 if allowed else 403), patch.content
    assert Feature.objects.get(pk=feature.pk).title == ("After" if allowed else "Before")
    assert table.status_code == 200
    assert table.context["product"].can_edit is allowed
    assert ("Read-only</span>" in table.content.decode()) is not allowed


@pytest.mark.parametrize("role", list(Role))
def test_pages_and_api_agree_on_who_administers(client, workspace, role):
    # Given a member with this role and a webhook of the workspace
    WebhookEndpoint.objects.create(
        workspace=workspace, url="https://example.com/hook", events=["feature.created"]
    )
    api = _member(workspace, role, client)

    # When they open the webhooks page and list the webhooks through the API
    page = client.get(reverse("webhooks:list"))
    listing = api.get("/api/v1/webhooks/")

    # Then both say what the rule says
    allowed = MAY_ADMINISTER[role]
    assert page.status_code == (200 if allowed else 403)
    assert listing.status_code == (200 if allowed else 403), listing.content
    if allowed:
        assert listing.json()["count"] == 1


def _is_role(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "Role"
        and node.attr.isupper()
    )


def _role_rules(path: Path) -> list[str]:
    """Where ``path`` compares with a Role member (``role == Role.ADMIN``) or lists Role members
    (``EDIT_ROLES = (Role.ADMIN, Role.EDITOR)``): a statement of who may what."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Compare):
            stated = any(_is_role(side) for side in (node.left, *node.comparators))
        elif isinstance(node, ast.Tuple | ast.List | ast.Set):
            stated = any(_is_role(element) for element in node.elts)
        else:
            stated = False
        if stated:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_only_accounts_models_says_which_roles_may_what():
    sources = [
        path
        for folder in ("accounts", "roadmap", "config")
        for path in (ROOT / folder).rglob("*.py")
        if "migrations" not in path.parts
    ]
    restated = [
        where
        for path in sources
        if path != ROOT / "accounts" / "models.py"
        for where in _role_rules(path)
    ]

    assert restated == [], "ask accounts.models.role_can_edit / role_is_admin instead"
    # The one place, which the check does see (EDIT_ROLES and role_is_admin).
    assert len(_role_rules(ROOT / "accounts" / "models.py")) == 2
