"""Removing a member ends what the membership gave (issue 16.9): their API tokens for that
workspace stop working and their subscriptions to its internal roadmaps are deleted. Their other
workspaces, other people's subscriptions and external (share link) subscriptions stay."""

import datetime

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import ApiToken, Membership, Role, User
from accounts.tokens import api_token_authenticate, api_token_issue
from roadmap.models import Subscription
from roadmap.sharing.services.digests import subscription_add
from tests import factories as f

pytestmark = pytest.mark.django_db


def _token(user, workspace) -> str:
    return api_token_issue(user=user, workspace=workspace, name="sync", scope="write")[1]


def _api_status(raw: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client.get("/api/v1/products/").status_code


def _follow(product, user=None, *, email=None, share_link=None):
    return subscription_add(
        product=product,
        email=email or user.email,
        user=user,
        share_link=share_link,
        frequency="daily",
        send_time=datetime.time(0, 0),
    )


@pytest.fixture
def elsewhere(editor):
    """The editor's other workspace, with a product they follow there."""
    membership = f.MembershipFactory(user=editor, role=Role.EDITOR)
    return f.ProductFactory(workspace=membership.workspace)


def test_removal_revokes_the_tokens_and_internal_subscriptions_of_that_workspace(
    workspace_admin_client, admin_user, editor, product, elsewhere
):
    here_token, there_token = _token(editor, product.workspace), _token(editor, elsewhere.workspace)
    ended = [
        _follow(product, editor),
        _follow(f.ProductFactory(workspace=product.workspace), email=editor.email),  # no user
    ]
    kept = [
        _follow(product, admin_user),
        _follow(product, email=editor.email, share_link=f.ShareLinkFactory(product=product)),
        _follow(elsewhere, editor),
    ]
    membership = Membership.objects.get(user=editor, workspace=product.workspace)
    assert _api_status(here_token) == 200

    response = workspace_admin_client.post(f"/accounts/members/{membership.pk}/remove/")

    assert response.status_code == 302
    assert _api_status(here_token) == 401
    assert _api_status(there_token) == 200
    assert ApiToken.objects.get(workspace=product.workspace).revoked_at is not None
    assert sorted(Subscription.objects.values_list("pk", flat=True)) == sorted(s.pk for s in kept)
    assert not Subscription.objects.filter(pk__in=[s.pk for s in ended]).exists()


def test_a_token_stops_working_once_its_user_is_no_member_however_they_left(
    editor, product, django_assert_num_queries
):
    raw = _token(editor, product.workspace)
    assert api_token_authenticate(raw) is not None  # marks it used: no write below

    with django_assert_num_queries(1):
        found = api_token_authenticate(raw)
    Membership.objects.filter(user=editor).delete()  # not through the service
    with django_assert_num_queries(1):
        gone = api_token_authenticate(raw)

    assert found is not None and found.user == editor
    assert gone is None
    assert _api_status(raw) == 401


@pytest.fixture
def superuser_client():
    client = Client()
    client.force_login(User.objects.create_superuser(email="root@example.com", password="x-Y-z-1"))
    return client


def test_deleting_a_membership_in_the_admin_ends_the_same(superuser_client, editor, product):
    raw = _token(editor, product.workspace)
    _follow(product, editor)
    membership = Membership.objects.get(user=editor, workspace=product.workspace)

    response = superuser_client.post(
        f"/admin/accounts/membership/{membership.pk}/delete/", {"post": "yes"}
    )

    assert response.status_code == 302
    assert ApiToken.objects.get().revoked_at is not None
    assert not Subscription.objects.exists()
    assert _api_status(raw) == 401


def test_deleting_memberships_in_bulk_in_the_admin_ends_the_same(
    superuser_client, editor, viewer, product
):
    _follow(product, editor)
    _follow(product, viewer)
    memberships = Membership.objects.filter(user__in=[editor, viewer])

    superuser_client.post(
        "/admin/accounts/membership/",
        {
            "action": "delete_selected",
            "_selected_action": [m.pk for m in memberships],
            "post": "yes",
        },
    )

    assert not Membership.objects.filter(user__in=[editor, viewer]).exists()
    assert not Subscription.objects.exists()


def test_removing_a_member_in_the_workspace_admin_inline_ends_the_same(
    superuser_client, editor, product
):
    workspace = product.workspace
    _follow(product, editor)
    memberships = list(Membership.objects.filter(workspace=workspace).order_by("pk"))
    data = {
        "name": workspace.name,
        "slug": workspace.slug,
        "memberships-TOTAL_FORMS": str(len(memberships)),
        "memberships-INITIAL_FORMS": str(len(memberships)),
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    for i, membership in enumerate(memberships):
        data |= {
            f"memberships-{i}-id": str(membership.pk),
            f"memberships-{i}-workspace": str(workspace.pk),
            f"memberships-{i}-user": str(membership.user_id),
            f"memberships-{i}-role": membership.role,
        }
        if membership.user_id == editor.pk:
            data[f"memberships-{i}-DELETE"] = "on"

    response = superuser_client.post(f"/admin/accounts/workspace/{workspace.pk}/change/", data)

    assert response.status_code == 302, response.content.decode()[:2000]
    assert not Membership.objects.filter(user=editor, workspace=workspace).exists()
    assert not Subscription.objects.exists()
