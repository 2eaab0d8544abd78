"""The cache: Django's Redis cache, made to survive a Redis outage.

Waymark keeps only counters in its cache (login failures, password reset requests, share-link
password attempts, digest sign-up requests, API throttling), never data a page needs. So when
Redis is unreachable the cache does not answer 500: it logs a warning and keeps counting in this
process's memory until Redis answers again. Limits still hold per process (a client gets at most
the limit times the number of web processes while Redis is down); nothing fails open. Redis is
retried every ``RETRY_SECONDS``, not on every call, so an outage does not add a connection
timeout to every request.
"""

import logging
import threading
import time

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

REDIS_DOWN = (RedisConnectionError, RedisTimeoutError)
RETRY_SECONDS = 10.0

# Per location: until when Redis is taken as down (monotonic seconds). Shared by the threads of
# the process, like the memory cache that stands in for it.
_down_until: dict[str, float] = {}
_lock = threading.Lock()


def _fallback_method(name):
    def method(self, *args, **kwargs):
        until = _down_until.get(self._location)
        if until is not None and time.monotonic() < until:
            return getattr(self._fallback, name)(*args, **kwargs)
        try:
            result = getattr(super(ResilientRedisCache, self), name)(*args, **kwargs)
        except REDIS_DOWN as exc:
            self._mark_down(exc)
            return getattr(self._fallback, name)(*args, **kwargs)
        if until is not None:
            self._mark_up()
        return result

    method.__name__ = name
    return method


class ResilientRedisCache(RedisCache):
    """``RedisCache`` that falls back to a per-process memory cache while Redis is unreachable."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._location = server if isinstance(server, str) else ",".join(server)
        fallback_params = {k: v for k, v in params.items() if k in ("TIMEOUT", "KEY_PREFIX")}
        self._fallback = LocMemCache(f"redis-fallback:{self._location}", fallback_params)

    def _mark_down(self, exc: Exception) -> None:
        with _lock:
            first = self._location not in _down_until
            _down_until[self._location] = time.monotonic() + RETRY_SECONDS
        logger.warning(
            "Cache at %s unreachable (%s: %s): counting in this process's memory%s; "
            "retrying Redis in %.0f s.",
            self._location,
            exc.__class__.__name__,
            exc,
            "" if first else " still",
            RETRY_SECONDS,
        )

    def _mark_up(self) -> None:
        with _lock:
            was_down = _down_until.pop(self._location, None) is not None
        if was_down:
            logger.warning("Cache at %s reachable again.", self._location)

    get = _fallback_method("get")
    set = _fallback_method("set")
    add = _fallback_method("add")
    touch = _fallback_method("touch")
    delete = _fallback_method("delete")
    get_many = _fallback_method("get_many")
    set_many = _fallback_method("set_many")
    delete_many = _fallback_method("delete_many")
    has_key = _fallback_method("has_key")
    incr = _fallback_method("incr")
    clear = _fallback_method("clear")


def reset() -> None:
    """Forget every outage (tests)."""
    with _lock:
        _down_until.clear()
