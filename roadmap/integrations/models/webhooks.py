"""Outbound webhooks: endpoints a workspace admin registers, and every delivery attempt."""

import secrets
import uuid

from django.conf import settings
from django.db import models

from roadmap.models.base import ScopedQuerySet, TimeStamped


class WebhookEvent(models.TextChoices):
    FEATURE_CREATED = "feature.created", "Feature created"
    FEATURE_UPDATED = "feature.updated", "Feature updated"
    PRIORITY_CHANGED = "priority.changed", "Priority changed (a feature's rank moved)"
    ROADMAP_ITEM_MOVED = "roadmap_item.moved", "Roadmap item moved"
    REQUEST_CREATED = "request.created", "Request created (confirmed by its requester)"
    VOTE_CREATED = "vote.created", "Vote created (confirmed by its voter)"


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


class WebhookEndpointQuerySet(ScopedQuerySet):
    workspace_path = "workspace"


class WebhookEndpoint(TimeStamped):
    """Where to POST events. Bodies are signed: HMAC-SHA256 of the body with ``secret``."""

    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list, help_text="Event names this endpoint receives.")
    secret = models.CharField(max_length=64, default=new_webhook_secret)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = WebhookEndpointQuerySet.as_manager()

    class Meta:
        ordering = ["url"]

    def __str__(self):
        return self.url

    def clean(self):
        from django.core.exceptions import ValidationError

        super().clean()
        if not isinstance(self.events, list) or not self.events:
            raise ValidationError({"events": "Pick at least one event."})
        unknown = sorted(set(self.events) - set(WebhookEvent.values))
        if unknown:
            raise ValidationError({"events": f"Unknown events: {', '.join(unknown)}."})


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Delivered"
    FAILED = "failed", "Failed"


class WebhookDeliveryQuerySet(ScopedQuerySet):
    workspace_path = "endpoint__workspace"


class WebhookDelivery(TimeStamped):
    """One event for one endpoint, created before sending so that none is lost (delivery is at
    least once: roadmap/integrations/services/webhooks.py)."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(max_length=40, choices=WebhookEvent.choices)
    event_id = models.UUIDField(default=uuid.uuid4)
    payload = models.JSONField()
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    # Only the status code of the answer: its body is never stored (it could be an internal page).
    response_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    objects = WebhookDeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="delivery_once"),
        ]

    def __str__(self):
        return f"{self.event} → {self.endpoint} ({self.status})"
