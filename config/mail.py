"""What every email Waymark sends carries, whoever builds it: digests, confirmations, invites."""

from __future__ import annotations

import uuid
from email.utils import parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.crypto import salted_hmac


def mail_domain() -> str:
    """The site's own domain for Message-IDs: the sender address's, else SITE_URL's host.

    Never the machine's host name (Django's default): containers are named at random, or all
    alike ("localhost"), and a Message-ID should name a domain the sender answers for.
    """
    _name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    domain = address.rpartition("@")[2]
    return domain or urlsplit(settings.SITE_URL).hostname or "localhost"


def message_id(*, key: str | None = None) -> str:
    """A Message-ID (RFC 5322 §3.6.4) unique across installs.

    Without ``key``: random. With ``key`` (which must itself be unique, e.g. include a random
    token): an HMAC of it under this install's SECRET_KEY, so every attempt to send one message
    gives the same Message-ID (receivers drop the duplicate) while no other install, nor this one
    after its database is reset, ever gives it — and the key, which may hold a token, stays hidden.
    """
    local = (
        salted_hmac("waymark.mail.message-id", key).hexdigest()[:32] if key else uuid.uuid4().hex
    )
    return f"<{local}@{mail_domain()}>"
