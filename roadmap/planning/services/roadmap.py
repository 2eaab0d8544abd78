"""Writes of a product's roadmap: releases, lanes and roadmap items (save, move, place, delete), and
deleting a feature. Each validates with the model's ``full_clean`` (the rules the forms share) and
records what outsiders see change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from roadmap import events
from roadmap.fields import apply_fields, save_if_changed
from roadmap.models import (
    ChangeKind,
    Feature,
    Lane,
    Product,
    Release,
    RoadmapItem,
)
from roadmap.planning.services.scoring import (
    product_lock,
    product_rerank,
)


def _reach_depends_on(product: Product, source: str) -> bool:
    return product.scoring_framework == "rice" and product.reach_source == source


def _links_change(record, name: str, linked: list) -> bool:
    """Whether ``linked`` differs from the record's many-to-many ``name`` (which is empty for a
    record not saved yet)."""
    if record.pk is None:
        return bool(linked)
    return {obj.pk for obj in linked} != set(getattr(record, name).values_list("pk", flat=True))


# --- Releases and lanes ----------------------------------------------------------------------

RELEASE_FIELDS = ("name", "description", "target_date", "status")


@transaction.atomic
def release_save(
    *, product: Product, data: Mapping[str, Any], release: Release | None = None
) -> Release:
    release = release or Release(product=product)
    save_if_changed(release, apply_fields(release, data, RELEASE_FIELDS))
    return release


LANE_FIELDS = ("name", "position")


@transaction.atomic
def lane_save(*, product: Product, data: Mapping[str, Any], lane: Lane | None = None) -> Lane:
    lane = lane or Lane(product=product)
    save_if_changed(lane, apply_fields(lane, data, LANE_FIELDS))
    return lane


# --- Roadmap items -------------------------------------------------------------------------

ROADMAP_ITEM_FIELDS = (
    "feature",
    "title",
    "theme_status",
    "horizon",
    "position",
    "lane",
    "start_date",
    "end_date",
    "release",
    "visibility",
    "external_title",
    "external_description",
)


@transaction.atomic
def roadmap_item_save(
    *, product: Product, data: Mapping[str, Any], item: RoadmapItem | None = None, actor=None
) -> RoadmapItem:
    """Place a feature (or a theme) on the roadmap, or edit its placement; records the change.

    A new item without a position goes to the end of its horizon.
    """
    creating = item is None
    before = events.item_snapshot(item) if item is not None else None
    item = item or RoadmapItem(product=product)
    if creating and "position" not in data:
        horizon = data.get("horizon", item.horizon)
        last = RoadmapItem.objects.filter(product=product, horizon=horizon).aggregate(
            m=Max("position")
        )["m"]
        data = {**data, "position": 0 if last is None else last + 1}
    save_if_changed(item, apply_fields(item, data, ROADMAP_ITEM_FIELDS))
    if before is None:
        events.change_record(
            product_id=product.pk,
            kind=ChangeKind.ITEM_ADDED,
            after=events.item_snapshot(item),
            item=item,
            actor=actor,
        )
    else:
        kinds = events.item_record_changes(item=item, before=before, actor=actor)
        if ChangeKind.MOVED in kinds:
            _emit_moved(item, before)
    return item


def _emit_moved(item: RoadmapItem, before: Mapping[str, Any]) -> None:
    events.webhooks_emit(
        workspace_id=item.product.workspace_id,
        event="roadmap_item.moved",
        payload={
            "id": item.pk,
            "product": item.product.slug,
            "feature_id": item.feature_id,
            "title": item.display_title,
            "from": {"horizon": before["horizon"], "position": before["position"]},
            "to": {"horizon": item.horizon, "position": item.position},
        },
    )


# ``roadmap_item_move`` leaves the lane alone unless it is given one (None: no lane).
KEEP_LANE: Any = object()


@transaction.atomic
def roadmap_item_move(
    *,
    item: RoadmapItem,
    horizon: str,
    position: int,
    lane: Lane | None = KEEP_LANE,
    actor=None,
) -> RoadmapItem:
    """Move an item to a horizon at a position (0 = top), renumbering both columns densely;
    with ``lane``, into that lane (or none) as well.

    The product's items in both columns are locked (SELECT FOR UPDATE) while they are renumbered.
    """
    if position < 0:
        raise ValidationError({"position": "The position cannot be negative."})
    origin, origin_lane_id = item.horizon, item.lane_id
    before = events.item_snapshot(item)
    changes: dict[str, Any] = {"horizon": horizon}
    if lane is not KEEP_LANE:
        changes["lane"] = lane
    apply_fields(item, changes, ("horizon", "lane"))
    rows = list(
        RoadmapItem.objects.select_for_update()
        .filter(product_id=item.product_id, horizon__in={origin, horizon})
        .exclude(pk=item.pk)
        .order_by("position", "id")
    )
    source = [r for r in rows if r.horizon == origin] if origin != horizon else []
    target = [r for r in rows if r.horizon == horizon]
    target.insert(min(position, len(target)), item)
    now = timezone.now()
    changed = []
    for column in (source, target):
        for index, row in enumerate(column):
            if row is item or row.position != index:
                row.position, row.updated_at = index, now
                changed.append(row)
    RoadmapItem.objects.bulk_update(changed, ["position", "horizon", "lane", "updated_at"])
    if (origin, origin_lane_id) != (item.horizon, item.lane_id):
        events.item_record_changes(item=item, before=before, actor=actor)
    if (origin, before["position"], origin_lane_id) != (item.horizon, item.position, item.lane_id):
        _emit_moved(item, before)
    return item


@transaction.atomic
def roadmap_item_place(
    *, item: RoadmapItem, horizon: str, lane: Lane | None, index: int, actor=None
) -> RoadmapItem:
    """Move an item into a board cell (a horizon and a lane, None for no lane) at ``index`` among
    the cell's other items (0 = top).

    The board splits each column by lane while positions run across the whole column, so the
    item goes just before the cell's item now at ``index``, just after the cell's last item when
    ``index`` is past it, and at the end of the column when the cell is empty.
    """
    if index < 0:
        raise ValidationError({"position": "The position cannot be negative."})
    column_lanes = list(
        RoadmapItem.objects.select_for_update()
        .filter(product_id=item.product_id, horizon=horizon)
        .exclude(pk=item.pk)
        .order_by("position", "id")
        .values_list("lane_id", flat=True)
    )
    lane_id = lane.pk if lane is not None else None
    cell = [at for at, row_lane_id in enumerate(column_lanes) if row_lane_id == lane_id]
    if index < len(cell):
        position = cell[index]
    elif cell:
        position = cell[-1] + 1
    else:
        position = len(column_lanes)
    return roadmap_item_move(item=item, horizon=horizon, position=position, lane=lane, actor=actor)


@transaction.atomic
def roadmap_item_delete(*, item: RoadmapItem, actor=None) -> None:
    """Take an item off the roadmap; the event keeps what it was."""
    events.change_record(
        product_id=item.product_id,
        kind=ChangeKind.ITEM_REMOVED,
        before=events.item_snapshot(item),
        feature_id=item.feature_id,
        actor=actor,
    )
    item.delete()


# --- Features ------------------------------------------------------------------------------


@transaction.atomic
def feature_delete(*, feature: Feature) -> None:
    """Delete a feature and close the gap in its product's ranking."""
    product_id = feature.product_id
    product_lock(product_id=product_id)
    feature.delete()
    product_rerank(product_id=product_id)


# --- Deleting lanes and releases ------------------------------------------------------------


def _snapshots(items) -> list[tuple[RoadmapItem, dict[str, Any]]]:
    """Each item with its snapshot, taken before its lane or release goes."""
    return [
        (item, events.item_snapshot(item))
        for item in items.select_related("feature", "lane", "release")
    ]


def _record_detached(snapshots, *, field: str, actor=None) -> None:
    """Record, for digests and feeds, that items lost their lane or release."""
    for item, before in snapshots:
        setattr(item, field, None)
        events.item_record_changes(item=item, before=before, actor=actor)


@transaction.atomic
def lane_delete(*, lane: Lane, actor=None) -> None:
    """Delete a lane. Its items stay on the roadmap, in no lane; each move is recorded."""
    snapshots = _snapshots(lane.items.all())
    lane.delete()
    _record_detached(snapshots, field="lane", actor=actor)


@transaction.atomic
def release_delete(*, release: Release, actor=None) -> None:
    """Delete a release. Its items stay on the roadmap, in no release; each change is recorded."""
    snapshots = _snapshots(release.items.all())
    release.delete()
    _record_detached(snapshots, field="release", actor=actor)
