"""Writes about people and workspaces: accounts, workspaces, invitations and memberships.

The only code that creates users outside the admin, and that changes who belongs to a workspace.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts import throttle
from accounts.addresses import normalize_email
from accounts.models import (
    Invitation,
    Membership,
    Role,
    User,
    Workspace,
    hash_token,
    role_is_admin,
)
from accounts.tokens import api_tokens_revoke_in
from config.dispatch import enqueue_on_commit


class InvitationUnusable(Exception):
    """The token is unknown, or its invitation expired, was revoked or was already used."""


@transaction.atomic
def user_create(*, email: str, password: str, display_name: str = "") -> User:
    """Create an active account. The password must pass the configured validators."""
    user = User(email=normalize_email(email), display_name=display_name.strip())
    user.full_clean(exclude=["password"])
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    user.set_password(password)
    user.save()
    return user


@transaction.atomic
def workspace_create(*, name: str, slug: str, owner: User) -> Workspace:
    """Create a workspace with its creator as its first admin."""
    workspace = Workspace(name=name.strip(), slug=slug)
    workspace.full_clean()
    workspace.save()
    membership = Membership(user=owner, workspace=workspace, role=Role.ADMIN)
    membership.full_clean()
    membership.save()
    return workspace


def _require_admin(*, user: User, workspace: Workspace) -> None:
    memberships = Membership.objects.filter(user=user, workspace=workspace)
    if not role_is_admin(memberships.values_list("role", flat=True).first()):
        raise PermissionDenied("Only an admin of this workspace can manage its members.")


def send_invitation_email(*, invitation_id: int, raw_token: str) -> None:
    """Email the invite link. Runs after the invitation is committed (see invitation_create)."""
    from accounts.emails import invitation_email

    invitation = Invitation.objects.select_related("workspace", "invited_by").get(pk=invitation_id)
    invitation_email(invitation=invitation, raw_token=raw_token).send()


@transaction.atomic
def invitation_create(
    *, workspace: Workspace, email: str, role: str, invited_by: User
) -> tuple[Invitation, str]:
    """Invite an email address into a workspace; returns the invitation and its only raw token.

    Caller must be an admin. Inviting an address again replaces its pending invitation (the old
    link stops working). The email goes out once the transaction commits.
    """
    _require_admin(user=invited_by, workspace=workspace)
    email = normalize_email(email)
    if Membership.objects.filter(workspace=workspace, user__email=email).exists():
        raise ValidationError({"email": f"{email} is already a member of {workspace}."})
    now = timezone.now()
    raw = Invitation.new_token()
    invitation = Invitation(
        workspace=workspace,
        email=email,
        role=role,
        token_hash=hash_token(raw),
        invited_by=invited_by,
        expires_at=now + timedelta(days=settings.INVITATION_VALID_DAYS),
    )
    invitation.full_clean()
    Invitation.objects.pending().filter(workspace=workspace, email=email).update(revoked_at=now)
    invitation.save()
    transaction.on_commit(
        partial(send_invitation_email, invitation_id=invitation.pk, raw_token=raw)
    )
    return invitation, raw


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor: User) -> None:
    """Stop an invitation's link from working; idempotent. Caller must be an admin."""
    _require_admin(user=actor, workspace=invitation.workspace)
    invitation_revoke_by_staff(invitation=invitation)


@transaction.atomic
def invitation_revoke_by_staff(*, invitation: Invitation) -> bool:
    """Stop an invitation's link from working, for a staff user in the Django admin (who holds
    the admin's permission to change invitations, not a role in the workspace). Idempotent:
    True if this call revoked it, False if it was revoked already."""
    return bool(
        Invitation.objects.filter(pk=invitation.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    )


def _lock_usable(raw_token: str) -> Invitation:
    invitation = (
        Invitation.objects.select_for_update()
        .select_related("workspace")
        .filter(token_hash=hash_token(raw_token))
        .first()
    )
    if invitation is None or not invitation.is_usable:
        raise InvitationUnusable
    return invitation


def _join(invitation: Invitation, user: User) -> Membership:
    membership, _ = Membership.objects.get_or_create(
        user=user, workspace=invitation.workspace, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by", "updated_at"])
    return membership


@transaction.atomic
def invitation_accept(*, raw_token: str, user: User) -> Membership:
    """Join the invitation's workspace as an existing user whose email is the invited one.

    A user who is already a member keeps their role; the invitation is used up either way.
    """
    invitation = _lock_usable(raw_token)
    if normalize_email(user.email) != normalize_email(invitation.email):
        raise PermissionDenied(f"This invitation is for {invitation.email}.")
    return _join(invitation, user)


@transaction.atomic
def invitation_accept_new_user(*, raw_token: str, display_name: str, password: str) -> Membership:
    """Create the invited person's account (email fixed to the invitation's) and join."""
    invitation = _lock_usable(raw_token)
    if User.objects.filter(email=normalize_email(invitation.email)).exists():
        raise ValidationError(
            {"email": "An account with this email exists already: log in to accept."}
        )
    user = user_create(email=invitation.email, password=password, display_name=display_name)
    return _join(invitation, user)


def _lock_admins(workspace_id: int) -> list[int]:
    """Ids of the workspace's admin memberships, locked so two demotions cannot race."""
    return list(
        Membership.objects.select_for_update()
        .filter(workspace_id=workspace_id, role=Role.ADMIN)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _check_not_last_admin(membership: Membership, verb: str) -> None:
    if _lock_admins(membership.workspace_id) == [membership.pk]:
        raise ValidationError(
            {"role": f"{membership.user} is the last admin of this workspace; {verb}."}
        )


@transaction.atomic
def membership_change_role(*, membership: Membership, role: str, actor: User) -> Membership:
    """Give a member another role. Caller must be an admin; the last admin stays admin."""
    _require_admin(user=actor, workspace=membership.workspace)
    if role == membership.role:
        return membership
    if membership.is_admin:
        _check_not_last_admin(membership, "make someone else admin first")
    membership.role = role
    membership.full_clean()
    membership.save(update_fields=["role", "updated_at"])
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor: User) -> None:
    """Take a member out of a workspace. Caller must be an admin; the last admin stays.

    Their API tokens for the workspace are revoked and their subscriptions to its internal
    roadmaps deleted: nothing of the workspace reaches them afterwards.
    """
    _require_admin(user=actor, workspace=membership.workspace)
    if membership.is_admin:
        _check_not_last_admin(membership, "make someone else admin first")
    membership.delete()
    membership_end_access(user=membership.user, workspace=membership.workspace)


@transaction.atomic
def membership_end_access(*, user: User, workspace: Workspace) -> None:
    """What a membership gave beyond itself ends with it: the user's API tokens for the
    workspace, their internal digest subscriptions there. Caller removed the membership."""
    from roadmap.sharing.services.digests import (
        subscriptions_end_internal,  # roadmap builds on accounts
    )

    api_tokens_revoke_in(user=user, workspace=workspace)
    subscriptions_end_internal(user=user, workspace=workspace)


class PasswordResetLimited(Exception):
    """Too many password reset requests for one email address, or from one client, this hour."""


def password_reset_request(*, email: str, client: str) -> None:
    """Someone asks for a link to set a new password. Each active account with a password at
    that address gets one by email, sent by a task after the request, so neither the answer nor
    how long it takes tells whether there is an account. PasswordResetLimited past the hourly
    limits (accounts/throttle.py), and nothing is sent."""
    if not throttle.password_reset_allowed(email=email, address=client):
        raise PasswordResetLimited
    users = User.objects.filter(email=normalize_email(email), is_active=True)
    for user in users:
        if user.has_usable_password():
            # Lost if the broker is down (or, in-process, the mail server): asking again resends.
            enqueue_on_commit("accounts.tasks.send_password_reset", user.pk)


def send_password_reset_email(*, user_id: int) -> None:
    """Email a user the link to set a new password (works once; see accounts/emails.py)."""
    from accounts.emails import password_reset_email

    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is not None and user.has_usable_password():
        password_reset_email(user=user).send()
