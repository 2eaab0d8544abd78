"""Resetting a forgotten password: the same answer for any address, a link that works once,
limits per address and per client, and a multipart email with absolute links."""

import email
import re
from email import policy

import pytest
from django.urls import reverse

from accounts import throttle
from tests import factories as f

RESET_URL = reverse("accounts:password_reset")
NEW_PASSWORD = "a brand new passphrase 42"


@pytest.fixture
def user(db):
    return f.UserFactory(email="pat@example.com", display_name="Pat")


def _ask(client, capture, address: str, **extra):
    with capture(execute=True):
        return client.post(RESET_URL, {"email": address}, **extra)


def _page(response) -> str:
    """A page without its CSRF token, which differs from one response to the next."""
    return re.sub(r'"X-CSRFToken": "[^"]*"', "", response.content.decode())


def _parsed(message):
    return email.message_from_bytes(message.message().as_bytes(), policy=policy.default)


def _link(message) -> str:
    text = _parsed(message).get_body(preferencelist=("plain",)).get_content()
    (link,) = re.findall(r"https?://\S+/accounts/password/reset/\S+/", text)
    return link


def test_login_page_links_to_the_reset(client, db):
    response = client.get(reverse("accounts:login"))

    assert f'href="{RESET_URL}">Forgot your password?</a>' in response.content.decode()


def test_same_answer_whether_or_not_an_account_uses_the_address(
    client, user, mailoutbox, django_capture_on_commit_callbacks
):
    known = _ask(client, django_capture_on_commit_callbacks, "Pat@Example.com")
    unknown = _ask(client, django_capture_on_commit_callbacks, "nobody@example.com")
    known_page = client.get(known["Location"])
    unknown_page = client.get(unknown["Location"])

    assert (known.status_code, known["Location"]) == (302, reverse("accounts:password_reset_done"))
    assert (unknown.status_code, unknown["Location"]) == (known.status_code, known["Location"])
    assert _page(known_page) == _page(unknown_page)
    assert [m.to for m in mailoutbox] == [["pat@example.com"]]


def test_the_email_is_multipart_with_absolute_links(
    client, user, mailoutbox, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://waymark.example.com"

    _ask(client, django_capture_on_commit_callbacks, "pat@example.com")

    (message,) = mailoutbox
    parsed = _parsed(message)
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed["Subject"] == "Set a new password for Waymark"
    link = _link(message)
    assert link.startswith("https://waymark.example.com/accounts/password/reset/")
    html = parsed.get_body(preferencelist=("html",)).get_content()
    assert f'href="{link}"' in html


def test_no_email_for_an_inactive_account_or_one_without_password(
    client, mailoutbox, db, django_capture_on_commit_callbacks
):
    f.UserFactory(email="gone@example.com", is_active=False)
    nopass = f.UserFactory(email="sso@example.com")
    nopass.set_unusable_password()
    nopass.save()

    gone = _ask(client, django_capture_on_commit_callbacks, "gone@example.com")
    sso = _ask(client, django_capture_on_commit_callbacks, "sso@example.com")

    assert (gone.status_code, sso.status_code) == (302, 302)
    assert mailoutbox == []


def test_the_link_sets_a_new_password_once(
    client, user, mailoutbox, django_capture_on_commit_callbacks
):
    _ask(client, django_capture_on_commit_callbacks, "pat@example.com")
    path = _link(mailoutbox[0]).removeprefix("http://127.0.0.1:8000")

    opened = client.get(path)
    form_page = client.get(opened["Location"])
    saved = client.post(
        opened["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    again = client.get(path, follow=True)

    assert opened.status_code == 302
    assert b"Set a new password" in form_page.content
    assert (saved.status_code, saved["Location"]) == (
        302,
        reverse("accounts:password_reset_complete"),
    )
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert b"Link no longer valid" in again.content
    assert b'name="new_password1"' not in again.content


def test_a_weak_password_is_refused_and_the_link_still_works(
    client, user, mailoutbox, django_capture_on_commit_callbacks
):
    _ask(client, django_capture_on_commit_callbacks, "pat@example.com")
    opened = client.get(_link(mailoutbox[0]).removeprefix("http://127.0.0.1:8000"))

    refused = client.post(opened["Location"], {"new_password1": "123", "new_password2": "123"})
    retried = client.get(opened["Location"])

    assert refused.status_code == 200
    assert b"This password is too short." in refused.content
    user.refresh_from_db()
    assert user.check_password("correct horse battery")
    assert b'name="new_password1"' in retried.content


def test_setting_the_password_lifts_a_login_lockout(
    client, user, mailoutbox, django_capture_on_commit_callbacks
):
    for _ in range(throttle.PER_ACCOUNT):
        throttle.login_failed(email=user.email, address="198.51.100.7")
    assert throttle.login_blocked(email=user.email, address="203.0.113.1")
    _ask(client, django_capture_on_commit_callbacks, "pat@example.com")
    opened = client.get(_link(mailoutbox[0]).removeprefix("http://127.0.0.1:8000"))

    client.post(opened["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert not throttle.login_blocked(email=user.email, address="203.0.113.1")


@pytest.mark.parametrize("address", ["pat@example.com", "nobody@example.com"])
def test_limited_per_email_address_for_an_account_or_not(
    client, user, mailoutbox, address, django_capture_on_commit_callbacks
):
    answers = [
        _ask(client, django_capture_on_commit_callbacks, address, REMOTE_ADDR=f"192.0.2.{n}")
        for n in range(throttle.RESET_PER_EMAIL + 1)
    ]

    assert [a.status_code for a in answers] == [302] * throttle.RESET_PER_EMAIL + [429]
    assert answers[-1]["Retry-After"] == "3600"
    assert b"Too many requests for a new password" in answers[-1].content
    sent = throttle.RESET_PER_EMAIL if address == user.email else 0
    assert len(mailoutbox) == sent


def test_limited_per_client(client, user, mailoutbox, django_capture_on_commit_callbacks):
    addresses = [f"someone{n}@example.com" for n in range(throttle.RESET_PER_ADDRESS)]
    for address in addresses:
        _ask(client, django_capture_on_commit_callbacks, address)

    refused = _ask(client, django_capture_on_commit_callbacks, "pat@example.com")
    elsewhere = _ask(
        client, django_capture_on_commit_callbacks, "pat@example.com", REMOTE_ADDR="192.0.2.99"
    )

    assert refused.status_code == 429
    assert elsewhere.status_code == 302
    assert [m.to for m in mailoutbox] == [["pat@example.com"]]


def test_an_invalid_address_is_a_form_error(client, db, mailoutbox):
    response = client.post(RESET_URL, {"email": "pat at example"})

    assert response.status_code == 400
    assert b"Enter a valid email address." in response.content
    assert mailoutbox == []
