"""What the environment offers the tests: real services and a browser, or why not."""

import os
import shutil
import socket
from functools import cache
from urllib.parse import urlparse

CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or default_port), timeout=1):
            return True
    except OSError:
        return False


@cache
def services_missing_reason() -> str | None:
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        return "DATABASE_URL does not point at PostgreSQL"
    if not redis_url:
        return "REDIS_URL is not set"
    if not _reachable(database_url, 5432):
        return f"PostgreSQL at {database_url} is not reachable"
    if not _reachable(redis_url, 6379):
        return f"Redis at {redis_url} is not reachable"
    return None


def chromium_path() -> str | None:
    for path in CHROMIUM_PATHS:
        if shutil.which(path):
            return path
    return None


@cache
def browser_missing_reason() -> str | None:
    if chromium_path() is None:
        return "Chromium is not installed (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed"
    return None
