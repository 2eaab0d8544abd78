"""Cross-cutting HTTP concerns: request ids with structured access logs, a cap on request bodies,
the refusal of NUL characters, and security headers."""

import json
import logging
import time
import uuid

from django.conf import settings
from django.core.exceptions import BadRequest
from django.http import HttpResponse, JsonResponse
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
from django.utils.cache import patch_cache_control
from django.utils.functional import empty

access_log = logging.getLogger("waymark.access")

# The API's answers, but its public schema and docs.
API_PREFIX = "/api/"
API_SCHEMA = ("/api/v1/schema/", "/api/docs/")

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
        token = getattr(request, "auth", None)
        access_log.info(
            json.dumps(
                {
                    "request_id": request.request_id,
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round(duration_ms, 1),
                    "user": _user_id(request),
                    "workspace": _workspace_id(request, token),
                },
                separators=(",", ":"),
            )
        )
        return response


def _loaded(lazy):
    """What a lazy attribute of the request holds if something already looked it up, else None:
    logging must not cost a query (nor fail when the database is down)."""
    wrapped = getattr(lazy, "_wrapped", lazy)
    return None if wrapped is empty else wrapped


def _user_id(request):
    user = _loaded(getattr(request, "user", None))
    return user.pk if user is not None and user.is_authenticated else None


def _workspace_id(request, token):
    if token is not None and hasattr(token, "workspace_id"):
        return token.workspace_id
    return getattr(_loaded(getattr(request, "workspace", None)), "pk", None)


class RequestSizeLimitMiddleware:
    """Refuse a request whose declared body is over ``MAX_REQUEST_BYTES`` with 413, before
    anything (CSRF, the form parser) reads it: Django would otherwise spool a huge upload to disk
    first. A body without a Content-Length is never read (Django reads at most that length)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.MAX_REQUEST_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length <= limit:
            return self.get_response(request)
        message = (
            f"The request is {filesizeformat(length)}; "
            f"Waymark takes at most {filesizeformat(limit)}."
        )
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message, "code": "request_too_large"}, status=413)
        # Rendered without context processors: the request's session and user are not loaded.
        return HttpResponse(render_to_string("413.html", {"message": message}), status=413)


class NulRefusalMiddleware:
    """Refuse (400) a request whose path, query string or cookies hold a NUL character: no route,
    filter or session key takes one, and PostgreSQL refuses NUL in text, so looking it up would
    fail with a 500 instead. Raised as BadRequest, so the usual 400 page (JSON under /api/)
    answers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        query = request.META.get("QUERY_STRING", "")
        if (
            "\x00" in request.path
            or "%00" in query
            or "\x00" in query
            or any("\x00" in value for value in request.COOKIES.values())
        ):
            raise BadRequest("NUL character in the request's address or cookies.")
        return self.get_response(request)


class SecurityHeadersMiddleware:
    """A Content-Security-Policy without inline scripts on every response that has none yet
    (external pages set their own, with the frame-ancestors their share link allows), plus a
    restrictive Permissions-Policy.

    Caching, where a view said nothing: API answers are never stored (they carry workspace data
    and are read with a token; ETag and If-None-Match still give 304), and a signed-in member's
    pages are ``private`` (no shared cache keeps them). Pages that show a secret once say
    ``no-store`` themselves (``never_cache``)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = getattr(settings, "CONTENT_SECURITY_POLICY", DEFAULT_CSP)

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.policy
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if "Cache-Control" not in response:
            if request.path.startswith(API_PREFIX) and not request.path.startswith(API_SCHEMA):
                patch_cache_control(response, private=True, no_store=True)
            # Only a user the view already looked up: a page that never asked costs no query.
            elif getattr(_loaded(getattr(request, "user", None)), "is_authenticated", False):
                patch_cache_control(response, private=True)
        return response
