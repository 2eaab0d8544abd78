"""A CSV upload kept between its preview and its confirmation.

In the database, not the cache: the cache shares Redis with the Celery broker, and uploads there
could starve it (issue 16.10). Each member keeps a few at most; stale ones are swept.
"""

from django.conf import settings
from django.db import models

from roadmap.models.base import TimeStamped


class CsvUpload(TimeStamped):
    key = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="csv_uploads"
    )
    product = models.ForeignKey(
        "roadmap.Product", on_delete=models.CASCADE, related_name="csv_uploads"
    )
    filename = models.CharField(max_length=200)
    data = models.BinaryField()
    fingerprint = models.CharField(max_length=64)

    class Meta:
        indexes = [models.Index(fields=["user", "created_at"], name="csv_upload_user_created")]

    def __str__(self) -> str:
        return f"{self.filename}, {self.user} on {self.product}"
