import pytest
from django.test import Client


@pytest.fixture
def workspace_admin_client(admin_user):
    """A logged-in admin of ``workspace`` (not a Django superuser)."""
    client = Client()
    client.force_login(admin_user)
    return client
