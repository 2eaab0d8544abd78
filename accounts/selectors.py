"""Reads about people and workspaces: memberships, members and invitations. Each runs a fixed
number of queries; members and invitations are read through their workspace, so another
workspace's are not found."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from accounts.addresses import normalize_email
from accounts.models import Invitation, Membership, User, Workspace, hash_token


def membership_current(*, user, workspace_id: int | None) -> Membership | None:
    """The membership the user is working in: the chosen workspace, else their first one."""
    if not getattr(user, "is_authenticated", False):
        return None
    memberships = Membership.objects.filter(user=user).select_related("workspace")
    if workspace_id:
        chosen = memberships.filter(workspace_id=workspace_id).first()
        if chosen:
            return chosen
    return memberships.order_by("workspace__name", "workspace_id").first()


# --- Navigation, members and invitations ---------------------------------------------------------


def nav_memberships(*, user) -> list[Membership]:
    """The workspaces the user can switch to, with their names (one query)."""
    if not getattr(user, "is_authenticated", False):
        return []
    return list(
        Membership.objects.filter(user=user)
        .select_related("workspace")
        .order_by("workspace__name", "workspace_id")
    )


@dataclass(frozen=True)
class MembersOverview:
    members: list[Membership]
    invitations: list[Invitation]
    admin_count: int


def members_overview(*, workspace: Workspace) -> MembersOverview:
    """A workspace's members with their roles, and its pending invitations (two queries)."""
    members = list(
        Membership.objects.filter(workspace=workspace)
        .select_related("user")
        .order_by("user__display_name", "user__email")
    )
    invitations = list(
        Invitation.objects.pending()
        .filter(workspace=workspace)
        .select_related("invited_by")
        .order_by("email")
    )
    admin_count = sum(1 for m in members if m.is_admin)
    return MembersOverview(members=members, invitations=invitations, admin_count=admin_count)


def invitation_by_token(*, raw_token: str) -> Invitation | None:
    """The invitation a raw token opens, if it can still be used; None otherwise."""
    invitation = (
        Invitation.objects.select_related("workspace", "invited_by")
        .filter(token_hash=hash_token(raw_token))
        .first()
    )
    if invitation is None or not invitation.is_usable:
        return None
    return invitation


def membership_of(*, user, workspace_id: int) -> Membership | None:
    """The user's membership of a workspace given by id; None when they are not a member."""
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        Membership.objects.filter(user=user, workspace_id=workspace_id)
        .select_related("workspace")
        .first()
    )


def workspace_memberships(*, workspace: Workspace) -> QuerySet[Membership]:
    """Memberships of one workspace: members of others are not found through it (404)."""
    return Membership.objects.filter(workspace=workspace).select_related("user", "workspace")


def workspace_pending_invitations(*, workspace: Workspace) -> QuerySet[Invitation]:
    """Invitations of one workspace that can still be used (and so revoked)."""
    return Invitation.objects.pending().filter(workspace=workspace).select_related("workspace")


def account_exists(*, email: str) -> bool:
    return User.objects.filter(email=normalize_email(email)).exists()
