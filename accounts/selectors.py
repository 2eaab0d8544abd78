"""Reads about people and workspaces."""

from .models import Membership


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


def membership_for(*, user, workspace) -> Membership | None:
    """The user's membership of a given workspace, or None when they are not a member."""
    if not getattr(user, "is_authenticated", False):
        return None
    return Membership.objects.filter(user=user, workspace=workspace).first()
