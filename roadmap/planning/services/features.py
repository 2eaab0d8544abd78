"""Writes of features: one set-based writer for every change, and its after-effects.

Every change of a feature (the edit form, the prioritization table, bulk edits, CSV import, the
API, the admin) goes through ``features_write``: write specs in, all or nothing, a fixed number of
statements plus one UPDATE per distinct set of changed values. What it wrote goes to one step,
``_features_after_write``, the only place that bumps versions, writes history rows, records
roadmap change events, emits webhooks and rescores or re-ranks. The other services here build
write specs for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import EllipsisType
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import F, Field
from django.utils import timezone

from config.dispatch import enqueue_on_commit
from roadmap import events
from roadmap.fields import same_product
from roadmap.models import (
    DriverSource,
    Feature,
    FeatureStatus,
    Persona,
    Product,
    RoadmapItem,
    Tag,
)
from roadmap.planning.services.fields import field_lookup, field_values_clean, field_values_write
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
# Changes that move a feature's score (its links to personas and its driver scores are inputs).
SCORING_CHANGES = frozenset({*SCORING_INPUT_FIELDS, "personas", "driver_scores", "custom_fields"})


class ConflictError(Exception):
    """Someone else saved the feature since the editor loaded it."""

    def __init__(self, current: Feature):
        self.current = current
        super().__init__(
            f"“{current.title}” was changed by someone else while you were editing "
            f"(now at version {current.version})."
        )


def tag_names_clean(names: Iterable[str]) -> list[str]:
    """Tag names as a feature stores them: inner whitespace collapsed, lower-case, without blanks
    or duplicates, sorted. Callers compare a feature's tags with new names through it."""
    return sorted({" ".join(n.split()).lower() for n in names if n and n.strip()})


def _checked_tag_names(names: Iterable[str]) -> list[str]:
    clean = tag_names_clean(names)
    for name in clean:
        if len(name) > 50:
            raise ValidationError({"tags": f"Tag “{name[:20]}…” is longer than 50 characters."})
    return clean


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

    Authoritative only on a row locked with SELECT FOR UPDATE, as ``features_write`` does.
    """
    if expected_version is not None and feature.version != expected_version:
        raise ConflictError(feature)


# --- The one writer ------------------------------------------------------------------------------


@dataclass
class FeatureWrite:
    """One feature for ``features_write`` to create (``feature`` None) or to update.

    ``fields`` are values of EDITABLE_FIELDS (``title`` is needed to create). ``tags``,
    ``personas`` and ``driver_scores`` stay as they are when None; ``tags`` replace the feature's,
    or are added to them with ``add_tags``; a driver score of None clears it. An update expects the
    stored feature at ``expected_version``: by default ``feature.version``, the version its values
    were read at; None accepts any version.
    """

    fields: dict[str, Any]
    feature: Feature | None = None
    tags: list[str] | None = None
    personas: list[Persona] | None = None
    driver_scores: dict[int, int | None] | None = None
    # Values of the product's custom fields by key (``field_values_clean``); None clears one.
    custom_fields: dict[str, Any] | None = None
    add_tags: bool = False
    expected_version: int | None | EllipsisType = ...

    def expected(self) -> int | None:
        """The version the stored feature must be at (None: any)."""
        if self.expected_version is ...:
            return self.feature.version if self.feature is not None else None
        return self.expected_version


@dataclass
class FeaturesWritten:
    """What ``features_write`` did."""

    # The written features in the order of the writes, with their new score, rank and version.
    features: list[Feature]
    # Per updated feature, the names of what changed (fields, "personas", "driver_scores"); empty
    # when nothing did. A change of tags alone is not an edit: it bumps no version.
    changes: dict[int, set[str]] = field(default_factory=dict)
    # Updated features whose tags changed.
    retagged: set[int] = field(default_factory=set)
    # Updated features' ranks as they were read, before the write.
    ranks_before: dict[int, int | None] = field(default_factory=dict)


@transaction.atomic
def features_write(
    *, product: Product, writes: Iterable[FeatureWrite], actor=None, reason: str = ""
) -> FeaturesWritten:
    """Create and update features of a product: the one way a feature changes. All or nothing.

    Everything is checked before anything is written; the product is locked once and the stored
    features with it. A fixed number of statements whatever the number of features, plus one
    UPDATE per distinct set of changed values (one for a bulk edit, one per row of an import).
    Changed values are checked by the model's field rules; its check constraints, which repeat
    them, are left to the database (Django spends a query on each: 15 per feature). A feature
    saved by someone else since the expected version raises ConflictError. A ``reason`` (at
    most 100 characters, "From rating round …") is kept with the history rows it writes.
    """
    from roadmap.models import FeatureDriverScore, ScoringDriver

    writes = list(writes)
    unknown = {name for w in writes for name in w.fields} - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: "Unknown field." for name in sorted(unknown)})
    locked = product_lock(product_id=product.pk)
    now = timezone.now()

    # Updates: the stored features, locked, at the versions expected.
    updates = [w for w in writes if w.feature is not None]
    stored = (
        Feature.objects.select_for_update()
        .filter(product=product)
        .in_bulk([w.feature.pk for w in updates if w.feature is not None])
    )
    if any(w.feature is not None and w.feature.pk not in stored for w in updates):
        raise ValidationError(
            {"features": "Some features are no longer in this product: reload and try again."}
        )
    changes: dict[int, set[str]] = {}
    for w in updates:
        assert w.feature is not None
        current = stored[w.feature.pk]
        feature_version_check(feature=current, expected_version=w.expected())
        current.product = product
        changes[current.pk] = {n for n, v in w.fields.items() if getattr(current, n) != v}
    ranks_before = {pk: feature.rank for pk, feature in stored.items()}
    # Roadmap items whose feature changes status, as they are before the change.
    items = list(
        RoadmapItem.objects.filter(
            feature_id__in=[pk for pk, names in changes.items() if "status" in names]
        ).select_related("lane", "release")
    )
    for item in items:
        assert item.feature_id is not None
        item.feature = stored[item.feature_id]
    items_before = [(item, events.item_snapshot(item)) for item in items]

    pairs: list[tuple[FeatureWrite, Feature]] = []
    for w in writes:
        if w.feature is None:
            feature = Feature(product=product, **w.fields)
            # The product is ours, not input: excluding it spares a query checking that it exists.
            feature.full_clean(exclude=["product"], validate_constraints=False)
        else:
            feature = stored[w.feature.pk]
            changed = changes[feature.pk]
            for name in changed:
                setattr(feature, name, w.fields[name])
            # The stored values were checked when they were written: only the changed ones are.
            unchanged = [f.name for f in Feature._meta.fields if f.name not in changed]
            feature.clean_fields(exclude=unchanged)
            if "owner" in changed:
                feature.clean()  # the owner must be a member: a query, so only when it changes
        same_product(product.pk, w.personas or (), "personas")
        pairs.append((w, feature))
    if any(w.driver_scores for w in writes):
        drivers = dict(ScoringDriver.objects.filter(product=product).values_list("pk", "source"))
        errors: dict[str, str] = {}
        for w in writes:
            for driver_id, value in (w.driver_scores or {}).items():
                if driver_id not in drivers:
                    errors[f"driver_{driver_id}"] = "This driver belongs to another product."
                elif drivers[driver_id] != DriverSource.MANUAL and value is not None:
                    errors[f"driver_{driver_id}"] = (
                        "This driver is scored from the evidence, not by hand."
                    )
                elif value is not None and not 0 <= value <= 10:
                    errors[f"driver_{driver_id}"] = "A driver score must be between 0 and 10."
        if errors:
            raise ValidationError(errors)
    # The fields the writes name, read once for all of them (a CSV import of many rows).
    keys = {key for w in writes for key in (w.custom_fields or {})}
    known = field_lookup(product=product, keys=keys) if keys else None
    field_values = [
        (f, field_values_clean(product=product, values=w.custom_fields, known=known))
        for w, f in pairs
        if w.custom_fields
    ]
    tag_sets = [(f, _checked_tag_names(w.tags), w.add_tags) for w, f in pairs if w.tags is not None]

    # Features: one INSERT for the new ones, one UPDATE per distinct set of changed values.
    created = Feature.objects.bulk_create([f for w, f in pairs if w.feature is None])
    same_values: dict[tuple[tuple[str, Any], ...], list[int]] = {}
    for pk, names in changes.items():
        if names:
            stored[pk].updated_at = now
            values = tuple(sorted((name, getattr(stored[pk], name)) for name in names))
            same_values.setdefault(values, []).append(pk)
    # The version goes up in the same UPDATE (an edit of fields alone writes the feature once).
    for values, pks in same_values.items():
        Feature.objects.filter(pk__in=pks).update(
            **dict(values), updated_at=now, version=F("version") + 1
        )

    # Tags, personas and driver scores: a few statements for all features at once.
    retagged = _tags_write(product=product, tag_sets=tag_sets) & set(stored) if tag_sets else set()
    personas = {
        f.pk: ({p.pk for p in w.personas}, False) for w, f in pairs if w.personas is not None
    }
    for pk in _links_set(Feature.personas.through, "persona_id", personas) & set(changes):
        changes[pk].add("personas")
    with_scores = {f.pk: w.driver_scores for w, f in pairs if w.driver_scores}
    if with_scores:
        rows = FeatureDriverScore.objects.filter(feature_id__in=with_scores)
        stored_scores = {
            (f, d): (pk, s)
            for pk, f, d, s in rows.values_list("pk", "feature_id", "driver_id", "score")
        }
        cleared: list[int] = []
        rescored: dict[int, list[int]] = {}  # score -> rows given it
        new_scores: list[FeatureDriverScore] = []
        for pk, driver_scores in with_scores.items():
            for driver_id, value in driver_scores.items():
                row, score = stored_scores.get((pk, driver_id), (None, None))
                if score == value:
                    continue
                if pk in changes:
                    changes[pk].add("driver_scores")
                if value is None:
                    if row is not None:
                        cleared.append(row)
                elif row is None:
                    new_scores.append(
                        FeatureDriverScore(feature_id=pk, driver_id=driver_id, score=value)
                    )
                else:
                    rescored.setdefault(value, []).append(row)
        # Rows are kept (their ids with them): at most one UPDATE per score, 0 to 10.
        if cleared:
            FeatureDriverScore.objects.filter(pk__in=cleared).delete()
        for value, rows_given in rescored.items():
            FeatureDriverScore.objects.filter(pk__in=rows_given).update(score=value)
        FeatureDriverScore.objects.bulk_create(new_scores)

    if field_values:
        for pk in field_values_write({f.pk: values for f, values in field_values}):
            if pk in changes:
                changes[pk].add("custom_fields")

    features = [f for _, f in pairs]
    _features_after_write(
        product=product,
        features=features,
        created=created,
        changes=changes,
        items_before=items_before,
        actor=actor,
        now=now,
        reason=reason,
        locked=locked,
        versioned={pk for pks in same_values.values() for pk in pks},
    )
    return FeaturesWritten(
        features=features, changes=changes, retagged=retagged, ranks_before=ranks_before
    )


def _tags_write(*, product: Product, tag_sets: list[tuple[Feature, list[str], bool]]) -> set[int]:
    """Give each feature its tag names (added to its tags, or replacing them); the features whose
    tags changed. New tags of the product are created."""
    wanted = {name for _, names, _ in tag_sets for name in names}
    tag_ids: dict[str, int] = {}
    if wanted:
        Tag.objects.bulk_create(
            [Tag(product=product, name=name) for name in sorted(wanted)], ignore_conflicts=True
        )
        tag_ids = dict(
            Tag.objects.filter(product=product, name__in=wanted).values_list("name", "pk")
        )
    wanted_ids = {f.pk: ({tag_ids[name] for name in names}, add) for f, names, add in tag_sets}
    return _links_set(Feature.tags.through, "tag_id", wanted_ids)


def _links_set(through, column: str, wanted: Mapping[int, tuple[set[int], bool]]) -> set[int]:
    """Link each feature to the rows of ``column`` it is given, added to its links (True) or
    replacing them (False), in at most three statements; the features whose links changed."""
    links: dict[int, dict[int, int]] = {}  # feature -> linked row -> link
    rows = through.objects.filter(feature_id__in=wanted).values_list("pk", "feature_id", column)
    for pk, feature_id, target in rows:
        links.setdefault(feature_id, {})[target] = pk
    unlinked: list[int] = []
    linked: list[Any] = []  # rows of the through model
    changed: set[int] = set()
    for feature_id, (targets, add) in wanted.items():
        have = links.get(feature_id, {})
        gone = [] if add else [link for target, link in have.items() if target not in targets]
        new = sorted(targets - set(have))
        unlinked.extend(gone)
        linked.extend(through(feature_id=feature_id, **{column: target}) for target in new)
        if gone or new:
            changed.add(feature_id)
    if unlinked:
        through.objects.filter(pk__in=unlinked).delete()
    through.objects.bulk_create(linked)
    return changed


def _features_after_write(
    *,
    product: Product,
    features: list[Feature],
    created: list[Feature],
    changes: Mapping[int, set[str]],
    items_before: list[tuple[RoadmapItem, dict[str, Any]]],
    actor,
    now: datetime,
    reason: str = "",
    locked: Mapping[str, Any] | None = None,
    versioned: set[int] | frozenset[int] = frozenset(),
) -> None:
    """What follows a write of features, for all of them at once: versions, history rows, scores
    and ranks, roadmap change events, webhooks (sent after commit). The only code that does these
    for features; ``features_write`` calls it inside its transaction.

    One feature to rescore is scored in Python (its explanation exact, as the editor shows it) and
    moved to its new rank (only the ranks between its old and new place shift); several are
    recomputed with the product in one UPDATE. ``locked``: what ``product_lock`` read of the
    product; ``versioned``: the features whose version the UPDATE of their fields already raised.
    The workspace's webhook endpoints are read once for every event the write emits.
    """
    from roadmap.planning.services.scoring import (
        feature_rerank,
        product_recompute_scores,
        product_rerank,
    )

    by_id = {f.pk: f for f in features}
    edited = [pk for pk, names in changes.items() if names]
    if not created and not edited:
        return
    user = actor if getattr(actor, "is_authenticated", False) else None
    endpoints = events.webhook_endpoints_active(workspace_id=product.workspace_id)

    # A change of personas or driver scores is an edit too: it bumps the version. History rows
    # keep fields only, so only a change of fields writes one; or, with a reason to keep, a
    # change of driver scores (the history tells where the scores came from).
    unversioned = [pk for pk in edited if pk not in versioned]
    if unversioned:
        Feature.objects.filter(pk__in=unversioned).update(version=F("version") + 1)
    kept = set(EDITABLE_FIELDS) | ({"driver_scores"} if reason else set())
    Feature.history.bulk_history_create(
        created, default_user=user, default_date=now, default_change_reason=reason
    )
    Feature.history.bulk_history_create(
        [by_id[pk] for pk in edited if changes[pk] & kept],
        update=True,
        default_user=user,
        default_date=now,
        default_change_reason=reason,
    )

    rescore = [*created, *(by_id[pk] for pk in edited if changes[pk] & SCORING_CHANGES)]
    # The features whose place in the order may have changed. One alone moves by itself, over
    # the ranks between its old and new place; more re-rank the product.
    reordered = {f.pk for f in rescore} | {pk for pk in edited if changes[pk] & set(RANKING_FIELDS)}
    if len(rescore) > 1:
        product_recompute_scores(product_id=product.pk)
    else:
        if rescore:
            feature_score(feature=rescore[0], rerank=False)
        if len(reordered) == 1:
            feature_rerank(
                product_id=product.pk,
                feature_id=reordered.pop(),
                locked=locked,
                endpoints=endpoints,
            )
        elif reordered:
            product_rerank(product_id=product.pk)
    fresh = Feature.objects.filter(pk__in=by_id).values_list(
        "pk", "score", "score_breakdown", "scored_at", "rank", "version"
    )
    for pk, score, breakdown, scored_at, rank, version in fresh:
        feature = by_id[pk]
        feature.score, feature.score_breakdown, feature.scored_at = score, breakdown, scored_at
        feature.rank, feature.version = rank, version

    events.items_record_changes(changes=items_before, actor=actor)
    if created:
        events.webhooks_emit_many(
            workspace_id=product.workspace_id,
            event="feature.created",
            payloads=[_feature_payload(f) for f in created],
            endpoints=endpoints,
        )
    if edited:
        events.webhooks_emit_many(
            workspace_id=product.workspace_id,
            event="feature.updated",
            payloads=[_feature_payload(by_id[pk], changes[pk]) for pk in edited],
            endpoints=endpoints,
        )
    # Whoever asked for a feature that just shipped hears it (roadmap/portal: once per person).
    for pk in edited:
        if "status" in changes[pk] and by_id[pk].status == FeatureStatus.SHIPPED:
            enqueue_on_commit("roadmap.tasks.ship_notices_enqueue", pk)


# --- The entry points: write specs for the one writer, which is atomic for them -----------------


def feature_create(
    *,
    product: Product,
    title: str,
    personas: Iterable[Persona] = (),
    tags: Iterable[str] = (),
    driver_scores: Mapping[int, int | None] | None = None,
    custom_fields: Mapping[str, Any] | None = None,
    **fields: Any,
) -> Feature:
    """Create a feature in a product (with its per-driver scores under weighted scoring) and
    score it at once."""
    write = FeatureWrite(
        fields={"title": title, **fields},
        tags=list(tags) or None,
        personas=list(personas) or None,
        driver_scores=dict(driver_scores) if driver_scores else None,
        custom_fields=dict(custom_fields) if custom_fields else None,
    )
    return features_write(product=product, writes=[write]).features[0]


def feature_update(
    *,
    feature: Feature,
    data: dict[str, Any],
    expected_version: int | None = None,
    personas: Iterable[Persona] | None = None,
    tags: Iterable[str] | None = None,
    custom_fields: dict[str, Any] | None = None,
    actor=None,
) -> Feature:
    """Apply a PM's edit (``custom_fields``: values by field key, see ``field_values_clean``).
    Nothing is stored unless all of it is valid.

    With ``expected_version`` (the version the editor loaded), a concurrent save by someone else
    raises ConflictError instead of being overwritten. Inputs that feed the score rescore the
    feature (and re-rank its product) before returning.
    """
    return feature_update_inputs(
        feature=feature,
        data=data,
        expected_version=expected_version,
        personas=personas,
        tags=tags,
        custom_fields=custom_fields,
        actor=actor,
    )


def feature_update_inputs(
    *,
    feature: Feature,
    data: dict[str, Any],
    driver_scores: dict[int, int | None] | None = None,
    expected_version: int | None = None,
    personas: Iterable[Persona] | None = None,
    tags: Iterable[str] | None = None,
    custom_fields: dict[str, Any] | None = None,
    actor=None,
) -> Feature:
    """Apply an edit of the prioritization table (or the admin's change form): fields, personas,
    tags and, under weighted scoring, per-driver scores (None clears one); ``feature`` takes the
    stored result.

    One version check covers all of it, and a change of driver scores bumps the version like any
    other edit, so a stale table row cannot overwrite it. All or nothing.
    """
    write = FeatureWrite(
        fields=data,
        feature=feature,
        tags=list(tags) if tags is not None else None,
        personas=list(personas) if personas is not None else None,
        driver_scores=driver_scores or None,
        custom_fields=custom_fields or None,
        expected_version=expected_version,
    )
    written = features_write(product=feature.product, writes=[write], actor=actor)
    feature.__dict__.update(written.features[0].__dict__)
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
    whatever the number of features; the product is re-ranked once. The status and the tag are
    written by ``features_write``, like any edit; the release is the roadmap items'.
    """
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

    written = features_write(
        product=product,
        writes=[
            FeatureWrite(
                fields={"status": status} if status is not None else {},
                # Only its id is read: any version is accepted.
                feature=Feature(pk=pk),
                tags=[tag_name] if tag_name else None,
                add_tags=True,
                expected_version=None,
            )
            for pk in sorted(ids)
        ],
        actor=actor,
    )
    # In the order of the ranking the PM selected them in.
    before = written.ranks_before
    features = sorted(
        written.features, key=lambda f: (before[f.pk] is None, before[f.pk] or 0, f.pk)
    )
    placed = 0
    not_on_roadmap: tuple[str, ...] = ()
    if release is not KEEP_RELEASE:
        placed, not_on_roadmap = _features_release_set(
            product=product, features=features, release=release, actor=actor
        )
    changed = {pk for pk, names in written.changes.items() if names}
    return BulkUpdateResult(
        selected=len(features),
        updated=len(changed | written.retagged),
        placed=placed,
        not_on_roadmap=not_on_roadmap,
    )


def _features_release_set(
    *, product: Product, features: list[Feature], release, actor
) -> tuple[int, tuple[str, ...]]:
    """Set the release of the features' roadmap items (a write of the items, kept in their history
    and recorded as change events); how many items there are, and the titles of the features
    without one. Caller holds the product's lock."""
    by_id: dict[int | None, Feature] = {f.pk: f for f in features}
    items = list(
        # Lock the items only: PostgreSQL refuses FOR UPDATE on the nullable side of the
        # outer joins to lane and release.
        RoadmapItem.objects.select_for_update(of=("self",))
        .filter(product=product, feature_id__in=[f.pk for f in features])
        .select_related("lane", "release")
    )
    for item in items:
        item.feature = by_id[item.feature_id]
    on_roadmap = {item.feature_id for item in items}
    not_on_roadmap = tuple(f.title for f in features if f.pk not in on_roadmap)
    release_id = release.pk if release is not None else None
    changing = [item for item in items if item.release_id != release_id]
    if changing:
        now = timezone.now()
        user = actor if getattr(actor, "is_authenticated", False) else None
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
    return len(items), not_on_roadmap


def features_write_many(
    *, product: Product, writes: Iterable[FeatureWrite], actor=None
) -> list[Feature]:
    """Create and update many features of a product at once (a CSV import), all or nothing,
    through ``features_write``; the written features in the order of the writes."""
    return features_write(product=product, writes=writes, actor=actor).features


@transaction.atomic
def tag_delete(*, tag: Tag, actor=None) -> None:
    """Delete a tag: taken off every feature that has it through ``features_write`` (as a tag
    edit is: no new version), then the tag itself."""
    through = Feature.tags.through
    names: dict[int, list[str]] = {}
    links = through.objects.filter(feature__tags=tag).values_list("feature_id", "tag__name")
    for feature_id, name in links:
        names.setdefault(feature_id, []).append(name)
    features = Feature.objects.filter(pk__in=names).only("pk", "version", "product_id")
    writes = [
        FeatureWrite(
            fields={},
            feature=feature,
            tags=[n for n in names[feature.pk] if n != tag.name],
            expected_version=None,
        )
        for feature in features
    ]
    if writes:
        features_write(product=tag.product, writes=writes, actor=actor)
    tag.delete()
