import pytest
from rest_framework.test import APIClient

from accounts.tokens import api_token_issue
from tests import factories as f


@pytest.fixture
def api():
    return APIClient()


def _client_with(user, workspace, scope):
    _, raw = api_token_issue(user=user, workspace=workspace, name="test", scope=scope)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    client.raw_token = raw
    return client


@pytest.fixture
def write_api(editor, workspace):
    return _client_with(editor, workspace, "write")


@pytest.fixture
def read_api(editor, workspace):
    return _client_with(editor, workspace, "read")


@pytest.fixture
def viewer_write_api(viewer, workspace):
    return _client_with(viewer, workspace, "write")


@pytest.fixture
def outsider_api(outsider, other_workspace):
    return _client_with(outsider, other_workspace, "write")


@pytest.fixture
def valued(product):
    """The product's custom fields Segment (SMB, Enterprise), Urgent (yes/no) and Deal size (a
    number), on three scored features. High: Enterprise, urgent, 12,500.5; Middle: SMB, not
    urgent, 800; Low: no values."""
    f.custom_fields(product)
    return f.features_with_field_values(product)
