"""The admin's login has the app login's limits, on the same counters (accounts/throttle.py)."""

import pytest

from accounts.models import User
from tests import factories as f

pytestmark = pytest.mark.django_db

PASSWORD = "s3cret-Admin!"


@pytest.fixture
def staff():
    return User.objects.create_superuser(email="root@example.com", password=PASSWORD)


def _admin_login(client, email, password, ip="10.0.0.1"):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": email, "password": password, "next": "/admin/"},
        REMOTE_ADDR=ip,
    )


def test_twenty_five_wrong_passwords_then_the_right_one_is_refused(client, staff):
    codes = {_admin_login(client, "root@example.com", "wrong").status_code for _ in range(25)}
    right = _admin_login(client, "root@example.com", PASSWORD)

    assert codes == {200}
    assert right.status_code == 200
    assert "Too many failed attempts" in right.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302  # to the login page


def test_failures_on_the_admin_lock_the_app_login_and_back(client, staff):
    for spelling in ["root@example.com", "ROOT@example.com", "root@EXAMPLE.com"]:
        _admin_login(client, spelling, "wrong")
    for _ in range(2):
        client.post(
            "/accounts/login/",
            {"username": "Root@example.com", "password": "wrong"},
            REMOTE_ADDR="10.0.0.2",
        )

    on_the_app = client.post(
        "/accounts/login/",
        {"username": "root@example.com", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.3",
    )
    on_the_admin = _admin_login(client, "root@example.com", PASSWORD, ip="10.0.0.4")

    assert "Too many failed attempts" in on_the_app.content.decode()
    assert "Too many failed attempts" in on_the_admin.content.decode()
    assert "_auth_user_id" not in client.session


def test_staff_log_in_to_the_admin_and_others_do_not(client, staff):
    member = f.UserFactory(email="pm@example.com")

    refused = _admin_login(client, "pm@example.com", "correct horse battery")
    accepted = _admin_login(client, "root@example.com", PASSWORD)

    assert refused.status_code == 200
    assert "do not match a staff account" in refused.content.decode()
    assert accepted.status_code == 302 and accepted["Location"] == "/admin/"
    assert client.session["_auth_user_id"] == str(staff.pk) != str(member.pk)


def test_one_address_guessing_many_accounts_is_stopped_on_the_admin(client, staff):
    for i in range(20):
        _admin_login(client, f"guess{i}@example.com", "wrong", ip="10.9.9.9")

    from_there = _admin_login(client, "root@example.com", PASSWORD, ip="10.9.9.9")

    assert "Too many failed attempts" in from_there.content.decode()
