from django.contrib.admin.apps import AdminConfig


class WaymarkAdminConfig(AdminConfig):
    """Django's admin app, with ``admin.site`` being our site (config/admin.py)."""

    default_site = "config.admin.WaymarkAdminSite"
