"""The one write path of features: every entry point has the same after-effects."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from roadmap.models import ChangeEvent, Feature, WebhookDelivery, WebhookEndpoint
from roadmap.planning.services.features import (
    ConflictError,
    FeatureWrite,
    feature_create,
    feature_update,
    feature_update_inputs,
    features_bulk_update,
    features_write,
    features_write_many,
)
from tests import factories as f

# Inputs under which a RICE score is the reach.
RICE = {"impact": Decimal("1"), "confidence": 100, "effort": Decimal("1")}


@pytest.fixture
def hooked(workspace):
    return WebhookEndpoint.objects.create(
        workspace=workspace,
        url="https://example.com/hook",
        events=["feature.created", "feature.updated"],
    )


def _by_single_edit(feature, actor):
    feature_update(feature=feature, data={"status": "planned"}, expected_version=1, actor=actor)


def _by_bulk_edit(feature, actor):
    features_bulk_update(
        product=feature.product, feature_ids=[feature.pk], status="planned", actor=actor
    )


def _by_import(feature, actor):
    features_write_many(
        product=feature.product,
        writes=[FeatureWrite(fields={"status": "planned"}, feature=feature)],
        actor=actor,
    )


def _after_effects(feature, item):
    """What a status change of a feature on the roadmap left behind, without ids and times."""
    stored = Feature.objects.get(pk=feature.pk)
    history = stored.history.order_by("-history_id")
    deliveries = WebhookDelivery.objects.filter(payload__data__id=feature.pk)
    events = ChangeEvent.objects.filter(item=item)
    return {
        "version": stored.version,
        "history": [(h.history_type, h.status, h.history_user_id) for h in history],
        "events": [
            (e.kind, e.before["status"], e.after["status"], e.actor_id, e.feature_id)
            for e in events
        ],
        "webhooks": [
            (
                d.endpoint_id,
                d.event,
                {k: v for k, v in d.payload["data"].items() if k != "id"},
            )
            for d in deliveries
        ],
    }


@pytest.mark.parametrize("write", [_by_single_edit, _by_bulk_edit, _by_import])
def test_every_entry_point_has_the_same_after_effects(
    product, editor, hooked, write, django_capture_on_commit_callbacks
):
    # given a feature on the roadmap, its creation in the history, and a webhook for edits
    feature = feature_create(product=product, title="Offline mode", reach=10, impact="1")
    feature.history.update(history_user=editor)
    item = f.RoadmapItemFactory(product=product, feature=feature, horizon="now")
    WebhookDelivery.objects.all().delete()
    feature = Feature.objects.get(pk=feature.pk)

    # when its status changes through this entry point
    with django_capture_on_commit_callbacks() as sent:
        write(feature, editor)

    # then the version, the history, the change event and the webhook are the same for all three
    assert _after_effects(feature, item) == {
        "version": 2,
        "history": [("~", "planned", editor.pk), ("+", "idea", editor.pk)],
        "events": [("status_changed", "idea", "planned", editor.pk, feature.pk)],
        "webhooks": [
            (
                hooked.pk,
                "feature.updated",
                {
                    "product": product.slug,
                    "title": "Offline mode",
                    "status": "planned",
                    "score": feature.score,
                    "rank": 1,
                    "version": 2,
                    "changed": ["status"],
                },
            )
        ],
    }
    assert len(sent) == 1  # one delivery enqueued after commit


def test_a_write_that_changes_nothing_leaves_no_trace(
    product, editor, hooked, django_capture_on_commit_callbacks
):
    feature = feature_create(product=product, title="Offline mode", reach=10, tags=["sync"])
    before = Feature.objects.get(pk=feature.pk)
    WebhookDelivery.objects.all().delete()

    with django_capture_on_commit_callbacks() as sent:
        feature_update(feature=before, data={"title": "Offline mode", "reach": 10}, tags=["Sync"])

    after = Feature.objects.get(pk=feature.pk)
    assert (after.version, after.updated_at) == (1, before.updated_at)
    assert after.history.count() == 1
    assert not WebhookDelivery.objects.exists()
    assert sent == []


def test_many_creates_and_updates_are_one_write_all_or_nothing(product, editor):
    # given two stored features, one of them read at an old version
    kept = feature_create(product=product, title="Kept", **RICE, reach=5)
    stale = feature_create(product=product, title="Stale", **RICE, reach=5)
    Feature.objects.filter(pk=stale.pk).update(version=2)

    # when a write creates one and updates both, then the stale one refuses all of it
    with pytest.raises(ConflictError):
        features_write(
            product=product,
            writes=[
                FeatureWrite(fields={"title": "New"}),
                FeatureWrite(fields={"reach": 50}, feature=kept),
                FeatureWrite(fields={"reach": 60}, feature=stale),
            ],
            actor=editor,
        )
    assert list(Feature.objects.order_by("title").values_list("title", "reach", "version")) == [
        ("Kept", 5, 1),
        ("Stale", 5, 2),
    ]

    # and with any version accepted, everything is written, scored and ranked at once
    written = features_write(
        product=product,
        writes=[
            FeatureWrite(fields={"title": "New", **RICE, "reach": 1}),
            FeatureWrite(fields={"reach": 50}, feature=kept),
            FeatureWrite(fields={"reach": 60}, feature=stale, expected_version=None),
        ],
        actor=editor,
    )
    new, kept, stale = written.features
    assert [(f.reach, f.version, f.rank) for f in (new, kept, stale)] == [
        (1, 1, 3),
        (50, 2, 2),
        (60, 3, 1),
    ]
    assert written.changes == {kept.pk: {"reach"}, stale.pk: {"reach"}}
    stored = {f.pk: f for f in Feature.objects.all()}
    assert [(stored[f.pk].score, stored[f.pk].rank) for f in written.features] == [
        (f.score, f.rank) for f in written.features
    ]


def test_a_refused_value_writes_nothing_of_the_others(product, editor):
    first = feature_create(product=product, title="First", reach=5)
    second = feature_create(product=product, title="Second", reach=5)

    with pytest.raises(ValidationError) as refused:
        features_write(
            product=product,
            writes=[
                FeatureWrite(fields={"reach": 7}, feature=first, tags=["a"]),
                FeatureWrite(fields={"confidence": 101}, feature=second),
            ],
            actor=editor,
        )

    assert refused.value.message_dict == {
        "confidence": ["Confidence is a percentage between 0 and 100."]
    }
    assert list(Feature.objects.order_by("title").values_list("reach", "version")) == [
        (5, 1),
        (5, 1),
    ]
    assert not first.tags.exists()


def test_tags_replace_or_add(product):
    feature = feature_create(product=product, title="Offline mode", tags=["sync", "mobile"])
    other = feature_create(product=product, title="Alerts", tags=["mobile"])

    written = features_write(
        product=product,
        writes=[
            FeatureWrite(fields={}, feature=feature, tags=["sync", "q3"]),
            FeatureWrite(fields={}, feature=other, tags=["q3"], add_tags=True),
        ],
    )

    assert sorted(feature.tags.values_list("name", flat=True)) == ["q3", "sync"]
    assert sorted(other.tags.values_list("name", flat=True)) == ["mobile", "q3"]
    assert written.retagged == {feature.pk, other.pk}
    # A change of tags alone is not an edit: no version, no history row.
    assert list(Feature.objects.values_list("version", flat=True)) == [1, 1]
    assert written.changes == {feature.pk: set(), other.pk: set()}


def test_driver_scores_are_checked_and_bump_the_version_once(product, editor):
    product = f.ProductFactory(workspace=product.workspace, scoring_framework="weighted")
    driver = f.ScoringDriverFactory(product=product)
    foreign = f.ScoringDriverFactory()
    feature = feature_create(product=product, title="Offline mode")

    with pytest.raises(ValidationError) as refused:
        feature_update_inputs(
            feature=feature, data={}, driver_scores={driver.pk: 11, foreign.pk: 3}
        )
    assert refused.value.message_dict == {
        f"driver_{driver.pk}": ["A driver score must be between 0 and 10."],
        f"driver_{foreign.pk}": ["This driver belongs to another product."],
    }

    feature_update_inputs(
        feature=feature,
        data={"title": "Offline sync"},
        driver_scores={driver.pk: 8},
        expected_version=1,
        actor=editor,
    )
    stored = Feature.objects.get(pk=feature.pk)
    assert (stored.title, stored.version, stored.score) == ("Offline sync", 2, feature.score)
    assert feature.score == 8


def test_a_single_edit_runs_the_same_queries_for_3_or_300_features(product, editor):
    def queries(n: int) -> int:
        Feature.objects.bulk_create(
            Feature(product=product, title=f"Other {n}-{i}", reach=i) for i in range(n)
        )
        feature = feature_create(product=product, title=f"Edited {n}", **RICE)
        f.RoadmapItemFactory(product=product, feature=feature, horizon="now")
        feature = Feature.objects.select_related("product").get(pk=feature.pk)
        with CaptureQueriesContext(connection) as captured:
            feature_update(
                feature=feature, data={"reach": 1000 + n, "status": "planned"}, actor=editor
            )
        assert Feature.objects.get(pk=feature.pk).rank == 1
        return len(captured)

    assert queries(3) == queries(300) <= 25
