"""A member's own way of looking at shared data: which columns of a product's prioritization table
they hide. It changes what they see, never the data."""

from django.conf import settings
from django.db import models

from roadmap.models.base import TimeStamped


class TableLayout(TimeStamped):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="table_layouts"
    )
    product = models.ForeignKey(
        "roadmap.Product", on_delete=models.CASCADE, related_name="table_layouts"
    )
    # Keys of roadmap.planning.selectors.table.HIDEABLE_COLUMNS, and "field-<key>" for a custom
    # field of the product (table_hideable_columns); the service checks them.
    hidden_columns = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "product"], name="table_layout_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.product}: hides {', '.join(self.hidden_columns) or 'nothing'}"
