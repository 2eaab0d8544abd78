"""Emails about accounts, built from templates in templates/emails/."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from .models import Invitation


def invitation_link(raw_token: str) -> str:
    """The absolute accept link: emails leave the site, so they carry SITE_URL."""
    return settings.SITE_URL + reverse("accounts:invitation_accept", args=[raw_token])


def invitation_email(*, invitation: Invitation, raw_token: str) -> EmailMultiAlternatives:
    context = {
        "invitation": invitation,
        "workspace": invitation.workspace,
        "inviter": invitation.invited_by,
        "link": invitation_link(raw_token),
        "valid_days": settings.INVITATION_VALID_DAYS,
    }
    subject = render_to_string("emails/invitation_subject.txt", context).strip()
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=render_to_string("emails/invitation.txt", context),
        to=[invitation.email],
    )
    message.attach_alternative(render_to_string("emails/invitation.html", context), "text/html")
    return message
