"""Emails about accounts, built from templates in templates/emails/."""

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import Invitation
from config.mail import message_id


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
        headers={"Message-ID": message_id()},
    )
    message.attach_alternative(render_to_string("emails/invitation.html", context), "text/html")
    return message


def password_reset_link(user) -> str:
    """The absolute link to set a new password. Django's token signs the password hash and the
    last login, so the link stops working once the password is set (or the user logs in)."""
    path = reverse(
        "accounts:password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return settings.SITE_URL + path


def password_reset_email(*, user) -> EmailMultiAlternatives:
    context = {
        "user": user,
        "link": password_reset_link(user),
        "valid_hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
    }
    subject = render_to_string("emails/accounts_password_reset_subject.txt", context).strip()
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=render_to_string("emails/accounts_password_reset.txt", context),
        to=[user.email],
        headers={"Message-ID": message_id()},
    )
    message.attach_alternative(
        render_to_string("emails/accounts_password_reset.html", context), "text/html"
    )
    return message
