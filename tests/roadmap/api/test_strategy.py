"""The strategy and launch API: every resource and operation, scoped, with the services' rules."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from roadmap.models import (
    ChangeEvent,
    ChangeKind,
    Comparison,
    Feature,
    LaunchTask,
    LaunchTemplateTask,
    Positioning,
    PositioningAnswer,
    Release,
    RevenueModel,
)
from tests import factories as f
from tests.roadmap.api.conftest import _client_with

TODAY = timezone.localdate()


@pytest.fixture
def admin_api(admin_user, workspace):
    return _client_with(admin_user, workspace, "write")


# --- Positioning ---------------------------------------------------------------------------------


def test_positioning_answers_cite_insights_and_personas(write_api, read_api, product, editor):
    insight = f.InsightFactory(product=product)
    persona = f.PersonaFactory(product=product)

    created = write_api.post(
        "/api/v1/positioning-answers/",
        {
            "product": product.slug,
            "question": "problem",
            "text": "Paperwork.",
            "insights": [insight.pk],
            "personas": [persona.pk],
        },
        format="json",
    )
    answer_id = created.json()["id"]
    edited = write_api.patch(
        f"/api/v1/positioning-answers/{answer_id}/", {"text": "Less paperwork."}, format="json"
    )
    read = read_api.get(f"/api/v1/positioning-answers/{answer_id}/")

    assert created.status_code == 201, created.json()
    assert edited.status_code == 200
    assert read.json() | {"created_at": None, "updated_at": None} == {
        "id": answer_id,
        "product": product.slug,
        "question": "problem",
        "question_label": "What is the main problem it solves?",
        "text": "Less paperwork.",
        "insights": [insight.pk],
        "personas": [persona.pk],
        "updated_by": editor.email,
        "created_at": None,
        "updated_at": None,
    }
    assert PositioningAnswer.history.count() == 2


def test_answer_refusals(write_api, read_api, product):
    stranger = f.InsightFactory()
    f.PositioningAnswerFactory(
        positioning=f.PositioningFactory(product=product), question="problem"
    )

    duplicate = write_api.post(
        "/api/v1/positioning-answers/",
        {"product": product.slug, "question": "problem", "text": "Again"},
        format="json",
    )
    foreign = write_api.post(
        "/api/v1/positioning-answers/",
        {"product": product.slug, "question": "standout", "insights": [stranger.pk]},
        format="json",
    )
    unknown = write_api.post(
        "/api/v1/positioning-answers/",
        {"product": product.slug, "question": "vision"},
        format="json",
    )
    read_only = read_api.post(
        "/api/v1/positioning-answers/",
        {"product": product.slug, "question": "standout"},
        format="json",
    )

    assert duplicate.status_code == 400 and "question" in duplicate.json()
    assert foreign.status_code == 400 and "insights" in foreign.json()
    assert unknown.status_code == 400 and "question" in unknown.json()
    assert read_only.status_code == 403
    assert PositioningAnswer.objects.count() == 1


def test_positioning_audiences(write_api, viewer_write_api, product):
    created = write_api.post(
        "/api/v1/positionings/",
        {"product": product.slug, "show_to_investors": True},
        format="json",
    )
    again = write_api.post("/api/v1/positionings/", {"product": product.slug}, format="json")
    pk = created.json()["id"]
    by_viewer = viewer_write_api.patch(
        f"/api/v1/positionings/{pk}/", {"show_to_executives": True}, format="json"
    )
    patched = write_api.patch(
        f"/api/v1/positionings/{pk}/", {"show_to_executives": True}, format="json"
    )

    assert created.status_code == 201 and again.status_code == 400
    assert by_viewer.status_code == 403
    assert patched.status_code == 200
    assert (patched.json()["show_to_investors"], patched.json()["show_to_executives"]) == (
        True,
        True,
    )
    assert patched.json()["answers"] == []
    # Created (hidden), shown to investors, then to executives.
    assert Positioning.objects.get().history.count() == 3


def test_positionings_list_queries_do_not_grow(write_api, workspace, django_assert_max_num_queries):
    def add():
        product = f.ProductFactory(workspace=workspace)
        positioning = f.PositioningFactory(product=product)
        answer = f.PositioningAnswerFactory(positioning=positioning)
        answer.insights.add(f.InsightFactory(product=product))

    add()
    with django_assert_max_num_queries(20) as few:
        write_api.get("/api/v1/positionings/")
    for _ in range(5):
        add()
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = write_api.get("/api/v1/positionings/")
    assert response.json()["count"] == 6


# --- Market --------------------------------------------------------------------------------------


def test_competitor_crud_and_scope(write_api, outsider_api, product):
    created = write_api.post(
        "/api/v1/competitors/",
        {"product": product.slug, "name": "Acme", "website": "https://acme.example"},
        format="json",
    )
    pk = created.json()["id"]
    duplicate = write_api.post(
        "/api/v1/competitors/", {"product": product.slug, "name": "Acme"}, format="json"
    )
    patched = write_api.patch(f"/api/v1/competitors/{pk}/", {"weaknesses": "Slow"}, format="json")
    hidden = outsider_api.get(f"/api/v1/competitors/{pk}/")
    deleted = write_api.delete(f"/api/v1/competitors/{pk}/")

    assert created.status_code == 201
    assert duplicate.status_code == 400
    assert patched.status_code == 200 and patched.json()["weaknesses"] == "Slow"
    assert hidden.status_code == 404
    assert deleted.status_code == 204


def test_comparison_cells(write_api, product):
    competitor = f.CompetitorFactory(product=product)
    feature = f.FeatureFactory(product=product)
    lane = f.LaneFactory(product=product)
    stranger = f.FeatureFactory()

    created = write_api.post(
        "/api/v1/comparisons/",
        {"competitor": competitor.pk, "feature": feature.pk, "status": "has", "note": "v2"},
        format="json",
    )
    again = write_api.post(
        "/api/v1/comparisons/",
        {"competitor": competitor.pk, "feature": feature.pk, "status": "worse"},
        format="json",
    )
    both = write_api.post(
        "/api/v1/comparisons/",
        {"competitor": competitor.pk, "feature": feature.pk, "lane": lane.pk, "status": "has"},
        format="json",
    )
    neither = write_api.post(
        "/api/v1/comparisons/", {"competitor": competitor.pk, "status": "has"}, format="json"
    )
    foreign = write_api.post(
        "/api/v1/comparisons/",
        {"competitor": competitor.pk, "feature": stranger.pk, "status": "has"},
        format="json",
    )
    pk = created.json()["id"]
    patched = write_api.patch(f"/api/v1/comparisons/{pk}/", {"status": "better"}, format="json")
    moved = write_api.patch(f"/api/v1/comparisons/{pk}/", {"lane": lane.pk}, format="json")

    assert created.status_code == 201
    assert (again.status_code, both.status_code, neither.status_code) == (400, 400, 400)
    assert foreign.status_code == 400 and "feature" in foreign.json()
    assert patched.status_code == 200 and patched.json()["note"] == "v2"
    assert moved.status_code == 400
    assert moved.json() == {"lane": ["Read-only: leave it out, or send it back as it was read."]}
    cell = Comparison.objects.get()
    assert (cell.status, cell.feature, cell.lane) == ("better", feature, None)
    assert write_api.delete(f"/api/v1/comparisons/{pk}/").status_code == 204
    assert not Comparison.objects.exists()


def test_feature_market_position_and_its_filters(write_api, product):
    feature = f.FeatureFactory(product=product)
    f.FeatureFactory(product=product, market_position="parity")

    patched = write_api.patch(
        f"/api/v1/features/{feature.pk}/", {"market_position": "differentiator"}, format="json"
    )
    bad = write_api.patch(
        f"/api/v1/features/{feature.pk}/", {"market_position": "unique"}, format="json"
    )
    listed = write_api.get("/api/v1/features/?market_position=differentiator")
    priorities = write_api.get(
        f"/api/v1/products/{product.slug}/priorities/?market_position=parity"
    )

    assert patched.status_code == 200 and patched.json()["market_position"] == "differentiator"
    assert bad.status_code == 400
    assert [row["id"] for row in listed.json()["results"]] == [feature.pk]
    assert [row["market_position"] for row in priorities.json()["results"]] == ["parity"]


def test_market_sizes_revenue_model_and_plans(write_api, product):
    persona = f.PersonaFactory(product=product, segment_size=1000)

    size = write_api.post(
        "/api/v1/market-sizes/",
        {
            "product": product.slug,
            "kind": "sam",
            "value": "2500000.00",
            "source": "Survey",
            "as_of": "2026-01-31",
        },
        format="json",
    )
    negative = write_api.post(
        "/api/v1/market-sizes/",
        {
            "product": product.slug,
            "kind": "sam",
            "value": "-1",
            "source": "x",
            "as_of": "2026-01-31",
        },
        format="json",
    )
    model = write_api.post(
        "/api/v1/revenue-models/",
        {"product": product.slug, "currency": "usd", "conversion_rate": "5"},
        format="json",
    )
    second_model = write_api.post(
        "/api/v1/revenue-models/", {"product": product.slug}, format="json"
    )
    plan = write_api.post(
        "/api/v1/price-plans/",
        {"product": product.slug, "name": "Team", "yearly_price": "1200", "persona": persona.pk},
        format="json",
    )
    case = write_api.get(f"/api/v1/products/{product.slug}/business-case/")

    assert size.status_code == 201 and negative.status_code == 400
    assert negative.json() == {"value": ["A market size cannot be negative."]}
    assert model.status_code == 201 and model.json()["currency"] == "USD"
    assert second_model.status_code == 400
    assert RevenueModel.objects.count() == 1
    assert plan.status_code == 201
    body = case.json()
    assert case.status_code == 200
    assert (body["currency"], body["model_saved"], body["plans_revenue"]) == (
        "USD",
        True,
        "60000.00",
    )
    assert body["plans"][0] | {"plan": None} == {
        "plan": None,
        "name": "Team",
        "yearly_price": "1200.00",
        "persona": persona.pk,
        "segment": persona.name,
        "segment_size": 1000,
        "conversion_rate": "5.00",
        "rate_from": "model",
        "customers": "50.00",
        "yearly_revenue": "60000.00",
    }


def test_business_case_by_quarter(read_api, product, outsider_api):
    feature = f.FeatureFactory(
        product=product, expected_revenue=Decimal("900"), cost=Decimal("100")
    )
    f.RoadmapItemFactory(product=product, feature=feature, end_date=datetime.date(2027, 5, 1))

    body = read_api.get(f"/api/v1/products/{product.slug}/business-case/").json()

    assert body["by_quarter"] == [
        {
            "label": "Q2 2027",
            "revenue": "900.00",
            "cost": "100.00",
            "net": "800.00",
            "features": [feature.pk],
            "starts_on": "2027-04-01",
        }
    ]
    assert body["cumulative"] == [
        {"label": "Q2 2027", "revenue": "900.00", "cost": "100.00", "net": "800.00"}
    ]
    assert outsider_api.get(f"/api/v1/products/{product.slug}/business-case/").status_code == 404


# --- Launch --------------------------------------------------------------------------------------


def test_launch_template_admins_write_members_read(
    write_api, admin_api, viewer_write_api, workspace
):
    refused = write_api.post(
        "/api/v1/launch-template-tasks/", {"team": "design", "title": "Mockups"}, format="json"
    )
    created = admin_api.post(
        "/api/v1/launch-template-tasks/",
        {"team": "design", "title": "Mockups", "days_before_release": 20},
        format="json",
    )
    pk = created.json()["id"]
    listed = viewer_write_api.get("/api/v1/launch-template-tasks/")
    patch_by_editor = write_api.patch(
        f"/api/v1/launch-template-tasks/{pk}/", {"title": "x"}, format="json"
    )
    delete_by_editor = write_api.delete(f"/api/v1/launch-template-tasks/{pk}/")

    assert refused.status_code == 403
    assert created.status_code == 201 and created.json()["workspace"] == workspace.slug
    assert listed.status_code == 200 and listed.json()["count"] == 1
    assert patch_by_editor.status_code == 403 and delete_by_editor.status_code == 403
    assert LaunchTemplateTask.objects.get().title == "Mockups"


def test_release_launch_walkthrough(write_api, admin_api, product, workspace, editor):
    f.LaunchTemplateTaskFactory(
        workspace=workspace, team="marketing", title="Blog", days_before_release=5
    )
    release = f.ReleaseFactory(product=product, target_date=TODAY + datetime.timedelta(days=10))
    feature = f.FeatureFactory(product=product, status="planned")
    item = f.RoadmapItemFactory(
        product=product, feature=feature, release=release, visibility="external"
    )
    base = f"/api/v1/releases/{release.pk}"

    checklist = write_api.post(f"{base}/checklist/")
    readiness = write_api.get(f"{base}/readiness/")
    not_ready = write_api.post(f"{base}/ship/", {}, format="json")
    forced_by_editor = write_api.post(f"{base}/ship/", {"force": True}, format="json")
    task_id = checklist.json()["tasks"][0]["id"]
    owned = write_api.patch(
        f"/api/v1/launch-tasks/{task_id}/", {"owner": editor.email}, format="json"
    )
    done = write_api.post(f"/api/v1/launch-tasks/{task_id}/complete/")
    write_api.patch(f"/api/v1/features/{feature.pk}/", {"status": "in_progress"}, format="json")
    ready = write_api.get(f"{base}/readiness/")
    shipped = write_api.post(f"{base}/ship/", {}, format="json")
    again = admin_api.post(f"{base}/ship/", {"force": True}, format="json")

    assert checklist.status_code == 201 and checklist.json()["created"] == 1
    assert checklist.json()["tasks"][0]["due_on"] == str(
        release.target_date - datetime.timedelta(days=5)
    )
    assert readiness.json()["status"] == "not_started"
    assert [b["kind"] for b in readiness.json()["blockers"]] == ["open", "item"]
    assert not_ready.status_code == 400
    assert "is not ready to ship" in not_ready.json()["non_field_errors"][0]
    assert forced_by_editor.status_code == 403
    assert owned.json()["owner"] == editor.email
    assert (
        done.status_code == 200 and done.json()["done"] and done.json()["done_by"] == editor.email
    )
    assert ready.json()["status"] == "ready" and ready.json()["blockers"] == []
    assert shipped.status_code == 200
    assert shipped.json()["shipped"] == [feature.title]
    assert shipped.json()["release"]["status"] == "released"
    assert Feature.objects.get(pk=feature.pk).status == "shipped"
    assert ChangeEvent.objects.filter(item=item, kind=ChangeKind.SHIPPED).count() == 1
    assert again.status_code == 400
    assert Release.objects.get(pk=release.pk).status == "released"


def test_launch_tasks_crud_and_refusals(
    write_api, viewer_write_api, read_api, product, outsider_api
):
    release = f.ReleaseFactory(product=product)
    stranger_release = f.ReleaseFactory()

    created = write_api.post(
        "/api/v1/launch-tasks/",
        {"release": release.pk, "team": "support", "title": "FAQ", "due_on": "2030-01-01"},
        format="json",
    )
    pk = created.json()["id"]
    foreign = write_api.post(
        "/api/v1/launch-tasks/",
        {"release": stranger_release.pk, "team": "support", "title": "x"},
        format="json",
    )
    not_member = write_api.patch(
        f"/api/v1/launch-tasks/{pk}/", {"owner": f.UserFactory().email}, format="json"
    )
    by_viewer = viewer_write_api.post(f"/api/v1/launch-tasks/{pk}/complete/")
    by_read_token = read_api.post(f"/api/v1/launch-tasks/{pk}/complete/")
    hidden = outsider_api.get(f"/api/v1/launch-tasks/{pk}/")
    filtered = write_api.get(f"/api/v1/launch-tasks/?product={product.slug}&done=false")

    assert created.status_code == 201
    assert foreign.status_code == 400 and "release" in foreign.json()
    assert not_member.status_code == 400
    assert not_member.json() == {"owner": ["The owner must be a member of this workspace."]}
    assert (by_viewer.status_code, by_read_token.status_code, hidden.status_code) == (403, 403, 404)
    assert [t["id"] for t in filtered.json()["results"]] == [pk]
    assert LaunchTask.objects.get().done_at is None
    assert write_api.post(f"/api/v1/launch-tasks/{pk}/reopen/").status_code == 200
    assert write_api.delete(f"/api/v1/launch-tasks/{pk}/").status_code == 204


def test_launch_tasks_list_queries_do_not_grow(
    write_api, product, editor, django_assert_max_num_queries
):
    release = f.ReleaseFactory(product=product)
    f.LaunchTaskFactory(release=release, owner=editor, done_by=editor, done_at=timezone.now())
    with django_assert_max_num_queries(20) as few:
        write_api.get("/api/v1/launch-tasks/")
    f.LaunchTaskFactory.create_batch(10, release=release, owner=editor)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert write_api.get("/api/v1/launch-tasks/").json()["count"] == 11


def test_every_strategy_operation_is_in_the_schema(api):
    paths = api.get("/api/v1/schema/?format=json").json()["paths"]

    for path in (
        "/api/v1/positionings/",
        "/api/v1/positioning-answers/{id}/",
        "/api/v1/competitors/",
        "/api/v1/comparisons/{id}/",
        "/api/v1/market-sizes/",
        "/api/v1/revenue-models/{id}/",
        "/api/v1/price-plans/",
        "/api/v1/launch-template-tasks/",
        "/api/v1/launch-tasks/{id}/complete/",
        "/api/v1/releases/{id}/checklist/",
        "/api/v1/releases/{id}/readiness/",
        "/api/v1/releases/{id}/ship/",
        "/api/v1/products/{slug}/business-case/",
    ):
        assert path in paths, path
    ship = paths["/api/v1/releases/{id}/ship/"]["post"]["responses"]
    assert {"200", "400", "403", "404"} <= set(ship)
