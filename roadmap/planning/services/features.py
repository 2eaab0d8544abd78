"""Writes of features: create, update (with optimistic concurrency), link evidence."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import F, Field
from django.utils import timezone

from roadmap import events
from roadmap.fields import same_product
from roadmap.models import Feature, Persona, Product, RoadmapItem, Tag
from roadmap.planning.services.scoring import (
    SCORING_INPUT_FIELDS,
    feature_score,
    product_lock,
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
    "market_position",
    *SCORING_INPUT_FIELDS,
)
# Changing these can change the order of features even when no input changed.
RANKING_FIELDS = ("status", "moscow", "kano", "market_position")


class ConflictError(Exception):
    """Someone else saved the feature since the editor loaded it."""

    def __init__(self, current: Feature):
        self.current = current
        super().__init__(
            f"“{current.title}” was changed by someone else while you were editing "
            f"(now at version {current.version})."
        )


def _checked_tag_names(names: Iterable[str]) -> list[str]:
    clean = tag_names_clean(names)
    for name in clean:
        if len(name) > 50:
            raise ValidationError({"tags": f"Tag “{name[:20]}…” is longer than 50 characters."})
    return clean


def _set_tags(feature: Feature, names: Iterable[str]) -> None:
    clean = _checked_tag_names(names)
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
    same_product(product.pk, personas, "personas")
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


def feature_version_check(*, feature: Feature, expected_version: int | None) -> None:
    """ConflictError if ``expected_version`` (the version the editor loaded) is not the feature's.

    Authoritative only on a row locked with SELECT FOR UPDATE, as ``feature_update`` does.
    """
    if expected_version is not None and feature.version != expected_version:
        raise ConflictError(feature)


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
    feature_version_check(feature=current, expected_version=expected_version)
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
        same_product(current.product_id, personas, "personas")
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
        from roadmap.planning.services.scoring import product_rerank

        product_rerank(product_id=current.product_id)
        current.refresh_from_db(fields=["rank"])
    if item is not None and item_before is not None and "status" in changed:
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


def tag_names_clean(names: Iterable[str]) -> list[str]:
    """Tag names as a feature stores them: inner whitespace collapsed, lower-case, without blanks
    or duplicates, sorted. Callers compare a feature's tags with new names through it."""
    return sorted({" ".join(n.split()).lower() for n in names if n and n.strip()})


@transaction.atomic
def feature_update_inputs(
    *,
    feature: Feature,
    data: dict[str, Any],
    driver_scores: dict[int, int | None] | None = None,
    expected_version: int | None = None,
    personas: Iterable[Persona] | None = None,
    tags: Iterable[str] | None = None,
    actor=None,
) -> Feature:
    """Apply an edit of the prioritization table (or the admin's change form): fields, personas
    and tags through ``feature_update`` and, under weighted scoring, per-driver scores through
    ``feature_set_driver_scores``.

    One version check covers both, and a change of driver scores bumps the version like any other
    edit, so a stale table row cannot overwrite it. All or nothing.
    """
    from roadmap.models import FeatureDriverScore
    from roadmap.planning.services.products import feature_set_driver_scores

    feature_update(
        feature=feature,
        data=data,
        expected_version=expected_version,
        personas=personas,
        tags=tags,
        actor=actor,
    )
    if driver_scores:
        stored = dict(
            FeatureDriverScore.objects.filter(feature=feature).values_list("driver_id", "score")
        )
        if any(stored.get(driver_id) != score for driver_id, score in driver_scores.items()):
            feature_set_driver_scores(feature=feature, scores=driver_scores)
            Feature.objects.filter(pk=feature.pk).update(version=F("version") + 1)
            feature.version += 1
    return feature


# ``features_bulk_update`` leaves releases alone unless it is given one (None: no release).
KEEP_RELEASE: Any = object()


@dataclass(frozen=True)
class BulkUpdateResult:
    """What a bulk edit did, for the PM's confirmation."""

    selected: int
    # Features whose status changed or which got the tag.
    updated: int
    # Selected features on the roadmap, whose item now has the chosen release.
    placed: int = 0
    # Titles of the selected features not on the roadmap: a release belongs to a roadmap item,
    # so these were left without one.
    not_on_roadmap: tuple[str, ...] = ()


@transaction.atomic
def features_bulk_update(
    *,
    product: Product,
    feature_ids: Iterable[int],
    status: str | None = None,
    release: Any = KEEP_RELEASE,
    tag: str = "",
    actor=None,
) -> BulkUpdateResult:
    """Apply one edit to many features of a product: set a status, set the release of those on
    the roadmap (the others are reported, not placed), add a tag.

    All or nothing: everything is checked before anything is written. A fixed number of queries
    whatever the number of features; the product is re-ranked once. Like ``feature_update``,
    a status change bumps the version, is kept in the history and recorded on roadmap items.
    """
    from roadmap.planning.services.scoring import product_rerank

    ids = set(feature_ids)
    tag_name = next(iter(tag_names_clean([tag])), "")
    errors: dict[str, str] = {}
    if not ids:
        errors["features"] = "Select at least one feature."
    if status is None and release is KEEP_RELEASE and not tag_name:
        errors[NON_FIELD_ERRORS] = "Choose a status, a release or a tag to apply."
    checks = [("status", Feature, "status", status), ("tag", Tag, "name", tag_name or None)]
    for name, model, field_name, value in checks:
        if value is not None:
            try:
                model_field = model._meta.get_field(field_name)
                assert isinstance(model_field, Field)
                model_field.clean(value, None)
            except ValidationError as error:
                errors[name] = error.messages[0]
    if release is not KEEP_RELEASE and release is not None and release.product_id != product.pk:
        errors["release"] = "This release belongs to another product."
    if errors:
        raise ValidationError(errors)

    product_lock(product_id=product.pk)
    features = list(
        Feature.objects.select_for_update()
        .filter(product=product, pk__in=ids)
        .order_by(F("rank").asc(nulls_last=True), "id")
    )
    if len(features) != len(ids):
        raise ValidationError(
            {"features": "Some selected features are no longer in this product: reload the table."}
        )
    # Keyed for lookups by an item's (nullable) feature_id.
    by_id: dict[int | None, Feature] = {f.pk: f for f in features}
    for feature in features:
        feature.product = product
    now = timezone.now()
    user = actor if getattr(actor, "is_authenticated", False) else None
    touched: set[int] = set()

    moved = [f for f in features if status is not None and f.status != status]
    if moved and status is not None:
        items = list(
            RoadmapItem.objects.filter(feature_id__in=[f.pk for f in moved]).select_related(
                "lane", "release"
            )
        )
        for item in items:
            item.feature = by_id[item.feature_id]
        before = [(item, events.item_snapshot(item)) for item in items]
        Feature.objects.filter(pk__in=[f.pk for f in moved]).update(
            status=status, updated_at=now, version=F("version") + 1
        )
        for feature in moved:
            feature.status, feature.updated_at = status, now
            feature.version += 1
        Feature.history.bulk_history_create(moved, update=True, default_user=user, default_date=now)
        product_rerank(product_id=product.pk)
        ranks = dict(Feature.objects.filter(pk__in=ids).values_list("pk", "rank"))
        for feature in features:
            feature.rank = ranks[feature.pk]
        events.items_record_changes(changes=before, actor=actor)
        touched.update(f.pk for f in moved)

    if tag_name:
        tag_row, _ = Tag.objects.get_or_create(product=product, name=tag_name)
        through = Feature.tags.through
        tagged = set(
            through.objects.filter(tag=tag_row, feature_id__in=ids).values_list(
                "feature_id", flat=True
            )
        )
        through.objects.bulk_create(
            [through(feature_id=pk, tag_id=tag_row.pk) for pk in sorted(ids - tagged)]
        )
        touched.update(ids - tagged)

    placed = 0
    not_on_roadmap: tuple[str, ...] = ()
    if release is not KEEP_RELEASE:
        items = list(
            # Lock the items only: PostgreSQL refuses FOR UPDATE on the nullable side of the
            # outer joins to lane and release.
            RoadmapItem.objects.select_for_update(of=("self",))
            .filter(product=product, feature_id__in=ids)
            .select_related("lane", "release")
        )
        for item in items:
            item.feature = by_id[item.feature_id]
        on_roadmap = {item.feature_id for item in items}
        not_on_roadmap = tuple(f.title for f in features if f.pk not in on_roadmap)
        placed = len(items)
        release_id = release.pk if release is not None else None
        changing = [item for item in items if item.release_id != release_id]
        if changing:
            before = [(item, events.item_snapshot(item)) for item in changing]
            RoadmapItem.objects.filter(pk__in=[i.pk for i in changing]).update(
                release=release, updated_at=now
            )
            for item in changing:
                item.release, item.updated_at = release, now
            RoadmapItem.history.bulk_history_create(
                changing, update=True, default_user=user, default_date=now
            )
            events.items_record_changes(changes=before, actor=actor)

    if moved:
        events.webhooks_emit_many(
            workspace_id=product.workspace_id,
            event="feature.updated",
            payloads=[_feature_payload(f, {"status"}) for f in moved],
        )
    return BulkUpdateResult(
        selected=len(features),
        updated=len(touched),
        placed=placed,
        not_on_roadmap=not_on_roadmap,
    )


@dataclass
class FeatureWrite:
    """One feature for ``features_write_many`` to create (``feature`` None) or to update.

    ``fields`` are values of EDITABLE_FIELDS (``title`` is needed to create). ``tags``,
    ``personas`` and ``driver_scores`` stay as they are when None; a driver score of None clears
    it. An update expects ``feature.version`` to be the version its values were read at.
    """

    fields: dict[str, Any]
    feature: Feature | None = None
    tags: list[str] | None = None
    personas: list[Persona] | None = None
    driver_scores: dict[int, int | None] | None = None


@transaction.atomic
def features_write_many(
    *, product: Product, writes: Iterable[FeatureWrite], actor=None
) -> list[Feature]:
    """Create and update many features of a product at once (a CSV import), all or nothing, and
    recompute the product's scores once rather than feature by feature.

    The effects of ``feature_create`` and ``feature_update`` (history, versions, roadmap change
    events, webhooks) in a fixed number of queries plus one UPDATE per changed feature. Values are
    checked by the model's field rules; its check constraints, which repeat them, are left to the
    database as in the demo loader (Django spends a query on each: 15 per feature). A feature saved
    by someone else since its version was read raises ConflictError.
    """
    from roadmap.models import FeatureDriverScore, ScoringDriver
    from roadmap.planning.services.scoring import product_recompute_scores

    writes = list(writes)
    unknown = {name for w in writes for name in w.fields} - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: "Unknown field." for name in sorted(unknown)})
    product_lock(product_id=product.pk)
    now = timezone.now()
    user = actor if getattr(actor, "is_authenticated", False) else None

    # Updates: the stored features, locked, at the versions their values were read at.
    updates = [(w, w.feature) for w in writes if w.feature is not None]
    stored = (
        Feature.objects.select_for_update()
        .filter(product=product)
        .in_bulk([read.pk for _, read in updates])
    )
    changes: dict[int, set[str]] = {}
    for w, read in updates:
        current = stored.get(read.pk)
        if current is None:
            raise ValidationError({"id": f"Feature {read.pk} is no longer in {product}."})
        if current.version != read.version:
            raise ConflictError(current)
        current.product = product
        changes[current.pk] = {n for n, v in w.fields.items() if getattr(current, n) != v}
    # Roadmap items whose feature changes status, as they are before the change.
    items = list(
        RoadmapItem.objects.filter(
            feature_id__in=[pk for pk, names in changes.items() if "status" in names]
        ).select_related("lane", "release")
    )
    for item in items:
        item.feature = stored[item.feature_id]
    items_before = [(item, events.item_snapshot(item)) for item in items]

    pairs: list[tuple[FeatureWrite, Feature]] = []
    for w in writes:
        if w.feature is None:
            feature = Feature(product=product, **w.fields)
        else:
            feature = stored[w.feature.pk]
            for name in changes[feature.pk]:
                setattr(feature, name, w.fields[name])
        # The product is ours, not input: excluding it spares a query checking that it exists.
        feature.full_clean(exclude=["product"], validate_constraints=False)
        same_product(product.pk, w.personas or (), "personas")
        pairs.append((w, feature))
    drivers = set(ScoringDriver.objects.filter(product=product).values_list("pk", flat=True))
    score_field = FeatureDriverScore._meta.get_field("score")
    for w in writes:
        for driver_id, value in (w.driver_scores or {}).items():
            if driver_id not in drivers:
                raise ValidationError({f"driver_{driver_id}": "This driver is not the product's."})
            if value is not None:
                score_field.clean(value, None)
    tag_names = [(f, _checked_tag_names(w.tags)) for w, f in pairs if w.tags is not None]

    # Features: one INSERT for the new ones, one UPDATE per changed one, and history rows.
    created = Feature.objects.bulk_create([f for w, f in pairs if w.feature is None])
    edited = [f for w, f in pairs if w.feature is not None and changes[f.pk]]
    for feature in edited:
        feature.updated_at = now
        Feature.objects.filter(pk=feature.pk).update(
            **{name: getattr(feature, name) for name in changes[feature.pk]},
            updated_at=now,
            version=F("version") + 1,
        )
    Feature.history.bulk_history_create(created, default_user=user, default_date=now)
    Feature.history.bulk_history_create(edited, update=True, default_user=user, default_date=now)

    # Tags, personas and driver scores: replaced in a few statements for all features at once.
    if tag_names:
        wanted = {name for _, names in tag_names for name in names}
        Tag.objects.bulk_create(
            [Tag(product=product, name=name) for name in sorted(wanted)], ignore_conflicts=True
        )
        tag_ids = dict(
            Tag.objects.filter(product=product, name__in=wanted).values_list("name", "pk")
        )
        through = Feature.tags.through
        through.objects.filter(feature_id__in=[f.pk for f, _ in tag_names]).delete()
        through.objects.bulk_create(
            through(feature_id=f.pk, tag_id=tag_ids[name])
            for f, names in tag_names
            for name in names
        )
    with_personas = {f.pk: {p.pk for p in w.personas} for w, f in pairs if w.personas is not None}
    if with_personas:
        personas_through = Feature.personas.through
        links = personas_through.objects.filter(feature_id__in=with_personas)
        before: dict[int, set[int]] = {}
        for feature_id, persona_id in links.values_list("feature_id", "persona_id"):
            before.setdefault(feature_id, set()).add(persona_id)
        for pk, persona_ids in with_personas.items():
            if pk in changes and before.get(pk, set()) != persona_ids:
                changes[pk].add("personas")
        links.delete()
        personas_through.objects.bulk_create(
            personas_through(feature_id=pk, persona_id=persona_id)
            for pk, persona_ids in with_personas.items()
            for persona_id in persona_ids
        )
    with_scores = {f.pk: w.driver_scores for w, f in pairs if w.driver_scores}
    if with_scores:
        rows = FeatureDriverScore.objects.filter(feature_id__in=with_scores)
        scores = {(f, d): s for f, d, s in rows.values_list("feature_id", "driver_id", "score")}
        for pk, driver_scores in with_scores.items():
            for driver_id, value in driver_scores.items():
                if pk in changes and scores.get((pk, driver_id)) != value:
                    changes[pk].add("driver_scores")
                if value is None:
                    scores.pop((pk, driver_id), None)
                else:
                    scores[(pk, driver_id)] = value
        rows.delete()
        FeatureDriverScore.objects.bulk_create(
            FeatureDriverScore(feature_id=f, driver_id=d, score=s) for (f, d), s in scores.items()
        )
    # A change of personas or driver scores is an edit too: it bumps the version.
    edited_ids = {f.pk for f in edited}
    Feature.objects.filter(
        pk__in=[pk for pk, names in changes.items() if names and pk not in edited_ids]
    ).update(version=F("version") + 1)

    product_recompute_scores(product_id=product.pk)
    by_id = {f.pk: f for _, f in pairs}
    fresh = Feature.objects.filter(pk__in=by_id).values_list("pk", "score", "rank", "version")
    for pk, score, rank, version in fresh:
        by_id[pk].score, by_id[pk].rank, by_id[pk].version = score, rank, version
    events.items_record_changes(changes=items_before, actor=actor)
    events.webhooks_emit_many(
        workspace_id=product.workspace_id,
        event="feature.created",
        payloads=[_feature_payload(f) for f in created],
    )
    events.webhooks_emit_many(
        workspace_id=product.workspace_id,
        event="feature.updated",
        payloads=[_feature_payload(by_id[pk], names) for pk, names in changes.items() if names],
    )
    return [f for _, f in pairs]
