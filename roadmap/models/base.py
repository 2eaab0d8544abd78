"""What every roadmap model shares: timestamps and the one place that scopes rows to a requester."""

from django.db import models

from accounts.models import TimeStamped

__all__ = ["ScopedQuerySet", "TimeStamped"]


class ScopedQuerySet(models.QuerySet):
    """Rows visible to a user are those of the workspaces they are a member of.

    Every view, endpoint and selector reaches roadmap rows through ``for_user`` (or
    ``for_workspace``), so a workspace boundary is decided here and nowhere else.
    Subclasses name the path from the row to its workspace in ``workspace_path``.
    """

    workspace_path = "product__workspace"

    def for_workspace(self, workspace):
        return self.filter(**{self.workspace_path: workspace})

    def for_user(self, user):
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(**{f"{self.workspace_path}__memberships__user": user})
