"""Login brute-force protection: after repeated failures, refuse further attempts for a while,
per account and per client address, whatever the password; and the limit on password reset
requests. Counters live in the shared cache. Every per-account key is the address as stored
(``normalize_email``), so no other spelling of an account gets a budget of its own."""

import hashlib
import ipaddress

from django.conf import settings
from django.core.cache import cache

from accounts.addresses import normalize_email

WINDOW_SECONDS = getattr(settings, "LOGIN_FAILURE_WINDOW", 15 * 60)
PER_ACCOUNT = getattr(settings, "LOGIN_FAILURES_PER_ACCOUNT", 5)
PER_ADDRESS = getattr(settings, "LOGIN_FAILURES_PER_ADDRESS", 20)


def window_count(key: str, window: int) -> int:
    """Count one more under ``key`` and return the count so far, this one included, in a fixed
    window of ``window`` seconds that starts with the first (add, then incr). Every rate limit
    of the app counts through here."""
    if cache.add(key, 1, window):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, window)
        return 1


def _keys(email: str, address: str) -> tuple[str, str]:
    return f"login-fail:account:{normalize_email(email)}", f"login-fail:ip:{client_key(address)}"


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


def client_key(address: str) -> str:
    """The client a per-client limit counts: the address itself, but a whole IPv6 /64 as one
    (one host is routinely given a /64, so its other addresses are not other clients)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def login_blocked(*, email: str, address: str) -> bool:
    account, ip = _keys(email, address)
    return (cache.get(account) or 0) >= PER_ACCOUNT or (cache.get(ip) or 0) >= PER_ADDRESS


def login_failed(*, email: str, address: str) -> None:
    for key in _keys(email, address):
        window_count(key, WINDOW_SECONDS)


def login_succeeded(*, email: str) -> None:
    cache.delete(_keys(email, "")[0])


# Password reset requests mail whatever address they are given: limited per address and per
# client, and every request counts, for an account or not, so a refusal tells nothing either.
RESET_WINDOW_SECONDS = 60 * 60
RESET_PER_EMAIL = getattr(settings, "PASSWORD_RESETS_PER_EMAIL", 3)
RESET_PER_ADDRESS = getattr(settings, "PASSWORD_RESETS_PER_ADDRESS", 10)


def password_reset_allowed(*, email: str, address: str) -> bool:
    """Count one reset request; False once the email address or the client had its share of
    the hour (both are counted either way)."""
    hashed = hashlib.sha256(normalize_email(email).encode()).hexdigest()[:32]
    per_email = window_count(f"password-reset:email:{hashed}", RESET_WINDOW_SECONDS)
    per_address = window_count(f"password-reset:ip:{client_key(address)}", RESET_WINDOW_SECONDS)
    return per_email <= RESET_PER_EMAIL and per_address <= RESET_PER_ADDRESS
