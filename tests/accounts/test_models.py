"""Accounts models: the email address is the login, unique whatever its case; memberships and
tokens hold their rules in validation and in the database; every model reads well as text."""

import datetime

import pytest
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import ApiToken, Invitation, Membership, Role, User, Workspace, hash_token

PASSWORD = "correct horse battery"


def _errors(instance) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as exc:
        instance.full_clean()
    return exc.value.message_dict


# --- Users ---------------------------------------------------------------------------------


def test_email_is_the_login_and_there_is_no_username():
    assert User.USERNAME_FIELD == "email"
    assert User.REQUIRED_FIELDS == []
    assert "username" not in {field.name for field in User._meta.get_fields()}


@pytest.mark.django_db
def test_create_user_normalises_the_email_and_hashes_the_password():
    user = User.objects.create_user("Ada@Example.COM", PASSWORD)

    assert user.email == "ada@example.com"
    assert user.password != PASSWORD
    assert user.check_password(PASSWORD)
    assert (user.is_active, user.is_staff, user.is_superuser) == (True, False, False)


@pytest.mark.django_db
def test_create_user_requires_an_email():
    with pytest.raises(ValueError, match="^An email address is required.$"):
        User.objects.create_user("", PASSWORD)

    assert User.objects.count() == 0


@pytest.mark.django_db
def test_login_with_the_email_in_any_case():
    user = User.objects.create_user("ada@example.com", PASSWORD)

    assert authenticate(None, email="ADA@example.com", password=PASSWORD) == user
    assert authenticate(None, username="Ada@Example.com", password=PASSWORD) == user
    assert authenticate(None, email="ada@example.com", password="wrong") is None
    assert authenticate(None, email="bob@example.com", password=PASSWORD) is None


@pytest.mark.django_db
def test_validation_rejects_an_email_taken_in_another_case():
    User.objects.create_user("ada@example.com", PASSWORD)
    twin = User(email="ADA@Example.com", password="x")

    assert _errors(twin) == {"email": ["User with this Email address already exists."]}
    assert twin.email == "ada@example.com"


@pytest.mark.django_db
def test_database_rejects_an_email_taken_in_another_case():
    User.objects.create_user("ada@example.com", PASSWORD)

    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        # Straight to the database: neither the manager nor clean() lower-cases it.
        User(email="ADA@Example.com").save()

    assert "user_email_ci_unique" in str(exc.value)
    assert list(User.objects.values_list("email", flat=True)) == ["ada@example.com"]


@pytest.mark.django_db
def test_create_superuser():
    root = User.objects.create_superuser("Root@Example.com", PASSWORD)

    assert root.email == "root@example.com"
    assert (root.is_active, root.is_staff, root.is_superuser) == (True, True, True)
    assert root.check_password(PASSWORD)
    assert root.has_perm("roadmap.change_feature")
    assert authenticate(None, email="root@example.com", password=PASSWORD) == root


@pytest.mark.django_db
def test_createsuperuser_command_asks_only_for_the_email(monkeypatch):
    from django.core.management import call_command

    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)

    call_command("createsuperuser", "--noinput", "--email", "Ops@Example.com", verbosity=0)

    root = User.objects.get()
    assert root.email == "ops@example.com"
    assert root.is_superuser
    assert root.check_password(PASSWORD)


def test_user_name_is_the_display_name_or_the_email_local_part():
    assert User(email="ada@example.com", display_name="Ada Lovelace").name == "Ada Lovelace"
    assert User(email="ada@example.com").name == "ada"
    assert User(email="ada@example.com").get_full_name() == "ada"
    assert User(email="ada@example.com").get_short_name() == "ada"


# --- Memberships and tokens ----------------------------------------------------------------


@pytest.mark.django_db
def test_membership_role_must_be_a_known_role(workspace, editor):
    membership = editor.memberships.get()
    membership.role = "owner"

    assert _errors(membership) == {"role": ["Value 'owner' is not a valid choice."]}
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        Membership.objects.filter(pk=membership.pk).update(role="owner")
    assert "membership_role_valid" in str(exc.value)
    membership.refresh_from_db()
    assert membership.role == Role.EDITOR


@pytest.mark.django_db
def test_a_user_has_one_membership_per_workspace(workspace, editor):
    twin = Membership(user=editor, workspace=workspace, role=Role.VIEWER)

    assert _errors(twin) == {"__all__": ["Membership with this User and Workspace already exists."]}
    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save()
    assert list(Membership.objects.filter(user=editor).values_list("role", flat=True)) == [
        Role.EDITOR
    ]


def test_membership_roles_grant_edit_and_admin():
    rights = {
        role: (Membership(role=role).can_edit, Membership(role=role).is_admin)
        for role in Role.values
    }

    assert rights == {
        "admin": (True, True),
        "editor": (True, False),
        "viewer": (False, False),
    }


@pytest.mark.django_db
def test_api_token_scope_must_be_read_or_write(workspace, editor):
    token = ApiToken.objects.create(
        user=editor, workspace=workspace, name="CI", prefix="abc", token_hash=hash_token("s")
    )
    token.scope = "admin"

    assert _errors(token) == {"scope": ["Value 'admin' is not a valid choice."]}
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        ApiToken.objects.filter(pk=token.pk).update(scope="admin")
    assert "api_token_scope_valid" in str(exc.value)
    token.refresh_from_db()
    assert token.scope == "read"


@pytest.mark.django_db
def test_workspace_slug_is_unique(workspace):
    twin = Workspace(name="Twin", slug=workspace.slug)

    assert _errors(twin) == {"slug": ["Workspace with this Slug already exists."]}


# --- Text ----------------------------------------------------------------------------------


def test_every_accounts_model_reads_well_as_text():
    ada = User(email="ada@example.com", display_name="Ada")
    acme = Workspace(name="Acme", slug="acme")

    assert str(ada) == "Ada"
    assert str(User(email="bob@example.com")) == "bob"
    assert str(acme) == "Acme"
    assert str(Membership(user=ada, workspace=acme, role=Role.VIEWER)) == "Ada in Acme (Viewer)"
    assert str(Invitation(workspace=acme, email="new@example.com")) == (
        "Invitation of new@example.com to Acme"
    )
    assert str(ApiToken(name="Jira sync", prefix="abc123")) == "Jira sync (wmk_abc123…)"


def test_hash_token_is_sha256_hex():
    assert hash_token("secret") == (
        "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"
    )
    assert len(hash_token("anything")) == 64


def test_token_and_invitation_usability_follow_revocation_and_expiry():
    past = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    future = datetime.datetime(2100, 1, 1, tzinfo=datetime.UTC)

    assert ApiToken().is_active is True
    assert ApiToken(expires_at=past).is_active is False
    assert ApiToken(expires_at=future, revoked_at=past).is_active is False
    assert Invitation(expires_at=future).is_usable is True
    assert Invitation(expires_at=past).is_usable is False
    assert Invitation(expires_at=future, accepted_at=past).is_usable is False
