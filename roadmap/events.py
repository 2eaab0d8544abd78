"""Recording roadmap changes (for digests and feeds) and emitting webhooks, inside the
transaction that makes the change. Called by the other services, never by views.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from config.dispatch import enqueue_on_commit
from roadmap.models import (
    ChangeEvent,
    ChangeKind,
    RoadmapItem,
    WebhookDelivery,
    WebhookEndpoint,
)

# A rank change smaller than this is noise for stakeholders (webhooks get every change).
PRIORITY_CHANGE_THRESHOLD = getattr(settings, "PRIORITY_CHANGE_THRESHOLD", 3)


def item_snapshot(item: RoadmapItem) -> dict[str, Any]:
    """Everything a digest or feed may need about an item, as it is now."""
    feature = item.feature if item.feature_id else None
    return {
        "item_id": item.pk,
        "feature_id": item.feature_id,
        "title": item.display_title,
        "external_title": item.public_title,
        "external_description": item.external_description,
        "visibility": item.visibility,
        "horizon": item.horizon,
        "position": item.position,
        "lane": item.lane.name if item.lane else "",
        "start_date": item.start_date.isoformat() if item.start_date else None,
        "end_date": item.end_date.isoformat() if item.end_date else None,
        "release": item.release.name if item.release else "",
        "release_date": (
            item.release.target_date.isoformat()
            if item.release and item.release.target_date
            else None
        ),
        "status": item.status,
        "rank": feature.rank if feature else None,
    }


def change_record(
    *,
    product_id: int,
    kind: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    item: RoadmapItem | None = None,
    feature_id: int | None = None,
    actor=None,
) -> ChangeEvent:
    """Store one change event (call inside the changing transaction)."""
    return ChangeEvent.objects.create(
        product_id=product_id,
        item=item if item is not None and item.pk else None,
        feature_id=feature_id or (item.feature_id if item is not None else None),
        kind=kind,
        occurred_at=timezone.now(),
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        before=dict(before or {}),
        after=dict(after or {}),
    )


def item_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """The change kinds between two snapshots of one item, most telling first."""
    kinds: list[str] = []
    if before["visibility"] != after["visibility"]:
        kinds.append(
            ChangeKind.MADE_EXTERNAL
            if after["visibility"] == "external"
            else ChangeKind.MADE_INTERNAL
        )
    if before["status"] != after["status"]:
        kinds.append(
            ChangeKind.SHIPPED if after["status"] == "shipped" else ChangeKind.STATUS_CHANGED
        )
    if before["horizon"] != after["horizon"] or before["lane"] != after["lane"]:
        kinds.append(ChangeKind.MOVED)
    if (before["start_date"], before["end_date"]) != (after["start_date"], after["end_date"]):
        kinds.append(ChangeKind.DATES_CHANGED)
    if before["release"] != after["release"]:
        kinds.append(ChangeKind.RELEASE_CHANGED)
    return kinds


def item_record_changes(*, item: RoadmapItem, before: Mapping[str, Any], actor=None) -> list[str]:
    """Compare an item with its earlier snapshot and record each kind of change."""
    after = item_snapshot(item)
    kinds = item_changes(before, after)
    for kind in kinds:
        change_record(
            product_id=item.product_id,
            kind=kind,
            before=before,
            after=after,
            item=item,
            actor=actor,
        )
    return kinds


def ranks_record_changes(
    *, product_id: int, before: Mapping[int, int | None], after: Mapping[int, int | None]
) -> None:
    """Priority events for roadmap items whose feature moved by a meaningful amount (``before``
    and ``after``: the ranks of the features on the roadmap)."""
    moved = {pk: (before.get(pk), rank) for pk, rank in after.items() if before.get(pk) != rank}
    if not moved:
        return
    meaningful = [
        pk
        for pk, (old, new) in moved.items()
        if old is not None and new is not None and abs(old - new) >= PRIORITY_CHANGE_THRESHOLD
    ]
    if meaningful:
        items = RoadmapItem.objects.filter(feature_id__in=meaningful).select_related(
            "feature", "lane", "release"
        )
        for item in items:
            assert item.feature_id is not None  # one of the features that moved
            old, new = moved[item.feature_id]
            snapshot = item_snapshot(item)
            change_record(
                product_id=product_id,
                kind=ChangeKind.PRIORITY_CHANGED,
                before={**snapshot, "rank": old},
                after=snapshot,
                item=item,
            )


def priority_changed_emit(
    *,
    product_id: int,
    product_slug: str,
    workspace_id: int,
    changes: Iterable[Mapping[str, int | None]],
    count: int,
    endpoints: Iterable[WebhookEndpoint] | None = None,
) -> int:
    """One ``priority.changed`` webhook for a re-rank: ``changes``, the largest moves (the
    caller picks them, a bounded number), listed in their new rank order (leaving the ranking
    last); ``count``, how many features moved in all; when that is more than are listed,
    ``priorities_url``, the API's priorities endpoint of the product, for the rest. Returns how
    many deliveries were created."""
    listed = sorted(
        (dict(change) for change in changes),
        key=lambda c: (c["new_rank"] is None, c["new_rank"] or 0),
    )
    payload: dict[str, Any] = {"product_id": product_id, "changes": listed, "count": count}
    if count > len(listed):
        payload["priorities_url"] = settings.SITE_URL + reverse(
            "api:product-priorities", kwargs={"slug": product_slug}
        )
    return webhooks_emit(
        workspace_id=workspace_id, event="priority.changed", payload=payload, endpoints=endpoints
    )


def webhook_endpoints_active(*, workspace_id: int) -> list[WebhookEndpoint]:
    """The workspace's active webhook endpoints, read once (one query) by a write that may emit
    several events and passes them to each ``webhooks_emit*`` as ``endpoints``."""
    return list(WebhookEndpoint.objects.filter(workspace_id=workspace_id, is_active=True))


def _wanting(
    workspace_id: int, event: str, endpoints: Iterable[WebhookEndpoint] | None
) -> list[WebhookEndpoint]:
    if endpoints is None:
        endpoints = webhook_endpoints_active(workspace_id=workspace_id)
    return [e for e in endpoints if event in e.events]


def webhooks_emit(
    *,
    workspace_id: int,
    event: str,
    payload: Mapping[str, Any],
    endpoints: Iterable[WebhookEndpoint] | None = None,
) -> int:
    """Create a delivery for each active endpoint of the workspace that wants this event, and
    send them after commit (``endpoints``: the workspace's active ones, when the caller has read
    them). Returns how many deliveries were created."""
    endpoints = _wanting(workspace_id, event, endpoints)
    if not endpoints:
        return 0
    body = {"event": event, "occurred_at": timezone.now().isoformat(), "data": dict(payload)}
    deliveries = WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(endpoint=e, event=event, payload=body) for e in endpoints]
    )
    for delivery in deliveries:
        enqueue_on_commit("roadmap.tasks.deliver_webhook", delivery.pk)
    return len(deliveries)


def items_record_changes(
    *, changes: Iterable[tuple[RoadmapItem, Mapping[str, Any]]], actor=None
) -> int:
    """``item_record_changes`` for many items, each given with its earlier snapshot, in one
    INSERT (bulk edits). Returns how many change events were stored."""
    occurred_at = timezone.now()
    who = actor if getattr(actor, "is_authenticated", False) else None
    rows: list[ChangeEvent] = []
    for item, before in changes:
        after = item_snapshot(item)
        rows.extend(
            ChangeEvent(
                product_id=item.product_id,
                item=item,
                feature_id=item.feature_id,
                kind=kind,
                occurred_at=occurred_at,
                actor=who,
                before=dict(before),
                after=after,
            )
            for kind in item_changes(before, after)
        )
    ChangeEvent.objects.bulk_create(rows)
    return len(rows)


def webhooks_emit_many(
    *,
    workspace_id: int,
    event: str,
    payloads: Iterable[Mapping[str, Any]],
    endpoints: Iterable[WebhookEndpoint] | None = None,
) -> int:
    """``webhooks_emit`` of one event for many payloads (bulk edits): one query for the
    endpoints (none when given) and one INSERT for all deliveries, sent after commit. Returns
    how many were made."""
    payloads = list(payloads)
    endpoints = _wanting(workspace_id, event, endpoints)
    if not endpoints or not payloads:
        return 0
    occurred_at = timezone.now().isoformat()
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                endpoint=e,
                event=event,
                payload={"event": event, "occurred_at": occurred_at, "data": dict(payload)},
            )
            for payload in payloads
            for e in endpoints
        ]
    )
    for delivery in deliveries:
        enqueue_on_commit("roadmap.tasks.deliver_webhook", delivery.pk)
    return len(deliveries)
