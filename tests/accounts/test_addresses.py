"""One spelling per address (accounts/addresses.py): stored, looked up and limited in it, so no
other spelling of an account (``ſ`` for ``s``, upper case, full-width) gets a budget of its own
or reaches another account."""

import importlib

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accounts import services
from accounts.models import ApiToken, Invitation, Role, User
from tests import factories as f

normalise_migration = importlib.import_module("accounts.migrations.0002_normalise_addresses")

pytestmark = pytest.mark.django_db


def _login(client, email, password, ip="10.0.0.1"):
    return client.post(
        "/accounts/login/", {"username": email, "password": password}, REMOTE_ADDR=ip
    )


def test_failures_under_another_spelling_lock_the_same_account(client):
    f.MembershipFactory(user=f.UserFactory(email="sam@example.com"))

    for spelling in ["ſam@example.com", "SAM@example.com", "ſAM@EXAMPLE.com", "ſam@example.com"]:
        _login(client, spelling, "wrong")
    _login(client, "Sam@Example.com", "wrong")
    blocked = _login(client, "sam@example.com", "correct horse battery")

    assert b"Too many failed attempts" in blocked.content
    assert "_auth_user_id" not in client.session


def test_a_spelling_that_is_another_address_reaches_no_account(client):
    """PostgreSQL's case-insensitive match took ``admın`` (dotless ı) for ``admin``."""
    f.MembershipFactory(user=f.UserFactory(email="admin@example.com"))

    response = _login(client, "admın@example.com", "correct horse battery")

    assert response.status_code == 200
    assert b"do not match an account" in response.content
    assert "_auth_user_id" not in client.session


def test_any_spelling_of_the_stored_address_logs_in(client):
    user = f.UserFactory(email="sam@example.com")
    f.MembershipFactory(user=user)

    response = _login(client, "ſAM@Example.COM", "correct horse battery")

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_accounts_and_invitations_store_the_normalised_address(admin_user, workspace):
    user = services.user_create(email="Straße@Example.COM", password="a long Passphrase 42")
    invitation, _ = services.invitation_create(
        workspace=workspace, email="ſally@EXAMPLE.com", role=Role.EDITOR, invited_by=admin_user
    )

    assert User.objects.get(pk=user.pk).email == "strasse@example.com"
    assert Invitation.objects.get(pk=invitation.pk).email == "sally@example.com"


def test_a_member_invited_under_another_spelling_is_already_a_member(admin_user, workspace):
    f.MembershipFactory(user=f.UserFactory(email="sam@example.com"), workspace=workspace)

    with pytest.raises(ValidationError) as error:
        services.invitation_create(
            workspace=workspace, email="ſAM@example.com", role=Role.EDITOR, invited_by=admin_user
        )

    assert error.value.message_dict == {
        "email": [f"sam@example.com is already a member of {workspace}."]
    }
    assert not Invitation.objects.exists()


def test_a_second_account_under_another_spelling_is_refused():
    f.UserFactory(email="sam@example.com")

    with pytest.raises(ValidationError) as error:
        services.user_create(email="ſam@example.com", password="a long Passphrase 42")

    assert set(error.value.message_dict) == {"email"}
    assert list(User.objects.values_list("email", flat=True)) == ["sam@example.com"]


def test_admin_refuses_a_new_user_under_another_spelling():
    f.UserFactory(email="sam@example.com")
    root = User.objects.create_superuser(email="root@example.com", password="s3cret-Admin!")
    client = Client()
    client.force_login(root)

    response = client.post(
        "/admin/accounts/user/add/",
        {
            "email": "ſAM@example.com",
            "display_name": "",
            "usable_password": "true",
            "password1": "a long Passphrase 42",
            "password2": "a long Passphrase 42",
        },
    )

    assert response.status_code == 200
    assert "User with this Email address already exists." in response.content.decode()
    assert User.objects.filter(email="sam@example.com").count() == 1
    assert User.objects.count() == 2


def test_password_reset_reaches_the_account_and_counts_every_spelling(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    f.UserFactory(email="sam@example.com")

    answers = []
    for i, spelling in enumerate(["ſam@example.com", "SAM@example.com", "sam@example.com"]):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/accounts/password/reset/", {"email": spelling}, REMOTE_ADDR=f"10.0.0.{i}"
            )
        answers.append(response.status_code)
    fourth = client.post(
        "/accounts/password/reset/", {"email": "ſAM@example.com"}, REMOTE_ADDR="10.0.0.9"
    )

    assert answers == [302, 302, 302]
    assert fourth.status_code == 429
    assert [message.to for message in mailoutbox] == [["sam@example.com"]] * 3


def test_issue_token_finds_the_user_under_any_spelling(capsys):
    user = f.UserFactory(email="sam@example.com")
    f.MembershipFactory(user=user)

    call_command("issue_token", "ſAM@Example.com")

    assert capsys.readouterr().out.startswith("wmk_")
    assert ApiToken.objects.get().user == user


# --- The data migration ----------------------------------------------------------------------


def _stored(email: str, **fields) -> User:
    """A user whose address was stored before normalisation (written past ``clean``)."""
    user = f.UserFactory(**fields)
    User.objects.filter(pk=user.pk).update(email=email)
    return user


def _invitation(workspace, email: str) -> Invitation:
    return Invitation.objects.create(
        workspace=workspace, email=email, token_hash=email, expires_at=timezone.now()
    )


def test_the_migration_normalises_users_and_invitations(workspace):
    user = _stored("Sam@Example.COM")
    invitation = _invitation(workspace, "ſally@Example.com")

    normalise_migration.normalise_addresses(apps, None)

    assert User.objects.get(pk=user.pk).email == "sam@example.com"
    assert Invitation.objects.get(pk=invitation.pk).email == "sally@example.com"


def test_the_migration_refuses_to_merge_two_accounts_and_changes_nothing(workspace):
    first = _stored("Sam@Example.com")
    second = _stored("ſam@example.com")
    other = _stored("Other@Example.com")

    with pytest.raises(RuntimeError) as error:
        normalise_migration.normalise_addresses(apps, None)

    assert (
        f"sam@example.com: user {first.pk} <Sam@Example.com>, user {second.pk} <ſam@example.com>"
        in str(error.value)
    )
    assert "Nothing was changed" in str(error.value)
    assert User.objects.get(pk=other.pk).email == "Other@Example.com"
