"""Share links: read-only external roadmaps for an audience, reachable without an account."""

import base64
import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from roadmap import bounds
from roadmap.models.base import ScopedQuerySet, TimeStamped


class Audience(models.TextChoices):
    CUSTOMERS = "customers", "Customers"
    INVESTORS = "investors", "Investors"
    EXECUTIVES = "executives", "Executives"


def new_share_token() -> str:
    # 32 bytes: 256 bits of randomness, URL-safe. Kept for migration 0001, which names it.
    return secrets.token_urlsafe(32)


def share_token_hash(token: str) -> str:
    """What the database keeps of a share link's token, and what a visit is looked up by."""
    return hashlib.sha256(token.encode()).hexdigest()


def share_token_derive(salt: str, key: str) -> str:
    """A link's token: an HMAC of its stored salt under a secret key (256 bits, URL-safe).

    The database holds the salt and the token's hash, never the token: reading it hands out no
    external roadmap. Whoever also holds the key can show the link again (the share page's Copy
    link, the digest's link back).
    """
    mac = hmac.new(key.encode(), b"waymark.share-link:" + salt.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def usable_links(path: str = "") -> models.Q:
    """A link opens while it is neither revoked nor expired: the rule as a filter, for links
    (``ShareLink.objects.usable()``) or for rows that reach a link through ``path``
    (e.g. ``"share_link__"``). ``ShareLink.is_usable`` is the same rule for one link in memory."""
    return models.Q(**{f"{path}revoked_at__isnull": True}) & (
        models.Q(**{f"{path}expires_at__isnull": True})
        | models.Q(**{f"{path}expires_at__gt": timezone.now()})
    )


class ShareLinkQuerySet(ScopedQuerySet):
    def usable(self):
        return self.filter(usable_links())


class ShareLink(TimeStamped):
    product = models.ForeignKey(
        "roadmap.Product", on_delete=models.CASCADE, related_name="share_links"
    )
    label = models.CharField(
        max_length=120,
        help_text="Who it is for, e.g. “Acme QBR”.",
        validators=[bounds.single_line],
    )
    audience = models.CharField(max_length=12, choices=Audience.choices, default=Audience.CUSTOMERS)
    # The token itself is never stored (see share_token_derive). An empty salt marks a link made
    # before tokens were hashed: it still opens, but its address can no longer be shown.
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_salt = models.CharField(max_length=32, blank=True, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True, validators=bounds.datetime_range)
    password_hash = models.CharField(max_length=200, blank=True, editable=False)
    allowed_embed_origins = models.TextField(
        blank=True,
        help_text="Origins that may embed this roadmap in an iframe, one per line "
        "(e.g. https://intranet.example.com). Empty: not embeddable.",
    )
    allow_feedback = models.BooleanField(
        "let visitors vote and send requests",
        default=False,
        help_text="Visitors confirm their email address before a vote or request counts.",
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

    def save(self, *args, **kwargs):
        if not self.token_hash:
            self.token_salt = secrets.token_urlsafe(16)
            self.token_hash = share_token_hash(
                share_token_derive(self.token_salt, settings.SECRET_KEY)
            )
        super().save(*args, **kwargs)

    @property
    def token(self) -> str | None:
        """The link's token, derived again from its salt; None for a link from before hashing, or
        when no key in SECRET_KEY and SECRET_KEY_FALLBACKS made it."""
        if not self.token_salt:
            return None
        for key in (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS):
            token = share_token_derive(self.token_salt, key)
            if hmac.compare_digest(share_token_hash(token), self.token_hash):
                return token
        return None

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
