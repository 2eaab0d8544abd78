from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from roadmap.api.permissions import request_token


class TokenRateThrottle(SimpleRateThrottle):
    """Per token (or per signed-in user, or per address), in the shared cache (Redis in prod)."""

    scope = "api"

    def get_rate(self):
        return settings.API_THROTTLE_RATE

    def get_cache_key(self, request, view):
        token = request_token(request)
        if token:
            ident = f"token:{token.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
