"""The "you asked for it — it's live" email, built from the external allow-list only."""

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from config.mail import message_id
from roadmap.models import Contact, ShipNotice
from roadmap.sharing.external import feature_announcement

UNSUBSCRIBE_SALT = "waymark.portal.unsubscribe"


def unsubscribe_url(contact: Contact) -> str:
    """The one-click link that stops "it's live" notices to ``contact`` (signed, no expiry)."""
    token = signing.dumps(contact.pk, salt=UNSUBSCRIBE_SALT)
    return settings.SITE_URL + reverse("portal:unsubscribe", kwargs={"token": token})


def ship_notice_message(*, notice: ShipNotice) -> EmailMultiAlternatives | None:
    """The email of one ship notice, or None when no external item tells of the feature (the PM
    made it internal since): nothing but the announcement's public fields goes out."""
    announcement = feature_announcement(feature_id=notice.feature_id)
    if announcement is None:
        return None
    unsubscribe = unsubscribe_url(notice.contact)
    context = {**announcement, "unsubscribe_url": unsubscribe}
    message = EmailMultiAlternatives(
        subject=" ".join(f"You asked for {announcement['title']} — it's live".split()),
        body=render_to_string("emails/ship_notice.txt", context),
        to=[notice.contact.email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Message-ID": message_id(
                key=f"ship-notice-{notice.pk}-{notice.contact.confirmation_token}"
            ),
        },
    )
    message.attach_alternative(render_to_string("emails/ship_notice.html", context), "text/html")
    return message
