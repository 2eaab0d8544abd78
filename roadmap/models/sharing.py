"""Share links: read-only external roadmaps for an audience, reachable without an account."""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from roadmap import bounds

from .base import ScopedQuerySet, TimeStamped


class Audience(models.TextChoices):
    CUSTOMERS = "customers", "Customers"
    INVESTORS = "investors", "Investors"
    EXECUTIVES = "executives", "Executives"


def new_share_token() -> str:
    # 32 bytes: 256 bits of randomness, URL-safe.
    return secrets.token_urlsafe(32)


class ShareLinkQuerySet(ScopedQuerySet):
    def usable(self):
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ShareLink(TimeStamped):
    product = models.ForeignKey(
        "roadmap.Product", on_delete=models.CASCADE, related_name="share_links"
    )
    label = models.CharField(max_length=120, help_text="Who it is for, e.g. “Acme QBR”.")
    audience = models.CharField(max_length=12, choices=Audience.choices, default=Audience.CUSTOMERS)
    token = models.CharField(max_length=64, unique=True, default=new_share_token, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True, validators=bounds.datetime_range)
    password_hash = models.CharField(max_length=200, blank=True, editable=False)
    allowed_embed_origins = models.TextField(
        blank=True,
        help_text="Origins that may embed this roadmap in an iframe, one per line "
        "(e.g. https://intranet.example.com). Empty: not embeddable.",
    )
    view_count = models.PositiveIntegerField(default=0, editable=False)
    last_viewed_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = ShareLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(audience__in=Audience.values), name="share_audience_valid"
            ),
        ]

    def __str__(self):
        return f"{self.label} ({self.get_audience_display()})"

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and (
            self.expires_at is None or self.expires_at > timezone.now()
        )

    @property
    def has_password(self) -> bool:
        return bool(self.password_hash)

    @property
    def embed_origins(self) -> list[str]:
        return [o.strip() for o in self.allowed_embed_origins.splitlines() if o.strip()]
