"""What an API request may see, for the views and the serializers' related fields."""

from roadmap.api.permissions import request_token


def scoped(queryset, request):
    """Rows the requester may see: their workspaces, narrowed to the token's workspace."""
    queryset = queryset.for_user(request.user)
    token = request_token(request)
    if token is not None:
        queryset = queryset.for_workspace(token.workspace_id)
    return queryset
