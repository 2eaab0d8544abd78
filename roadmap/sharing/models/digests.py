"""What changed on a roadmap (events), who follows it (subscriptions), what was sent."""

import secrets

from django.conf import settings
from django.db import models

from accounts.addresses import normalize_email
from roadmap import bounds
from roadmap.models.base import ScopedQuerySet, TimeStamped


class ChangeKind(models.TextChoices):
    ITEM_ADDED = "item_added", "Added to the roadmap"
    ITEM_REMOVED = "item_removed", "Removed from the roadmap"
    MOVED = "moved", "Moved"
    DATES_CHANGED = "dates_changed", "Dates changed"
    RELEASE_CHANGED = "release_changed", "Release changed"
    STATUS_CHANGED = "status_changed", "Status changed"
    SHIPPED = "shipped", "Shipped"
    MADE_EXTERNAL = "made_external", "Made external"
    MADE_INTERNAL = "made_internal", "Made internal"
    PRIORITY_CHANGED = "priority_changed", "Priority changed"
    RELEASE_NOTES = "release_notes", "Release notes published"


class ChangeEventQuerySet(ScopedQuerySet):
    pass


class ChangeEvent(models.Model):
    """A roadmap change, recorded in the transaction that made it.

    ``before``/``after`` hold everything a digest or feed needs (titles, external titles,
    visibility, horizon, lane, dates, status, rank) so the event can be described without reading
    the current state — which may have changed again, or been deleted.
    """

    product = models.ForeignKey(
        "roadmap.Product", on_delete=models.CASCADE, related_name="change_events"
    )
    item = models.ForeignKey(
        "roadmap.RoadmapItem",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="change_events",
    )
    feature = models.ForeignKey(
        "roadmap.Feature",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="change_events",
    )
    kind = models.CharField(max_length=20, choices=ChangeKind.choices, db_index=True)
    occurred_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)

    objects = ChangeEventQuerySet.as_manager()

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["product", "occurred_at"], name="event_product_time")]

    def __str__(self):
        return f"{self.get_kind_display()} at {self.occurred_at:%Y-%m-%d %H:%M}"


class Frequency(models.TextChoices):
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


def new_confirmation_token() -> str:
    return secrets.token_urlsafe(32)


class SubscriptionQuerySet(ScopedQuerySet):
    def active(self):
        return self.filter(confirmed_at__isnull=False, unsubscribed_at__isnull=True)


class Subscription(TimeStamped):
    """A person following a roadmap by email: a product's internal roadmap (members) or a share
    link's external roadmap (outsiders, double opt-in)."""

    product = models.ForeignKey(
        "roadmap.Product", on_delete=models.CASCADE, related_name="subscriptions"
    )
    share_link = models.ForeignKey(
        "roadmap.ShareLink",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="subscriptions",
        help_text="Empty: the internal roadmap (members only).",
    )
    email = models.EmailField()
    name = models.CharField(max_length=120, blank=True, validators=[bounds.single_line])
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="subscriptions",
    )
    frequency = models.CharField(max_length=6, choices=Frequency.choices, default=Frequency.WEEKLY)
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices, default=Weekday.MONDAY)
    send_time = models.TimeField(default="09:00")
    timezone = models.CharField(max_length=64, default="UTC")
    confirmation_token = models.CharField(
        max_length=64, unique=True, default=new_confirmation_token, editable=False
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    # Events up to this moment have been told to this subscriber.
    sent_through = models.DateTimeField(null=True, blank=True)

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(
                fields=["share_link", "email"],
                condition=models.Q(share_link__isnull=False),
                name="subscription_unique_per_link",
            ),
            models.UniqueConstraint(
                fields=["product", "email"],
                condition=models.Q(share_link__isnull=True),
                name="subscription_unique_internal",
            ),
        ]

    def __str__(self):
        return f"{self.email} → {self.share_link or self.product}"

    def clean(self):
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        from django.core.exceptions import ValidationError

        super().clean()
        self.email = normalize_email(self.email)
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError({"timezone": f"Unknown time zone “{self.timezone}”."}) from exc
        if self.share_link_id and self.product_id and self.share_link.product_id != self.product_id:
            raise ValidationError({"share_link": "This share link belongs to another product."})


class DigestStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    SKIPPED = "skipped", "Nothing to tell"
    FAILED = "failed", "Failed"


class DigestDeliveryQuerySet(ScopedQuerySet):
    workspace_path = "subscription__product__workspace"


class DigestDelivery(TimeStamped):
    """The outbox row of one digest: unique per subscription and period, created before sending
    (the guarantee is stated in roadmap/sharing/services/digests.py)."""

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    period = models.CharField(max_length=20, help_text="e.g. 2026-11-23 or 2026-W48.")
    status = models.CharField(
        max_length=8, choices=DigestStatus.choices, default=DigestStatus.PENDING, db_index=True
    )
    events_from = models.DateTimeField(null=True, blank=True)
    events_through = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = DigestDeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "period"], name="digest_once_per_period"
            ),
        ]

    def __str__(self):
        return f"Digest {self.period} for {self.subscription.email} ({self.status})"
