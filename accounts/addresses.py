"""One spelling of an email address, for storing, looking up and keying limits (issue 16.5, 16.7).

``normalize_email`` is the spelling every address is stored and looked up in: NFKC, then
casefolded, so that ``ı``/``I``, ``ſ``/``s`` and full-width letters can't name one account twice.
``mailbox`` goes one step further for rate limits only: it drops a ``+tag`` from the local part,
so ``victim+1@…`` and ``victim+2@…`` share one budget. Neither is ever shown to anybody.
"""

from __future__ import annotations

import unicodedata


def normalize_email(address: str) -> str:
    """NFKC + casefold of the whole address, trimmed. Idempotent."""
    return unicodedata.normalize("NFKC", address.strip()).casefold()


def mailbox(address: str) -> str:
    """The mailbox an address delivers to, as far as a limit needs: normalised, without +tag."""
    address = normalize_email(address)
    local, at, domain = address.rpartition("@")
    if not at:
        return address
    return f"{local.split('+', 1)[0]}@{domain}"
