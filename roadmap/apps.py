from django.apps import AppConfig


class RoadmapConfig(AppConfig):
    name = "roadmap"
    verbose_name = "Roadmap"

    def ready(self):
        # Register the tasks with Celery, so services can enqueue them by name (config/dispatch.py).
        from roadmap import tasks  # noqa: F401
