"""Cross-cutting HTTP concerns: request ids with structured access logs, and security headers."""

import json
import logging
import time
import uuid

from django.conf import settings

access_log = logging.getLogger("waymark.access")

DEFAULT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


class RequestLogMiddleware:
    """Give every request an id (kept from ``X-Request-ID`` when a proxy sets one), answer it in
    the response, and log one JSON line per request: id, method, path, status, duration, user,
    workspace."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if 0 < len(incoming) <= 64 else uuid.uuid4().hex
        started = time.perf_counter()
        response = self.get_response(request)
        duration_ms = (time.perf_counter() - started) * 1000
        response["X-Request-ID"] = request.request_id
        user = getattr(request, "user", None)
        token = getattr(request, "auth", None)
        access_log.info(
            json.dumps(
                {
                    "request_id": request.request_id,
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round(duration_ms, 1),
                    "user": user.pk if user is not None and user.is_authenticated else None,
                    "workspace": _workspace_id(request, token),
                },
                separators=(",", ":"),
            )
        )
        return response


def _workspace_id(request, token):
    if token is not None and hasattr(token, "workspace_id"):
        return token.workspace_id
    # Only if something already looked it up: logging must not cost a query.
    lazy = getattr(request, "workspace", None)
    wrapped = getattr(lazy, "_wrapped", None)
    if wrapped is None or wrapped.__class__.__name__ == "object":
        return None
    return getattr(wrapped, "pk", None)


class SecurityHeadersMiddleware:
    """A Content-Security-Policy without inline scripts on every response that has none yet
    (external pages set their own, with the frame-ancestors their share link allows), plus a
    restrictive Permissions-Policy."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = getattr(settings, "CONTENT_SECURITY_POLICY", DEFAULT_CSP)

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.policy
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response
