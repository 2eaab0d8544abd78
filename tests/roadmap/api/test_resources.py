"""Create, read, update and delete every resource, with the same validation as the browser."""

import pytest
from django.core.management import call_command

from roadmap.models import Feature, Insight, RoadmapItem
from tests import factories as f


def test_create_feature_scores_it_at_once(write_api, product, editor):
    persona = f.PersonaFactory(product=product)

    response = write_api.post(
        "/api/v1/features/",
        {
            "product": product.slug,
            "title": "SSO",
            "reach": 500,
            "impact": "2.00",
            "confidence": 50,
            "effort": "5",
            "tags": ["Security", "enterprise"],
            "personas": [persona.pk],
            "owner": editor.email,
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["score"] == 100.0
    assert body["rank"] == 1
    assert body["tags"] == ["enterprise", "security"]
    assert body["personas"] == [persona.pk]
    assert body["owner"] == editor.email
    assert body["version"] == 1


def test_out_of_range_inputs_are_400_with_field_messages_and_nothing_changes(write_api, product):
    feature = f.FeatureFactory(product=product, confidence=50)
    before = Feature.objects.values().get(pk=feature.pk)

    response = write_api.patch(
        f"/api/v1/features/{feature.pk}/",
        {"confidence": 101, "effort": "0", "ease": 11, "title": "Changed"},
        format="json",
    )
    off_scale = write_api.patch(f"/api/v1/features/{feature.pk}/", {"impact": "4"}, format="json")

    assert response.status_code == 400
    errors = response.json()
    assert set(errors) == {"confidence", "effort", "ease"}
    assert off_scale.status_code == 400 and set(off_scale.json()) == {"impact"}
    assert errors["confidence"] == ["Confidence is a percentage between 0 and 100."]
    assert errors["effort"] == ["Effort must be greater than 0."]
    assert errors["ease"] == ["Ease must be between 1 and 10."]
    assert Feature.objects.values().get(pk=feature.pk) == before


def test_unknown_fields_and_changed_read_only_ones_are_rejected_not_dropped(write_api, product):
    feature = f.FeatureFactory(product=product, title="Before")
    url = f"/api/v1/features/{feature.pk}/"
    read = write_api.get(url).json()
    before = Feature.objects.values().get(pk=feature.pk)

    response = write_api.patch(url, {"titel": "typo", "score": 5, "title": "After"}, format="json")
    moved = write_api.patch(url, {"product": f.ProductFactory().slug}, format="json")
    after_refusals = Feature.objects.values().get(pk=feature.pk)
    echoed = write_api.patch(
        url, {"score": read["score"], "rank": read["rank"], "title": "After"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "score": ["Read-only: leave it out, or send it back as it was read."],
        "titel": ["Unknown field."],
    }
    assert moved.status_code == 400
    assert moved.json() == {"product": ["Read-only: leave it out, or send it back as it was read."]}
    assert after_refusals == before
    assert echoed.status_code == 200, echoed.json()
    assert echoed.json()["title"] == "After"


def test_malformed_json_is_400(write_api, product):
    feature = f.FeatureFactory(product=product)

    response = write_api.generic(
        "PATCH", f"/api/v1/features/{feature.pk}/", "{not json", content_type="application/json"
    )

    assert response.status_code == 400


def test_stale_version_is_409_and_keeps_the_other_save(write_api, product):
    feature = f.FeatureFactory(product=product, title="Original")
    url = f"/api/v1/features/{feature.pk}/"
    write_api.patch(url, {"title": "First", "version": 1}, format="json")

    response = write_api.patch(url, {"title": "Second", "version": 1}, format="json")

    assert response.status_code == 409
    assert response.json()["current_version"] == 2
    assert Feature.objects.get(pk=feature.pk).title == "First"


def test_owner_must_be_a_member(write_api, product, outsider):
    feature = f.FeatureFactory(product=product)

    response = write_api.patch(
        f"/api/v1/features/{feature.pk}/", {"owner": outsider.email}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"owner": ["The owner must be a member of this workspace."]}


def test_features_list_filters_orders_and_paginates(
    read_api, product, django_assert_max_num_queries
):
    tagged = f.FeatureFactory(product=product, title="Tagged", reach=5000)
    call_command("recompute_scores")
    tag = f.TagFactory(product=product, name="mobile")
    tagged.tags.add(tag)
    f.FeatureFactory.create_batch(30, product=product)

    with django_assert_max_num_queries(10):
        page = read_api.get("/api/v1/features/?page_size=10&ordering=-updated_at").json()
    by_tag = read_api.get(f"/api/v1/features/?product={product.slug}&tag=mobile").json()
    too_big = read_api.get("/api/v1/features/?page_size=5000").json()

    assert page["count"] == 31 and len(page["results"]) == 10 and page["next"]
    assert [r["title"] for r in by_tag["results"]] == ["Tagged"]
    assert len(too_big["results"]) == 31  # capped at 200, which 31 is under


def test_updated_since_gives_only_changed_rows(read_api, product):
    from datetime import timedelta

    from django.utils import timezone

    old = f.FeatureFactory(product=product)
    Feature.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(days=2))
    new = f.FeatureFactory(product=product)
    since = (timezone.now() - timedelta(days=1)).isoformat()

    response = read_api.get("/api/v1/features/", {"updated_since": since})

    assert [r["id"] for r in response.json()["results"]] == [new.pk]


def test_delete_feature_reranks_the_rest(write_api, product):
    a = f.FeatureFactory(product=product, reach=1000)
    b = f.FeatureFactory(product=product, reach=10)
    call_command("recompute_scores")

    assert write_api.delete(f"/api/v1/features/{a.pk}/").status_code == 204

    assert Feature.objects.get(pk=b.pk).rank == 1


@pytest.mark.parametrize(
    ("path", "payload", "patch"),
    [
        (
            "personas",
            {"name": "Ops lead", "segment": "Enterprise", "segment_size": 40},
            {"goals": "Sleep"},
        ),
        (
            "objectives",
            {"name": "Activation", "metric": "activated teams", "target": "60"},
            {"current": "30.00"},
        ),
        ("releases", {"name": "2027.2", "target_date": "2027-06-30"}, {"status": "in_progress"}),
        ("lanes", {"name": "Mobile"}, {"position": 3}),
        (
            "roadmap-items",
            {"title": "Platform theme", "horizon": "later"},
            {"visibility": "external"},
        ),
    ],
)
def test_crud_for_each_record(write_api, product, path, payload, patch):
    created = write_api.post(
        f"/api/v1/{path}/", {"product": product.slug, **payload}, format="json"
    )
    assert created.status_code == 201, created.json()
    url = f"/api/v1/{path}/{created.json()['id']}/"

    changed = write_api.patch(url, patch, format="json")
    listed = write_api.get(f"/api/v1/{path}/?product={product.slug}")
    deleted = write_api.delete(url)

    assert changed.status_code == 200, changed.json()
    assert all(changed.json()[k] == v for k, v in patch.items())
    assert listed.json()["count"] == 1
    assert deleted.status_code == 204
    assert write_api.get(url).status_code == 404


def test_insight_links_move_an_evidence_driven_score(
    write_api, product, django_capture_on_commit_callbacks
):
    product.reach_source = "insights"
    product.save()
    feature = f.FeatureFactory(product=product, reach=None, confidence=100, effort="1")

    with django_capture_on_commit_callbacks(execute=True):
        response = write_api.post(
            "/api/v1/insights/",
            {
                "product": product.slug,
                "source": "call",
                "customer": "Acme",
                "text": "Need exports",
                "features": [feature.pk],
            },
            format="json",
        )

    assert response.status_code == 201, response.json()
    assert Insight.objects.get().created_by is not None
    assert Feature.objects.get(pk=feature.pk).score == 1.0


def test_roadmap_item_validation_names_the_field(write_api, product):
    foreign_release = f.ReleaseFactory()
    mine = f.ReleaseFactory(product=product)
    other_product_release = f.ReleaseFactory(product=f.ProductFactory(workspace=product.workspace))

    dates = write_api.post(
        "/api/v1/roadmap-items/",
        {
            "product": product.slug,
            "title": "T",
            "start_date": "2027-02-01",
            "end_date": "2027-01-01",
        },
        format="json",
    )
    empty = write_api.post("/api/v1/roadmap-items/", {"product": product.slug}, format="json")
    foreign = write_api.post(
        "/api/v1/roadmap-items/",
        {"product": product.slug, "title": "T", "release": foreign_release.pk},
        format="json",
    )
    sibling = write_api.post(
        "/api/v1/roadmap-items/",
        {"product": product.slug, "title": "T", "release": other_product_release.pk},
        format="json",
    )

    assert dates.status_code == 400 and "end_date" in dates.json()
    assert empty.status_code == 400 and "title" in empty.json()
    assert foreign.status_code == 400 and "release" in foreign.json()
    assert sibling.status_code == 400
    assert sibling.json() == {"release": ["This release belongs to another product."]}
    assert RoadmapItem.objects.count() == 0
    assert mine.pk


def test_move_reorders_both_columns(write_api, product):
    now = [f.RoadmapItemFactory(product=product, horizon="now", position=i) for i in range(3)]
    moving = f.RoadmapItemFactory(product=product, horizon="next", position=0)
    stays = f.RoadmapItemFactory(product=product, horizon="next", position=1)

    response = write_api.post(
        f"/api/v1/roadmap-items/{moving.pk}/move/", {"horizon": "now", "position": 1}, format="json"
    )

    assert response.status_code == 200, response.json()
    order = list(
        RoadmapItem.objects.filter(product=product, horizon="now")
        .order_by("position")
        .values_list("pk", flat=True)
    )
    assert order == [now[0].pk, moving.pk, now[1].pk, now[2].pk]
    assert RoadmapItem.objects.get(pk=stays.pk).position == 0
    bad = write_api.post(
        f"/api/v1/roadmap-items/{moving.pk}/move/",
        {"horizon": "soon", "position": -1},
        format="json",
    )
    assert bad.status_code == 400 and set(bad.json()) == {"horizon", "position"}


def test_changing_the_framework_over_the_api_recomputes(
    write_api, product, django_capture_on_commit_callbacks
):
    feature = f.FeatureFactory(
        product=product, business_value=8, time_criticality=5, risk_reduction=3, job_size=2
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = write_api.patch(
            f"/api/v1/products/{product.slug}/", {"scoring_framework": "wsjf"}, format="json"
        )

    assert response.status_code == 200
    assert Feature.objects.get(pk=feature.pk).score == 8.0


def test_product_create_and_admin_only_delete(write_api, product, admin_user, workspace):
    from rest_framework.test import APIClient

    from accounts.tokens import api_token_issue

    created = write_api.post("/api/v1/products/", {"name": "New", "slug": "new-one"}, format="json")
    duplicate = write_api.post(
        "/api/v1/products/", {"name": "Dup", "slug": "new-one"}, format="json"
    )
    editor_delete = write_api.delete("/api/v1/products/new-one/")
    _, raw = api_token_issue(user=admin_user, workspace=workspace, name="a", scope="write")
    admin_api = APIClient()
    admin_api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert created.status_code == 201, created.json()
    assert created.json()["workspace"] == workspace.slug
    assert duplicate.status_code == 400 and "slug" in duplicate.json()
    assert editor_delete.status_code == 403
    assert admin_api.delete("/api/v1/products/new-one/").status_code == 204


@pytest.mark.parametrize(
    "since", ["0017-03-21T22:28:14+23:02", "0001-01-01T00:00:00+05:00", "nope"]
)
def test_odd_updated_since_is_a_400_or_normalised_never_a_500(read_api, since):
    response = read_api.get("/api/v1/features/", {"updated_since": since})

    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert set(response.json()) == {"updated_since"}


def test_owner_from_another_of_my_workspaces_is_refused_by_the_model_rule(
    api, editor, product, other_workspace, outsider
):
    # Given an editor who is also a member of another workspace, where the outsider is a member:
    # through a session the outsider's address is among the people the API names, so only the
    # feature's own rule (Feature.clean, via the service) can refuse them.
    f.MembershipFactory(workspace=other_workspace, user=editor, role="editor")
    feature = f.FeatureFactory(product=product, title="Kept")
    api.force_login(editor)
    refused = {"owner": ["The owner must be a member of this workspace."]}

    # When the outsider is made the owner of a new feature and of an existing one
    created = api.post(
        "/api/v1/features/",
        {"product": product.slug, "title": "New", "owner": outsider.email},
        format="json",
    )
    edited = api.patch(
        f"/api/v1/features/{feature.pk}/",
        {"owner": outsider.email, "title": "Changed"},
        format="json",
    )

    # Then both are a 400 naming the owner, and nothing is stored
    assert (created.status_code, created.json()) == (400, refused)
    assert (edited.status_code, edited.json()) == (400, refused)
    assert list(Feature.objects.filter(product=product).values_list("title", "owner")) == [
        ("Kept", None)
    ]
