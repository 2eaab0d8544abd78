"""Brute-force protection on the login page, per account and per address."""

import pytest

from tests import factories as f


def _login(client, email, password, ip="10.0.0.1"):
    return client.post(
        "/accounts/login/", {"username": email, "password": password}, REMOTE_ADDR=ip
    )


@pytest.mark.django_db
def test_account_is_locked_after_five_failures_even_for_the_right_password(client):
    user = f.UserFactory(email="pm@example.com")
    f.MembershipFactory(user=user)

    codes = [_login(client, "pm@example.com", "wrong").status_code for _ in range(5)]
    blocked = _login(client, "pm@example.com", "correct horse battery")

    assert codes == [200] * 5
    assert blocked.status_code == 200
    assert b"Too many failed attempts" in blocked.content
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_lock_is_per_account_and_another_account_still_logs_in(client):
    other = f.UserFactory(email="other@example.com")
    f.MembershipFactory(user=other)
    for _ in range(5):
        _login(client, "victim@example.com", "wrong")

    response = _login(client, "other@example.com", "correct horse battery")

    assert response.status_code == 302


@pytest.mark.django_db
def test_one_address_trying_many_accounts_is_stopped(client):
    user = f.UserFactory(email="target@example.com")
    f.MembershipFactory(user=user)
    for i in range(20):
        _login(client, f"guess{i}@example.com", "wrong", ip="10.9.9.9")

    from_that_address = _login(client, "target@example.com", "correct horse battery", "10.9.9.9")
    from_elsewhere = _login(client, "target@example.com", "correct horse battery", "10.1.1.1")

    assert b"Too many failed attempts" in from_that_address.content
    assert from_elsewhere.status_code == 302


@pytest.mark.django_db
def test_the_addresses_of_one_ipv6_64_are_one_client(client):
    user = f.UserFactory(email="target@example.com")
    f.MembershipFactory(user=user)
    for i in range(20):
        _login(client, f"guess{i}@example.com", "wrong", ip=f"2001:db8:1:2::{i + 1:x}")

    same_64 = _login(client, "target@example.com", "correct horse battery", "2001:db8:1:2::ff")
    next_64 = _login(client, "target@example.com", "correct horse battery", "2001:db8:1:3::1")

    assert b"Too many failed attempts" in same_64.content
    assert next_64.status_code == 302


@pytest.mark.django_db
def test_success_clears_the_account_counter(client):
    user = f.UserFactory(email="pm@example.com")
    f.MembershipFactory(user=user)
    for _ in range(4):
        _login(client, "pm@example.com", "wrong")

    assert _login(client, "pm@example.com", "correct horse battery").status_code == 302
    client.logout()
    for _ in range(4):
        _login(client, "pm@example.com", "wrong")
    assert _login(client, "pm@example.com", "correct horse battery").status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize("behind_proxy", [True, False])
def test_behind_the_proxy_the_forwarded_address_is_the_visitor(client, settings, behind_proxy):
    """Every connection comes from the proxy: without reading X-Forwarded-For, one attacker
    would lock every visitor out. A spoofed first entry does not help the attacker."""
    settings.BEHIND_TLS_PROXY = behind_proxy
    user = f.UserFactory(email="target@example.com")
    f.MembershipFactory(user=user)
    for i in range(20):
        client.post(
            "/accounts/login/",
            {"username": f"guess{i}@example.com", "password": "wrong"},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR=f"1.2.3.{i}, 10.6.6.6",
        )

    visitor = client.post(
        "/accounts/login/",
        {"username": "target@example.com", "password": "correct horse battery"},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="10.1.1.1",
    )

    assert (visitor.status_code == 302) is behind_proxy
