"""Personal access tokens: issue, authenticate, revoke. The only code that touches ApiToken."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from accounts.models import ApiToken, Membership, TokenScope, User, Workspace, hash_token
from roadmap.baked import Baked, columns, instance

TOKEN_PREFIX = "wmk_"
# Recording every use would write on every request; once a minute is enough to tell.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@transaction.atomic
def api_token_issue(
    *,
    user,
    workspace: Workspace,
    name: str,
    scope: str = TokenScope.READ,
    expires_in_days: int | None = None,
) -> tuple[ApiToken, str]:
    """Create a token for a member; returns it with the one and only copy of the secret."""
    if not Membership.objects.filter(user=user, workspace=workspace).exists():
        raise ValidationError({"workspace": "You are not a member of this workspace."})
    if expires_in_days is not None and expires_in_days < 1:
        raise ValidationError({"expires_in_days": "A token must live at least one day."})
    prefix = secrets.token_hex(4)
    raw = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken(
        user=user,
        workspace=workspace,
        name=name.strip(),
        scope=scope,
        prefix=prefix,
        token_hash=hash_token(raw),
        expires_at=timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    token.full_clean()
    token.save()
    return token, raw


def _token_lookup(token_hash: str) -> QuerySet:
    """The token of this hash with its user's row, where its user is a member of its workspace.

    The hash is unique: one row or none, no order to ask for. Revoked, expired and inactive are
    told from the row (``is_active``, the same rule as ``ApiToken.objects.active()``): the query
    stays a lookup by the unique index and a membership probe, the API's first cost. Baked
    (``roadmap.baked``): every API request runs it, and building it took twice its run."""
    return (
        ApiToken.objects.filter(
            token_hash=token_hash, user__memberships__workspace_id=F("workspace_id")
        )
        .order_by()
        .values(*columns(ApiToken), *columns(User, "user__"))[:1]
    )


_TOKEN_LOOKUP = Baked(_token_lookup)


def api_token_authenticate(raw: str) -> ApiToken | None:
    """The active token matching a presented secret, or None: also None once its user is no
    longer a member of its workspace (in the same query). Marks it used (coarsely)."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    found = _TOKEN_LOOKUP.rows(token_hash=hash_token(raw))
    if not found:
        return None
    token = instance(ApiToken, found[0])
    token.user = instance(User, found[0], "user__")
    if not token.is_active or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def api_tokens_revoke_in(*, user, workspace: Workspace) -> int:
    """Revoke every active token of a user in one workspace (they are leaving it); the count."""
    return ApiToken.objects.filter(user=user, workspace=workspace, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


@transaction.atomic
def api_token_revoke(*, token: ApiToken) -> None:
    """Revoke at once; idempotent."""
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
