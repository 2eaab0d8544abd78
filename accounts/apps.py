from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        # Register the tasks with Celery, so services can enqueue them by name (config/dispatch.py).
        from accounts import tasks  # noqa: F401
