"""Invitations and members, end to end through the pages an admin and an invitee touch."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Invitation, Membership, Role, User, hash_token
from accounts.services import invitation_create
from tests import factories as f

MEMBERS = reverse("accounts:members")
INVITE = reverse("accounts:member_invite")


def _invite(
    workspace_admin_client,
    django_capture_on_commit_callbacks,
    email="ada@example.com",
    role="viewer",
):
    with django_capture_on_commit_callbacks(execute=True):
        response = workspace_admin_client.post(INVITE, {"email": email, "role": role})
    return response


def _token_from(mail) -> str:
    match = re.search(r"/accounts/invite/([A-Za-z0-9_\-]+)/", mail.body)
    assert match, mail.body
    return match.group(1)


def _accept_url(token: str) -> str:
    return reverse("accounts:invitation_accept", args=[token])


def test_admin_invites_by_email_with_an_absolute_expiring_link(
    workspace_admin_client,
    admin_user,
    workspace,
    mailoutbox,
    site_url,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.INVITATION_VALID_DAYS = 3
    before = timezone.now()

    response = _invite(
        workspace_admin_client, django_capture_on_commit_callbacks, email="Ada@Example.com"
    )

    assert response.status_code == 302
    assert response["Location"] == MEMBERS
    invitation = Invitation.objects.get()
    assert invitation.workspace == workspace
    assert invitation.email == "ada@example.com"
    assert invitation.role == Role.VIEWER
    assert invitation.invited_by == admin_user
    assert before + timedelta(days=3) <= invitation.expires_at <= timezone.now() + timedelta(days=3)
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["ada@example.com"]
    assert workspace.name in mail.subject
    token = _token_from(mail)
    assert f"{site_url}/accounts/invite/{token}/" in mail.body
    assert f"{site_url}/accounts/invite/{token}/" in mail.alternatives[0][0]
    # Only the hash is stored.
    assert invitation.token_hash == hash_token(token)
    assert token not in invitation.token_hash
    page = workspace_admin_client.get(MEMBERS).content.decode()
    assert "Invitation sent to ada@example.com." in page
    assert "ada@example.com" in page


def test_no_email_is_sent_when_the_invitation_is_rolled_back(
    admin_user, workspace, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        invitation_create(
            workspace=workspace, email="x@example.com", role="editor", invited_by=admin_user
        )

    assert len(callbacks) == 1
    assert mailoutbox == []


def test_new_user_accepts_and_gets_an_account_and_the_invited_role(
    workspace_admin_client, workspace, mailoutbox, django_capture_on_commit_callbacks
):
    _invite(workspace_admin_client, django_capture_on_commit_callbacks, role="viewer")
    token = _token_from(mailoutbox[0])
    invitee = Client()

    page = invitee.get(_accept_url(token))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Join " + workspace.name in html
    assert 'value="ada@example.com" readonly' in html

    response = invitee.post(
        _accept_url(token),
        {
            "display_name": "Ada Lovelace",
            "password1": "analytical engine 1843",
            "password2": "analytical engine 1843",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("roadmap:home")
    user = User.objects.get(email="ada@example.com")
    assert user.display_name == "Ada Lovelace"
    assert user.check_password("analytical engine 1843")
    membership = Membership.objects.get(user=user)
    assert (membership.workspace, membership.role) == (workspace, Role.VIEWER)
    invitation = Invitation.objects.get()
    assert invitation.accepted_by == user
    assert invitation.accepted_at is not None
    # Logged in, working in the new workspace.
    home = invitee.get(reverse("roadmap:home"))
    assert home.wsgi_request.user == user
    assert invitee.session["workspace_id"] == workspace.pk
    assert f"Welcome to {workspace.name}." in home.content.decode()


def test_signup_with_a_weak_password_creates_nothing_and_keeps_the_name(
    workspace_admin_client, mailoutbox, django_capture_on_commit_callbacks
):
    _invite(workspace_admin_client, django_capture_on_commit_callbacks)
    token = _token_from(mailoutbox[0])
    invitee = Client()

    response = invitee.post(
        _accept_url(token), {"display_name": "Ada", "password1": "123", "password2": "123"}
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "This password is too short." in html
    assert 'value="Ada"' in html
    assert not User.objects.filter(email="ada@example.com").exists()
    assert Invitation.objects.get().accepted_at is None


def test_signup_with_different_passwords_is_refused(
    workspace_admin_client, mailoutbox, django_capture_on_commit_callbacks
):
    _invite(workspace_admin_client, django_capture_on_commit_callbacks)
    token = _token_from(mailoutbox[0])

    response = Client().post(
        _accept_url(token),
        {
            "display_name": "Ada",
            "password1": "analytical engine 1843",
            "password2": "other one 1843",
        },
    )

    assert response.status_code == 400
    assert "The two passwords differ." in response.content.decode()
    assert not User.objects.filter(email="ada@example.com").exists()


def test_existing_user_with_the_invited_email_joins_in_one_click(
    workspace_admin_client, workspace, mailoutbox, django_capture_on_commit_callbacks
):
    existing = f.UserFactory(email="ada@example.com")
    _invite(workspace_admin_client, django_capture_on_commit_callbacks, role="editor")
    token = _token_from(mailoutbox[0])
    logged_out = Client()
    page = logged_out.get(_accept_url(token)).content.decode()
    assert "Log in to accept" in page
    assert f"{reverse('accounts:login')}?next={_accept_url(token)}" in page
    client = Client()
    client.force_login(existing)

    assert 'type="submit">Join ' in client.get(_accept_url(token)).content.decode()
    response = client.post(_accept_url(token))

    assert response.status_code == 302
    assert Membership.objects.get(user=existing).role == Role.EDITOR
    assert client.session["workspace_id"] == workspace.pk


def test_logged_in_as_someone_else_cannot_accept(
    workspace_admin_client, mailoutbox, django_capture_on_commit_callbacks
):
    _invite(workspace_admin_client, django_capture_on_commit_callbacks)
    token = _token_from(mailoutbox[0])
    someone = f.UserFactory(email="eve@example.com")
    client = Client()
    client.force_login(someone)

    page = client.get(_accept_url(token))
    response = client.post(_accept_url(token))

    assert page.status_code == 403
    assert "this invitation is for ada@example.com" in page.content.decode()
    assert response.status_code == 403
    assert not Membership.objects.filter(user=someone).exists()
    assert Invitation.objects.get().accepted_at is None


INVALID = "This invitation is no longer valid"


def _assert_invalid(response):
    assert response.status_code == 404
    assert INVALID in response.content.decode()


def test_expired_invitation_is_rejected(
    workspace_admin_client, mailoutbox, django_capture_on_commit_callbacks
):
    _invite(workspace_admin_client, django_capture_on_commit_callbacks)
    token = _token_from(mailoutbox[0])
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    invitee = Client()

    _assert_invalid(invitee.get(_accept_url(token)))
    _assert_invalid(
        invitee.post(
            _accept_url(token),
            {
                "display_name": "Ada",
                "password1": "analytical engine 1843",
                "password2": "analytical engine 1843",
            },
        )
    )
    assert not User.objects.filter(email="ada@example.com").exists()


def test_revoked_invitation_is_rejected(
    workspace_admin_client, mailoutbox, django_capture_on_commit_callbacks
):
    _invite(workspace_admin_client, django_capture_on_commit_callbacks)
    token = _token_from(mailoutbox[0])
    invitation = Invitation.objects.get()

    response = workspace_admin_client.post(
        reverse("accounts:invitation_revoke", args=[invitation.pk])
    )

    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert (
        "ada@example.com"
        not in workspace_admin_client.get(MEMBERS).content.decode().split("Pending invitations")[1]
    )
    _assert_invalid(Client().get(_accept_url(token)))


def test_used_invitation_cannot_be_reused(
    workspace_admin_client, mailoutbox, django_capture_on_commit_callbacks
):
    _invite(workspace_admin_client, django_capture_on_commit_callbacks)
    token = _token_from(mailoutbox[0])
    data = {
        "display_name": "Ada",
        "password1": "analytical engine 1843",
        "password2": "analytical engine 1843",
    }
    assert Client().post(_accept_url(token), data).status_code == 302

    _assert_invalid(Client().get(_accept_url(token)))
    _assert_invalid(Client().post(_accept_url(token), data))
    assert User.objects.filter(email="ada@example.com").count() == 1


def test_unknown_token_is_rejected(db):
    _assert_invalid(Client().get(_accept_url("not-a-real-token")))


def test_inviting_again_replaces_the_pending_invitation(
    workspace_admin_client, mailoutbox, django_capture_on_commit_callbacks
):
    _invite(workspace_admin_client, django_capture_on_commit_callbacks)
    _invite(workspace_admin_client, django_capture_on_commit_callbacks, role="editor")
    first, second = _token_from(mailoutbox[0]), _token_from(mailoutbox[1])

    _assert_invalid(Client().get(_accept_url(first)))
    assert Client().get(_accept_url(second)).status_code == 200
    assert list(Invitation.objects.pending().values_list("role", flat=True)) == ["editor"]


def test_inviting_a_member_or_a_bad_address_is_refused_with_the_form_filled(
    workspace_admin_client, editor, mailoutbox, django_capture_on_commit_callbacks
):
    member = _invite(
        workspace_admin_client, django_capture_on_commit_callbacks, email=editor.email.upper()
    )
    bad = _invite(workspace_admin_client, django_capture_on_commit_callbacks, email="not-an-email")
    bad_role = _invite(workspace_admin_client, django_capture_on_commit_callbacks, role="owner")

    assert member.status_code == 400
    assert "is already a member of" in member.content.decode()
    assert bad.status_code == 400
    assert 'value="not-an-email"' in bad.content.decode()
    assert "Enter a valid email address." in bad.content.decode()
    assert bad_role.status_code == 400
    assert Invitation.objects.count() == 0
    assert mailoutbox == []


@pytest.mark.parametrize("role", [Role.EDITOR, Role.VIEWER])
def test_non_admin_sees_members_read_only_and_cannot_manage(
    role, workspace, admin_user, mailoutbox, django_capture_on_commit_callbacks
):
    user = f.MembershipFactory(workspace=workspace, role=role).user
    client = Client()
    client.force_login(user)
    admin_membership = Membership.objects.get(user=admin_user)
    invitation, _ = invitation_create(
        workspace=workspace, email="x@example.com", role="viewer", invited_by=admin_user
    )
    mailoutbox.clear()

    page = client.get(MEMBERS)
    with django_capture_on_commit_callbacks(execute=True):
        invite = client.post(INVITE, {"email": "new@example.com", "role": "admin"})
    revoke = client.post(reverse("accounts:invitation_revoke", args=[invitation.pk]))
    promote = client.post(
        reverse("accounts:member_role", args=[Membership.objects.get(user=user).pk]),
        {"role": "admin"},
    )
    demote = client.post(
        reverse("accounts:member_role", args=[admin_membership.pk]), {"role": "viewer"}
    )
    remove = client.post(reverse("accounts:member_remove", args=[admin_membership.pk]))

    assert page.status_code == 200
    html = page.content.decode()
    assert admin_user.email in html and "x@example.com" in html
    assert "Send invitation" not in html and "Revoke" not in html and "<select" not in html
    assert [r.status_code for r in (invite, revoke, promote, demote, remove)] == [403] * 5
    assert Invitation.objects.count() == 1
    invitation.refresh_from_db()
    assert invitation.revoked_at is None
    assert Membership.objects.get(user=user).role == role
    assert Membership.objects.get(pk=admin_membership.pk).role == Role.ADMIN
    assert mailoutbox == []


def test_admin_changes_a_role_and_removes_a_member(workspace_admin_client, workspace, editor):
    membership = Membership.objects.get(user=editor, workspace=workspace)

    response = workspace_admin_client.post(
        reverse("accounts:member_role", args=[membership.pk]), {"role": "viewer"}
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == Role.VIEWER

    response = workspace_admin_client.post(reverse("accounts:member_remove", args=[membership.pk]))
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert User.objects.filter(pk=editor.pk).exists()


def test_last_admin_can_be_neither_demoted_nor_removed(
    workspace_admin_client, admin_user, workspace
):
    membership = Membership.objects.get(user=admin_user, workspace=workspace)

    demote = workspace_admin_client.post(
        reverse("accounts:member_role", args=[membership.pk]), {"role": "editor"}
    )
    remove = workspace_admin_client.post(reverse("accounts:member_remove", args=[membership.pk]))

    assert demote.status_code == remove.status_code == 302
    membership.refresh_from_db()
    assert membership.role == Role.ADMIN
    page = workspace_admin_client.get(MEMBERS).content.decode()
    assert "is the last admin of this workspace" in page
    assert "Last admin" in page


def test_an_admin_can_step_down_when_another_admin_remains(
    workspace_admin_client, admin_user, workspace
):
    f.MembershipFactory(workspace=workspace, role=Role.ADMIN)
    membership = Membership.objects.get(user=admin_user, workspace=workspace)

    workspace_admin_client.post(
        reverse("accounts:member_role", args=[membership.pk]), {"role": "editor"}
    )

    membership.refresh_from_db()
    assert membership.role == Role.EDITOR
    assert (
        workspace_admin_client.post(
            INVITE, {"email": "z@example.com", "role": "viewer"}
        ).status_code
        == 403
    )


def test_members_and_invitations_of_another_workspace_are_not_found(
    workspace_admin_client, other_workspace, outsider
):
    other_admin = f.MembershipFactory(workspace=other_workspace, role=Role.ADMIN).user
    their_invitation, _ = invitation_create(
        workspace=other_workspace, email="y@example.com", role="viewer", invited_by=other_admin
    )
    their_member = Membership.objects.get(user=outsider)

    responses = [
        workspace_admin_client.post(
            reverse("accounts:member_role", args=[their_member.pk]), {"role": "viewer"}
        ),
        workspace_admin_client.post(reverse("accounts:member_remove", args=[their_member.pk])),
        workspace_admin_client.post(
            reverse("accounts:invitation_revoke", args=[their_invitation.pk])
        ),
    ]

    assert [r.status_code for r in responses] == [404, 404, 404]
    their_member.refresh_from_db()
    assert their_member.role == Role.EDITOR
    their_invitation.refresh_from_db()
    assert their_invitation.revoked_at is None
    assert "y@example.com" not in workspace_admin_client.get(MEMBERS).content.decode()


def test_members_page_needs_login(db):
    response = Client().get(MEMBERS)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={MEMBERS}"


def test_members_page_runs_a_constant_number_of_queries(
    workspace_admin_client, admin_user, workspace, django_assert_max_num_queries
):
    for _ in range(20):
        f.MembershipFactory(workspace=workspace)
        invitation_create(
            workspace=workspace, email=f"{_}@example.com", role="viewer", invited_by=admin_user
        )

    with django_assert_max_num_queries(8):
        response = workspace_admin_client.get(MEMBERS)

    assert response.status_code == 200
