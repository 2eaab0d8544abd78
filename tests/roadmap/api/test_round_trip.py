"""Every resource takes back what it gives: GET a row, send the very same body with PATCH (and PUT
where a resource has it) and the answer is 200 with nothing changed, not even ``updated_at`` or
the ETag. The resources are read from the router, so a new one is covered at once (and fails
here until ``one_of_everything`` gives it a row)."""

import datetime
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from accounts.tokens import api_token_issue
from roadmap.api.urls import router
from roadmap.models import (
    Customer,
    CustomerDomain,
    Experiment,
    Feature,
    WebhookDelivery,
    WebhookEndpoint,
)
from roadmap.planning.services.scoring import product_recompute_scores
from tests import factories as f

RESOURCES = [prefix for prefix, _viewset, _basename in router.registry]
VIEWSETS = {prefix: viewset for prefix, viewset, _basename in router.registry}
READ_ONLY_MESSAGE = "Read-only: leave it out, or send it back as it was read."


@pytest.fixture
def admin_api(admin_user, workspace):
    """An admin's write token: every resource, webhooks and the launch template included."""
    _, raw = api_token_issue(user=admin_user, workspace=workspace, name="round trip", scope="write")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def one_of_everything(workspace, admin_user):
    """A row of every resource, with its optional fields, links and decimals filled in."""
    product = f.ProductFactory(workspace=workspace, description="All of it")
    persona = f.PersonaFactory(product=product, goals="Ship", pains="Paperwork")
    feature = f.FeatureFactory(
        product=product,
        owner=admin_user,
        reach=3,
        impact=Decimal("0.50"),
        confidence=80,
        effort=Decimal("2.50"),
        expected_revenue=Decimal("1234.50"),
        cost=Decimal("99.99"),
        moscow="must",
        kano="delighter",
        market_position="differentiator",
        impact_ice=7,
        business_value=5,
    )
    feature.tags.add(f.TagFactory(product=product, name="mobile"))
    feature.personas.add(persona)
    insight = f.InsightFactory(product=product, persona=persona, importance=3)
    insight.features.add(feature)
    customer = Customer.objects.create(
        product=product, name="Acme", segment="Enterprise", persona=persona, annual_revenue=1200
    )
    CustomerDomain.objects.create(customer=customer, product=product, domain="acme.example")
    experiment = Experiment.objects.create(
        product=product,
        hypothesis="Admins want SSO",
        method="fake_door",
        audience="Trial admins",
        result="31% clicked",
        decision="persevere",
        started_on=datetime.date(2027, 1, 4),
        ended_on=datetime.date(2027, 1, 18),
    )
    experiment.features.add(feature)
    objective = f.ObjectiveFactory(product=product, due=datetime.date(2027, 3, 31))
    objective.features.add(feature)
    release = f.ReleaseFactory(product=product, target_date=datetime.date(2027, 6, 30))
    lane = f.LaneFactory(product=product, position=2)
    f.RoadmapItemFactory(
        product=product,
        feature=feature,
        lane=lane,
        release=release,
        start_date=datetime.date(2027, 1, 4),
        end_date=datetime.date(2027, 2, 26),
        visibility="external",
        external_title="Offline mode",
    )
    answer = f.PositioningAnswerFactory(positioning=f.PositioningFactory(product=product))
    answer.insights.add(insight)
    answer.personas.add(persona)
    competitor = f.CompetitorFactory(product=product, website="https://example.com/")
    f.ComparisonFactory(competitor=competitor, feature=feature, note="Slower")
    f.MarketSizeFactory(product=product, value=Decimal("1500000.50"))
    f.RevenueModelFactory(product=product, currency="EUR", conversion_rate=Decimal("2.50"))
    f.PricePlanFactory(product=product, persona=persona, conversion_rate=Decimal("1.25"))
    f.LaunchTemplateTaskFactory(workspace=workspace, days_before_release=14)
    f.LaunchTaskFactory(release=release, owner=admin_user, due_on=datetime.date(2027, 6, 1))
    endpoint = WebhookEndpoint.objects.create(
        workspace=workspace, url="https://example.com/hook", events=["feature.created"]
    )
    WebhookDelivery.objects.create(
        endpoint=endpoint, event="feature.created", payload={"id": feature.pk}
    )
    product_recompute_scores(product_id=product.pk)
    return product


def _detail_url(prefix: str, row: dict) -> str:
    lookup = VIEWSETS[prefix].lookup_field
    return f"/api/v1/{prefix}/{row['id' if lookup == 'pk' else lookup]}/"


def _writes(prefix: str) -> list[str]:
    viewset = VIEWSETS[prefix]
    allowed = set(viewset.http_method_names)
    return [
        method
        for method, action in (("patch", "partial_update"), ("put", "update"))
        if method in allowed and hasattr(viewset, action)
    ]


@pytest.mark.parametrize("prefix", RESOURCES)
def test_a_get_body_sent_back_is_accepted_and_changes_nothing(admin_api, one_of_everything, prefix):
    # given: a row as the API shows it
    listed = admin_api.get(f"/api/v1/{prefix}/")
    assert listed.status_code == 200, listed.json()
    assert listed.json()["results"], f"one_of_everything has no row of {prefix}: give it one"
    url = _detail_url(prefix, listed.json()["results"][0])
    read = admin_api.get(url)
    assert read.status_code == 200
    body, etag = read.json(), read["ETag"]

    for method in _writes(prefix):
        # when: the same body goes back
        written = getattr(admin_api, method)(url, body, format="json")

        # then: accepted, and nothing moved (not updated_at, not the version, not the ETag)
        assert written.status_code == 200, (method, written.json())
        assert written.json() == body
        again = admin_api.get(url)
        assert again.json() == body
        assert admin_api.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_every_resource_is_written_back_somehow():
    writable = [prefix for prefix in RESOURCES if _writes(prefix)]

    # Only the delivery log is read-only; everything else takes its own GET body back.
    assert sorted(set(RESOURCES) - set(writable)) == ["webhook-deliveries"]


def test_a_changed_read_only_value_is_refused_and_nothing_is_stored(admin_api, one_of_everything):
    feature = Feature.objects.get(product=one_of_everything)
    url = f"/api/v1/features/{feature.pk}/"
    body = admin_api.get(url).json()
    before = Feature.objects.values().get(pk=feature.pk)

    response = admin_api.patch(
        url,
        {**body, "title": "Renamed", "rank": 7, "updated_at": "2020-01-01T00:00:00Z"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"rank": [READ_ONLY_MESSAGE], "updated_at": [READ_ONLY_MESSAGE]}
    assert Feature.objects.values().get(pk=feature.pk) == before


def test_an_instant_written_another_way_is_the_same_value(admin_api, one_of_everything):
    feature = Feature.objects.get(product=one_of_everything)
    url = f"/api/v1/features/{feature.pk}/"
    body = admin_api.get(url).json()
    assert body["updated_at"].endswith("Z")

    response = admin_api.patch(
        url,
        {**body, "title": "Renamed", "updated_at": body["updated_at"][:-1] + "+00:00"},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["title"] == "Renamed"


def test_a_stale_body_sent_back_is_a_409_not_a_400(admin_api, one_of_everything):
    feature = Feature.objects.get(product=one_of_everything)
    url = f"/api/v1/features/{feature.pk}/"
    stale = admin_api.get(url).json()
    admin_api.patch(url, {"title": "Someone else's", "reach": 30}, format="json")

    response = admin_api.patch(url, {**stale, "title": "Mine"}, format="json")

    assert response.status_code == 409, response.json()
    assert response.json()["current_version"] == stale["version"] + 1
    assert Feature.objects.get(pk=feature.pk).title == "Someone else's"


@pytest.mark.parametrize(
    ("sent", "stored", "shown"),
    [
        (0.25, Decimal("0.25"), 0.25),
        (0.5, Decimal("0.50"), 0.5),
        (1, Decimal("1.00"), 1.0),
        (2.0, Decimal("2.00"), 2.0),
        (3, Decimal("3.00"), 3.0),
        ("2.00", Decimal("2.00"), 2.0),
        (None, None, None),
    ],
)
def test_impact_is_written_as_the_number_it_is_read_as(write_api, product, sent, stored, shown):
    feature = f.FeatureFactory(product=product)

    response = write_api.patch(f"/api/v1/features/{feature.pk}/", {"impact": sent}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["impact"] == shown
    assert Feature.objects.get(pk=feature.pk).impact == stored


@pytest.mark.parametrize(
    ("sent", "message"),
    [
        (4, "Impact must be one of 0.25, 0.5, 1, 2 or 3."),
        (0.3, "Impact must be one of 0.25, 0.5, 1, 2 or 3."),
        ("high", "Impact must be a number: 0.25, 0.5, 1, 2 or 3."),
        (True, "Impact must be a number: 0.25, 0.5, 1, 2 or 3."),
        ([2], "Impact must be a number: 0.25, 0.5, 1, 2 or 3."),
        ("NaN", "Impact must be a number: 0.25, 0.5, 1, 2 or 3."),
    ],
)
def test_off_scale_impact_is_a_400_naming_the_scale(write_api, product, sent, message):
    feature = f.FeatureFactory(product=product, impact=Decimal("1.00"))

    response = write_api.patch(f"/api/v1/features/{feature.pk}/", {"impact": sent}, format="json")

    assert response.status_code == 400
    assert response.json() == {"impact": [message]}
    assert Feature.objects.get(pk=feature.pk).impact == Decimal("1.00")


def test_the_schema_gives_impact_one_type_for_reading_and_writing(api):
    schemas = api.get("/api/v1/schema/?format=json").json()["components"]["schemas"]

    for name in ("Feature", "FeatureRequest", "PatchedFeatureRequest"):
        impact = schemas[name]["properties"]["impact"]
        assert impact["type"] == "number" and "enum" not in impact, name
    assert "ImpactEnum" not in schemas


def test_changing_only_links_still_moves_updated_at(admin_api, one_of_everything):
    objective = one_of_everything.objectives.get()
    url = f"/api/v1/objectives/{objective.pk}/"
    before = admin_api.get(url).json()

    unlinked = admin_api.patch(url, {"features": []}, format="json")

    assert unlinked.status_code == 200
    assert unlinked.json()["features"] == []
    assert unlinked.json()["updated_at"] > before["updated_at"]
