"""Writes of features: create, update (with optimistic concurrency), link evidence."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from roadmap.models import Feature, Insight, Persona, Product, RoadmapItem, Tag
from roadmap.services import events
from roadmap.services.scoring import (
    SCORING_INPUT_FIELDS,
    feature_score,
    product_lock,
    product_request_recompute,
)

EDITABLE_FIELDS = (
    "title",
    "description",
    "requirements",
    "status",
    "owner",
    "expected_revenue",
    "cost",
    "business_case_notes",
    "internal_notes",
    "moscow",
    "kano",
    *SCORING_INPUT_FIELDS,
)
# Changing these can change the order of features even when no input changed.
RANKING_FIELDS = ("status", "moscow", "kano")


class ConflictError(Exception):
    """Someone else saved the feature since the editor loaded it."""

    def __init__(self, current: Feature):
        self.current = current
        super().__init__(
            f"“{current.title}” was changed by someone else while you were editing "
            f"(now at version {current.version})."
        )


def _check_same_product(product: Product, objects: Iterable, field: str) -> None:
    for obj in objects:
        if obj.product_id != product.pk:
            raise ValidationError({field: f"“{obj}” belongs to another product."})


def _set_tags(feature: Feature, names: Iterable[str]) -> None:
    clean = sorted({" ".join(n.split()).lower() for n in names if n and n.strip()})
    for name in clean:
        if len(name) > 50:
            raise ValidationError({"tags": f"Tag “{name[:20]}…” is longer than 50 characters."})
    existing = {t.name: t for t in Tag.objects.filter(product=feature.product, name__in=clean)}
    missing = [Tag(product=feature.product, name=n) for n in clean if n not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {t.name: t for t in Tag.objects.filter(product=feature.product, name__in=clean)}
    feature.tags.set(existing.values())


@transaction.atomic
def feature_create(
    *,
    product: Product,
    title: str,
    personas: Iterable[Persona] = (),
    tags: Iterable[str] = (),
    **fields: Any,
) -> Feature:
    """Create a feature in a product and score it at once."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: "Unknown field." for name in sorted(unknown)})
    product_lock(product_id=product.pk)
    feature = Feature(product=product, title=title, **fields)
    feature.full_clean()
    feature.save()
    personas = list(personas)
    _check_same_product(product, personas, "personas")
    feature.personas.set(personas)
    _set_tags(feature, tags)
    feature_score(feature=feature)
    events.webhooks_emit(
        workspace_id=product.workspace_id,
        event="feature.created",
        payload=_feature_payload(feature),
    )
    return feature


def _feature_payload(feature: Feature, changed: Iterable[str] = ()) -> dict[str, Any]:
    return {
        "id": feature.pk,
        "product": feature.product.slug,
        "title": feature.title,
        "status": feature.status,
        "score": feature.score,
        "rank": feature.rank,
        "version": feature.version,
        "changed": sorted(changed),
    }


@transaction.atomic
def feature_update(
    *,
    feature: Feature,
    data: dict[str, Any],
    expected_version: int | None = None,
    personas: Iterable[Persona] | None = None,
    tags: Iterable[str] | None = None,
    actor=None,
) -> Feature:
    """Apply a PM's edit. Nothing is stored unless all of it is valid.

    With ``expected_version`` (the version the editor loaded), a concurrent save by someone else
    raises ConflictError instead of being overwritten. Inputs that feed the score rescore the
    feature (and re-rank its product) before returning.
    """
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: "Unknown field." for name in sorted(unknown)})
    product_lock(product_id=feature.product_id)
    current = Feature.objects.select_for_update().get(pk=feature.pk)
    if expected_version is not None and current.version != expected_version:
        raise ConflictError(current)
    item = RoadmapItem.objects.filter(feature=current).select_related("lane", "release").first()
    item_before = events.item_snapshot(item) if item else None
    changed = {name for name, value in data.items() if getattr(current, name) != value}
    for name, value in data.items():
        setattr(current, name, value)
    current.full_clean()
    if changed:
        current.save(update_fields=[*changed, "updated_at"])
    if personas is not None:
        personas = list(personas)
        _check_same_product(current.product, personas, "personas")
        if {p.pk for p in personas} != set(current.personas.values_list("pk", flat=True)):
            current.personas.set(personas)
            changed.add("personas")
    if tags is not None:
        _set_tags(current, tags)
    if changed:
        Feature.objects.filter(pk=current.pk).update(version=F("version") + 1)
        current.version += 1
    if changed & {*SCORING_INPUT_FIELDS, "personas"}:
        feature_score(feature=current)
    elif changed & set(RANKING_FIELDS):
        from roadmap.services.scoring import product_rerank

        product_rerank(product_id=current.product_id)
        current.refresh_from_db(fields=["rank"])
    if item is not None and "status" in changed:
        item.feature = current
        events.item_record_changes(item=item, before=item_before, actor=actor)
    if changed:
        events.webhooks_emit(
            workspace_id=current.product.workspace_id,
            event="feature.updated",
            payload=_feature_payload(current, changed),
        )
    feature.__dict__.update(current.__dict__)
    return feature


@transaction.atomic
def insight_link_features(*, insight: Insight, features: Iterable[Feature]) -> None:
    """Set the features an insight is evidence for; evidence-driven scores follow."""
    features = list(features)
    _check_same_product(insight.product, features, "features")
    before = set(insight.features.values_list("pk", flat=True))
    if before == {f.pk for f in features}:
        return
    insight.features.set(features)
    product_request_recompute(product_id=insight.product_id)
