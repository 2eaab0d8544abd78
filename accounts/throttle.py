"""Login brute-force protection: after repeated failures, refuse further attempts for a while,
per account and per client address, whatever the password. Counters live in the shared cache."""

from django.conf import settings
from django.core.cache import cache

WINDOW_SECONDS = getattr(settings, "LOGIN_FAILURE_WINDOW", 15 * 60)
PER_ACCOUNT = getattr(settings, "LOGIN_FAILURES_PER_ACCOUNT", 5)
PER_ADDRESS = getattr(settings, "LOGIN_FAILURES_PER_ADDRESS", 20)


def _keys(email: str, address: str) -> tuple[str, str]:
    return f"login-fail:account:{email.strip().lower()}", f"login-fail:ip:{address}"


def client_address(request) -> str:
    """The visitor's address, for rate limits. Behind our TLS proxy (BEHIND_TLS_PROXY), every
    connection comes from the proxy, so the last X-Forwarded-For entry (the one the proxy
    appended; earlier entries are whatever the client sent) is the visitor; otherwise the peer."""
    if request is None:
        return ""
    if settings.BEHIND_TLS_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
        if forwarded:
            return forwarded
    return request.META.get("REMOTE_ADDR", "")


def login_blocked(*, email: str, address: str) -> bool:
    account, ip = _keys(email, address)
    return (cache.get(account) or 0) >= PER_ACCOUNT or (cache.get(ip) or 0) >= PER_ADDRESS


def login_failed(*, email: str, address: str) -> None:
    for key in _keys(email, address):
        if not cache.add(key, 1, WINDOW_SECONDS):
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, WINDOW_SECONDS)


def login_succeeded(*, email: str) -> None:
    cache.delete(_keys(email, "")[0])
