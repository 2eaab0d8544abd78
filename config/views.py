"""Site-wide error pages: JSON under /api/, HTML elsewhere, never a Django debug page."""

import sys

from django.db import InterfaceError, OperationalError, connection
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

# How long a client should wait before retrying while the database is unreachable.
RETRY_AFTER_SECONDS = 30


def _wants_json(request) -> bool:
    return request.path.startswith("/api/")


def page_not_found(request, exception=None):
    if _wants_json(request):
        return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)
    return render(request, "404.html", status=404)


def _database_unavailable(exc) -> bool:
    """The database could not be reached, or the connection broke (a restart, a failover); not
    a query that failed on a live connection (a timeout, a missing table), which is a 500."""
    if not isinstance(exc, OperationalError | InterfaceError):
        return False
    raw = connection.connection
    return raw is None or bool(getattr(raw, "closed", False))


def server_error(request):
    """The 500 page, or a 503 with Retry-After while the database is unreachable.

    Rendered without the request's context processors: they may need the database that just
    failed (the current workspace), and an error page must not fail in turn.
    """
    exc = sys.exc_info()[1]
    if _database_unavailable(exc):
        if _wants_json(request):
            response = JsonResponse(
                {
                    "detail": "Waymark is temporarily unavailable. Try again shortly.",
                    "code": "service_unavailable",
                },
                status=503,
            )
        else:
            response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if _wants_json(request):
        return JsonResponse(
            {"detail": "Something went wrong on our side.", "code": "server_error"}, status=500
        )
    return HttpResponse(render_to_string("500.html"), status=500)


def bad_request(request, exception=None):
    if _wants_json(request):
        return JsonResponse({"detail": "Bad request.", "code": "bad_request"}, status=400)
    return render(request, "400.html", status=400)


@require_safe
def favicon(request):
    """Browsers ask for /favicon.ico on pages that name no icon (a feed or JSON opened in a tab,
    the CSRF refusal page): send them to the icon. Not permanent, as its hashed name changes."""
    response = HttpResponseRedirect(static("favicon.svg"))
    patch_cache_control(response, public=True, max_age=24 * 60 * 60)
    return response


def healthz(request):
    """Liveness: the process answers. No dependencies checked."""
    return JsonResponse({"status": "ok"})


def readyz(request):
    """Readiness: the database answers a query and, when configured, the broker a ping."""
    from django.conf import settings
    from django.db import connection

    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # any failure means not ready; say which
        checks["database"] = f"error: {exc.__class__.__name__}"
    if settings.CELERY_BROKER_URL.startswith("amqp"):
        from kombu import Connection

        try:
            with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as conn:
                conn.ensure_connection(max_retries=1)
            checks["broker"] = "ok"
        except Exception as exc:
            checks["broker"] = f"error: {exc.__class__.__name__}"
    elif settings.REDIS_URL:
        try:
            import redis

            redis.Redis.from_url(
                settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2
            ).ping()
            checks["broker"] = "ok"
        except Exception as exc:
            checks["broker"] = f"error: {exc.__class__.__name__}"
    else:
        checks["broker"] = "in-process"
    ready = all(v in ("ok", "in-process") for v in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", **checks}, status=200 if ready else 503
    )
