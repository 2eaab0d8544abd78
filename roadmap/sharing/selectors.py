"""Reads of digest subscriptions for the links in their emails: the confirm and unsubscribe pages
look a subscription up by its token without changing it (the services act on the POST)."""

from __future__ import annotations

from django.core import signing

from roadmap.models import Subscription

UNSUBSCRIBE_SALT = "waymark.digest.unsubscribe"


def subscription_by_confirmation_token(*, token: str) -> Subscription | None:
    """The subscription a confirmation link names, with its product and share link; None for an
    unknown token."""
    return (
        Subscription.objects.select_related("product", "share_link")
        .filter(confirmation_token=token)
        .first()
    )


def subscription_by_unsubscribe_token(*, token: str) -> Subscription | None:
    """The subscription an unsubscribe link names (a signed id), with its product and share link;
    None for a bad signature or a subscription since removed."""
    try:
        pk = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return Subscription.objects.select_related("product", "share_link").filter(pk=pk).first()
