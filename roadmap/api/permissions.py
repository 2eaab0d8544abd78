"""Who may do what through the API: a token acts with its user's role in its workspace."""

from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.models import ApiToken, Membership, Workspace
from roadmap.access import role_allows


def request_token(request) -> ApiToken | None:
    return request.auth if isinstance(request.auth, ApiToken) else None


def request_roles(request) -> dict[int, str]:
    """workspace id -> role for the requester, limited to the token's workspace (one query)."""
    if not hasattr(request, "_waymark_roles"):
        memberships = Membership.objects.filter(user=request.user)
        token = request_token(request)
        if token:
            memberships = memberships.filter(workspace_id=token.workspace_id)
        request._waymark_roles = dict(memberships.values_list("workspace_id", "role"))
    return request._waymark_roles


def ensure_can_edit(request, workspace_id: int, *, admin_only: bool = False) -> None:
    """Raise 403 unless the requester may change things in this workspace (roadmap.access)."""
    token = request_token(request)
    if token and not token.can_write:
        raise PermissionDenied("This token is read-only (scope “read”).")
    if not role_allows(request_roles(request).get(workspace_id), edit=True, admin=admin_only):
        raise PermissionDenied(
            "Only workspace admins can do this."
            if admin_only
            else "Viewers cannot change anything."
        )


class IsMemberWithRole(BasePermission):
    """Reads for any member; writes for editors and admins with a write-scoped token (if any)."""

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        token = request_token(request)
        if request.method not in SAFE_METHODS and token and not token.can_write:
            self.message = "This token is read-only (scope “read”)."
            return False
        return True

    def has_object_permission(self, request, view, obj):
        if request.method in SAFE_METHODS:
            return True
        ensure_can_edit(
            request, view.workspace_id_of(obj), admin_only=getattr(view, "admin_only_writes", False)
        )
        return True


def admin_workspace(request):
    """The workspace a workspace-level resource (webhook, launch template) is created in: the
    token's, or for a session the chosen workspace (else the first one). Admins only."""

    token = request_token(request)
    if token:
        workspace_id = token.workspace_id
    else:
        roles = request_roles(request)
        chosen = request.session.get("workspace_id")
        workspace_id = chosen if chosen in roles else min(roles, default=None)
    if workspace_id is None:
        raise ValidationError({"workspace": ["You are not a member of any workspace."]})
    ensure_can_edit(request, workspace_id, admin_only=True)
    return Workspace.objects.get(pk=workspace_id)
