"""The admin site: Django's, plus the operations pages (queue health) under its URLs, so they share
its staff-only login and its namespace. The login is the app's form, with its brute-force limits."""

from django.contrib import admin
from django.urls import path

from accounts.forms import AdminLoginForm


class WaymarkAdminSite(admin.AdminSite):
    login_form = AdminLoginForm

    def get_urls(self):
        from roadmap.admin import queue_health

        return [
            path("queue-health/", self.admin_view(queue_health), name="queue_health"),
            *super().get_urls(),
        ]
