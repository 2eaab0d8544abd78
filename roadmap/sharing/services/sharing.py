"""Writes of share links: create, replace, revoke, count a view, check a password (rate-limited);
and the rule for the origins that may embed a link."""

from __future__ import annotations

import datetime
import enum
import functools
import hashlib
import re
from collections.abc import Iterable

from django.contrib.auth.hashers import check_password, make_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from publicsuffixlist import PublicSuffixList

from accounts.throttle import client_key, window_count
from roadmap.models import Audience, Product, ShareLink

# Wrong passwords allowed within the window, per share link and client (an IPv6 /64 is one
# client), and per share link from all clients together; the next attempt is refused.
PASSWORD_ATTEMPTS = 5
PASSWORD_ATTEMPTS_PER_LINK = 20
PASSWORD_WINDOW_SECONDS = 15 * 60
PASSWORD_MIN_LENGTH = 6
# A CSP source for frame-ancestors: https, a host (or "*." and a domain), a port. Nothing else,
# so an origin can never smuggle another directive into the header.
_LABEL = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
_ORIGIN = re.compile(
    rf"(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<wildcard>\*\.)?(?P<host>{_LABEL}(?:\.{_LABEL})*)"
    r"(?::(?P<port>\d{1,5}))?"
)
_ORIGIN_EXAMPLE = "https://intranet.example.com, or https://*.example.com for its subdomains"


class PasswordCheck(enum.Enum):
    OK = "ok"
    WRONG = "wrong"
    LIMITED = "limited"


@functools.cache
def _public_suffixes() -> PublicSuffixList:
    # The list shipped inside the package: nothing is fetched.
    return PublicSuffixList()


def embed_origin_problem(origin: str) -> str:
    """Why ``origin`` (normalised: lower case, no trailing slash) may not embed a share link;
    empty when it may. Allowed: ``https://host[:port]``, or ``https://*.domain[:port]`` where
    the domain is not a public suffix (``*.com``, ``*.co.uk``, ``*.github.io``) nor an IP."""
    match = _ORIGIN.fullmatch(origin)
    if match is None:
        return f"is not an origin such as {_ORIGIN_EXAMPLE} (no path, user or query)."
    if match["scheme"] != "https":
        return "is not https: only https sites may embed a roadmap."
    port = match["port"]
    if port is not None and not 0 < int(port) < 65536:
        return "has a port outside 1–65535."
    host = match["host"]
    if match["wildcard"]:
        if host.rsplit(".", 1)[-1].isdigit():
            return "puts a wildcard on an IP address: name a domain."
        if _public_suffixes().privatesuffix(host) is None:
            return (
                "covers sites of many owners: a wildcard needs one registered domain, "
                "such as https://*.example.com."
            )
    return ""


def embed_origins_clean(origins: str | Iterable[str]) -> list[str]:
    """Normalise the origins allowed to embed a link (one per line); ValidationError naming the
    first line ``embed_origin_problem`` refuses."""
    lines = origins.splitlines() if isinstance(origins, str) else list(origins)
    clean = []
    for number, line in enumerate(lines, start=1):
        origin = line.strip().rstrip("/").lower()
        if not origin:
            continue
        problem = embed_origin_problem(origin)
        if problem:
            raise ValidationError(
                {"allowed_embed_origins": f"Line {number}: “{line.strip()[:80]}” {problem}"}
            )
        if origin not in clean:
            clean.append(origin)
    return clean


def embed_origins_allowed(origins: Iterable[str]) -> list[str]:
    """The stored origins the rule still allows (a link saved under an older rule may hold
    others): the ones the external pages name in ``frame-ancestors``."""
    return [origin for origin in origins if not embed_origin_problem(origin)]


@transaction.atomic
def share_link_create(
    *,
    product: Product,
    label: str,
    audience: str = Audience.CUSTOMERS,
    expires_at: datetime.datetime | None = None,
    password: str = "",
    embed_origins: str | Iterable[str] = "",
    allow_feedback: bool = False,
    created_by=None,
) -> ShareLink:
    """Create a share link of a product's external roadmap for an audience.

    The token comes from the model (256 random bits); a password is stored only as its hash.
    """
    errors: dict[str, str | list[str]] = {}
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
        allow_feedback=allow_feedback,
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
def share_link_replace(*, share_link: ShareLink, created_by=None) -> ShareLink:
    """A new link with the settings of ``share_link`` (label, audience, expiry, password, embed
    origins, feedback), for a link whose address can no longer be shown (made before tokens were
    hashed). Its digest subscribers move to the new link, so their emails link back again; the
    old link keeps working until it is revoked."""
    replacement = ShareLink(
        product_id=share_link.product_id,
        label=share_link.label,
        audience=share_link.audience,
        expires_at=share_link.expires_at,
        password_hash=share_link.password_hash,
        allowed_embed_origins="\n".join(embed_origins_allowed(share_link.embed_origins)),
        allow_feedback=share_link.allow_feedback,
        created_by=created_by if getattr(created_by, "is_authenticated", False) else None,
    )
    replacement.full_clean()
    replacement.save()
    share_link.subscriptions.update(share_link=replacement, updated_at=timezone.now())
    return replacement


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


def _attempts_keys(share_link: ShareLink, client: str) -> tuple[str, str]:
    """The counters of attempts at a link's password: from this client, and from all."""
    digest = hashlib.sha256(client_key(client).encode()).hexdigest()[:32]
    prefix = f"share-link-password:{share_link.pk}"
    return f"{prefix}:client:{digest}", f"{prefix}:all"


def share_link_check_password(
    *, share_link: ShareLink, password: str, client: str
) -> PasswordCheck:
    """Check a password for a link, from a client (its IP address).

    After ``PASSWORD_ATTEMPTS`` wrong answers from one client (an IPv6 /64 counts as one), or
    ``PASSWORD_ATTEMPTS_PER_LINK`` from all clients together, within ``PASSWORD_WINDOW_SECONDS``,
    every attempt — right or wrong — is LIMITED until the window ends; browsers that entered
    the password before keep their session. A link without a password needs none (OK).
    """
    if not share_link.password_hash:
        return PasswordCheck.OK
    # An attempt is counted before the password is checked, so that attempts made in parallel
    # can't all pass a limit read before any of them counted; a right answer is given back.
    # A client refused on its own limit adds nothing to the link's.
    per_client, per_link = _attempts_keys(share_link, client)
    if window_count(per_client, PASSWORD_WINDOW_SECONDS) > PASSWORD_ATTEMPTS:
        return PasswordCheck.LIMITED
    if window_count(per_link, PASSWORD_WINDOW_SECONDS) > PASSWORD_ATTEMPTS_PER_LINK:
        _uncount_attempt(per_client)
        return PasswordCheck.LIMITED
    if check_password(password, share_link.password_hash):
        _uncount_attempt(per_client)
        _uncount_attempt(per_link)
        return PasswordCheck.OK
    return PasswordCheck.WRONG


def _uncount_attempt(key: str) -> None:
    try:
        cache.decr(key)
    except ValueError:  # the window ended meanwhile
        pass
