"""Site-wide error pages: JSON under /api/, HTML elsewhere, never a Django debug page."""

from django.http import JsonResponse
from django.shortcuts import render


def _wants_json(request) -> bool:
    return request.path.startswith("/api/")


def page_not_found(request, exception=None):
    if _wants_json(request):
        return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)
    return render(request, "404.html", status=404)


def server_error(request):
    if _wants_json(request):
        return JsonResponse(
            {"detail": "Something went wrong on our side.", "code": "server_error"}, status=500
        )
    return render(request, "500.html", status=500)


def bad_request(request, exception=None):
    if _wants_json(request):
        return JsonResponse({"detail": "Bad request.", "code": "bad_request"}, status=400)
    return render(request, "400.html", status=400)


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
    if settings.REDIS_URL:
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
