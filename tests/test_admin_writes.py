"""Admin writes take the app's road: the same services, so the same version, change events,
webhooks and scores as a PM's edit; share links are only revoked, through the share page's
service; and the API's product delete goes through ``product_delete``."""

import threading
import time

import pytest
from django.contrib import admin
from django.db import connection, transaction
from django.urls import reverse

from roadmap.models import (
    ChangeEvent,
    Feature,
    Lane,
    Product,
    RoadmapItem,
    ShareLink,
    WebhookDelivery,
    WebhookEndpoint,
)
from roadmap.planning.services import features as feature_services
from roadmap.planning.services.scoring import product_lock
from tests import factories as f
from tests import test_admin
from tests.test_admin import _post_data, _url

superuser, superuser_client = test_admin.superuser, test_admin.superuser_client


@pytest.fixture
def endpoint(product):
    return WebhookEndpoint.objects.create(
        workspace=product.workspace,
        url="https://hooks.example.com/w",
        events=["feature.created", "feature.updated", "roadmap_item.moved"],
    )


def _trace(feature):
    """What a status edit of ``feature`` left behind: its version, change events, webhooks."""
    return {
        "version": Feature.objects.get(pk=feature.pk).version,
        "events": [
            (e.kind, e.before["status"], e.after["status"], e.actor_id)
            for e in ChangeEvent.objects.filter(feature=feature)
        ],
        "webhooks": [
            (d.event, d.payload["data"]["changed"], d.payload["data"]["version"])
            for d in WebhookDelivery.objects.filter(payload__data__id=feature.pk)
        ],
    }


def test_feature_edited_in_admin_leaves_the_same_trace_as_the_apps_edit(
    superuser_client, superuser, product, endpoint
):
    by_admin, by_app = (f.FeatureFactory(product=product) for _ in range(2))
    for feature in (by_admin, by_app):
        f.RoadmapItemFactory(product=product, feature=feature)
    page = superuser_client.get(_url(Feature, "change", by_admin.pk))

    response = superuser_client.post(
        _url(Feature, "change", by_admin.pk), _post_data(page) | {"status": "planned"}
    )
    feature_services.feature_update(feature=by_app, data={"status": "planned"}, actor=superuser)

    assert response.status_code == 302
    admin_trace = _trace(by_admin)
    assert admin_trace == _trace(by_app)
    assert admin_trace == {
        "version": 2,
        "events": [("status_changed", "idea", "planned", superuser.pk)],
        "webhooks": [("feature.updated", ["status"], 2)],
    }
    assert by_admin.history.latest("history_date").history_user == superuser


def test_feature_added_in_admin_is_scored_and_announced(superuser_client, product, endpoint):
    page = superuser_client.get(_url(Feature, "add"))
    data = {k: v for k, v in _post_data(page).items() if k not in ("personas", "tags")} | {
        "product": str(product.pk),
        "title": "Dark mode",
        "status": "idea",
        "reach": "100",
        "impact": "1.00",
        "confidence": "80",
        "effort": "2",
    }

    response = superuser_client.post(_url(Feature, "add"), data)

    assert response.status_code == 302
    feature = Feature.objects.get(title="Dark mode")
    assert (feature.score, feature.rank, feature.version) == (40.0, 1, 1)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.event, delivery.payload["data"]["id"]) == ("feature.created", feature.pk)


def test_feature_admin_refuses_a_persona_of_another_product(superuser_client, product):
    feature = f.FeatureFactory(product=product)
    elsewhere = f.PersonaFactory(product=f.ProductFactory(workspace=product.workspace))
    page = superuser_client.get(_url(Feature, "change", feature.pk))

    response = superuser_client.post(
        _url(Feature, "change", feature.pk), _post_data(page) | {"personas": [str(elsewhere.pk)]}
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "personas": [f"“{elsewhere}” belongs to another product."]
    }
    assert list(feature.personas.all()) == []
    assert Feature.objects.get(pk=feature.pk).version == 1


def test_features_deleted_in_admin_close_the_gap_in_the_ranking(superuser_client, product):
    first, second, third = (
        feature_services.feature_create(product=product, title=t, reach=r)
        for t, r in (("A", 300), ("B", 200), ("C", 100))
    )

    response = superuser_client.post(
        _url(Feature, "changelist"),
        {
            "action": "delete_selected",
            "post": "yes",
            admin.helpers.ACTION_CHECKBOX_NAME: [first.pk],
        },
    )

    assert response.status_code == 302
    assert list(Feature.objects.order_by("rank").values_list("title", "rank")) == [
        ("B", 1),
        ("C", 2),
    ]


def test_roadmap_item_moved_in_admin_records_the_move_and_sends_its_webhook(
    superuser_client, superuser, product, endpoint
):
    item = f.RoadmapItemFactory(product=product, horizon="later")
    page = superuser_client.get(_url(RoadmapItem, "change", item.pk))

    response = superuser_client.post(
        _url(RoadmapItem, "change", item.pk), _post_data(page) | {"horizon": "now"}
    )

    assert response.status_code == 302
    event = ChangeEvent.objects.get(item=item)
    assert (event.kind, event.actor) == ("moved", superuser)
    delivery = WebhookDelivery.objects.get()
    assert delivery.event == "roadmap_item.moved"
    assert delivery.payload["data"]["to"]["horizon"] == "now"


def test_roadmap_item_deleted_in_admin_is_recorded_as_removed(superuser_client, product):
    item = f.RoadmapItemFactory(product=product)

    response = superuser_client.post(_url(RoadmapItem, "delete", item.pk), {"post": "yes"})

    assert response.status_code == 302
    assert not RoadmapItem.objects.exists()
    assert list(ChangeEvent.objects.values_list("kind", "feature")) == [
        ("item_removed", item.feature_id)
    ]


def test_lane_deleted_in_admin_records_that_its_items_left_it(superuser_client, product):
    lane = f.LaneFactory(product=product)
    item = f.RoadmapItemFactory(product=product, lane=lane)

    response = superuser_client.post(_url(Lane, "delete", lane.pk), {"post": "yes"})

    assert response.status_code == 302
    item.refresh_from_db()
    assert item.lane is None
    assert ChangeEvent.objects.filter(item=item).count() == 1


def test_share_link_revoked_in_admin_is_revoked_as_the_share_page_does(
    superuser_client, client, admin_user, product
):
    by_admin, by_page = (f.ShareLinkFactory(product=product) for _ in range(2))
    made = ShareLink.objects.get(pk=by_admin.pk).updated_at
    client.force_login(admin_user)

    response = superuser_client.post(
        _url(ShareLink, "changelist"),
        {"action": "revoke", admin.helpers.ACTION_CHECKBOX_NAME: [by_admin.pk]},
    )
    client.post(reverse("sharing:revoke", args=[product.slug, by_page.pk]))

    assert response.status_code == 302
    revoked = {link.pk: link for link in ShareLink.objects.all()}
    for link in revoked.values():
        assert link.revoked_at is not None
        assert link.updated_at >= link.revoked_at
    assert revoked[by_admin.pk].updated_at > made
    assert not ShareLink.objects.usable().exists()


def test_share_links_cannot_be_added_edited_or_deleted_in_admin(superuser_client, product):
    link = f.ShareLinkFactory(product=product, label="Board")

    add = superuser_client.get(_url(ShareLink, "add"))
    edit = superuser_client.post(
        _url(ShareLink, "change", link.pk),
        {"product": product.pk, "label": "Renamed", "audience": "investors"},
    )
    delete = superuser_client.post(_url(ShareLink, "delete", link.pk), {"post": "yes"})

    assert (add.status_code, edit.status_code, delete.status_code) == (403, 403, 403)
    link = ShareLink.objects.get(pk=link.pk)
    assert (link.label, link.audience) == ("Board", "customers")


def test_product_admin_refuses_a_reserved_slug(superuser_client, product):
    page = superuser_client.get(_url(Product, "change", product.pk))

    response = superuser_client.post(
        _url(Product, "change", product.pk), _post_data(page) | {"slug": "new"}
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "slug": ["“new” is reserved by Waymark; choose another slug."]
    }
    assert Product.objects.get(pk=product.pk).slug == product.slug


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_api_product_delete_waits_for_a_recompute_holding_the_product(admin_user, workspace):
    """A recompute takes the product's lock, then writes its features. A delete that took the
    features' rows first would deadlock with it; ``product_delete`` waits for the lock."""
    from tests.roadmap.api.conftest import _client_with

    product = f.ProductFactory(workspace=workspace)
    f.FeatureFactory(product=product)
    api = _client_with(admin_user, workspace, "write")
    locked, outcome = threading.Event(), {}

    def recompute():
        try:
            with transaction.atomic():
                product_lock(product_id=product.pk)
                locked.set()
                time.sleep(1.5)  # the delete starts meanwhile
                outcome["scored"] = Feature.objects.filter(product=product).update(score=1)
        except Exception as exc:  # a deadlock's victim
            outcome["scored"] = repr(exc)
        finally:
            connection.close()

    def delete():
        try:
            locked.wait(5)
            outcome["deleted"] = api.delete(f"/api/v1/products/{product.slug}/").status_code
        except Exception as exc:
            outcome["deleted"] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=recompute), threading.Thread(target=delete)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert outcome == {"scored": 1, "deleted": 204}
    assert not Product.objects.filter(pk=product.pk).exists()
    assert not Feature.objects.exists()
