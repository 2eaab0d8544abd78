"""Login, logout, password change and the workspace switcher."""

from django.test import Client
from django.urls import reverse

from accounts.models import Role
from tests import factories as f

LOGIN = reverse("accounts:login")
LOGOUT = reverse("accounts:logout")
HOME = reverse("roadmap:home")
PASSWORD = reverse("accounts:password_change")
SWITCH = reverse("accounts:workspace_switch")


def test_login_page_has_labelled_email_and_password_fields(client, db):
    response = client.get(LOGIN)

    assert response.status_code == 200
    html = response.content.decode()
    assert '<label for="id_username">Email</label>' in html
    assert 'type="email" name="username"' in html
    assert '<label for="id_password">Password</label>' in html


def test_login_with_email_and_password_goes_home(client, editor, workspace):
    response = client.post(
        LOGIN, {"username": editor.email.upper(), "password": "correct horse battery"}
    )

    assert response.status_code == 302
    assert response["Location"] == HOME
    home = client.get(HOME)
    assert home.wsgi_request.user == editor
    assert workspace.name in home.content.decode()


def test_login_follows_a_safe_next_but_not_an_outside_one(client, editor):
    inside = client.post(
        f"{LOGIN}?next=/accounts/members/",
        {
            "username": editor.email,
            "password": "correct horse battery",
            "next": "/accounts/members/",
        },
    )
    client.logout()
    outside = client.post(
        LOGIN,
        {
            "username": editor.email,
            "password": "correct horse battery",
            "next": "https://evil.example/",
        },
    )

    assert inside["Location"] == "/accounts/members/"
    assert outside["Location"] == HOME


def test_wrong_password_is_refused_with_the_email_kept(client, editor):
    response = client.post(LOGIN, {"username": editor.email, "password": "wrong"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "That email and password do not match an account." in html
    assert f'value="{editor.email}"' in html
    assert "_auth_user_id" not in client.session


def test_pages_redirect_anonymous_users_to_login(client, db):
    response = client.get(HOME)

    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next=/"


def test_logout_is_a_post_and_ends_the_session(editor_client):
    page = editor_client.get(HOME).content.decode()
    assert f'<form method="post" action="{LOGOUT}">' in page

    refused = editor_client.get(LOGOUT)
    response = editor_client.post(LOGOUT)

    assert refused.status_code == 405
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert editor_client.get(HOME).status_code == 302


def test_password_change(editor_client, editor):
    response = editor_client.post(
        PASSWORD,
        {
            "old_password": "correct horse battery",
            "new_password1": "staple battery horse 2",
            "new_password2": "staple battery horse 2",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_change_done")
    assert "Password changed" in editor_client.get(response["Location"]).content.decode()
    editor.refresh_from_db()
    assert editor.check_password("staple battery horse 2")
    # Still logged in here (the session hash was updated).
    assert editor_client.get(HOME).status_code == 200
    fresh = Client()
    assert not fresh.login(username=editor.email, password="correct horse battery")
    assert fresh.login(username=editor.email, password="staple battery horse 2")


def test_password_change_with_a_wrong_old_password_changes_nothing(editor_client, editor):
    response = editor_client.post(
        PASSWORD,
        {
            "old_password": "nope",
            "new_password1": "staple battery horse 2",
            "new_password2": "staple battery horse 2",
        },
    )

    assert response.status_code == 200
    assert "Your old password was entered incorrectly." in response.content.decode()
    editor.refresh_from_db()
    assert editor.check_password("correct horse battery")


def test_password_change_needs_login(client, db):
    assert client.get(PASSWORD)["Location"] == f"{LOGIN}?next={PASSWORD}"


def test_switching_to_a_workspace_of_the_user(editor_client, editor, workspace):
    second = f.WorkspaceFactory(name="Zeta Corp")
    f.MembershipFactory(user=editor, workspace=second, role=Role.VIEWER)
    page = editor_client.get(HOME).content.decode()
    assert f'name="workspace_id" value="{second.pk}"' in page
    assert f'name="workspace_id" value="{workspace.pk}" aria-current="true"' in page

    response = editor_client.post(SWITCH, {"workspace_id": second.pk})

    assert response.status_code == 302
    assert response["Location"] == HOME
    assert editor_client.session["workspace_id"] == second.pk
    home = editor_client.get(HOME)
    assert home.wsgi_request.workspace == second
    assert "You are now working in Zeta Corp." in home.content.decode()


def test_switching_to_a_workspace_of_someone_else_is_not_found(
    editor_client, workspace, other_workspace
):
    editor_client.post(SWITCH, {"workspace_id": workspace.pk})

    foreign = editor_client.post(SWITCH, {"workspace_id": other_workspace.pk})
    garbage = editor_client.post(SWITCH, {"workspace_id": "abc"})
    by_get = editor_client.get(SWITCH)

    assert foreign.status_code == 404
    assert garbage.status_code == 404
    assert by_get.status_code == 405
    assert editor_client.session["workspace_id"] == workspace.pk


def test_the_switcher_lists_only_the_users_workspaces(editor_client, other_workspace):
    page = editor_client.get(HOME).content.decode()

    assert other_workspace.name not in page
    assert f'value="{other_workspace.pk}"' not in page
