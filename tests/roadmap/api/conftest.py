import pytest
from rest_framework.test import APIClient

from accounts.tokens import api_token_issue
from roadmap.planning.services import fields as field_services
from roadmap.planning.services.features import feature_update
from roadmap.planning.services.scoring import product_recompute_scores
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
    field_services.custom_field_save(
        product=product, name="Segment", kind="choice", choices=[("SMB", "1"), ("Enterprise", "3")]
    )
    field_services.custom_field_save(product=product, name="Urgent", kind="yes_no")
    field_services.custom_field_save(product=product, name="Deal size", kind="number")
    low = f.FeatureFactory(product=product, title="Low", reach=10)
    middle = f.FeatureFactory(product=product, title="Middle", reach=100)
    high = f.FeatureFactory(product=product, title="High", reach=1000)
    feature_update(
        feature=high,
        data={},
        custom_fields={"segment": "Enterprise", "urgent": True, "deal_size": "12500.5"},
    )
    feature_update(
        feature=middle, data={}, custom_fields={"segment": "SMB", "urgent": False, "deal_size": 800}
    )
    product_recompute_scores(product_id=product.pk)
    return high, middle, low
