"""Settings of the test suite (pyproject.toml's DJANGO_SETTINGS_MODULE): config/settings.py as the
environment makes it, DEBUG off unless set, with what only tests change."""

import os

# Tests need no SECRET_KEY of their own. It goes into the environment, so a Celery worker that a
# test starts signs with the same key as the test.
os.environ.setdefault("SECRET_KEY", "waymark-test-key-never-use-in-production")

from config.settings import *  # noqa: E402, F403
from config.settings import CACHES, DEBUG, env  # noqa: E402

# Hashing dominates test time otherwise; production keeps Django's default (PBKDF2).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# No collectstatic before a test run: static files are served as they are in the source tree.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# The test client and the live server speak plain HTTP, with DEBUG off as in production.
if not DEBUG:
    SECURE_SSL_REDIRECT = False
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
    SECURE_HSTS_SECONDS = 0

# Parallel test workers share one Redis: keep their keys apart.
if "KEY_PREFIX" in CACHES["default"]:
    CACHES["default"]["KEY_PREFIX"] += env("PYTEST_XDIST_WORKER", default="")

# No schedule running behind the tests' backs: tests/test_beat.py starts a server that runs it.
IN_PROCESS_BEAT = env.bool("IN_PROCESS_BEAT", default=False)
