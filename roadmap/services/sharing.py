"""Writes of share links: create, revoke, count a view, and check a password (rate-limited)."""

from __future__ import annotations

import datetime
import enum
import hashlib
import re
from collections.abc import Iterable

from django.contrib.auth.hashers import check_password, make_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from roadmap.models import Audience, Product, ShareLink

# Wrong passwords allowed per share link and client within the window; the next is refused.
PASSWORD_ATTEMPTS = 5
PASSWORD_WINDOW_SECONDS = 15 * 60
PASSWORD_MIN_LENGTH = 6
# A CSP source for frame-ancestors: scheme, host (optionally "*." for subdomains), port.
# Nothing else, so an origin can never smuggle another directive into the header.
_ORIGIN = re.compile(
    r"^https?://(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$"
)


class PasswordCheck(enum.Enum):
    OK = "ok"
    WRONG = "wrong"
    LIMITED = "limited"


def embed_origins_clean(origins: str | Iterable[str]) -> list[str]:
    """Normalise the origins allowed to embed a link (one per line); ValidationError on anything
    that is not ``https://host[:port]`` (or http)."""
    lines = origins.splitlines() if isinstance(origins, str) else list(origins)
    clean = []
    for line in lines:
        origin = line.strip().rstrip("/").lower()
        if not origin:
            continue
        if not _ORIGIN.match(origin):
            raise ValidationError(
                {
                    "allowed_embed_origins": f"“{line.strip()[:80]}” is not an origin such as "
                    "https://intranet.example.com (scheme and host, no path)."
                }
            )
        if origin not in clean:
            clean.append(origin)
    return clean


@transaction.atomic
def share_link_create(
    *,
    product: Product,
    label: str,
    audience: str = Audience.CUSTOMERS,
    expires_at: datetime.datetime | None = None,
    password: str = "",
    embed_origins: str | Iterable[str] = "",
    created_by=None,
) -> ShareLink:
    """Create a share link of a product's external roadmap for an audience.

    The token comes from the model (256 random bits); a password is stored only as its hash.
    """
    errors = {}
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = "The expiry must be in the future."
    if password and len(password) < PASSWORD_MIN_LENGTH:
        errors["password"] = f"Use at least {PASSWORD_MIN_LENGTH} characters, or no password."
    try:
        origins = embed_origins_clean(embed_origins)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        origins = []
    link = ShareLink(
        product=product,
        label=" ".join(label.split()),
        audience=audience,
        expires_at=expires_at,
        password_hash=make_password(password) if password else "",
        allowed_embed_origins="\n".join(origins),
        created_by=created_by if getattr(created_by, "is_authenticated", False) else None,
    )
    try:
        link.full_clean()
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, messages)
    if errors:
        raise ValidationError(errors)
    link.save()
    return link


@transaction.atomic
def share_link_revoke(*, share_link: ShareLink) -> ShareLink:
    """Revoke a link at once: from now on its URL answers the same 404 as an unknown one.
    Revoking twice keeps the first time."""
    ShareLink.objects.filter(pk=share_link.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), updated_at=timezone.now()
    )
    share_link.refresh_from_db(fields=["revoked_at", "updated_at"])
    return share_link


def share_link_record_view(*, share_link: ShareLink) -> None:
    """Count one view of the external page (a single UPDATE, safe under concurrent views)."""
    ShareLink.objects.filter(pk=share_link.pk).update(
        view_count=F("view_count") + 1, last_viewed_at=timezone.now()
    )


def _attempts_key(share_link: ShareLink, client: str) -> str:
    digest = hashlib.sha256(client.encode()).hexdigest()[:32]
    return f"share-link-password:{share_link.pk}:{digest}"


def share_link_check_password(
    *, share_link: ShareLink, password: str, client: str
) -> PasswordCheck:
    """Check a password for a link, from a client (e.g. its IP address).

    After ``PASSWORD_ATTEMPTS`` wrong answers from one client within ``PASSWORD_WINDOW_SECONDS``
    every attempt — right or wrong — is LIMITED until the window ends. A link without a password
    needs none (OK).
    """
    if not share_link.password_hash:
        return PasswordCheck.OK
    key = _attempts_key(share_link, client)
    if cache.get(key, 0) >= PASSWORD_ATTEMPTS:
        return PasswordCheck.LIMITED
    if check_password(password, share_link.password_hash):
        return PasswordCheck.OK
    # add + incr keeps the window fixed from the first wrong answer.
    cache.add(key, 0, PASSWORD_WINDOW_SECONDS)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, PASSWORD_WINDOW_SECONDS)
    return PasswordCheck.WRONG
