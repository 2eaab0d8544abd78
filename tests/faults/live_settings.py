"""Settings of a server the fault tests run as a separate process: production's (config/settings.py
with DEBUG off), except that static files are served unhashed, so no collectstatic is needed."""

from config.settings import *  # noqa: F403
from config.settings import STORAGES

STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
