"""What an API request may see, for the views and the serializers' related fields."""

from roadmap.api.permissions import request_token


def scoped(queryset, request):
    """Rows the requester may see: their workspaces, or with a token its workspace only.

    A token's rows are its workspace's without asking for the membership again: the token was
    found in this request only where its user is a member of its workspace
    (``accounts.tokens.api_token_authenticate``), so the join would repeat that check in every
    query (and cost each a join and its planning)."""
    token = request_token(request)
    if token is not None:
        return queryset.for_workspace(token.workspace_id)
    return queryset.for_user(request.user)
