"""The admin site: Django's, plus the operations pages (queue health) under its URLs, so they share
its staff-only login and its namespace."""

from django.contrib import admin
from django.urls import path


class WaymarkAdminSite(admin.AdminSite):
    def get_urls(self):
        from roadmap.admin import queue_health

        return [
            path("queue-health/", self.admin_view(queue_health), name="queue_health"),
            *super().get_urls(),
        ]
