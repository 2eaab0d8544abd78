from django.utils.functional import SimpleLazyObject

from accounts.selectors import membership_current

SESSION_KEY = "workspace_id"


class CurrentWorkspaceMiddleware:
    """Attach ``request.membership`` and ``request.workspace``: the workspace the user works in.

    Lazy, so requests that never look at them (static files, the API) cost no query.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        def _membership():
            return membership_current(
                user=request.user, workspace_id=request.session.get(SESSION_KEY)
            )

        request.membership = SimpleLazyObject(_membership)
        request.workspace = SimpleLazyObject(
            lambda: request.membership.workspace if request.membership else None
        )
        return self.get_response(request)
