"""Fuzz every API operation from its own OpenAPI schema: never a 5xx, and every answer (success
or error) conforms to the schema. Runs in-process against the real app and the test database."""

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import Role
from accounts.tokens import api_token_issue
from config.wsgi import application
from tests import factories as f

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def _keep_test_connection():
    """The real WSGI handler closes DB connections after each request; inside a test's
    transaction that would drop the test data. Django's test client disconnects the same."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_headers(db, _keep_test_connection):
    membership = f.MembershipFactory(role=Role.ADMIN)
    product = f.ProductFactory(workspace=membership.workspace, slug="fuzz")
    feature = f.FeatureFactory(product=product)
    f.RoadmapItemFactory(product=product, feature=feature)
    f.PersonaFactory(product=product)
    f.InsightFactory(product=product).features.add(feature)
    _, raw = api_token_issue(
        user=membership.user, workspace=membership.workspace, name="fuzz", scope="write"
    )
    return {"Authorization": f"Bearer {raw}"}


@schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
def test_api_conforms_to_its_schema(case, fuzz_headers):
    case.call_and_validate(headers=fuzz_headers, checks=CHECKS)
